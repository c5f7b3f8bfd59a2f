"""Image quality and light: sharpness, noise, blockiness, exposure, flicker, colour temperature.

Per-pixel measures (sharpness, noise, blockiness) use the full-resolution stills, because analysis frames
are downscaled and downscaling hides blur, grain and 8×8 blocks. Temporal measures (exposure series,
flicker, colour temperature stability) use every analysis frame, inside shots only, so cuts are not
mistaken for flicker.
"""
from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from evalverse.errors import InputError
from evalverse.operators.base import Operator, OperatorContext
from evalverse.operators.results import Group, PerShot, Results, Series
from evalverse.operators.signal import SRGB_LINEAR_LUT, pair_mask, rnd, series, shot_spans
from evalverse.registry import Backend, register

REFERENCE_HEIGHT = 720  # sharpness is measured at this display height so resolutions compare
IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


class Exposure(Group):
    mean_luma: float
    median_luma: float
    p1_luma: float
    p99_luma: float
    dynamic_range: float
    dynamic_range_stops: float
    clipped_shadows: float
    clipped_highlights: float
    key: Literal["low", "normal", "high"]
    luma_series: Series = Series()


class Flicker(Group):
    flicker_index: float | None = None
    detected: bool | None = None
    reason: str | None = None  # why flicker could not be measured
    highpass_luma_rms: float | None = None
    pairs_used: int | None = None
    luma_jump_mean: float | None = None
    luma_jump_p95: float | None = None
    luma_jump_max: float | None = None
    colour_jump_mean: float | None = None
    colour_jump_p95: float | None = None
    vbench_temporal_flickering: float | None = None


class CctShot(PerShot):
    cct_k: float
    std_k: float
    std_mired: float
    drift_k: float


class ColourTemperature(Group):
    cct_k: float | None = None
    std_k_within_shots: float | None = None
    std_mired_within_shots: float | None = None
    max_drift_k: float | None = None
    shots: list[CctShot] = []
    series: Series = Series()


class QualityResults(Results):
    sharpness: float
    sharpness_stills: list[float] = []
    sharpness_cv: float
    noise_sigma: float
    blockiness: float | None = None
    exposure: Exposure
    flicker: Flicker
    colour_temperature: ColourTemperature
    still_size: list[int] = []  # [width, height] of the full-resolution stills
    n_stills: int
    shots_source: str


# ---------------------------------------------------------------- per-image measures (pure functions)

def gray_f32(img: np.ndarray) -> np.ndarray:
    """Luma as float32 (OpenCV's BT.601 weights: for sharpness, noise and blocks the weighting hardly matters)."""
    import cv2

    if img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
    return img.astype(np.float32, copy=False)


def luma_u8(frames: np.ndarray) -> np.ndarray:
    """(N, H, W) uint8 luma of RGB frames, frame by frame with OpenCV (fast, no float copy of the clip)."""
    import cv2

    out = np.empty(frames.shape[:3], dtype=np.uint8)
    for i, f in enumerate(frames):
        out[i] = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)
    return out


def sharpness(img: np.ndarray, reference_height: int = REFERENCE_HEIGHT) -> float:
    """Variance of the Laplacian of luma, after resizing to a common display height."""
    import cv2

    g = gray_f32(img)
    h, w = g.shape
    if h != reference_height:
        size = (max(int(round(w * reference_height / h)), 8), reference_height)
        g = cv2.resize(g, size, interpolation=cv2.INTER_AREA if h > reference_height else cv2.INTER_CUBIC)
    return float(cv2.Laplacian(g, cv2.CV_32F, ksize=3).var())


