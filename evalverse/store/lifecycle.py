"""The life of an evaluation run after `start_run`: running, finished, or interrupted.

Every run records its owner process (host, pid, and on Linux the process's start time, so a reused
pid is not mistaken for the owner) and a heartbeat (`start_run`, every `add_dimension_result`,
`heartbeat`). A run that is not finished is *interrupted* when its owner is gone: on this host, the
process no longer exists (or the pid now belongs to a later process); on another host, whose
processes cannot be seen from here, its heartbeat is older than `STALE_AFTER_S`. Writable stores mark
such runs when they open and before pruning; listings show the status whether marked or not.

Interrupted runs are never served from the cache. `prune_runs` deletes them (with their results);
`find_resumable_run` + `resume_run` let a caller take one over, skip the dimensions already stored,
and `finish_run` it.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from evalverse.errors import InputError
from evalverse.store.base import Repository, fetch_dicts, utc_now

RunStatus = Literal["running", "finished", "interrupted"]
RUN_STATUSES: tuple[str, ...] = ("running", "finished", "interrupted")
# A run owned by another host is taken as interrupted after this long without a heartbeat. The gap
# between two heartbeats of a live run is one operator or one judged dimension; the slowest measured
# here are minutes (a VLM judge on CPU), so an hour is a wide margin. Same-host runs are checked directly.
STALE_AFTER_S = 3600.0


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start: int | None  # process start time in clock ticks since boot (Linux /proc), None elsewhere


@lru_cache(maxsize=1)
def _hostname() -> str:
    return socket.gethostname()


def process_start(pid: int) -> int | None:
    """The start time of process `pid` (clock ticks since boot, from /proc), or None if unknown here."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            text = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()  # after the command name, which may hold spaces
    try:
        return int(fields[19])  # field 22 of stat(5); fields[0] is field 3
    except (IndexError, ValueError):
        return None


def current_owner() -> Owner:
    pid = os.getpid()
    return Owner(_hostname(), pid, process_start(pid))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to another user
        return True
    except OSError:
        return False
    return True


def owner_alive(row: dict[str, Any], now: datetime | None = None, stale_after_s: float = STALE_AFTER_S) -> bool:
    """Whether the process that owns an unfinished run (a row with owner_host, owner_pid, owner_start,
    heartbeat_at, started_at) may still be working on it."""
    pid, host = row.get("owner_pid"), row.get("owner_host")
    if pid is None or host is None:
        return False  # written before owners were recorded: no such process can still be running
    if host == _hostname():
        if not _pid_alive(int(pid)):
            return False
        start = row.get("owner_start")
        if start is None:
            return True
        current = process_start(int(pid))
        return current is None or current == int(start)
    beat = row.get("heartbeat_at") or row.get("started_at")
    return beat is not None and ((now or utc_now()) - beat).total_seconds() < stale_after_s


def run_status(row: dict[str, Any], now: datetime | None = None, stale_after_s: float = STALE_AFTER_S) -> RunStatus:
    if row.get("finished_at") is not None:
        return "finished"
    if row.get("interrupted_at") is not None or not owner_alive(row, now, stale_after_s):
        return "interrupted"
    return "running"


_OWNER_COLUMNS = "id, owner_host, owner_pid, owner_start, heartbeat_at, started_at"


def _dead_unmarked(con, stale_after_s: float) -> list[int]:
    """Unfinished runs not yet marked whose owner is gone (only runs in progress are read: a small set)."""
    now = utc_now()
    rows = fetch_dicts(con, f"SELECT {_OWNER_COLUMNS} FROM eval_runs WHERE finished_at IS NULL AND interrupted_at IS NULL")
    return [int(r["id"]) for r in rows if not owner_alive(r, now, stale_after_s)]


