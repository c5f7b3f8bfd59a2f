"""Synthetic clips with known ground truth (cuts, pans, flicker, tones, offsets), for exact tests and
benchmarks. Frames and audio are made with numpy and encoded with the ffmpeg binary.

Each generator returns the path it wrote and the ground truth it planted.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from evalverse.errors import UnavailableError


@dataclass
class Synthetic:
    path: Path
    truth: dict = field(default_factory=dict)


def ffmpeg_binary() -> str:
    exe = shutil.which("ffmpeg")
    if not exe:
        raise UnavailableError("the ffmpeg binary is not installed (Debian: apt-get install ffmpeg; or run `make install`)")
    return exe


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fps: float,
    size: tuple[int, int],
    audio: np.ndarray | None = None,
    audio_rate: int = 16_000,
    audio_offset_s: float = 0.0,
    codec: str = "libx264",
    extra: Iterable[str] = (),
) -> Path:
    """Encode RGB uint8 frames (W×H = size) and optional mono float audio in [-1, 1].

    audio_offset_s > 0 delays the audio against the picture by that many seconds (silence is padded).
    """
    path = Path(path)
    w, h = size
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [ffmpeg_binary(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{w}x{h}", "-r", f"{fps}", "-i", "-"]
        if audio is not None:
            pad = np.zeros(int(round(max(audio_offset_s, 0) * audio_rate)), dtype=np.float32)
            samples = np.concatenate([pad, np.asarray(audio, dtype=np.float32)])
            if audio_offset_s < 0:
                samples = samples[int(round(-audio_offset_s * audio_rate)):]
            wav = Path(tmp) / "a.wav"
            write_wav(wav, samples, audio_rate)
            cmd += ["-i", str(wav), "-c:a", "aac", "-b:a", "128k", "-shortest"]
        pix = ["-pix_fmt", "yuv420p"] if codec in ("libx264", "mpeg4", "libvpx") else []
        cmd += ["-c:v", codec, *pix, *extra, str(path)]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None
        try:
            for frame in frames:
                if frame.shape != (h, w, 3):
                    raise ValueError(f"frame shape {frame.shape} != {(h, w, 3)}")
                proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        finally:
            proc.stdin.close()
            err = proc.stderr.read().decode() if proc.stderr else ""
            proc.wait()
        if proc.returncode != 0:
            raise RuntimeError(f"ffmpeg failed writing {path}: {err.strip()}")
    return path


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm.tobytes())
    return Path(path)


def textured(h: int, w: int, seed: int) -> np.ndarray:
    """A smooth random texture (detail at several scales) so flow and sharpness have something to see."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), dtype=np.float32)
    for scale in (4, 16, 64):
        small = rng.random((max(h // scale, 2), max(w // scale, 2), 3)).astype(np.float32)
        ys = np.linspace(0, small.shape[0] - 1, h)
        xs = np.linspace(0, small.shape[1] - 1, w)
        yi, xi = np.meshgrid(ys, xs, indexing="ij")
        y0, x0 = np.floor(yi).astype(int), np.floor(xi).astype(int)
        y1, x1 = np.minimum(y0 + 1, small.shape[0] - 1), np.minimum(x0 + 1, small.shape[1] - 1)
        fy, fx = (yi - y0)[..., None], (xi - x0)[..., None]
        up = (small[y0, x0] * (1 - fy) * (1 - fx) + small[y1, x0] * fy * (1 - fx)
              + small[y0, x1] * (1 - fy) * fx + small[y1, x1] * fy * fx)
        img += up / 3
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def _frames(n: int, make: Callable[[int], np.ndarray]) -> Iterable[np.ndarray]:
    return (make(i) for i in range(n))


def cuts_clip(path: str | Path, cut_frames: tuple[int, ...] = (25, 60), n: int = 100, fps: float = 25.0,
              size: tuple[int, int] = (320, 240)) -> Synthetic:
    """Static textured shots separated by hard cuts at the given frame indices."""
    w, h = size
    shots = [textured(h, w, seed) for seed in range(len(cut_frames) + 1)]
    bounds = (0, *cut_frames, n)

    def make(i: int) -> np.ndarray:
        k = sum(i >= c for c in cut_frames)
        # a little motion inside each shot so it is not a still image
        return np.roll(shots[k], (i - bounds[k]) // 2, axis=1)

    write_video(path, _frames(n, make), fps, size)
    return Synthetic(Path(path), {"cut_frames": list(cut_frames), "cut_times": [c / fps for c in cut_frames], "fps": fps, "n": n})


def pan_clip(path: str | Path, px_per_frame: float = 4.0, n: int = 50, fps: float = 25.0,
             size: tuple[int, int] = (320, 240)) -> Synthetic:
    """A camera pan: a wide texture slides left under a fixed window, i.e. the camera pans right."""
    w, h = size
    wide = textured(h, w + int(abs(px_per_frame) * n) + 2, seed=7)

    def make(i: int) -> np.ndarray:
        x = int(round(i * px_per_frame))
        return wide[:, x:x + w]

    write_video(path, _frames(n, make), fps, size)
    return Synthetic(Path(path), {"px_per_frame": px_per_frame, "direction": "right" if px_per_frame > 0 else "left"})


def flicker_clip(path: str | Path, amplitude: float = 40.0, period_frames: int = 4, n: int = 50, fps: float = 25.0,
                 size: tuple[int, int] = (320, 240)) -> Synthetic:
    """A static shot whose brightness steps up and down by `amplitude` levels every `period_frames`/2."""
    w, h = size
    base = textured(h, w, seed=3).astype(np.float32) * 0.6 + 40

    def make(i: int) -> np.ndarray:
        delta = amplitude if (i // max(period_frames // 2, 1)) % 2 else 0.0
        return np.clip(base + delta, 0, 255).astype(np.uint8)

    write_video(path, _frames(n, make), fps, size)
    return Synthetic(Path(path), {"amplitude": amplitude, "period_frames": period_frames})


def tone(freq: float, seconds: float, rate: int = 16_000, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def pulse_av_clip(path: str | Path, offset_s: float = 0.2, period_s: float = 1.0, n_pulses: int = 5,
                  fps: float = 25.0, size: tuple[int, int] = (320, 240), rate: int = 16_000) -> Synthetic:
    """A white flash and a 1 kHz beep at each pulse, with the beep delayed by `offset_s` (positive: sound late)."""
    w, h = size
    seconds = period_s * n_pulses
    n = int(round(seconds * fps))
    flash_len = max(int(round(0.08 * fps)), 1)

    def make(i: int) -> np.ndarray:
        in_flash = (i % int(round(period_s * fps))) < flash_len
        return np.full((h, w, 3), 235 if in_flash else 20, dtype=np.uint8)

    audio = np.zeros(int(seconds * rate), dtype=np.float32)
    beep = tone(1000, 0.08, rate)
    for k in range(n_pulses):
        start = int(k * period_s * rate)
        audio[start:start + len(beep)] = beep[: len(audio) - start]
    write_video(path, _frames(n, make), fps, size, audio=audio, audio_rate=rate, audio_offset_s=offset_s)
    return Synthetic(Path(path), {"offset_s": offset_s, "pulse_times": [k * period_s for k in range(n_pulses)]})


def silent_audio_clip(path: str | Path, seconds: float = 2.0, fps: float = 25.0, size: tuple[int, int] = (320, 240)) -> Synthetic:
    """A clip with an audio stream that is digitally silent (all zeros)."""
    w, h = size
    frame = textured(h, w, seed=5)
    n = int(seconds * fps)
    write_video(path, _frames(n, lambda i: frame), fps, size, audio=np.zeros(int(seconds * 16_000), np.float32))
    return Synthetic(Path(path), {"audio_silent": True})


def colour_cast_clip(path: str | Path, cast: tuple[float, float, float] = (1.0, 0.85, 0.6), n: int = 25,
                     fps: float = 25.0, size: tuple[int, int] = (320, 240)) -> Synthetic:
    """A neutral grey-world texture multiplied by per-channel gains (default: warm/orange cast)."""
    w, h = size
    grey = textured(h, w, seed=11).mean(axis=2, keepdims=True).repeat(3, axis=2).astype(np.float32)
    img = np.clip(grey * np.array(cast, np.float32), 0, 255).astype(np.uint8)
    write_video(path, _frames(n, lambda i: img), fps, size)
    return Synthetic(Path(path), {"cast": cast, "warm": cast[0] > cast[2]})


def fade_clip(path: str | Path, shot_frames: int = 30, fade_frames: int = 10, hold_frames: int = 4,
              colour: int = 0, fps: float = 25.0, size: tuple[int, int] = (320, 240),
              fade_in_start: bool = False, fade_out_end: bool = False) -> Synthetic:
    """Shot A fades to a flat colour (0 black, 255 white), holds it, and shot B fades in from it.

    Optionally the clip also opens with a fade-in and ends with a fade-out (neither is a shot boundary).
    Truth: the held run's frame range and its middle frame (the boundary a detector should report).
    """
    w, h = size
    a, b = textured(h, w, seed=21).astype(np.float32), textured(h, w, seed=22).astype(np.float32)
    flat = np.full((h, w, 3), float(colour), np.float32)
    seq: list[tuple[np.ndarray, float]] = []  # (image, weight of the picture against the flat colour)
    if fade_in_start:
        seq += [(a, k / fade_frames) for k in range(fade_frames)]
    seq += [(a, 1.0)] * shot_frames
    seq += [(a, 1 - (k + 1) / (fade_frames + 1)) for k in range(fade_frames)]
    hold_start = len(seq)
    seq += [(a, 0.0)] * hold_frames
    seq += [(b, (k + 1) / (fade_frames + 1)) for k in range(fade_frames)]
    seq += [(b, 1.0)] * shot_frames
    if fade_out_end:
        seq += [(b, 1 - (k + 1) / fade_frames) for k in range(fade_frames)]

    def make(i: int) -> np.ndarray:
        img, wgt = seq[i]
        shifted = np.roll(img, i // 2, axis=1)
        return np.clip(shifted * wgt + flat * (1 - wgt), 0, 255).astype(np.uint8)

    write_video(path, _frames(len(seq), make), fps, size)
    hold = (hold_start, hold_start + hold_frames)
    return Synthetic(Path(path), {"hold_frames": hold, "boundary_frame": (hold[0] + hold[1]) // 2,
                                  "n": len(seq), "fps": fps, "colour": colour})


def rotated_copy(src: str | Path, dst: str | Path, degrees_ccw: int) -> Synthetic:
    """Remux `src` (stream copy) with a display matrix asking players to turn it `degrees_ccw` counter-clockwise.

    FFmpeg 5's `-metadata:s:v rotate=` no longer writes the matrix, so PyAV sets it.
    """
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        streams = {}
        for s in (*inp.streams.video, *inp.streams.audio):
            streams[s.index] = out.add_stream_from_template(s)
        out.streams.video[0].set_display_rotation(degrees_ccw)
        for packet in inp.demux(list(inp.streams.video) + list(inp.streams.audio)):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return Synthetic(Path(dst), {"rotation_cw": (-degrees_ccw) % 360})


def headerless_copy(src: str | Path, dst: str | Path, kind: str = "h264") -> Synthetic:
    """The picture of `src` as a stream whose header states no duration and no frame count.

    kind "h264": the H.264 stream copied out as a raw Annex B elementary stream (no container, no timestamps),
    whatever `dst` is named; "webm": re-encoded to VP8 WebM written to a pipe (no seeking back: no duration,
    no cues). Truth: the frame count and duration of `src`'s video.
    """
    import av

    with av.open(str(src)) as inp:
        v = inp.streams.video[0]
        n = sum(1 for p in inp.demux(v) if p.size)
        seconds = float(v.duration * v.time_base) if v.duration else None
    cmd = [ffmpeg_binary(), "-y", "-loglevel", "error", "-i", str(src), "-an"]
    if kind == "h264":
        cmd += ["-c:v", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", str(dst)]
        subprocess.run(cmd, check=True)
    elif kind == "webm":
        cmd += ["-c:v", "libvpx", "-b:v", "1M", "-deadline", "realtime", "-cpu-used", "8", "-f", "webm", "pipe:1"]
        with open(dst, "wb") as out:
            subprocess.run(cmd, check=True, stdout=out)
    else:
        raise ValueError(f"kind must be h264 or webm, not {kind!r}")
    return Synthetic(Path(dst), {"n_frames": n, "duration_s": seconds})


def damaged_copy(src: str | Path, dst: str | Path, at: float = 0.5, n_bytes: int = 65_536, seed: int = 0) -> Synthetic:
    """`src` with `n_bytes` of random garbage written over it at the fraction `at` of the file (mid-stream
    damage; the container's index is left alone when it sits elsewhere)."""
    data = bytearray(Path(src).read_bytes())
    start = int(len(data) * at)
    end = min(start + n_bytes, len(data))
    data[start:end] = np.random.default_rng(seed).integers(0, 256, end - start, dtype=np.uint8).tobytes()
    Path(dst).write_bytes(bytes(data))
    return Synthetic(Path(dst), {"garbage_bytes": (start, end)})
