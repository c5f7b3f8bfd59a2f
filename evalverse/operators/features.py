"""`features` operator: how similar frames look to each other over time, within and across shots.

Backends, in order: `dinov2` (DINOv2-small CLS embeddings, cosine similarity; weights pulled into the
models folder) and `classical` (no weights: the mean of an HSV colour-histogram intersection and the
SSIM of small grey frames). Frames are sampled at `fps` (default 4), at least one per shot.

Within a shot, a similarity to the previous sample that falls far below the shot's usual level is
reported as an abrupt change (possible flicker, morphing or an identity jump): its drop 1 - s must
exceed both `min_drop` and median + `jump_sigma` x 1.4826 x MAD of the shot-internal drops.
Pairs that straddle a shot boundary (from the `shots` evidence) are never flagged.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import ConfigDict, Field

from evalverse.config import Settings
from evalverse.errors import UnavailableError
from evalverse.operators.base import Operator, OperatorContext
from evalverse.operators.results import Detail, Group, PerShot, Results, Series
from evalverse.operators.sampling import sample_indices, span_of
from evalverse.operators.signal import series, shot_spans
from evalverse.registry import Backend, register

DINO_DIR = "dinov2-small"
HIST_BINS = (16, 4, 4)  # hue, saturation, value: hue carries most of what distinguishes scenes


class AbruptChange(Detail):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    time: float  # the sample after the drop
    from_: float = Field(alias="from")  # the sample before it
    shot: int
    similarity: float


class FeatureShot(PerShot):
    samples: int
    keyframe_time: float
    mean_to_previous: float | None = None
    min_to_previous: float | None = None
    min_to_shot_start: float | None = None
    abrupt_changes: int = 0


class CrossShot(Group):
    shots: list[int] = []  # shot index of each keyframe (row/column of the matrix)
    matrix: list[list[float]] = []
    n_shots: int = 0
    mean: float | None = None
    min: float | None = None


class FeaturesResults(Results):
    backend: Literal["dinov2", "classical"]
    shot_source: str
    sampled_frames: int
    to_first: Series = Series()
    to_previous: Series = Series()
    mean_to_previous_in_shot: float | None = None
    min_to_previous_in_shot: float | None = None
    first_to_last: float | None = None
    shots: list[FeatureShot] = []
    cross_shot: CrossShot = CrossShot()
    abrupt_changes: list[AbruptChange] = []
    n_abrupt_changes: int = 0


def _dino_probe(settings: Settings) -> str | None:
    folder = settings.models_dir / DINO_DIR
    if not any((folder / f).exists() for f in ("model.safetensors", "pytorch_model.bin")):
        return f"weights file {folder / 'model.safetensors'} not found"
    if not (folder / "preprocessor_config.json").exists():
        return f"image processor config {folder / 'preprocessor_config.json'} not found"
    return None


# --- classical ------------------------------------------------------------------------------------------

def hsv_histogram(frame: np.ndarray) -> np.ndarray:
    """Normalised (sum 1) joint HSV histogram of an RGB uint8 frame."""
    import cv2

    hsv = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2HSV)  # H in [0, 180)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 180, 0, 256, 0, 256]).ravel()
    return hist / max(float(hist.sum()), 1.0)


def small_grey(frame: np.ndarray, size: int) -> np.ndarray:
    """Grey frame with its longer side resized to `size` pixels (area averaging), float64 0–255."""
    import cv2

    h, w = frame.shape[:2]
    scale = size / max(h, w)
    dsize = (max(int(round(w * scale)), 8), max(int(round(h * scale)), 8))
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, dsize, interpolation=cv2.INTER_AREA).astype(np.float64)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean structural similarity of two grey images (Wang et al. 2004: Gaussian window sigma 1.5,
    K1 0.01, K2 0.03, data range 255)."""
    import cv2

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))


class ClassicalSimilarity:
    """Per-frame descriptors (histogram + small grey image) and their pairwise similarity."""

    def __init__(self, frames: np.ndarray, size: int):
        self.hists = [hsv_histogram(f) for f in frames]
        self.greys = [small_grey(f, size) for f in frames]

    def __call__(self, i: int, j: int) -> float:
        hist = float(np.minimum(self.hists[i], self.hists[j]).sum())
        return 0.5 * hist + 0.5 * ssim(self.greys[i], self.greys[j])


