"""Decode a video once: small analysis frames, a few full-size stills and 16 kHz mono audio in one pass.

PyAV (bundled FFmpeg) does the work. decord was measured against it on a 10 s 720p H.264 clip: decord's
resized `get_batch` took 0.87 s, PyAV decode + swscale resize 0.58 s; decord also ignores the display
matrix and pixel aspect and cannot read audio alongside, so it is not used.

Time axis: t = 0 is the first video frame; audio sample i lies at i / 16000 s on the same axis.
"""
from __future__ import annotations

import inspect
from functools import lru_cache
from pathlib import Path
from typing import Any

import av
import numpy as np

from evalverse.config import MediaLimits, Settings
from evalverse.errors import InputError
from evalverse.media.audio import AudioCollector, align_to
from evalverse.media.damage import DamageLog
from evalverse.media.probe import (
    MIN_COVERAGE, MIN_FRAMES, as_limits, check_file, display_size, is_vfr, probe_video, rotation_of,
)
from evalverse.media.streams import Header, open_container, read_header, reason, streams_of
from evalverse.media.types import AUDIO_RATE, DecodedVideo, VideoMeta

STILL_LONG_SIDE = 1920
MAX_ANALYSIS_MB = 1024  # frames for a long or big clip are thinned (lower fps) to stay under this
# What operators see of a clip besides its bytes. Bump DECODE_VERSION whenever decoding changes the frames,
# stills or audio it hands them (which frames are kept, sizes, colour conversion, resampling): it, the
# pipeline's decode settings and the PyAV version are part of every evidence cache key and of each run's
# provenance (`decode_facts`), so evidence cached from an older decoder is never read as current.
DECODE_VERSION = "1.0"


@lru_cache(maxsize=1)
def decode_facts() -> dict[str, Any]:
    """{version, the pipeline's decode settings (decode_video's defaults), still size, audio rate, pyav}."""
    import av

    asked = ("analysis_long_side", "max_fps", "n_stills", "max_analysis_mb")
    defaults = {k: p.default for k, p in inspect.signature(decode_video).parameters.items() if k in asked}
    return {"version": DECODE_VERSION, **defaults, "still_long_side": STILL_LONG_SIDE, "audio_rate": AUDIO_RATE,
            "pyav": av.__version__}


def fit_long_side(w: int, h: int, long_side: int) -> tuple[int, int]:
    """Scale (w, h) down so the longer side is at most `long_side`; never up."""
    scale = min(1.0, long_side / max(w, h))
    return max(2, int(round(w * scale))), max(2, int(round(h * scale)))


