"""`evalverse calibrate` and the calibration figures: one-line errors, an end-to-end fit on synthetic rated
clips whose quality is known, and the Alignment tab's figures built from a report."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from calibration_helpers import artifact, synthetic_data
from evalverse.calibration import figures as F
from evalverse.calibration.artifacts import weights_table
from evalverse.calibration.report import build_report, format_report, ship_decision
from evalverse.calibration.spec import CVSpec, ShipRule
from evalverse.errors import InputError
from evalverse.judge.calibration_artifact import load_artifact
from evalverse.media.synthetic import textured, write_video


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "evalverse.cli", *args], capture_output=True, text=True, env=env, timeout=600)


def _env(tmp_path, **extra):
    import os

    return {**os.environ, "EVALVERSE_DATA": str(tmp_path / "data"), "EVALVERSE_WORKERS": "1", **extra}


def test_unknown_dimension_and_missing_ratings_are_one_line_errors(tmp_path):
    r = _cli("calibrate", "--dimension", "lens", env=_env(tmp_path))
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "no calibration spec for dimension 'lens'" in r.stderr
    r = _cli("calibrate", "--dimension", "visual_quality", "--human", str(tmp_path / "nope.csv"), env=_env(tmp_path))
    assert r.returncode == 2 and "no such ratings file" in r.stderr
    bad = tmp_path / "ratings.csv"
    bad.write_text("file,prompt_index,model,rater,static_quality\nx.gif,1,m,h0,3\n")
    r = _cli("calibrate", "--dimension", "visual_quality", "--human", str(bad), env=_env(tmp_path))
    assert r.returncode == 2 and "missing column(s) temporal_quality, alignment" in r.stderr


def _report(seed=0):
    clips, X = synthetic_data(seed=seed)
    from calibration_helpers import spec

    judge = pd.Series(np.random.default_rng(seed).uniform(2, 4, len(clips)))
    return build_report(spec(models=("ridge", "bradley_terry")), "static_quality", clips, X, judge,
                        cv=CVSpec(folds=3, repeats=1, inner_folds=3, bootstrap=50))


def test_the_report_has_every_row_held_out_with_intervals_and_a_ship_decision():
    rep = _report()
    kinds = [r["kind"] for r in rep["rows"]]
    assert kinds[0] == "model" and "judge" in kinds and kinds.count("feature") == 4 and kinds[-1] == "ceiling"
    cal = rep["rows"][0]["figures"]
    for f in ("clip_srcc", "clip_plcc", "within_prompt_accuracy", "within_source_srcc", "source_srcc"):
        assert cal[f]["lo"] <= cal[f]["value"] <= cal[f]["hi"] or np.isnan(cal[f]["value"])
    assert cal["clip_srcc"]["value"] > 0.5  # the synthetic score is learnable
    assert rep["vs_judge"]["clip_srcc"]["value"] == pytest.approx(
        cal["clip_srcc"]["value"] - rep["rows"][kinds.index("judge")]["figures"]["clip_srcc"]["value"])
    decision = ship_decision(rep, ShipRule(within_prompt_accuracy_ci_low_above=0.99, beats_uncalibrated_judge_on=("clip_srcc",)))
    assert decision["justified"] is False and any(r.startswith("NOT met: within-prompt") for r in decision["reasons"])
    text = format_report(rep)
    assert "human ceiling (same clips)" in text and "calibrated - judge" in text


def test_figures_are_built_from_report_data_and_carry_provenance():
    rep = _report()
    art, X, _ = artifact()
    fig = F.predicted_vs_human(rep["predictions"], provenance=art.id)
    assert isinstance(fig, go.Figure) and fig.layout.meta["provenance"] == art.id
    assert {t.name for t in fig.data} >= {"s0", "s1", "s2", "least-squares fit"} and "SRCC" in fig.layout.title.text
    bars = F.cv_figures(rep["rows"], provenance=art.id)
    names = [t.name for t in bars.data]
    assert names[0] == "calibrated" and "human ceiling (same clips)" in names and len(bars.data[0].y) == 5
    assert bars.data[0].error_y.array is not None
    w = F.feature_weights(weights_table(art, X))
    assert len(w.data[0].y) == len(art.features)
    with pytest.raises(InputError):
        F.predicted_vs_human([{"human": 1.0}])
    with pytest.raises(InputError):
        F.cv_figures(rep["rows"], figures=["nope"])


def _rated_clips(folder, n_prompts=6):
    """Clips of n prompts x 3 'generators' that blur by a known amount; people's scores follow the blur."""
    import cv2

    rows = []
    for p in range(n_prompts):
        base = textured(144, 192, seed=p)
        for s, blur in enumerate((0, 2, 5)):
            sigma = blur + 0.7 * (p % 3)
            frame = base if sigma == 0 else cv2.GaussianBlur(base, (0, 0), sigma)
            name = f"fetv_{p}_{'abc'[s]}.mp4"
            write_video(folder / name, (np.roll(frame, i, axis=1) for i in range(20)), 10, (192, 144))
            quality = 5 - 0.5 * sigma
            for r, noise in enumerate((0.0, 0.3, -0.3)):
                rows.append({"file": name, "prompt_index": p, "model": "abc"[s], "rater": f"h{r}",
                             "static_quality": float(np.clip(round(quality + noise), 1, 5)), "temporal_quality": 3,
                             "alignment": 3, "prompt": f"prompt {p}"})
    pd.DataFrame(rows).to_csv(folder / "ratings.csv", index=False)
    return folder / "ratings.csv"


