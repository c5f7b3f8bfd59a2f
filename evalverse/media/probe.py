"""Container facts (`VideoMeta`) for any file FFmpeg can read, with input limits checked before decoding.

Everything goes through PyAV (bundled FFmpeg). Bad input of any kind becomes an `InputError` that names the
file and says what is wrong; an FFmpeg traceback never reaches the user.

One demux pass measures what the header may not state: the video's duration and frame count come from its
packets (a raw H.264 stream or a piped WebM states neither), the audio's duration and peak from decoding the
track used. Limits apply to the measured values; the pass stops as soon as a stream is over the duration limit.
"""
from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np

from evalverse.config import MediaLimits, Settings
from evalverse.errors import InputError
from evalverse.media.audio import AudioCollector
from evalverse.media.hashing import sha256_file
from evalverse.media.streams import (
    IMAGE_CODECS, Header, codec_name, open_container, read_header, reason, streams_of,
)
from evalverse.media.types import VideoMeta

MIN_COVERAGE = 0.9  # video that reaches less than this share of its stated duration is truncated
VFR_SPREAD = 0.1  # frame intervals spread more than 10 % of the median: variable frame rate
MIN_FRAMES = 2  # motion is a change between frames: a clip needs at least two to be judged as video
HEADER_SLACK_S = 1.0  # a stated duration this far over the limit is refused before any packet is read

__all__ = ["MIN_COVERAGE", "MIN_FRAMES", "as_limits", "check_file", "check_limits", "display_size", "header_meta",
           "is_vfr", "open_container", "probe_video", "rotation_of", "codec_name", "reason", "HEADER_SLACK_S"]


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


def display_size(coded_w: int, coded_h: int, sar: float, rotation: int) -> tuple[int, int]:
    """Size a viewer sees: pixel aspect applied to the width, then a quarter turn swaps the sides."""
    w, h = int(round(coded_w * sar)), coded_h
    return (h, w) if rotation in (90, 270) else (w, h)


def rotation_of(frame: av.VideoFrame) -> int:
    """Clockwise degrees to turn a decoded frame for display (FFmpeg reports counter-clockwise)."""
    ccw = getattr(frame, "rotation", 0) or 0
    return int(round(-ccw / 90.0)) * 90 % 360


def header_meta(header: Header, path: Path, size: int, content_hash: str) -> VideoMeta:
    """What the header says (no decoding); measured fields get the header's values, or 0 when it states none."""
    duration = header.stated_video_s or header.container_s or 0.0
    w, h = display_size(header.width, header.height, header.sample_aspect_ratio, 0)
    a = header.used_audio
    return VideoMeta(
        path=str(path), content_hash=content_hash, size_bytes=size, container=header.format_name,
        duration_s=duration, container_duration_s=header.container_s, fps=header.fps,
        n_frames=int(header.stated_frames or round(duration * header.fps)),
        width=w, height=h, coded_width=header.width, coded_height=header.height,
        sample_aspect_ratio=header.sample_aspect_ratio, vcodec=header.vcodec, has_audio=a is not None,
        acodec=a.codec if a else None, audio_sample_rate=a.sample_rate if a else None,
        audio_channels=a.channels if a else None, audio_duration_s=a.stated_s if a else None,
        audio_tracks=len(header.audio), audio_track_index=header.audio_track, audio_track_choice=header.audio_choice,
    )


def _over_duration(name: str, what: str, seconds: float, limits: MediaLimits, at_least: bool = False) -> InputError:
    return InputError(
        f"{name}: {what} {'lasts at least' if at_least else 'lasts'} {seconds:.1f} s, over the limit of "
        f"{limits.max_duration_s:g} s (raise it with the environment variable EVALVERSE_MAX_DURATION_S)"
    )


def check_limits(meta: VideoMeta, limits: MediaLimits) -> None:
    """Duration (video and audio, as measured) and resolution limits."""
    name = Path(meta.path).name
    if meta.duration_s > limits.max_duration_s:
        raise _over_duration(name, "the video", meta.duration_s, limits)
    if meta.audio_duration_s and meta.audio_duration_s > limits.max_duration_s:
        raise _over_duration(name, "the audio track", meta.audio_duration_s, limits)
    check_pixels(name, meta.coded_width, meta.coded_height, limits)


def check_pixels(name: str, w: int, h: int, limits: MediaLimits) -> None:
    pixels = w * h
    if pixels > limits.max_pixels:
        raise InputError(
            f"{name}: resolution {w}x{h} ({pixels / 1e6:.1f} MP) is over the limit of "
            f"{limits.max_pixels / 1e6:.1f} MP (raise it with the environment variable EVALVERSE_MAX_PIXELS)"
        )


def is_vfr(times: np.ndarray) -> bool:
    """Frame intervals that differ by more than VFR_SPREAD of the median interval."""
    if len(times) < 3:
        return False
    d = np.diff(np.sort(times))
    med = float(np.median(d))
    return med > 0 and float(d.max() - d.min()) > VFR_SPREAD * med


