"""Colour evidence: palette, hue harmony, colourfulness, saturation, contrast, grayscale, palette consistency.

- Palette: k-means in CIELAB on subsampled pixels; clusters closer than a just-noticeable ΔE are merged, so an
  image with three colours reports three.
- Hue harmony: the saturation-weighted hue histogram is fitted to the harmonic templates of Matsuda as used by
  Cohen-Or et al. 2006 (i, V, L, I, T, Y, X; rotation searched in 1° steps). A template's score is
  1 − (mean angular distance of hue mass outside its sectors) / 30°, clipped at 0; the best template is the
  narrowest one scoring within 0.02 of the best score (wide templates fit anything).
- Colourfulness: Hasler & Süsstrunk 2003 (M = σ_rgyb + 0.3 μ_rgyb, on 0–255 RGB).
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np

from evalverse.errors import InputError
from evalverse.operators.base import Operator, OperatorContext
from evalverse.operators.results import Detail, Group, PerShot, Results, Series
from evalverse.operators.signal import luma, rnd, series, shot_spans
from evalverse.registry import Backend, register

# Matsuda templates: (sector centre offset in degrees, sector width in degrees) per sector
TEMPLATES: dict[str, tuple[tuple[float, float], ...]] = {
    "i": ((0.0, 18.0),),
    "V": ((0.0, 93.6),),
    "L": ((0.0, 18.0), (90.0, 79.2)),
    "I": ((0.0, 18.0), (180.0, 18.0)),
    "T": ((0.0, 180.0),),
    "Y": ((0.0, 93.6), (180.0, 18.0)),
    "X": ((0.0, 93.6), (180.0, 93.6)),
}
TEMPLATE_NAMES = {"i": "monochromatic (i)", "V": "analogous (V)", "L": "L-shaped (L)", "I": "complementary (I)",
                  "T": "half wheel (T)", "Y": "split (Y)", "X": "double analogous (X)"}
HARMONY_SCALE_DEG = 30.0
MERGE_DELTA_E = 8.0


class PaletteColour(Detail):
    hex: str
    lab: list[float]  # CIELAB L*, a*, b*
    share: float  # of the sampled pixels


class Harmony(Group):
    template: Literal["i", "V", "L", "I", "T", "Y", "X"] | None = None
    template_name: str | None = None
    score: float | None = None
    rotation_deg: int | None = None
    scores: dict[str, float] = {}  # every template's score
    reason: str | None = None  # why harmony was not measured


class ColourShot(PerShot):
    palette: list[PaletteColour] = []


class PaletteConsistency(Group):
    adjacent_delta_e: list[float] = []
    mean_delta_e: float | None = None
    score: float | None = None


class Cast(Group):
    """The share-weighted mean colour of the clip's palette: how far the whole picture leans to one hue."""

    a: float | None = None
    b: float | None = None
    chroma: float | None = None


class ColourResults(Results):
    palette: list[PaletteColour] = []
    harmony: Harmony
    colourfulness: float
    saturation_mean: float
    contrast_rms: float
    chroma_p95: float
    grayscale: bool
    saturated_share: float
    cast: Cast = Cast()
    colourfulness_cv: float | None = None
    shots: list[ColourShot] = []
    palette_consistency: PaletteConsistency
    colourfulness_series: Series = Series()
    shots_source: str


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(…, 3) uint8 sRGB → CIELAB (L 0–100, a, b) float32 via OpenCV (D65)."""
    import cv2

    flat = np.ascontiguousarray(rgb.reshape(-1, 1, 3), dtype=np.float32) / 255.0
    return cv2.cvtColor(flat, cv2.COLOR_RGB2LAB).reshape(rgb.shape[:-1] + (3,))


def lab_to_hex(lab: np.ndarray) -> str:
    import cv2

    rgb = cv2.cvtColor(np.asarray(lab, np.float32).reshape(1, 1, 3), cv2.COLOR_LAB2RGB).reshape(3)
    r, g, b = (int(round(float(np.clip(c, 0, 1)) * 255)) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def palette(pixels_rgb: np.ndarray, k: int = 5, seed: int = 0) -> list[dict[str, Any]]:
    """Dominant colours of (M, 3) uint8 pixels: k-means in Lab, near-duplicates merged, sorted by share."""
    import cv2

    lab = rgb_to_lab(pixels_rgb.reshape(-1, 3)).astype(np.float32)
    uniq = np.unique(np.round(lab, 1), axis=0)
    k = int(max(1, min(k, len(uniq))))
    cv2.setRNGSeed(seed)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 50, 0.1)
    _, labels, centres = cv2.kmeans(lab, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    counts = np.bincount(labels.ravel(), minlength=k).astype(np.float64)
    groups = [[c, n] for c, n in zip(centres.astype(np.float64), counts) if n > 0]
    merged = True
    while merged and len(groups) > 1:  # merge the closest pair while they are indistinguishable
        merged = False
        best = (None, None, MERGE_DELTA_E)
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                d = float(np.linalg.norm(groups[i][0] - groups[j][0]))
                if d < best[2]:
                    best = (i, j, d)
        if best[0] is not None:
            i, j, _ = best
            (ci, ni), (cj, nj) = groups[i], groups[j]
            groups[i] = [(ci * ni + cj * nj) / (ni + nj), ni + nj]
            del groups[j]
            merged = True
    total = sum(n for _, n in groups)
    groups.sort(key=lambda g: -g[1])
    return [{"hex": lab_to_hex(c), "lab": [float(x) for x in c], "share": float(n / total)} for c, n in groups]


def palette_distance(a: list[dict], b: list[dict]) -> float:
    """Symmetric share-weighted mean ΔE from each palette's colours to the nearest colour of the other."""
    la, lb = np.array([c["lab"] for c in a]), np.array([c["lab"] for c in b])
    wa, wb = np.array([c["share"] for c in a]), np.array([c["share"] for c in b])
    d = np.linalg.norm(la[:, None] - lb[None], axis=2)
    return float((np.sum(wa * d.min(axis=1)) + np.sum(wb * d.min(axis=0))) / 2)


