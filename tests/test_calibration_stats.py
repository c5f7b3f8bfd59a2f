"""Calibration statistics: the agreement figures, the prompt bootstrap, the human ceiling, the prompt-grouped
(nested) cross-validation and the model families."""
from __future__ import annotations

import math

import numpy as np
import pytest

from evalverse.calibration import cv as CV
from evalverse.calibration.metrics import (
    PromptBootstrap, figures, group_mean_srcc, interval, pairs_within, pairwise_accuracy, rater_ceiling,
    within_group_srcc)
from evalverse.calibration.models import Preprocessor, fit_bradley_terry, fit_mlp, fit_ridge


def _design(n_prompts=20, n_sources=4, seed=0):
    rng = np.random.default_rng(seed)
    prompt = np.repeat([f"p{i}" for i in range(n_prompts)], n_sources)
    source = np.tile([f"s{j}" for j in range(n_sources)], n_prompts)
    return rng, prompt, source


# ---- figures -------------------------------------------------------------------------------------

def test_within_prompt_accuracy_counts_only_pairs_of_one_prompt_and_skips_human_ties():
    prompt = np.array(["a", "a", "a", "b", "b"])
    human = np.array([1.0, 2.0, 2.0, 5.0, 1.0])
    i, j = pairs_within(prompt)
    assert sorted(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (1, 2), (3, 4)]
    assert pairwise_accuracy(human, human, i, j) == 1.0
    assert pairwise_accuracy(-human, human, i, j) == 0.0  # the (1, 2) human tie is not counted either way
    tied = np.array([0.0, 0.0, 1.0, 1.0, 0.0])  # (0, 1) tied prediction: one half
    assert pairwise_accuracy(tied, human, i, j) == pytest.approx((0.5 + 1 + 1) / 3)


def test_a_source_detector_wins_clip_level_but_not_within_source():
    rng, prompt, source = _design(30, 5)
    level = {f"s{j}": j for j in range(5)}
    human = np.array([level[s] for s in source]) + rng.normal(0, 0.8, source.size)
    detector = np.array([level[s] for s in source], float)  # knows only which source made the clip
    f = figures(detector + rng.normal(0, 1e-6, source.size), human, prompt, source)
    assert f["clip_srcc"] > 0.6 and f["source_srcc"] == pytest.approx(1.0)
    assert abs(f["within_source_srcc"]) < 0.25
    assert within_group_srcc(human, human, source) == pytest.approx(1.0)
    assert group_mean_srcc(human, human, source) == pytest.approx(1.0)


def test_figures_leave_out_clips_without_a_prediction():
    _, prompt, source = _design(6, 3)
    human = np.arange(prompt.size, dtype=float)
    pred = human.copy()
    pred[:4] = np.nan
    f = figures(pred, human, prompt, source)
    assert f["n"] == prompt.size - 4 and f["clip_srcc"] == pytest.approx(1.0)


def test_bootstrap_resamples_whole_prompts_and_is_reproducible():
    _, prompt, source = _design(8, 3)
    boot = PromptBootstrap(prompt, source, n_boot=50, seed=3)
    for idx, pi, pj, groups in boot.draws:
        assert idx.size % 3 == 0  # whole prompts only
        picked = prompt[idx]
        for k in range(0, idx.size, 3):
            assert len(set(picked[k:k + 3])) == 1
        assert np.all(picked[pi] == picked[pj])
    again = PromptBootstrap(prompt, source, n_boot=50, seed=3)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(boot.draws, again.draws))
    human = np.arange(prompt.size, dtype=float)
    lo, hi = interval(boot.distribution(human + 0.1 * np.sin(human), human)["clip_srcc"])
    assert 0.9 < lo <= hi <= 1.0


def test_ceiling_is_one_for_raters_who_agree_and_lower_for_noisy_ones():
    rng, prompt, source = _design(20, 4)
    truth = rng.normal(3, 1, prompt.size)
    same = np.column_stack([truth] * 3)
    point, _ = rater_ceiling(same, prompt, source)
    assert point["clip_srcc"] == pytest.approx(1.0) and point["within_prompt_accuracy"] == pytest.approx(1.0)
    noisy = truth[:, None] + rng.normal(0, 1.0, (prompt.size, 3))
    point, dist = rater_ceiling(noisy, prompt, source, PromptBootstrap(prompt, source, 40, 0))
    assert 0.2 < point["clip_srcc"] < 0.9
    lo, hi = interval(dist["clip_srcc"])
    assert lo <= point["clip_srcc"] <= hi


