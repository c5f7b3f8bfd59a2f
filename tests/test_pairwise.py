"""Win ratios from per-case scores with bootstrap intervals over cases (pure functions)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalverse.leaderboard import pairwise
from evalverse.leaderboard.stats import bradley_terry_bootstrap


def _scores(rows):
    return pd.DataFrame(rows, columns=["case", "model", "dimension", "status", "score"])


def test_pairs_ties_and_exclusions_by_hand():
    s = _scores([
        ("c1", "A", "d", "scored", 4.0), ("c1", "B", "d", "scored", 3.0), ("c1", "C", "d", "scored", 3.0),
        ("c2", "A", "d", "scored", 2.0), ("c2", "B", "d", "gated", None), ("c2", "C", "d", "scored", 5.0),
        ("c3", "A", "d", "not_judged", None), ("c3", "B", "d", "scored", 1.0),  # C did not submit c3
    ])
    wins, excl = pairwise.outcomes_from_scores(s)
    assert sorted(map(tuple, wins[["case", "model_a", "model_b", "winner"]].values.tolist())) == [
        ("c1", "A", "B", "a"), ("c1", "A", "C", "a"), ("c1", "B", "C", "tie"), ("c2", "A", "C", "b")]
    assert sorted(map(tuple, excl[["case", "model_a", "model_b", "reason"]].values.tolist())) == [
        ("c2", "A", "B", "gated"), ("c2", "B", "C", "gated"), ("c3", "A", "B", "not_judged")]
    table = pairwise.win_ratio_table(wins, excl, n_boot=200).set_index("model")
    # A: won 2 on c1, lost 1 on c2 -> 2/3; B: lost 1, tie 1 -> 0.5/2; C: lost 1, tie 1, won 1 -> 1.5/3
    assert table.loc["A", "win_ratio"] == pytest.approx(2 / 3)
    assert table.loc["B", "win_ratio"] == pytest.approx(0.25)
    assert table.loc["C", "win_ratio"] == pytest.approx(0.5)
    assert table.loc["A", "n_cases"] == 2 and table.loc["B", "n_cases"] == 1 and table.loc["A", "n_pairs"] == 3
    assert table.loc["B", "n_excluded"] == 3 and table.loc["A", "n_excluded"] == 2 and table.loc["C", "n_excluded"] == 1


def test_seeds_are_averaged_over_their_scored_results():
    flat = pairwise.collapse_seeds(_scores([
        ("c", "A", "d", "scored", 2.0), ("c", "A", "d", "scored", 4.0), ("c", "A", "d", "error", None),
        ("c", "B", "d", "gated", None), ("c", "B", "d", "error", None),
    ])).set_index("model")
    assert flat.loc["A", "status"] == "scored" and flat.loc["A", "score"] == 3.0
    assert flat.loc["B", "status"] == "gated" and np.isnan(flat.loc["B", "score"])


def _outcomes(p_a: float, n_cases: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    winners = np.where(rng.random(n_cases) < p_a, "a", "b")
    return pd.DataFrame({"case": [f"c{i}" for i in range(n_cases)], "model_a": "A", "model_b": "B", "winner": winners})


def test_interval_covers_the_estimate_narrows_with_cases_and_is_reproducible():
    small = pairwise.case_win_ratios(_outcomes(0.7, 12), n_boot=500).set_index("model")
    large = pairwise.case_win_ratios(_outcomes(0.7, 400), n_boot=500).set_index("model")
    for t in (small, large):
        assert (t["ci_low"] <= t["win_ratio"]).all() and (t["win_ratio"] <= t["ci_high"]).all()
        assert t.loc["A", "win_ratio"] + t.loc["B", "win_ratio"] == pytest.approx(1.0)
    width = lambda t: t.loc["A", "ci_high"] - t.loc["A", "ci_low"]  # noqa: E731
    assert width(large) < width(small) / 3
    again = pairwise.case_win_ratios(_outcomes(0.7, 12), n_boot=500).set_index("model")
    pd.testing.assert_frame_equal(small, again)
    assert abs(large.loc["A", "win_ratio"] - 0.7) < 0.06


def test_bootstrap_keeps_a_case_together():
    """Two cases with 50 comparisons each: resampling cases (not comparisons) gives a wide interval."""
    rows = [("c1", "A", "B", "a")] * 50 + [("c2", "A", "B", "b")] * 50
    table = pairwise.case_win_ratios(pd.DataFrame(rows, columns=["case", "model_a", "model_b", "winner"]), n_boot=500)
    a = table.set_index("model").loc["A"]
    assert a.win_ratio == 0.5 and a.ci_low == 0.0 and a.ci_high == 1.0 and a.n_cases == 2


def test_min_cases_is_the_sign_test_limit():
    assert pairwise.min_cases(0.05) == 6  # 2·0.5^5 = 0.0625 > 0.05 ≥ 2·0.5^6
    assert pairwise.min_cases(0.01) == 8


def test_grouped_bradley_terry_bootstrap_and_rank_upper_bound():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        for a, b, p in (("A", "B", 0.8), ("B", "C", 0.8), ("A", "C", 0.9)):
            rows.append((f"c{i}", a, b, "a" if rng.random() < p else "b"))
    df = pd.DataFrame(rows, columns=["case", "model_a", "model_b", "winner"])
    bt = bradley_terry_bootstrap(df, n_boot=200, groups="case")
    assert list(bt.index) == ["A", "B", "C"] and list(bt["rank_ub"]) == [1, 2, 3]
    assert (bt["lower"] <= bt["rating"]).all() and (bt["rating"] <= bt["upper"]).all()
    with pytest.raises(ValueError, match="grouped bootstrap"):
        bradley_terry_bootstrap(df.drop(columns="case"), n_boot=10, groups="case")
    ratings = pairwise.rating_table(df.assign(dimension="d"), n_boot=100)
    assert set(ratings["dimension"]) == {"d", "overall"} and (ratings["n_battles"] == 120).all()


def test_human_outcomes_use_the_same_pairing():
    point = pd.DataFrame([("c1", "A", "d", 4.0), ("c1", "A", "d", 2.0), ("c1", "B", "d", 2.5), ("c1", "X", "d", 5.0),
                          ("c2", "A", "d", 1.0), ("c2", "B", "d", 3.0)], columns=["case", "model", "dimension", "score"])
    pair = pd.DataFrame([("d", "c2", "A", "B", "tie"), ("d", "c9", "A", "B", "a")], columns=pairwise.OUTCOME_COLUMNS)
    cases_of = {"A": {"c1", "c2"}, "B": {"c1", "c2"}}  # X submitted nothing; c9 is not a shared case
    got = pairwise.human_outcomes(point, pair, cases_of)
    assert sorted(map(tuple, got[["case", "model_a", "model_b", "winner"]].values.tolist())) == [
        ("c1", "A", "B", "a"), ("c2", "A", "B", "b"), ("c2", "A", "B", "tie")]
