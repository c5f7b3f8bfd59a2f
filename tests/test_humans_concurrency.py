"""Many annotators at once never overwrite each other's work: threads sharing one store, and two processes
on one DuckDB file. Each process opens the store for each unit of work and retries while another process
holds the file (DuckDB lets one process open a file at a time; the store releases it between transactions
in the connection-per-operation design, and holds it while open in the current one: both pass)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from evalverse.humans.roles import issue_token
from evalverse.humans.service import AnnotationService
from evalverse.store import Store

REPO = Path(__file__).resolve().parents[1]
N_TASKS, REQUIRED = 6, 2


def _tasks(svc: AnnotationService) -> list[str]:
    return [svc.create_task({"case_key": f"c{i}", "required": REQUIRED, "dimensions": ["lens", "lighting"],
                             "outputs": [{"model": "A"}, {"model": "B"}]}) for i in range(N_TASKS)]


def _check(store: Store, expected_submissions: int) -> None:
    tasks = store.annotation_tasks()
    per_task = {t["uid"]: store.task_submissions(t["id"]) for t in tasks}
    assert sum(len(s) for s in per_task.values()) == expected_submissions
    for subs in per_task.values():
        who = [s["annotator"] for s in subs]
        assert len(set(who)) == REQUIRED  # exactly N independent annotators per task...
        assert len(who) == len({(s["annotator"], s["dimension"]) for s in subs})  # ...each label once
        assert all(s["note"] == f"by {s['annotator']}" for s in subs)  # nobody's label replaced by another's
    assert len(store.human_outcomes(source="app")) == expected_submissions


def _work(svc: AnnotationService, token: str, name: str) -> int:
    done = 0
    while (view := svc.next_task(token)) is not None:
        svc.submit(token, view.uid, [{"dimension": d["id"], "choice": "left", "note": f"by {name}"} for d in view.dimensions])
        done += 1
    return done


def test_threads_sharing_one_store(tmp_path):
    store = Store.open(tmp_path / "t.duckdb")
    svc = AnnotationService(store)
    _tasks(svc)
    people = {f"t{i}": issue_token(store, f"t{i}", "annotator").token for i in range(4)}
    counts, errors = {}, []

    def run(name: str) -> None:
        try:
            counts[name] = _work(AnnotationService(store), people[name], name)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=run, args=(n,)) for n in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(counts.values()) == N_TASKS * REQUIRED
    _check(store, N_TASKS * REQUIRED * 2)
    store.close()


CHILD = textwrap.dedent("""
    import random, sys, time
    from evalverse.errors import StoreError
    from evalverse.humans.service import AnnotationService
    from evalverse.store import Store

    path, token, name = sys.argv[1:4]

    def with_store(fn):
        deadline = time.monotonic() + 60
        while True:
            try:
                store = Store.open(path)
            except StoreError as exc:
                if "in use" not in str(exc) and "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0.005, 0.05))
                continue
            try:
                return fn(AnnotationService(store))
            finally:
                store.close()

    done = 0
    while True:
        view = with_store(lambda svc: svc.next_task(token))
        if view is None:
            break
        labels = [{"dimension": d["id"], "choice": "right", "note": "by " + name} for d in view.dimensions]
        with_store(lambda svc: svc.submit(token, view.uid, labels))
        done += 1
    print(done)
""")


@pytest.mark.slow  # two fresh interpreters importing the stack: about half a minute on the 2-core machine
def test_two_processes_on_one_database_file(tmp_path):
    path = tmp_path / "p.duckdb"
    with Store.open(path) as store:
        svc = AnnotationService(store)
        _tasks(svc)
        people = {n: issue_token(store, n, "annotator").token for n in ("proc1", "proc2")}
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(path), token, name], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name, token in people.items()]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    assert [int(o[0].strip()) for o in outs] == [N_TASKS, N_TASKS]  # each did every task: room for two on each
    with Store.open(path, read_only=True) as store:
        _check(store, N_TASKS * REQUIRED * 2)
