"""Agreement figures between predicted and human scores, and their bootstrap intervals (pure functions).

The five figures, each over the clips where both values exist:

- clip_srcc / clip_plcc: Spearman / Pearson over all clips;
- within_prompt_accuracy: over every pair of clips of the same prompt whose human means differ (ties in the
  human means are left out), the share the prediction orders the same way; a tied prediction counts one half;
- within_source_srcc: Spearman over the clips of one source (generator), averaged over sources: the figure
  that recognising which generator made a clip (from its resolution or length) cannot win;
- source_srcc: Spearman between per-source mean prediction and mean human score: a handful of points (5 on
  FETV), so its interval is wide and its value says little.

Intervals resample prompts with replacement (a prompt's clips travel together), `PromptBootstrap`; the same
draws serve every row of a report, so rows are compared on the same resamples.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
from scipy.stats import rankdata

FIGURES = ("clip_srcc", "clip_plcc", "within_prompt_accuracy", "within_source_srcc", "source_srcc")


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    a, b = a - a.mean(), b - b.mean()
    return float((a @ b) / math.sqrt((a @ a) * (b @ b)))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 3:
        return math.nan
    return pearson(rankdata(a), rankdata(b))


def pairs_within(groups: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (i, j), i < j, of every pair of positions sharing a group."""
    g = np.asarray(groups)
    ii, jj = [], []
    for value in dict.fromkeys(g.tolist()):
        pos = np.flatnonzero(g == value)
        a, b = np.triu_indices(pos.size, k=1)
        ii.append(pos[a])
        jj.append(pos[b])
    if not ii:
        return np.zeros(0, int), np.zeros(0, int)
    return np.concatenate(ii), np.concatenate(jj)


def pairwise_accuracy(pred: np.ndarray, human: np.ndarray, i: np.ndarray, j: np.ndarray) -> float:
    dh = human[i] - human[j]
    keep = dh != 0
    if not keep.any():
        return math.nan
    dp = pred[i][keep] - pred[j][keep]
    right = np.sign(dp) == np.sign(dh[keep])
    return float(np.mean(right + 0.5 * (dp == 0)))


def within_group_srcc(pred: np.ndarray, human: np.ndarray, groups: np.ndarray) -> float:
    values = [spearman(pred[groups == g], human[groups == g]) for g in np.unique(groups)]
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def group_mean_srcc(pred: np.ndarray, human: np.ndarray, groups: np.ndarray) -> float:
    keys = np.unique(groups)
    if keys.size < 3:
        return math.nan
    return spearman(np.array([pred[groups == g].mean() for g in keys]),
                    np.array([human[groups == g].mean() for g in keys]))


def _complete(pred, human, *others):
    pred, human = np.asarray(pred, float), np.asarray(human, float)
    keep = ~(np.isnan(pred) | np.isnan(human))
    return (pred[keep], human[keep], *(np.asarray(o)[keep] for o in others))


def figures(pred: Sequence[float], human: Sequence[float], prompt: Sequence, source: Sequence) -> dict[str, float]:
    """The five figures (NaN where undefined), plus n (clips used) and n_pairs (within-prompt pairs counted)."""
    p, h, pr, so = _complete(pred, human, prompt, source)
    i, j = pairs_within(pr)
    return {"clip_srcc": spearman(p, h), "clip_plcc": pearson(p, h),
            "within_prompt_accuracy": pairwise_accuracy(p, h, i, j),
            "within_source_srcc": within_group_srcc(p, h, so), "source_srcc": group_mean_srcc(p, h, so),
            "n": int(p.size), "n_pairs": int(np.count_nonzero(h[i] != h[j]))}


