"""Store plumbing: where the DuckDB file is, how a connection is opened and for how long, transactions,
waiting for another process's lock, and the `Repository` base every table group builds on.

DuckDB locks a database file per *process*: while one process has it open read-write, no other process
can open it at all. So a file store holds no connection between operations. Every read and every
write transaction opens a connection, runs, and closes it, which releases the file for the app, a
second CLI run or a notebook (an open + close measured about 11-15 ms on a 100k-result file, see
`benchmarks/store_connect.py`; it does not grow with the file's size). A process that finds the file
locked retries with jittered backoff for up to `lock_timeout_s` (Settings.db_lock_timeout_s,
`EVALVERSE_DB_LOCK_TIMEOUT`), then raises StoreError naming the holder.

Inside one process DuckDB shares one database instance between connections to the same file, so
threads read concurrently; writes are serialised by a per-file lock in this process (two Store
objects on one file included), and across processes by DuckDB's file lock. `Database.batch()` keeps
one connection for a short block of several operations (this thread only); it holds the file, so keep
it short. An in-memory store keeps its single connection for its life (no other process can see it).
"""
from __future__ import annotations

import os
import random
import re
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pandas as pd

from evalverse.config import DEFAULT_DB_LOCK_TIMEOUT_S
from evalverse.errors import StoreError

MEMORY = ":memory:"
DEFAULT_LOCK_TIMEOUT_S = DEFAULT_DB_LOCK_TIMEOUT_S  # why this long: evalverse.config
_FIRST_DELAY_S = 0.002
_MAX_DELAY_S = 0.1
_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")

_process_locks: dict[str, threading.RLock] = {}
_process_locks_guard = threading.Lock()


