"""Win ratios from per-case results, with bootstrap intervals over cases: pure functions.

A suite's results are pointwise (a score per case, model and dimension). On every case, every two models
that both have the case are compared on each dimension: the higher score wins, equal scores tie (half a
win each). A pair where either side was not scored (gated out, not judged, unparsed, an error) is not a
comparison: it is left out and counted by reason. A model's win ratio on a dimension is its points over
its comparisons; its interval is the percentile bootstrap over cases (cases resampled with replacement,
all of a case's comparisons together), so it reflects how much the ranking depends on which prompts were
asked. Several seeds of one case are averaged first (their scored results only).

Too few cases: with fewer than `min_cases()` cases, no win ratio can differ from 0.5 at the 95 % level
even by a two-sided sign test (every case won gives p = 2·0.5ⁿ), so such a figure is reported as too few.
"""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd

from evalverse.leaderboard.stats import bradley_terry_bootstrap

SCORED = "scored"
OUTCOME_COLUMNS = ["dimension", "case", "model_a", "model_b", "winner"]
EXCLUDED_COLUMNS = ["dimension", "case", "model_a", "model_b", "reason"]
WIN_COLUMNS = ["dimension", "model", "win_ratio", "ci_low", "ci_high", "n_cases", "n_pairs", "n_excluded"]
RATING_COLUMNS = ["dimension", "model", "rating", "ci_low", "ci_high", "rank_ub", "n_battles"]
OVERALL = "overall"
TIE_TOLERANCE = 1e-9  # scores closer than this are equal (float noise from averaging)


def min_cases(alpha: float = 0.05) -> int:
    """Smallest number of cases for which a two-sided sign test can reach `alpha`: 2·0.5ⁿ ≤ alpha."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), not {alpha}")
    return math.ceil(math.log2(2 / alpha) - 1e-12)


def _reason(a: str, b: str) -> str:
    statuses = {a, b}
    if "gated" in statuses:
        return "gated"
    if statuses & {"not_judged", "unparsed"}:
        return "not_judged"
    if "error" in statuses:
        return "error"
    return "missing"


def collapse_seeds(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per (case, model, dimension): the mean of the scored seeds (status scored), else the status
    of the seeds (the first by priority gated > not_judged > unparsed > error)."""
    need = ["case", "model", "dimension", "status", "score"]
    missing = [c for c in need if c not in scores.columns]
    if missing:
        raise ValueError(f"scores need columns {need}; missing {missing}")
    df = scores[need].copy()
    df["score"] = pd.to_numeric(df["score"], errors="coerce")
    scored = df[(df["status"] == SCORED) & df["score"].notna()]
    mean = scored.groupby(["case", "model", "dimension"], sort=False)["score"].mean()
    rank = {"gated": 0, "not_judged": 1, "unparsed": 2, "error": 3}
    rest = df[~df.index.isin(scored.index)].assign(_r=lambda d: d["status"].map(rank).fillna(9))
    rest = rest.sort_values("_r", kind="stable").drop_duplicates(["case", "model", "dimension"])
    out = [pd.DataFrame({"case": [k[0] for k in mean.index], "model": [k[1] for k in mean.index],
                         "dimension": [k[2] for k in mean.index], "status": SCORED, "score": mean.to_numpy()})]
    keep = rest[~rest.set_index(["case", "model", "dimension"]).index.isin(mean.index)]
    out.append(keep[["case", "model", "dimension", "status"]].assign(score=np.nan))
    return pd.concat(out, ignore_index=True)


