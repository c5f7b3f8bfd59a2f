"""Win-ratio aggregates and the leaderboard table: hand-worked small frames and the paper's Table 3."""
from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest

from evalverse.errors import DataError, InputError
from evalverse.leaderboard.aggregate import (
    SELECTED_HUMAN,
    SELECTED_MACHINE,
    Filters,
    aggregate,
    check_frame,
    dimension_order,
    format_pair,
    leaderboard_table,
    numeric_columns,
    paper_cells,
    selected_score,
)

COLS = ["stage", "aspect", "dimension", "model", "machine_win_ratio", "human_win_ratio"]


@pytest.fixture
def small() -> pd.DataFrame:
    # A has all three dimensions; B lacks "Vocal" (no sound); C has only human on "Lens".
    rows = [
        ("Prod", "Camera", "Lens", "A", 0.8, 0.6),
        ("Prod", "Camera", "Lens", "B", 0.4, 0.5),
        ("Prod", "Camera", "Lens", "C", None, 0.9),
        ("Prod", "Light", "Lighting", "A", 0.2, 0.3),
        ("Prod", "Light", "Lighting", "B", 0.6, 0.7),
        ("Prod", "Light", "Lighting", "C", 0.5, 0.1),
        ("Post", "Sound", "Vocal", "A", 0.5, 0.9),
    ]
    return pd.DataFrame(rows, columns=COLS)


@pytest.fixture
def models() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("A", "Org", True, 1.0, True, False, False),
            ("B", "Org", False, None, False, True, False),
        ],
        columns=["model", "organisation", "open_source", "params_b", "audio", "multi_shot", "reference"],
    )


@pytest.fixture(scope="module")
def paper(paper_csv) -> pd.DataFrame:
    return pd.read_csv(paper_csv)


def _get(agg, model, group, source, what="score"):
    row = agg[(agg.model == model) & (agg.group == group) & (agg.source == source)]
    assert len(row) == 1
    return row.iloc[0][what]


def test_overall_mean_skips_missing_dimensions(small):
    agg = aggregate(small, "overall")
    assert _get(agg, "A", "Overall", "machine") == pytest.approx((0.8 + 0.2 + 0.5) / 3)
    # B has no Vocal row: mean over its 2 dimensions, not (0.4 + 0.6 + 0) / 3
    assert _get(agg, "B", "Overall", "machine") == pytest.approx(0.5)
    assert _get(agg, "B", "Overall", "machine", "n") == 2
    assert _get(agg, "B", "Overall", "machine", "n_total") == 3
    # machine and human are aggregated separately: C's machine Lens is missing, its human Lens is not
    assert _get(agg, "C", "Overall", "machine") == pytest.approx(0.5)
    assert _get(agg, "C", "Overall", "machine", "n") == 1
    assert _get(agg, "C", "Overall", "human") == pytest.approx(0.5)
    assert _get(agg, "C", "Overall", "human", "n") == 2


def test_per_stage_and_aspect(small):
    st = aggregate(small, "stage")
    assert _get(st, "A", "Prod", "human") == pytest.approx(0.45)
    assert _get(st, "A", "Post", "human") == pytest.approx(0.9)
    assert math.isnan(_get(st, "B", "Post", "machine"))  # no sound rows: unknown, not zero
    assert _get(st, "B", "Post", "machine", "n") == 0
    asp = aggregate(small, "aspect")
    assert set(asp.group) == {"Camera", "Light", "Sound"}
    assert _get(asp, "B", "Light", "machine") == pytest.approx(0.6)


def test_selected_dimensions(small):
    sel = selected_score(small, ["Lens", "Vocal"], "human").set_index("model")
    assert sel.loc["A", "score"] == pytest.approx(0.75)
    assert sel.loc["B", "score"] == pytest.approx(0.5) and sel.loc["B", "n"] == 1
    assert sel.loc["A", "n_total"] == 2
    with pytest.raises(InputError):
        selected_score(small, None, "robot")
    with pytest.raises(InputError):
        aggregate(small, "shot")


def test_format_pair_and_paper_cells(small):
    assert format_pair(0.612, 0.63) == "0.61 / 0.63"
    assert format_pair(None, 0.5) == "– / 0.50"
    assert format_pair(float("nan"), None) == "–"
    cells = paper_cells(small, order=["Vocal", "Lighting", "Lens"])
    assert list(cells.columns.get_level_values("dimension")) == ["Vocal", "Lighting", "Lens"]
    assert cells.loc["B", ("Post", "Sound", "Vocal")] == "–"
    assert cells.loc["A", ("Prod", "Camera", "Lens")] == "0.80 / 0.60"


def test_dimension_order_keeps_unknowns(small):
    got = [t[2] for t in dimension_order(small, ["Vocal"])]
    assert got == ["Vocal", "Lens", "Lighting"]


def test_bad_frames_are_data_errors(small):
    with pytest.raises(DataError, match="human_win_ratio"):
        check_frame(small.drop(columns=["human_win_ratio"]))
    bad = small.copy()
    bad.loc[0, "machine_win_ratio"] = 1.5
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        check_frame(bad)
    with pytest.raises(DataError, match="duplicate"):
        check_frame(pd.concat([small, small.iloc[:1]]))
    with pytest.raises(DataError):
        check_frame("not a frame")


