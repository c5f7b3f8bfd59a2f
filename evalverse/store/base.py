"""Store plumbing: where the DuckDB file is, how a connection is opened and for how long, transactions,
waiting for another process's lock, and the `Repository` base every table group builds on.

DuckDB locks a database file per *process*: while one process has it open read-write, no other process
can open it at all. So a file store holds no connection while it is idle. Every read and every write
transaction opens a connection, runs and closes it. Opening is the cost: DuckDB builds a database
instance each time (a bare connect + close measured 11-25 ms on a quiet 2-core machine, whatever the
file's size, and 55-150 ms when that machine is loaded; `benchmarks/bench_store.py`). While one connection is open,
another to the same file in this process reuses the instance and costs about 0.5 ms. So after an
operation the store keeps a *pin* (an idle connection) for `LINGER_S`, which lets a burst of calls
(a stored result, the next cache lookup: in a diagnosis most calls follow the previous one within
12 ms) share one instance; the pin goes once the process has been quiet for `LINGER_S`, and never
lasts longer than `MAX_PIN_S` in a row, after which the store pauses pinning for `LINGER_S` so that
a waiting process gets its turn. Another process that finds the file locked retries with jittered
backoff for up to `lock_timeout_s` (Settings.db_lock_timeout_s, `EVALVERSE_DB_LOCK_TIMEOUT`), then
raises StoreError naming the holder.

Inside one process threads read concurrently (one database instance, one connection each); writes
are serialised by a per-file lock in this process (two Store objects on one file included), and
across processes by DuckDB's file lock. `Database.batch()` keeps one connection for a block of
operations of this thread; it holds the file, so keep it short. An in-memory store keeps its single
connection for its life (no other process can see it).
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
from evalverse.store.paths import explain_connect_error, prepare_path

MEMORY = ":memory:"
DEFAULT_LOCK_TIMEOUT_S = DEFAULT_DB_LOCK_TIMEOUT_S  # why this long: evalverse.config
_FIRST_DELAY_S = 0.002
_MAX_DELAY_S = 0.1
# Keep the instance this long after an operation: longer than the gaps inside a burst of store calls
# (20 of the 27 gaps in a measured diagnosis were under 12 ms, the others over 95 ms), and short
# against the retry interval (up to 0.1 s) of a process waiting for the file.
LINGER_S = 0.05
MAX_PIN_S = 1.0  # a busy process lets go at least this often
# A process waiting for the file touches `<file>.waiting` at each try; the holder then drops its pin, and
# before it takes the file again it gives the waiter up to HANDOVER_S to get in (turns, not a race).
HANDOVER_S = 0.25
_WAIT_FRESH_S = 1.0  # a waiting file older than this is stale (its process died or gave up)
_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")

_process_locks: dict[str, threading.RLock] = {}
_process_locks_guard = threading.Lock()


def utc_now() -> datetime:
    """Naive UTC, the store's one timestamp convention."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _process_lock(path: str) -> threading.RLock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.RLock())


def _touch(path: str) -> bool:
    try:
        Path(path).touch()
        return True
    except OSError:  # a read-only folder: the holder is simply not told
        return False


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _is_busy(exc: Exception) -> bool:
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text or "different configuration" in text


