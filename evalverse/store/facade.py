"""`Store`: the one object callers hold. It opens the database (`base.Database`) and inherits every
repository's methods; it owns no SQL of its own beyond `counts()`."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from evalverse.errors import StoreError
from evalverse.store import migrations
from evalverse.store.base import DEFAULT_LOCK_TIMEOUT_S, MEMORY, Database, Repository, migrate_or_check
from evalverse.store.annotation import AnnotationRepository
from evalverse.store.browse import RunBrowseRepository
from evalverse.store.curation import CurationRepository
from evalverse.store.humans import HumansRepository
from evalverse.store.judgments import JudgmentRepository
from evalverse.store.leaderboard import LeaderboardRepository
from evalverse.store.lifecycle import RunLifecycleRepository
from evalverse.store.runs import RunsRepository

if TYPE_CHECKING:
    from evalverse.store.bench import BenchRepository


class Store(RunsRepository, RunLifecycleRepository, RunBrowseRepository, HumansRepository, JudgmentRepository,
            AnnotationRepository, LeaderboardRepository, CurationRepository):
    """Open with `Store.open(path)`, `Store.from_settings(settings)`, `Store.memory()` or
    `Store.open_or_memory(settings)` (the app only); close or use `with`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def bench(self) -> "BenchRepository":
        """Suites, bench items and computed leaderboard sources (evalverse/store/bench.py)."""
        from evalverse.store.bench import BenchRepository

        return BenchRepository(self)

    # ---- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, read_only: bool = False, *,
             lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> "Store":
        """Open (creating it and its folder if needed) and upgrade the database at `path`; a writable store
        also marks runs whose owner is gone as interrupted. Waits up to `lock_timeout_s` for another process.

        Raises StoreError with the reason and a fix when the file cannot be used."""
        store = cls(Database.open(path, read_only, lock_timeout_s))
        try:
            with store._db.batch():
                migrate_or_check(store._db)
                if not read_only:
                    store.mark_interrupted()
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def from_settings(cls, settings: Any, read_only: bool = False) -> "Store":
        """The store at `settings.db_path`, waiting `settings.db_lock_timeout_s` for the lock (the CLI's way:
        no fallback, a StoreError when the file cannot be used)."""
        return cls.open(settings.db_path, read_only=read_only,
                        lock_timeout_s=getattr(settings, "db_lock_timeout_s", DEFAULT_LOCK_TIMEOUT_S))

    @classmethod
    def memory(cls) -> "Store":
        return cls.open(MEMORY)

    @classmethod
    def open_or_memory(cls, settings: Any, read_only: bool = False) -> tuple["Store", str | None]:
        """For the app only: the store at `settings.db_path`, or an in-memory store and a warning saying why
        the file could not be used at start (the app still starts; nothing is kept after it stops). The CLI
        never falls back: it uses `from_settings` and fails with the StoreError."""
        try:
            return cls.from_settings(settings, read_only=read_only), None
        except StoreError as exc:
            return cls.memory(), f"{exc}. Using a temporary in-memory database: results will not be kept."

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._db.closed

    @property
    def lock_timeout_s(self) -> float:
        return self._db.lock_timeout_s

    @contextmanager
    def batch(self) -> Iterator["Store"]:
        """Run several operations of this thread on one connection (see `base.Database.batch`): for short
        bursts only, since it keeps other processes out for its whole length."""
        with self._db.batch():
            yield self

    @property
    def schema_version(self) -> int:
        with self._cursor() as cur:
            return migrations.current_version(cur)

    def counts(self) -> dict[str, int]:
        """Rows per table of every repository, for diagnostics and the CLI."""
        tables = [t for base in type(self).__mro__ if issubclass(base, Repository) for t in base.__dict__.get("TABLES", ())]
        with self._cursor() as cur:  # names come from the repositories' TABLES, no input reaches this SQL
            return {t: int(cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in dict.fromkeys(tables)}