def utc_now() -> datetime:
    """Naive UTC, the store's one timestamp convention."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _process_lock(path: str) -> threading.RLock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.RLock())


def _is_busy(exc: Exception) -> bool:
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text or "different configuration" in text


class Database:
    """Connections to one DuckDB file (opened per operation) or to one in-memory database."""

    def __init__(self, path: str, read_only: bool = False, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> None:
        if lock_timeout_s < 0:
            raise StoreError(f"the lock timeout must be >= 0 seconds, not {lock_timeout_s!r}")
        self.path = path
        self.read_only = read_only
        self.lock_timeout_s = float(lock_timeout_s)
        self.memory = path == MEMORY
        self._file = path if self.memory else os.path.realpath(path)  # one spelling: one instance, one lock
        self._memory_con = duckdb.connect(MEMORY) if self.memory else None
        self._write_lock = threading.RLock() if self.memory else _process_lock(self._file)
        self._local = threading.local()  # .con: this thread's batch connection
        self._closed = False
        self.lock_waits = 0  # how many connects had to wait for another process (diagnostics, tests)

    @classmethod
    def open(cls, path: str | Path, read_only: bool = False,
             lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> "Database":
        """Check the path (creating its folder); nothing is connected until the first operation."""
        text = str(path)
        if text != MEMORY:
            text = str(prepare_path(Path(path).expanduser(), read_only))
        return cls(text, read_only, lock_timeout_s)

    # ---- connections -------------------------------------------------------------------------
    def _connect(self) -> duckdb.DuckDBPyConnection:
        """A new connection (the caller closes it): this thread's batch, the memory database, or the file,
        waiting up to `lock_timeout_s` for another process to release it."""
        if self._closed:
            raise StoreError(f"the store {self.path} is closed")
        held = getattr(self._local, "con", None)
        if held is not None:
            return held.cursor()
        if self._memory_con is not None:
            return self._memory_con.cursor()
        deadline = time.monotonic() + self.lock_timeout_s
        delay = _FIRST_DELAY_S
        while True:
            try:
                return duckdb.connect(self._file, read_only=self.read_only)
            except duckdb.Error as exc:
                if not _is_busy(exc):
                    raise StoreError(explain_connect_error(self.path, self.read_only, exc)) from exc
                if self.read_only and "different configuration" in str(exc):
                    # this process has the file open read-write right now: share that instance (the
                    # Store refuses writes when read-only, so nothing is written through it)
                    try:
                        return duckdb.connect(self._file)
                    except duckdb.Error:
                        pass
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreError(self._busy_message(exc)) from exc
                self.lock_waits += 1
                time.sleep(min(left, delay * random.uniform(0.5, 1.5)))
                delay = min(delay * 2, _MAX_DELAY_S)

    def _busy_message(self, exc: Exception) -> str:
        found = _HOLDER.search(str(exc))
        holder = f" ({Path(found.group(1)).name}, PID {found.group(2)})" if found else ""
        return (
            f"database {self.path} is in use by another process{holder} and stayed locked for "
            f"{self.lock_timeout_s:g} s (DuckDB lets one process open a file at a time; EvalVerse holds it only "
            "while reading or writing): retry, raise EVALVERSE_DB_LOCK_TIMEOUT, close the program holding it, "
            "or use another file with --db / EVALVERSE_DB"
        )

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for reads; safe from any thread."""
        con = self._connect()
        try:
            yield con
        except duckdb.Error as exc:
            raise StoreError(f"could not read from {self.path}: {exc}") from exc
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction: all of it happens or none of it; writers in this process take turns."""
        if self.read_only:
            raise StoreError(f"the store {self.path} was opened read-only")
        with self._write_lock:
            con = self._connect()
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except duckdb.Error as exc:
                    con.execute("ROLLBACK")
                    raise StoreError(f"could not write to {self.path}: {exc}") from exc
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                try:
                    con.execute("COMMIT")
                except duckdb.Error as exc:
                    raise StoreError(f"could not write to {self.path}: {exc}") from exc
            finally:
                con.close()

    @contextmanager
    def batch(self) -> Iterator["Database"]:
        """Keep one connection for the operations of this block in this thread (saves a connect each).
        It holds the file against other processes: use it for a short burst, never around slow work."""
        if getattr(self._local, "con", None) is not None:
            yield self  # already batching: nested blocks share it
            return
        con = self._connect()
        self._local.con = con
        try:
            yield self
        finally:
            self._local.con = None
            con.close()

    def close(self) -> None:
        self._closed = True
        if self._memory_con is not None:
            self._memory_con.close()
            self._memory_con = None

    @property
    def closed(self) -> bool:
        return self._closed


class Repository:
    """Base of every group of tables: the SQL helpers, bound to `self._db`.

    A repository is a mixin of `evalverse.store.Store`: it names the tables it owns in `TABLES`
    (they show in `Store.counts()`), and its public methods become the Store's. See the package
    docstring for how to add one."""

    TABLES: tuple[str, ...] = ()
    _db: Database

    @property
    def path(self) -> str:
        return self._db.path

    @property
    def read_only(self) -> bool:
        return self._db.read_only

    def _write(self):
        return self._db.transaction()

    def _cursor(self):
        return self._db.reading()

    def _rows(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._cursor() as cur:
            return fetch_dicts(cur, sql, params)

    def _frame(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> pd.DataFrame:
        with self._cursor() as cur:
            return cur.execute(sql, list(params)).df()


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    rel = con.execute(sql, list(params))
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row)) for row in rel.fetchall()]


# ---- checking a path before DuckDB sees it ---------------------------------------------------------
def prepare_path(path: Path, read_only: bool) -> Path:
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


def explain_connect_error(path: str, read_only: bool, exc: Exception) -> str:
    text = str(exc)
    lower = text.lower()
    if "not a valid" in lower or "serializ" in lower or "version" in lower:
        return f"{path} is not a DuckDB database this EvalVerse can read; move it aside or choose another path. Detail: {text}"
    mode = "read-only" if read_only else "read-write"
    return f"cannot open database {path} {mode}: {text}"


def migrate_or_check(db: Database) -> None:
    """Upgrade the schema (read-write), or refuse a read-only database that needs an upgrade."""
    from evalverse.store import migrations

    with db._write_lock, db.reading() as con:
        if not db.read_only:
            migrations.migrate(con)
            return
        if migrations.pending(con):
            raise StoreError(
                f"database {db.path} has schema version {migrations.current_version(con)}, this EvalVerse "
                f"needs {migrations.LATEST}; open it once without read-only to upgrade it"
            )
