"""`bench run`: submissions with problems, resumable after kill -9, failures recorded, the cache reused."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench_support import DIMS, make_clips, submission, write_suite
from evalverse.bench.runner import run_bench
from evalverse.bench.submission import read_model_file, scan_submission
from evalverse.bench.suite import load_suite
from evalverse.bench.worker import Job, Snapshot, SnapshotStore, replay, snapshot_for
from evalverse.errors import DataError
from evalverse.store import Store

REPO = Path(__file__).resolve().parents[1]
JOB = Job(dimensions=tuple(DIMS.split(",")))


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench_clips")
    return {k: make_clips(root, 6, k) for k in (0, 1)}


def test_missing_extra_and_corrupt_files_are_reported_and_the_rest_evaluated(tmp_path, settings, clips):
    suite = load_suite(write_suite(tmp_path / "s.jsonl", 5))
    folder = submission(tmp_path / "sub", clips[0][:3])  # c0, c1, c2
    (folder / "c3.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(2000))  # corrupt
    (folder / "c9.mp4").write_bytes(b"x")  # no such case
    (folder / "readme.txt").write_text("hello")
    (folder / "c0-2.mp4").write_bytes(clips[0][4].read_bytes())  # seed 2 of c0
    sub = scan_submission(folder, suite, "m")
    assert sub.missing == ["c4"] and sub.extra == ["c9.mp4", "readme.txt"]
    assert [(i.case_id, i.seed) for i in sub.items] == [("c0", 0), ("c0", 2), ("c1", 0), ("c2", 0), ("c3", 0)]
    with Store.memory() as store:
        summary = run_bench(suite, sub, store, settings, JOB).as_dict()
        assert summary["done"] == 4 and summary["missing"] == ["c4"] and summary["extra"] == ["c9.mp4", "readme.txt"]
        assert summary["unreadable"] == ["c3.mp4"] and summary["failed"][0]["kind"] == "unreadable"
        items = store.bench.items()
        assert sorted(items.loc[items.status == "done", "case_id"]) == ["c0", "c0", "c1", "c2"]
        bad = items[items.case_id == "c3"].iloc[0]
        assert bad.status == "error" and "c3.mp4" in bad.error and bad.error_kind == "unreadable"
        assert pd.isna(bad.run_id)


def test_model_file_is_validated(tmp_path):
    (tmp_path / "model.yaml").write_text("name: m\norganisation: Lab\nopen_source: true\nparams_b: 2\nvram: 80\n")
    with pytest.raises(DataError, match="vram"):
        read_model_file(tmp_path / "model.yaml", "m")
    (tmp_path / "model.yaml").write_text("name: other\n")
    with pytest.raises(DataError, match="make them agree"):
        read_model_file(tmp_path / "model.yaml", "m")
    (tmp_path / "model.yaml").write_text("organisation: Lab\nopen_source: false\naudio: true\n")
    info = read_model_file(tmp_path / "model.yaml", "m")
    assert info.name == "m" and info.open_source is False and info.audio is True


def test_a_failing_case_is_recorded_and_the_run_goes_on(tmp_path, settings, clips, monkeypatch):
    import evalverse.pipeline as pipeline

    suite = load_suite(write_suite(tmp_path / "s.jsonl", 3))
    sub = scan_submission(submission(tmp_path / "sub", clips[0][:3]), suite, "m")
    real = pipeline.diagnose

    def flaky(path, *args, **kwargs):
        if Path(path).name == "c1.mp4":
            raise RuntimeError("judge exploded")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "diagnose", flaky)
    with Store.memory() as store:
        s = run_bench(suite, sub, store, settings, JOB)
        assert s.as_dict()["done"] == 2 and [f["case"] for f in s.failed] == ["c1"]
        assert "RuntimeError: judge exploded" in s.failed[0]["error"] and s.failed[0]["kind"] == "error"
        monkeypatch.setattr(pipeline, "diagnose", real)
        again = run_bench(suite, sub, store, settings, JOB)  # failures are retried, done items are not
        assert again.already_done == 2 and again.evaluated == 1 and not again.failed
        assert len(store.bench.items()) == 3


def test_the_cache_is_reused_across_models_and_requests(tmp_path, settings, clips):
    suite = load_suite(write_suite(tmp_path / "s.jsonl", 2))
    with Store.memory() as store:
        first = run_bench(suite, scan_submission(submission(tmp_path / "a", clips[1][:2]), suite, "a"), store, settings, JOB)
        assert first.computed == 2
        other = run_bench(suite, scan_submission(submission(tmp_path / "b", clips[1][:2]), suite, "b"), store, settings, JOB)
        assert other.cached == 2 and other.computed == 0  # the same files: served by the run cache
        wider = run_bench(suite, scan_submission(tmp_path / "a", suite, "a"), store, settings,
                          Job(dimensions=("visual_quality", "chromaticity", "lighting")))
        assert wider.already_done == 0 and wider.computed == 2  # a new request re-runs (evidence comes from the cache)
        assert store.counts()["evidence"] == len(store.bench.evidence_rows(store.bench.items().video_hash.iloc[0])) * 2


def test_snapshot_store_answers_like_the_store(settings, clips):
    """The worker's stand-in finds the same cached run the real store would, and replays to the same rows."""
    from evalverse.pipeline import diagnose

    with Store.memory() as real, Store.memory() as mirror:
        clip = clips[0][0]
        first = diagnose(clip, settings, store=real, dimensions=DIMS, prompt="p")
        snap = snapshot_for(real, first["content_hash"])
        stand_in = SnapshotStore(snap)
        again = diagnose(clip, settings, store=stand_in, dimensions=DIMS, prompt="p")
        assert again["cached"] and again["run_id"] == first["run_id"] and stand_in.calls == []
        other = diagnose(clip, settings, store=SnapshotStore(snap), dimensions=DIMS, prompt="another prompt")
        assert not other["cached"]
        fresh = SnapshotStore(Snapshot(video_hash=first["content_hash"]))
        report = diagnose(clip, settings, store=fresh, dimensions=DIMS, prompt="p")
        ids = replay(mirror, fresh.calls)
        run_id = ids[int(report["run_id"])]
        assert [r["score"] for r in mirror.run_results(run_id)] == [r["score"] for r in real.run_results(first["run_id"])]
        assert mirror.get_run(run_id)["finished_at"] is not None and mirror.counts()["evidence"] == real.counts()["evidence"]


