"""Cross-validation grouped by prompt, nested where anything is chosen.

- `grouped_folds`: K folds of whole prompts (no prompt's clips in both training and test), shuffled by seed;
- `select`: on one training set, inner grouped folds score every family x hyperparameter by the spec's
  figure (e.g. clip SRCC) on their pooled inner held-out predictions; each family keeps its best
  hyperparameter, and the chosen family is the simplest that noise cannot separate from a freer one
  (sign-constrained linear, then linear, then the MLP; a freer tier must win by more than a standard error);
- `nested_cv`: outer repeated grouped folds; on each outer training set `select` runs afresh (standardisation
  included) and the held-out prompts are predicted by each family's choice and by the selected family.
  Predictions of a clip are averaged over repeats (each from a model that never saw its prompt);
- `fit_final`: `select` on all the data, then the chosen family refitted on all of it (the artifact's model).

A `Pairing` (models.py) with anchors travels with its prompts: a fit sees only the anchors made from its
training prompts' clips, and nested_cv predicts the held-out prompts' anchors too, so the share of known-order
pairs ordered right (`anchor_accuracy`) is a held-out figure like the others. `by` is one figure or several,
averaged (e.g. clip SRCC with within-source SRCC, so that recognising the generator is not all a choice rewards).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from evalverse.calibration.metrics import figures
from evalverse.calibration.models import GRIDS, SIGNED, Fitted, Pairing, Preprocessor, fit_family

# families by how free they are: each tier's models contain the previous tier's (a sign-constrained linear
# model is a linear model; a linear model is an MLP's limit), so the one-standard-error rule prefers earlier tiers
TIERS: tuple[tuple[str, ...], ...] = (SIGNED, ("ridge", "bradley_terry"), ("mlp", "mlp_pairs"))


def grouped_folds(groups, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(train indices, test indices)] with every group wholly on one side; k is capped at the groups' count."""
    g = np.asarray(groups)
    keys = np.array(list(dict.fromkeys(g.tolist())), dtype=object)
    if keys.size < 2:
        raise ValueError(f"cross-validation needs at least 2 prompts, got {keys.size}")
    order = np.random.default_rng(seed).permutation(keys.size)
    chunks = np.array_split(keys[order], min(k, keys.size))
    out = []
    for chunk in chunks:
        test = np.isin(g, list(chunk))
        out.append((np.flatnonzero(~test), np.flatnonzero(test)))
    return out


def criterion(figs: dict, by: str | tuple[str, ...] | list[str]) -> float:
    """The selection figure: `by`'s value, or the mean of several (NaN when any is undefined)."""
    names = (by,) if isinstance(by, str) else tuple(by)
    values = [figs[n] for n in names]
    return math.nan if any(math.isnan(v) for v in values) else float(np.mean(values))


def _score(pred: np.ndarray, y: np.ndarray, groups: np.ndarray, source: np.ndarray, by) -> float:
    value = criterion(figures(pred, y, groups, source), by)
    return -math.inf if math.isnan(value) else value


def fit_predict(family: str, hyper: dict, X_tr, y_tr, g_tr, X_te, seed: int = 0, signs=None, s_tr=None,
                pairing: Pairing | None = None) -> tuple[np.ndarray, Preprocessor, Fitted]:
    """Fit on the training rows (standardisation included) and predict X_te. `s_tr`: the training rows'
    sources; `pairing`: its anchors are cut to those of the training prompts here."""
    pre = Preprocessor.fit(X_tr)  # standardising divides by a positive SD: a weight keeps its sign
    anchors = None
    if pairing is not None and pairing.n_anchors:
        mine = pairing.anchors_of(g_tr)
        if mine.n_anchors:
            anchors = (pre.transform(mine.better), pre.transform(mine.worse))
    model = fit_family(family, pre.transform(X_tr), y_tr, g_tr, hyper, seed, signs, s_tr, pairing, anchors)
    return model.predict(pre.transform(X_te)), pre, model


@dataclass
class Selection:
    family: str
    hyper: dict[str, float]
    best: dict[str, tuple[dict[str, float], float]]  # family -> (its best hyper, its inner score)
    table: list[dict] = field(default_factory=list)  # every family x hyper with its inner score and standard error


def select(X, y, groups, source, families, inner_folds: int, by, seed: int = 0, signs=None,
           pairing: Pairing | None = None, eligible=None) -> Selection:
    """Inner CV choice. A family's score is the figure on its pooled inner held-out predictions; its standard
    error, the spread of the per-fold figures / sqrt(folds). Families come in tiers of growing freedom
    (`TIERS`: sign-constrained linear, linear, MLP; each tier's models contain the one before's); the best
    family of the simplest tier present is taken, and a freer tier replaces it only when its best beats the
    current choice by more than the current choice's standard error (the one-standard-error rule, Hastie,
    Tibshirani & Friedman, Elements of Statistical Learning, 7.10): the simpler model wins what noise cannot
    separate. `signs`: each feature's allowed weight sign, read by the signed families. `eligible`: the families
    the choice is made among (default all); the others are scored (each gets its best hyperparameter) for
    comparison only."""
    X, y, groups, source = np.asarray(X, float), np.asarray(y, float), np.asarray(groups), np.asarray(source)
    folds = grouped_folds(groups, inner_folds, seed)
    table, best, se = [], {}, {}
    for family in families:
        for hyper in GRIDS[family]:
            pred = np.full(y.size, np.nan)
            per_fold = []
            for tr, te in folds:
                pred[te] = fit_predict(family, hyper, X[tr], y[tr], groups[tr], X[te], seed, signs, source[tr], pairing)[0]
                per_fold.append(criterion(figures(pred[te], y[te], groups[te], source[te]), by))
            score = _score(pred, y, groups, source, by)
            spread = np.array([v for v in per_fold if not math.isnan(v)])
            err = float(spread.std(ddof=1) / math.sqrt(spread.size)) if spread.size > 1 else math.inf
            table.append({"family": family, **hyper, "score": score, "se": err})
            if family not in best or score > best[family][1]:
                best[family], se[family] = (hyper, score), err
    pool = [f for f in families if eligible is None or f in eligible]
    if not pool:
        raise ValueError(f"none of the eligible families {list(eligible or [])} is among {list(families)}")
    chosen = None
    for tier in TIERS:
        present = [f for f in pool if f in tier]
        if not present:
            continue
        top = max(present, key=lambda f: best[f][1])
        if chosen is None or best[top][1] > best[chosen][1] + se[chosen]:
            chosen = top
    if chosen is None:  # a family outside the tiers
        chosen = max(pool, key=lambda f: best[f][1])
    return Selection(chosen, best[chosen][0], best, table)


