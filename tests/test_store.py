"""The DuckDB results store: evidence cache, runs and results, migrations, errors, concurrent readers."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from evalverse.errors import InputError, StoreError
from evalverse.judge.types import DimensionResult, QuestionAnswer
from evalverse.store import SCHEMA_VERSION, Store, settings_key
from evalverse.store import migrations


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "s.duckdb") as s:
        yield s


def _result(dim: str, score: float | None = 4.0, status: str = "scored", **kw) -> dict:
    return DimensionResult(dimension=dim, status=status, score=score, backend="evidence", **kw).model_dump()


# ---- evidence cache ----------------------------------------------------------------------------

def test_evidence_round_trip_replace_and_miss(store: Store):
    assert store.get_evidence("h1", "faces", "1.0", "p") is None
    record = {"status": "ok", "results": {"tracks": [[1, 2], [3, 4]], "mean": 0.25, "nan": float("nan")}}
    store.put_evidence("h1", "faces", "1.0", "p", record)
    got = store.get_evidence("h1", "faces", "1.0", "p")
    assert got["results"]["tracks"] == [[1, 2], [3, 4]] and got["results"]["mean"] == 0.25
    assert got["results"]["nan"] is None  # non-finite numbers are stored as null (strict JSON)
    # every part of the key matters
    assert store.get_evidence("h1", "faces", "1.1", "p") is None
    assert store.get_evidence("h1", "faces", "1.0", "q") is None
    assert store.get_evidence("h2", "faces", "1.0", "p") is None
    store.put_evidence("h1", "faces", "1.0", "p", {"status": "partial"})
    assert store.get_evidence("h1", "faces", "1.0", "p") == {"status": "partial"}
    assert store.counts()["evidence"] == 1


def test_latest_evidence_keeps_the_newest_record_per_operator(store: Store):
    store.put_evidence("h1", "faces", "1.0", "old", {"status": "ok", "results": {"v": 1}})
    store.put_evidence("h1", "faces", "1.1", "new", {"status": "ok", "results": {"v": 2}})
    store.put_evidence("h1", "audio", "1.0", "p", {"status": "skipped"})
    store.put_evidence("h2", "faces", "1.0", "p", {"status": "ok", "results": {"v": 3}})
    latest = store.latest_evidence("h1")
    assert set(latest) == {"faces", "audio"} and latest["faces"]["results"] == {"v": 2}
    assert store.latest_evidence("nope") == {}


def test_numpy_values_are_stored_as_plain_json(store: Store):
    np = pytest.importorskip("numpy")
    store.put_evidence("h", "quality", "1", "k", {"arr": np.arange(3), "x": np.float32(1.5), "n": np.int64(7)})
    assert store.get_evidence("h", "quality", "1", "k") == {"arr": [0, 1, 2], "x": 1.5, "n": 7}


def test_videos_upsert(store: Store):
    store.upsert_video("abc", "/v/a.mp4", {"duration_s": 5.0, "fps": 24})
    store.upsert_video("abc", "/v/moved.mp4", {"duration_s": 5.0, "fps": 24}, model="LTX2")
    v = store.get_video("abc")
    assert v["path"] == "/v/moved.mp4" and v["meta"]["fps"] == 24 and v["model"] == "LTX2"
    store.upsert_video("abc", "/v/moved.mp4", {"fps": 25})  # model not given: kept
    assert store.get_video("abc")["model"] == "LTX2"
    assert store.get_video("nope") is None


# ---- runs and results --------------------------------------------------------------------------

def test_run_results_round_trip_in_order(store: Store):
    rid = store.start_run("h", "evidence", "0.1", {"faces": "1.0"}, {"fps": 2, "seed": 0}, prompt="a man walks", mode="t2v")
    first = DimensionResult(
        dimension="lens", status="scored", score=3.5, backend="evidence", rationale="sharp",
        answers=[QuestionAnswer(question_id="q_focus", answer=True, score=1.0, basis="laplacian 412")],
        sub_scores={"focus": 4.0, "exposure": None}, evidence_used=["quality"],
    )
    store.add_dimension_result(rid, first)  # the model itself is accepted
    store.add_dimension_result(rid, _result("vocal", None, "gated", gate_reason="no audio stream"))
    store.add_dimension_result(rid, _result("character", 2.0))
    results = store.run_results(rid)
    assert [r["dimension"] for r in results] == ["lens", "vocal", "character"]
    assert DimensionResult.model_validate(results[0]) == first
    assert results[1]["gate_reason"] == "no audio stream" and results[1]["score"] is None
    # a second result for the same dimension replaces the first
    store.add_dimension_result(rid, _result("character", 5.0))
    results = store.run_results(rid)
    assert len(results) == 3 and results[-1]["score"] == 5.0
    run = store.get_run(rid)
    assert run["settings"] == {"fps": 2, "seed": 0} and run["operator_versions"] == {"faces": "1.0"}
    assert run["finished_at"] is None and run["mode"] == "t2v"
    with store._cursor() as cur:
        subs = cur.execute(
            "SELECT sub_dimension, status, score FROM sub_dimension_results WHERE run_id = ? ORDER BY sub_dimension", [rid]
        ).fetchall()
    assert subs == [("exposure", "not_judged", None), ("focus", "scored", 4.0)]


def test_find_cached_run_matches_exact_inputs_of_finished_runs(store: Store):
    settings = {"fps": 2, "params": {"b": 1, "a": [1, 2]}}
    rid = store.start_run("h", "evidence", "0.1", {"faces": "1.0"}, settings, prompt="p")
    store.add_dimension_result(rid, _result("lens"))
    assert store.find_cached_run("h", "evidence", "0.1", settings, prompt="p") is None  # not finished yet
    store.finish_run(rid)
    same_other_order = {"params": {"a": [1, 2], "b": 1}, "fps": 2}
    assert store.find_cached_run("h", "evidence", "0.1", settings_key(same_other_order), prompt="p") == rid
    assert store.find_cached_run("h", "evidence", "0.1", same_other_order, prompt="p") == rid
    assert store.find_cached_run("h", "evidence", "0.1", {"fps": 3}, prompt="p") is None
    assert store.find_cached_run("h", "evidence", "0.2", settings, prompt="p") is None
    assert store.find_cached_run("h", "openai", "0.1", settings, prompt="p") is None
    assert store.find_cached_run("other", "evidence", "0.1", settings, prompt="p") is None
    assert store.find_cached_run("h", "evidence", "0.1", settings) is None  # prompt differs (None)
    assert store.find_cached_run("h", "evidence", "0.1", settings, prompt="p", operator_versions={"faces": "2.0"}) is None
    assert store.find_cached_run("h", "evidence", "0.1", settings, prompt="p", operator_versions={"faces": "1.0"}) == rid
    # the newest finished run wins
    rid2 = store.start_run("h", "evidence", "0.1", {"faces": "1.0"}, settings, prompt="p")
    store.finish_run(rid2)
    assert store.find_cached_run("h", "evidence", "0.1", settings, prompt="p") == rid2


def test_bad_run_calls_are_clear(store: Store):
    with pytest.raises(InputError, match="no evaluation run"):
        store.add_dimension_result(999, _result("lens"))
    with pytest.raises(InputError, match="no evaluation run"):
        store.finish_run(999)
    rid = store.start_run("h", "evidence", "0.1", {}, {})
    with pytest.raises(InputError, match="dimension"):
        store.add_dimension_result(rid, {"status": "scored", "backend": "x"})
    with pytest.raises(InputError, match="status"):  # outside the contract: refused, nothing stored
        store.add_dimension_result(rid, {"dimension": "lens", "status": "great", "backend": "x"})
    assert store.run_results(rid) == []


def test_machine_scores_join_model(store: Store):
    store.upsert_video("v1", "/a.mp4", {}, model="LTX2", test_case_id=7)
    rid = store.start_run("v1", "evidence", "0.1", {}, {})
    store.add_dimension_result(rid, _result("lens", 3.0))
    assert store.machine_scores().empty  # unfinished runs are left out by default
    store.finish_run(rid)
    df = store.machine_scores("lens")
    assert df[["model", "test_case_id", "dimension", "score"]].values.tolist() == [["LTX2", 7, "lens", 3.0]]


# ---- human judgments, models, leaderboard ------------------------------------------------------

def test_human_judgments_and_qa(store: Store):
    tc = store.add_test_case("a woman looks out of a rainy window", "t2v", ["ref.png"])
    assert store.test_cases()[0]["reference_assets"] == ["ref.png"]
    j1 = store.add_pairwise("lens", "A", "B", "a", "ann1", qa_status="pass", test_case_id=tc)
    j2 = store.add_pairwise("lens", "A", "C", "tie", "ann1")
    store.add_pairwise("scene", "B", "C", "b", "ann2", qa_status="fail")
    assert store.pairwise_judgments()["id"].tolist() == [j1]
    assert len(store.pairwise_judgments(qa_status=None)) == 3
    store.set_qa_status("pairwise", j2, "pass")
    assert store.pairwise_judgments("lens")["winner"].tolist() == ["a", "tie"]
    with pytest.raises(InputError, match="winner"):
        store.add_pairwise("lens", "A", "B", "A", "ann1")
    with pytest.raises(InputError, match="QA status"):
        store.add_pairwise("lens", "A", "B", "a", "ann1", qa_status="ok")
    with pytest.raises(InputError, match="two different"):
        store.add_pairwise("lens", "A", "A", "a", "ann1")
    with pytest.raises(InputError, match="no pairwise"):
        store.set_qa_status("pairwise", 12345, "pass")
    p = store.add_pointwise("lens", "A", 4, "ann3", qa_status="pass", test_case_id=tc)
    assert store.pointwise_judgments()[["id", "model", "score"]].values.tolist() == [[p, "A", 4.0]]
    with pytest.raises(InputError, match="number"):
        store.add_pointwise("lens", "A", "good", "ann3")


def test_models_and_win_ratios_replace_atomically(store: Store):
    store.upsert_model("LTX2", organisation="Lightricks", open_source=True, params_b=19, audio=True)
    store.upsert_model("LTX2", organisation="Lightricks", open_source=True, params_b=19, audio=True, notes="again")
    assert [(m["name"], m["params_b"], m["audio"], m["notes"]) for m in store.models()] == [("LTX2", 19.0, True, "again")]
    rows = [{"dimension": "lens", "model": "LTX2", "machine_win_ratio": 0.46, "human_win_ratio": 0.16}]
    assert store.replace_win_ratios("paper", rows) == 1
    bad = rows + [{"dimension": "scene", "model": "LTX2", "machine_win_ratio": 1.5, "human_win_ratio": 0.2}]
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        store.replace_win_ratios("paper", bad)
    df = store.win_ratios("paper")
    assert df[["dimension", "model", "machine_win_ratio"]].values.tolist() == [["lens", "LTX2", 0.46]]
    assert store.win_ratio_sources() == ["paper"]


# ---- opening, migrations, errors ---------------------------------------------------------------

def test_creates_missing_parent_folders_and_persists(tmp_path: Path):
    path = tmp_path / "a" / "b" / "c.duckdb"
    with Store.open(path) as s:
        s.put_evidence("h", "op", "1", "k", {"x": 1})
        assert s.schema_version == SCHEMA_VERSION
    with Store.open(path, read_only=True) as s:
        assert s.get_evidence("h", "op", "1", "k") == {"x": 1}
        with pytest.raises(StoreError, match="read-only"):
            s.put_evidence("h", "op", "1", "k", {"x": 2})


def test_old_database_is_upgraded(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    assert migrations.migrate(con, migrations.MIGRATIONS[:1]) == [1]
    con.execute("INSERT INTO videos (content_hash, path, meta, added_at, updated_at) VALUES ('h', '/x', '{}', now(), now())")
    con.close()
    with pytest.raises(StoreError, match="upgrade"):
        Store.open(path, read_only=True)  # read-only cannot migrate: told how to fix
    with Store.open(path) as s:
        assert s.schema_version == SCHEMA_VERSION > 1
        assert s.get_video("h")["path"] == "/x" and s.get_video("h")["model"] is None
        s.upsert_model("M")  # a table from a later migration
    with duckdb.connect(str(path)) as con:
        versions = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_newer_database_is_refused(tmp_path: Path):
    path = tmp_path / "new.duckdb"
    Store.open(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO schema_version VALUES (99, 'future', now())")
    with pytest.raises(StoreError, match="schema version 99"):
        Store.open(path)


def test_unusable_paths_raise_store_error_and_app_falls_back(tmp_path: Path, settings):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store.open(blocker / "sub" / "db.duckdb")
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "missing.duckdb", read_only=True)
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"this is not a database" * 400)
    with pytest.raises(StoreError):
        Store.open(garbage)
    bad_settings = settings.model_copy(update={"db_path": blocker / "db.duckdb"})
    store, warning = Store.open_or_memory(bad_settings)
    with store:
        assert store.path == ":memory:" and "in-memory" in warning and str(blocker) in warning
        store.put_evidence("h", "op", "1", "k", {"ok": True})  # still usable
        assert store.get_evidence("h", "op", "1", "k") == {"ok": True}
    good, warning = Store.open_or_memory(settings)
    with good:
        assert warning is None and Path(good.path) == settings.db_path and settings.db_path.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_explained(tmp_path: Path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="read-only"):
            Store.open(folder / "db.duckdb")
    finally:
        folder.chmod(0o755)


def test_database_in_use_by_another_process(tmp_path: Path):
    path = tmp_path / "busy.duckdb"
    Store.open(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); print('ok', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"in use by another process \(.*PID \d+\) and stayed locked for 0.5 s"):
            Store.open(path, lock_timeout_s=0.5)
        assert time.monotonic() - started >= 0.5  # it waited for the lock before giving up
    finally:
        holder.kill()
        holder.wait()


def test_closed_store_raises(tmp_path: Path):
    s = Store.open(tmp_path / "c.duckdb")
    s.close()
    s.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        s.get_evidence("h", "op", "1", "k")


def test_concurrent_readers_while_writing(store: Store):
    rid = store.start_run("h", "evidence", "0.1", {}, {})
    for i in range(5):
        store.add_dimension_result(rid, _result(f"d{i}", float(i % 5 + 1)))
    store.finish_run(rid)
    errors: list[BaseException] = []
    seen: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                assert len(store.run_results(rid)) == 5
                store.get_evidence("h", "op", "1", "k0")
                seen.append(store.counts()["evidence"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def writer(offset: int) -> None:
        try:
            for i in range(20):
                store.put_evidence("h", "op", "1", f"k{offset + i}", {"i": offset + i})
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    writers = [threading.Thread(target=writer, args=(o,)) for o in (0, 100)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(timeout=60)
    time.sleep(0.05)
    stop.set()
    for t in readers:
        t.join(timeout=60)
    assert not errors, errors
    assert store.counts()["evidence"] == 40
    assert seen and all(0 <= n <= 40 for n in seen)  # readers saw committed states only
    assert store.get_evidence("h", "op", "1", "k119") == {"i": 119}
