"""Benchmark repository: suites, cases, per-clip bench items, computed leaderboard sources (win ratios with
intervals, Bradley-Terry ratings) and exports. Reached through the façade as `store.bench`.

It uses the façade's plumbing (`_write` for one transaction, `_rows`/`_frame` for reads) and its public
methods for what other repositories own (test cases, human judgments), so the tables stay with their owners.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from evalverse.errors import InputError
from evalverse.store.serialise import dumps, loads

ITEM_COLUMNS = ("suite", "model", "judge", "case_id", "seed", "path", "video_hash", "request_key", "judge_version",
                "status", "run_id", "cached", "error_kind", "error", "seconds", "engine")
WIN_COLUMNS = ("dimension", "model", "machine_win_ratio", "machine_ci_low", "machine_ci_high", "n_cases", "n_pairs",
               "n_excluded", "human_win_ratio", "human_ci_low", "human_ci_high", "human_n_cases")
RATING_COLUMNS = ("dimension", "model", "rating", "ci_low", "ci_high", "rank_ub", "n_battles")
EXPORTS = ("runs", "results", "winratios", "ratings")
FORMATS = ("parquet", "csv")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _num(value: Any) -> Any:
    """NaN/None → None; numpy scalars → Python numbers."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


class BenchRepository:
    def __init__(self, store: Any) -> None:
        self.store = store

    # ---- suites and cases ------------------------------------------------------------------------
    def register_suite(self, suite: Any) -> dict[str, int]:
        """Record the suite and its cases (idempotent); returns {case id: test_cases.id}. A case's test case is
        the store's test case with the same prompt and mode (so human judgments imported for it line up),
        else a new one."""
        known = {(t["prompt"], t["mode"]): int(t["id"]) for t in self.store.test_cases()}
        ids: dict[str, int] = {}
        for case in suite.cases:
            key = (case.prompt, case.mode)
            if key not in known:
                assets = [str(case.reference)] if case.reference else []
                known[key] = self.store.add_test_case(case.prompt, case.mode, assets)
            ids[case.id] = known[key]
        now = _now()
        with self.store._write() as con:
            con.execute(
                "INSERT OR REPLACE INTO bench_suites (name, path, sha256, version, description, n_cases, registered_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [suite.name, str(suite.path), suite.sha256, suite.version, suite.description, len(suite.cases), now])
            con.execute("DELETE FROM bench_cases WHERE suite = ?", [suite.name])
            for case in suite.cases:
                con.execute(
                    "INSERT INTO bench_cases (suite, case_id, test_case_id, prompt, mode, reference, ground_truth, tags) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [suite.name, case.id, ids[case.id], case.prompt, case.mode,
                     str(case.reference) if case.reference else None,
                     str(case.ground_truth) if case.ground_truth else None, dumps(list(case.tags))])
        return ids

    def suites(self) -> list[dict[str, Any]]:
        return self.store._rows("SELECT * FROM bench_suites ORDER BY name")

    def cases(self, suite: str) -> pd.DataFrame:
        return self.store._frame("SELECT case_id, test_case_id, prompt, mode, reference, ground_truth, tags "
                                 "FROM bench_cases WHERE suite = ? ORDER BY case_id", [suite])

    # ---- items -------------------------------------------------------------------------------------
    def record_item(self, item: dict[str, Any]) -> None:
        """Write one item's final state (replacing an earlier attempt at the same case and seed)."""
        missing = [c for c in ("suite", "model", "judge", "case_id", "seed", "path", "request_key", "status") if item.get(c) is None]
        if missing:
            raise InputError(f"a bench item needs {missing}")
        values = [_num(item.get(c)) for c in ITEM_COLUMNS]
        values[ITEM_COLUMNS.index("cached")] = bool(item.get("cached"))
        values[ITEM_COLUMNS.index("seconds")] = float(item.get("seconds") or 0.0)
        values[ITEM_COLUMNS.index("engine")] = item.get("engine") or "local"
        with self.store._write() as con:
            con.execute(f"INSERT OR REPLACE INTO bench_items ({', '.join(ITEM_COLUMNS)}, updated_at) "
                        f"VALUES ({', '.join('?' * len(ITEM_COLUMNS))}, ?)", [*values, _now()])

    def items(self, suite: str | None = None, model: str | None = None, judge: str | None = None) -> pd.DataFrame:
        return self.store._frame(
            f"SELECT {', '.join(ITEM_COLUMNS)}, updated_at FROM bench_items WHERE (? IS NULL OR suite = ?) "
            "AND (? IS NULL OR model = ?) AND (? IS NULL OR judge = ?) ORDER BY suite, model, judge, case_id, seed",
            [suite, suite, model, model, judge, judge])

    def done_items(self, suite: str, model: str, judge: str) -> dict[str, dict[str, Any]]:
        """{"<case>#<seed>": row} of the items already done for this suite, model and judge."""
        rows = self.store._rows(
            "SELECT case_id, seed, video_hash, request_key, run_id FROM bench_items WHERE suite = ? AND model = ? "
            "AND judge = ? AND status = 'done'", [suite, model, judge])
        return {f"{r['case_id']}#{r['seed']}": r for r in rows}

    # ---- what a worker needs to reuse the cache ---------------------------------------------------
    def evidence_rows(self, video_hash: str) -> list[dict[str, Any]]:
        rows = self.store._rows("SELECT operator, version, params_key, record FROM evidence WHERE video_hash = ?",
                                [video_hash])
        for r in rows:
            r["record"] = loads(r["record"])
        return rows

    def finished_runs(self, video_hash: str) -> list[dict[str, Any]]:
        """Finished runs of the video, newest first, each with its results in judging order."""
        runs = self.store._rows(
            "SELECT id, video_hash, judge_backend, judge_version, settings_key, prompt, mode, operator_versions, "
            "provenance_hash FROM eval_runs WHERE video_hash = ? AND finished_at IS NOT NULL "
            "ORDER BY finished_at DESC, id DESC",
            [video_hash])
        for run in runs:
            run["operator_versions"] = loads(run["operator_versions"])
            run["results"] = self.store.run_results(int(run["id"]))
        return runs

    # ---- results for win ratios --------------------------------------------------------------------
    def scores(self, suite: str, judge: str) -> pd.DataFrame:
        """One row per done item and dimension: model, case_id, seed, dimension, status, score, run_id,
        judge_version, video_hash, test_case_id."""
        return self.store._frame(
            "SELECT i.model, i.case_id, i.seed, d.dimension, d.status, d.score, i.run_id, i.judge_version, "
            "i.video_hash, c.test_case_id FROM bench_items i JOIN dimension_results d ON d.run_id = i.run_id "
            "LEFT JOIN bench_cases c ON c.suite = i.suite AND c.case_id = i.case_id "
            "WHERE i.suite = ? AND i.judge = ? AND i.status = 'done' ORDER BY i.model, i.case_id, i.seed, d.seq",
            [suite, judge])

    # ---- computed leaderboard sources ------------------------------------------------------------
    def replace_source(self, source: str, *, suite: str, judge: str, judge_version: str, settings: dict[str, Any],
                       summary: dict[str, Any], win_ratios: Iterable[dict[str, Any]],
                       ratings: Iterable[dict[str, Any]]) -> None:
        """Make these rows the whole of `source` (win ratios with intervals, ratings, its description), atomically."""
        wins, rates, now = list(win_ratios), list(ratings), _now()
        for r in wins:
            for col in ("machine_win_ratio", "human_win_ratio"):
                v = _num(r.get(col))
                if v is not None and not 0.0 <= float(v) <= 1.0:
                    raise InputError(f"{col} must lie in [0, 1]; got {v!r} for {r.get('model')} / {r.get('dimension')}")
        with self.store._write() as con:
            for table in ("leaderboard_win_ratios", "leaderboard_ratings", "leaderboard_sources"):
                con.execute(f"DELETE FROM {table} WHERE source = ?", [source])  # fixed table names
            for r in wins:
                con.execute(f"INSERT INTO leaderboard_win_ratios (source, {', '.join(WIN_COLUMNS)}, updated_at) "
                            f"VALUES (?, {', '.join('?' * len(WIN_COLUMNS))}, ?)",
                            [source, *[_num(r.get(c)) for c in WIN_COLUMNS], now])
            for r in rates:
                con.execute(f"INSERT INTO leaderboard_ratings (source, {', '.join(RATING_COLUMNS)}) "
                            f"VALUES (?, {', '.join('?' * len(RATING_COLUMNS))})",
                            [source, *[_num(r.get(c)) for c in RATING_COLUMNS]])
            con.execute("INSERT INTO leaderboard_sources (source, kind, suite, judge, judge_version, settings, summary, "
                        "updated_at) VALUES (?, 'bench', ?, ?, ?, ?, ?, ?)",
                        [source, suite, judge, judge_version, dumps(settings), dumps(summary), now])

    def sources(self) -> list[dict[str, Any]]:
        rows = self.store._rows("SELECT * FROM leaderboard_sources ORDER BY source")
        for r in rows:
            r["settings"], r["summary"] = loads(r["settings"]), loads(r["summary"])
        return rows

    def source(self, source: str) -> dict[str, Any] | None:
        return next((s for s in self.sources() if s["source"] == source), None)

    def win_ratio_table(self, source: str | None = None) -> pd.DataFrame:
        """leaderboard_win_ratios with the interval columns (null for sources that have none)."""
        return self.store._frame(
            f"SELECT source, {', '.join(WIN_COLUMNS)} FROM leaderboard_win_ratios WHERE (? IS NULL OR source = ?) "
            "ORDER BY source, dimension, model", [source, source])

    def ratings(self, source: str | None = None) -> pd.DataFrame:
        return self.store._frame(
            f"SELECT source, {', '.join(RATING_COLUMNS)} FROM leaderboard_ratings WHERE (? IS NULL OR source = ?) "
            "ORDER BY source, dimension, rating DESC NULLS LAST, model", [source, source])

    # ---- export --------------------------------------------------------------------------------------
    def export(self, what: str, fmt: str, out: str | Path, source: str | None = None) -> int:
        """Write runs, results, win ratios or ratings to a Parquet or CSV file; returns the row count."""
        if what not in EXPORTS:
            raise InputError(f"--what must be one of {', '.join(EXPORTS)}, not {what!r}")
        if fmt not in FORMATS:
            raise InputError(f"--format must be parquet or csv, not {fmt!r}")
        out = Path(out).expanduser()
        if out.is_dir():
            raise InputError(f"--out {out} is a folder; give a file path such as {out / (what + '.' + fmt)}")
        if not out.parent.is_dir():
            raise InputError(f"--out: the folder {out.parent} does not exist")
        sql, params = _EXPORT_SQL[what], []
        if what in ("winratios", "ratings"):
            sql, params = sql.replace("/*where*/", "WHERE (? IS NULL OR t.source = ?)"), [source, source]
        with self.store._cursor() as cur:
            n = int(cur.execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0])
            rel = cur.sql(sql, params=params) if params else cur.sql(sql)
            if fmt == "parquet":
                rel.write_parquet(str(out))
            else:
                rel.write_csv(str(out), header=True)
        return n


