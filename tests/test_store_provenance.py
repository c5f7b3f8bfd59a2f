"""Issue 8.4, storage side: a run stores its provenance and the sha256 of its canonical JSON; the run cache
matches on that hash, so a change in any one value is a new cache entry; results name the hash they were made with."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evalverse.errors import InputError
from evalverse.judge.types import DimensionResult
from evalverse.store import Store, provenance_hash

PROVENANCE = {
    "data": {"taxonomy": "a1", "checks": "c3", "gating": "g2", "weights": "w1", "catalogue": "m4", "calibration": None},
    "operators": {"quality": {"version": "1.2", "backend": "opencv", "params": {"stride": 2}}},
    "judge": {"backend": "evidence", "version": "1.0"},
}


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "p.duckdb") as s:
        yield s


def _run(store: Store, provenance: dict | None, dims=("lens",)) -> int:
    rid = store.start_run("h", "evidence", "1.0", {"quality": "1.2"}, {"frames": 8}, mode="t2v", provenance=provenance)
    for d in dims:
        store.add_dimension_result(rid, DimensionResult(dimension=d, status="scored", score=3.0, backend="evidence"))
    store.finish_run(rid)
    return rid


def _lookup(store: Store, provenance) -> int | None:
    return store.find_cached_run("h", "evidence", "1.0", {"frames": 8}, mode="t2v", provenance=provenance)


def test_the_hash_is_sha256_of_the_canonical_json():
    text = json.dumps(PROVENANCE, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert provenance_hash(PROVENANCE) == hashlib.sha256(text.encode()).hexdigest()
    reordered = json.loads(json.dumps(PROVENANCE))
    reordered["data"] = dict(reversed(list(reordered["data"].items())))
    assert provenance_hash(reordered) == provenance_hash(PROVENANCE)  # key order does not matter
    assert provenance_hash(None) is None and provenance_hash("abc") == "abc"
    with pytest.raises(InputError, match="provenance must be a dict"):
        provenance_hash(["not", "a", "dict"])


def test_provenance_differing_in_one_value_is_a_second_cache_entry(store: Store):
    first = _run(store, PROVENANCE)
    changed = json.loads(json.dumps(PROVENANCE))
    changed["operators"]["quality"]["params"]["stride"] = 3  # one operator parameter
    assert _lookup(store, changed) is None  # not served the old verdict
    second = _run(store, changed)
    assert second != first
    assert _lookup(store, PROVENANCE) == first and _lookup(store, changed) == second
    assert _lookup(store, provenance_hash(changed)) == second  # the hash works as well as the dict
    assert _lookup(store, None) is None  # a run without provenance is another entry again
    legacy = _run(store, None)
    assert _lookup(store, None) == legacy and _lookup(store, PROVENANCE) == first


def test_runs_and_results_return_their_provenance(store: Store):
    rid = _run(store, PROVENANCE, dims=("lens", "scene"))
    run = store.get_run(rid)
    assert run["provenance"] == PROVENANCE and run["provenance_hash"] == provenance_hash(PROVENANCE)
    assert store.runs_for_video("h")[0]["provenance_hash"] == run["provenance_hash"]
    results = store.run_results(rid)
    assert [r["provenance_hash"] for r in results] == [run["provenance_hash"]] * 2
    with store._cursor() as cur:  # the column itself, for queries over many results
        assert {r[0] for r in cur.execute("SELECT provenance_hash FROM dimension_results WHERE run_id = ?", [rid]).fetchall()} \
            == {run["provenance_hash"]}
    plain = _run(store, None)
    assert store.get_run(plain)["provenance"] is None and store.run_results(plain)[0].get("provenance_hash") is None


def test_a_result_keeps_the_hash_it_names(store: Store):
    rid = store.start_run("h", "evidence", "1.0", {}, {}, provenance=PROVENANCE)
    res = DimensionResult(dimension="lens", status="scored", score=3.0, backend="evidence").model_dump()
    store.add_dimension_result(rid, res | {"provenance_hash": "made-with-this"})
    assert store.run_results(rid)[0]["provenance_hash"] == "made-with-this"
