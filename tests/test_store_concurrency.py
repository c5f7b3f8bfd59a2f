"""Issue 13.5: one results file shared by the app and CLI runs. A store holds no connection between operations,
waits a bounded time for another process's lock, and otherwise fails loudly; the CLI never falls back to memory."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from evalverse.config import Settings
from evalverse.errors import InputError, StoreError
from evalverse.judge.types import DimensionResult
from evalverse.media.synthetic import cuts_clip
from evalverse.store import Store

REPO = Path(__file__).resolve().parents[1]


def _env(db: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "EVALVERSE_DB": str(db), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), **extra}


def _result(dim: str, score: float = 3.0) -> dict:
    return DimensionResult(dimension=dim, status="scored", score=score, backend="evidence").model_dump()


def _holder(path: Path, seconds: float) -> subprocess.Popen:
    """Another process that opens the file read-write (as any DuckDB program would) and keeps it."""
    code = (f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
            f"time.sleep({seconds}); c.close(); print('released', flush=True); time.sleep(30)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _wait_until_unpinned(store: Store, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while store._db.pinned and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not store._db.pinned, "an idle store must not keep the file"


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return cuts_clip(tmp_path_factory.mktemp("clip") / "tiny.mp4", cut_frames=(10,), n=20).path


def test_an_open_store_leaves_the_file_to_other_processes(tmp_path: Path):
    path = tmp_path / "shared.duckdb"
    with Store.open(path) as store:  # held for the app's whole life
        store.put_evidence("h", "op", "1", "k", {"x": 1})
        assert store._db.pinned  # kept for the next call of a burst ...
        _wait_until_unpinned(store)  # ... and let go once this process is quiet
        other = subprocess.run(
            [sys.executable, "-c", f"import duckdb; c = duckdb.connect({str(path)!r}); "
             "print(c.execute('SELECT count(*) FROM evidence').fetchone()[0]); "
             "c.execute(\"INSERT INTO evidence VALUES ('h2', 'op', '1', 'k', '{}', now())\"); c.close()"],
            capture_output=True, text=True, timeout=60,
        )
        assert other.returncode == 0, other.stderr
        assert other.stdout.strip() == "1"
        assert store.get_evidence("h2", "op", "1", "k") == {}  # and this store sees what the other wrote


def test_a_busy_file_is_waited_for_then_used(tmp_path: Path):
    path = tmp_path / "wait.duckdb"
    Store.open(path).close()
    holder = _holder(path, 1.0)
    try:
        started = time.monotonic()
        with Store.open(path, lock_timeout_s=30) as store:
            waited = time.monotonic() - started
            store.put_evidence("h", "op", "1", "k", {"ok": True})
            assert store._db.lock_waits > 0 and 0.5 < waited < 30
    finally:
        holder.kill()
        holder.wait()
    with Store.open(path, read_only=True) as store:
        assert store.get_evidence("h", "op", "1", "k") == {"ok": True}


def test_a_write_that_cannot_get_the_lock_fails_and_stores_nothing(tmp_path: Path):
    path = tmp_path / "late.duckdb"
    store = Store.open(path, lock_timeout_s=0.3)
    holder = _holder(path, 60)
    try:
        with pytest.raises(StoreError, match="in use by another process"):
            store.start_run("h", "evidence", "1", {}, {})
    finally:
        holder.kill()
        holder.wait()
    assert store.list_runs() == []  # the failed start left no row behind
    store.close()


def test_cli_on_a_busy_file_exits_non_zero_without_a_run_id(tmp_path: Path, clip: Path):
    db = tmp_path / "busy.duckdb"
    Store.open(db).close()
    holder = _holder(db, 60)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "evalverse.cli", "diagnose", str(clip), "--dimensions", "materiality", "--json"],
            capture_output=True, text=True, timeout=120, env=_env(db, EVALVERSE_DB_LOCK_TIMEOUT="1"),
        )
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "in use by another process" in proc.stderr and "EVALVERSE_DB_LOCK_TIMEOUT" in proc.stderr
    assert "Traceback" not in proc.stderr and "in-memory" not in proc.stderr
    assert "run_id" not in proc.stdout  # nothing reported that was not stored


def test_a_busy_process_lets_a_waiting_one_in(tmp_path: Path):
    """A process writing without pause (it keeps the file between calls, see base.LINGER_S) still lets
    another process in well within that one's lock timeout: the waiter asks for a turn and gets it."""
    path = tmp_path / "hot.duckdb"
    store = Store.open(path)
    stop = threading.Event()
    writes = []

    def hot() -> None:
        while not stop.is_set():
            store.put_evidence("h", "op", "1", f"k{len(writes)}", {"i": len(writes)})
            writes.append(1)

    thread = threading.Thread(target=hot)
    thread.start()
    code = (f"import time; from evalverse.store import Store\ns = Store.open({str(path)!r}, lock_timeout_s=10)\n"
            "for i in range(10):\n    s.finish_run(s.start_run(f'v{i}', 'evidence', '1', {}, {}))\n"
            "print(s._db.lock_waits)")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        stop.set()
        thread.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 0 and len(writes) > 20  # it did have to wait, and the other kept writing
    assert store.run_counts()["finished"] == 10
    store.close()


