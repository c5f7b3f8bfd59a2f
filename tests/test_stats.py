"""Leaderboard statistics against hand-worked cases and scipy."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats as sps

from evalverse.leaderboard.stats import (
    Correlation,
    alignment_table,
    bootstrap_ci,
    bradley_terry,
    bradley_terry_bootstrap,
    correlation,
    win_ratio_from_outcomes,
    win_ratio_from_scores,
)


def _battles(rows):
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])


# ---- win ratios ------------------------------------------------------------------------------

def test_win_ratio_from_outcomes_hand_worked_with_ties():
    df = _battles([("A", "B", "a"), ("A", "B", "tie"), ("B", "C", "b"), ("A", "C", "a")])
    r = win_ratio_from_outcomes(df)
    # A: 1 + 0.5 + 1 of 3; B: 0 + 0.5 + 0 of 3; C: 1 + 0 of 2
    assert r.to_dict() == pytest.approx({"A": 2.5 / 3, "B": 0.5 / 3, "C": 0.5})
    assert r.name == "win_ratio"


def test_win_ratio_from_outcomes_rejects_bad_rows():
    with pytest.raises(ValueError, match="winner"):
        win_ratio_from_outcomes(_battles([("A", "B", "draw")]))
    with pytest.raises(ValueError, match="itself"):
        win_ratio_from_outcomes(_battles([("A", "A", "a")]))
    with pytest.raises(ValueError, match="missing"):
        win_ratio_from_outcomes(pd.DataFrame({"model_a": ["A"], "winner": ["a"]}))


def test_win_ratio_from_scores_hand_worked_with_missing_and_ties():
    df = pd.DataFrame(
        [
            (1, "A", 3), (1, "B", 2), (1, "C", 3),
            (2, "A", 1), (2, "B", 4),  # C missing on item 2
            (3, "C", 5),  # alone: no comparison
            (4, "A", 2), (4, "A", 4), (4, "B", 3),  # two annotators for A average to 3: a tie with B
            (5, "D", np.nan), (5, "A", 1),  # D never scored
        ],
        columns=["item", "model", "score"],
    )
    r = win_ratio_from_scores(df)
    # A: item1 beats B, ties C; item2 loses to B; item4 ties B → 2/4. B: loses, loses, wins, ties → 1.5/4.
    # C: item1 ties A, beats B → 1.5/2.
    assert r[["A", "B", "C"]].to_dict() == pytest.approx({"A": 2 / 4, "B": 1.5 / 4, "C": 1.5 / 2})
    assert math.isnan(r["D"])


def test_win_ratio_from_scores_equals_outcomes_on_the_implied_battles():
    rng = np.random.default_rng(3)
    rows = [(item, m, float(rng.integers(1, 6))) for item in range(30) for m in "ABCDE" if rng.random() < 0.8]
    scores = pd.DataFrame(rows, columns=["item", "model", "score"])
    battles = []
    for _, part in scores.groupby("item"):
        recs = list(part.itertuples(index=False))
        for i in range(len(recs)):
            for j in range(i + 1, len(recs)):
                a, b = recs[i], recs[j]
                battles.append((a.model, b.model, "a" if a.score > b.score else "b" if a.score < b.score else "tie"))
    expected = win_ratio_from_outcomes(_battles(battles))
    pd.testing.assert_series_equal(win_ratio_from_scores(scores), expected, check_names=False, check_index_type=False)


# ---- correlation -----------------------------------------------------------------------------

def test_correlation_n4_hand_worked_and_scipy():
    c = correlation([1, 2, 3, 4], [1, 3, 2, 4])
    # Spearman: 1 - 6·Σd²/(n(n²-1)) = 1 - 6·2/60 = 0.8; the values are their ranks, so Pearson is 0.8 too
    assert c.n == 4 and c.srcc == pytest.approx(0.8) and c.plcc == pytest.approx(0.8)
    assert c.p_srcc == pytest.approx(sps.spearmanr([1, 2, 3, 4], [1, 3, 2, 4]).pvalue)
    assert c.p_plcc == pytest.approx(sps.pearsonr([1, 2, 3, 4], [1, 3, 2, 4]).pvalue)


def test_correlation_matches_scipy_with_ties_and_drops_missing_pairs():
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(size=40), 1)
    y = np.round(x + rng.normal(scale=0.7, size=40), 1)
    x[[3, 8]] = np.nan
    y[[8, 20]] = np.nan
    keep = ~(np.isnan(x) | np.isnan(y))
    c = correlation(pd.Series(x), y)
    s, p = sps.spearmanr(x[keep], y[keep]), sps.pearsonr(x[keep], y[keep])
    assert c.n == 37
    assert (c.srcc, c.p_srcc, c.plcc, c.p_plcc) == pytest.approx((s.statistic, s.pvalue, p.statistic, p.pvalue))


def test_correlation_undefined_cases_are_nan_not_errors():
    for x, y, n in (([1, 2], [2, 1], 2), ([1, 2, np.nan, 4], [1, np.nan, 3, 4], 2), ([1, 1, 1, 1], [1, 2, 3, 4], 4), ([], [], 0)):
        c = correlation(x, y)
        assert isinstance(c, Correlation) and c.n == n
        assert all(math.isnan(v) for v in (c.srcc, c.p_srcc, c.plcc, c.p_plcc))
    with pytest.raises(ValueError, match="equal length"):
        correlation([1, 2, 3], [1, 2])


def test_alignment_table_keeps_dimension_order_and_handles_missing_models():
    rng = np.random.default_rng(1)
    rows = []
    for dim, models in (("zeta", "ABCDEF"), ("alpha", "ABCD"), ("mid", "AB")):
        for m in models:
            h = rng.random()
            rows.append((dim, m, h + rng.normal(scale=0.2), h))
    rows.append(("alpha", "E", np.nan, 0.5))  # machine missing: dropped from that dimension
    df = pd.DataFrame(rows, columns=["dimension", "model", "machine", "human"])
    t = alignment_table(df)
    assert t.columns.tolist() == ["dimension", "n_models", "srcc", "p_srcc", "plcc", "p_plcc"]
    assert t["dimension"].tolist() == ["zeta", "alpha", "mid"]
    assert t["n_models"].tolist() == [6, 4, 2]
    for dim in ("zeta", "alpha"):
        part = df[(df.dimension == dim)].dropna()
        row = t.set_index("dimension").loc[dim]
        assert row["srcc"] == pytest.approx(sps.spearmanr(part.machine, part.human).statistic)
        assert row["p_plcc"] == pytest.approx(sps.pearsonr(part.machine, part.human).pvalue)
    assert t.set_index("dimension").loc["mid"][["srcc", "plcc"]].isna().all()


# ---- bootstrap -------------------------------------------------------------------------------

def test_bootstrap_ci_deterministic_and_close_to_scipy():
    rng = np.random.default_rng(5)
    values = rng.normal(10, 2, size=200)
    a = bootstrap_ci(values, np.mean, n_boot=2000, seed=1)
    assert a == bootstrap_ci(values, np.mean, n_boot=2000, seed=1)
    assert a != bootstrap_ci(values, np.mean, n_boot=2000, seed=2)
    ref = sps.bootstrap((values,), np.mean, n_resamples=2000, method="percentile", confidence_level=0.95, random_state=0)
    assert a[0] == pytest.approx(ref.confidence_interval.low, abs=0.08)
    assert a[1] == pytest.approx(ref.confidence_interval.high, abs=0.08)
    se = values.std(ddof=1) / math.sqrt(len(values))  # normal theory: ±1.96 se
    assert a[1] - a[0] == pytest.approx(2 * 1.96 * se, rel=0.1)
    wide = bootstrap_ci(values, np.mean, n_boot=2000, ci=0.99, seed=1)
    assert wide[0] < a[0] and wide[1] > a[1]


def test_bootstrap_ci_on_frames_constants_and_nan_statistics():
    assert bootstrap_ci([3.0] * 10, np.mean) == (3.0, 3.0)
    assert all(math.isnan(v) for v in bootstrap_ci([], np.mean))
    df = pd.DataFrame({"m": [0.1, 0.4, 0.35, 0.8, 0.7, 0.9], "h": [0.2, 0.3, 0.5, 0.7, 0.9, 0.8]})
    low, high = bootstrap_ci(df, lambda d: correlation(d.m, d.h).srcc, n_boot=300, seed=0)  # some resamples are NaN
    full = correlation(df.m, df.h).srcc
    assert -1 <= low <= full <= high <= 1


# ---- Bradley–Terry ---------------------------------------------------------------------------

def _neg_log_lik(theta, battles, models, prior):
    idx = {m: i for i, m in enumerate(models)}
    ll = 0.0
    for a, b, w in battles.itertuples(index=False):
        d = theta[idx[a]] - theta[idx[b]]
        s = {"a": 1.0, "b": 0.0, "tie": 0.5}[w]
        ll += s * -np.logaddexp(0, -d) + (1 - s) * -np.logaddexp(0, d)
    ll += prior * sum(-np.logaddexp(0, -t) - np.logaddexp(0, t) for t in theta)
    return -ll


def test_bt_two_models_closed_form():
    df = _battles([("A", "B", "a")] * 3 + [("A", "B", "b")])
    r = bradley_terry(df, prior=0)
    assert r["A"] - r["B"] == pytest.approx(400 * math.log10(3))  # odds 3:1
    assert (r["A"] + r["B"]) / 2 == pytest.approx(1000)
    assert r.index.tolist() == ["A", "B"]
    ties = bradley_terry(_battles([("A", "B", "a"), ("A", "B", "b"), ("A", "B", "tie"), ("B", "C", "tie")]), prior=0)
    assert ties.to_dict() == pytest.approx({"A": 1000, "B": 1000, "C": 1000})
    anchored = bradley_terry(df, prior=0, anchor="B")
    assert anchored["B"] == pytest.approx(1000) and anchored["A"] == pytest.approx(1000 + 400 * math.log10(3))


@pytest.mark.parametrize("prior", [0.0, 0.5])
def test_bt_matches_scipy_maximum_likelihood(prior):
    rng = np.random.default_rng(7)
    models = list("ABCDE")
    rows = []
    for _ in range(150):
        i, j = rng.choice(5, 2, replace=False)
        rows.append((models[i], models[j], rng.choice(["a", "b", "tie"], p=[0.45, 0.4, 0.15])))
    df = _battles(rows)
    ours = bradley_terry(df, prior=prior).reindex(models)
    res = optimize.minimize(_neg_log_lik, np.zeros(5), args=(df, models, prior), method="BFGS", options={"gtol": 1e-9})
    ref = 400 * res.x / math.log(10)
    ref = ref - ref.mean() + 1000
    assert ours.to_numpy() == pytest.approx(ref, abs=0.05)


def test_bt_recovers_planted_order_and_bootstrap_is_consistent():
    rng = np.random.default_rng(11)
    strength = {"m1": -1.5, "m2": -0.5, "m3": 0.0, "m4": 0.8, "m5": 2.0}  # natural-log strengths
    names = list(strength)
    rows = []
    for _ in range(1500):
        a, b = rng.choice(names, 2, replace=False)
        p_a = 1 / (1 + math.exp(strength[b] - strength[a]))
        u = rng.random()
        rows.append((a, b, "tie" if abs(u - p_a) < 0.03 else ("a" if u < p_a else "b")))
    df = _battles(rows)
    ratings = bradley_terry(df)
    assert ratings.index.tolist() == sorted(names, key=strength.get, reverse=True)
    # the scale: rating gaps ≈ 400·log10(e)·(strength gap)
    assert ratings["m5"] - ratings["m1"] == pytest.approx(400 * 3.5 / math.log(10), rel=0.15)
    boot = bradley_terry_bootstrap(df, n_boot=300, seed=0)
    again = bradley_terry_bootstrap(df, n_boot=300, seed=0)
    pd.testing.assert_frame_equal(boot, again)
    assert boot.columns.tolist() == ["rating", "lower", "upper", "rank_ub"]
    assert ((boot["lower"] <= boot["rating"]) & (boot["rating"] <= boot["upper"])).all()
    pd.testing.assert_series_equal(boot["rating"], ratings.reindex(boot.index), check_names=False)
    for model, row in boot.iterrows():
        assert row["rank_ub"] == 1 + int((boot["lower"] > row["upper"]).sum())
    assert boot.loc["m5", "rank_ub"] == 1 and boot.loc["m1", "rank_ub"] == 5  # well separated


def test_bt_bootstrap_overlapping_models_share_rank():
    # A and B are indistinguishable (even record), C loses to both: A and B both rank 1 by upper bound
    rows = [("A", "B", "a"), ("A", "B", "b")] * 10 + [("A", "C", "a"), ("B", "C", "a")] * 15 + [("C", "A", "a"), ("C", "B", "a")] * 3
    boot = bradley_terry_bootstrap(_battles(rows), n_boot=200, seed=3)
    assert boot.loc["A", "rank_ub"] == 1 and boot.loc["B", "rank_ub"] == 1 and boot.loc["C", "rank_ub"] == 3


def test_bt_prior_keeps_unbeaten_models_finite():
    df = _battles([("A", "B", "a"), ("A", "C", "a"), ("B", "C", "a")])
    r = bradley_terry(df)
    assert np.isfinite(r).all() and r.index.tolist() == ["A", "B", "C"]
    with pytest.raises(ValueError, match="prior"):
        bradley_terry(df, prior=-1)
    assert bradley_terry(_battles([])).empty