_EXPORT_SQL = {
    "runs": (
        "SELECT r.id AS run_id, r.video_hash, v.path, v.model, v.test_case_id, b.suite, b.case_id, b.seed, "
        "r.judge_backend, r.judge_version, r.prompt, r.mode, CAST(r.operator_versions AS VARCHAR) AS operator_versions, "
        "CAST(r.settings AS VARCHAR) AS settings, r.settings_key, r.started_at, r.finished_at "
        "FROM eval_runs r LEFT JOIN videos v ON v.content_hash = r.video_hash "
        "LEFT JOIN bench_items b ON b.run_id = r.id ORDER BY r.id"),
    "results": (
        "SELECT d.run_id, b.suite, b.model, b.case_id, b.seed, r.video_hash, r.judge_backend, r.judge_version, "
        "d.dimension, d.status, d.score, d.gate_reason, d.backend, d.backend_version, d.seconds, d.rationale "
        "FROM dimension_results d JOIN eval_runs r ON r.id = d.run_id LEFT JOIN bench_items b ON b.run_id = d.run_id "
        "WHERE r.finished_at IS NOT NULL ORDER BY d.run_id, d.seq"),
    "winratios": (
        "SELECT t.source, t.dimension, t.model, t.machine_win_ratio, t.machine_ci_low, t.machine_ci_high, t.n_cases, "
        "t.n_pairs, t.n_excluded, t.human_win_ratio, t.human_ci_low, t.human_ci_high, t.human_n_cases "
        "FROM leaderboard_win_ratios t /*where*/ ORDER BY t.source, t.dimension, t.model"),
    "ratings": (
        "SELECT t.source, t.dimension, t.model, t.rating, t.ci_low, t.ci_high, t.rank_ub, t.n_battles "
        "FROM leaderboard_ratings t /*where*/ ORDER BY t.source, t.dimension, t.rating DESC"),
}