def test_lock_timeout_comes_from_the_environment():
    os.environ["EVALVERSE_DB_LOCK_TIMEOUT"] = "2.5"
    try:
        assert Settings.from_env().db_lock_timeout_s == 2.5
        os.environ["EVALVERSE_DB_LOCK_TIMEOUT"] = "soon"
        with pytest.raises(InputError, match="EVALVERSE_DB_LOCK_TIMEOUT must be a number of seconds"):
            Settings.from_env()
        os.environ["EVALVERSE_DB_LOCK_TIMEOUT"] = "-1"
        with pytest.raises(InputError, match="EVALVERSE_DB_LOCK_TIMEOUT"):
            Settings.from_env()
    finally:
        del os.environ["EVALVERSE_DB_LOCK_TIMEOUT"]
    assert Settings.from_env().db_lock_timeout_s == 30.0


def test_app_falls_back_to_memory_only_when_the_file_is_unusable_at_start(tmp_path: Path, settings):
    settings = settings.model_copy(update={"db_lock_timeout_s": 0.3})
    Store.open(settings.db_path).close()
    holder = _holder(settings.db_path, 60)
    try:
        store, warning = Store.open_or_memory(settings)
    finally:
        holder.kill()
        holder.wait()
    with store:
        assert store.path == ":memory:" and "in use by another process" in warning and "in-memory" in warning


def test_two_stores_on_one_file_in_one_process_take_turns(tmp_path: Path):
    path = tmp_path / "twice.duckdb"
    a, b = Store.open(path), Store.open(str(path))
    errors: list[BaseException] = []

    def work(store: Store, tag: str) -> None:
        try:
            for i in range(15):
                rid = store.start_run(f"{tag}{i}", "evidence", "1", {}, {})
                store.add_dimension_result(rid, _result("lens"))
                store.finish_run(rid)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s, t)) for s, t in ((a, "a"), (b, "b"), (a, "c"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    runs = a.list_runs(limit=100)
    assert len(runs) == 45 and len({r["id"] for r in runs}) == 45
    assert all(r["status"] == "finished" and r["n_results"] == 1 for r in runs)
    with b.batch():  # a burst on one connection; a read-only store in the same process still reads meanwhile
        with Store.open(path, read_only=True) as ro:
            assert ro.counts()["eval_runs"] == 45
        b.put_evidence("h", "op", "1", "k", {})
    a.close()
    b.close()


def test_app_and_two_cli_runs_write_one_file_at_the_same_time(tmp_path: Path, clip: Path):
    """The acceptance test of 13.5: a store held open like the app's, writing runs and reading while two
    `evalverse diagnose` processes store theirs; every run is stored, none fails, ids are distinct."""
    db = tmp_path / "shared.duckdb"
    app_store = Store.open(db, lock_timeout_s=60)
    stop = threading.Event()
    app_runs: list[int] = []
    errors: list[BaseException] = []

    def app_like() -> None:  # the app: runs stored result by result, and tab reads in between
        try:
            i = 0
            while not stop.is_set() or i < 5:
                rid = app_store.start_run(f"app{i}", "evidence", "1", {"shots": "1"}, {"n": i})
                for dim in ("lens", "scene", "vocal"):
                    app_store.add_dimension_result(rid, _result(dim))
                    app_store.list_runs(limit=10)
                app_store.finish_run(rid)
                app_runs.append(rid)
                i += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=app_like)
    thread.start()
    cmd = [sys.executable, "-m", "evalverse.cli", "diagnose", str(clip), "--dimensions", "materiality,lighting",
           "--json", "--no-cache"]
    env = _env(db, EVALVERSE_DB_LOCK_TIMEOUT="60")
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    stop.set()
    thread.join(timeout=120)
    assert not errors, errors
    reports = []
    for proc, (out, err) in zip(procs, outs):
        assert proc.returncode == 0, err
        assert "in-memory" not in err and "warning" not in err.lower()
        reports.append(json.loads(out))
    cli_ids = [r["run_id"] for r in reports]
    all_ids = cli_ids + app_runs
    assert len(set(all_ids)) == len(all_ids) and len(app_runs) >= 5
    for rid in cli_ids:  # every reported run is in the file, finished, with the results the CLI printed
        run = app_store.get_run(rid)
        assert run is not None and run["status"] == "finished"
        assert [r["dimension"] for r in app_store.run_results(rid)] == [r["dimension"] for r in reports[cli_ids.index(rid)]["results"]]
    assert all(app_store.get_run(rid)["status"] == "finished" for rid in app_runs)
    app_store.close()
    with duckdb.connect(str(db), read_only=True) as con:  # and it is all on disk, seen by a fresh reader
        assert con.execute("SELECT count(*) FROM eval_runs WHERE finished_at IS NOT NULL").fetchone()[0] == len(all_ids)
