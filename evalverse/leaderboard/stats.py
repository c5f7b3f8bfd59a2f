"""Pure statistics for the leaderboard and the human–machine alignment view.

Everything here takes pandas/numpy data and returns new data; nothing reads the store or the taxonomy.

- Win ratios (the paper's unified comparison signal, section 7.2): a model's wins over all the
  comparisons it took part in, a tie counting half a win. "both_bad" (neither output acceptable) carries no
  preference between the two and counts as a tie, as FastChat's "tie (bothbad)" vote does.
- Correlation: Spearman (SRCC) and Pearson (PLCC) with p-values from scipy.stats, NaN-safe.
- Percentile bootstrap intervals, deterministic for a given seed.
- Bradley–Terry ratings by maximum likelihood (damped Newton steps on the concave log-likelihood), ties as half
  a win to each side, on an Elo-like scale: rating = 1000 + 400·log10(strength), so a 400-point gap means
  10:1 odds. The scale is anchored so that the mean rating is 1000, or so that `anchor` has exactly 1000.
  Intervals by bootstrap (`bradley_terry_bootstrap`) or, fast enough to refit after every vote, from the
  observed Fisher information (`bradley_terry_intervals`, a Wald interval).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

WINNERS = ("a", "b", "tie", "both_bad")
SCORE_A = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}  # model_a's share of the point


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs columns {list(columns)}; missing {missing}")


# ---- win ratios ------------------------------------------------------------------------------

def _check_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    _require(df, ("model_a", "model_b", "winner"), "outcomes")
    out = df[["model_a", "model_b", "winner"]].copy()
    out["winner"] = out["winner"].astype(str).str.strip().str.lower()
    bad = ~out["winner"].isin(WINNERS)
    if bad.any():
        raise ValueError(f"winner must be one of {WINNERS}; found {sorted(out.loc[bad, 'winner'].unique())}")
    if (out["model_a"] == out["model_b"]).any():
        raise ValueError("an outcome compares a model with itself")
    return out


def win_ratio_from_outcomes(df: pd.DataFrame) -> pd.Series:
    """Per model: (wins + ties/2) / comparisons, from rows model_a, model_b, winner ∈ {a, b, tie, both_bad}.
    Indexed by model (sorted), named `win_ratio`."""
    out = _check_outcomes(df)
    score_a = out["winner"].map(SCORE_A)
    long = pd.concat(
        [
            pd.DataFrame({"model": out["model_a"].to_numpy(), "score": score_a.to_numpy()}),
            pd.DataFrame({"model": out["model_b"].to_numpy(), "score": 1.0 - score_a.to_numpy()}),
        ]
    )
    ratio = long.groupby("model")["score"].mean() if len(long) else pd.Series(dtype=float)
    return ratio.sort_index().rename("win_ratio")


def win_ratio_from_scores(df: pd.DataFrame) -> pd.Series:
    """Per model, from pointwise rows item, model, score: on each item every pair of models that both have a
    score is compared (higher wins, equal is a tie worth half). Several scores for the same item and model
    (several annotators) are averaged first; missing scores are skipped. A model that was never compared
    gets NaN. Indexed by model (sorted), named `win_ratio`."""
    _require(df, ("item", "model", "score"), "scores")
    clean = df[["item", "model", "score"]].copy()
    clean["score"] = pd.to_numeric(clean["score"], errors="raise")
    clean = clean.dropna(subset=["score"])
    table = clean.pivot_table(index="item", columns="model", values="score", aggfunc="mean")
    models = sorted(set(df["model"].dropna()))
    table = table.reindex(columns=models)
    x = table.to_numpy(dtype=float)  # items × models
    present = ~np.isnan(x)
    xi, xj = x[:, :, None], x[:, None, :]
    both = present[:, :, None] & present[:, None, :]
    both &= ~np.eye(len(models), dtype=bool)[None, :, :]
    with np.errstate(invalid="ignore"):
        points = np.where(both, (xi > xj) + 0.5 * (xi == xj), 0.0)
    comparisons = both.sum(axis=(0, 2))
    wins = points.sum(axis=(0, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(comparisons > 0, wins / np.maximum(comparisons, 1), np.nan)
    return pd.Series(ratio, index=pd.Index(models, name="model"), name="win_ratio")


# ---- correlation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Correlation:
    """Spearman (srcc) and Pearson (plcc) correlations with two-sided p-values over n complete pairs.
    NaN where undefined (fewer than 3 pairs, or a constant side)."""

    n: int
    srcc: float
    p_srcc: float
    plcc: float
    p_plcc: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def correlation(x: Sequence[float] | np.ndarray | pd.Series, y: Sequence[float] | np.ndarray | pd.Series) -> Correlation:
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"correlation needs two 1-D sequences of equal length; got shapes {a.shape} and {b.shape}")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = int(a.size)
    nan = float("nan")
    if n < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return Correlation(n, nan, nan, nan, nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. scipy's notes on small n; values are still defined
        s = sps.spearmanr(a, b)
        p = sps.pearsonr(a, b)
    return Correlation(n, float(s.statistic), float(s.pvalue), float(p.statistic), float(p.pvalue))


def alignment_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per dimension (in order of first appearance), the correlation across models between the machine and
    human columns: DataFrame[dimension, n_models, srcc, p_srcc, plcc, p_plcc]."""
    _require(df, ("dimension", "model", "machine", "human"), "alignment_table")
    rows = []
    for dim, part in df.groupby("dimension", sort=False):
        c = correlation(part["machine"].to_numpy(dtype=float), part["human"].to_numpy(dtype=float))
        rows.append({"dimension": dim, "n_models": c.n, "srcc": c.srcc, "p_srcc": c.p_srcc, "plcc": c.plcc, "p_plcc": c.p_plcc})
    return pd.DataFrame(rows, columns=["dimension", "n_models", "srcc", "p_srcc", "plcc", "p_plcc"])


