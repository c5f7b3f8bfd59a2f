"""What the media layer hands to operators: metadata plus frames and audio decoded once."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from pydantic import BaseModel, computed_field

AUDIO_RATE = 16_000  # every operator receives 16 kHz mono float32 audio
AUDIO_DIFFERS_S = 0.5  # audio and video lengths are noted apart past this (AAC priming and muxing offsets stay far below)


class DamagedSpan(BaseModel):
    """A stretch of the video the decoder could not render cleanly, on the decoded time axis (t = 0 at the
    first decoded frame): frames that produced no picture, or pictures FFmpeg flagged corrupt."""

    start: float  # seconds
    end: float  # seconds, exclusive (the last damaged frame's time plus one frame interval)
    undecodable: int = 0  # frames in the stream that produced no picture
    corrupt: int = 0  # frames decoded with errors concealed (FFmpeg's corrupt flag)


class VideoMeta(BaseModel):
    """Facts about a file, as a viewer would see it (display size after rotation and pixel aspect).

    Durations and the frame count are measured from the packets, so a stream whose header states no
    duration (a raw H.264 stream, a WebM written to a pipe) is measured, not reported as 0 s. The decode
    facts (`decoded_frames` .. `damaged_spans`) are None / empty after `probe_video` and filled by
    `decode_video`, which is the only step that decodes every frame.
    """

    path: str
    content_hash: str  # sha256 of the file bytes: the video's identity in the store and the evidence cache
    size_bytes: int
    container: str
    duration_s: float  # the video stream's duration (first frame to the end of the last), measured from its packets
    container_duration_s: float | None = None  # what the container header states (None: it states none)
    fps: float  # average frame rate
    variable_frame_rate: bool = False
    n_frames: int  # video frames in the stream (packets counted)
    width: int  # display width (after rotation and sample aspect ratio)
    height: int  # display height
    coded_width: int
    coded_height: int
    rotation: int = 0  # degrees clockwise applied for display
    sample_aspect_ratio: float = 1.0
    vcodec: str
    has_audio: bool
    audio_silent: bool | None = None  # digitally silent (peak below -90 dBFS); None when no audio
    acodec: str | None = None
    audio_sample_rate: int | None = None
    audio_channels: int | None = None
    audio_duration_s: float | None = None  # the used audio track's own duration (None when no audio)
    audio_tracks: int = 0  # audio streams in the file
    audio_track_index: int | None = None  # which of them is used, 0-based in file order
    audio_track_choice: str | None = None  # why that one (only track / marked default / first of several)
    decoded_frames: int | None = None  # frames that decoded to a picture
    undecodable_frames: int | None = None  # frames in the stream that produced no picture
    corrupt_frames: int | None = None  # pictures decoded with errors concealed
    decode_errors: int | None = None  # video packets the decoder rejected with an error
    audio_decode_errors: int | None = None  # audio packets the decoder rejected with an error
    damaged_spans: list[DamagedSpan] = []  # where the damage is (decoded time axis)

    @property
    def damaged(self) -> bool:
        """Decoding found undecodable or corrupt frames, or decoder errors (False before decoding)."""
        return bool(self.undecodable_frames or self.corrupt_frames or self.decode_errors or self.audio_decode_errors)

    def damage_summary(self) -> str | None:
        """One line for a warning ("15 of 135 frames could not be decoded ... at 2.72-4.68 s"), None if clean."""
        if not self.damaged:
            return None
        bits = []
        if self.undecodable_frames:
            bits.append(f"{self.undecodable_frames} of {self.n_frames} frames could not be decoded")
        if self.corrupt_frames:
            bits.append(f"{self.corrupt_frames} decoded with errors concealed")
        if self.decode_errors:
            bits.append(f"{self.decode_errors} video decoder errors")
        if self.audio_decode_errors:
            bits.append(f"{self.audio_decode_errors} audio decoder errors")
        where = ", ".join(f"{s.start:.2f}-{s.end:.2f} s" for s in self.damaged_spans[:6])
        more = f" (+{len(self.damaged_spans) - 6} more)" if len(self.damaged_spans) > 6 else ""
        return "damaged file: " + "; ".join(bits) + (f"; damaged at {where}{more}" if where else "")

    def audio_note(self) -> str | None:
        """Which audio track is analysed when there are several, and the audio's length when it differs from
        the video's (None when there is nothing to say)."""
        if not self.has_audio:
            return None
        bits = []
        if self.audio_tracks > 1 and self.audio_track_choice:
            bits.append(f"analysing {self.audio_track_choice}")
        if self.audio_duration_s is not None and abs(self.audio_duration_s - self.duration_s) > AUDIO_DIFFERS_S:
            bits.append(f"the audio lasts {self.audio_duration_s:.2f} s, the video {self.duration_s:.2f} s")
        return "audio: " + "; ".join(bits) if bits else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def short_side(self) -> int:
        """The shorter display side in pixels: what limits the detail a frame can hold."""
        return min(self.width, self.height)


@dataclass
class Shot:
    index: int
    start: float  # seconds
    end: float  # seconds
    start_frame: int  # index into DecodedVideo.frames
    end_frame: int  # exclusive
    transition: str = "cut"  # how it begins: "start", "cut", "fade"
    keyframe: int | None = None  # index into DecodedVideo.frames of a representative frame

    def as_dict(self) -> dict:
        return {
            "index": self.index, "start": round(self.start, 3), "end": round(self.end, 3),
            "start_frame": self.start_frame, "end_frame": self.end_frame,
            "transition": self.transition, "keyframe": self.keyframe,
        }


@dataclass
class DecodedVideo:
    """A video decoded once per run and shared by all operators.

    frames: (N, H, W, 3) uint8 RGB at the analysis resolution, in display orientation and aspect;
    times: (N,) float seconds of each frame; stills: a few full-resolution frames for quality metrics;
    audio: 16 kHz mono float32 in [-1, 1], or None when the file has no audio stream. The shot list is not
    here: its one source is the `shots` operator's evidence (`Evidence.shots()`).
    """

    meta: VideoMeta
    frames: np.ndarray
    times: np.ndarray
    stills: np.ndarray
    still_times: np.ndarray
    audio: np.ndarray | None
    audio_rate: int = AUDIO_RATE
    path: Path | None = None

    @property
    def damaged_spans(self) -> list[DamagedSpan]:
        """Where decoding found damage (empty for a clean file): what the judge's reflection should read."""
        return self.meta.damaged_spans

    @property
    def fps(self) -> float:
        """Frame rate of `frames` (after any subsampling at decode time)."""
        if len(self.times) < 2:
            return self.meta.fps
        return float((len(self.times) - 1) / max(self.times[-1] - self.times[0], 1e-9))


DECODE_FIELDS = ("decoded_frames", "undecodable_frames", "corrupt_frames", "decode_errors", "audio_decode_errors",
                 "damaged_spans")


def with_decode_facts(meta: VideoMeta, stored: Mapping[str, Any] | None) -> VideoMeta:
    """`meta` (from the probe) plus the decode facts of an earlier decode of the same file (e.g. the stored
    video row of a cached run), so a report served from the cache still says what decoding found."""
    if not stored:
        return meta
    update = {k: stored[k] for k in DECODE_FIELDS if stored.get(k) is not None}
    if not update:
        return meta
    return VideoMeta.model_validate(meta.model_dump() | update)
