"""Classical audio-visual offset: cross-correlate the mouth-opening series with the speech envelope.

Both signals go onto one time grid (default 100 Hz), are z-scored, and Pearson correlation is taken
at every lag in ±max_lag. Like SyncNet's offset search, the estimate is the best lag and the
confidence is the peak minus the median over all lags. Positive offset = the audio is late.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass
class SyncEstimate:
    offset_ms: float | None  # positive: audio late against the picture
    confidence: float  # peak correlation minus the median correlation over all lags
    peak_corr: float | None
    zero_lag_corr: float | None
    lags_ms: list[float] = field(default_factory=list)
    corr: list[float] = field(default_factory=list)
    n_samples: int = 0  # grid samples used at zero lag


def speech_envelope(audio: np.ndarray, rate: int, grid_times: np.ndarray, window_s: float = 0.04,
                    band: tuple[float, float] = (300.0, 3000.0)) -> np.ndarray:
    """RMS of the speech band (default 300–3000 Hz) in `window_s` windows centred on each grid time."""
    from scipy.ndimage import uniform_filter1d
    from scipy.signal import butter, sosfiltfilt

    x = np.asarray(audio, np.float64)
    hi = min(band[1], 0.45 * rate)
    if len(x) > 64 and band[0] < hi:
        sos = butter(4, [band[0], hi], btype="bandpass", fs=rate, output="sos")
        x = sosfiltfilt(sos, x)
    win = max(int(round(window_s * rate)), 1)
    power = uniform_filter1d(x * x, size=win, mode="constant")
    idx = np.clip(np.round(np.asarray(grid_times) * rate).astype(int), 0, len(x) - 1)
    env = np.sqrt(np.maximum(power[idx], 0.0))
    env[(np.asarray(grid_times) < 0) | (np.asarray(grid_times) * rate >= len(x))] = np.nan
    return env


def _voiced_mask(grid_times: np.ndarray, voiced: Sequence[tuple[float, float]] | None) -> np.ndarray:
    if voiced is None:
        return np.ones(len(grid_times), bool)
    mask = np.zeros(len(grid_times), bool)
    for s, e in voiced:
        mask |= (grid_times >= s) & (grid_times <= e)
    return mask


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else 0.0


def sync_curve(mouth_times: Sequence[float], mouth_values: Sequence[float], audio: np.ndarray, rate: int,
               voiced: Sequence[tuple[float, float]] | None = None, max_lag_ms: float = 500.0,
               grid_hz: float = 100.0, use_diff: bool = False, min_samples: int | None = None) -> SyncEstimate:
    """Correlation of mouth opening m(t) with the audio envelope a(t + lag) for every lag in ±max_lag_ms.

    Only times with a mouth value (inside the span the face was seen) count, and, when `voiced`
    segments are given, only audio times inside them. use_diff correlates first differences instead
    (removes slow drifts of both signals).
    """
    mt = np.asarray(mouth_times, float)
    mv = np.asarray(mouth_values, float)
    ok = np.isfinite(mt) & np.isfinite(mv)
    mt, mv = mt[ok], mv[ok]
    order = np.argsort(mt)
    mt, mv = mt[order], mv[order]
    duration = len(audio) / rate
    if len(mt) < 4 or duration <= 0:
        return SyncEstimate(None, 0.0, None, None)
    step = 1.0 / grid_hz
    grid = np.arange(0.0, duration, step)
    mouth = np.interp(grid, mt, mv, left=np.nan, right=np.nan)
    env = speech_envelope(audio, rate, grid)
    env[~_voiced_mask(grid, voiced)] = np.nan
    if use_diff:
        mouth = np.concatenate([[np.nan], np.diff(mouth)])
        env = np.concatenate([[np.nan], np.diff(env)])
    max_k = int(round(max_lag_ms / 1000 * grid_hz))
    min_samples = min_samples if min_samples is not None else int(round(1.0 * grid_hz))  # at least 1 s overlap
    lags, corr = [], []
    n_zero = 0
    for k in range(-max_k, max_k + 1):
        # pair mouth at grid[i] with audio at grid[i + k]
        if k >= 0:
            a, b = mouth[: len(grid) - k], env[k:]
        else:
            a, b = mouth[-k:], env[: len(grid) + k]
        valid = np.isfinite(a) & np.isfinite(b)
        if k == 0:
            n_zero = int(valid.sum())
        if valid.sum() < min_samples:
            continue
        lags.append(k * step * 1000.0)
        corr.append(_pearson(a[valid], b[valid]))
    if len(corr) < 3:
        return SyncEstimate(None, 0.0, None, None, lags, corr, n_zero)
    c = np.asarray(corr)
    i = int(np.argmax(c))
    offset = lags[i]
    if 0 < i < len(c) - 1:  # parabolic refinement between grid lags
        denom = c[i - 1] - 2 * c[i] + c[i + 1]
        if denom < 0:
            offset += 0.5 * (c[i - 1] - c[i + 1]) / denom * step * 1000.0
    zero = corr[lags.index(0.0)] if 0.0 in lags else None
    return SyncEstimate(round(float(offset), 1), round(float(c[i] - np.median(c)), 4), round(float(c[i]), 4),
                        round(float(zero), 4) if zero is not None else None,
                        [round(x, 1) for x in lags], [round(float(x), 4) for x in c], n_zero)


def estimate_offset(mouth_times: Sequence[float], mouth_values: Sequence[float], audio: np.ndarray, rate: int,
                    **kwargs) -> tuple[float | None, float]:
    """(offset in ms, positive = audio late; confidence = peak minus median correlation)."""
    est = sync_curve(mouth_times, mouth_values, audio, rate, **kwargs)
    return est.offset_ms, est.confidence