class Database:
    """Connections to one DuckDB file (opened per operation) or to one in-memory database."""

    def __init__(self, path: str, read_only: bool = False, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
                 linger_s: float = LINGER_S) -> None:
        if lock_timeout_s < 0:
            raise StoreError(f"the lock timeout must be >= 0 seconds, not {lock_timeout_s!r}")
        self.path = path
        self.read_only = read_only
        self.lock_timeout_s = float(lock_timeout_s)
        self.linger_s = float(linger_s)  # 0: no pin, every operation opens and closes the file
        self.memory = path == MEMORY
        self._file = path if self.memory else os.path.realpath(path)  # one spelling: one instance, one lock
        self._memory_con = duckdb.connect(MEMORY) if self.memory else None
        self._write_lock = threading.RLock() if self.memory else _process_lock(self._file)
        self._local = threading.local()  # .con: this thread's batch connection
        self._closed = False
        self._pin: duckdb.DuckDBPyConnection | None = None
        self._pin_guard = threading.Lock()
        self._pinned_since = 0.0
        self._last_use = 0.0
        self._no_pin_until = 0.0
        self._open = 0  # connections of this store's operations (and batches) open right now
        self._wait_file = self._file + ".waiting"
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
        with self._pin_guard:
            in_use = self._pin is not None or self._open > 0
            self._open += 1
        try:
            if not in_use:
                self._hand_over()
            return self._connect_file()
        except BaseException:
            with self._pin_guard:
                self._open -= 1
            raise

    def _connect_file(self) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout_s
        delay = _FIRST_DELAY_S
        waiting = False
        try:
            while True:
                try:
                    return duckdb.connect(self._file, read_only=self.read_only)
                except duckdb.Error as exc:
                    if not _is_busy(exc):
                        raise StoreError(explain_connect_error(self.path, self.read_only, exc)) from exc
                    in_process = "different configuration" in str(exc)
                    if self.read_only and in_process:
                        # this process has the file open read-write right now: share that instance (the
                        # Store refuses writes when read-only, so nothing is written through it)
                        try:
                            return duckdb.connect(self._file)
                        except duckdb.Error:
                            pass
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise StoreError(self._busy_message(exc)) from exc
                    if not in_process:
                        waiting = _touch(self._wait_file) or waiting  # ask the holder for a turn
                    self.lock_waits += 1
                    time.sleep(min(left, delay * random.uniform(0.5, 1.5)))
                    delay = min(delay * 2, _MAX_DELAY_S)
        finally:
            if waiting:
                _remove(self._wait_file)

    def _someone_waits(self) -> bool:
        """Whether another process is waiting for this file (it touches `<file>.waiting` at each try)."""
        try:
            return time.time() - os.stat(self._wait_file).st_mtime < _WAIT_FRESH_S
        except OSError:
            return False

    def _hand_over(self) -> None:
        """Before taking the file afresh, give a waiting process up to HANDOVER_S to take it first, so a
        busy process cannot keep the others out until their timeout."""
        deadline = time.monotonic() + HANDOVER_S
        while self._someone_waits() and time.monotonic() < deadline:
            time.sleep(0.005)

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
            self._release(con)

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
                self._release(con)

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
            self._release(con)

    # ---- the pin: keep the instance between the calls of a burst ------------------------------------
    def _release(self, con: duckdb.DuckDBPyConnection) -> None:
        """Close an operation's connection, first pinning the instance for `linger_s` (a file store, nobody
        else waiting for the file)."""
        if self._memory_con is None and getattr(self._local, "con", None) is None:
            now = time.monotonic()
            with self._pin_guard:
                self._open -= 1
                self._last_use = now
                if self._pin is not None and (now - self._pinned_since > MAX_PIN_S or self._someone_waits()):
                    self._drop_pin()
                    self._no_pin_until = now + self.linger_s  # let a waiting process in
                elif (self._pin is None and self.linger_s > 0 and now >= self._no_pin_until and not self._closed
                      and not self._someone_waits()):
                    try:  # `con` is still open, so this reuses its instance: no new lock, ~0.5 ms
                        self._pin = duckdb.connect(self._file, read_only=self.read_only)
                    except duckdb.Error:
                        self._pin = None
                    else:
                        self._pinned_since = now
                        threading.Thread(target=self._unpin_when_idle, name="evalverse-store-pin", daemon=True).start()
        con.close()

    def _unpin_when_idle(self) -> None:
        while True:
            time.sleep(self.linger_s / 2)
            with self._pin_guard:
                if self._pin is None:
                    return
                if time.monotonic() - self._last_use >= self.linger_s:
                    self._drop_pin()
                    return

    def _drop_pin(self) -> None:
        """Let the pin go (the caller holds `_pin_guard`); connections in use keep working."""
        if self._pin is not None:
            self._pin.close()
            self._pin = None

    @property
    def pinned(self) -> bool:
        """Whether this process keeps the file open right now between operations."""
        return self._pin is not None

    def close(self) -> None:
        self._closed = True
        with self._pin_guard:
            self._drop_pin()
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
