"""Issue 13.6: runs that were started and never finished are found interrupted (their owner is gone), shown
as such, never served, and can be pruned or resumed; `evalverse runs list|prune`."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from evalverse.cli import app
from evalverse.errors import InputError
from evalverse.judge.types import DimensionResult
from evalverse.store import Store, migrations
from evalverse.store.base import utc_now
from evalverse.store.lifecycle import process_start

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _result(dim: str, score: float = 3.0) -> dict:
    return DimensionResult(dimension=dim, status="scored", score=score, backend="evidence").model_dump()


def _killed_run(path: Path, dims: tuple[str, ...] = ("lens",), video: str = "h", settings: str = "{}") -> int:
    """A process that starts a run, stores some results and dies without finishing it (os._exit: no cleanup)."""
    code = (
        "import os, sys; from evalverse.store import Store; from evalverse.judge.types import DimensionResult as D\n"
        f"s = Store.open({str(path)!r}); rid = s.start_run({video!r}, 'evidence', '1', {{'shots': '1'}}, {settings}, mode='t2v')\n"
        f"for d in {list(dims)!r}: s.add_dimension_result(rid, D(dimension=d, status='scored', score=2.0, backend='evidence'))\n"
        "print(rid, flush=True); os._exit(9)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 9, proc.stderr
    return int(proc.stdout.strip())


def _set(path_or_store, sql: str, params: list) -> None:
    with path_or_store._write() as con:
        con.execute(sql, params)


def test_a_killed_run_is_interrupted_listed_never_served_and_resumable(tmp_path: Path):
    path = tmp_path / "k.duckdb"
    Store.open(path).close()
    dead = _killed_run(path, ("lens", "scene"))
    with Store.open(path, read_only=True) as ro:  # a reader sees the status without marking anything
        assert ro.get_run(dead)["status"] == "interrupted" and ro.get_run(dead)["interrupted_at"] is None
        assert [r["id"] for r in ro.list_runs(status="interrupted")] == [dead]
    with Store.open(path) as store:  # a writable open marks it
        run = store.get_run(dead)
        assert run["status"] == "interrupted" and run["interrupted_at"] is not None and run["owner_pid"] > 0
        assert store.find_cached_run("h", "evidence", "1", {}, mode="t2v") is None
        assert store.find_resumable_run("h", "evidence", "1", {}, mode="t2v", operator_versions={"shots": "1"}) == dead
        assert store.find_resumable_run("h", "evidence", "1", {}, mode="t2v", operator_versions={"shots": "2"}) is None
        live = store.start_run("h", "evidence", "1", {"shots": "1"}, {}, mode="t2v")  # this process: running
        assert store.get_run(live)["status"] == "running"
        assert store.find_resumable_run("h", "evidence", "1", {}, mode="t2v") == dead  # a running one is not offered
        listed = {r["id"]: r for r in store.list_runs()}
        assert listed[dead]["status"] == "interrupted" and listed[dead]["n_results"] == 2
        assert listed[live]["status"] == "running" and listed[live]["owner"] == f"{socket.gethostname()}:{os.getpid()}"
        assert store.run_counts() == {"running": 1, "finished": 0, "interrupted": 1}

        resumed = store.resume_run(dead)  # take it over: judge what is missing, then finish it
        assert resumed["done"] == ["lens", "scene"] and resumed["run"]["status"] == "running"
        assert resumed["run"]["owner_pid"] == os.getpid()
        store.add_dimension_result(dead, _result("vocal"))
        store.finish_run(dead)
        assert store.find_cached_run("h", "evidence", "1", {}, mode="t2v") == dead
        assert [r["dimension"] for r in store.run_results(dead)] == ["lens", "scene", "vocal"]
        with pytest.raises(InputError, match="finished"):
            store.resume_run(dead)
        with pytest.raises(InputError, match="no evaluation run"):
            store.resume_run(12345)


def test_a_run_owned_by_a_live_process_is_running_and_cannot_be_taken(tmp_path: Path):
    path = tmp_path / "live.duckdb"
    Store.open(path).close()
    code = ("import time; from evalverse.store import Store\n"
            f"s = Store.open({str(path)!r}); print(s.start_run('h', 'evidence', '1', {{}}, {{}}), flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        rid = int(proc.stdout.readline())
        with Store.open(path) as store:
            assert store.get_run(rid)["status"] == "running"
            assert store.prune_runs(0) == []
            with pytest.raises(InputError, match=f"still running \\(PID {proc.pid}"):
                store.resume_run(rid)
    finally:
        proc.kill()
        proc.wait()
    with Store.open(path) as store:
        assert store.get_run(rid)["status"] == "interrupted"


def test_owner_checks_cover_pid_reuse_and_other_hosts(tmp_path: Path):
    with Store.open(tmp_path / "o.duckdb") as store:
        reused, remote_old, remote_new = (store.start_run(h, "evidence", "1", {}, {}) for h in ("a", "b", "c"))
        mine = process_start(os.getpid())
        assert mine is not None  # Linux: the start time is known
        _set(store, "UPDATE eval_runs SET owner_start = ? WHERE id = ?", [mine + 1, reused])  # same pid, later process
        old = utc_now() - timedelta(hours=2)
        _set(store, "UPDATE eval_runs SET owner_host = 'elsewhere', heartbeat_at = ? WHERE id = ?", [old, remote_old])
        _set(store, "UPDATE eval_runs SET owner_host = 'elsewhere' WHERE id = ?", [remote_new])
        assert store.get_run(reused)["status"] == "interrupted"
        assert store.get_run(remote_old)["status"] == "interrupted"  # no heartbeat for two hours
        assert store.get_run(remote_new)["status"] == "running"  # may still be working there
        assert sorted(store.mark_interrupted()) == [reused, remote_old]
        store.heartbeat(remote_new)
        with pytest.raises(InputError, match="no evaluation run"):
            store.heartbeat(999)


def test_prune_deletes_only_interrupted_runs_older_than_asked(tmp_path: Path):
    path = tmp_path / "p.duckdb"
    Store.open(path).close()
    old, recent = _killed_run(path, ("lens", "scene")), _killed_run(path, ("lens",))
    with Store.open(path) as store:
        done = store.start_run("h", "evidence", "1", {}, {})
        store.add_dimension_result(done, _result("lens"))
        store.finish_run(done)
        _set(store, "UPDATE eval_runs SET started_at = ? WHERE id = ?", [utc_now() - timedelta(days=10), old])
        assert store.prune_runs(7 * 86400, dry_run=True) == [old]
        assert store.get_run(old) is not None  # a dry run changes nothing
        assert store.prune_runs(7 * 86400) == [old]
        assert store.get_run(old) is None and store.run_results(old) == []
        with store._cursor() as cur:
            assert cur.execute("SELECT count(*) FROM sub_dimension_results WHERE run_id = ?", [old]).fetchone()[0] == 0
        assert store.prune_runs() == [recent]
        assert [r["id"] for r in store.list_runs()] == [done]  # a finished run is never pruned
        with pytest.raises(InputError, match="older-than"):
            store.prune_runs(-1)


def test_unfinished_runs_of_an_older_schema_are_marked_by_the_migration(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    migrations.migrate(con, migrations.MIGRATIONS[:2])
    con.execute("INSERT INTO eval_runs (video_hash, judge_backend, judge_version, operator_versions, settings, "
                "settings_key, started_at) VALUES ('h', 'evidence', '1', '{}', '{}', 'k', now()::TIMESTAMP)")
    con.close()
    with Store.open(path) as store:
        (run,) = store.list_runs()
        assert run["status"] == "interrupted" and run["owner"] is None
        assert store.prune_runs() == [run["id"]]


def test_listing_pages_by_id_and_filters_by_status(tmp_path: Path):
    with Store.open(tmp_path / "l.duckdb") as store:
        ids = []
        for i in range(7):
            rid = store.start_run(f"v{i}", "evidence", "1", {}, {})
            if i % 2 == 0:
                store.finish_run(rid)
            ids.append(rid)
        first = store.list_runs(limit=3)
        second = store.list_runs(limit=3, before_id=first[-1]["id"])
        third = store.list_runs(limit=3, before_id=second[-1]["id"])
        assert [r["id"] for r in first + second + third] == ids[::-1]
        assert [r["id"] for r in store.list_runs(status="finished", limit=10)] == ids[::2][::-1]
        assert [r["id"] for r in store.list_runs(status="running", limit=10)] == ids[1::2][::-1]
        assert store.list_runs(video_hash="v3")[0]["id"] == ids[3]
        with pytest.raises(InputError, match="status"):
            store.list_runs(status="done")
        with pytest.raises(InputError, match="at least one"):
            store.list_runs(limit=0)


def test_runs_cli_lists_and_prunes(tmp_path: Path):
    db = tmp_path / "cli.duckdb"
    Store.open(db).close()
    dead = _killed_run(db)
    with Store.open(db) as store:
        done = store.start_run("h2", "evidence", "1", {}, {})
        store.finish_run(done)
    listed = runner.invoke(app, ["runs", "list", "--json", "--db", str(db)])
    assert listed.exit_code == 0, listed.output
    rows = {r["id"]: r for r in json.loads(listed.stdout)}
    assert rows[dead]["status"] == "interrupted" and rows[done]["status"] == "finished"
    text = runner.invoke(app, ["runs", "list", "--db", str(db), "--limit", "1"])
    assert text.exit_code == 0 and "interrupted" in text.stdout and f"--before {done}" in text.stdout
    dry = runner.invoke(app, ["runs", "prune", "--dry-run", "--older-than", "1h", "--db", str(db)])
    assert dry.exit_code == 0 and "would delete 0" in dry.stdout  # it started seconds ago
    pruned = runner.invoke(app, ["runs", "prune", "--db", str(db)])
    assert pruned.exit_code == 0 and "deleted 1 interrupted run(s)" in pruned.stdout and str(dead) in pruned.stdout
    with Store.open(db, read_only=True) as store:
        assert store.get_run(dead) is None and store.get_run(done)["status"] == "finished"
    env = {**os.environ, "EVALVERSE_DB": str(db), "PYTHONPATH": str(REPO)}
    for args, message in ((["prune", "--older-than", "soon"], "--older-than takes a duration"),
                          (["list", "--status", "done"], "--status must be one of")):
        proc = subprocess.run([sys.executable, "-m", "evalverse.cli", "runs", *args], capture_output=True, text=True,
                              env=env, timeout=60)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("text,seconds", [("90", 90), ("90s", 90), ("15m", 900), ("1.5h", 5400), ("7d", 604800), ("2w", 1209600)])
def test_durations(text: str, seconds: float):
    from evalverse.commands.runs import parse_duration

    assert parse_duration(text) == seconds
