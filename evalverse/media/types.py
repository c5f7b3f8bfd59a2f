"""What the media layer hands to operators: metadata plus frames and audio decoded once."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, computed_field

AUDIO_RATE = 16_000  # every operator receives 16 kHz mono float32 audio


class VideoMeta(BaseModel):
    """Facts about a file, as a viewer would see it (display size after rotation and pixel aspect)."""

    path: str
    content_hash: str  # sha256 of the file bytes: the video's identity in the store and the evidence cache
    size_bytes: int
    container: str
    duration_s: float
    fps: float  # average frame rate
    variable_frame_rate: bool = False
    n_frames: int
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
    def fps(self) -> float:
        """Frame rate of `frames` (after any subsampling at decode time)."""
        if len(self.times) < 2:
            return self.meta.fps
        return float((len(self.times) - 1) / max(self.times[-1] - self.times[0], 1e-9))
