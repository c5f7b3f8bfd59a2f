"""A stored run reopened from the store alone: nothing probed, decoded or computed, the evidence that run used (not
another run's), the same cards as when it was made; `evalverse runs show|list` on the command line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalverse.cli import app
from evalverse.errors import InputError
from evalverse.media.synthetic import cuts_clip
from evalverse.pipeline import diagnose_stream
from evalverse.replay import run_evidence, stored_report, stored_stream
from evalverse.store import Store
from evalverse.taxonomy import load_taxonomy
from evalverse.ui import diagnose_session as session

runner = CliRunner()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One diagnosed clip in a file store: (settings, db path, fresh events, run id)."""
    from evalverse.config import Settings

    root = tmp_path_factory.mktemp("stored")
    settings = Settings(data_dir=root, db_path=root / "ev.duckdb", models_dir=root / "models")
    clip = cuts_clip(root / "two_shots.mp4", cut_frames=(20,), n=50).path
    with Store.open(settings.db_path) as store:
        events = list(diagnose_stream(clip, settings, store=store, prompt="a test card"))
    return settings, settings.db_path, events, events[-1]["report"]["run_id"]


@pytest.fixture
def no_compute(monkeypatch):
    """Probing, decoding, running an operator or judging would fail the test."""
    def refuse(*a, **k):
        raise AssertionError("a stored run must not compute anything")

    import evalverse.media
    import evalverse.operators.runner
    import evalverse.pipeline

    for mod, name in ((evalverse.media, "probe_video"), (evalverse.media, "decode_video"),
                      (evalverse.operators.runner, "run_one"), (evalverse.operators.runner, "iter_operators"),
                      (evalverse.pipeline, "make_judge")):
        monkeypatch.setattr(mod, name, refuse)


def test_a_finished_run_keeps_what_each_operator_did(made):
    _, db, events, run_id = made
    with Store.open(db) as store:
        run = store.get_run(run_id)
    done = {e["operator"]: e for e in events if e["type"] == "operator_done"}
    assert set(run["operators"]) == set(done)
    assert all(run["operators"][n]["status"] == e["status"] for n, e in done.items())


def test_the_stored_stream_replays_the_run_without_computing(made, no_compute):
    _, db, events, run_id = made
    with Store.open(db) as store:
        stored = list(stored_stream(store, run_id))
    types = [e["type"] for e in stored]
    assert types[:3] == ["start", "probe", "stored"] and types[-1] == "report"
    assert "decode" not in types and "operator_start" not in types and "judge" not in types
    fresh = {e["dimension"]: e["result"] for e in events if e["type"] == "dimension_done"}
    again = {e["dimension"]: e["result"] for e in stored if e["type"] == "dimension_done"}
    assert again == fresh
    # the evidence is the run's own: every usable operator's results as they were computed
    fresh_ev = {e["operator"]: e for e in events if e["type"] == "operator_done"}
    stored_ev = {e["operator"]: e for e in stored if e["type"] == "operator_done"}
    assert set(stored_ev) == set(fresh_ev)
    for name, e in fresh_ev.items():
        if e["status"] in ("ok", "partial"):
            assert stored_ev[name]["results"] == e["results"], name
        else:
            assert stored_ev[name]["status"] == e["status"]
    report = stored[-1]["report"]
    assert report["stored"] is True and report["provenance"]["hash"] == events[-1]["report"]["provenance"]["hash"]
    json.dumps(report, default=str)


def test_another_runs_newer_evidence_is_not_taken_for_this_runs(made):
    _, db, events, run_id = made
    with Store.open(db) as store:
        run = store.get_run(run_id)
        own = run_evidence(store, run)["quality"]
        changed = dict(own) | {"results": dict(own["results"]) | {"sharpness": 1.0}}
        changed.pop("stored"), changed.pop("cached")
        store.put_evidence(run["video_hash"], "quality", own["version"], "other-params", changed)
        assert run_evidence(store, run)["quality"]["results"]["sharpness"] == own["results"]["sharpness"]


def test_evidence_gone_from_the_store_is_shown_missing_not_invented(made, tmp_path):
    settings, db, _, run_id = made
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(Path(db).read_bytes())
    with Store.open(copy) as store:
        with store._write() as con:
            con.execute("DELETE FROM evidence WHERE operator = 'colour'")
        rec = run_evidence(store, store.get_run(run_id))["colour"]
    assert rec["missing"] and rec["status"] == "unavailable" and "no longer in the store" in rec["message"]
    assert rec["results"] == {}


