"""Pure statistics of agreement between human raters: how far people agree with each other, which sets the
ceiling any automatic judge can be held to.

- Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"): any number of
  raters, missing values, nominal / ordinal / interval / ratio distances, via the coincidence matrix.
- Leave-one-rater-out correlation: each rater against the mean of the others (the human ceiling).
- Pairwise agreement rate: the share of rater pairs on the same unit who gave the same value.
- Agreement with the consensus: each rater against the others' majority (labels) or mean (scores).
- Careless-work signals: side bias (exact binomial test against p = 1/2), constant answers, and time
  outliers (Hampel's rule: more than 3 scaled MADs below the median log-time ratio).

Everything takes numpy/pandas data and returns new data; nothing reads the store or the taxonomy.
"""
from __future__ import annotations

import math
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from evalverse.leaderboard.stats import correlation

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS = ("nominal", "ordinal", "interval", "ratio")
MAD_TO_SD = 1.4826  # consistency constant: 1.4826·MAD estimates σ for normal data
HAMPEL_K = 3.0  # Hampel's identifier: an observation more than 3 scaled MADs from the median is an outlier


# ---- Krippendorff's alpha -----------------------------------------------------------------------

def _delta(values: np.ndarray, totals: np.ndarray, level: str) -> np.ndarray:
    """Squared distance δ²(c, k) between every two values (sorted ascending), per Krippendorff (2011)."""
    c, k = values[:, None], values[None, :]
    if level == "nominal":
        return (c != k).astype(float)
    if level == "interval":
        return (c - k) ** 2
    if level == "ratio":
        with np.errstate(invalid="ignore", divide="ignore"):
            d = ((c - k) / (c + k)) ** 2
        return np.nan_to_num(d, nan=0.0)  # 0 vs 0
    # ordinal: (Σ_{g=c..k} n_g − (n_c + n_k)/2)², on the ranks of the values that occur
    cum = np.cumsum(totals)
    lo, hi = np.minimum.outer(np.arange(len(values)), np.arange(len(values))), np.maximum.outer(
        np.arange(len(values)), np.arange(len(values)))
    between = cum[hi] - cum[lo] + totals[lo]
    return (between - (totals[:, None] + totals[None, :]) / 2.0) ** 2


