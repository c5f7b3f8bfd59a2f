"""Evidence benchmark: how long decode + every registered operator take on a 10 s 720p clip with audio,
against the time ffmpeg itself needs to decode the same file once.

    .venv/bin/python benchmarks/bench_evidence.py                # synthetic clip (pans, cuts, espeak speech)
    .venv/bin/python benchmarks/bench_evidence.py --source shared # 10 s of Big Buck Bunny from ../shared/media
    .venv/bin/python benchmarks/bench_evidence.py --clip my.mp4 --json

Target: media decode + all operators within 10 s for the 10 s 720p clip. Operators run through the
runner with no evidence cache, so every one of them computes.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

SHARED_CLIP = "anim_music_big_buck_bunny_0_30.webm"
SIZE = (1280, 720)
FPS = 25.0
SENTENCES = ("The camera pans slowly across the valley while the light changes. "
             "A second shot holds still on the house. Then the camera tilts up to the sky and the music returns.")


def speech_track(seconds: float, rate: int = 16_000) -> np.ndarray:
    """espeak-ng speech (if installed) over a quiet chord, `seconds` long, in [-1, 1]."""
    t = np.arange(int(seconds * rate)) / rate
    bed = sum(0.04 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        return bed.astype(np.float32)
    from scipy.signal import resample_poly

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run([exe, "-w", str(wav), SENTENCES], check=True, capture_output=True)
        with wave.open(str(wav)) as w:
            sr = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), np.int16) / 32768.0
    speech = resample_poly(x, rate, sr)[: len(t) - rate // 2]
    out = bed.copy()
    out[rate // 2: rate // 2 + len(speech)] += 0.8 * speech
    return np.clip(out, -1, 1).astype(np.float32)


def synthetic_clip(path: Path, seconds: float = 10.0) -> Path:
    """Three shots at 720p/25 fps: a pan right, a slow zoom in, a tilt up; speech over a chord."""
    import cv2

    from evalverse.media.synthetic import textured, write_video

    w, h = SIZE
    n = int(seconds * FPS)
    cuts = (int(n * 0.4), int(n * 0.7))
    wide = textured(h, w + 8 * cuts[0] + 8, seed=1)
    still = textured(h, w, seed=2)
    tall = textured(h + 6 * n, w, seed=3)

    def frame(i: int) -> np.ndarray:
        if i < cuts[0]:
            return wide[:, 8 * i:8 * i + w]
        if i < cuts[1]:
            M = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), 0, 1.004 ** (i - cuts[0]))
            return cv2.warpAffine(still, M, (w, h), borderMode=cv2.BORDER_REFLECT)
        k = i - cuts[1]
        top = tall.shape[0] - h - 6 * k
        return tall[top:top + h]

    write_video(path, (frame(i) for i in range(n)), FPS, SIZE, audio=speech_track(seconds),
                extra=("-preset", "veryfast", "-crf", "20"))
    return path


def shared_clip(path: Path, seconds: float = 10.0) -> Path:
    from evalverse.media.synthetic import ffmpeg_binary

    src = REPO.parent / "shared" / "media" / SHARED_CLIP
    if not src.exists():
        raise SystemExit(f"shared clip not found: {src} (use --source synthetic or --clip)")
    subprocess.run([ffmpeg_binary(), "-y", "-loglevel", "error", "-i", str(src), "-t", str(seconds),
                    "-vf", f"scale={SIZE[0]}:{SIZE[1]}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(path)], check=True)
    return path


def ffmpeg_decode_seconds(path: Path) -> float:
    """Wall time of `ffmpeg -i clip -f null -`: decoding every video frame and audio sample once."""
    from evalverse.media.synthetic import ffmpeg_binary

    start = time.perf_counter()
    subprocess.run([ffmpeg_binary(), "-v", "error", "-i", str(path), "-f", "null", "-"], check=True)
    return time.perf_counter() - start


def run(path: Path, names: list[str] | None) -> dict:
    from evalverse.config import Settings
    from evalverse.media import decode_video
    from evalverse.operators.runner import run_operators

    settings = Settings.from_env()
    ff = ffmpeg_decode_seconds(path)
    start = time.perf_counter()
    video = decode_video(path, settings)
    decode_s = time.perf_counter() - start
    start = time.perf_counter()
    records = run_operators(video, settings, names=names, store=None, use_cache=False)
    operators_wall = time.perf_counter() - start
    rows = [{"operator": "media decode", "backend": "pyav", "status": "ok", "seconds": decode_s, "message": None}]
    rows += [{"operator": name, "backend": r.backend, "status": r.status, "seconds": float(r.seconds),
              "message": r.message} for name, r in records.items()]
    total = decode_s + operators_wall
    for row in rows:
        row["share"] = row["seconds"] / total if total > 0 else 0.0
    m = video.meta
    return {
        "clip": str(path), "duration_s": m.duration_s, "size": [m.width, m.height], "fps": m.fps,
        "analysis_frames": list(video.frames.shape), "has_audio": m.has_audio,
        "ffmpeg_decode_s": ff, "total_s": total, "operators_wall_s": operators_wall,
        "total_over_ffmpeg": total / ff if ff > 0 else None, "target_s": 10.0, "within_target": total <= 10.0,
        "rows": rows,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
    }


def table(report: dict) -> str:
    lines = [f"clip {report['clip']}  {report['size'][0]}x{report['size'][1]}  {report['duration_s']:.2f} s  "
             f"analysis frames {report['analysis_frames']}",
             f"{'operator':<16}{'backend':<22}{'status':<12}{'seconds':>9}{'share':>8}"]
    for r in report["rows"]:
        lines.append(f"{r['operator']:<16}{(r['backend'] or '-'):<22}{r['status']:<12}{r['seconds']:>9.3f}{r['share']:>8.1%}")
    lines.append(f"{'total':<50}{report['total_s']:>9.3f}")
    lines.append(f"ffmpeg -f null decode: {report['ffmpeg_decode_s']:.3f} s;  total / ffmpeg decode = "
                 f"{report['total_over_ffmpeg']:.1f}x;  target {report['target_s']:.0f} s: "
                 f"{'met' if report['within_target'] else 'NOT met'}")
    for r in report["rows"]:
        if r["status"] not in ("ok", "partial") and r["message"]:
            lines.append(f"  {r['operator']}: {r['message'][:160]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path, help="benchmark this file instead of making one")
    ap.add_argument("--source", choices=("synthetic", "shared"), default="synthetic",
                    help="clip to make when --clip is not given (default: synthetic)")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the made clip")
    ap.add_argument("--names", nargs="*", help="only these operators (plus what they need); default: all")
    ap.add_argument("--no-cache", action="store_true", default=True,
                    help="run every operator without the evidence cache (always on: the benchmark measures compute)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.clip:
            path = args.clip
        else:
            path = Path(tmp) / f"bench_{args.source}.mp4"
            (synthetic_clip if args.source == "synthetic" else shared_clip)(path, args.seconds)
        report = run(path, args.names or None)
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
