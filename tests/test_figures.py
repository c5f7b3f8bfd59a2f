"""Figures: trace counts, gaps stay gaps, the fitted line and r match numpy/scipy, failures become a placeholder."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalverse.errors import DataError, InputError
from evalverse.leaderboard.figures import (
    alignment_grid,
    alignment_scatter,
    clip_radar,
    error_figure,
    least_squares,
    pearson_r,
    radar,
    runs_radar,
    score_to_unit,
)
from evalverse.ui.failsafe import failsafe_figure

COLS = ["stage", "aspect", "dimension", "model", "machine_win_ratio", "human_win_ratio"]


@pytest.fixture(scope="module")
def paper(paper_csv) -> pd.DataFrame:
    return pd.read_csv(paper_csv)


@pytest.fixture
def small() -> pd.DataFrame:
    rows = [
        ("S", "Cam", "Lens", "A", 0.8, 0.6),
        ("S", "Cam", "Pacing", "A", 0.4, 0.2),
        ("S", "Snd", "Vocal", "A", 0.5, 0.9),
        ("S", "Cam", "Lens", "B", 0.4, 0.5),
        ("S", "Cam", "Pacing", "B", 0.6, 0.7),
    ]
    return pd.DataFrame(rows, columns=COLS)


def test_radar_traces_and_gaps(small):
    fig = radar(small, ["A", "B"], "dimension", "machine")
    assert [t.name for t in fig.data] == ["A", "B"]
    b = fig.data[1]
    assert list(b.theta) == ["Lens", "Pacing", "Vocal", "Lens"]  # closed polygon
    assert list(b.r) == [0.4, 0.6, None, 0.4]  # B was not run on Vocal: a gap, not 0
    assert b.connectgaps is False
    human = radar(small, ["A"], source="human")
    assert list(human.data[0].r) == [0.6, 0.2, 0.9, 0.6]


def test_radar_aspect_level_means_what_the_model_has(small):
    fig = radar(small, None, "aspect", "machine")
    assert len(fig.data) == 2
    a, b = fig.data
    assert list(a.theta) == ["Cam", "Snd", "Cam"]
    assert a.r[0] == pytest.approx(0.6) and a.r[1] == pytest.approx(0.5)
    assert b.r[0] == pytest.approx(0.5) and b.r[1] is None


def test_radar_on_paper_data(paper):
    models = ["Seedance 2.0", "Hailuo 2.3", "LTX2"]
    fig = radar(paper, models, "dimension", order=None)
    assert len(fig.data) == 3
    for trace in fig.data:
        assert len(trace.r) == 18 + 1
    theta = list(fig.data[1].theta)
    hailuo = dict(zip(theta, fig.data[1].r))
    for dim in ("Logic", "Rhythm", "Vocal", "Soundscape"):
        assert hailuo[dim] is None  # "-/-" in the paper
    want = paper[(paper.model == "Hailuo 2.3") & (paper.dimension == "Lens")].machine_win_ratio.item()
    assert hailuo["Lens"] == pytest.approx(want)
    by_aspect = radar(paper, models, "aspect")
    assert len(by_aspect.data[0].theta) == paper["aspect"].nunique() + 1 == 8


def test_radar_rejects_bad_input(small):
    with pytest.raises(InputError):
        radar(small, ["Nobody"])
    with pytest.raises(InputError):
        radar(small, ["A"], level="shot")
    with pytest.raises(InputError):
        radar(small, ["A"], source="crowd")
    with pytest.raises(DataError):
        radar(small.drop(columns=["machine_win_ratio"]), ["A"])


def test_least_squares_matches_polyfit():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 11)
    y = 0.7 * x + 0.1 + rng.normal(0, 0.05, 11)
    slope, intercept = least_squares(x, y)
    ref = np.polyfit(x, y, 1)
    assert slope == pytest.approx(ref[0], rel=1e-10)
    assert intercept == pytest.approx(ref[1], rel=1e-10)
    assert pearson_r(x, y) == pytest.approx(stats.pearsonr(x, y)[0])
    assert np.isnan(pearson_r([0.1, 0.2], [0.3, 0.4]))
    with pytest.raises(InputError):
        least_squares([0.5, 0.5], [0.1, 0.2])


def test_alignment_scatter_line_and_r(paper):
    fig = alignment_scatter(paper, "Lens")
    part = paper[paper.dimension == "Lens"]
    points = [t for t in fig.data if t.mode == "markers"]
    assert len(points) == len(part) == 11
    fit = next(t for t in fig.data if t.name == "least-squares fit")
    slope = (fit.y[1] - fit.y[0]) / (fit.x[1] - fit.x[0])
    ref = np.polyfit(part.human_win_ratio, part.machine_win_ratio, 1)
    assert slope == pytest.approx(ref[0])
    assert fit.y[0] == pytest.approx(ref[1])  # x = 0 -> intercept
    r = stats.pearsonr(part.human_win_ratio, part.machine_win_ratio)[0]
    title = fig.layout.title.text
    assert f"r = {r:.2f}" in title and "n = 11" in title
    # axes: human on x, machine on y
    lte = next(t for t in points if t.name == "LTX2")
    row = part[part.model == "LTX2"].iloc[0]
    assert (lte.x[0], lte.y[0]) == (row.human_win_ratio, row.machine_win_ratio)


def test_alignment_scatter_unknown_dimension(paper):
    with pytest.raises(InputError, match="unknown dimension"):
        alignment_scatter(paper, "Smell")


def test_alignment_grid_has_a_panel_per_dimension(paper):
    fig = alignment_grid(paper, columns=6)
    titles = [a.text for a in fig.layout.annotations]
    assert len(titles) == paper["dimension"].nunique() == 18
    vocal = next(t for t in titles if t.startswith("Vocal"))
    part = paper[paper.dimension == "Vocal"]
    r = stats.pearsonr(part.human_win_ratio, part.machine_win_ratio)[0]
    assert re.search(rf"r = {r:.2f}, n = {len(part)}", vocal)
    fits = [t for t in fig.data if t.name == "least-squares fit"]
    assert len(fits) == 18
    points = [t for t in fig.data if t.mode == "markers"]
    assert len(points) == len(paper)
    # every model appears in the legend exactly once
    legend = [t.name for t in fig.data if t.showlegend and t.mode == "markers"]
    assert sorted(legend) == sorted(paper.model.unique())


def test_error_figure_and_failsafe(small):
    fig = error_figure("the store is empty")
    assert "the store is empty" in fig.layout.annotations[0].text
    assert fig.layout.meta["error"] == "the store is empty"

    safe_radar = failsafe_figure(radar)
    bad = safe_radar(small, ["Nobody"])
    assert "unknown model" in bad.layout.meta["error"]
    assert len(bad.data) == 0
    broken = safe_radar("not a frame")
    assert "DataFrame" in broken.layout.meta["error"]
    good = safe_radar(small, ["A"])
    assert len(good.data) == 1

    @failsafe_figure
    def explodes():
        raise ZeroDivisionError("boom")

    assert explodes().layout.meta["error"] == "ZeroDivisionError: boom"


# ---- one clip's radar and two runs on one chart --------------------------------------------------------------

def _res(dim: str, status: str = "scored", score: float | None = 4.0) -> dict:
    return {"dimension": dim, "status": status, "score": score}


@pytest.fixture(scope="module")
def tax():
    from evalverse.taxonomy import load_taxonomy

    return load_taxonomy()


def test_clip_radar_scales_scores_and_leaves_gaps(tax):
    dims = tax.dimensions
    results = {dims[0].id: _res(dims[0].id, score=5.0), dims[1].id: _res(dims[1].id, score=1.0),
               dims[2].id: _res(dims[2].id, score=3.0), dims[3].id: _res(dims[3].id, "gated", None),
               dims[4].id: _res(dims[4].id, "not_judged", 4.0)}  # a score on an unscored status is not drawn
    fig = clip_radar(tax, results, compare={dims[0].name: 0.7}, compare_name="Veo", provenance={"hash": "abc"})
    clip = fig.data[0]
    assert len(clip.theta) == len(dims) + 1 and list(clip.theta[:len(dims)]) == [d.name for d in dims]
    assert list(clip.r[:4]) == [1.0, 0.0, 0.5, None]
    assert all(v is None for v in clip.r[4:len(dims)])
    assert clip.connectgaps is False
    other = fig.data[1]
    assert other.r[0] == 0.7 and "win ratio" in other.name and other.r[1] is None
    assert score_to_unit(4.0) == 0.75 and score_to_unit(None) is None
    assert fig.layout.meta["provenance"] == {"hash": "abc"}


def test_runs_radar_puts_both_runs_on_one_chart(tax):
    dims = tax.dimensions
    a = {dims[0].id: _res(dims[0].id, score=5.0), dims[1].id: _res(dims[1].id, score=3.0)}
    b = {dims[0].id: _res(dims[0].id, score=1.0), dims[2].id: _res(dims[2].id, score=2.0)}
    fig = runs_radar(tax, [("A: run 1", a), ("B: run 2", b)])
    assert [t.name for t in fig.data] == ["A: run 1", "B: run 2"]
    assert list(fig.data[0].r[:3]) == [1.0, 0.5, None] and list(fig.data[1].r[:3]) == [0.0, None, 0.25]
    assert "(1 scored in every run)" in fig.layout.title.text
    with pytest.raises(InputError):
        runs_radar(tax, [])
