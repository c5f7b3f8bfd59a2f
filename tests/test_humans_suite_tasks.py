"""Annotation tasks from a suite: one per case two or more models have clips for, the suite's test case,
reference and real clip carried over, gates decided from each clip's stored evidence, idempotent, and the
`evalverse humans tasks create | list` commands (bench items or a submission folder; bad input: one line, exit 2)."""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from annotate_support import MODELS, SUITE, build
from evalverse.cli import app
from evalverse.errors import InputError
from evalverse.humans.service import AnnotationService
from evalverse.humans.suite_tasks import create_suite_tasks, parse_models
from evalverse.store import Store

GATED_BY_EVIDENCE = {"vocal", "soundscape", "logic", "rhythm"}  # silent single-shot clips


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The world built once (clips, suite, bench items, evidence of c0's clips), its database closed."""
    from evalverse.config import Settings

    root = tmp_path_factory.mktemp("suite_tasks")
    settings = Settings(data_dir=root, db_path=root / "ev.duckdb", models_dir=root / "models")
    with Store.open(settings.db_path) as store:
        w = build(root, store, settings, preseed=False, create=False, n_boot=20,
                  clips_root=tmp_path_factory.getbasetemp() / "annotate_clips")
    return w, settings


@pytest.fixture
def world(base, tmp_path):
    """A copy of the built database for each test."""
    w, settings = base
    db = tmp_path / "ev.duckdb"
    shutil.copyfile(settings.db_path, db)
    store = Store.open(db)
    yield store, w, settings.model_copy(update={"db_path": db})
    store.close()


def test_one_task_per_case_with_the_cases_facts_and_gates_from_stored_evidence(world):
    store, w, _ = world
    svc = AnnotationService(store, rng=random.Random(3))
    out = create_suite_tasks(svc, w.suite, list(MODELS), required=2)
    assert [t["case"] for t in out.created] == [f"c{i}" for i in range(6)] and not out.skipped
    tasks = {t["case_key"]: t for t in store.annotation_tasks(suite=SUITE)}
    cases = store.bench.cases(SUITE).set_index("case_id")
    c0 = tasks["c0"]
    assert c0["test_case_id"] == cases.loc["c0", "test_case_id"] and c0["required"] == 2
    assert c0["ground_truth"] == str(w.truth) and c0["prompt"] == w.suite.case("c0").prompt
    assert {o["model"]: o["video_path"] for o in c0["outputs"]} == {m: str(w.clips[(m, "c0")]) for m in MODELS}
    assert all(o["video_hash"] for o in c0["outputs"])
    # c0's clips have stored evidence (probe + shots): no audio, one shot, so sound and multi-shot are gated
    assert out.created[0]["gates_from"] == "evidence"
    assert not GATED_BY_EVIDENCE & set(c0["dimensions"]) and {"visual_quality", "lens"} <= set(c0["dimensions"])
    # c1's have none: only the case can close a gate, so what evidence would decide stays open
    assert out.created[1]["gates_from"] == "case only" and GATED_BY_EVIDENCE <= set(tasks["c1"]["dimensions"])


def test_creating_again_adds_nothing_and_a_case_needs_two_models(world):
    store, w, _ = world
    svc = AnnotationService(store)
    store.bench.record_item({"suite": SUITE, "model": "gamma", "judge": "evidence", "case_id": "c2", "seed": 0,
                             "path": str(w.clips[("alpha", "c2")]), "video_hash": None, "request_key": "r",
                             "judge_version": "1.0", "status": "done", "run_id": None})
    first = create_suite_tasks(svc, w.suite, list(MODELS), dimensions=["lens"])
    again = create_suite_tasks(svc, w.suite, list(MODELS), dimensions=["lens"])
    assert len(first.created) == 6 and not again.created and again.existing == [f"c{i}" for i in range(6)]
    three = create_suite_tasks(svc, w.suite, ["alpha", "beta", "gamma"], dimensions=["lens"])
    assert [t["case"] for t in three.created] == ["c2"] and three.created[0]["models"] == ["alpha", "beta", "gamma"]
    other = create_suite_tasks(svc, w.suite, ["alpha", "gamma"], dimensions=["lens"])
    assert [t["case"] for t in other.created] == ["c2"] and other.skipped["c0"] == "only alpha has a clip"
    with pytest.raises(InputError, match="two or more"):
        parse_models("alpha")
    with pytest.raises(InputError, match="twice"):
        parse_models("alpha,alpha")
    with pytest.raises(InputError, match="no clips of"):
        create_suite_tasks(svc, w.suite, ["x", "y"])


def test_cli_creates_from_bench_items_or_a_submission_folder_and_lists(world, tmp_path):
    store, w, settings = world
    store.close()  # the CLI opens the file itself
    runner = CliRunner()
    folder = tmp_path / "beta_submission"
    folder.mkdir()
    for i in range(3):
        shutil.copyfile(w.clips[("beta", f"c{i}")], folder / f"c{i}.mp4")
    db = ["--db", str(settings.db_path)]
    res = runner.invoke(app, ["humans", "tasks", "create", "--suite", str(w.suite_path), "--models", "alpha,beta",
                              "--videos", f"beta={folder}", "--annotations", "2", "--json", *db])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [t["case"] for t in out["created"]] == ["c0", "c1", "c2"]  # beta's folder has three clips
    assert set(out["skipped"]) == {"c3", "c4", "c5"}
    listed = runner.invoke(app, ["humans", "tasks", "list", "--json", *db])
    assert listed.exit_code == 0 and [r["annotations"] for r in json.loads(listed.stdout)] == [0, 0, 0]
    text = runner.invoke(app, ["humans", "tasks", "create", "--suite", str(w.suite_path), "--models", "alpha,beta", *db])
    assert text.exit_code == 0 and "3 already there" in text.output  # the bench items of c3-c5 make new tasks
    assert "3 task(s) created" in text.output
    for bad, why in ((["--models", "alpha"], "two or more"), (["--models", "alpha,beta", "--videos", "gamma=/x"], "not one of"),
                     (["--models", "alpha,beta", "--videos", "beta"], "MODEL=DIR")):
        res = runner.invoke(app, ["humans", "tasks", "create", "--suite", str(w.suite_path), *bad, *db])
        assert res.exit_code != 0 and why in str(res.exception)
    # through the real entry point: one line on stderr, exit 2
    proc = subprocess.run([sys.executable, "-m", "evalverse.cli", "humans", "tasks", "create", "--suite", str(w.suite_path),
                           "--models", "alpha", *db], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "two or more" in proc.stderr