def krippendorff_alpha(reliability: Any, level: Level = "nominal") -> float:
    """Krippendorff's alpha of a raters × units matrix (NaN or None = no value).

    Units with fewer than two values are not pairable and are left out. Nominal data may be given as
    numeric codes; use `alpha_from_long` for labels. NaN when undefined: fewer than two pairable values,
    or no variation at all (expected disagreement 0)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    x = np.array(reliability, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"the reliability data must be a 2-D raters × units matrix; got shape {x.shape}")
    present = ~np.isnan(x)
    values = np.unique(x[present])
    if values.size == 0:
        return float("nan")
    if level == "ratio" and (values < 0).any():
        raise ValueError("ratio-level alpha needs non-negative values")
    counts = np.zeros((x.shape[1], values.size))  # units × values
    rows, cols = np.nonzero(present)
    np.add.at(counts, (cols, np.searchsorted(values, x[rows, cols])), 1.0)
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]
    if counts.size == 0:
        return float("nan")
    weighted = counts / (m - 1.0)[:, None]
    coincidence = weighted.T @ counts - np.diag(weighted.sum(axis=0))  # o_ck
    totals = coincidence.sum(axis=1)  # n_c
    n = totals.sum()
    delta = _delta(values, totals, level)
    expected = (np.outer(totals, totals) * delta).sum() / (n - 1.0)
    if n < 2 or expected <= 0:
        return float("nan")
    return float(1.0 - (coincidence * delta).sum() / expected)


def reliability_matrix(df: pd.DataFrame, unit: str, rater: str, value: str) -> tuple[np.ndarray, list]:
    """Long rows (unit, rater, value) → (raters × units float matrix, category labels or []).

    Numeric values stay numbers; anything else is coded 0..k−1 in sorted label order (nominal use only).
    A rater who rated a unit twice keeps the last value."""
    part = df[[unit, rater, value]].dropna(subset=[value])
    labels: list = []
    vals = part[value]
    if not pd.api.types.is_numeric_dtype(vals):
        labels = sorted(vals.astype(str).unique())
        vals = vals.astype(str).map({lab: i for i, lab in enumerate(labels)})
    table = (
        part.assign(_v=vals.astype(float)).drop_duplicates([unit, rater], keep="last")
        .pivot(index=rater, columns=unit, values="_v")
    )
    return table.to_numpy(dtype=float), labels


def alpha_from_long(df: pd.DataFrame, unit: str, rater: str, value: str, level: Level = "nominal") -> float:
    matrix, labels = reliability_matrix(df, unit, rater, value)
    if labels and level != "nominal":
        raise ValueError(f"{level} alpha needs numeric values; got labels {labels[:5]}")
    return krippendorff_alpha(matrix, level)


def alpha_bootstrap(matrix: np.ndarray, level: Level, n_boot: int = 1000, ci: float = 0.95,
                    seed: int = 0) -> tuple[float, float]:
    """Percentile interval of alpha with units resampled with replacement (deterministic for a seed)."""
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie in (0, 1), not {ci}")
    x = np.asarray(matrix, dtype=float)
    x = x[:, (~np.isnan(x)).sum(axis=0) >= 2]
    if x.shape[1] == 0 or n_boot < 1:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    draws = [krippendorff_alpha(x[:, rng.integers(0, x.shape[1], x.shape[1])], level) for _ in range(n_boot)]
    draws = np.array([d for d in draws if not math.isnan(d)])
    if draws.size == 0:
        return (float("nan"), float("nan"))
    a = (1 - ci) / 2
    lo, hi = np.percentile(draws, [100 * a, 100 * (1 - a)])
    return (float(lo), float(hi))


# ---- raters against each other ----------------------------------------------------------------------

def leave_one_rater_out(df: pd.DataFrame, unit: str = "unit", rater: str = "rater",
                        score: str = "score") -> pd.DataFrame:
    """Per rater: SRCC and PLCC of their scores against the mean of the other raters' scores on the units
    both cover (the human ceiling for a judge compared with the mean rating). Columns rater, n, srcc,
    plcc, mae (mean absolute difference to the others' mean)."""
    part = df[[unit, rater, score]].dropna()
    table = part.pivot_table(index=unit, columns=rater, values=score, aggfunc="mean")
    rows = []
    for r in table.columns:
        others = table.drop(columns=r)
        mine = table[r]
        rest = others.mean(axis=1, skipna=True)
        keep = mine.notna() & rest.notna()
        c = correlation(mine[keep].to_numpy(), rest[keep].to_numpy())
        mae = float((mine[keep] - rest[keep]).abs().mean()) if keep.any() else float("nan")
        rows.append({"rater": r, "n": c.n, "srcc": c.srcc, "plcc": c.plcc, "mae": mae})
    return pd.DataFrame(rows, columns=["rater", "n", "srcc", "plcc", "mae"])


def pairwise_agreement_rate(df: pd.DataFrame, unit: str = "unit", rater: str = "rater",
                            value: str = "value") -> tuple[float, int]:
    """(share of agreeing rater pairs, number of rater pairs) over units rated by two or more raters:
    two raters agree on a unit when they gave the same value."""
    part = df[[unit, rater, value]].dropna().drop_duplicates([unit, rater], keep="last")
    if part.empty:
        return (float("nan"), 0)
    counts = part.assign(_v=part[value].astype(str)).groupby([unit, "_v"]).size()
    per_unit = counts.groupby(level=0).sum()
    pairs = int((per_unit * (per_unit - 1) // 2).sum())
    agree = int((counts * (counts - 1) // 2).sum())
    return (agree / pairs if pairs else float("nan"), pairs)


def preferences_from_scores(df: pd.DataFrame, group: str = "group", item: str = "item", rater: str = "rater",
                            score: str = "score") -> pd.DataFrame:
    """Each rater's implied preference on every two items of the same group (e.g. the videos of one
    prompt) they both scored: rows unit ('group|item_a|item_b', items sorted), rater, value in a/b/tie."""
    part = df[[group, item, rater, score]].dropna()
    if part.empty:
        return pd.DataFrame(columns=["unit", "rater", "value"])
    mean = part.groupby([group, rater, item], as_index=False)[score].mean()
    pairs = mean.merge(mean, on=[group, rater], suffixes=("_a", "_b"))
    pairs = pairs[pairs[f"{item}_a"].astype(str) < pairs[f"{item}_b"].astype(str)]
    sa, sb = pairs[f"{score}_a"].to_numpy(), pairs[f"{score}_b"].to_numpy()
    value = np.where(sa > sb, "a", np.where(sa < sb, "b", "tie"))
    unit = pairs[group].astype(str) + "|" + pairs[f"{item}_a"].astype(str) + "|" + pairs[f"{item}_b"].astype(str)
    return pd.DataFrame({"unit": unit.to_numpy(), "rater": pairs[rater].to_numpy(), "value": value})


def consensus_agreement(df: pd.DataFrame, unit: str = "unit", rater: str = "rater",
                        value: str = "value") -> pd.DataFrame:
    """Per rater, on labels: the share of their units where their label equals the others' majority label
    (units where the others have no single majority are skipped). Columns rater, n, agreement."""
    part = df[[unit, rater, value]].dropna().drop_duplicates([unit, rater], keep="last")
    if part.empty:
        return pd.DataFrame(columns=["rater", "n", "agreement"])
    labels = part[value].astype(str)
    cats = sorted(labels.unique())
    code = labels.map({c: i for i, c in enumerate(cats)}).to_numpy()
    table = pd.crosstab(part[unit], labels).reindex(columns=cats, fill_value=0)
    counts = table.loc[part[unit]].to_numpy().astype(float)
    counts[np.arange(len(code)), code] -= 1.0  # the others' labels
    top = np.sort(counts, axis=1)[:, ::-1]
    runner_up = top[:, 1] if top.shape[1] > 1 else np.zeros(len(top))
    decided = (top[:, 0] > 0) & (top[:, 0] > runner_up)
    hit = counts.argmax(axis=1) == code
    frame = pd.DataFrame({"rater": part[rater].to_numpy(), "hit": hit, "decided": decided})
    frame = frame[frame["decided"]]
    out = frame.groupby("rater")["hit"].agg(["size", "mean"]).reset_index()
    return pd.DataFrame({"rater": out["rater"], "n": out["size"].astype(int), "agreement": out["mean"].astype(float)})


# ---- careless work -----------------------------------------------------------------------------------

def side_bias_p(n_left: int, n_right: int) -> float:
    """Two-sided exact binomial p-value of choosing the left side n_left times out of n_left + n_right
    decisive choices when side does not matter (p = 1/2). NaN without decisive choices."""
    n = int(n_left) + int(n_right)
    if n == 0:
        return float("nan")
    return float(sps.binomtest(int(n_left), n, 0.5).pvalue)


def fast_outliers(seconds: pd.DataFrame, unit: str = "unit", rater: str = "rater", time: str = "seconds",
                  min_items: int = 5) -> pd.DataFrame:
    """Who works much faster than others on the same units: each rating's time as a log ratio to the median
    time of its unit; a rater is flagged when the median of their log ratios lies more than HAMPEL_K scaled
    MADs (of all log ratios) below the median of all log ratios. Columns rater, n, median_ratio, flagged."""
    part = seconds[[unit, rater, time]].dropna()
    part = part[part[time] > 0]
    if part.empty:
        return pd.DataFrame(columns=["rater", "n", "median_ratio", "flagged"])
    log_t = np.log(part[time].astype(float))
    ratio = log_t - log_t.groupby(part[unit]).transform("median")
    centre = float(ratio.median())
    spread = MAD_TO_SD * float((ratio - centre).abs().median())
    rows = []
    for r, vals in ratio.groupby(part[rater]):
        med = float(vals.median())
        flagged = bool(len(vals) >= min_items and spread > 0 and med < centre - HAMPEL_K * spread)
        rows.append({"rater": r, "n": int(len(vals)), "median_ratio": float(math.exp(med)), "flagged": flagged})
    return pd.DataFrame(rows, columns=["rater", "n", "median_ratio", "flagged"])


def constant_answers(values: Sequence[Any], min_items: int = 10) -> bool:
    """True when a rater gave one and the same answer on at least `min_items` items (no information)."""
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return len(vals) >= min_items and len(set(map(str, vals))) == 1
