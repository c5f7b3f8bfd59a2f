"""The pictures a chat judge shows the model, each with the text label that goes right before it.

A reference-to-video clip is judged against its reference, so the reference goes in as pictures too:
a reference image as itself, a reference video as a few keyframes decoded through `evalverse.media`.
Reference pictures come first and are labelled as the reference, so the model can tell them from the
judged clip's frames ("Frame at t=... s:").
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from evalverse.errors import InputError
from evalverse.judge.protocol import Frame

REFERENCE_KEYFRAMES = 3  # keyframes of a reference video: start, middle and end of its picture


@dataclass(frozen=True)
class Shown:
    label: str  # the text placed right before the picture
    image: np.ndarray  # (H, W, 3) uint8 RGB
    kind: Literal["frame", "reference"] = "frame"


def frame_pictures(frames: list[Frame]) -> list[Shown]:
    return [Shown(label=f"Frame at t={f.time:.2f} s:", image=f.image) for f in frames]


def reference_pictures(path: Path, settings: Any = None, n_keyframes: int = REFERENCE_KEYFRAMES) -> list[Shown]:
    """The reference as labelled pictures. Raises InputError when the file is neither an image nor a video."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"reference {path} does not exist or is not a file")
    stills = _image_stills(path, n_keyframes)
    if stills is not None:
        if len(stills) == 1:
            return [Shown(label=f"Reference image ({path.name}), which the video must stay faithful to; "
                                "it is not a frame of the video:", image=stills[0][1], kind="reference")]
        kind_name = "animated image"
    else:
        stills = _video_stills(path, settings, n_keyframes)
        kind_name = "video"
    n = len(stills)
    return [Shown(label=f"Reference {kind_name} ({path.name}), keyframe {i + 1} of {n} at t={t:.2f} s of the "
                        "reference; it is not a frame of the judged video:", image=img, kind="reference")
            for i, (t, img) in enumerate(stills)]


def _image_stills(path: Path, n: int) -> list[tuple[float, np.ndarray]] | None:
    """Pictures of an image file (several for an animated one), or None when PIL does not read it."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    from evalverse.compat.ultralytics_import import pillow_open

    try:
        img = pillow_open()(path)
    except UnidentifiedImageError:
        return None
    except (OSError, Image.DecompressionBombError) as exc:
        raise InputError(f"reference {path.name} cannot be read as an image ({exc})") from None
    with img:
        total = int(getattr(img, "n_frames", 1) or 1)
        picks = sorted({int(round(k)) for k in np.linspace(0, total - 1, num=min(n, total))}) if total > 1 else [0]
        out, t = [], 0.0
        for index in range(max(picks) + 1):
            img.seek(index)
            if index in picks:
                out.append((t, np.asarray(ImageOps.exif_transpose(img.convert("RGB")), dtype=np.uint8)))
            t += float(img.info.get("duration", 0) or 0) / 1000.0
        return out


def _video_stills(path: Path, settings: Any, n: int) -> list[tuple[float, np.ndarray]]:
    from evalverse.media import decode_video

    # small analysis frames (only the full-size stills are used); no audio
    video = decode_video(path, settings, analysis_long_side=160, n_stills=n, with_audio=False)
    if len(video.stills) == 0:
        raise InputError(f"reference {path.name}: no picture could be decoded")
    out: list[tuple[float, np.ndarray]] = []
    for t, still in zip(video.still_times, video.stills):
        if not out or float(t) > out[-1][0]:  # a clip shorter than n stills repeats its last frame: once is enough
            out.append((float(t), np.asarray(still, dtype=np.uint8)))
    return out
