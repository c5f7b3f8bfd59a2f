"""Browsing stored runs: a searchable, filterable page of runs (newest first, keyset-paged), the filter values the
store holds, one dimension's results across runs sorted by score (the per-case view), the evidence records of a
video and the keyframes of many videos at once.

Every method is a fixed number of set-based queries whatever the store's size (no Python loop over runs), so a
page costs about what the connection does (benchmarks/bench_store.py). Runs that came from a benchmark carry
suite, model and case from the benchmark's `bench_items` table when the store has one (migration 0004 of the
benchmark branch); without it, the model is the one recorded with the video (`videos.model`).
"""
from __future__ import annotations

from typing import Any

from evalverse.errors import InputError
from evalverse.store.base import Repository, fetch_dicts
from evalverse.store.lifecycle import RUN_STATUSES, STALE_AFTER_S, _dead_unmarked, run_status
from evalverse.store.serialise import loads

MAX_PAGE = 500
ORDERS = ("score_asc", "score_desc")
_RESULT_STATUSES = ("scored", "gated", "not_judged", "unparsed", "error")


def has_table(cur, name: str) -> bool:
    return bool(cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                            "AND table_name = ?", [name]).fetchone()[0])


def _origins(cur, run_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Suite, model and case of the benchmark items that name these runs (one row per run)."""
    if not run_ids:
        return {}
    return {o["run_id"]: o for o in fetch_dicts(
        cur, "SELECT run_id, min(suite) AS suite, min(model) AS model, min(case_id) AS case_id "
        "FROM bench_items WHERE list_contains(?::BIGINT[], run_id) GROUP BY run_id", [run_ids])}


def _limit(limit: Any) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise InputError(f"a page holds 1 to {MAX_PAGE} rows; got limit={limit!r}")
    return limit


def _filters(cur, *, query: str | None, judge: str | None, status: str | None, suite: str | None,
             model: str | None, video_hash: str | None, bench: bool, stale_after_s: float) -> tuple[list[str], list[Any], list[int]]:
    """WHERE terms over eval_runs r / videos v for the browse filters, their parameters, and the runs found dead."""
    where: list[str] = []
    params: list[Any] = []
    dead: list[int] = []
    if status is not None:
        if status not in RUN_STATUSES:
            raise InputError(f"run status must be one of {', '.join(RUN_STATUSES)}, not {status!r}")
        dead = _dead_unmarked(cur, stale_after_s) if status != "finished" else []
        if status == "finished":
            where.append("r.finished_at IS NOT NULL")
        elif status == "interrupted":
            where.append("r.finished_at IS NULL AND (r.interrupted_at IS NOT NULL OR list_contains(?::BIGINT[], r.id))")
            params.append(dead)
        else:
            where.append("r.finished_at IS NULL AND r.interrupted_at IS NULL AND NOT list_contains(?::BIGINT[], r.id)")
            params.append(dead)
    if judge:
        where.append("r.judge_backend = ?")
        params.append(judge)
    if video_hash:
        where.append("r.video_hash = ?")
        params.append(video_hash)
    if suite or model:
        if bench:
            terms = ["b.run_id = r.id"] + (["b.suite = ?"] if suite else []) + (["b.model = ?"] if model else [])
            exists = f"EXISTS (SELECT 1 FROM bench_items b WHERE {' AND '.join(terms)})"
            params += [v for v in (suite, model) if v]
            if model and not suite:  # a model is also known from its videos (uploads tagged with one)
                exists = f"({exists} OR v.model = ?)"
                params.append(model)
            where.append(exists)
        elif suite:
            where.append("FALSE")  # no benchmark runs in this store: no run belongs to a suite
        else:
            where.append("v.model = ?")
            params.append(model)
    text = (query or "").strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        terms = ["r.prompt ILIKE ? ESCAPE '\\'", "v.path ILIKE ? ESCAPE '\\'", "starts_with(r.video_hash, ?)",
                 "starts_with(r.provenance_hash, ?)", "r.judge_backend ILIKE ? ESCAPE '\\'"]
        params += [like, like, text.lower(), text.lower(), like]
        if text.lstrip("#").isdigit():
            terms.append("r.id = ?")
            params.append(int(text.lstrip("#")))
        where.append("(" + " OR ".join(terms) + ")")
    return where, params, dead


class RunBrowseRepository(Repository):
    TABLES = ()  # reads the runs repository's tables (and the benchmark's, when present)

    def search_runs(self, *, query: str | None = None, judge: str | None = None, status: str | None = None,
                    suite: str | None = None, model: str | None = None, video_hash: str | None = None,
                    limit: int = 50, before_id: int | None = None,
                    stale_after_s: float = STALE_AFTER_S) -> list[dict[str, Any]]:
        """One page of runs, newest first. `query` matches the prompt or clip path (case-insensitive substring),
        the start of the video or provenance hash, the judge, or a run id; the other filters match exactly.
        Page on with `before_id` = the last id of the previous page (keyset paging: a deep page costs what the
        first does). Each row: id, status, video_hash, video_path, judge_backend, judge_version, mode, prompt,
        started_at, finished_at, interrupted_at, provenance_hash, owner, n_results, n_scored, n_gated,
        n_not_judged, mean_score, and suite, model, case_id (None when not from a benchmark)."""
        limit = _limit(limit)
        with self._cursor() as cur:
            bench = has_table(cur, "bench_items")
            where, params, dead = _filters(cur, query=query, judge=judge, status=status, suite=suite, model=model,
                                           video_hash=video_hash, bench=bench, stale_after_s=stale_after_s)
            if before_id is not None:
                where.append("r.id < ?")
                params.append(int(before_id))
            rows = fetch_dicts(
                cur,
                "SELECT r.id, r.video_hash, r.judge_backend, r.judge_version, r.mode, r.prompt, r.started_at, "
                "r.finished_at, r.heartbeat_at, r.interrupted_at, r.owner_host, r.owner_pid, r.owner_start, "
                "r.provenance_hash, v.path AS video_path, v.model AS video_model FROM eval_runs r "
                "LEFT JOIN videos v ON v.content_hash = r.video_hash "
                f"WHERE {' AND '.join(where) or 'TRUE'} ORDER BY r.id DESC LIMIT ?",
                params + [limit],
            )
            ids = [r["id"] for r in rows]
            stats = {}
            if ids:  # the page's id range lets zone maps skip the rest (results arrive about in run order)
                stats = {s["run_id"]: s for s in fetch_dicts(
                    cur,
                    "SELECT run_id, count(*) AS n_results, count(*) FILTER (WHERE status = 'scored') AS n_scored, "
                    "count(*) FILTER (WHERE status = 'gated') AS n_gated, "
                    "count(*) FILTER (WHERE status = 'not_judged') AS n_not_judged, "
                    "avg(score) FILTER (WHERE status = 'scored') AS mean_score FROM dimension_results "
                    "WHERE run_id BETWEEN ? AND ? AND list_contains(?::BIGINT[], run_id) GROUP BY run_id",
                    [min(ids), max(ids), ids])}
            origin = _origins(cur, ids) if bench else {}
            if status is None:
                dead = _dead_unmarked(cur, stale_after_s) if any(r["finished_at"] is None for r in rows) else []
        dead_set = set(dead)
        for row in rows:
            s = stats.get(row["id"], {})
            for key in ("n_results", "n_scored", "n_gated", "n_not_judged"):
                row[key] = int(s.get(key) or 0)
            row["mean_score"] = None if s.get("mean_score") is None else float(s["mean_score"])
            o = origin.get(row["id"], {})
            row["suite"], row["case_id"] = o.get("suite"), o.get("case_id")
            row["model"] = o.get("model") or row.pop("video_model", None)
            row.pop("video_model", None)
            row["status"] = "interrupted" if row["id"] in dead_set else run_status(row, stale_after_s=stale_after_s)
            row["owner"] = f"{row['owner_host']}:{row['owner_pid']}" if row["owner_pid"] is not None else None
        return rows

    def run_facets(self) -> dict[str, list[str]]:
        """The values the browse filters can take here: judges, suites and models (sorted)."""
        with self._cursor() as cur:
            judges = [r[0] for r in cur.execute(
                "SELECT DISTINCT judge_backend FROM eval_runs ORDER BY judge_backend").fetchall()]
            if has_table(cur, "bench_items"):
                suites = [r[0] for r in cur.execute("SELECT DISTINCT suite FROM bench_items ORDER BY 1").fetchall()]
                models = [r[0] for r in cur.execute(
                    "SELECT DISTINCT model FROM bench_items UNION SELECT DISTINCT model FROM videos "
                    "WHERE model IS NOT NULL ORDER BY 1").fetchall()]
            else:
                suites = []
                models = [r[0] for r in cur.execute(
                    "SELECT DISTINCT model FROM videos WHERE model IS NOT NULL ORDER BY 1").fetchall()]
        return {"judges": judges, "suites": suites, "models": [m for m in models if m is not None]}

    def dimension_page(self, dimension: str, *, query: str | None = None, judge: str | None = None,
                       judge_version: str | None = None, suite: str | None = None, model: str | None = None, result_status: str | None = None,
                       order: str = "score_asc", limit: int = 20, offset: int = 0,
                       finished_only: bool = True) -> list[dict[str, Any]]:
        """One dimension's results across runs, sorted by score (unscored last; ties newest first): the
        per-case view. Each row: run_id, video_hash, video_path, prompt, judge_backend, judge_version,
        started_at, provenance_hash, suite, model, case_id, and the stored DimensionResult as `result`.
        `judge_version` keeps one version of the judge (a leaderboard source `<suite>:<judge>@<version>`)."""
        limit = _limit(limit)
        if order not in ORDERS:
            raise InputError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
        if result_status is not None and result_status not in _RESULT_STATUSES:
            raise InputError(f"result status must be one of {', '.join(_RESULT_STATUSES)}, not {result_status!r}")
        if not isinstance(offset, int) or offset < 0:
            raise InputError(f"offset must be a whole number >= 0, not {offset!r}")
        with self._cursor() as cur:
            bench = has_table(cur, "bench_items")
            where, params, _ = _filters(cur, query=query, judge=judge, status=None, suite=suite, model=model,
                                        video_hash=None, bench=bench, stale_after_s=STALE_AFTER_S)
            where = ["d.dimension = ?"] + where + (["r.finished_at IS NOT NULL"] if finished_only else [])
            params = [dimension] + params
            if result_status:
                where.append("d.status = ?")
                params.append(result_status)
            if judge_version:
                where.append("r.judge_version = ?")
                params.append(judge_version)
            direction = "ASC" if order == "score_asc" else "DESC"
            sort = f"d.score {direction} NULLS LAST, d.run_id DESC"
            # the page is chosen on narrow columns first; only its rows carry the stored result JSON
            rows = fetch_dicts(
                cur,
                "WITH page AS (SELECT d.run_id, d.score FROM dimension_results d JOIN eval_runs r ON r.id = d.run_id "
                f"LEFT JOIN videos v ON v.content_hash = r.video_hash WHERE {' AND '.join(where)} "
                f"ORDER BY {sort} LIMIT ? OFFSET ?) "
                "SELECT d.run_id, r.video_hash, v.path AS video_path, v.model AS video_model, r.prompt, "
                "r.judge_backend, r.judge_version, r.started_at, r.provenance_hash, d.status, d.score, d.result "
                "FROM page JOIN dimension_results d ON d.run_id = page.run_id AND d.dimension = ? "
                "JOIN eval_runs r ON r.id = d.run_id LEFT JOIN videos v ON v.content_hash = r.video_hash "
                f"ORDER BY {sort}",
                params + [limit, offset, dimension])
            ids = [r["run_id"] for r in rows]
            origin = _origins(cur, ids) if bench else {}
        for row in rows:
            row["result"] = loads(row["result"])
            o = origin.get(row["run_id"], {})
            row["suite"], row["case_id"] = o.get("suite"), o.get("case_id")
            row["model"] = o.get("model") or row.get("video_model")
            row.pop("video_model", None)
        return rows

    def evidence_records(self, video_hash: str) -> list[dict[str, Any]]:
        """Every cached evidence record of a video: operator, version, params_key, created_at, record."""
        rows = self._rows("SELECT operator, version, params_key, created_at, record FROM evidence "
                          "WHERE video_hash = ? ORDER BY created_at", [video_hash])
        for row in rows:
            row["record"] = loads(row["record"])
        return rows

    def keyframes_for(self, video_hashes: list[str], limit: int = 6) -> dict[str, list[dict[str, Any]]]:
        """Per video, up to `limit` shots of its newest shots evidence: {index, start, thumbnail} (one query)."""
        hashes = list(dict.fromkeys(h for h in video_hashes if h))
        if not hashes:
            return {}
        rows = self._rows(
            "SELECT video_hash, json_extract(record, '$.results.shots') AS shots FROM evidence "
            "WHERE operator = 'shots' AND list_contains(?::VARCHAR[], video_hash) "
            "QUALIFY row_number() OVER (PARTITION BY video_hash ORDER BY created_at DESC) = 1", [hashes])
        out: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            shots = loads(row["shots"]) if isinstance(row["shots"], str) else row["shots"]
            out[row["video_hash"]] = [{"index": s.get("index"), "start": s.get("start"), "thumbnail": s.get("thumbnail")}
                                      for s in (shots or [])[:limit] if isinstance(s, dict)]
        return out