def noise_sigma(img: np.ndarray, block: int = 16) -> float:
    """Immerkær's fast noise estimate (8-bit levels) over the flattest half of the image's blocks.

    sigma = sqrt(pi/2) / 6 · mean|I * M|; restricting to low-gradient blocks keeps texture and edges from
    being read as noise (Immerkær 1996, with the usual homogeneous-region refinement)."""
    import cv2

    g = gray_f32(img)
    resp = np.abs(cv2.filter2D(g, cv2.CV_32F, IMMERKAER, borderType=cv2.BORDER_REFLECT))[1:-1, 1:-1]
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)[1:-1, 1:-1]
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)[1:-1, 1:-1]
    grad = np.sqrt(gx ** 2 + gy ** 2)
    h, w = resp.shape
    bh, bw = h // block, w // block
    if bh * bw < 4:
        return float(np.sqrt(np.pi / 2) / 6 * resp.mean())
    r = resp[:bh * block, :bw * block].reshape(bh, block, bw, block).mean(axis=(1, 3)).ravel()
    e = grad[:bh * block, :bw * block].reshape(bh, block, bw, block).mean(axis=(1, 3)).ravel()
    flat = e <= np.median(e)
    return float(np.sqrt(np.pi / 2) / 6 * r[flat].mean())


def blockiness(img: np.ndarray, block: int = 8) -> float:
    """Mean luma step across 8×8 block boundaries over the mean step elsewhere (1.0 = no blocking)."""
    g = gray_f32(img)
    ratios = []
    for axis in (1, 0):
        d = np.abs(np.diff(g, axis=axis)).mean(axis=1 - axis)  # mean step between column/row k and k+1
        idx = np.arange(len(d))
        at = (idx % block) == block - 1
        if at.sum() == 0 or (~at).sum() == 0:
            continue
        ratios.append(float(d[at].mean() / max(d[~at].mean(), 1e-3)))
    return float(np.mean(ratios)) if ratios else float("nan")


def mccamy_cct(rgb_mean_linear: np.ndarray) -> float:
    """Correlated colour temperature (K) of a linear-sRGB colour via CIE xy and McCamy's cubic."""
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    X, Y, Z = m @ np.asarray(rgb_mean_linear, dtype=np.float64)
    s = X + Y + Z
    if s <= 1e-9:
        return float("nan")
    x, y = X / s, Y / s
    if y <= 0.1858 + 0.01:  # deep blue/violet: below McCamy's epicentre the cubic wraps round to warm values
        return 25000.0
    n = (x - 0.3320) / (0.1858 - y)
    cct = 449 * n ** 3 + 3525 * n ** 2 + 6823.3 * n + 5520.33
    return float(np.clip(cct, 1000, 25000))  # McCamy is only meaningful near the Planckian locus


def frame_cct(frame: np.ndarray) -> float:
    """CCT of a frame's mean linear colour, leaving out clipped and near-black pixels (no colour information)."""
    f = frame.reshape(-1, 3)
    mx = f.max(axis=1)
    keep = (mx < 250) & (mx > 10)
    if keep.sum() < 0.05 * len(f):
        keep = np.ones(len(f), bool)
    lin = SRGB_LINEAR_LUT[f[keep]]
    return mccamy_cct(lin.mean(axis=0))


# ---------------------------------------------------------------- temporal measures

def fade_pairs(lum: np.ndarray, min_run: int = 6, min_step: float = 0.3) -> np.ndarray:
    """Pairs inside monotone luma ramps (fades): runs of >= min_run same-sign steps larger than min_step."""
    d = np.diff(lum)
    sign = np.where(d > min_step, 1, np.where(d < -min_step, -1, 0))
    out = np.zeros(len(d), dtype=bool)
    start = 0
    for i in range(1, len(d) + 1):
        if i == len(d) or sign[i] != sign[start] or sign[start] == 0:
            if sign[start] != 0 and i - start >= min_run:
                out[start:i] = True
            start = i
    return out


def highpass_residual(x: np.ndarray, window: int) -> np.ndarray:
    """x minus its Savitzky–Golay smoothed self: what changes faster than `window` frames (flicker).

    A quadratic local fit follows fades and slow light changes exactly, including at the shot's ends."""
    from scipy.signal import savgol_filter

    window = min(window | 1, len(x) if len(x) % 2 else len(x) - 1)
    if window < 5:
        return x - x.mean()
    return x - savgol_filter(x, window, polyorder=2, mode="interp")


