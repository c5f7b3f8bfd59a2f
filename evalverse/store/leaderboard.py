"""Generation models, test cases (prompt + mode + reference assets), and the leaderboard's win ratios
per source (the paper's Table 3 seed, or a computed source)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import duckdb
import pandas as pd

from evalverse.errors import InputError
from evalverse.store.base import Repository, utc_now
from evalverse.store.serialise import dumps, loads


def _ratio(value: Any) -> float | None:
    if value is None:
        return None
    v = float(value)
    if not (0.0 <= v <= 1.0):
        raise InputError(f"a win ratio must lie in [0, 1], not {value!r}")
    return v


def _upsert_model(con, name, organisation, open_source, params_b, audio, multi_shot, reference, notes) -> None:
    con.execute(
        "INSERT OR REPLACE INTO generation_models (name, organisation, open_source, params_b, audio, multi_shot, "
        "reference, notes, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [name, organisation, open_source, params_b, bool(audio), bool(multi_shot), bool(reference), notes or "", utc_now()],
    )


def _upsert_model_dict(con, m: dict[str, Any]) -> None:
    _upsert_model(con, m["name"], m.get("organisation"), m.get("open_source"), m.get("params_b"),
                  m.get("audio", False), m.get("multi_shot", False), m.get("reference", False), m.get("notes", ""))


def _replace_win_ratios(con, source: str, items: list[dict[str, Any]], now: datetime) -> None:
    rows = [[source, r["dimension"], r["model"], _ratio(r.get("machine_win_ratio")), _ratio(r.get("human_win_ratio")), now]
            for r in items]  # every row checked before anything is written
    con.execute("DELETE FROM leaderboard_win_ratios WHERE source = ?", [source])
    if not rows:
        return
    try:
        con.executemany(
            "INSERT INTO leaderboard_win_ratios (source, dimension, model, machine_win_ratio, human_win_ratio, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    except duckdb.ConstraintException as exc:
        raise InputError(f"win ratio rows for source {source!r} rejected: {exc}") from exc


class LeaderboardRepository(Repository):
    TABLES = ("generation_models", "test_cases", "leaderboard_win_ratios")

    # ---- generation models -------------------------------------------------------------------
    def upsert_model(
        self,
        name: str,
        *,
        organisation: str | None = None,
        open_source: bool | None = None,
        params_b: float | None = None,
        audio: bool = False,
        multi_shot: bool = False,
        reference: bool = False,
        notes: str = "",
    ) -> None:
        with self._write() as con:
            _upsert_model(con, name, organisation, open_source, params_b, audio, multi_shot, reference, notes)

    def replace_models(self, models: Iterable[dict[str, Any]]) -> int:
        """Upsert many models in one transaction (keys as `upsert_model`'s arguments); returns the count."""
        n = 0
        with self._write() as con:
            for m in models:
                _upsert_model_dict(con, m)
                n += 1
        return n

    def models(self) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT name, organisation, open_source, params_b, audio, multi_shot, reference, notes "
            "FROM generation_models ORDER BY name"
        )

    # ---- test cases --------------------------------------------------------------------------
    def add_test_case(self, prompt: str, mode: str, reference_assets: Iterable[str] = ()) -> int:
        with self._write() as con:
            row = con.execute(
                "INSERT INTO test_cases (prompt, mode, reference_assets, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                [prompt, getattr(mode, "value", mode), dumps(list(reference_assets)), utc_now()],
            ).fetchone()
        return int(row[0])

    def test_cases(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT id, prompt, mode, reference_assets, created_at FROM test_cases ORDER BY id")
        for row in rows:
            row["reference_assets"] = loads(row["reference_assets"])
        return rows

    # ---- win ratios --------------------------------------------------------------------------
    def replace_win_ratios(self, source: str, rows: Iterable[dict[str, Any]]) -> int:
        """Make `rows` (dimension, model, machine_win_ratio, human_win_ratio) the whole of `source`, atomically."""
        items = list(rows)
        with self._write() as con:
            _replace_win_ratios(con, source, items, utc_now())
        return len(items)

    def import_leaderboard(self, source: str, models: Iterable[dict[str, Any]], rows: Iterable[dict[str, Any]]) -> None:
        """Upsert `models` and make `rows` the whole of `source`, in one transaction."""
        items = list(rows)
        now = utc_now()
        with self._write() as con:
            for m in models:
                _upsert_model_dict(con, m)
            _replace_win_ratios(con, source, items, now)

    def win_ratios(self, source: str | None = None) -> pd.DataFrame:
        return self._frame(
            "SELECT source, dimension, model, machine_win_ratio, human_win_ratio FROM leaderboard_win_ratios "
            "WHERE (? IS NULL OR source = ?) ORDER BY source, dimension, model",
            [source, source],
        )

    def win_ratio_sources(self) -> list[str]:
        return [r["source"] for r in self._rows("SELECT DISTINCT source FROM leaderboard_win_ratios ORDER BY source")]