# --- DINOv2 ---------------------------------------------------------------------------------------------

_models: dict[str, Any] = {}
_model_lock = threading.Lock()


def load_dinov2(folder: Path):
    """(image processor, model) from a local Hugging Face folder, loaded once per process."""
    key = str(folder)
    with _model_lock:
        if key not in _models:
            if not (folder / "config.json").exists():
                raise UnavailableError(f"DINOv2 model {folder} not found; fix: evalverse models pull dinov2")
            from evalverse.compat.torchvision_cpu import ensure_torchvision

            try:
                ensure_torchvision()  # transformers imports torchvision when it is installed
            except UnavailableError:
                pass  # without torchvision, transformers' PIL image processors still work
            from transformers import AutoImageProcessor, AutoModel

            processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
            model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
            _models[key] = (processor, model)
        return _models[key]


def dinov2_embeddings(frames: np.ndarray, folder: Path, batch: int = 16) -> np.ndarray:
    """L2-normalised CLS embeddings (N, D) of RGB uint8 frames."""
    import torch

    processor, model = load_dinov2(folder)
    out = []
    with torch.inference_mode():
        for start in range(0, len(frames), batch):
            chunk = [np.ascontiguousarray(f) for f in frames[start:start + batch]]
            inputs = processor(images=chunk, return_tensors="pt")
            hidden = model(pixel_values=inputs["pixel_values"].to(model.dtype))
            cls = hidden.pooler_output if getattr(hidden, "pooler_output", None) is not None else hidden.last_hidden_state[:, 0]
            out.append(torch.nn.functional.normalize(cls.float(), dim=-1).numpy())
    return np.concatenate(out, axis=0) if out else np.zeros((0, 0), np.float32)


# --- summaries ------------------------------------------------------------------------------------------

def abrupt_changes(drops: np.ndarray, jump_sigma: float, min_drop: float) -> np.ndarray:
    """Boolean mask of drops (1 - similarity) that stand out of the others in the same shot."""
    drops = np.asarray(drops, dtype=np.float64)
    if len(drops) == 0:
        return np.zeros(0, dtype=bool)
    med = float(np.median(drops))
    mad = float(np.median(np.abs(drops - med))) * 1.4826
    return drops > max(min_drop, med + jump_sigma * mad)


