"""What a container's header says, copied into plain values while the container is open.

PyAV stream objects point into FFmpeg's memory, which `container.close()` frees: reading `stream.duration`
afterwards returns whatever the allocator put there since (a 3.7e18 s "duration" in some runs). So
everything the media layer needs from the header is read once, here, into a frozen `Header`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from evalverse.errors import InputError

# demuxers that read a single picture (FFmpeg names them <codec>_pipe, or image2 for numbered files)
IMAGE_DEMUXERS = ("image2", "image2pipe")
# codecs that store pictures, not moving images: one of these with a single frame is a still image
IMAGE_CODECS = frozenset({
    "png", "apng", "mjpeg", "jpeg2000", "jpegls", "jpegxl", "bmp", "tiff", "webp", "gif", "qoi", "pam", "pbm",
    "pgm", "ppm", "pcx", "sgi", "targa", "dpx", "exr", "hdr", "xbm", "xpm", "xwd", "sunrast", "photocd",
})


@dataclass(frozen=True)
class AudioTrack:
    index: int  # stream index in the container
    codec: str
    sample_rate: int | None
    channels: int | None
    default: bool  # the file marks it as the track to play
    language: str | None
    stated_s: float | None  # the stream's own duration, when the header states it


@dataclass(frozen=True)
class Header:
    format_name: str
    kinds: tuple[str, ...]  # stream types present (video, audio, subtitle, attachment, data)
    container_s: float | None  # the container's duration, when stated
    video_index: int  # stream index of the video stream used (cover art is never it)
    vcodec: str
    width: int
    height: int
    sample_aspect_ratio: float
    fps: float
    time_base: Fraction | None
    stated_video_s: float | None  # the video stream's own duration, when stated
    stated_frames: int  # frame count the header states (0: unknown)
    audio: tuple[AudioTrack, ...]
    audio_track: int | None  # position in `audio` of the track used
    audio_choice: str | None  # why that one

    @property
    def is_image_format(self) -> bool:
        return self.format_name.endswith("_pipe") or self.format_name in IMAGE_DEMUXERS

    @property
    def used_audio(self) -> AudioTrack | None:
        return None if self.audio_track is None else self.audio[self.audio_track]


def av_path(path: Path) -> str:
    """An absolute path, so FFmpeg never reads `name:rest` as a protocol (`concat:`, `http:`) and a leading
    dash is just a name."""
    return os.path.abspath(path)


def open_container(path: Path) -> av.container.InputContainer:
    try:
        return av.open(av_path(path), metadata_errors="ignore")
    except av.FFmpegError as e:
        raise InputError(f"{path.name}: not a readable video file ({reason(e)})") from None
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path.name}: cannot be opened ({e})") from None


def reason(e: Exception) -> str:
    return getattr(e, "strerror", None) or str(e)


def codec_name(ctx) -> str:
    """The format's codec name as ffprobe prints it ("mp3", not the decoder's "mp3float")."""
    try:
        return ctx.codec.canonical_name
    except Exception:  # noqa: BLE001 - a codec PyAV cannot describe still has a decoder name
        return ctx.name


def _span(stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _sar(stream) -> float:
    for value in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if value:
            return float(value)
    return 1.0


def _flag(stream, name: str) -> bool:
    try:
        return bool(stream.disposition & getattr(av.stream.Disposition, name))
    except Exception:  # noqa: BLE001 - an old PyAV without dispositions: treat as unset
        return False


def choose_audio(tracks: tuple[AudioTrack, ...]) -> tuple[int | None, str | None]:
    """The track to analyse, and why: the only one; else the one the file marks default; else the first."""
    if not tracks:
        return None, None
    if len(tracks) == 1:
        return 0, "the only audio track"

    def describe(i: int) -> str:
        t = tracks[i]
        bits = [t.codec, f"{t.channels} ch" if t.channels else "", t.language if t.language not in (None, "und") else ""]
        return f"track {i + 1} of {len(tracks)} ({', '.join(b for b in bits if b)})"

    defaults = [i for i, t in enumerate(tracks) if t.default]
    if defaults:
        return defaults[0], f"{describe(defaults[0])}: the file marks it as the default track"
    return 0, f"{describe(0)}: the first in the file (none is marked default)"


def read_header(container: av.container.InputContainer, path: Path) -> Header:
    """Every header fact the media layer uses, read now; InputError when there is no usable video stream."""
    kinds = tuple(sorted({s.type for s in container.streams}))
    videos = [s for s in container.streams.video if not _flag(s, "attached_pic")]
    if not videos:
        found = ", ".join(kinds) if kinds else "nothing FFmpeg recognises"
        cover = " (only cover art)" if container.streams.video else ""
        raise InputError(f"{path.name}: has no video stream{cover} (found: {found})")
    v = videos[0]
    vc = v.codec_context
    if not vc.width or not vc.height:
        raise InputError(f"{path.name}: the video stream has no frame size (corrupt or unsupported file)")
    rate = v.average_rate or v.guessed_rate or v.base_rate or Fraction(0)
    tracks = tuple(
        AudioTrack(index=a.index, codec=codec_name(a.codec_context), sample_rate=a.codec_context.sample_rate or None,
                   channels=a.codec_context.channels or None, default=_flag(a, "default"),
                   language=(a.metadata or {}).get("language"), stated_s=_span(a))
        for a in container.streams.audio
    )
    track, choice = choose_audio(tracks)
    return Header(
        format_name=container.format.name, kinds=kinds,
        container_s=container.duration / av.time_base if container.duration else None,
        video_index=v.index, vcodec=codec_name(vc), width=vc.width, height=vc.height, sample_aspect_ratio=_sar(v),
        fps=float(rate) if rate and float(rate) < 1000 else 0.0, time_base=v.time_base, stated_video_s=_span(v),
        stated_frames=int(v.frames or 0), audio=tracks, audio_track=track, audio_choice=choice,
    )


def streams_of(container: av.container.InputContainer, header: Header, audio_track: int | None):
    """(video stream, audio stream or None) of an open container, as `header` chose them."""
    v = container.streams[header.video_index]
    a = None
    if audio_track is not None and audio_track < len(header.audio):
        a = container.streams[header.audio[audio_track].index]
    return v, a
