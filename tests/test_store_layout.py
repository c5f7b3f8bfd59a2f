"""The store package's shape (issue 8.7): one façade with the whole former API, repositories that cannot
clash, small modules, numbered migrations; the rules a branch adding a repository must keep."""
from __future__ import annotations

import inspect
from pathlib import Path

from evalverse.store import SCHEMA_VERSION, Store
from evalverse.store.base import Repository
from evalverse.store.migrations import MIGRATIONS

STORE = Path(__file__).resolve().parents[1] / "evalverse" / "store"
# the public API of the single-module store (db.py) that every caller was written against
FORMER_API = (
    "add_dimension_result add_pairwise add_pointwise add_test_case close closed counts find_cached_run finish_run "
    "get_evidence get_run get_video import_leaderboard latest_evidence machine_scores memory models open "
    "open_or_memory pairwise_judgments pointwise_judgments put_evidence replace_models replace_win_ratios "
    "run_results runs_for_video schema_version set_qa_status start_run test_cases upsert_model upsert_video "
    "win_ratio_sources win_ratios path read_only"
).split()


def _repositories() -> list[type]:
    return [c for c in Store.__mro__ if issubclass(c, Repository) and c not in (Store, Repository)]


def test_the_facade_keeps_every_former_method():
    assert [name for name in FORMER_API if not hasattr(Store, name)] == []


def test_no_public_name_is_defined_by_two_repositories():
    owners: dict[str, list[str]] = {}
    for repo in _repositories():
        for name, value in vars(repo).items():
            if not name.startswith("__") and (callable(value) or isinstance(value, property)) and name != "TABLES":
                owners.setdefault(name, []).append(repo.__name__)
    clashes = {name: repos for name, repos in owners.items() if len(repos) > 1}
    assert clashes == {}


def test_each_repository_owns_distinct_tables_and_counts_them(tmp_path):
    tables = [t for repo in _repositories() for t in repo.TABLES]
    assert len(tables) == len(set(tables))
    with Store.open(tmp_path / "c.duckdb") as store:
        assert set(store.counts()) == set(tables) and all(v == 0 for v in store.counts().values())


def test_modules_stay_small():
    sizes = {p.name: len(p.read_text().splitlines()) for p in STORE.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_migrations_are_numbered_without_gaps():
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1)) and SCHEMA_VERSION >= 3
    assert MIGRATIONS[2].name == "provenance_and_run_lifecycle"


def test_repositories_document_their_methods():
    missing = [f"{repo.__name__}.{name}" for repo in _repositories() for name, fn in vars(repo).items()
               if inspect.isfunction(fn) and not name.startswith("_") and not fn.__doc__ and name not in FORMER_API]
    assert missing == []