# ---- bootstrap -------------------------------------------------------------------------------

def bootstrap_ci(
    data: Sequence[float] | np.ndarray | pd.Series | pd.DataFrame,
    statistic: Callable[[Any], float],
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic`: values (resampled element-wise) or a DataFrame
    (resampled by rows). Resamples whose statistic is NaN are ignored. Same seed → same interval."""
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie in (0, 1), not {ci}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be positive, not {n_boot}")
    frame = isinstance(data, pd.DataFrame)
    values = data if frame else np.asarray(data, dtype=float)
    n = len(values)
    if n == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    stats = np.array(
        [float(statistic(values.iloc[idx] if frame else values[idx])) for idx in draws], dtype=float
    )
    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return (float("nan"), float("nan"))
    alpha = (1 - ci) / 2
    low, high = np.percentile(stats, [100 * alpha, 100 * (1 - alpha)])
    return (float(low), float(high))


# ---- Bradley–Terry ---------------------------------------------------------------------------

SCALE = 400.0
BASE = 10.0
INIT_RATING = 1000.0


def _battle_arrays(df: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    out = _check_outcomes(df)
    models = sorted(set(out["model_a"]) | set(out["model_b"]))
    index = {m: i for i, m in enumerate(models)}
    ia = out["model_a"].map(index).to_numpy()
    ib = out["model_b"].map(index).to_numpy()
    score_a = out["winner"].map(SCORE_A).to_numpy()
    return models, ia, ib, score_a


def _win_matrix(n: int, ia: np.ndarray, ib: np.ndarray, score_a: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """wins[i, j] = (weighted) wins of i over j, ties counting half to each."""
    w = np.ones_like(score_a) if weights is None else weights
    wins = np.zeros((n, n))
    np.add.at(wins, (ia, ib), w * score_a)
    np.add.at(wins, (ib, ia), w * (1.0 - score_a))
    return wins


def _log_likelihood(theta: np.ndarray, wins: np.ndarray, prior: float) -> float:
    d = theta[:, None] - theta[None, :]
    ll = -(wins * np.logaddexp(0.0, -d)).sum()  # Σ w_ij · log σ(θ_i − θ_j)
    if prior:
        ll -= prior * (np.logaddexp(0.0, -theta) + np.logaddexp(0.0, theta)).sum()
    return float(ll)


def _information(theta: np.ndarray, games: np.ndarray, prior: float) -> np.ndarray:
    """Observed Fisher information (minus the Hessian of the log-likelihood) at θ, for `games[i, j]` games
    between i and j. With prior = 0 the likelihood ignores a common shift of θ; adding 1/n to every entry
    removes that flat direction (it fixes mean θ) without changing anything else."""
    pi = 1.0 / (1.0 + np.exp(-(theta[:, None] - theta[None, :])))
    sig = 1.0 / (1.0 + np.exp(-theta))
    info = -games * pi * pi.T
    np.fill_diagonal(info, 0.0)
    np.fill_diagonal(info, -info.sum(axis=1) + 2.0 * prior * sig * (1.0 - sig))
    if prior == 0:
        info = info + 1.0 / theta.size
    return info


def _fit_log_strength(wins: np.ndarray, prior: float, max_iter: int = 100, tol: float = 1e-10) -> np.ndarray:
    """Natural-log strengths θ maximising the Bradley–Terry log-likelihood Σ w_ij·log σ(θ_i − θ_j) of `wins`
    plus, when prior > 0, `prior` wins and `prior` losses of each model against a virtual opponent with
    θ = 0. Damped Newton steps; the likelihood is concave, so each accepted step climbs. With prior = 0 the
    likelihood fixes θ only up to a common shift (fixed here by mean θ = 0), and models that never played
    get NaN."""
    n = wins.shape[0]
    games = wins + wins.T
    active = (games.sum(axis=1) > 0) if prior == 0 else np.ones(n, dtype=bool)
    theta = np.full(n, np.nan)
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return theta
    w = wins[np.ix_(idx, idx)]
    g_mat = w + w.T
    total = w.sum(axis=1)
    t = np.zeros(idx.size)
    ll = _log_likelihood(t, w, prior)
    for _ in range(max_iter):
        pi = 1.0 / (1.0 + np.exp(-(t[:, None] - t[None, :])))  # P(i beats j)
        sig = 1.0 / (1.0 + np.exp(-t))
        grad = total - (g_mat * pi).sum(axis=1) + prior * (1.0 - 2.0 * sig)
        info = _information(t, g_mat, prior)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, grad, rcond=None)[0]
        size = 1.0
        while True:
            candidate = t + size * step
            new_ll = _log_likelihood(candidate, w, prior)
            if new_ll >= ll - 1e-12 or size < 1e-8:
                break
            size /= 2
        moved = np.max(np.abs(candidate - t))
        t, ll = candidate, new_ll
        if moved < tol:
            break
    if prior == 0:
        t = t - t.mean()
    theta[idx] = t
    return theta


def _to_ratings(log_p: np.ndarray, models: list[str], anchor: str | None, scale: float, base: float) -> np.ndarray:
    rating = scale * log_p / math.log(base)
    finite = np.isfinite(rating)
    if anchor is not None:
        if anchor not in models:
            raise ValueError(f"anchor model {anchor!r} has no battles; models: {models}")
        shift = INIT_RATING - rating[models.index(anchor)]
    else:
        shift = INIT_RATING - (rating[finite].mean() if finite.any() else 0.0)
    return rating + shift


def bradley_terry(
    df: pd.DataFrame,
    *,
    prior: float = 0.5,
    anchor: str | None = None,
    scale: float = SCALE,
    base: float = BASE,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> pd.Series:
    """Bradley–Terry ratings from battles (model_a, model_b, winner ∈ {a, b, tie, both_bad}), highest first.

    P(i beats j) = s_i / (s_i + s_j); rating = 1000 + scale·log_base(s), shifted so the mean rating is 1000
    (or `anchor` is 1000). `prior` adds that many virtual wins and losses for every model against an
    opponent of average strength, which keeps ratings finite when a model wins or loses every battle;
    prior=0 gives the plain maximum-likelihood estimate (infinite when a model never wins or never loses).
    """
    if prior < 0:
        raise ValueError(f"prior must be ≥ 0, not {prior}")
    models, ia, ib, score_a = _battle_arrays(df)
    if not models:
        return pd.Series(dtype=float, name="rating")
    wins = _win_matrix(len(models), ia, ib, score_a)
    rating = _to_ratings(_fit_log_strength(wins, prior, max_iter, tol), models, anchor, scale, base)
    return pd.Series(rating, index=pd.Index(models, name="model"), name="rating").sort_values(ascending=False)


def bradley_terry_bootstrap(
    df: pd.DataFrame,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    groups: str | None = None,
    **bt: Any,
) -> pd.DataFrame:
    """Bradley–Terry ratings with percentile bootstrap intervals (battles resampled with replacement).

    `groups` names a column (e.g. the test case): then whole groups are resampled, so battles that share a
    case stay together and the interval reflects the spread over cases, not over single battles.

    Returns DataFrame indexed by model, highest rating first, with columns rating (fit on all battles),
    lower, upper, and rank_ub = 1 + the number of models whose lower bound exceeds this model's upper
    bound (the models that are better beyond doubt), as in the LMArena leaderboard.
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie in (0, 1), not {ci}")
    point = bradley_terry(df, **bt)
    models, ia, ib, score_a = _battle_arrays(df)
    if groups is not None:
        _require(df, (groups,), "grouped bootstrap")
        group_codes, group_names = pd.factorize(df[groups], sort=True)
    prior = bt.get("prior", 0.5)
    anchor = bt.get("anchor")
    scale, base = bt.get("scale", SCALE), bt.get("base", BASE)
    max_iter, tol = bt.get("max_iter", 100), bt.get("tol", 1e-10)
    rng = np.random.default_rng(seed)
    n_battles = len(ia)
    samples = np.full((n_boot, len(models)), np.nan)
    for b in range(n_boot):
        if groups is None:
            weights = np.bincount(rng.integers(0, n_battles, size=n_battles), minlength=n_battles).astype(float)
        else:
            n_groups = len(group_names)
            picks = np.bincount(rng.integers(0, n_groups, size=n_groups), minlength=n_groups).astype(float)
            weights = picks[group_codes]
        wins = _win_matrix(len(models), ia, ib, score_a, weights)
        log_p = _fit_log_strength(wins, prior, max_iter, tol)
        played = (wins + wins.T).sum(axis=1) > 0
        log_p = np.where(played, log_p, np.nan)  # a model absent from this resample says nothing
        if anchor is not None and not played[models.index(anchor)]:
            continue
        samples[b] = _to_ratings(log_p, models, anchor, scale, base)
    alpha = (1 - ci) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        samples = np.where(np.isfinite(samples), samples, np.nan)
        lower = np.nanpercentile(samples, 100 * alpha, axis=0)
        upper = np.nanpercentile(samples, 100 * (1 - alpha), axis=0)
    out = pd.DataFrame({"lower": lower, "upper": upper}, index=pd.Index(models, name="model"))
    out.insert(0, "rating", point.reindex(out.index))
    out["rank_ub"] = [1 + int((out["lower"] > up).sum()) for up in out["upper"]]
    return out.sort_values("rating", ascending=False)


def bradley_terry_intervals(
    df: pd.DataFrame,
    ci: float = 0.95,
    *,
    prior: float = 0.5,
    anchor: str | None = None,
    scale: float = SCALE,
    base: float = BASE,
) -> pd.DataFrame:
    """Bradley–Terry ratings with Wald intervals from the observed Fisher information at the fit: rating ±
    z·se, where se is the standard error of the rating as reported (relative to the mean rating, or to
    `anchor`). One fit, no resampling: cheap enough for a scheduler that refits after every vote. Models
    with no battles get NaN. Columns rating, lower, upper, se; highest rating first."""
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie in (0, 1), not {ci}")
    models, ia, ib, score_a = _battle_arrays(df)
    if not models:
        return pd.DataFrame(columns=["rating", "lower", "upper", "se"])
    wins = _win_matrix(len(models), ia, ib, score_a)
    theta = _fit_log_strength(wins, prior)
    rating = _to_ratings(theta, models, anchor, scale, base)
    played = np.isfinite(theta)
    se = np.full(len(models), np.nan)
    idx = np.flatnonzero(played)
    if idx.size:
        t = theta[idx]
        info = _information(t, (wins + wins.T)[np.ix_(idx, idx)], prior)
        cov = np.linalg.pinv(info)
        contrast = np.eye(idx.size)
        if anchor is not None:
            contrast = contrast - contrast[list(idx).index(models.index(anchor))]
        else:
            contrast = contrast - 1.0 / idx.size
        var = np.einsum("ij,jk,ik->i", contrast, cov, contrast)
        se[idx] = np.sqrt(np.clip(var, 0.0, None)) * scale / math.log(base)
    z = float(sps.norm.ppf(0.5 + ci / 2))
    out = pd.DataFrame({"rating": rating, "lower": rating - z * se, "upper": rating + z * se, "se": se},
                       index=pd.Index(models, name="model"))
    return out.sort_values("rating", ascending=False)