# ---- cross-validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("k,seed", [(2, 0), (5, 1), (7, 2), (40, 3)])
def test_grouped_folds_never_put_a_prompt_on_both_sides_and_test_every_clip_once(k, seed):
    _, prompt, _ = _design(23, 5)
    folds = CV.grouped_folds(prompt, k, seed)
    tested = np.concatenate([te for _, te in folds])
    assert np.array_equal(np.sort(tested), np.arange(prompt.size))
    for tr, te in folds:
        assert not set(prompt[tr]) & set(prompt[te])
        assert set(prompt[tr]) | set(prompt[te]) == set(prompt)


def test_nested_cv_chooses_on_training_prompts_only(monkeypatch):
    rng, prompt, source = _design(15, 4)
    X = rng.normal(size=(prompt.size, 3))
    y = X @ [1.0, -0.5, 0.0] + rng.normal(0, 0.5, prompt.size)
    seen: list[set] = []
    fitted_rows: list[int] = []
    real_select, real_fit = CV.select, Preprocessor.fit

    def spy_select(X_, y_, groups, *a, **k):
        seen.append(set(groups))
        return real_select(X_, y_, groups, *a, **k)

    def spy_fit(X_):
        fitted_rows.append(len(X_))
        return real_fit(X_)

    monkeypatch.setattr(CV, "select", spy_select)
    monkeypatch.setattr(Preprocessor, "fit", staticmethod(spy_fit))
    res = CV.nested_cv(X, y, prompt, source, ["ridge"], folds=5, repeats=2, inner_folds=3, by="clip_srcc")
    assert len(res["splits"]) == len(seen) == 10
    for (tr, te), chosen_on in zip(res["splits"], seen):
        assert chosen_on == set(prompt[tr]) and not chosen_on & set(prompt[te])
    assert max(fitted_rows) < prompt.size  # standardisation never saw a held-out clip
    assert figures(res["predictions"]["selected"], y, prompt, source)["clip_srcc"] > 0.6


def test_noise_features_give_no_held_out_agreement():
    rng, prompt, source = _design(20, 5, seed=4)
    X = rng.normal(size=(prompt.size, 10))
    y = rng.normal(size=prompt.size)
    res = CV.nested_cv(X, y, prompt, source, ["ridge", "bradley_terry"], folds=4, repeats=1, inner_folds=3, by="clip_srcc")
    assert abs(figures(res["predictions"]["selected"], y, prompt, source)["clip_srcc"]) < 0.3


def test_the_mlp_is_chosen_only_when_inner_cv_prefers_it():
    rng, prompt, source = _design(12, 5, seed=5)
    X = rng.normal(size=(prompt.size, 2))
    linear = X[:, 0] + rng.normal(0, 0.3, prompt.size)
    assert CV.select(X, linear, prompt, source, ["ridge", "mlp"], 3, "clip_srcc").family == "ridge"
    bowl = X[:, 0] ** 2 + rng.normal(0, 0.1, prompt.size)  # no linear model orders this
    assert CV.select(X, bowl, prompt, source, ["ridge", "mlp"], 3, "clip_srcc").family == "mlp"


def test_oriented_feature_learns_its_sign_on_training_prompts():
    rng, prompt, source = _design(20, 4, seed=6)
    x = rng.normal(size=prompt.size)
    pred = CV.oriented_feature(x, -2 * x + rng.normal(0, 0.3, x.size), prompt, 5, 2)
    np.testing.assert_allclose(pred, -x)


# ---- model families --------------------------------------------------------------------------------

def test_ridge_shrinks_towards_the_mean_and_recovers_weights_with_little_penalty():
    rng = np.random.default_rng(7)
    Z = rng.normal(size=(200, 3))
    y = 3 + Z @ [0.5, -1.0, 0.0] + rng.normal(0, 0.05, 200)
    m = fit_ridge(Z, y, 1e-3)
    np.testing.assert_allclose(m.weights, [0.5, -1.0, 0.0], atol=0.03)
    assert np.all(np.abs(fit_ridge(Z, y, 1e6).weights) < 0.01)


def test_bradley_terry_learns_the_within_prompt_order_and_puts_it_on_the_scale():
    rng, prompt, _ = _design(40, 4, seed=8)
    Z = rng.normal(size=(prompt.size, 2))
    offsets = np.repeat(rng.normal(0, 2, 40), 4)  # prompts differ in level: BT ignores that
    y = 3 + offsets + Z[:, 0] - 0.5 * Z[:, 1]
    m = fit_bradley_terry(Z, y, prompt, alpha=0.01)
    assert m.weights[0] > 0 > m.weights[1]
    i, j = pairs_within(prompt)
    assert pairwise_accuracy(m.predict(Z), y, i, j) > 0.95


