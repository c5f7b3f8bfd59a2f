"""The results store: one embedded DuckDB file holding videos, evaluation runs, machine scores, the
evidence cache, generation models, test cases, human judgments and the leaderboard's win ratios.

Concurrency: DuckDB allows one writing process per file. Inside the process there is one writer
connection guarded by a lock; every read runs on its own cursor (a separate DuckDB connection to the
same database), so threads may read while another writes. All SQL is parameterised.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Literal

import duckdb
import pandas as pd

from evalverse.errors import InputError, StoreError
from evalverse.store import migrations
from evalverse.store.serialise import canonical_key, dumps, loads

if TYPE_CHECKING:
    from evalverse.store.bench import BenchRepository

MEMORY = ":memory:"
QaStatus = Literal["pass", "fail", "pending"]
_QA = ("pass", "fail", "pending")
_WINNERS = ("a", "b", "tie")
_STATUSES = ("scored", "gated", "not_judged", "unparsed", "error")  # evalverse.judge.types.ResultStatus


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def settings_key(settings: dict[str, Any]) -> str:
    """The key `start_run` stores for a settings dict; pass it (or the dict) to `find_cached_run`."""
    return canonical_key(settings)


def _result_dict(result: Any) -> dict[str, Any]:
    if hasattr(result, "model_dump"):
        result = result.model_dump(mode="json")
    if not isinstance(result, dict):
        raise InputError(f"a dimension result must be a dict or DimensionResult, not {type(result).__name__}")
    for key in ("dimension", "status", "backend"):
        if not result.get(key):
            raise InputError(f"a dimension result needs `{key}`; got keys {sorted(result)}")
    if result["status"] not in _STATUSES:
        raise InputError(f"dimension result status must be one of {_STATUSES}, not {result['status']!r}")
    return result


class Store:
    """Open with `Store.open(path)`, `Store.memory()` or `Store.open_or_memory(settings)`; close or use `with`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self._con: duckdb.DuckDBPyConnection | None = con
        self._lock = threading.RLock()
        self.path = path
        self.read_only = read_only

    # ---- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, read_only: bool = False) -> "Store":
        """Open (creating it and its folder if needed) and upgrade the database at `path`.

        Raises StoreError with the reason and a fix when the file cannot be used.
        """
        text = str(path)
        if text != MEMORY:
            text = str(_prepare_path(Path(path).expanduser(), read_only))
        try:
            con = duckdb.connect(text, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(_explain_connect_error(text, read_only, exc)) from exc
        store = cls(con, text, read_only)
        try:
            if read_only:
                todo = migrations.pending(con)
                if todo:
                    raise StoreError(
                        f"database {text} has schema version {migrations.current_version(con)}, this EvalVerse "
                        f"needs {migrations.LATEST}; open it once without read-only to upgrade it"
                    )
            else:
                migrations.migrate(con)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def memory(cls) -> "Store":
        return cls.open(MEMORY)

    @classmethod
    def open_or_memory(cls, settings: Any, read_only: bool = False) -> tuple["Store", str | None]:
        """The store at `settings.db_path`, or an in-memory store and a warning saying why the file could not
        be used (the app still starts; nothing is kept after it stops)."""
        try:
            return cls.open(settings.db_path, read_only=read_only), None
        except StoreError as exc:
            return cls.memory(), f"{exc}. Using a temporary in-memory database: results will not be kept."

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._con is None

    @property
    def schema_version(self) -> int:
        with self._cursor() as cur:
            return migrations.current_version(cur)

    @property
    def bench(self) -> "BenchRepository":
        """Suites, bench items and computed leaderboard sources (evalverse/store/bench.py)."""
        from evalverse.store.bench import BenchRepository

        return BenchRepository(self)

    # ---- plumbing ----------------------------------------------------------------------------
    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise StoreError(f"the store {self.path} is closed")
        return self._con

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A private connection for one read; safe to use from any thread."""
        with self._lock:
            cur = self._connection().cursor()
        try:
            yield cur
        except duckdb.Error as exc:
            raise StoreError(f"could not read from {self.path}: {exc}") from exc
        finally:
            cur.close()

    @contextmanager
    def _write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single writer, in one transaction: all of it happens or none of it."""
        if self.read_only:
            raise StoreError(f"the store {self.path} was opened read-only")
        with self._lock:
            con = self._connection()
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except duckdb.Error as exc:
                con.execute("ROLLBACK")
                raise StoreError(f"could not write to {self.path}: {exc}") from exc
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                try:
                    con.execute("COMMIT")
                except duckdb.Error as exc:
                    raise StoreError(f"could not write to {self.path}: {exc}") from exc

    def _rows(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._cursor() as cur:
            rel = cur.execute(sql, list(params))
            names = [d[0] for d in rel.description]
            return [dict(zip(names, row)) for row in rel.fetchall()]

    def _frame(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> pd.DataFrame:
        with self._cursor() as cur:
            return cur.execute(sql, list(params)).df()

    # ---- videos ------------------------------------------------------------------------------
    def upsert_video(
        self,
        content_hash: str,
        path: str | Path | None,
        meta: dict[str, Any] | None = None,
        *,
        model: str | None = None,
        test_case_id: int | None = None,
    ) -> None:
        """Record a video by content hash; a later call updates path and metadata (and model/test case when given)."""
        now = _now()
        with self._write() as con:
            con.execute(
                "INSERT INTO videos (content_hash, path, meta, added_at, updated_at, model, test_case_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (content_hash) DO UPDATE SET "
                "path = excluded.path, meta = excluded.meta, updated_at = excluded.updated_at, "
                "model = coalesce(excluded.model, videos.model), "
                "test_case_id = coalesce(excluded.test_case_id, videos.test_case_id)",
                [content_hash, None if path is None else str(path), dumps(meta or {}), now, now, model, test_case_id],
            )

    def get_video(self, content_hash: str) -> dict[str, Any] | None:
        rows = self._rows(
            "SELECT content_hash, path, meta, model, test_case_id, added_at, updated_at FROM videos WHERE content_hash = ?",
            [content_hash],
        )
        if not rows:
            return None
        row = rows[0]
        row["meta"] = loads(row["meta"])
        return row

    # ---- evidence cache ----------------------------------------------------------------------
    def get_evidence(self, video_hash: str, operator: str, version: str, params_key: str) -> dict[str, Any] | None:
        rows = self._rows(
            "SELECT record FROM evidence WHERE video_hash = ? AND operator = ? AND version = ? AND params_key = ?",
            [video_hash, operator, version, params_key],
        )
        return loads(rows[0]["record"]) if rows else None

    def latest_evidence(self, video_hash: str) -> dict[str, dict[str, Any]]:
        """The newest cached record per operator for a video, whatever its version or parameters."""
        rows = self._rows("SELECT operator, record FROM evidence WHERE video_hash = ? ORDER BY created_at", [video_hash])
        return {r["operator"]: loads(r["record"]) for r in rows}

    def put_evidence(self, video_hash: str, operator: str, version: str, params_key: str, record: dict[str, Any]) -> None:
        """Cache an operator's record (replacing an older one under the same key)."""
        with self._write() as con:
            con.execute(
                "INSERT OR REPLACE INTO evidence (video_hash, operator, version, params_key, record, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [video_hash, operator, version, params_key, dumps(record), _now()],
            )

    # ---- evaluation runs ---------------------------------------------------------------------
    def start_run(
        self,
        video_hash: str,
        judge_backend: str,
        judge_version: str,
        operator_versions: dict[str, str],
        settings: dict[str, Any],
        prompt: str | None = None,
        mode: str | None = None,
    ) -> int:
        """Open a run and return its id; its settings key is `settings_key(settings)`."""
        with self._write() as con:
            row = con.execute(
                "INSERT INTO eval_runs (video_hash, judge_backend, judge_version, operator_versions, settings, "
                "settings_key, prompt, mode, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    video_hash, judge_backend, judge_version, dumps(operator_versions or {}), dumps(settings or {}),
                    settings_key(settings or {}), prompt, getattr(mode, "value", mode), _now(),
                ],
            ).fetchone()
        return int(row[0])

    def finish_run(self, run_id: int) -> None:
        with self._write() as con:
            found = con.execute(
                "UPDATE eval_runs SET finished_at = ? WHERE id = ? RETURNING id", [_now(), run_id]
            ).fetchall()
            if not found:
                raise InputError(f"no evaluation run with id {run_id}")

    def add_dimension_result(self, run_id: int, result: dict[str, Any] | Any) -> None:
        """Store one DimensionResult (dict of `model_dump()` or the model); a second one for the same
        dimension of the same run replaces the first."""
        res = _result_dict(result)
        sub_scores: dict[str, Any] = res.get("sub_scores") or {}
        with self._write() as con:
            if not con.execute("SELECT 1 FROM eval_runs WHERE id = ?", [run_id]).fetchall():
                raise InputError(f"no evaluation run with id {run_id}")
            con.execute("DELETE FROM dimension_results WHERE run_id = ? AND dimension = ?", [run_id, res["dimension"]])
            con.execute(
                "DELETE FROM sub_dimension_results WHERE run_id = ? AND dimension = ?", [run_id, res["dimension"]]
            )
            seq = con.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM dimension_results WHERE run_id = ?", [run_id]
            ).fetchone()[0]
            con.execute(
                "INSERT INTO dimension_results (run_id, seq, dimension, status, score, gate_reason, rationale, answers, "
                "evidence_used, backend, backend_version, seconds, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id, seq, res["dimension"], res["status"], res.get("score"), res.get("gate_reason"),
                    res.get("rationale") or "", dumps(res.get("answers") or []), dumps(res.get("evidence_used") or []),
                    res["backend"], res.get("backend_version") or "", float(res.get("seconds") or 0.0), dumps(res),
                ],
            )
            for sub, score in sub_scores.items():
                con.execute(
                    "INSERT INTO sub_dimension_results (run_id, dimension, sub_dimension, status, score) VALUES (?, ?, ?, ?, ?)",
                    [run_id, res["dimension"], sub, "scored" if score is not None else (
                        res["status"] if res["status"] != "scored" else "not_judged"), score],
                )

    def find_cached_run(
        self,
        video_hash: str,
        judge_backend: str,
        judge_version: str,
        settings_key: str | dict[str, Any],
        *,
        prompt: str | None = None,
        mode: str | None = None,
        operator_versions: dict[str, str] | None = None,
    ) -> int | None:
        """The newest finished run with these exact inputs, or None.

        `settings_key` is the key string or the settings dict itself. Prompt and mode always match
        exactly (None matches only runs without one); operator versions are matched when given.
        """
        key = settings_key if isinstance(settings_key, str) else canonical_key(settings_key)
        rows = self._rows(
            "SELECT id, operator_versions FROM eval_runs WHERE video_hash = ? AND judge_backend = ? AND judge_version = ? "
            "AND settings_key = ? AND prompt IS NOT DISTINCT FROM ? AND mode IS NOT DISTINCT FROM ? "
            "AND finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC",
            [video_hash, judge_backend, judge_version, key, prompt, getattr(mode, "value", mode)],
        )
        for row in rows:
            if operator_versions is None or loads(row["operator_versions"]) == dict(operator_versions):
                return int(row["id"])
        return None

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM eval_runs WHERE id = ?", [run_id])
        if not rows:
            return None
        row = rows[0]
        row["operator_versions"] = loads(row["operator_versions"])
        row["settings"] = loads(row["settings"])
        return row

    def runs_for_video(self, video_hash: str) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM eval_runs WHERE video_hash = ? ORDER BY id", [video_hash])
        for row in rows:
            row["operator_versions"] = loads(row["operator_versions"])
            row["settings"] = loads(row["settings"])
        return rows

    def run_results(self, run_id: int) -> list[dict[str, Any]]:
        """The run's DimensionResult dicts in the order they were added."""
        rows = self._rows("SELECT result FROM dimension_results WHERE run_id = ? ORDER BY seq", [run_id])
        return [loads(r["result"]) for r in rows]

    def machine_scores(self, dimension: str | None = None, finished_only: bool = True) -> pd.DataFrame:
        """Scored machine results joined with the video's model and test case (one row per run and dimension)."""
        sql = (
            "SELECT r.id AS run_id, r.video_hash, v.model, v.test_case_id, d.dimension, d.score, d.status, "
            "r.judge_backend, r.judge_version FROM dimension_results d JOIN eval_runs r ON r.id = d.run_id "
            "LEFT JOIN videos v ON v.content_hash = r.video_hash WHERE (? IS NULL OR d.dimension = ?)"
        )
        if finished_only:
            sql += " AND r.finished_at IS NOT NULL"
        return self._frame(sql + " ORDER BY r.id, d.seq", [dimension, dimension])

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
            self._upsert_model(con, name, organisation, open_source, params_b, audio, multi_shot, reference, notes)

    @staticmethod
    def _upsert_model(con, name, organisation, open_source, params_b, audio, multi_shot, reference, notes) -> None:
        con.execute(
            "INSERT OR REPLACE INTO generation_models (name, organisation, open_source, params_b, audio, multi_shot, "
            "reference, notes, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [name, organisation, open_source, params_b, bool(audio), bool(multi_shot), bool(reference), notes or "", _now()],
        )

    def replace_models(self, models: Iterable[dict[str, Any]]) -> int:
        """Upsert many models in one transaction (keys as `upsert_model`'s arguments); returns the count."""
        n = 0
        with self._write() as con:
            for m in models:
                self._upsert_model(
                    con, m["name"], m.get("organisation"), m.get("open_source"), m.get("params_b"),
                    m.get("audio", False), m.get("multi_shot", False), m.get("reference", False), m.get("notes", ""),
                )
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
                [prompt, getattr(mode, "value", mode), dumps(list(reference_assets)), _now()],
            ).fetchone()
        return int(row[0])

    def test_cases(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT id, prompt, mode, reference_assets, created_at FROM test_cases ORDER BY id")
        for row in rows:
            row["reference_assets"] = loads(row["reference_assets"])
        return rows

    # ---- human judgments ---------------------------------------------------------------------
    def add_pairwise(
        self,
        dimension: str,
        model_a: str,
        model_b: str,
        winner: str,
        annotator: str,
        *,
        qa_status: QaStatus = "pending",
        test_case_id: int | None = None,
        video_a: str | None = None,
        video_b: str | None = None,
    ) -> int:
        """One side-by-side judgment: `winner` is 'a', 'b' or 'tie'. Returns its id."""
        if winner not in _WINNERS:
            raise InputError(f"winner must be one of {_WINNERS}, not {winner!r}")
        _check_qa(qa_status)
        if model_a == model_b:
            raise InputError(f"a pairwise judgment needs two different models; got {model_a!r} twice")
        with self._write() as con:
            row = con.execute(
                "INSERT INTO human_pairwise (test_case_id, dimension, model_a, model_b, video_a, video_b, winner, "
                "annotator, qa_status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [test_case_id, dimension, model_a, model_b, video_a, video_b, winner, annotator, qa_status, _now()],
            ).fetchone()
        return int(row[0])

    def add_pointwise(
        self,
        dimension: str,
        model: str,
        score: float,
        annotator: str,
        *,
        qa_status: QaStatus = "pending",
        test_case_id: int | None = None,
        video_hash: str | None = None,
    ) -> int:
        _check_qa(qa_status)
        try:
            value = float(score)
        except (TypeError, ValueError):
            raise InputError(f"a pointwise score must be a number, not {score!r}") from None
        if value != value:
            raise InputError("a pointwise score must be a number, not NaN")
        with self._write() as con:
            row = con.execute(
                "INSERT INTO human_pointwise (test_case_id, dimension, model, video_hash, score, annotator, qa_status, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [test_case_id, dimension, model, video_hash, value, annotator, qa_status, _now()],
            ).fetchone()
        return int(row[0])

    def set_qa_status(self, kind: Literal["pairwise", "pointwise"], judgment_id: int, status: QaStatus) -> None:
        _check_qa(status)
        table = {"pairwise": "human_pairwise", "pointwise": "human_pointwise"}.get(kind)
        if table is None:
            raise InputError(f"kind must be 'pairwise' or 'pointwise', not {kind!r}")
        with self._write() as con:  # table name comes from the fixed mapping above, never from input
            if not con.execute(f"UPDATE {table} SET qa_status = ? WHERE id = ? RETURNING id", [status, judgment_id]).fetchall():
                raise InputError(f"no {kind} judgment with id {judgment_id}")

    def pairwise_judgments(self, dimension: str | None = None, qa_status: QaStatus | None = "pass") -> pd.DataFrame:
        """Pairwise judgments (by default only those that passed QA), oldest first."""
        return self._frame(
            "SELECT id, test_case_id, dimension, model_a, model_b, video_a, video_b, winner, annotator, qa_status "
            "FROM human_pairwise WHERE (? IS NULL OR dimension = ?) AND (? IS NULL OR qa_status = ?) ORDER BY id",
            [dimension, dimension, qa_status, qa_status],
        )

    def pointwise_judgments(self, dimension: str | None = None, qa_status: QaStatus | None = "pass") -> pd.DataFrame:
        return self._frame(
            "SELECT id, test_case_id, dimension, model, video_hash, score, annotator, qa_status "
            "FROM human_pointwise WHERE (? IS NULL OR dimension = ?) AND (? IS NULL OR qa_status = ?) ORDER BY id",
            [dimension, dimension, qa_status, qa_status],
        )

    # ---- leaderboard -------------------------------------------------------------------------
    def replace_win_ratios(self, source: str, rows: Iterable[dict[str, Any]]) -> int:
        """Make `rows` (dimension, model, machine_win_ratio, human_win_ratio) the whole of `source`, atomically."""
        items = list(rows)
        with self._write() as con:
            self._replace_win_ratios(con, source, items, _now())
        return len(items)

    @staticmethod
    def _replace_win_ratios(con, source: str, items: list[dict[str, Any]], now: datetime) -> None:
        con.execute("DELETE FROM leaderboard_win_ratios WHERE source = ?", [source])
        for r in items:
            try:
                con.execute(
                    "INSERT INTO leaderboard_win_ratios (source, dimension, model, machine_win_ratio, human_win_ratio, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [source, r["dimension"], r["model"], _ratio(r.get("machine_win_ratio")),
                     _ratio(r.get("human_win_ratio")), now],
                )
            except duckdb.ConstraintException as exc:
                raise InputError(f"win ratio row {r} rejected: {exc}") from exc

    def import_leaderboard(self, source: str, models: Iterable[dict[str, Any]], rows: Iterable[dict[str, Any]]) -> None:
        """Upsert `models` and make `rows` the whole of `source`, in one transaction."""
        items = list(rows)
        now = _now()
        with self._write() as con:
            for m in models:
                self._upsert_model(
                    con, m["name"], m.get("organisation"), m.get("open_source"), m.get("params_b"),
                    m.get("audio", False), m.get("multi_shot", False), m.get("reference", False), m.get("notes", ""),
                )
            self._replace_win_ratios(con, source, items, now)

    def win_ratios(self, source: str | None = None) -> pd.DataFrame:
        return self._frame(
            "SELECT source, dimension, model, machine_win_ratio, human_win_ratio FROM leaderboard_win_ratios "
            "WHERE (? IS NULL OR source = ?) ORDER BY source, dimension, model",
            [source, source],
        )

    def win_ratio_sources(self) -> list[str]:
        return [r["source"] for r in self._rows("SELECT DISTINCT source FROM leaderboard_win_ratios ORDER BY source")]

    def counts(self) -> dict[str, int]:
        """Rows per table, for diagnostics and the CLI."""
        tables = ("videos", "eval_runs", "dimension_results", "evidence", "generation_models", "test_cases",
                  "human_pairwise", "human_pointwise", "leaderboard_win_ratios")
        with self._cursor() as cur:  # fixed table names, no input reaches this SQL
            return {t: int(cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}


def _ratio(value: Any) -> float | None:
    if value is None:
        return None
    v = float(value)
    if not (0.0 <= v <= 1.0):
        raise InputError(f"a win ratio must lie in [0, 1], not {value!r}")
    return v


def _check_qa(status: str) -> None:
    if status not in _QA:
        raise InputError(f"QA status must be one of {_QA}, not {status!r}")


def _prepare_path(path: Path, read_only: bool) -> Path:
    if path.exists() and path.is_dir():
        raise StoreError(f"database path {path} is a folder; give a file path such as {path / 'evalverse.duckdb'}")
    if read_only:
        if not path.exists():
            raise StoreError(f"database {path} does not exist (cannot create it in read-only mode)")
        return path
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder {parent} for the database: {exc.strerror or exc}; "
            "set EVALVERSE_DB or --db to a writable location"
        ) from exc
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise StoreError(
                f"database {path} is not writable by this user; fix its permissions, open it read-only, "
                "or set EVALVERSE_DB / --db to another file"
            )
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(
            f"cannot create database {path}: the folder {parent} is read-only; "
            "set EVALVERSE_DB or --db to a writable location"
        )
    return path


def _explain_connect_error(path: str, read_only: bool, exc: Exception) -> str:
    text = str(exc)
    if "lock" in text.lower():
        return (
            f"database {path} is in use by another process (DuckDB allows one writer); close the other "
            f"EvalVerse app or command, or use another file. Detail: {text}"
        )
    if "not a valid" in text.lower() or "serializ" in text.lower() or "version" in text.lower():
        return f"{path} is not a DuckDB database this EvalVerse can read; move it aside or choose another path. Detail: {text}"
    mode = "read-only" if read_only else "read-write"
    return f"cannot open database {path} {mode}: {text}"