class PromptBootstrap:
    """Resamples of whole prompts, fixed at construction (same seed -> same draws for every row)."""

    def __init__(self, prompt: Sequence, source: Sequence, n_boot: int = 1000, seed: int = 0) -> None:
        self.prompt = np.asarray(prompt)
        self.source = np.asarray(source)
        keys = list(dict.fromkeys(self.prompt.tolist()))
        members = [np.flatnonzero(self.prompt == k) for k in keys]
        local = [np.triu_indices(m.size, k=1) for m in members]  # pairs inside one prompt, local positions
        sources = np.unique(self.source)
        rng = np.random.default_rng(seed)
        # per draw: clip indices, within-prompt-copy pairs (positions in the draw), positions of each source
        self.draws: list[tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]] = []
        for picks in rng.integers(0, len(keys), size=(n_boot, len(keys))):
            sizes = np.array([members[k].size for k in picks])
            offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            idx = np.concatenate([members[k] for k in picks])
            pi = np.concatenate([local[k][0] + o for k, o in zip(picks, offsets)])
            pj = np.concatenate([local[k][1] + o for k, o in zip(picks, offsets)])
            src = self.source[idx]
            self.draws.append((idx, pi, pj, [np.flatnonzero(src == g) for g in sources]))

    def distribution(self, pred: Sequence[float], human: Sequence[float]) -> dict[str, np.ndarray]:
        """Each figure over every draw (NaN where a draw leaves it undefined)."""
        pred, human = np.asarray(pred, float), np.asarray(human, float)
        out = {f: np.full(len(self.draws), math.nan) for f in FIGURES}
        for d, (idx, pi, pj, groups) in enumerate(self.draws):
            p, h = pred[idx], human[idx]
            ok = ~(np.isnan(p) | np.isnan(h))
            out["clip_srcc"][d] = spearman(p[ok], h[ok])
            out["clip_plcc"][d] = pearson(p[ok], h[ok])
            both = ok[pi] & ok[pj]
            out["within_prompt_accuracy"][d] = pairwise_accuracy(p, h, pi[both], pj[both])
            per, means_p, means_h = [], [], []
            for g in groups:
                g = g[ok[g]]
                if g.size:
                    per.append(spearman(p[g], h[g]))
                    means_p.append(p[g].mean())
                    means_h.append(h[g].mean())
            per = [v for v in per if not math.isnan(v)]
            out["within_source_srcc"][d] = float(np.mean(per)) if per else math.nan
            out["source_srcc"][d] = spearman(np.array(means_p), np.array(means_h)) if len(means_p) >= 3 else math.nan
        return out


def interval(values: np.ndarray, ci: float = 0.95) -> tuple[float, float]:
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return (math.nan, math.nan)
    lo, hi = np.percentile(v, [50 * (1 - ci), 50 * (1 + ci)])
    return (float(lo), float(hi))


def with_intervals(point: dict[str, float], dist: dict[str, np.ndarray], ci: float = 0.95) -> dict[str, dict]:
    """{figure: {value, lo, hi}} plus n / n_pairs carried over."""
    out: dict[str, dict] = {f: {"value": point[f], "lo": interval(dist[f], ci)[0], "hi": interval(dist[f], ci)[1]}
                            for f in FIGURES}
    out["n"] = point.get("n")
    out["n_pairs"] = point.get("n_pairs")
    return out


def rater_ceiling(raters: np.ndarray, prompt: Sequence, source: Sequence,
                  boot: PromptBootstrap | None = None) -> tuple[dict[str, float], dict[str, np.ndarray] | None]:
    """The human ceiling: each rater against the mean of the others, every figure averaged over raters
    (`raters`: clips x raters, NaN where a rater did not rate). With `boot`, the per-draw distribution of that
    average too. A clip needs at least two raters."""
    r = np.asarray(raters, float)
    points, dists = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows and draws stay NaN
        for k in range(r.shape[1]):
            rest = np.nanmean(np.delete(r, k, axis=1), axis=1)
            points.append(figures(r[:, k], rest, prompt, source))
            if boot is not None:
                dists.append(boot.distribution(r[:, k], rest))
        mean = {f: float(np.nanmean([p[f] for p in points])) for f in FIGURES}
        dist = None if boot is None else {f: np.nanmean(np.vstack([d[f] for d in dists]), axis=0) for f in FIGURES}
    mean["n"] = int(np.count_nonzero((~np.isnan(r)).sum(axis=1) >= 2))
    mean["n_pairs"] = int(np.mean([p["n_pairs"] for p in points]))
    return mean, dist
