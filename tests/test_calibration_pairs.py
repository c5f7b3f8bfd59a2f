"""What the Bradley-Terry families learn from: same-prompt pairs, same-source pairs and known-order anchors
(degraded copies), how each kind is weighted, and that cross-validation keeps every anchor on its prompt's side."""
from __future__ import annotations

import math
import subprocess

import numpy as np
import pandas as pd
import pytest

from evalverse.calibration import cv as CV
from evalverse.calibration import models as M
from evalverse.calibration.anchors import Ladder, anchor_accuracy, copy_path, make_copies, pairing
from evalverse.calibration.metrics import figures
from evalverse.calibration.models import Pairing, fit_bradley_terry, fit_mlp_pairs, pair_rows
from evalverse.calibration.spec import AnchorSpec, CVSpec, PairsSpec
from evalverse.errors import InputError


def _design(n_prompts=30, n_sources=4, seed=0):
    rng = np.random.default_rng(seed)
    prompt = np.repeat([f"p{i}" for i in range(n_prompts)], n_sources)
    source = np.tile([f"s{j}" for j in range(n_sources)], n_prompts)
    return rng, prompt, source


def _source_world(seed=0):
    """People's scores follow mostly the source's level and a little each clip's quality. Feature 0 is a
    noisy proxy of the source's level (a resolution, say): within one source its variation means nothing;
    feature 1 is a noisy measure of the clip's quality."""
    rng, prompt, source = _design(30, 4, seed)
    level = np.array([int(s[1:]) for s in source], float)
    quality = rng.normal(size=prompt.size)
    Z = np.column_stack([level + rng.normal(0, 0.5, prompt.size), quality + rng.normal(0, 0.5, prompt.size)])
    Z = (Z - Z.mean(0)) / Z.std(0)
    y = 3 + level + 0.4 * quality
    return Z, y, prompt, source


def test_same_prompt_pairs_alone_learn_the_source_and_same_source_pairs_learn_the_quality():
    Z, y, prompt, source = _source_world()
    by_prompt = fit_bradley_terry(Z, y, prompt, 1.0)
    both = fit_bradley_terry(Z, y, prompt, 1.0, source=source, pairing=Pairing(within=("prompt", "source")))
    share = lambda m: abs(m.weights[1]) / np.abs(m.weights).sum()  # noqa: E731
    assert share(by_prompt) < 0.2 and share(both) > 0.3
    ws = lambda m: figures(m.predict(Z), y, prompt, source)["within_source_srcc"]  # noqa: E731
    assert ws(by_prompt) < 0.3 and ws(both) > 0.5


