"""Warm up: load every operator's models and libraries before the first clip, so the first diagnosis after
launching the app costs what the second one does.

Operators that load models offer a `warm(settings, backend)` classmethod (faces, people, speech, shots); it
puts the models of the backend that would run into the process-wide cache (evalverse.models.loaded). Then a
tiny synthetic clip goes through every operator once, which imports the rest (OpenCV, SciPy, ...). Nothing
here raises: a model that cannot load is skipped (its operator reports why when it runs).
"""
from __future__ import annotations

import logging
import time

import numpy as np

from evalverse.config import Settings

log = logging.getLogger(__name__)


def tiny_clip():
    """2 s of 160x90 textured frames at 8 fps with quiet noise for audio: enough to run every operator."""
    from evalverse.media.synthetic import textured
    from evalverse.media.types import DecodedVideo, VideoMeta

    n, fps, rate = 16, 8.0, 16_000
    frames = np.stack([textured(90, 160, k // 8) for k in range(n)])
    audio = (np.random.default_rng(0).standard_normal(2 * rate) * 0.01).astype(np.float32)
    meta = VideoMeta(path="warm-up.mp4", content_hash="0" * 64, size_bytes=0, container="mp4", duration_s=n / fps,
                     fps=fps, n_frames=n, width=160, height=90, coded_width=160, coded_height=90, vcodec="h264",
                     has_audio=True, audio_silent=False)
    times = np.arange(n) / fps
    return DecodedVideo(meta=meta, frames=frames, times=times, stills=frames[:2], still_times=times[:2], audio=audio)


def warm_up(settings: Settings, names: list[str] | None = None) -> dict[str, float]:
    """Load the models of `names` (all operators when None) and import their libraries; seconds per step."""
    from evalverse.operators.runner import get_operator, resolve_order, run_operators

    seconds: dict[str, float] = {}
    order = resolve_order(names)
    for name in order:
        cls = get_operator(name)
        hook = getattr(cls, "warm", None)
        avail = cls.availability(settings)
        if hook is None or not avail.available:
            continue
        start = time.perf_counter()
        try:
            hook(settings, avail.backend)
        except Exception as exc:  # noqa: BLE001 - warming is an optimisation; the run reports real problems
            log.info("warm-up of %s (%s) failed: %s", name, avail.backend, exc)
            continue
        seconds[name] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    try:
        run_operators(tiny_clip(), settings, order, store=None, use_cache=False, workers=1)
    except Exception as exc:  # noqa: BLE001
        log.info("warm-up run failed: %s", exc)
    seconds["tiny clip"] = round(time.perf_counter() - start, 3)
    return seconds
