"""Results store: DuckDB schema, migrations and queries (see `db.Store`)."""
from evalverse.store.db import MEMORY, Store, settings_key
from evalverse.store.migrations import LATEST as SCHEMA_VERSION

__all__ = ["MEMORY", "SCHEMA_VERSION", "Store", "settings_key"]