@register
class QualityOperator(Operator):
    name: ClassVar[str] = "quality"
    version: ClassVar[str] = "1.1.0"
    description: ClassVar[str] = (
        "Image quality and light: sharpness (Laplacian variance at 720p), noise (Immerkær sigma), 8×8 blockiness, "
        "exposure (clipping, mean luma, p1–p99 dynamic range, key), flicker within shots (luma/colour jumps, "
        "flicker index, VBench temporal flickering), colour temperature (McCamy CCT) and its stability."
    )
    evidence_kind: ClassVar[str] = "quality"
    needs: ClassVar[tuple[str, ...]] = ("frames", "shots")
    results_model = QualityResults
    cost: ClassVar[float] = 0.45  # CPU seconds on talk10, warm, one worker (benchmarks/bench_evidence.py)
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend(name="opencv", weights="none (classical)", licence="Apache-2.0", modules=("cv2", "scipy"),
                fix="pip install opencv-python-headless scipy"),
    )
    default_params: ClassVar[dict[str, Any]] = {
        "shadow_level": 4,  # luma at or below: clipped shadows (0–255)
        "highlight_level": 251,  # luma at or above: clipped highlights
        "flicker_window_s": 0.5,  # running median window separating flicker from slow light changes
        "flicker_threshold": 0.02,  # flicker index (high-pass luma RMS / mean luma) that reads as visible flicker
        "max_pixels_per_frame": 40_000,  # temporal measures subsample larger frames
    }

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        p = {**self.default_params, **ctx.params}
        video = ctx.video
        frames = video.frames
        if frames is None or len(frames) == 0:
            raise InputError("quality needs decoded frames; this video has none")
        stills = video.stills if video.stills is not None and len(video.stills) else frames[[0, len(frames) // 2, -1]]
        spans, source = shot_spans(video, ctx.evidence)
        times = np.asarray(video.times, dtype=np.float64)

        grays = [gray_f32(s) for s in stills]
        sharp = [sharpness(g) for g in grays]
        noise = [noise_sigma(g) for g in grays]
        block = [blockiness(g) for g in grays]

        # subsample pixels of the analysis frames for the per-frame statistics
        n, h, w = frames.shape[:3]
        step = max(1, int(np.ceil(np.sqrt(h * w / float(p["max_pixels_per_frame"])))))
        small = np.ascontiguousarray(frames[:, ::step, ::step])
        lum = luma_u8(small)  # (N, h', w') uint8
        mean_luma = lum.reshape(n, -1).mean(axis=1)
        mean_rgb = small.reshape(n, -1, 3).mean(axis=1)

        flat = lum[:: max(1, n // 60)].ravel()  # exposure statistics from at most ~60 frames
        p1, p50, p99 = np.percentile(flat, [1, 50, 99])
        shadows = float((flat <= p["shadow_level"]).mean())
        highlights = float((flat >= p["highlight_level"]).mean())
        mean_all = float(flat.mean())
        key = "low" if (mean_all < 70 and p50 < 60) else ("high" if (mean_all > 170 and p50 > 170) else "normal")
        sharp_series = [sharpness(gray_f32(f), reference_height=min(h, REFERENCE_HEIGHT)) for f in frames[:: max(1, n // 30)]]

        exposure = {
            "mean_luma": mean_all, "median_luma": float(p50), "p1_luma": float(p1), "p99_luma": float(p99),
            "dynamic_range": float(p99 - p1), "dynamic_range_stops": float(np.log2(max(p99, 1) / max(p1, 1))),
            "clipped_shadows": shadows, "clipped_highlights": highlights, "key": key,
            "luma_series": series(times, mean_luma, 2),
        }
        flicker = self._flicker(small, lum, mean_luma, mean_rgb, times, spans, p)
        colour_temp = self._cct(small, times, spans)
        results = {
            "sharpness": float(np.median(sharp)),
            "sharpness_stills": sharp,
            "sharpness_cv": float(np.std(sharp_series) / max(np.mean(sharp_series), 1e-6)) if len(sharp_series) > 1 else 0.0,
            "noise_sigma": float(np.median(noise)),
            "blockiness": float(np.nanmedian(block)),
            "exposure": exposure,
            "flicker": flicker,
            "colour_temperature": colour_temp,
            "still_size": [int(stills.shape[2]), int(stills.shape[1])],
            "n_stills": int(len(stills)),
            "shots_source": source,
        }
        return rnd(results, 4)

    @staticmethod
    def _flicker(small, lum, mean_luma, mean_rgb, times, spans, p) -> dict[str, Any]:
        n = len(mean_luma)
        fps = (n - 1) / max(times[-1] - times[0], 1e-9) if n > 1 else 1.0
        window = max(5, int(round(float(p["flicker_window_s"]) * fps)))
        # flicker index: fast luma changes within each shot (a quadratic fit absorbs fades and slow drifts)
        resid = [highpass_residual(mean_luma[s.start_frame:s.end_frame], window)
                 for s in spans if s.end_frame - s.start_frame >= 3]
        if not resid:
            return {"flicker_index": None, "detected": None, "reason": "no shot has three or more frames"}
        r = np.concatenate(resid)
        rms = float(np.sqrt(np.mean(r ** 2)))
        index = rms / max(float(np.mean(mean_luma)), 20.0)  # relative change (Weber), floored for dark scenes
        out: dict[str, Any] = {
            "flicker_index": index,
            "detected": bool(index >= float(p["flicker_threshold"])),
            "highpass_luma_rms": rms,
        }
        # frame-to-frame jumps: pairs inside shots and outside fades
        inside = pair_mask(n, spans) & ~fade_pairs(mean_luma)
        out["pairs_used"] = int(inside.sum())
        if inside.any():
            dl = np.abs(np.diff(mean_luma))[inside]
            dc = np.linalg.norm(np.diff(mean_rgb, axis=0), axis=1)[inside]
            # VBench temporal flickering: (255 - mean absolute frame difference) / 255, here within shots
            mad = np.abs(np.diff(lum.astype(np.int16), axis=0)).reshape(n - 1, -1).mean(axis=1)[inside]
            out.update({
                "luma_jump_mean": float(dl.mean()), "luma_jump_p95": float(np.percentile(dl, 95)),
                "luma_jump_max": float(dl.max()),
                "colour_jump_mean": float(dc.mean()), "colour_jump_p95": float(np.percentile(dc, 95)),
                "vbench_temporal_flickering": float((255.0 - mad.mean()) / 255.0),
            })
        return out

    @staticmethod
    def _cct(small, times, spans) -> dict[str, Any]:
        n = len(small)
        idx = np.unique(np.linspace(0, n - 1, min(n, 200)).astype(int))
        cct = np.full(n, np.nan)
        for i in idx:
            cct[i] = frame_cct(small[i])
        per_shot = []
        for s in spans:
            sel = [i for i in idx if s.start_frame <= i < s.end_frame and np.isfinite(cct[i])]
            if not sel:
                continue
            v = cct[sel]
            mired = 1e6 / v
            drift = float(v[-1] - v[0]) if len(v) > 1 else 0.0
            per_shot.append({"index": s.index, "start": s.start, "end": s.end, "cct_k": float(np.median(v)),
                             "std_k": float(v.std()), "std_mired": float(mired.std()), "drift_k": drift})
        valid = cct[idx][np.isfinite(cct[idx])]
        return {
            "cct_k": float(np.median(valid)) if len(valid) else None,
            "std_k_within_shots": float(np.mean([s["std_k"] for s in per_shot])) if per_shot else None,
            "std_mired_within_shots": float(np.mean([s["std_mired"] for s in per_shot])) if per_shot else None,
            "max_drift_k": float(max((abs(s["drift_k"]) for s in per_shot), default=0.0)),
            "shots": per_shot,
            "series": series(times[idx], cct[idx], 0),
        }