class PacketClock:
    """Duration and frame count of a video stream from its packets (pts span, else packet durations, else
    count / frame rate). Empty packets (decoder flushes) and packets marked discard (edit lists) are no frames."""

    def __init__(self, fps: float):
        self.step = 1.0 / fps if fps > 0 else 1.0 / 25
        self.n = 0
        self.times: list[float] = []
        self.start = math.inf
        self.end = -math.inf
        self.summed = 0.0

    def add(self, packet: av.Packet) -> bool:
        """Count `packet`; False when it is no frame."""
        if not packet.size or packet.is_discard:
            return False
        self.n += 1
        tb = packet.time_base
        d = float(packet.duration * tb) if packet.duration and tb else 0.0
        self.summed += d or self.step
        if packet.pts is not None and tb:
            t = float(packet.pts * tb)
            self.times.append(t)
            self.start = min(self.start, t)
            self.end = max(self.end, t + (d or self.step))
        return True

    @property
    def seconds(self) -> float:
        if self.times and len(self.times) >= 0.9 * self.n:
            return max(self.end - self.start, 0.0)
        return self.summed


def _audio_seconds(audio: AudioCollector) -> float | None:
    if audio.first_time is None or audio.end_time is None:
        return audio.samples / audio.source_rate if audio.source_rate else None
    return max(audio.end_time - audio.first_time, 0.0)


def probe_video(path: str | Path, limits: MediaLimits | Settings | None = None) -> VideoMeta:
    """Metadata in display terms, checked against `limits`; one demux pass, audio decoded for the silence check."""
    limits = as_limits(limits)
    path, size = check_file(path, limits)
    container = open_container(path)
    try:
        header = read_header(container, path)
        check_pixels(path.name, header.width, header.height, limits)
        for what, stated in (("the video", header.stated_video_s), ("the audio track", getattr(header.used_audio, "stated_s", None))):
            if stated and stated > limits.max_duration_s + HEADER_SLACK_S:  # clearly over: refuse before reading it
                raise _over_duration(path.name, what, stated, limits)
        meta = header_meta(header, path, size, sha256_file(path))
        v, a = streams_of(container, header, header.audio_track)
        clock = PacketClock(header.fps)
        audio = AudioCollector(resample=False) if a is not None else None
        rotation: int | None = None
        for packet in container.demux([s for s in (v, a) if s is not None]):
            try:
                if packet.stream.type == "video":
                    if clock.add(packet) and clock.seconds > limits.max_duration_s:  # measured so far: a lower bound
                        raise _over_duration(path.name, "the video", clock.seconds, limits, at_least=True)
                    if rotation is None:
                        for frame in packet.decode():
                            rotation = rotation_of(frame)
                            break
                elif audio is not None:
                    for frame in packet.decode():
                        audio.add(frame)
                    heard = _audio_seconds(audio) or 0.0
                    if heard > limits.max_duration_s:
                        raise _over_duration(path.name, "the audio track", heard, limits, at_least=True)
            except av.FFmpegError:
                continue  # a damaged packet; a file that yields no frame or stops early is refused below
    except av.FFmpegError as e:
        raise InputError(f"{path.name}: corrupt or truncated video ({reason(e)})") from None
    finally:
        container.close()  # nothing below reads the container or its streams
    return _measured(meta, header, clock, rotation, audio, limits)


def _measured(meta: VideoMeta, header: Header, clock: PacketClock, rotation: int | None,
              audio: AudioCollector | None, limits: MediaLimits) -> VideoMeta:
    name = Path(meta.path).name
    if clock.n < MIN_FRAMES:
        if header.is_image_format or header.vcodec in IMAGE_CODECS:
            raise InputError(f"{name}: is a still image ({header.vcodec}), not a video; at least {MIN_FRAMES} "
                             "frames are needed")
        raise InputError(f"{name}: has {clock.n} video frame(s); at least {MIN_FRAMES} are needed to judge motion")
    if rotation is None:
        raise InputError(f"{name}: no video frame could be decoded (corrupt or truncated file)")
    span = header.stated_video_s
    measured = clock.seconds
    times = np.asarray(clock.times)
    if span and span > 1.0 and len(times) and times.max() - times.min() < MIN_COVERAGE * span - clock.step:
        raise InputError(
            f"{name}: truncated or corrupt: video packets reach only {times.max() - times.min():.2f} s "
            f"of the stated {span:.2f} s"
        )
    fps = meta.fps or (clock.n / measured if measured > 0 else 0.0)
    update: dict = {
        "duration_s": measured, "n_frames": clock.n, "fps": fps, "rotation": rotation,
        "variable_frame_rate": is_vfr(times),
    }
    update["width"], update["height"] = display_size(meta.coded_width, meta.coded_height, meta.sample_aspect_ratio, rotation)
    if audio is not None:
        update["audio_silent"] = audio.silent
        update["audio_duration_s"] = _audio_seconds(audio) or meta.audio_duration_s
    meta = meta.model_copy(update=update)
    check_limits(meta, limits)
    return meta
