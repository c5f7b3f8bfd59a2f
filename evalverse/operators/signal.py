"""Small pure helpers shared by the classical operators (camera, quality, colour, audio).

Only numpy is imported here; everything returns plain JSON-ready Python values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

MAX_SERIES_POINTS = 200


def rnd(value: Any, digits: int = 3) -> Any:
    """Round floats (and nested lists/dicts of them) for JSON; NaN and inf become None."""
    if isinstance(value, dict):
        return {k: rnd(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rnd(v, digits) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return round(f, digits) if math.isfinite(f) else None
    return value


def series(times: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray, digits: int = 3,
           max_points: int = MAX_SERIES_POINTS) -> dict[str, list]:
    """A {times, values} series, averaged into at most `max_points` bins so the record stays small."""
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if len(t) > max_points:
        edges = np.linspace(0, len(t), max_points + 1).astype(int)
        t = np.array([t[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])
        v = np.array([_nanmean(v[a:b]) for a, b in zip(edges[:-1], edges[1:])])
    return {"times": rnd(t.tolist(), 3), "values": rnd(v.tolist(), digits)}


def _nanmean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


LUMA_709 = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def luma(frames: np.ndarray) -> np.ndarray:
    """BT.709 luma (0–255 float32) of RGB frames, on the gamma-encoded values as video codecs do."""
    f = np.ascontiguousarray(frames)
    return (f.reshape(-1, 3).astype(np.float32) @ LUMA_709).reshape(f.shape[:-1])


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """sRGB transfer function inverted; x in [0, 1]."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


SRGB_LINEAR_LUT = srgb_to_linear(np.arange(256) / 255.0)  # exact for 8-bit values


@dataclass(frozen=True)
class Span:
    """A shot as a half-open range of analysis frames, with its times."""

    index: int
    start_frame: int
    end_frame: int
    start: float
    end: float
    transition: str = "cut"

    @property
    def n(self) -> int:
        return self.end_frame - self.start_frame


def shot_spans(video: Any, evidence: dict[str, Any] | None = None) -> tuple[list[Span], str]:
    """Shots as frame spans, and where they came from: the `shots` evidence record (the one source of the
    shot list) when it is usable, else the whole clip as one shot."""
    n = len(video.frames) if getattr(video, "frames", None) is not None else 0
    times = np.asarray(getattr(video, "times", np.zeros(0)), dtype=np.float64)
    duration = float(getattr(video.meta, "duration_s", times[-1] if len(times) else 0.0))
    record = (evidence or {}).get("shots")
    typed = record.typed() if record is not None else None
    spans: list[Span] = []
    for i, s in enumerate(typed.shots if typed is not None else []):
        sf, ef = max(0, min(int(s.start_frame), n)), max(0, min(int(s.end_frame), n))
        if ef > sf:
            spans.append(Span(i, sf, ef, float(s.start), float(s.end), s.transition))
    if spans:
        return spans, "shots evidence"
    end_t = duration if duration > 0 else (float(times[-1]) if len(times) else 0.0)
    return [Span(0, 0, n, float(times[0]) if len(times) else 0.0, end_t, "start")], "whole clip"


def cut_times(spans: Iterable[Span]) -> list[float]:
    """Start times of every shot after the first: where the edit cuts (or fades) in."""
    return [s.start for s in list(spans)[1:]]


def pair_mask(n_frames: int, spans: Iterable[Span]) -> np.ndarray:
    """(n_frames-1,) bool: True for consecutive frame pairs that lie inside one shot (no cut between)."""
    mask = np.zeros(max(n_frames - 1, 0), dtype=bool)
    for s in spans:
        if s.end_frame - s.start_frame >= 2:
            mask[s.start_frame:s.end_frame - 1] = True
    return mask
