"""Audio as operators want it: 16 kHz mono float32, plus the peak level of the original samples.

The peak is measured on the native samples (before downmix and resampling) so "digitally silent"
means what it says: no sample of any channel reaches -90 dBFS.
"""
from __future__ import annotations

import math

import av
import numpy as np

from evalverse.media.types import AUDIO_RATE

SILENCE_DBFS = -90.0

# full-scale value of each sample format, to express a peak in dBFS
_FULL_SCALE = {"s16": 32768.0, "s32": 2147483648.0, "u8": 128.0, "s64": 9.223372036854776e18}


def peak_of(frame: av.AudioFrame) -> float:
    """Largest absolute sample of a decoded frame, as a fraction of full scale."""
    data = frame.to_ndarray()
    if data.size == 0:
        return 0.0
    base = frame.format.name.rstrip("p")
    if base == "u8":
        return float(np.abs(data.astype(np.float32) - 128.0).max() / 128.0)
    if base in _FULL_SCALE:
        return float(np.abs(data.astype(np.float64)).max() / _FULL_SCALE[base])
    return float(np.abs(data).max())  # flt / dbl are already in [-1, 1]


def dbfs(peak: float) -> float:
    return 20 * math.log10(peak) if peak > 0 else -math.inf


class AudioCollector:
    """Feed decoded frames in stream order; collects 16 kHz mono float32 and the native peak."""

    def __init__(self, rate: int = AUDIO_RATE, resample: bool = True):
        self.rate = rate
        self.peak = 0.0
        self.first_time: float | None = None
        self.end_time: float | None = None  # where the last frame ends (its time plus its samples)
        self.samples = 0  # native samples per channel seen
        self.source_rate = 0
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=rate) if resample else None
        self._chunks: list[np.ndarray] = []

    def add(self, frame: av.AudioFrame) -> None:
        if self.first_time is None and frame.time is not None:
            self.first_time = float(frame.time)
        self.samples += frame.samples
        self.source_rate = frame.sample_rate or self.source_rate
        if frame.time is not None and frame.sample_rate:
            self.end_time = max(self.end_time or -math.inf, float(frame.time) + frame.samples / frame.sample_rate)
        self.peak = max(self.peak, peak_of(frame))
        if self._resampler is not None:
            for out in self._resampler.resample(frame):
                self._chunks.append(out.to_ndarray().reshape(-1))

    def finish(self) -> np.ndarray | None:
        if self._resampler is None:
            return None
        for out in self._resampler.resample(None):
            self._chunks.append(out.to_ndarray().reshape(-1))
        if not self._chunks:
            return np.zeros(0, dtype=np.float32)
        return np.clip(np.concatenate(self._chunks).astype(np.float32, copy=False), -1.0, 1.0)

    @property
    def silent(self) -> bool:
        return dbfs(self.peak) < SILENCE_DBFS


def align_to(samples: np.ndarray, audio_start: float | None, video_start: float, rate: int = AUDIO_RATE) -> np.ndarray:
    """Shift audio onto the video's time axis (t = 0 at the first video frame): pad if audio starts later, trim if earlier."""
    if audio_start is None:
        return samples
    shift = int(round((audio_start - video_start) * rate))
    if shift > 0:
        return np.concatenate([np.zeros(shift, dtype=np.float32), samples])
    return samples[-shift:] if shift < 0 else samples
