"""Container facts (`VideoMeta`) for any file FFmpeg can read, with input limits checked before decoding.

Everything goes through PyAV (bundled FFmpeg). Bad input of any kind becomes an `InputError` that names the
file and says what is wrong; an FFmpeg traceback never reaches the user.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from evalverse.config import MediaLimits, Settings
from evalverse.errors import InputError
from evalverse.media.audio import AudioCollector
from evalverse.media.hashing import sha256_file
from evalverse.media.types import VideoMeta

MIN_COVERAGE = 0.9  # video that reaches less than this share of its stated duration is truncated
VFR_SPREAD = 0.1  # frame intervals spread more than 10 % of the median: variable frame rate


def as_limits(limits: MediaLimits | Settings | None) -> MediaLimits:
    if limits is None:
        return MediaLimits()
    return limits.limits if isinstance(limits, Settings) else limits


def check_file(path: str | Path, limits: MediaLimits) -> tuple[Path, int]:
    """Existence, kind and size checks that need no decoder."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path.name}: the file is empty (0 bytes)")
    if size > limits.max_file_mb * 1e6:
        raise InputError(
            f"{path.name}: file is {size / 1e6:.1f} MB, over the limit of {limits.max_file_mb:g} MB "
            "(raise it with the environment variable EVALVERSE_MAX_FILE_MB)"
        )
    return path, size


def open_container(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as e:
        raise InputError(f"{path.name}: not a readable video file ({_reason(e)})") from None
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path.name}: cannot be opened ({e})") from None
    if not container.streams.video:
        container.close()
        kinds = sorted({s.type for s in container.streams}) or ["no streams"]
        raise InputError(f"{path.name}: has no video stream (found: {', '.join(kinds)})")
    return container


def _reason(e: Exception) -> str:
    return getattr(e, "strerror", None) or str(e)


def _sar(stream: av.video.stream.VideoStream) -> float:
    for value in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if value:
            return float(value)
    return 1.0


def display_size(coded_w: int, coded_h: int, sar: float, rotation: int) -> tuple[int, int]:
    """Size a viewer sees: pixel aspect applied to the width, then a quarter turn swaps the sides."""
    w, h = int(round(coded_w * sar)), coded_h
    return (h, w) if rotation in (90, 270) else (w, h)


def rotation_of(frame: av.VideoFrame) -> int:
    """Clockwise degrees to turn a decoded frame for display (FFmpeg reports counter-clockwise)."""
    ccw = getattr(frame, "rotation", 0) or 0
    return int(round(-ccw / 90.0)) * 90 % 360


def _codec_name(ctx) -> str:
    """The format's codec name as ffprobe prints it ("mp3", not the decoder's "mp3float")."""
    try:
        return ctx.codec.canonical_name
    except Exception:  # noqa: BLE001 - a codec PyAV cannot describe still has a decoder name
        return ctx.name


def _duration(container: av.container.InputContainer) -> float | None:
    if container.duration:
        return container.duration / av.time_base
    spans = [float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base]
    return max(spans) if spans else None


def header_meta(container: av.container.InputContainer, path: Path, size: int, content_hash: str) -> VideoMeta:
    """What the container header says (no decoding); scan-derived fields get provisional values."""
    v = container.streams.video[0]
    a = container.streams.audio[0] if container.streams.audio else None
    vc = v.codec_context
    if not vc.width or not vc.height:
        raise InputError(f"{path.name}: the video stream has no frame size (corrupt or unsupported file)")
    duration = _duration(container) or 0.0
    rate = v.average_rate or v.guessed_rate or v.base_rate or Fraction(0)
    fps = float(rate) if rate and float(rate) < 1000 else 0.0
    sar = _sar(v)
    w, h = display_size(vc.width, vc.height, sar, 0)
    return VideoMeta(
        path=str(path), content_hash=content_hash, size_bytes=size, container=container.format.name,
        duration_s=duration, fps=fps, n_frames=int(v.frames or round(duration * fps)),
        width=w, height=h, coded_width=vc.width, coded_height=vc.height, sample_aspect_ratio=sar,
        vcodec=_codec_name(vc), has_audio=a is not None,
        acodec=_codec_name(a.codec_context) if a else None,
        audio_sample_rate=(a.codec_context.sample_rate or None) if a else None,
        audio_channels=(a.codec_context.channels or None) if a else None,
    )


def check_limits(meta: VideoMeta, limits: MediaLimits) -> None:
    name = Path(meta.path).name
    if meta.duration_s > limits.max_duration_s:
        raise InputError(
            f"{name}: duration {meta.duration_s:.1f} s is over the limit of {limits.max_duration_s:g} s "
            "(raise it with the environment variable EVALVERSE_MAX_DURATION_S)"
        )
    pixels = meta.coded_width * meta.coded_height
    if pixels > limits.max_pixels:
        raise InputError(
            f"{name}: resolution {meta.coded_width}x{meta.coded_height} ({pixels / 1e6:.1f} MP) is over the limit of "
            f"{limits.max_pixels / 1e6:.1f} MP (raise it with the environment variable EVALVERSE_MAX_PIXELS)"
        )


def is_vfr(times: np.ndarray) -> bool:
    """Frame intervals that differ by more than VFR_SPREAD of the median interval."""
    if len(times) < 3:
        return False
    d = np.diff(np.sort(times))
    med = float(np.median(d))
    return med > 0 and float(d.max() - d.min()) > VFR_SPREAD * med


def probe_video(path: str | Path, limits: MediaLimits | Settings | None = None) -> VideoMeta:
    """Metadata in display terms, checked against `limits`; one demux pass, audio decoded for the silence check."""
    limits = as_limits(limits)
    path, size = check_file(path, limits)
    container = open_container(path)
    try:
        meta = header_meta(container, path, size, sha256_file(path))
        check_limits(meta, limits)
        v = container.streams.video[0]
        a = container.streams.audio[0] if container.streams.audio else None
        audio = AudioCollector(resample=False) if a is not None else None
        pts: list[float] = []
        rotation: int | None = None
        for packet in container.demux([s for s in (v, a) if s is not None]):
            try:
                if packet.stream.type == "video":
                    if packet.size and packet.pts is not None:
                        pts.append(float(packet.pts * packet.time_base))
                    if rotation is None:
                        for frame in packet.decode():
                            rotation = rotation_of(frame)
                            break
                elif audio is not None:
                    for frame in packet.decode():
                        audio.add(frame)
            except av.FFmpegError:
                continue  # a damaged packet; a file that yields no frame or stops early is refused below
    except av.FFmpegError as e:
        raise InputError(f"{path.name}: corrupt or truncated video ({_reason(e)})") from None
    finally:
        container.close()
    if rotation is None:
        raise InputError(f"{path.name}: no video frame could be decoded (corrupt or truncated file)")
    times = np.asarray(pts)
    span = float(v.duration * v.time_base) if v.duration and v.time_base else None
    if span and span > 1.0 and len(times) and times.max() - times.min() < MIN_COVERAGE * span - 1.0 / (meta.fps or 25.0):
        raise InputError(
            f"{path.name}: truncated or corrupt: video packets reach only {times.max() - times.min():.2f} s "
            f"of the stated {span:.2f} s"
        )
    update = {
        "rotation": rotation,
        "variable_frame_rate": is_vfr(times),
        "n_frames": len(times) or meta.n_frames,
    }
    update["width"], update["height"] = display_size(meta.coded_width, meta.coded_height, meta.sample_aspect_ratio, rotation)
    if audio is not None:
        update["audio_silent"] = audio.silent
    return meta.model_copy(update=update)