def test_opening_a_stored_run_shows_the_same_cards_as_the_fresh_diagnosis(made, no_compute, tmp_path):
    settings, db, events, run_id = made
    tax = load_taxonomy()
    from evalverse.ui.run_view import RunView, render

    fresh = list(render(iter(events), RunView(taxonomy=tax, workdir=tmp_path / "a")))[-1]
    with Store.open(db) as store:
        opened = list(session.open_stored_run(store, tax, run_id, prefix="ev", workdir=tmp_path / "b"))[-1]
    assert opened.done and opened.error is None
    assert opened.cards == fresh.cards and opened.overview == fresh.overview
    assert "Nothing was decoded and no operator ran" in opened.progress and "(stored)" in opened.progress
    panels = lambda html: sorted(set(__import__("re").findall(r'id="(ev-panel-[a-z_]+)"', html)))  # noqa: E731
    assert panels(opened.evidence) == panels(fresh.evidence)
    assert json.loads(Path(opened.report_path).read_text())["run_id"] == run_id


def test_an_unknown_run_is_a_clear_error(made):
    _, db, _, _ = made
    with Store.open(db) as store:
        with pytest.raises(InputError, match="no stored run with id 999"):
            stored_report(store, 999)
        last = list(session.open_stored_run(store, load_taxonomy(), 999))[-1]
    assert last.error and "no stored run with id 999" in last.progress


def test_runs_show_prints_the_stored_report_and_list_filters(made):
    _, db, _, run_id = made
    shown = runner.invoke(app, ["runs", "show", str(run_id), "--json", "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert report["run_id"] == run_id and report["stored"] is True and len(report["results"]) == 18
    text = runner.invoke(app, ["runs", "show", str(run_id), "--db", str(db)])
    assert text.exit_code == 0 and "visual_quality" in text.stdout and "provenance" in text.stdout
    found = runner.invoke(app, ["runs", "list", "--json", "-q", "test card", "--db", str(db)])
    assert [r["id"] for r in json.loads(found.stdout)] == [run_id]
    assert json.loads(found.stdout)[0]["n_results"] == 18
    none = runner.invoke(app, ["runs", "list", "--json", "-q", "no such prompt", "--db", str(db)])
    assert json.loads(none.stdout) == []
    missing = runner.invoke(app, ["runs", "show", "999", "--db", str(db)])  # `main` turns it into one line, exit 2
    assert isinstance(missing.exception, InputError) and "no stored run with id 999" in str(missing.exception)


def test_a_link_to_a_diagnosed_run_shows_it_in_the_diagnose_tab(made, no_compute):
    from evalverse.ui.context import open_context
    from evalverse.ui.diagnose_tab import restore

    settings, _, _, run_id = made
    ctx = open_context(settings, load_seed=False)
    try:
        progress, overview, cards, evidence, radar, report = restore(ctx, {"tab": "diagnose", "run": str(run_id)})
        assert f"Opened from the store: run {run_id}" in progress and 'id="ev-overview"' in overview
        assert cards.count('class="ev-card ') == 18 and 'id="ev-panel-shots"' in evidence
        import gradio as gr

        assert restore(ctx, {"tab": "runs", "run": str(run_id)}) == [gr.skip()] * 6  # the Runs tab shows it there
    finally:
        ctx.store.close()


def test_an_unfinished_run_opens_with_the_results_it_has(made, tmp_path):
    _, db, events, run_id = made
    first = next(e["result"] for e in events if e["type"] == "dimension_done")
    with Store.open(db) as store:
        run = store.get_run(run_id)
        partial = store.start_run(run["video_hash"], run["judge_backend"], run["judge_version"],
                                  run["operator_versions"], run["settings"], prompt="left half done",
                                  provenance={k: v for k, v in run["provenance"].items()})
        store.add_dimension_result(partial, first)
        up = list(session.open_stored_run(store, load_taxonomy(), partial, workdir=tmp_path))[-1]
        listed = store.search_runs(query="left half done")[0]
    assert listed["status"] in ("running", "interrupted") and listed["n_results"] == 1
    assert up.error is None and up.cards.count('data-status="pending"') == 17
    assert f"run {partial} ({listed['status']}" in up.progress
