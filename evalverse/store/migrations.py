"""Versioned schema migrations: `migrations/NNNN_name.sql`, applied in order, each in one transaction,
recorded in `schema_version`. Opening an older database upgrades it; a newer one is refused."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from evalverse.errors import StoreError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(folder: Path = MIGRATIONS_DIR) -> tuple[Migration, ...]:
    steps = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise StoreError(f"migration file {path} must be named NNNN_name.sql")
        steps.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in steps]
    if versions != list(range(1, len(steps) + 1)):
        raise StoreError(f"migrations in {folder} must be numbered 1..n without gaps; found {versions}")
    return tuple(steps)


MIGRATIONS = load_migrations()
LATEST = MIGRATIONS[-1].version


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version' AND table_schema = 'main'"
    ).fetchone()[0]
    if not exists:
        return 0
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def pending(con: duckdb.DuckDBPyConnection, steps: tuple[Migration, ...] = MIGRATIONS) -> list[Migration]:
    have = current_version(con)
    known = steps[-1].version if steps else 0
    if have > known:
        raise StoreError(
            f"the database has schema version {have} but this EvalVerse knows only up to {known}; "
            "upgrade EvalVerse or point --db / EVALVERSE_DB at another file"
        )
    return [m for m in steps if m.version > have]


def migrate(con: duckdb.DuckDBPyConnection, steps: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply every step newer than the database; returns the versions applied."""
    applied = []
    for step in pending(con, steps):
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
            con.execute(step.sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [step.version, step.name, datetime.now(timezone.utc).replace(tzinfo=None)],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise StoreError(f"schema migration {step.version} ({step.name}) failed: {exc}") from exc
        applied.append(step.version)
    return applied
