"""Videos, the operator evidence cache, evaluation runs and their dimension results, and the run cache.

A run is opened by `start_run` (recording its settings, provenance and owner process), filled by
`add_dimension_result` (each call is also the run's heartbeat) and closed by `finish_run`; only finished
runs are served from the cache. What happens to runs that never finish is in `lifecycle.py`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from evalverse.errors import InputError
from evalverse.store.base import Repository, fetch_dicts, utc_now
from evalverse.store.lifecycle import current_owner, run_status
from evalverse.store.serialise import canonical_key, dumps, loads

_STATUSES = ("scored", "gated", "not_judged", "unparsed", "error")  # evalverse.judge.types.ResultStatus
RUN_COLUMNS = (
    "id, video_hash, judge_backend, judge_version, operator_versions, settings, settings_key, prompt, mode, "
    "started_at, finished_at, provenance, provenance_hash, owner_host, owner_pid, owner_start, heartbeat_at, "
    "interrupted_at, operators"
)


def settings_key(settings: dict[str, Any]) -> str:
    """The key `start_run` stores for a settings dict; pass it (or the dict) to `find_cached_run`."""
    return canonical_key(settings)


def provenance_hash(provenance: dict[str, Any] | str | None) -> str | None:
    """The sha256 of a provenance dict's canonical JSON (sorted keys, no whitespace); a string is taken as
    an already computed hash; None stays None (a run without provenance)."""
    if provenance is None or isinstance(provenance, str):
        return provenance
    if not isinstance(provenance, dict):
        raise InputError(f"provenance must be a dict (or its hash), not {type(provenance).__name__}")
    return canonical_key(provenance)


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


def decode_run(row: dict[str, Any]) -> dict[str, Any]:
    """A stored eval_runs row with its JSON columns parsed and its lifecycle `status` added."""
    for key in ("operator_versions", "settings", "provenance", "operators"):
        if key in row:
            row[key] = loads(row[key])
    row["status"] = run_status(row)
    return row


def match_clause(video_hash: str, judge_backend: str, judge_version: str, settings: str | dict[str, Any],
                 prompt: str | None, mode: Any, provenance: dict[str, Any] | str | None) -> tuple[str, list[Any]]:
    """The WHERE clause (and its parameters) of a run with exactly these inputs, shared by the cache and
    the resume lookups. Prompt, mode and provenance match exactly; None matches only runs without one."""
    key = settings if isinstance(settings, str) else canonical_key(settings)
    sql = ("video_hash = ? AND judge_backend = ? AND judge_version = ? AND settings_key = ? "
           "AND prompt IS NOT DISTINCT FROM ? AND mode IS NOT DISTINCT FROM ? "
           "AND provenance_hash IS NOT DISTINCT FROM ?")
    return sql, [video_hash, judge_backend, judge_version, key, prompt, getattr(mode, "value", mode),
                 provenance_hash(provenance)]


class RunsRepository(Repository):
    TABLES = ("videos", "eval_runs", "dimension_results", "evidence")

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
        now = utc_now()
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
                [video_hash, operator, version, params_key, dumps(record), utc_now()],
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
        provenance: dict[str, Any] | None = None,
    ) -> int:
        """Open a run owned by this process and return its id (committed to the file before it returns).

        Its settings key is `settings_key(settings)`; `provenance` (everything that can change a verdict)
        is stored with `provenance_hash(provenance)`, which the cache lookup matches too."""
        now = utc_now()
        owner = current_owner()
        with self._write() as con:
            row = con.execute(
                "INSERT INTO eval_runs (video_hash, judge_backend, judge_version, operator_versions, settings, "
                "settings_key, prompt, mode, started_at, provenance, provenance_hash, owner_host, owner_pid, "
                "owner_start, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    video_hash, judge_backend, judge_version, dumps(operator_versions or {}), dumps(settings or {}),
                    settings_key(settings or {}), prompt, getattr(mode, "value", mode), now,
                    None if provenance is None else dumps(provenance), provenance_hash(provenance),
                    owner.host, owner.pid, owner.start, now,
                ],
            ).fetchone()
        return int(row[0])

    def finish_run(self, run_id: int, operators: dict[str, dict[str, Any]] | None = None) -> None:
        """Close the run; `operators` ({name: {status, backend, seconds, cached, message}}) records what its
        evidence operators did, so the stored run can be shown as it was diagnosed."""
        with self._write() as con:
            found = con.execute(
                "UPDATE eval_runs SET finished_at = ?, heartbeat_at = ?, operators = coalesce(?, operators) "
                "WHERE id = ? RETURNING id",
                [utc_now(), utc_now(), None if operators is None else dumps(operators), run_id],
            ).fetchall()
            if not found:
                raise InputError(f"no evaluation run with id {run_id}")

    def add_dimension_result(self, run_id: int, result: dict[str, Any] | Any) -> None:
        """Store one DimensionResult (dict of `model_dump()` or the model); a second one for the same
        dimension of the same run replaces the first. The row names the provenance hash it was made with
        (the result's own `provenance_hash`, else its run's). Each call is the run's heartbeat."""
        res = _result_dict(result)
        sub_scores: dict[str, Any] = res.get("sub_scores") or {}
        owner = current_owner()
        with self._write() as con:
            run = con.execute(
                "UPDATE eval_runs SET heartbeat_at = ?, interrupted_at = CASE WHEN owner_host = ? AND owner_pid = ? "
                "THEN NULL ELSE interrupted_at END WHERE id = ? RETURNING provenance_hash",
                [utc_now(), owner.host, owner.pid, run_id],
            ).fetchall()
            if not run:
                raise InputError(f"no evaluation run with id {run_id}")
            made_with = res.get("provenance_hash") or run[0][0]
            con.execute("DELETE FROM dimension_results WHERE run_id = ? AND dimension = ?", [run_id, res["dimension"]])
            con.execute(
                "DELETE FROM sub_dimension_results WHERE run_id = ? AND dimension = ?", [run_id, res["dimension"]]
            )
            seq = con.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM dimension_results WHERE run_id = ?", [run_id]
            ).fetchone()[0]
            con.execute(
                "INSERT INTO dimension_results (run_id, seq, dimension, status, score, gate_reason, rationale, answers, "
                "evidence_used, backend, backend_version, seconds, result, provenance_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id, seq, res["dimension"], res["status"], res.get("score"), res.get("gate_reason"),
                    res.get("rationale") or "", dumps(res.get("answers") or []), dumps(res.get("evidence_used") or []),
                    res["backend"], res.get("backend_version") or "", float(res.get("seconds") or 0.0), dumps(res),
                    made_with,
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
        provenance: dict[str, Any] | str | None = None,
    ) -> int | None:
        """The newest finished run with these exact inputs, or None.

        `settings_key` is the key string or the settings dict itself; `provenance` the dict given to
        `start_run` or its hash. Prompt, mode and provenance always match exactly (None matches only runs
        without one); operator versions are matched when given."""
        where, params = match_clause(video_hash, judge_backend, judge_version, settings_key, prompt, mode, provenance)
        rows = self._rows(
            f"SELECT id, operator_versions FROM eval_runs WHERE {where} AND finished_at IS NOT NULL "
            "ORDER BY finished_at DESC, id DESC",
            params,
        )
        for row in rows:
            if operator_versions is None or loads(row["operator_versions"]) == dict(operator_versions):
                return int(row["id"])
        return None

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        """The run's row: settings, operator versions, provenance (dict or None) and provenance_hash, owner,
        heartbeat, and its `status` (running, finished or interrupted)."""
        rows = self._rows(f"SELECT {RUN_COLUMNS} FROM eval_runs WHERE id = ?", [run_id])
        return decode_run(rows[0]) if rows else None

    def runs_for_video(self, video_hash: str) -> list[dict[str, Any]]:
        rows = self._rows(f"SELECT {RUN_COLUMNS} FROM eval_runs WHERE video_hash = ? ORDER BY id", [video_hash])
        return [decode_run(row) for row in rows]

    def run_results(self, run_id: int) -> list[dict[str, Any]]:
        """The run's DimensionResult dicts in the order they were added; each names the `provenance_hash` it
        was made with when its run has one."""
        with self._cursor() as cur:
            rows = fetch_dicts(
                cur, "SELECT result, provenance_hash FROM dimension_results WHERE run_id = ? ORDER BY seq", [run_id]
            )
        out = []
        for row in rows:
            res = loads(row["result"])
            if row["provenance_hash"] is not None and res.get("provenance_hash") is None:
                res["provenance_hash"] = row["provenance_hash"]
            out.append(res)
        return out

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