@pytest.mark.slow
def test_calibrate_end_to_end_learns_a_known_quality_and_writes_a_loadable_artifact(tmp_path):
    ratings = _rated_clips(tmp_path)
    args = ["calibrate", "--dimension", "visual_quality", "--human", str(ratings), "--folds", "3", "--repeats", "1",
            "--bootstrap", "50", "--activate", "--json"]
    r = _cli(*args, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    cal = out["report"]["rows"][0]["figures"]
    assert cal["clip_srcc"]["value"] > 0.6, out["report"]["rows"][0]
    pairs = out["report"]["pairs"]  # the packaged spec's same-source pairs and x264 anchors (3 copies a clip)
    assert set(pairs["within"]) == {"prompt", "source"} and pairs["anchors"] == 18 * 6
    assert 0 <= out["report"]["rows"][0]["anchor_accuracy"] <= 1
    art = load_artifact(out["artifact"]["written"]["active"])
    assert art.id == out["artifact"]["id"] and art.training["n_clips"] == 18
    assert {"shots", "quality"} <= set(art.operators) and art.judge["backend"] == "evidence"
    again = _cli(*args, env=_env(tmp_path))  # evidence comes from the cache: same data, same artifact
    assert again.returncode == 0 and json.loads(again.stdout)["artifact"]["id"] == art.id
    assert "(cached)" in again.stderr


def test_ratings_are_validated_before_anything_runs(tmp_path):
    from evalverse.calibration.ratings import fetv_clip_ratings, per_clip
    from evalverse.errors import DataError

    good = "file,prompt_index,model,rater,static_quality,temporal_quality,alignment\n"
    (tmp_path / "r.csv").write_text(good + "a.gif,1,m,h0,3,4,5\na.gif,1,m,h1,5,4,5\n")
    clips = per_clip(fetv_clip_ratings(tmp_path / "r.csv"), "static_quality")
    assert clips.loc[0, "human"] == 4.0 and clips.loc[0, "path"] == str(tmp_path / "a.gif")
    with pytest.raises(InputError, match="no ratings on axis 'sharpness'"):
        per_clip(fetv_clip_ratings(tmp_path / "r.csv"), "sharpness")
    (tmp_path / "bad.csv").write_text(good + "a.gif,1,m,h0,3,4,5\nb.gif,1,m,h0,7,4,5\n")
    with pytest.raises(DataError, match="outside 1-5, first: clip b.gif, rater h0, static_quality = 7"):
        fetv_clip_ratings(tmp_path / "bad.csv")


def test_a_refit_reads_the_evidence_cache_and_a_changed_plan_recomputes(tmp_path, settings, monkeypatch):
    from calibration_helpers import spec

    from evalverse.calibration import dataset as D

    clips = []
    for i in range(3):
        clips.append(str(tmp_path / f"c{i}.bin"))
        (tmp_path / f"c{i}.bin").write_bytes(bytes([i]) * 10)
    calls = []

    def fake(path, s, st, store):
        calls.append(path)
        return {"evidence": {"meta": {}, "operators": {}}, "judge": {"score": 3.0}}

    first = D.collect(clips, spec(), settings, compute=fake)
    assert len(calls) == 3 and D.cache_path(settings).is_file()
    again = D.collect(clips, spec(), settings, compute=fake)
    assert len(calls) == 3 and again == first
    monkeypatch.setattr(D, "evidence_key", lambda sp, s: ("another-plan", {}))
    D.collect(clips[:1], spec(), settings, compute=fake)
    assert len(calls) == 4
    assert len(D.read_cache(D.cache_path(settings))) == 4  # both plans kept