class RunLifecycleRepository(Repository):
    TABLES = ()  # eval_runs belongs to RunsRepository

    def heartbeat(self, run_id: int) -> None:
        """Say this run is still being worked on (for work that stores nothing for a long time)."""
        with self._write() as con:
            if not con.execute("UPDATE eval_runs SET heartbeat_at = ? WHERE id = ? RETURNING id",
                               [utc_now(), run_id]).fetchall():
                raise InputError(f"no evaluation run with id {run_id}")

    def mark_interrupted(self, stale_after_s: float = STALE_AFTER_S) -> list[int]:
        """Mark every unfinished run whose owner is gone as interrupted; returns their ids."""
        with self._write() as con:
            return self._mark(con, stale_after_s)

    @staticmethod
    def _mark(con, stale_after_s: float) -> list[int]:
        dead = _dead_unmarked(con, stale_after_s)
        if dead:
            con.execute(
                "UPDATE eval_runs SET interrupted_at = ? WHERE finished_at IS NULL AND list_contains(?::BIGINT[], id)",
                [utc_now(), dead],
            )
        return dead

    def list_runs(
        self,
        *,
        status: RunStatus | None = None,
        limit: int = 50,
        before_id: int | None = None,
        video_hash: str | None = None,
        stale_after_s: float = STALE_AFTER_S,
    ) -> list[dict[str, Any]]:
        """One page of runs, newest first: id, status, video_hash, video_path, judge_backend, judge_version,
        mode, prompt, started_at, finished_at, heartbeat_at, interrupted_at, owner, provenance_hash,
        n_results. Page on with `before_id` = the last id of the previous page (keyset paging on the id: a
        deep page costs what the first one does)."""
        if status is not None and status not in RUN_STATUSES:
            raise InputError(f"run status must be one of {RUN_STATUSES}, not {status!r}")
        if not isinstance(limit, int) or limit < 1:
            raise InputError(f"a page holds at least one run; got limit={limit!r}")
        with self._cursor() as cur:
            dead = _dead_unmarked(cur, stale_after_s)
            where, params = ["TRUE"], []
            if before_id is not None:
                where.append("r.id < ?")
                params.append(before_id)
            if video_hash is not None:
                where.append("r.video_hash = ?")
                params.append(video_hash)
            if status == "finished":
                where.append("r.finished_at IS NOT NULL")
            elif status == "interrupted":
                where.append("r.finished_at IS NULL AND (r.interrupted_at IS NOT NULL OR list_contains(?::BIGINT[], r.id))")
                params.append(dead)
            elif status == "running":
                where.append("r.finished_at IS NULL AND r.interrupted_at IS NULL AND NOT list_contains(?::BIGINT[], r.id)")
                params.append(dead)
            rows = fetch_dicts(
                cur,
                "SELECT r.id, r.video_hash, r.judge_backend, r.judge_version, r.mode, r.prompt, r.started_at, "
                "r.finished_at, r.heartbeat_at, r.interrupted_at, r.owner_host, r.owner_pid, r.owner_start, "
                "r.provenance_hash, v.path AS video_path FROM eval_runs r LEFT JOIN videos v ON v.content_hash = r.video_hash "
                f"WHERE {' AND '.join(where)} ORDER BY r.id DESC LIMIT ?",
                params + [limit],
            )
            ids = [r["id"] for r in rows]
            counts = dict(cur.execute(  # the page's id range lets zone maps skip the rest (results arrive about in run order)
                "SELECT run_id, count(*) FROM dimension_results WHERE run_id BETWEEN ? AND ? "
                "AND list_contains(?::BIGINT[], run_id) GROUP BY run_id",
                [min(ids, default=0), max(ids, default=0), ids],
            ).fetchall()) if ids else {}
        dead_set = set(dead)
        for row in rows:
            row["n_results"] = int(counts.get(row["id"], 0))
            row["status"] = "interrupted" if row["id"] in dead_set else run_status(row, stale_after_s=stale_after_s)
            row["owner"] = f"{row['owner_host']}:{row['owner_pid']}" if row["owner_pid"] is not None else None
        return rows

    def run_counts(self, stale_after_s: float = STALE_AFTER_S) -> dict[str, int]:
        """How many runs are running, finished and interrupted."""
        with self._cursor() as cur:
            dead = len(_dead_unmarked(cur, stale_after_s))
            finished, marked, unfinished = cur.execute(
                "SELECT count(finished_at), count(*) FILTER (WHERE finished_at IS NULL AND interrupted_at IS NOT NULL), "
                "count(*) FILTER (WHERE finished_at IS NULL AND interrupted_at IS NULL) FROM eval_runs"
            ).fetchone()
        return {"running": int(unfinished) - dead, "finished": int(finished), "interrupted": int(marked) + dead}

    def prune_runs(self, older_than_s: float = 0.0, *, dry_run: bool = False,
                   stale_after_s: float = STALE_AFTER_S) -> list[int]:
        """Delete interrupted runs started at least `older_than_s` seconds ago, with their results, in one
        transaction (runs whose owner is gone are marked first). Returns the ids, oldest first; with
        `dry_run`, the ids that would go, and nothing changes."""
        if older_than_s < 0:
            raise InputError(f"--older-than must be >= 0, not {older_than_s!r}")
        cutoff = utc_now() - timedelta(seconds=older_than_s)
        select = ("SELECT id FROM eval_runs WHERE finished_at IS NULL AND (interrupted_at IS NOT NULL "
                  "OR list_contains(?::BIGINT[], id)) AND started_at <= ? ORDER BY id")
        if dry_run:
            with self._cursor() as cur:
                return [r[0] for r in cur.execute(select, [_dead_unmarked(cur, stale_after_s), cutoff]).fetchall()]
        with self._write() as con:
            self._mark(con, stale_after_s)
            ids = [r[0] for r in con.execute(select, [[], cutoff]).fetchall()]
            if ids:
                for table in ("sub_dimension_results", "dimension_results"):  # fixed names, no input
                    con.execute(f"DELETE FROM {table} WHERE list_contains(?::BIGINT[], run_id)", [ids])
                con.execute("DELETE FROM eval_runs WHERE list_contains(?::BIGINT[], id)", [ids])
        return ids

    def find_resumable_run(
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
        stale_after_s: float = STALE_AFTER_S,
    ) -> int | None:
        """The newest interrupted run with exactly these inputs (as `find_cached_run` matches them), or None."""
        from evalverse.store.runs import match_clause
        from evalverse.store.serialise import loads

        where, params = match_clause(video_hash, judge_backend, judge_version, settings_key, prompt, mode, provenance)
        rows = self._rows(
            f"SELECT operator_versions, {_OWNER_COLUMNS}, interrupted_at FROM eval_runs WHERE {where} "
            "AND finished_at IS NULL ORDER BY id DESC",
            params,
        )
        for row in rows:
            if row["interrupted_at"] is None and owner_alive(row, stale_after_s=stale_after_s):
                continue
            if operator_versions is None or loads(row["operator_versions"]) == dict(operator_versions):
                return int(row["id"])
        return None

    def resume_run(self, run_id: int, stale_after_s: float = STALE_AFTER_S) -> dict[str, Any]:
        """Take over an interrupted run: this process becomes its owner. Returns {"run": the run (as
        `get_run`), "done": [dimensions already stored, in order]}; judge the others, then `finish_run`.
        A finished run, or one whose owner is still alive, is refused."""
        from evalverse.store.runs import RUN_COLUMNS, decode_run

        owner = current_owner()
        with self._write() as con:
            rows = fetch_dicts(con, f"SELECT {RUN_COLUMNS} FROM eval_runs WHERE id = ?", [run_id])
            if not rows:
                raise InputError(f"no evaluation run with id {run_id}")
            row = rows[0]
            mine = row["owner_host"] == owner.host and row["owner_pid"] == owner.pid
            status = run_status(row, stale_after_s=stale_after_s)
            if status == "finished":
                raise InputError(f"run {run_id} is finished; there is nothing to resume")
            if status == "running" and not mine:
                raise InputError(f"run {run_id} is still running (PID {row['owner_pid']} on {row['owner_host']})")
            now = utc_now()
            con.execute(
                "UPDATE eval_runs SET owner_host = ?, owner_pid = ?, owner_start = ?, heartbeat_at = ?, "
                "interrupted_at = NULL WHERE id = ?",
                [owner.host, owner.pid, owner.start, now, run_id],
            )
            done = [r[0] for r in con.execute(
                "SELECT dimension FROM dimension_results WHERE run_id = ? ORDER BY seq", [run_id]).fetchall()]
        row.update(owner_host=owner.host, owner_pid=owner.pid, owner_start=owner.start, heartbeat_at=now,
                   interrupted_at=None)
        return {"run": decode_run(row), "done": done}
