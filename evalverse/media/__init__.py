"""Media layer: probe a file, decode it once, find its shots. Knows nothing of judging or storing.

Heavy modules (PyAV, torch) load only when the functions below are called.
"""
from __future__ import annotations

from evalverse.media.types import AUDIO_RATE, DecodedVideo, Shot, VideoMeta

__all__ = ["AUDIO_RATE", "DecodedVideo", "Shot", "VideoMeta", "probe_video", "decode_video", "detect_shots"]


def probe_video(path, limits=None) -> VideoMeta:
    from evalverse.media.probe import probe_video as _probe

    return _probe(path, limits)


def decode_video(path, settings=None, **kwargs) -> DecodedVideo:
    from evalverse.media.decode import decode_video as _decode

    return _decode(path, settings, **kwargs)


def detect_shots(video: DecodedVideo, method: str = "classical", **kwargs) -> list[Shot]:
    from evalverse.media.shots import detect_shots as _detect

    return _detect(video, method, **kwargs)
