"""Agreement statistics (evalverse.leaderboard.agreement) and the Bradley–Terry extensions the scheduler uses."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evalverse.leaderboard import agreement as ag
from evalverse.leaderboard.stats import (
    bradley_terry_bootstrap, bradley_terry_intervals, win_ratio_from_outcomes,
)

NAN = float("nan")
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example with four observers, twelve
# units and missing values; the paper reports alpha = 0.743 (nominal), 0.815 (ordinal), 0.849 (interval), 0.797 (ratio).
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


def test_alpha_hand_worked_two_raters_three_units():
    # units (x,x), (x,y), (y,y): coincidences o_xx = 2, o_xy = o_yx = 1, o_yy = 2; n_x = n_y = 3, n = 6.
    # alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k = 1 - 5 * 2 / (3 * 3 * 2) = 4/9
    assert ag.krippendorff_alpha([[0, 0, 1], [0, 1, 1]], "nominal") == pytest.approx(4 / 9)


@pytest.mark.parametrize("level, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_alpha_matches_krippendorff_2011(level, published):
    assert ag.krippendorff_alpha(K2011, level) == pytest.approx(published, abs=5e-4)


def test_alpha_matches_the_krippendorff_package_on_random_data():
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(3)
    for _ in range(40):
        x = rng.integers(1, 6, size=(rng.integers(2, 6), rng.integers(3, 25))).astype(float)
        x[rng.random(x.shape) < 0.25] = np.nan
        if len(np.unique(x[~np.isnan(x)])) < 2 or ((~np.isnan(x)).sum(axis=0) >= 2).sum() == 0:
            continue
        for level in ("nominal", "ordinal", "interval", "ratio"):
            ours = ag.krippendorff_alpha(x, level)
            theirs = krippendorff.alpha(reliability_data=x, level_of_measurement=level)
            assert ours == pytest.approx(theirs, abs=1e-9) or (math.isnan(ours) and math.isnan(theirs))


def test_alpha_undefined_and_perfect_cases():
    assert math.isnan(ag.krippendorff_alpha([[1, 1, 1], [1, 1, 1]], "ordinal"))  # no variation at all
    assert math.isnan(ag.krippendorff_alpha([[1, NAN], [NAN, 2]], "nominal"))  # nothing pairable
    assert ag.krippendorff_alpha([[1, 2, 3], [1, 2, 3]], "interval") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="raters × units"):
        ag.krippendorff_alpha([1, 2, 3])


def test_alpha_from_labels_and_bootstrap_interval():
    long = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "rater": ["r", "s"] * 3, "value": ["a", "a", "a", "b", "b", "b"]})
    assert ag.alpha_from_long(long, "unit", "rater", "value") == pytest.approx(4 / 9)
    with pytest.raises(ValueError, match="numeric"):
        ag.alpha_from_long(long, "unit", "rater", "value", "ordinal")
    lo, hi = ag.alpha_bootstrap(np.array(K2011, dtype=float), "interval", n_boot=300, seed=1)
    assert lo < 0.849 < hi and (lo, hi) == ag.alpha_bootstrap(np.array(K2011, dtype=float), "interval", n_boot=300, seed=1)


def test_leave_one_rater_out_against_the_others_mean():
    # r3 reverses the order of r1 and r2, who agree: their LOO SRCCs are +0 (against a flat mean) and r3's is -1
    df = pd.DataFrame({"unit": [1, 2, 3, 4] * 3, "rater": ["r1"] * 4 + ["r2"] * 4 + ["r3"] * 4,
                       "score": [1, 2, 3, 4, 1, 2, 3, 4, 4, 3, 2, 1]})
    out = ag.leave_one_rater_out(df).set_index("rater")
    assert out.loc["r3", "srcc"] == pytest.approx(-1.0) and out.loc["r3", "n"] == 4
    assert math.isnan(out.loc["r1", "srcc"])  # mean of r2 and r3 is constant 2.5: undefined, not a number
    assert out.loc["r3", "mae"] == pytest.approx(2.0)  # against 1,2,3,4: |3|, |1|, |1|, |3|


def test_pairwise_agreement_rate_and_implied_preferences():
    # unit u: a, a, b -> pairs (a,a) agree, two disagree; unit v: tie, tie -> agree
    df = pd.DataFrame({"unit": ["u", "u", "u", "v", "v"], "rater": ["x", "y", "z", "x", "y"],
                       "value": ["a", "a", "b", "tie", "tie"]})
    assert ag.pairwise_agreement_rate(df) == (pytest.approx(2 / 4), 4)
    scores = pd.DataFrame({"group": ["g"] * 6, "item": ["v1", "v2", "v3"] * 2, "rater": ["x"] * 3 + ["y"] * 3,
                           "score": [5, 3, 3, 4, 4, 1]})
    prefs = ag.preferences_from_scores(scores).sort_values(["unit", "rater"])
    assert prefs.values.tolist() == [
        ["g|v1|v2", "x", "a"], ["g|v1|v2", "y", "tie"], ["g|v1|v3", "x", "a"], ["g|v1|v3", "y", "a"],
        ["g|v2|v3", "x", "tie"], ["g|v2|v3", "y", "a"]]


def test_consensus_agreement_skips_units_without_a_majority():
    df = pd.DataFrame({"unit": ["u"] * 4 + ["v"] * 2, "rater": ["x", "y", "z", "w", "x", "y"],
                       "value": ["a", "a", "a", "b", "a", "b"]})
    out = ag.consensus_agreement(df).set_index("rater")
    # u: x, y and z each see a majority "a" among the others (they match); w sees a, a, a (misses).
    # v: x sees "b", y sees "a": both miss. Nothing is skipped here...
    assert out.to_dict("index") == {"w": {"n": 1, "agreement": 0.0}, "x": {"n": 2, "agreement": 0.5},
                                    "y": {"n": 2, "agreement": 0.5}, "z": {"n": 1, "agreement": 1.0}}
    # ...but with two others split 1:1 there is no majority to agree with
    split = pd.DataFrame({"unit": ["u"] * 3, "rater": ["x", "y", "z"], "value": ["a", "b", "c"]})
    assert ag.consensus_agreement(split).empty


def test_side_bias_binomial_and_constant_answers():
    assert ag.side_bias_p(10, 10) == pytest.approx(1.0)
    assert ag.side_bias_p(20, 0) == pytest.approx(2 * 0.5 ** 20)
    assert math.isnan(ag.side_bias_p(0, 0))
    assert ag.constant_answers(["a"] * 10) and not ag.constant_answers(["a"] * 9) and not ag.constant_answers(["a"] * 9 + ["b"])


def test_fast_outliers_flag_only_the_hasty_rater():
    rng = np.random.default_rng(0)
    rows = []
    for unit in range(20):
        base = rng.uniform(40, 80)
        for r in ("p", "q", "s", "t"):
            rows.append({"unit": unit, "rater": r, "seconds": base * rng.uniform(0.8, 1.25)})
        rows.append({"unit": unit, "rater": "hasty", "seconds": base * 0.08})
    out = ag.fast_outliers(pd.DataFrame(rows)).set_index("rater")
    assert out["flagged"].to_dict() == {"hasty": True, "p": False, "q": False, "s": False, "t": False}
    assert out.loc["hasty", "median_ratio"] < 0.15


def test_both_bad_counts_as_a_tie_in_win_ratios():
    df = pd.DataFrame({"model_a": ["A", "A"], "model_b": ["B", "B"], "winner": ["a", "both_bad"]})
    assert win_ratio_from_outcomes(df).to_dict() == {"A": 0.75, "B": 0.25}


def test_bradley_terry_wald_intervals_agree_with_the_bootstrap():
    rng = np.random.default_rng(1)
    truth = {"A": 1.0, "B": 0.5, "C": 0.0, "D": -0.8}
    rows = []
    for _ in range(400):
        a, b = rng.choice(list(truth), 2, replace=False)
        rows.append((a, b, "a" if rng.random() < 1 / (1 + math.exp(truth[b] - truth[a])) else "b"))
    df = pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])
    wald, boot = bradley_terry_intervals(df), bradley_terry_bootstrap(df, n_boot=300, seed=2)
    assert list(wald.index) == ["A", "B", "C", "D"] and list(wald["rating"]) == pytest.approx(list(boot["rating"]))
    widths = (wald["upper"] - wald["lower"]) / (boot["upper"] - boot["lower"]).reindex(wald.index)
    assert widths.between(0.75, 1.33).all()
    anchored = bradley_terry_intervals(df, prior=0, anchor="C")
    assert anchored.loc["C", "se"] == pytest.approx(0.0) and anchored.loc["C", "rating"] == pytest.approx(1000.0)
