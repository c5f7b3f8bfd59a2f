"""The Alignment tab's section on EvalVerse's own calibration: which calibrations the installation holds (active,
packaged default, only fitted; refused ones with the reason), their held-out figures beside the human ceiling, a
human-vs-predicted scatter with its fit and the features carrying the weight, all read from the artifacts."""
from __future__ import annotations

from datetime import datetime, timezone

import gradio as gr
import numpy as np
import pandas as pd
import pytest

from calibration_helpers import operators_now, spec, synthetic_data
from evalverse.calibration import figures as F
from evalverse.calibration.artifacts import build_artifact, weights_table
from evalverse.calibration.cv import fit_final
from evalverse.calibration.installed import installed_calibrations
from evalverse.calibration.report import build_report, ship_decision
from evalverse.calibration.spec import CVSpec
from evalverse.judge import calibration_artifact as CA
from evalverse.judge.calibration_artifact import user_artifact_path, write_artifact

DIM = "visual_quality"


def reported_artifact(seed: int = 0):
    """A real fit on synthetic rated clips, with its cross-validated report, as `evalverse calibrate` writes it."""
    clips, X = synthetic_data(seed=seed)
    s = spec(models=("ridge", "ridge_signed"))
    judge = pd.Series(np.random.default_rng(seed).uniform(2, 4, len(clips)))
    signs = np.array([1, -1, -1, 1])
    rep = build_report(s, "static_quality", clips, X, judge, cv=CVSpec(folds=3, repeats=1, inner_folds=3, bootstrap=50),
                       signs=signs)
    rep["ship"] = ship_decision(rep, s.ship_when)
    final = fit_final(X.to_numpy(float), clips["human"].to_numpy(), clips["prompt"].to_numpy(), clips["source"].to_numpy(),
                      list(s.models), 3, "clip_srcc", seed, signs)
    art = build_artifact(s, "static_quality", final, clips, [f"{i:064x}" for i in range(len(clips))], operators_now(), rep,
                         judge_version="1.0", created_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
    art.cv["weights"] = weights_table(art, X).to_dict(orient="records")
    return art, rep


@pytest.fixture(scope="module")
def fitted():
    return reported_artifact()


@pytest.fixture
def no_packaged(tmp_path, monkeypatch):
    monkeypatch.setattr(CA, "PACKAGED_DIR", tmp_path / "packaged")
    return tmp_path / "packaged"


def test_the_installation_lists_active_packaged_and_fitted_calibrations(tmp_path, no_packaged, fitted):
    art, _ = fitted
    other = art.model_copy(update={"id": "visual_quality-static_quality-packaged"})
    data = tmp_path / "data"
    write_artifact(other, no_packaged / f"{DIM}.json")
    (only_default,) = installed_calibrations(data)
    assert only_default.status == "packaged default" and only_default.applied
    write_artifact(art, user_artifact_path(data, DIM))
    write_artifact(art, data / "calibration" / "history" / f"{art.id}.json")  # the active fit is in the history too
    stale = art.model_copy(update={"id": "visual_quality-static_quality-stale", "operators": {
        **art.operators, "quality": {"version": "0.0.1", "backend": "opencv"}}})
    write_artifact(stale, data / "calibration" / "history" / f"{stale.id}.json")
    entries = installed_calibrations(data)
    assert [(e.artifact.id, e.status) for e in entries] == [
        (art.id, "active"), (other.id, "packaged default"), (stale.id, "fitted")]
    active, default, old = entries
    assert active.applied and not default.applied and default.shadowed  # the user's file replaces the default
    assert not old.applied and "operator quality was version 0.0.1" in old.problem


def test_the_summary_reads_every_figure_from_the_artifacts_report(fitted, no_packaged, tmp_path):
    art, rep = fitted
    write_artifact(art, user_artifact_path(tmp_path, DIM))
    table = F.calibration_summary(installed_calibrations(tmp_path))
    row = table.iloc[0]
    cal = rep["rows"][0]["figures"]
    value, lo, hi = (cal["clip_srcc"][k] for k in ("value", "lo", "hi"))
    assert row["clip SRCC"] == f"{value:+.2f} [{lo:+.2f}, {hi:+.2f}]"
    ceiling = next(r for r in rep["rows"] if r["kind"] == "ceiling")["figures"]
    assert row["Human ceiling (clip / pairs / within)"].startswith(f"{ceiling['clip_srcc']['value']:+.2f} / ")
    assert row["Status"] == "active (applied)" and row["Calibration"] == art.id
    assert row["Ship rule"] == ("met" if rep["ship"]["justified"] else "not met")
    assert row["Model"].startswith(art.model.fitted_by)
    assert row["Compression order (held-out; judge)"] == "n/a"  # this fit had no known-order anchors


def test_the_summary_shows_the_held_out_share_of_anchors_ordered_right(fitted, no_packaged, tmp_path):
    art, _rep = fitted
    rows = [dict(r) for r in art.cv["rows"]]
    rows[0]["anchor_accuracy"] = 0.955
    judge = next(r for r in rows if r["kind"] == "judge")
    judge["anchor_accuracy"] = 0.64
    write_artifact(art.model_copy(update={"cv": {**art.cv, "rows": rows}}), user_artifact_path(tmp_path, DIM))
    row = F.calibration_summary(installed_calibrations(tmp_path)).iloc[0]
    assert row["Compression order (held-out; judge)"] == "96%; 64%"


def test_the_figures_are_drawn_from_the_artifact_and_name_it(fitted):
    art, rep = fitted
    cv, scatter, weights = F.calibration_figures(art)
    for fig in (cv, scatter, weights):
        assert fig.layout.meta["provenance"] == art.id
    assert cv.data[0].name == "calibrated" and "human ceiling (same clips)" in [t.name for t in cv.data]
    points = sum(len(t.x) for t in scatter.data if t.mode == "markers")
    assert points == len(rep["predictions"]) and "least-squares fit" in [t.name for t in scatter.data]
    assert "people's static quality" in scatter.layout.title.text
    assert sorted(weights.data[0].y) == sorted(f.name for f in art.features)
    recorded = {w["feature"]: w["importance"] for w in art.cv["weights"]}
    assert dict(zip(weights.data[0].y, weights.data[0].x)) == pytest.approx(recorded)


def test_an_artifact_without_a_report_says_so(fitted):
    from evalverse.errors import InputError

    art, _ = fitted
    bare = art.model_copy(update={"cv": {}})
    with pytest.raises(InputError, match="carries no cross-validated report"):
        F.calibration_figures(bare)
    assert list(F.artifact_weights(bare)["feature"]) == [f.name for f in art.features]  # linear weights instead


def _component(demo, elem_id):
    return next((b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id), None)


def _demo(settings):
    from evalverse.taxonomy import load_taxonomy
    from evalverse.ui import alignment_tab
    from evalverse.ui.app import build_app
    from evalverse.ui.context import AppContext, LeaderboardData

    ctx = AppContext(settings=settings, taxonomy=load_taxonomy(), data=LeaderboardData())
    return build_app(ctx, tabs=(alignment_tab,))


def test_the_tab_shows_the_calibration_section(settings, fitted, no_packaged):
    art, _ = fitted
    write_artifact(art, user_artifact_path(settings.data_dir, DIM))
    demo = _demo(settings)
    table = _component(demo, "calibration-table").value
    assert art.id in [row[table["headers"].index("Calibration")] for row in table["data"]]
    choice = _component(demo, "calibration-choice")
    assert art.id in choice.choices[0][0]
    for name in ("cv", "scatter", "weights"):
        plot = _component(demo, f"calibration-{name}")
        assert isinstance(plot, gr.Plot) and plot.value is not None
    from evalverse.ui.alignment_tab import scatter_figure
    from evalverse.ui.context import AppContext

    fig = scatter_figure(AppContext(settings=settings), choice.value)
    assert fig.layout.meta["provenance"] == art.id


def test_without_calibrations_the_section_says_how_to_fit_one(settings, no_packaged):
    demo = _demo(settings)
    assert _component(demo, "calibration-table") is None
    assert "evalverse calibrate --dimension visual_quality" in _component(demo, "calibration-empty").value