def outcomes_from_scores(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(outcomes[dimension, case, model_a, model_b, winner], excluded[dimension, case, model_a, model_b, reason])
    over every pair of models that have the same case. A model's case counts for every dimension of the
    frame: a dimension its run did not produce is reason "missing"."""
    flat = collapse_seeds(scores)
    dims = list(dict.fromkeys(flat["dimension"]))
    look = {(r.case, r.model, r.dimension): (r.status, r.score) for r in flat.itertuples(index=False)}
    models_of = flat.groupby("case", sort=False)["model"].agg(lambda s: sorted(set(s)))
    wins, excluded = [], []
    for case, models in models_of.items():
        for a, b in combinations(models, 2):
            for dim in dims:
                sa, va = look.get((case, a, dim), ("missing", np.nan))
                sb, vb = look.get((case, b, dim), ("missing", np.nan))
                if sa == SCORED and sb == SCORED:
                    winner = "tie" if abs(va - vb) <= TIE_TOLERANCE else ("a" if va > vb else "b")
                    wins.append((dim, case, a, b, winner))
                else:
                    excluded.append((dim, case, a, b, _reason(sa, sb)))
    return pd.DataFrame(wins, columns=OUTCOME_COLUMNS), pd.DataFrame(excluded, columns=EXCLUDED_COLUMNS)


def case_win_ratios(outcomes: pd.DataFrame, n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
                    models: list[str] | None = None) -> pd.DataFrame:
    """Per model: win_ratio (ties half), percentile bootstrap interval over cases, n_cases (cases with at
    least one of its comparisons), n_pairs. Rows for `models` without comparisons have NaN and zero counts."""
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie in (0, 1), not {ci}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be positive, not {n_boot}")
    names = sorted(set(outcomes["model_a"]) | set(outcomes["model_b"]) | set(models or []))
    cols = ["model", "win_ratio", "ci_low", "ci_high", "n_cases", "n_pairs"]
    if not names:
        return pd.DataFrame(columns=cols)
    cases = sorted(set(outcomes["case"]), key=str)
    ci_index, mi_index = {c: i for i, c in enumerate(cases)}, {m: i for i, m in enumerate(names)}
    points, comps = np.zeros((len(cases), len(names))), np.zeros((len(cases), len(names)))
    score_a = outcomes["winner"].map({"a": 1.0, "b": 0.0, "tie": 0.5}).to_numpy(dtype=float)
    if np.isnan(score_a).any():
        raise ValueError("winner must be one of a, b, tie")
    c_idx = outcomes["case"].map(ci_index).to_numpy(dtype=int)
    a_idx = outcomes["model_a"].map(mi_index).to_numpy(dtype=int)
    b_idx = outcomes["model_b"].map(mi_index).to_numpy(dtype=int)
    np.add.at(points, (c_idx, a_idx), score_a)
    np.add.at(points, (c_idx, b_idx), 1.0 - score_a)
    np.add.at(comps, (c_idx, a_idx), 1.0)
    np.add.at(comps, (c_idx, b_idx), 1.0)
    total_p, total_c = points.sum(axis=0), comps.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total_c > 0, total_p / np.maximum(total_c, 1), np.nan)
    low = high = np.full(len(names), np.nan)
    if cases:
        rng = np.random.default_rng(seed)
        n = len(cases)
        draws = rng.integers(0, n, size=(n_boot, n))
        weights = np.zeros((n_boot, n))
        np.add.at(weights, (np.repeat(np.arange(n_boot), n), draws.ravel()), 1.0)
        bp, bc = weights @ points, weights @ comps
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = np.where(bc > 0, bp / np.maximum(bc, 1e-300), np.nan)
        alpha = (1 - ci) / 2
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                low = np.nanpercentile(boot, 100 * alpha, axis=0)
                high = np.nanpercentile(boot, 100 * (1 - alpha), axis=0)
    return pd.DataFrame({"model": names, "win_ratio": ratio, "ci_low": low, "ci_high": high,
                         "n_cases": (comps > 0).sum(axis=0).astype(int), "n_pairs": total_c.astype(int)}, columns=cols)


def excluded_counts(excluded: pd.DataFrame) -> pd.DataFrame:
    """Per dimension and model: pairs left out, in all and per reason (columns n_excluded, excluded_<reason>)."""
    if excluded.empty:
        return pd.DataFrame(columns=["dimension", "model", "n_excluded"])
    long = pd.concat([excluded.rename(columns={"model_a": "model"})[["dimension", "model", "reason"]],
                      excluded.rename(columns={"model_b": "model"})[["dimension", "model", "reason"]]])
    table = long.pivot_table(index=["dimension", "model"], columns="reason", aggfunc="size", fill_value=0)
    table.columns = [f"excluded_{c}" for c in table.columns]
    table.insert(0, "n_excluded", table.sum(axis=1))
    return table.reset_index()


def win_ratio_table(outcomes: pd.DataFrame, excluded: pd.DataFrame, n_boot: int = 1000, ci: float = 0.95,
                    seed: int = 0) -> pd.DataFrame:
    """Per dimension (order of first appearance) and model: WIN_COLUMNS. Only dimensions with comparisons."""
    rows = []
    models = sorted(set(outcomes["model_a"]) | set(outcomes["model_b"]) | set(excluded["model_a"]) | set(excluded["model_b"]))
    for dim, part in outcomes.groupby("dimension", sort=False):
        table = case_win_ratios(part, n_boot, ci, seed, models=models)
        rows.append(table.assign(dimension=dim))
    if not rows:
        return pd.DataFrame(columns=WIN_COLUMNS)
    out = pd.concat(rows, ignore_index=True)
    counts = excluded_counts(excluded)
    out = out.merge(counts[["dimension", "model", "n_excluded"]], on=["dimension", "model"], how="left") if len(counts) else out.assign(n_excluded=0)
    out["n_excluded"] = out["n_excluded"].fillna(0).astype(int)
    return out[WIN_COLUMNS]


def rating_table(outcomes: pd.DataFrame, n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Bradley–Terry ratings per dimension and pooled over all dimensions (`overall`), bootstrapped over cases."""
    rows = []
    parts = [(dim, part) for dim, part in outcomes.groupby("dimension", sort=False)]
    if len(outcomes):
        parts.append((OVERALL, outcomes))
    for dim, part in parts:
        bt = bradley_terry_bootstrap(part, n_boot=n_boot, ci=ci, seed=seed, groups="case")
        battles = pd.concat([part["model_a"], part["model_b"]]).value_counts()
        rows.append(pd.DataFrame({"dimension": dim, "model": bt.index, "rating": bt["rating"].to_numpy(),
                                  "ci_low": bt["lower"].to_numpy(), "ci_high": bt["upper"].to_numpy(),
                                  "rank_ub": bt["rank_ub"].to_numpy(),
                                  "n_battles": battles.reindex(bt.index).fillna(0).astype(int).to_numpy()}))
    return pd.concat(rows, ignore_index=True)[RATING_COLUMNS] if rows else pd.DataFrame(columns=RATING_COLUMNS)


def human_outcomes(pointwise: pd.DataFrame, pairwise: pd.DataFrame, cases_of: dict[str, set]) -> pd.DataFrame:
    """Human comparisons on the same pairing: pointwise[case, model, dimension, score] (annotators averaged per
    case, model and dimension, then every two models with a score on the case compared) plus
    pairwise[case, dimension, model_a, model_b, winner] as given. `cases_of[model]` (the cases the model
    submitted) restricts both to pairs of models that have the case."""
    rows = []
    if len(pointwise):
        mean = pointwise.groupby(["case", "dimension", "model"], sort=False)["score"].mean().reset_index()
        for (case, dim), part in mean.groupby(["case", "dimension"], sort=False):
            vals = {m: s for m, s in zip(part["model"], part["score"]) if case in cases_of.get(m, ())}
            for a, b in combinations(sorted(vals), 2):
                w = "tie" if abs(vals[a] - vals[b]) <= TIE_TOLERANCE else ("a" if vals[a] > vals[b] else "b")
                rows.append((dim, case, a, b, w))
    out = pd.DataFrame(rows, columns=OUTCOME_COLUMNS)
    if len(pairwise):
        keep = [case in cases_of.get(a, ()) and case in cases_of.get(b, ())
                for case, a, b in zip(pairwise["case"], pairwise["model_a"], pairwise["model_b"])]
        out = pd.concat([out, pairwise.loc[keep, OUTCOME_COLUMNS]], ignore_index=True)
    return out