def sample_with_shots(times: np.ndarray, spans, fps: float, max_frames: int) -> np.ndarray:
    """Sampled frame indices, with each shot's middle frame added when sampling missed the shot."""
    idx = set(sample_indices(times, fps, max_frames).tolist())
    for s in spans:
        if s.end_frame > s.start_frame and not any(s.start_frame <= i < s.end_frame for i in idx):
            idx.add((s.start_frame + s.end_frame - 1) // 2)
    return np.array(sorted(idx), dtype=int)


def summarise(sim, idx: np.ndarray, times: np.ndarray, spans, jump_sigma: float, min_drop: float) -> dict[str, Any]:
    """`sim(a, b)` compares sampled positions a and b; idx are the sampled frame indices."""
    n = len(idx)
    t = times[idx]
    shot_of = [span_of(int(i), spans) for i in idx]
    to_first = [sim(0, k) for k in range(n)]
    to_prev = [sim(k - 1, k) for k in range(1, n)]
    same_shot = [shot_of[k - 1] == shot_of[k] for k in range(1, n)]
    shots_out, changes, keyframes = [], [], []
    for s_no, s in enumerate(spans):
        members = [k for k in range(n) if shot_of[k] == s_no]
        if not members:
            continue
        mid = (s.start + s.end) / 2
        key = min(members, key=lambda k: abs(t[k] - mid))
        keyframes.append((s.index, key))
        pairs = [k for k in members if k > 0 and shot_of[k - 1] == s_no]
        prev_vals = np.array([to_prev[k - 1] for k in pairs])
        drift = [sim(members[0], k) for k in members[1:]]
        flagged = abrupt_changes(1 - prev_vals, jump_sigma, min_drop)
        for k, flag in zip(pairs, flagged):
            if flag:
                changes.append({"time": round(float(t[k]), 3), "from": round(float(t[k - 1]), 3), "shot": s.index,
                                "similarity": round(float(to_prev[k - 1]), 4)})
        shots_out.append({
            "index": s.index, "start": round(s.start, 3), "end": round(s.end, 3), "samples": len(members),
            "keyframe_time": round(float(t[key]), 3),
            "mean_to_previous": round(float(prev_vals.mean()), 4) if len(prev_vals) else None,
            "min_to_previous": round(float(prev_vals.min()), 4) if len(prev_vals) else None,
            "min_to_shot_start": round(float(min(drift)), 4) if drift else None,
            "abrupt_changes": int(flagged.sum()),
        })
    m = len(keyframes)
    matrix = [[round(float(sim(a, b)) if i != j else 1.0, 4) for j, (_, b) in enumerate(keyframes)]
              for i, (_, a) in enumerate(keyframes)]
    off = [matrix[i][j] for i in range(m) for j in range(m) if i != j]
    inside = [v for v, same in zip(to_prev, same_shot) if same]
    return {
        "sampled_frames": n,
        "to_first": series(t, to_first, 4),
        "to_previous": series(t[1:], to_prev, 4),
        "mean_to_previous_in_shot": round(float(np.mean(inside)), 4) if inside else None,
        "min_to_previous_in_shot": round(float(np.min(inside)), 4) if inside else None,
        "first_to_last": round(float(to_first[-1]), 4) if n else None,
        "shots": shots_out,
        "cross_shot": {"shots": [i for i, _ in keyframes], "matrix": matrix, "n_shots": m,
                       "mean": round(float(np.mean(off)), 4) if off else None,
                       "min": round(float(np.min(off)), 4) if off else None},
        "abrupt_changes": changes,
        "n_abrupt_changes": len(changes),
    }


@register
class Features(Operator):
    name = "features"
    version = "1.1"
    description = ("Cross-frame visual similarity (DINOv2 embeddings, or colour histograms + SSIM) at 4 fps: "
                   "to the first and previous frame, within and across shots, and abrupt changes inside a shot.")
    evidence_kind = "features"
    cost = 0.08  # CPU seconds on talk10, warm, one worker (benchmarks/bench_evidence.py)
    needs = ("frames", "shots")
    results_model = FeaturesResults
    default_params: ClassVar[dict[str, Any]] = {"fps": 4.0, "max_frames": 160, "jump_sigma": 6.0, "min_drop": 0.25,
                                                "grey_size": 96}
    backends = (
        Backend("dinov2", weights="facebook/dinov2-small (Hugging Face), pulled into the models folder",
                licence="Apache-2.0", modules=("transformers", "torch"), files=(f"{DINO_DIR}/config.json",),
                probe=_dino_probe, fix="evalverse models pull dinov2"),
        Backend("classical", weights="none (colour histograms + SSIM)", licence="none", modules=("cv2",)),
    )

    def run(self, ctx: OperatorContext) -> FeaturesResults:
        video, p = ctx.video, ctx.params
        spans, shot_source = shot_spans(video, ctx.evidence)
        idx = sample_with_shots(video.times, spans, float(p["fps"]), int(p["max_frames"]))
        frames = video.frames[idx]
        if ctx.backend == "dinov2":
            emb = dinov2_embeddings(frames, ctx.settings.models_dir / DINO_DIR)

            def sim(a: int, b: int) -> float:
                return float(np.dot(emb[a], emb[b]))
        elif ctx.backend == "classical":
            sim = ClassicalSimilarity(frames, int(p["grey_size"]))
        else:
            raise UnavailableError(f"features has no backend {ctx.backend!r}")
        out = summarise(sim, idx, np.asarray(video.times, dtype=np.float64), spans,
                        float(p["jump_sigma"]), float(p["min_drop"]))
        return FeaturesResults.model_validate({"backend": ctx.backend, "shot_source": shot_source, **out})