def _to_rgb(frame: av.VideoFrame, size: tuple[int, int], rotation: int) -> np.ndarray:
    """Resize to the display size (pixel aspect included) and turn upright; size is (w, h) after rotation."""
    w, h = size if rotation in (0, 180) else (size[1], size[0])
    img = frame.to_ndarray(width=w, height=h, format="rgb24", interpolation="AREA")
    if rotation:
        img = np.rot90(img, k=-rotation // 90)  # rot90 turns counter-clockwise for positive k
    return np.ascontiguousarray(img)


class _FrameBuffer:
    """Preallocated (N, H, W, 3) array that grows rarely, so the frames are never held twice (list + stack).

    It never grows past `limit` frames: when full, every other frame is dropped in place (`thin`), so the
    memory budget holds even when the clip is longer than its metadata said."""

    def __init__(self, capacity: int, shape: tuple[int, int, int], limit: int):
        self.limit = max(limit, MIN_FRAMES)
        self.data = np.empty((min(max(capacity, 1), self.limit), *shape), dtype=np.uint8)
        self.n = 0

    @property
    def full(self) -> bool:
        return self.n >= self.limit

    def append(self, img: np.ndarray) -> None:
        if self.n == len(self.data):
            grown = np.empty((min(int(len(self.data) * 1.5) + 8, self.limit), *self.data.shape[1:]), dtype=np.uint8)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        self.data[self.n] = img
        self.n += 1

    def thin(self) -> None:
        """Keep frames 0, 2, 4, ... (copied one by one: no second buffer)."""
        keep = (self.n + 1) // 2
        for i in range(1, keep):
            self.data[i] = self.data[2 * i]
        self.n = keep

    def array(self) -> np.ndarray:
        return self.data[: self.n]


def decode_video(
    path: str | Path,
    settings: Settings | MediaLimits | None = None,
    analysis_long_side: int = 640,
    max_fps: float = 30.0,
    n_stills: int = 8,
    max_analysis_mb: float = MAX_ANALYSIS_MB,
    with_audio: bool = True,
    meta: VideoMeta | None = None,
) -> DecodedVideo:
    """Frames (≤ `analysis_long_side`, ≤ `max_fps`), `n_stills` stills (≤ 1920 px) and audio, in one pass.

    Pass the `probe_video` result as `meta` when you have it: otherwise the file is probed first (hashed,
    measured and checked against the limits), since the header alone may not state the duration that the
    memory budget needs.

    Frames are kept when at least 0.9 / fps_cap seconds after the last kept one, so a constant-rate source is
    thinned evenly (every k-th frame). fps_cap is `max_fps`, lowered when the frames of the whole clip would
    exceed `max_analysis_mb` (4K 60 s at 30 fps: 640×360 frames, 15 fps kept, 900 frames, 622 MB). Should the
    clip run longer than `meta` says, the kept frames are halved whenever they reach the budget.

    The returned `meta` adds what only decoding shows: frames decoded, undecodable and corrupt frames,
    decoder errors and where the damage is (`DecodedVideo.damaged_spans`).
    """
    limits = as_limits(settings)
    if meta is None:
        meta = probe_video(path, limits)
    path, _ = check_file(path, limits)
    container = open_container(path)
    try:
        header = read_header(container, path)
        return _decode(container, header, meta, analysis_long_side, max_fps, n_stills, max_analysis_mb, with_audio)
    except av.FFmpegError as e:
        raise InputError(f"{path.name}: corrupt or truncated video ({reason(e)})") from None
    finally:
        container.close()


def _decode(container, header: Header, meta: VideoMeta, long_side: int, max_fps: float, n_stills: int,
            max_analysis_mb: float, with_audio: bool) -> DecodedVideo:
    name = Path(meta.path).name
    v, a = streams_of(container, header, meta.audio_track_index if with_audio else None)
    v.thread_type = "AUTO"  # let FFmpeg decode with frame and slice threads
    audio = AudioCollector() if a is not None else None

    step = 1.0 / (meta.fps or 25.0)
    duration = meta.duration_s or 1.0  # measured by the probe, also for streams whose header states none
    frames: _FrameBuffer | None = None
    times: list[float] = []
    stills: list[np.ndarray] = []
    still_times: list[float] = []
    still_targets = (np.arange(n_stills) + 0.5) / max(n_stills, 1) * duration  # over the picture, not longer audio
    rotation: int | None = None
    analysis_size = still_size = (0, 0)
    min_gap = 0.0
    start: float | None = None
    last_kept = -np.inf
    last_t = -step  # so a first frame without a timestamp lands at 0
    damage = DamageLog(step)
    src_times: list[float] = []

    for packet in container.demux([s for s in (v, a) if s is not None]):
        is_video = packet.stream.type == "video"
        if is_video:
            damage.packet(packet)
        try:
            decoded = packet.decode()
        except av.FFmpegError:
            damage.error(packet)
            continue  # a damaged packet: counted, skipped; a file that yields too little is refused below
        for frame in decoded:
            if not is_video:
                audio.add(frame)  # type: ignore[union-attr]
                continue
            if rotation is None:
                rotation = rotation_of(frame)
                dw, dh = display_size(frame.width, frame.height, meta.sample_aspect_ratio, rotation)
                analysis_size = fit_long_side(dw, dh, long_side)
                still_size = fit_long_side(dw, dh, STILL_LONG_SIDE)
                # thin the frame rate when the clip would not fit the memory budget at max_fps
                frame_bytes = analysis_size[0] * analysis_size[1] * 3
                budget_fps = max_analysis_mb * 2**20 / (frame_bytes * max(duration, 1e-3))
                keep_fps = min(max_fps, budget_fps)
                min_gap = 0.9 / keep_fps
                native = meta.fps or keep_fps
                frames = _FrameBuffer(int(duration * min(keep_fps, native) * 1.05) + 8,
                                      (analysis_size[1], analysis_size[0], 3),
                                      limit=int(max_analysis_mb * 2**20 // frame_bytes))
            t = frame.time
            t = float(t) if t is not None else (last_t + step)
            damage.frame(frame, t)
            if start is None:
                start = t
            last_t = t
            t -= start
            src_times.append(t)
            if t - last_kept >= min_gap:
                if frames.full:  # type: ignore[union-attr] - longer than measured: halve the kept rate
                    frames.thin()  # type: ignore[union-attr]
                    times = times[::2]
                    min_gap *= 2
                    last_kept = times[-1]
                if t - last_kept >= min_gap:
                    frames.append(_to_rgb(frame, analysis_size, rotation))  # type: ignore[union-attr]
                    times.append(t)
                    last_kept = t
            if len(stills) < n_stills and t >= still_targets[len(stills)] - 1e-6:
                stills.append(_to_rgb(frame, still_size, rotation))
                still_times.append(t)

    if frames is None or frames.n == 0:
        raise InputError(f"{name}: no video frame could be decoded (corrupt or truncated file)")
    if damage.decoded < MIN_FRAMES:
        raise InputError(f"{name}: only {damage.decoded} of {damage.packets} video frame(s) could be decoded; "
                         f"at least {MIN_FRAMES} are needed to judge motion")
    times_a = np.asarray(times, dtype=np.float64)
    stated_span = header.stated_video_s
    if stated_span and stated_span > 1.0 and src_times[-1] + step < MIN_COVERAGE * stated_span:
        raise InputError(
            f"{name}: truncated or corrupt: video decodes only to {src_times[-1]:.2f} s of the stated {stated_span:.2f} s"
        )
    # a short clip (or stills asked beyond the last frame) gets its last frame
    while len(stills) < n_stills:
        stills.append(stills[-1] if stills else frames.array()[-1])
        still_times.append(still_times[-1] if still_times else times[-1])

    samples = None
    update: dict = {"rotation": rotation or 0, "variable_frame_rate": is_vfr(np.asarray(src_times))}
    update |= damage.facts(start or 0.0)
    update["width"], update["height"] = display_size(meta.coded_width, meta.coded_height, meta.sample_aspect_ratio, rotation or 0)
    if audio is not None:
        samples = align_to(audio.finish(), audio.first_time, start or 0.0)
        update["audio_silent"] = audio.silent
    if not meta.duration_s:
        update["duration_s"] = float(src_times[-1] + step)
    meta = meta.model_copy(update=update)
    return DecodedVideo(
        meta=meta,
        frames=frames.array(),
        times=times_a,
        stills=np.stack(stills),
        still_times=np.asarray(still_times, dtype=np.float64),
        audio=samples,
        audio_rate=AUDIO_RATE,
        path=Path(meta.path),
    )