def palette_cast(pal: list[dict[str, Any]]) -> dict[str, float | None]:
    """Share-weighted mean a*, b* of a palette and their chroma (the strength of an overall colour cast)."""
    pal = [p for p in pal if p.get("lab")]
    if not pal:
        return {"a": None, "b": None, "chroma": None}
    total = sum(float(p.get("share", 0)) for p in pal) or 1.0
    a = sum(float(p["lab"][1]) * float(p.get("share", 0)) for p in pal) / total
    b = sum(float(p["lab"][2]) * float(p.get("share", 0)) for p in pal) / total
    return {"a": a, "b": b, "chroma": math.hypot(a, b)}


def variation(values: list[float | None], min_samples: int = 3) -> float | None:
    """Population std over max(mean, 1) of the finite values (None under `min_samples` of them)."""
    vals = [float(x) for x in values if isinstance(x, (int, float)) and math.isfinite(x)]
    if len(vals) < min_samples:
        return None
    mean = sum(vals) / len(vals)
    return (sum((x - mean) ** 2 for x in vals) / len(vals)) ** 0.5 / max(mean, 1.0)


def hue_histogram(frames_rgb: np.ndarray, min_sat: float = 0.2, min_val: float = 0.15) -> tuple[np.ndarray, float]:
    """Saturation-weighted 360-bin hue histogram (normalised) and the share of pixels that are saturated."""
    import cv2

    flat = np.ascontiguousarray(frames_rgb.reshape(-1, 1, 3), dtype=np.float32) / 255.0
    hsv = cv2.cvtColor(flat, cv2.COLOR_RGB2HSV).reshape(-1, 3)  # H in degrees [0, 360), S, V in [0, 1]
    keep = (hsv[:, 1] >= min_sat) & (hsv[:, 2] >= min_val)
    share = float(keep.mean()) if len(keep) else 0.0
    hist = np.bincount(np.floor(hsv[keep, 0]).astype(int) % 360, weights=hsv[keep, 1], minlength=360)
    s = hist.sum()
    return (hist / s if s > 0 else hist), share


def _sector_distance(n_bins: int, template: tuple[tuple[float, float], ...]) -> np.ndarray:
    """(360 rotations, n_bins) angular distance from each hue bin centre to the nearest sector edge (0 inside)."""
    hues = np.arange(n_bins) + 0.5
    rot = np.arange(360)[:, None]
    best = np.full((360, n_bins), 180.0)
    for offset, width in template:
        centre = (rot + offset) % 360
        d = np.abs((hues[None] - centre + 180) % 360 - 180)
        best = np.minimum(best, np.maximum(d - width / 2, 0))
    return best


def harmony(hist: np.ndarray) -> dict[str, Any]:
    """Fit every template (all rotations) to a normalised hue histogram; scores in [0, 1]."""
    scores, angles = {}, {}
    for name, tpl in TEMPLATES.items():
        cost = _sector_distance(len(hist), tpl) @ hist  # mean distance outside the sectors, per rotation
        r = int(np.argmin(cost))
        scores[name] = float(max(0.0, 1.0 - cost[r] / HARMONY_SCALE_DEG))
        angles[name] = r
    top = max(scores.values())
    coverage = {n: sum(w for _, w in t) for n, t in TEMPLATES.items()}
    best = min((n for n in TEMPLATES if scores[n] >= top - 0.02), key=lambda n: coverage[n])
    return {"template": best, "template_name": TEMPLATE_NAMES[best], "score": scores[best],
            "rotation_deg": angles[best], "scores": scores}


def colourfulness(frame: np.ndarray) -> float:
    """Hasler–Süsstrunk colourfulness of an RGB frame (0 for grey; ~>100 very colourful)."""
    f = frame.reshape(-1, 3).astype(np.float64)
    rg = f[:, 0] - f[:, 1]
    yb = 0.5 * (f[:, 0] + f[:, 1]) - f[:, 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def saturation_mean(frame: np.ndarray) -> float:
    f = frame.reshape(-1, 3).astype(np.float32)
    mx, mn = f.max(axis=1), f.min(axis=1)
    return float(np.mean(np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-6), 0.0)))