def test_table_sorting_ranks_and_cells(small, models):
    t = leaderboard_table(small, models)
    # machine means tie at 0.5 for A, B and C: a stable sort keeps the frame's model order
    assert list(t["Model"]) == ["A", "B", "C"]
    assert list(t["Rank"]) == [1, 2, 3]
    assert all(float(r).is_integer() for r in t["Rank"])
    assert list(t["Dims"]) == ["3/3", "2/3", "2/3"]
    assert list(t["Access"]) == ["Open", "Closed", "–"]
    assert t.loc[t.Model == "B", "Sound · Vocal"].item() == "–"
    assert t.loc[t.Model == "A", "Camera · Lens"].item() == "0.80 / 0.60"
    # human means: A 0.6, B 0.6, C 0.5 -> C last
    th = leaderboard_table(small, models, sort_by=SELECTED_HUMAN)
    assert th["Model"].iloc[-1] == "C"
    # break the tie: C's Lighting machine ratio up to 0.9 -> C's mean 0.9 ranks first
    changed = small.copy()
    changed.loc[(changed.model == "C") & (changed.dimension == "Lighting"), "machine_win_ratio"] = 0.9
    tc = leaderboard_table(changed, models)
    assert list(tc["Model"]) == ["C", "A", "B"]
    assert tc[SELECTED_MACHINE].iloc[0] == pytest.approx(0.9)
    assert set(numeric_columns(t)) == {SELECTED_MACHINE, SELECTED_HUMAN}
    with pytest.raises(InputError):
        leaderboard_table(small, models, sort_by="Model")


def test_table_level_columns_and_sort(small, models):
    t = leaderboard_table(small, models, level="stage", sort_by="Post (M)")
    assert {"Prod (M)", "Prod (H)", "Post (M)", "Post (H)"} <= set(t.columns)
    assert t["Model"].iloc[0] == "A"  # the only one with a Post value; NaN sorts last
    assert math.isnan(t["Post (M)"].iloc[-1])
    assert t["Rank"].iloc[0] == 1 and t["Rank"].iloc[1:].isna().all()  # no value, no rank


def test_table_filters(small, models):
    t = leaderboard_table(small, models, Filters(dimensions=("Lens",)))
    assert [c for c in t.columns if "·" in c] == ["Camera · Lens"]
    assert t.set_index("Model").loc["A", SELECTED_MACHINE] == pytest.approx(0.8)
    assert list(t["Model"]) == ["A", "B", "C"]  # C has no machine Lens value: sorted last
    t = leaderboard_table(small, models, Filters(access="open"))
    assert list(t["Model"]) == ["A"]
    t = leaderboard_table(small, models, Filters(access="closed"))
    assert list(t["Model"]) == ["B"]  # C is not described by the models frame: not guessed
    t = leaderboard_table(small, models, Filters(capabilities=("multi_shot",)))
    assert list(t["Model"]) == ["B"]
    t = leaderboard_table(small, models, Filters(stages=("Post",)))
    assert list(t["Model"])[0] == "A" and t.set_index("Model").loc["A", "Dims"] == "1/1"
    with pytest.raises(InputError):
        leaderboard_table(small, models, Filters(capabilities=("smell",)))


def test_paper_table_against_independent_means(paper, paper_csv):
    """Every model's overall and per-stage machine/human means, recomputed from the CSV with the csv module."""
    path = paper_csv
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    t = leaderboard_table(paper, level="stage").set_index("Model")
    assert len(t) == len({r["model"] for r in rows}) == 11
    for model in t.index:
        mine = [r for r in rows if r["model"] == model]
        assert t.loc[model, SELECTED_MACHINE] == pytest.approx(np.mean([float(r["machine_win_ratio"]) for r in mine]), abs=6e-4)
        assert t.loc[model, SELECTED_HUMAN] == pytest.approx(np.mean([float(r["human_win_ratio"]) for r in mine]), abs=6e-4)
        assert t.loc[model, "Dims"] == f"{len(mine)}/18"
        for stage in {r["stage"] for r in rows}:
            vals = [float(r["machine_win_ratio"]) for r in mine if r["stage"] == stage]
            got = t.loc[model, f"{stage} (M)"]
            assert (math.isnan(got) and not vals) or got == pytest.approx(np.mean(vals), abs=6e-4)
    ranked = leaderboard_table(paper)
    scores = ranked[SELECTED_MACHINE].tolist()
    assert scores == sorted(scores, reverse=True)
    # the cells read like the paper
    cells = paper_cells(paper)
    one = next(r for r in rows if r["model"] == "LTX2" and r["dimension"] == "Vocal")
    assert cells.loc["LTX2", ("Post-Production", "Sound Design", "Vocal")] == (
        f"{float(one['machine_win_ratio']):.2f} / {float(one['human_win_ratio']):.2f}"
    )
    assert cells.loc["Hailuo 2.3", ("Post-Production", "Sound Design", "Vocal")] == "–"
