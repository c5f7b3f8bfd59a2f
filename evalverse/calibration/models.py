"""The model families a calibration can fit, in numpy/scipy (pure functions, deterministic for a seed).

Every family fits on standardised features (`Preprocessor`, fitted on the training rows only: missing values
take the training median, then centre and scale by the training mean and SD) and predicts on the human scale:

- ridge: least squares with an L2 penalty `alpha` on the weights (not the intercept), closed form;
- bradley_terry: a Bradley-Terry (logistic) model of which clip of a within-prompt pair people rated higher,
  on feature differences, L2 penalty `alpha`, ties in the human means left out (VideoAlign found pairwise
  training beats score regression); its utility is then put on the scale by least squares (slope >= 0);
- mlp: one tanh hidden layer (`hidden` units), squared error with an L2 penalty `alpha`, L-BFGS: the paper's
  "lightweight MLP", used only when inner cross-validation prefers it to the linear families.

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
LINEAR = ("ridge", "bradley_terry")


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
        if self.family == "mlp":
            L = self.layers
            return L["b2"] + np.tanh(Z @ L["W1"].T + L["b1"]) @ L["w2"]
        return self.intercept + Z @ self.weights


def fit_ridge(Z: np.ndarray, y: np.ndarray, alpha: float) -> Fitted:
    Zc = Z - Z.mean(axis=0)
    yc = y - y.mean()
    w = np.linalg.solve(Zc.T @ Zc + alpha * np.eye(Z.shape[1]), Zc.T @ yc)
    return Fitted("ridge", {"alpha": alpha}, float(y.mean() - Z.mean(axis=0) @ w), w)


def _bt_loss(w: np.ndarray, D: np.ndarray, alpha: float) -> tuple[float, np.ndarray]:
    m = D @ w  # margin: how much more the preferred clip scores
    loss = np.logaddexp(0.0, -m).sum() + 0.5 * alpha * (w @ w)
    grad = -(D.T @ (1.0 / (1.0 + np.exp(m)))) + alpha * w
    return float(loss), grad


def fit_bradley_terry(Z: np.ndarray, y: np.ndarray, groups: np.ndarray, alpha: float) -> Fitted:
    i, j = pairs_within(groups)
    dy = y[i] - y[j]
    keep = dy != 0
    D = (Z[i] - Z[j])[keep] * np.sign(dy[keep])[:, None]  # each row: preferred minus other
    p = Z.shape[1]
    if D.shape[0] == 0:
        return Fitted("bradley_terry", {"alpha": alpha}, float(y.mean()), np.zeros(p))
    res = minimize(_bt_loss, np.zeros(p), args=(D, alpha), jac=True, method="L-BFGS-B")
    w = res.x
    u = Z @ w
    var = u.var()
    slope = max(float(np.cov(u, y, bias=True)[0, 1] / var), 0.0) if var > 1e-12 else 0.0
    intercept = float(y.mean() - slope * u.mean())
    return Fitted("bradley_terry", {"alpha": alpha}, intercept, slope * w)


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


def fit_family(family: str, Z: np.ndarray, y: np.ndarray, groups: np.ndarray, hyper: dict[str, float],
               seed: int = 0) -> Fitted:
    if family == "ridge":
        return fit_ridge(Z, y, hyper["alpha"])
    if family == "bradley_terry":
        return fit_bradley_terry(Z, y, groups, hyper["alpha"])
    if family == "mlp":
        return fit_mlp(Z, y, int(hyper["hidden"]), hyper["alpha"], seed)
    raise ValueError(f"unknown model family {family!r}; known: {', '.join(GRIDS)}")
