"""The model families a calibration can fit, in numpy/scipy (pure functions, deterministic for a seed).

Every family fits on standardised features (`Preprocessor`, fitted on the training rows only: missing values
take the training median, then centre and scale by the training mean and SD) and predicts on the human scale:

- ridge: least squares with an L2 penalty `alpha` on the weights (not the intercept), closed form;
- bradley_terry: a Bradley-Terry (logistic) model of which clip of a pair people rated higher, on feature
  differences, L2 penalty `alpha`, ties in the human means left out (VideoAlign found pairwise training beats
  score regression); its utility is then put on the scale by least squares (slope >= 0). Which pairs it learns
  from is the spec's `Pairing`: clips of one prompt (the generators compared on the same text), and
  optionally clips of one source (one generator's good and bad outputs: what recognising the generator
  cannot teach) and known-order anchors (a clip above its own degraded copies, no human score needed). Each
  kind of pair counts as much in total as the within-prompt pairs, whatever its number;
- ridge_signed / bradley_terry_signed: the same two fits with every weight's sign constrained by the measure
  catalogue's direction (`signs`: +1 for higher_is_better and for the judge's own outputs, -1 for
  lower_is_better, 0 = unconstrained for neutral and target_band measures): a calibration may then learn how
  much sharpness, noise or blocking matters, but never that more noise or less sharpness is better. Ridge
  becomes bounded least squares on the ridge-augmented system (scipy `lsq_linear`: non-negative least squares
  on direction-oriented features with an L2 penalty); Bradley-Terry, L-BFGS-B with the same bounds;
- mlp: one tanh hidden layer (`hidden` units), squared error with an L2 penalty `alpha`, L-BFGS: the paper's
  "lightweight MLP", used only when inner cross-validation prefers it to the linear families;
- mlp_pairs: the same network trained on the Bradley-Terry pairs (RankNet: the logistic loss on its utility's
  differences), so it learns from same-source pairs and anchors too; put on the scale like Bradley-Terry.

Linear families end as (intercept, weights); the MLP as its layers: both write straight into an artifact.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize

from evalverse.calibration.metrics import pairs_within

GRIDS: dict[str, list[dict[str, float]]] = {
    "ridge": [{"alpha": float(a)} for a in np.logspace(-1, 3, 9)],
    "bradley_terry": [{"alpha": float(a)} for a in np.logspace(-2, 2, 9)],
    "mlp": [{"hidden": float(h), "alpha": float(a)} for h in (4, 8) for a in (0.1, 1.0, 10.0)],
}
GRIDS["mlp_pairs"] = GRIDS["mlp"]
GRIDS["ridge_signed"] = GRIDS["ridge"]
GRIDS["bradley_terry_signed"] = GRIDS["bradley_terry"]
LINEAR = ("ridge", "bradley_terry", "ridge_signed", "bradley_terry_signed")
SIGNED = ("ridge_signed", "bradley_terry_signed")
MLP = ("mlp", "mlp_pairs")
DIRECTION_SIGN = {"higher_is_better": 1, "lower_is_better": -1}


def direction_signs(directions: list[str | None]) -> np.ndarray:
    """Each feature's allowed weight sign from its direction: +1, -1, or 0 (unconstrained: neutral,
    target_band, unknown). Judge outputs are given as "higher_is_better" by the caller."""
    return np.array([DIRECTION_SIGN.get(d or "", 0) for d in directions], dtype=int)


def _bounds(signs: np.ndarray | None, p: int) -> tuple[np.ndarray, np.ndarray]:
    s = np.zeros(p, int) if signs is None else np.asarray(signs, int)
    if s.size != p:
        raise ValueError(f"{s.size} signs for {p} features")
    return np.where(s > 0, 0.0, -np.inf), np.where(s < 0, 0.0, np.inf)


@dataclass
class Preprocessor:
    impute: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> "Preprocessor":
        X = np.asarray(X, float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
            med = np.nanmedian(X, axis=0)
        med = np.where(np.isnan(med), 0.0, med)
        filled = np.where(np.isnan(X), med, X)
        mean = filled.mean(axis=0)
        sd = filled.std(axis=0)
        return cls(med, mean, np.where(sd > 1e-12, sd, 1.0))

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, float)
        return (np.where(np.isnan(X), self.impute, X) - self.mean) / self.scale


@dataclass
class Fitted:
    family: str
    hyper: dict[str, float]
    intercept: float = 0.0
    weights: np.ndarray | None = None  # linear
    layers: dict[str, Any] = field(default_factory=dict)  # mlp: W1 (h x p), b1, w2, b2

    def predict(self, Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z, float)
        if self.family in MLP:
            L = self.layers
            return L["b2"] + np.tanh(Z @ L["W1"].T + L["b1"]) @ L["w2"]
        return self.intercept + Z @ self.weights


def fit_ridge(Z: np.ndarray, y: np.ndarray, alpha: float, signs: np.ndarray | None = None) -> Fitted:
    """Ridge in closed form; with `signs`, the bounded least-squares solution of the same objective
    ||Zc w - yc||^2 + alpha ||w||^2 with w_j >= 0 where signs_j = +1 and w_j <= 0 where signs_j = -1."""
    Zc = Z - Z.mean(axis=0)
    yc = y - y.mean()
    p = Z.shape[1]
    if signs is None:
        w = np.linalg.solve(Zc.T @ Zc + alpha * np.eye(p), Zc.T @ yc)
        family = "ridge"
    else:
        from scipy.optimize import lsq_linear

        A = np.vstack([Zc, math.sqrt(alpha) * np.eye(p)])
        b = np.concatenate([yc, np.zeros(p)])
        lo, hi = _bounds(signs, p)
        w = lsq_linear(A, b, bounds=(lo, hi), method="bvls").x
        w = np.clip(w, lo, hi)
        family = "ridge_signed"
    return Fitted(family, {"alpha": alpha}, float(y.mean() - Z.mean(axis=0) @ w), w)


@dataclass(frozen=True)
class Pairing:
    """What the Bradley-Terry families learn from, besides the rows' own ratings (see the module docstring).

    `within`: the human pair kinds, "prompt" and/or "source" (pairs of rows sharing the prompt / the source).
    `anchors`: known-order pairs as raw feature rows, `better[k]` known to be better than `worse[k]`, each with
    the prompt of the rated clip it was made from (`group`), so cross-validation keeps it on its prompt's side.
    """
    within: tuple[str, ...] = ("prompt",)
    better: np.ndarray | None = None
    worse: np.ndarray | None = None
    group: np.ndarray | None = None

    @property
    def n_anchors(self) -> int:
        return 0 if self.group is None else int(self.group.size)

    def anchors_of(self, groups: np.ndarray) -> "Pairing":
        """Only the anchors made from clips of these prompts (a training set's)."""
        if self.group is None:
            return self
        keep = np.isin(self.group, np.asarray(groups))
        return Pairing(self.within, self.better[keep], self.worse[keep], self.group[keep])


def _bt_loss(w: np.ndarray, D: np.ndarray, alpha: float, c: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    m = D @ w  # margin: how much more the preferred clip scores
    c = np.ones(m.size) if c is None else c  # each pair's weight
    loss = c @ np.logaddexp(0.0, -m) + 0.5 * alpha * (w @ w)
    grad = -(D.T @ (c / (1.0 + np.exp(m)))) + alpha * w
    return float(loss), grad


def _human_pairs(Z: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i, j = pairs_within(groups)
    dy = y[i] - y[j]
    keep = dy != 0
    first = dy[keep] > 0
    a, b = i[keep], j[keep]
    return Z[np.where(first, a, b)], Z[np.where(first, b, a)]  # (preferred rows, other rows)


def pair_rows(Z: np.ndarray, y: np.ndarray, groups: np.ndarray, source: np.ndarray | None = None,
              pairing: Pairing | None = None, anchors: tuple[np.ndarray, np.ndarray] | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """(A, B, c, counts): for every pair the preferred clip's features (A) and the other's (B), the pair's
    weight, and how many pairs of each kind. `anchors`: (better rows, worse rows), standardised like Z. The
    within-prompt pairs weigh 1 each; every other kind is weighted so that its total equals the within-prompt
    pairs' count (so many same-source pairs or anchors never drown the prompt comparisons)."""
    within = (pairing or Pairing()).within
    blocks: list[tuple[str, tuple[np.ndarray, np.ndarray]]] = []
    for kind in within:
        if kind == "prompt":
            blocks.append(("prompt", _human_pairs(Z, y, groups)))
        elif kind == "source":
            if source is None:
                raise ValueError("within-source pairs need each row's source")
            blocks.append(("source", _human_pairs(Z, y, np.asarray(source))))
        else:
            raise ValueError(f"unknown pair kind {kind!r}; known: prompt, source")
    if anchors is not None and len(anchors[0]):
        blocks.append(("anchor", (np.asarray(anchors[0], float), np.asarray(anchors[1], float))))
    counts = {k: int(a.shape[0]) for k, (a, _b) in blocks}
    ref = counts.get("prompt") or max(counts.values(), default=0)
    p = Z.shape[1]
    if not blocks or ref == 0:
        return np.zeros((0, p)), np.zeros((0, p)), np.zeros(0), counts
    A = np.vstack([a for _k, (a, _b) in blocks])
    B = np.vstack([b for _k, (_a, b) in blocks])
    c = np.concatenate([np.full(a.shape[0], ref / a.shape[0] if a.shape[0] else 0.0) for _k, (a, _b) in blocks])
    return A, B, c, counts


def _on_scale(u: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope >= 0, intercept) putting a utility on the human scale by least squares."""
    var = u.var()
    slope = max(float(np.cov(u, y, bias=True)[0, 1] / var), 0.0) if var > 1e-12 else 0.0
    return slope, float(y.mean() - slope * u.mean())


def fit_bradley_terry(Z: np.ndarray, y: np.ndarray, groups: np.ndarray, alpha: float,
                      signs: np.ndarray | None = None, source: np.ndarray | None = None,
                      pairing: Pairing | None = None, anchors: tuple[np.ndarray, np.ndarray] | None = None) -> Fitted:
    """`pairing` chooses the human pair kinds; `anchors`: the known-order anchors' (better, worse) rows,
    standardised with the rows' preprocessor by the caller."""
    A, B, c, _counts = pair_rows(Z, y, groups, source, pairing, anchors)
    D = A - B
    p = Z.shape[1]
    family = "bradley_terry" if signs is None else "bradley_terry_signed"
    if D.shape[0] == 0:
        return Fitted(family, {"alpha": alpha}, float(y.mean()), np.zeros(p))
    lo, hi = _bounds(signs, p)
    bounds = None if signs is None else [(None if math.isinf(a) else a, None if math.isinf(b) else b) for a, b in zip(lo, hi)]
    res = minimize(_bt_loss, np.zeros(p), args=(D, alpha, c), jac=True, method="L-BFGS-B", bounds=bounds)
    w = np.clip(res.x, lo, hi)
    slope, intercept = _on_scale(Z @ w, y)
    return Fitted(family, {"alpha": alpha}, intercept, slope * w)


def _mlp_unpack(theta: np.ndarray, p: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    W1 = theta[: h * p].reshape(h, p)
    b1 = theta[h * p: h * p + h]
    w2 = theta[h * p + h: h * p + 2 * h]
    return W1, b1, w2, float(theta[-1])


def _mlp_loss(theta, Z, y, h, alpha):
    n, p = Z.shape
    W1, b1, w2, b2 = _mlp_unpack(theta, p, h)
    H = np.tanh(Z @ W1.T + b1)
    r = H @ w2 + b2 - y
    loss = 0.5 * (r @ r) / n + 0.5 * alpha / n * ((W1 ** 2).sum() + w2 @ w2)
    g_out = r / n
    gw2 = H.T @ g_out + alpha / n * w2
    gb2 = g_out.sum()
    gH = np.outer(g_out, w2) * (1 - H ** 2)
    gW1 = gH.T @ Z + alpha / n * W1
    gb1 = gH.sum(axis=0)
    return float(loss), np.concatenate([gW1.ravel(), gb1, gw2, [gb2]])


def fit_mlp(Z: np.ndarray, y: np.ndarray, hidden: int, alpha: float, seed: int = 0) -> Fitted:
    n, p = Z.shape
    h = int(hidden)
    rng = np.random.default_rng(seed)
    theta = np.concatenate([rng.normal(0, 1 / math.sqrt(p), h * p), np.zeros(h),
                            rng.normal(0, 1 / math.sqrt(h), h) * y.std(), [y.mean()]])
    res = minimize(_mlp_loss, theta, args=(Z, y, h, alpha), jac=True, method="L-BFGS-B", options={"maxiter": 200})
    W1, b1, w2, b2 = _mlp_unpack(res.x, p, h)
    return Fitted("mlp", {"hidden": float(h), "alpha": alpha}, layers={"W1": W1, "b1": b1, "w2": w2, "b2": b2})


def _mlp_pairs_loss(theta, A, B, c, h, alpha):
    """Bradley-Terry on an MLP's utility u(x) = tanh(W1 x + b1) . w2 (RankNet): sum_k c_k log(1 + e^-(u(A_k) -
    u(B_k))) + alpha/2 (|W1|^2 + |w2|^2), normalised by the total pair weight so alpha keeps the MLP's scale."""
    p = A.shape[1]
    W1, b1, w2, _b2 = _mlp_unpack(theta, p, h)
    Ha, Hb = np.tanh(A @ W1.T + b1), np.tanh(B @ W1.T + b1)
    m = (Ha - Hb) @ w2
    total = c.sum()
    loss = (c @ np.logaddexp(0.0, -m)) / total + 0.5 * alpha / total * ((W1 ** 2).sum() + w2 @ w2)
    g = -(c / (1.0 + np.exp(m))) / total  # d loss / d margin
    gw2 = (Ha - Hb).T @ g + alpha / total * w2
    ga = np.outer(g, w2) * (1 - Ha ** 2)
    gb = -np.outer(g, w2) * (1 - Hb ** 2)
    gW1 = ga.T @ A + gb.T @ B + alpha / total * W1
    gb1 = ga.sum(axis=0) + gb.sum(axis=0)
    return float(loss), np.concatenate([gW1.ravel(), gb1, gw2, [0.0]])


def fit_mlp_pairs(Z: np.ndarray, y: np.ndarray, groups: np.ndarray, hidden: int, alpha: float, seed: int = 0,
                  source: np.ndarray | None = None, pairing: Pairing | None = None,
                  anchors: tuple[np.ndarray, np.ndarray] | None = None) -> Fitted:
    """The paper's lightweight MLP trained on the same pairs as Bradley-Terry (same-prompt, same-source,
    anchors), then put on the scale by least squares like it: the MLP that can learn from known-order pairs."""
    p = Z.shape[1]
    h = int(hidden)
    A, B, c, _counts = pair_rows(Z, y, groups, source, pairing, anchors)
    rng = np.random.default_rng(seed)
    theta = np.concatenate([rng.normal(0, 1 / math.sqrt(p), h * p), np.zeros(h), rng.normal(0, 1 / math.sqrt(h), h), [0.0]])
    if A.shape[0]:
        theta = minimize(_mlp_pairs_loss, theta, args=(A, B, c, h, alpha), jac=True, method="L-BFGS-B",
                         options={"maxiter": 200}).x
    W1, b1, w2, _b2 = _mlp_unpack(theta, p, h)
    slope, intercept = _on_scale(np.tanh(Z @ W1.T + b1) @ w2, y)
    return Fitted("mlp_pairs", {"hidden": float(h), "alpha": alpha},
                  layers={"W1": W1, "b1": b1, "w2": slope * w2, "b2": intercept})


def fit_family(family: str, Z: np.ndarray, y: np.ndarray, groups: np.ndarray, hyper: dict[str, float],
               seed: int = 0, signs: np.ndarray | None = None, source: np.ndarray | None = None,
               pairing: Pairing | None = None, anchors: tuple[np.ndarray, np.ndarray] | None = None) -> Fitted:
    """Fit one family; `signs` (one per feature) is read by the signed families only, which require it;
    `source`, `pairing` and `anchors` by the pairwise families only (Bradley-Terry, mlp_pairs)."""
    if family in SIGNED and signs is None:
        raise ValueError(f"{family} needs the features' signs (their catalogue directions)")
    if family in ("ridge", "ridge_signed"):
        return fit_ridge(Z, y, hyper["alpha"], signs if family == "ridge_signed" else None)
    if family in ("bradley_terry", "bradley_terry_signed"):
        return fit_bradley_terry(Z, y, groups, hyper["alpha"], signs if family == "bradley_terry_signed" else None,
                                 source, pairing, anchors)
    if family == "mlp":
        return fit_mlp(Z, y, int(hyper["hidden"]), hyper["alpha"], seed)
    if family == "mlp_pairs":
        return fit_mlp_pairs(Z, y, groups, int(hyper["hidden"]), hyper["alpha"], seed, source, pairing, anchors)
    raise ValueError(f"unknown model family {family!r}; known: {', '.join(GRIDS)}")
