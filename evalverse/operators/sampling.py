"""Choosing which decoded frames a per-frame model looks at (models are too slow for every frame)."""
from __future__ import annotations

import numpy as np


def sample_indices(times: np.ndarray, fps: float, max_frames: int | None = None) -> np.ndarray:
    """Indices into `times` spaced about 1/fps seconds apart (always the first frame, never two the same),
    thinned evenly to at most `max_frames`."""
    times = np.asarray(times, dtype=np.float64)
    if len(times) == 0:
        return np.zeros(0, dtype=int)
    if fps <= 0 or len(times) == 1:
        picked = np.arange(len(times))
    else:
        targets = np.arange(times[0], times[-1] + 1e-9, 1.0 / fps)
        pos = np.clip(np.searchsorted(times, targets), 0, len(times) - 1)
        prev = np.clip(pos - 1, 0, len(times) - 1)
        nearer = np.where(np.abs(times[prev] - targets) <= np.abs(times[pos] - targets), prev, pos)
        picked = np.unique(nearer)
    if max_frames is not None and len(picked) > max_frames:
        picked = picked[np.unique(np.linspace(0, len(picked) - 1, max_frames).round().astype(int))]
    return picked.astype(int)


def span_of(index: int, spans) -> int:
    """Index of the shot span (objects with start_frame/end_frame) that holds frame `index`, or -1."""
    for k, s in enumerate(spans):
        if s.start_frame <= index < s.end_frame:
            return k
    return -1