def subsample(frames: np.ndarray, n_frames: int, max_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to n_frames evenly spaced frames, each with pixels strided down to about max_pixels."""
    idx = np.unique(np.linspace(0, len(frames) - 1, min(len(frames), n_frames)).astype(int))
    h, w = frames.shape[1:3]
    step = max(1, int(np.ceil(np.sqrt(h * w / float(max_pixels)))))
    return idx, frames[idx][:, ::step, ::step]


@register
class ColourOperator(Operator):
    name: ClassVar[str] = "colour"
    version: ClassVar[str] = "1.1.0"
    description: ClassVar[str] = (
        "Colour: 5-colour Lab k-means palette with shares, hue harmony against Matsuda/Cohen-Or templates, "
        "Hasler–Süsstrunk colourfulness, mean saturation, RMS contrast, grayscale flag, palette consistency across shots."
    )
    evidence_kind: ClassVar[str] = "colour"
    cost = 0.15  # CPU seconds on talk10, warm, one worker (benchmarks/bench_evidence.py)
    needs: ClassVar[tuple[str, ...]] = ("frames", "shots")
    results_model = ColourResults
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend(name="opencv", weights="none (classical)", licence="Apache-2.0", modules=("cv2",),
                fix="pip install opencv-python-headless"),
    )
    default_params: ClassVar[dict[str, Any]] = {
        "k": 5,
        "frames": 24,  # frames sampled for palette and harmony
        "pixels_per_frame": 2500,
        "grayscale_chroma": 4.0,  # Lab chroma p95 below this: black and white
        "min_saturated_share": 0.02,  # below this, hue harmony is not defined
    }

    def run(self, ctx: OperatorContext) -> ColourResults:
        p = {**self.default_params, **ctx.params}
        video = ctx.video
        frames = video.frames
        if frames is None or len(frames) == 0:
            raise InputError("colour needs decoded frames; this video has none")
        times = np.asarray(video.times, dtype=np.float64)
        spans, source = shot_spans(video, ctx.evidence)
        idx, sample = subsample(frames, int(p["frames"]), int(p["pixels_per_frame"]))
        pixels = sample.reshape(-1, 3)

        lab = rgb_to_lab(pixels)
        chroma = np.hypot(lab[:, 1], lab[:, 2])
        grayscale = bool(np.percentile(chroma, 95) < float(p["grayscale_chroma"]))
        colourful = np.array([colourfulness(f) for f in sample])
        sat = np.array([saturation_mean(f) for f in sample])
        contrast = np.array([float(luma(f).std() / 255.0) for f in sample])
        hist, sat_share = hue_histogram(sample)
        harm = (harmony(hist) if sat_share >= float(p["min_saturated_share"]) and not grayscale
                else {"template": None, "score": None, "reason": "too few saturated pixels for hue harmony"})

        per_shot = []
        for s in spans:
            sel = np.flatnonzero((idx >= s.start_frame) & (idx < s.end_frame))
            if len(sel) == 0:  # short shot between samples: take its middle frame
                mid = frames[(s.start_frame + s.end_frame - 1) // 2]
                step = max(1, int(np.ceil(np.sqrt(mid.shape[0] * mid.shape[1] / float(p["pixels_per_frame"])))))
                px = mid[::step, ::step].reshape(-1, 3)
            else:
                px = sample[sel].reshape(-1, 3)
            per_shot.append({"index": s.index, "start": s.start, "end": s.end,
                             "palette": palette(px, int(p["k"]))})
        dists = [palette_distance(a["palette"], b["palette"]) for a, b in zip(per_shot, per_shot[1:])]
        consistency = {
            "adjacent_delta_e": dists,
            "mean_delta_e": float(np.mean(dists)) if dists else None,
            # 1 when adjacent shots share a palette, 0 at a mean ΔE of 50 (very different looks)
            "score": float(max(0.0, 1.0 - np.mean(dists) / 50.0)) if dists else None,
        }
        results = {
            "palette": palette(pixels, int(p["k"])),
            "harmony": harm,
            "colourfulness": float(colourful.mean()),
            "saturation_mean": float(sat.mean()),
            "contrast_rms": float(contrast.mean()),
            "chroma_p95": float(np.percentile(chroma, 95)),
            "grayscale": grayscale,
            "saturated_share": sat_share,
            "shots": per_shot,
            "palette_consistency": consistency,
            "colourfulness_series": series(times[idx], colourful, 2),
            "shots_source": source,
        }
        results = rnd(results, 3)
        # derived from the stored (rounded) palette and series, so they agree with what a reader recomputes
        results["cast"] = rnd(palette_cast(results["palette"]), 4)
        results["colourfulness_cv"] = rnd(variation(results["colourfulness_series"]["values"]), 4)
        return ColourResults.model_validate(results)