def nested_cv(X, y, groups, source, families, folds: int, repeats: int, inner_folds: int, by,
              seed: int = 0, signs=None, pairing: Pairing | None = None, eligible=None) -> dict:
    """{"predictions": {family: held-out predictions, "selected": ...}, "choices": Counter of families chosen,
    "hypers": {family: Counter of chosen hyperparameters}, "splits": [(train, test)] of every outer fold,
    "anchors": {family / "selected": (held-out predictions of each anchor's better, of its worse)} when the
    pairing has anchors}. `eligible`: the families "selected" is chosen among (see `select`)."""
    X, y, groups, source = np.asarray(X, float), np.asarray(y, float), np.asarray(groups), np.asarray(source)
    names = [*families, "selected"]
    sums = {n: np.zeros(y.size) for n in names}
    counts = np.zeros(y.size)
    n_anchor = pairing.n_anchors if pairing is not None else 0
    a_sums = {n: np.zeros((2, n_anchor)) for n in names}
    a_counts = np.zeros(n_anchor)
    if n_anchor:
        A = np.vstack([pairing.better, pairing.worse])
    choices: Counter = Counter()
    hypers: dict[str, Counter] = {f: Counter() for f in families}
    splits = []
    for r in range(repeats):
        for k, (tr, te) in enumerate(grouped_folds(groups, folds, seed + 1000 * r)):
            splits.append((tr, te))
            sel = select(X[tr], y[tr], groups[tr], source[tr], families, inner_folds, by, seed + 1000 * r + k + 1, signs,
                         pairing, eligible)
            choices[sel.family] += 1
            held = np.isin(pairing.group, groups[te]) if n_anchor else None
            targets = np.vstack([X[te], A[np.concatenate([held, held])]]) if n_anchor else X[te]
            for family in families:
                hyper = sel.best[family][0]
                hypers[family][tuple(sorted(hyper.items()))] += 1
                pred = fit_predict(family, hyper, X[tr], y[tr], groups[tr], targets, seed, signs, source[tr], pairing)[0]
                for name in (family, "selected") if family == sel.family else (family,):
                    sums[name][te] += pred[: te.size]
                    if n_anchor:
                        a_sums[name][:, held] += pred[te.size:].reshape(2, -1)
            counts[te] += 1
            if n_anchor:
                a_counts[held] += 1
    out = {"predictions": {n: sums[n] / counts for n in names}, "choices": choices,
           "hypers": {f: {str(dict(h)): c for h, c in v.items()} for f, v in hypers.items()}, "splits": splits}
    if n_anchor:
        with np.errstate(invalid="ignore", divide="ignore"):
            out["anchors"] = {n: (a_sums[n][0] / a_counts, a_sums[n][1] / a_counts) for n in names}
    return out


def oriented_feature(x, y, groups, folds: int, repeats: int, seed: int = 0) -> np.ndarray:
    """A feature alone, held out: on each outer training set only its orientation is learned (the sign of its
    Spearman correlation with the human score there); held-out clips get sign x value, averaged over repeats.
    No scale or intercept is fitted, so pooling folds adds nothing but the sign's instability."""
    from evalverse.calibration.metrics import spearman

    x, y, groups = np.asarray(x, float), np.asarray(y, float), np.asarray(groups)
    sums, counts = np.zeros(y.size), np.zeros(y.size)
    for r in range(repeats):
        for tr, te in grouped_folds(groups, folds, seed + 1000 * r):
            ok = ~np.isnan(x[tr])
            rho = spearman(x[tr][ok], y[tr][ok])
            sums[te] += (-1.0 if rho < 0 else 1.0) * x[te]  # NaN stays NaN: the clip is left out of the figures
            counts[te] += 1
    return sums / counts


@dataclass
class Final:
    selection: Selection
    preprocessor: Preprocessor
    model: Fitted
    fitted: np.ndarray  # in-sample predictions (for the scatter's "training fit", never for figures)


def fit_final(X, y, groups, source, families, inner_folds: int, by, seed: int = 0, signs=None,
              pairing: Pairing | None = None) -> Final:
    X, y, groups, source = np.asarray(X, float), np.asarray(y, float), np.asarray(groups), np.asarray(source)
    sel = select(X, y, groups, source, families, inner_folds, by, seed, signs, pairing)
    pred, pre, model = fit_predict(sel.family, sel.hyper, X, y, groups, X, seed, signs, source, pairing)
    return Final(sel, pre, model, pred)