def _cli(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "evalverse.cli", *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def test_kill_9_then_the_same_command_finishes_without_duplicates(tmp_path, clips):
    n = 6
    suite = write_suite(tmp_path / "s.jsonl", n)
    folder = submission(tmp_path / "sub", clips[0][:3] + clips[1][:3])
    db = tmp_path / "bench.duckdb"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "EVALVERSE_DATA": str(tmp_path / "data")}
    args = ("bench", "run", "--suite", str(suite), "--model", "m", "--videos", str(folder), "--db", str(db),
            "--dimensions", DIMS)
    proc = _cli(*args, "--stream", env=env)
    seen = []
    for line in proc.stdout:
        seen.append(json.loads(line))
        if len(seen) == 2:
            os.kill(proc.pid, signal.SIGKILL)  # mid-run: the third clip is being diagnosed
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL and len(seen) == 2
    done = subprocess.run([sys.executable, "-m", "evalverse.cli", *args, "--json"], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["already_done"] >= 2 and summary["done"] == n and not summary["failed"]
    assert summary["evaluated"] >= n - 3  # the killed run really left work for this one
    with Store.open(db, read_only=True) as store:
        items = store.bench.items()
        assert len(items) == n and set(items.case_id) == {f"c{i}" for i in range(n)} and (items.status == "done").all()
        finished = [r for h in items.video_hash for r in store.runs_for_video(h) if r["finished_at"] is not None]
        assert len(finished) == n  # one finished run per clip: nothing computed twice, nothing lost
        assert sorted(r["id"] for r in finished) == sorted(items.run_id.astype(int))
        for run_id in items.run_id:
            assert [r["dimension"] for r in store.run_results(int(run_id))] == DIMS.split(",")


class _DiesWhenUnpickled:
    """Sent to a worker process, it ends that process on arrival (as a crash in native code would)."""

    def __reduce__(self):
        return (os._exit, (3,))


def test_a_dead_worker_process_fails_its_clips_and_the_engine_goes_on(tmp_path, settings, clips):
    from evalverse.bench.engines import LocalEngine
    from evalverse.bench.submission import WorkItem

    items = [WorkItem(case_id=f"c{i}", seed=0, path=clips[0][i], prompt="p") for i in range(3)]
    engine = LocalEngine(settings, JOB, workers=2)
    try:
        outcomes = list(engine.map([(items[0], Snapshot()), (items[1], _DiesWhenUnpickled()), (items[2], Snapshot())]))
        by_key = {o.key: o for o in outcomes}
        assert sorted(by_key) == ["c0#0", "c1#0", "c2#0"] and len(outcomes) == 3  # one outcome each, none lost
        assert "worker process died" in by_key["c1#0"].error
        again = list(engine.map([(items[1], Snapshot())]))  # fresh workers took over
        assert again[0].report is not None and again[0].error is None
    finally:
        engine.close()


def test_a_changed_judge_operator_or_prompt_reruns_done_items(tmp_path, settings, clips, monkeypatch):
    from evalverse.operators.runner import get_operator

    path = write_suite(tmp_path / "s.jsonl", 2)
    suite = load_suite(path)
    folder = submission(tmp_path / "sub", clips[1][:2])
    with Store.memory() as store:
        run_bench(suite, scan_submission(folder, suite, "m"), store, settings, JOB)
        assert run_bench(suite, scan_submission(folder, suite, "m"), store, settings, JOB).already_done == 2
        monkeypatch.setattr(get_operator("quality"), "version", "99.0")  # a new operator version
        bumped = run_bench(suite, scan_submission(folder, suite, "m"), store, settings, JOB)
        assert bumped.already_done == 0 and bumped.computed == 2
        path.write_text(path.read_text().replace("test prompt number 1", "a new prompt"))
        edited = load_suite(path)
        again = run_bench(edited, scan_submission(folder, edited, "m"), store, settings, JOB)
        assert again.already_done == 1 and again.computed == 1
        assert len(store.bench.items()) == 2


def test_snapshot_store_reads_it_cannot_answer_are_nothing_stored_and_writes_are_recorded():
    snap = Snapshot(video_hash="h", video={"content_hash": "h", "meta": {"fps": 25}})
    st = SnapshotStore(snap)
    assert st.get_video("h")["meta"] == {"fps": 25} and st.get_video("other") is None
    assert st.find_resumable_run("h", "evidence", "1.0", provenance="p") is None and st.latest_evidence("h") is None
    run = st.start_run("h", "evidence", "1.0", {}, {}, provenance={"x": 1})
    st.add_dimension_result(run, {"dimension": "d"})
    st.heartbeat(run)  # a write the store may grow: recorded, replayed by name
    assert [c[0] for c in st.calls] == ["start_run", "add_dimension_result", "heartbeat"]
    assert st.calls[0][2]["provenance"] == {"x": 1}