def test_each_kind_of_pair_counts_as_much_as_the_same_prompt_pairs_in_total():
    Z, y, prompt, source = _source_world()
    anchors = (np.ones((7, 2)), np.zeros((7, 2)))
    A, B, c, counts = pair_rows(Z, y, prompt, source, Pairing(within=("prompt", "source")), anchors)
    assert counts == {"prompt": 30 * 6, "source": 4 * (30 * 29 // 2), "anchor": 7}
    assert A.shape == B.shape == (sum(counts.values()), 2)
    totals = [c[:180].sum(), c[180:180 + counts["source"]].sum(), c[-7:].sum()]
    np.testing.assert_allclose(totals, [180, 180, 180])


def test_within_source_pairs_need_the_sources_and_unknown_kinds_are_refused():
    Z, y, prompt, _source = _source_world()
    with pytest.raises(ValueError, match="source"):
        pair_rows(Z, y, prompt, None, Pairing(within=("prompt", "source")))
    with pytest.raises(ValueError, match="unknown pair kind"):
        pair_rows(Z, y, prompt, None, Pairing(within=("rater",)))


def test_every_pair_puts_the_preferred_clip_first():
    Z = np.arange(8, dtype=float).reshape(4, 2)
    y = np.array([1.0, 3.0, 2.0, 2.0])  # prompt a: row 1 > row 0; prompt b: a tie, left out
    A, B, c, counts = pair_rows(Z, y, np.array(list("aabb")))
    np.testing.assert_array_equal(A, Z[[1]])
    np.testing.assert_array_equal(B, Z[[0]])
    assert counts == {"prompt": 1} and c.tolist() == [1.0]


def test_anchors_teach_an_order_people_did_not_rate():
    """Feature 1 never varies with people's scores here, but every degraded copy has more of it: the fit
    learns a negative weight on it from the anchors alone, and without them leaves it at about 0."""
    rng, prompt, source = _design(20, 3, seed=2)
    Z = rng.normal(size=(prompt.size, 2))
    y = 3 + Z[:, 0]
    worse = Z.copy()
    worse[:, 1] += 1.5
    plain = fit_bradley_terry(Z, y, prompt, 1.0)
    anchored = fit_bradley_terry(Z, y, prompt, 1.0, anchors=(Z, worse))
    assert abs(plain.weights[1]) < 0.15 and anchored.weights[1] < -0.2
    assert anchored.weights[0] > 0
    assert anchor_accuracy(anchored.predict(Z), anchored.predict(worse)) == 1.0
    net = fit_mlp_pairs(Z, y, prompt, hidden=4, alpha=0.1, anchors=(Z, worse))  # the pairwise MLP learns it too
    assert net.family == "mlp_pairs" and anchor_accuracy(net.predict(Z), net.predict(worse)) > 0.95
    assert figures(net.predict(Z), y, prompt, source)["within_prompt_accuracy"] > 0.9


def test_a_fit_sees_only_the_anchors_of_its_training_prompts(monkeypatch):
    rng, prompt, source = _design(15, 3, seed=3)
    X = rng.normal(size=(prompt.size, 2))
    y = X[:, 0] + rng.normal(0, 0.3, prompt.size)
    worse = X + np.array([-1.0, 0.0])
    anchors = Pairing(within=("prompt",), better=X.copy(), worse=worse, group=prompt.astype(object))
    seen = []
    real = M.fit_family

    def spy(family, Z, y_, groups, hyper, seed=0, signs=None, source=None, pairing=None, anchors=None):
        seen.append((set(groups), 0 if anchors is None else len(anchors[0])))
        return real(family, Z, y_, groups, hyper, seed, signs, source, pairing, anchors)

    monkeypatch.setattr(CV, "fit_family", spy)
    res = CV.nested_cv(X, y, prompt, source, ["bradley_terry"], folds=5, repeats=1, inner_folds=3,
                       by="clip_srcc", pairing=anchors)
    for groups, n in seen:  # one anchor per clip of the fit's prompts, no more
        assert n == 3 * len(groups)
    better, worse_pred = res["anchors"]["selected"]
    assert not np.isnan(better).any() and anchor_accuracy(better, worse_pred) > 0.9  # every anchor held out once


def test_a_family_only_compared_is_scored_but_never_chosen():
    rng, prompt, source = _design(15, 3, seed=5)
    X = rng.normal(size=(prompt.size, 2))
    bowl = X[:, 0] ** 2 + rng.normal(0, 0.1, prompt.size)  # only the MLP can fit it
    assert CV.select(X, bowl, prompt, source, ["ridge", "mlp"], 3, "clip_srcc").family == "mlp"
    sel = CV.select(X, bowl, prompt, source, ["ridge", "mlp"], 3, "clip_srcc", eligible=["ridge"])
    assert sel.family == "ridge" and set(sel.best) == {"ridge", "mlp"}
    res = CV.nested_cv(X, bowl, prompt, source, ["ridge", "mlp"], 3, 1, 3, "clip_srcc", eligible=["ridge"])
    assert res["choices"] == {"ridge": 3} and "mlp" in res["predictions"]
    from evalverse.calibration.spec import CalibrationSpec
    from calibration_helpers import spec
    with pytest.raises(ValueError, match="both models and compare"):
        CalibrationSpec.model_validate(spec().model_dump() | {"models": ["ridge"], "compare": ["ridge", "mlp"]})


def test_selection_can_weigh_several_figures():
    figs = {"clip_srcc": 0.6, "within_source_srcc": 0.2}
    assert CV.criterion(figs, "clip_srcc") == 0.6
    assert CV.criterion(figs, ("clip_srcc", "within_source_srcc")) == pytest.approx(0.4)
    assert math.isnan(CV.criterion({"clip_srcc": 0.6, "within_source_srcc": math.nan}, ["clip_srcc", "within_source_srcc"]))
    assert CVSpec(select_by=["clip_srcc", "within_source_srcc"]).select_by == ("clip_srcc", "within_source_srcc")
    with pytest.raises(ValueError):
        CVSpec(select_by=["clip_srcc", "source_srcc"])  # source SRCC rests on 5 points: not a choice criterion


def test_anchor_spec_wants_rising_crf_in_range_and_pairs_a_known_kind():
    assert AnchorSpec(x264_crf=[30, 40, 51]).x264_crf == (30, 40, 51)
    for bad in ([40, 30], [30, 30], [30, 60], []):
        with pytest.raises(ValueError):
            AnchorSpec(x264_crf=bad)
    with pytest.raises(ValueError):
        PairsSpec(within=["rater"])
    with pytest.raises(ValueError):
        PairsSpec(within=[])


def test_anchor_accuracy_counts_ties_half_and_skips_missing():
    assert anchor_accuracy(np.array([2.0, 1.0, 1.0, np.nan]), np.array([1.0, 2.0, 1.0, 0.0])) == pytest.approx(0.5)
    assert math.isnan(anchor_accuracy(np.array([np.nan]), np.array([1.0])))


def test_a_ladder_pairs_every_rung_with_every_heavier_one():
    X = pd.DataFrame({"f": [10.0]}, index=["clip.gif"])
    X_copies = pd.DataFrame({"f": [8.0, 5.0, 1.0]}, index=["c30", "c40", "c51"])
    ladder = Ladder("clip.gif", "p0", [(30, "c30"), (40, "c40"), (51, "c51")])
    spec = type("S", (), {"pairs": PairsSpec(within=["prompt", "source"])})()
    p = pairing(spec, [ladder], X, X_copies)
    assert p.n_anchors == 6 and p.within == ("prompt", "source") and set(p.group) == {"p0"}
    assert all(b > w for b, w in zip(p.better[:, 0], p.worse[:, 0]))


@pytest.mark.slow  # encodes a short clip three times with x264 (~2 s)
def test_copies_are_made_once_per_clip_and_crf_and_reused(tmp_path):
    from types import SimpleNamespace

    from evalverse.media.synthetic import ffmpeg_binary

    src = tmp_path / "odd.mp4"  # an odd frame size: the copies are cropped to even for 4:2:0
    subprocess.run([ffmpeg_binary(), "-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=97x55:rate=10",
                    "-t", "1", "-pix_fmt", "yuv444p", "-c:v", "libx264", "-crf", "0", str(src)], check=True)
    spec = SimpleNamespace(anchors=AnchorSpec(x264_crf=[30, 51]), pairs=PairsSpec())
    clips = pd.DataFrame({"path": [str(src)], "prompt": ["p0"], "source": ["s0"]})
    settings = SimpleNamespace(data_dir=tmp_path / "data")
    ladders = make_copies(spec, clips, {str(src): "ab" * 32}, settings)
    paths = [p for _c, p in ladders[0].copies]
    assert paths == [str(copy_path(tmp_path / "data" / "calibration" / "anchors", "ab" * 32, c)) for c in (30, 51)]
    sizes = [tmp_path.joinpath(p).stat().st_size for p in paths]
    assert sizes[1] < sizes[0]  # the heavier compression is smaller
    stamps = [tmp_path.joinpath(p).stat().st_mtime_ns for p in paths]
    make_copies(spec, clips, {str(src): "ab" * 32}, settings)
    assert [tmp_path.joinpath(p).stat().st_mtime_ns for p in paths] == stamps  # reused, not re-encoded
    assert make_copies(SimpleNamespace(anchors=AnchorSpec(x264_crf=[30], sources=["other"]), pairs=PairsSpec()),
                       clips, {str(src): "cd" * 32}, settings) == []  # only the named sources are degraded


def test_a_clip_ffmpeg_cannot_read_gives_a_clear_error(tmp_path):
    from types import SimpleNamespace

    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    spec = SimpleNamespace(anchors=AnchorSpec(x264_crf=[30]), pairs=PairsSpec())
    clips = pd.DataFrame({"path": [str(bad)], "prompt": ["p0"], "source": ["s0"]})
    with pytest.raises(InputError, match="CRF 30 anchor of"):
        make_copies(spec, clips, {str(bad): "ef" * 32}, SimpleNamespace(data_dir=tmp_path / "data"))
    assert not list((tmp_path / "data").rglob("*.mp4"))  # nothing half-written left behind
    problems: list[str] = []  # in a calibration: that clip has no ladder, the reason is kept, the rest goes on
    assert make_copies(spec, clips, {str(bad): "ef" * 32}, SimpleNamespace(data_dir=tmp_path / "data"), problems) == []
    assert len(problems) == 1 and "bad.mp4" in problems[0]
