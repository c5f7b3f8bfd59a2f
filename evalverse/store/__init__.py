"""Results store: one embedded DuckDB file (videos, runs and results, the evidence cache, human judgments,
models, test cases, win ratios), versioned migrations, and one façade, `Store`.

Layout
    base.py        plumbing: the file and its lock, a connection per operation, transactions, batches,
                   the `Repository` base class (the SQL helpers `_write`, `_cursor`, `_rows`, `_frame`)
    paths.py       checks on a database path before DuckDB opens it; DuckDB's errors explained
    runs.py        videos, evidence cache, evaluation runs, dimension results, provenance, run cache
    lifecycle.py   run owners and heartbeats; interrupted runs: list, prune, resume
    browse.py      searching and paging stored runs, one dimension across runs, keyframes of many videos
    humans.py      human pairwise / pointwise judgments and their QA status
    leaderboard.py generation models, test cases, leaderboard win ratios
    curation.py    the suite builder's human corrections of annotated fields (migration 0007)
    facade.py      `Store`: opening and closing; inherits every repository
    migrations/    NNNN_name.sql, applied in order (0004 is reserved for benchmark runs, 0005 is
                   annotation, 0006 run browsing)

Sharing the file: no connection is held between operations, so the app and any number of CLI runs
use one file; a process waits up to `EVALVERSE_DB_LOCK_TIMEOUT` seconds for another's lock, then
fails with StoreError (see base.py).

Adding a repository (e.g. benchmark runs)
    1. Schema: add `migrations/000N_<name>.sql` with your tables (take the number reserved for you;
       never edit a migration that has shipped: add a new one). Migrations are plain SQL, run in one
       transaction, recorded in `schema_version`; opening an older file upgrades it.
    2. Code: add `store/<name>.py` with `class <Name>Repository(Repository)`; set `TABLES = (...)` to
       the tables it owns (so `counts()` shows them); write with `with self._write() as con:` (one
       transaction, the file lock held only inside it), read with `self._rows(sql, params)` /
       `self._frame(...)` / `with self._cursor() as cur:`. Parameterise every value; take table
       names from constants only. Put shared helpers in module functions, not `_methods`, so names
       cannot clash across repositories; time stamps come from `base.utc_now()`.
    3. Add the class to `Store`'s bases in facade.py (one line). `tests/test_store_layout.py` checks
       that no public method is defined by two repositories and that every module stays small.
    4. Never hold a connection around slow work (decoding, a model call): open a transaction per
       write, or `store.batch()` for a short burst of small operations.
"""
from evalverse.store.base import DEFAULT_LOCK_TIMEOUT_S, MEMORY
from evalverse.store.facade import Store
from evalverse.store.lifecycle import RUN_STATUSES
from evalverse.store.migrations import LATEST as SCHEMA_VERSION
from evalverse.store.runs import provenance_hash, settings_key

__all__ = ["DEFAULT_LOCK_TIMEOUT_S", "MEMORY", "RUN_STATUSES", "SCHEMA_VERSION", "Store", "provenance_hash",
           "settings_key"]