def test_mlp_fits_a_curve_and_is_deterministic_for_a_seed():
    rng = np.random.default_rng(9)
    Z = rng.normal(size=(150, 1))
    y = Z[:, 0] ** 2
    a, b = fit_mlp(Z, y, 8, 0.01, seed=1), fit_mlp(Z, y, 8, 0.01, seed=1)
    np.testing.assert_array_equal(a.predict(Z), b.predict(Z))
    assert np.corrcoef(a.predict(Z), y)[0, 1] > 0.95


def test_preprocessor_imputes_training_medians_and_standardises_on_training_rows():
    X = np.array([[1.0, np.nan], [3.0, 2.0], [5.0, 4.0]])
    pre = Preprocessor.fit(X)
    assert pre.impute.tolist() == [3.0, 3.0]
    Z = pre.transform(np.array([[np.nan, 3.0]]))
    assert Z[0, 0] == pytest.approx(0.0) and not math.isnan(Z[0, 1])


# ---- sign constraints from the catalogue's directions ------------------------------------------------

def test_directions_become_weight_signs_and_neutral_measures_stay_free():
    from evalverse.calibration.models import direction_signs

    signs = direction_signs(["higher_is_better", "lower_is_better", "neutral", "target_band", None])
    np.testing.assert_array_equal(signs, [1, -1, 0, 0, 0])


def test_signed_ridge_never_learns_that_more_noise_is_better_but_keeps_what_agrees():
    """A confounded set: the 'noise' column rises with the human score (as FETV's grainy real clips rated best),
    sharpness too, and a neutral column helps. Ridge learns +noise; signed ridge holds it at 0."""
    rng = np.random.default_rng(11)
    Z = rng.normal(size=(300, 3))  # sharpness (higher is better), noise (lower is better), neutral
    y = 3 + 0.8 * Z[:, 0] + 0.6 * Z[:, 1] - 0.4 * Z[:, 2] + rng.normal(0, 0.1, 300)
    free = fit_ridge(Z, y, 0.1)
    signed = fit_ridge(Z, y, 0.1, signs=np.array([1, -1, 0]))
    assert free.weights[1] > 0.5 and signed.family == "ridge_signed"
    assert signed.weights[1] == 0.0 and signed.weights[0] > 0.5 and signed.weights[2] < -0.3
    # with every sign agreeing, the constraint changes nothing
    agree = fit_ridge(Z, y, 0.1, signs=np.array([1, 1, -1]))
    np.testing.assert_allclose(agree.weights, free.weights, atol=1e-6)


def test_signed_bradley_terry_respects_the_bounds_too():
    from evalverse.calibration.models import fit_bradley_terry

    rng, prompt, _ = _design(40, 4, seed=12)
    Z = rng.normal(size=(prompt.size, 2))
    y = 3 + Z[:, 0] + Z[:, 1]
    m = fit_bradley_terry(Z, y, prompt, alpha=0.01, signs=np.array([1, -1]))
    assert m.family == "bradley_terry_signed" and m.weights[0] > 0 and m.weights[1] == 0.0


def test_a_signed_family_needs_its_signs():
    from evalverse.calibration.models import fit_family

    with pytest.raises(ValueError, match="needs the features' signs"):
        fit_family("ridge_signed", np.zeros((4, 1)), np.zeros(4), np.array(list("aabb")), {"alpha": 1.0})


def test_the_simplest_tier_wins_unless_a_freer_one_beats_it_by_a_standard_error():
    rng, prompt, source = _design(15, 5, seed=13)
    X = rng.normal(size=(prompt.size, 2))
    agreeing = X[:, 0] - X[:, 1] + rng.normal(0, 0.3, prompt.size)  # the directions hold: nothing to separate
    signs = np.array([1, -1])
    assert CV.select(X, agreeing, prompt, source, ["ridge", "ridge_signed"], 3, "clip_srcc", signs=signs).family == "ridge_signed"
    against = X[:, 0] + 2 * X[:, 1] + rng.normal(0, 0.3, prompt.size)  # the data contradict a direction clearly
    assert CV.select(X, against, prompt, source, ["ridge", "ridge_signed"], 3, "clip_srcc", signs=signs).family == "ridge"
