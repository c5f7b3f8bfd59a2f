"""Peak memory of probe + decode on a long clip whose header states no duration, against the same content in
an .mp4 (issue 13, item 1: the frame budget must come from the measured duration, not assume a 1 s clip).

    .venv/bin/python benchmarks/bench_media_memory.py                 # 120 s, 1280x720, 25 fps
    .venv/bin/python benchmarks/bench_media_memory.py --seconds 60 --json
    .venv/bin/python benchmarks/bench_media_memory.py --repo /path/to/other/checkout   # compare another version

Each file is probed and decoded the way the pipeline does it (`probe_video`, then `decode_video(meta=...)`)
in a fresh child process run under `/usr/bin/time -v`; the figure is its maximum resident set size. The
child also reports what the media layer measured (duration, frames, analysis frames kept and their bytes).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import json, sys
import evalverse
from evalverse.media import decode_video, probe_video
meta = probe_video(sys.argv[1])
video = decode_video(sys.argv[1], meta=meta)
print(json.dumps({"evalverse": evalverse.__file__, "probed_duration_s": meta.duration_s, "probed_frames": meta.n_frames,
                  "decoded_frames": getattr(video.meta, "decoded_frames", None) or video.meta.n_frames,
                  "kept_frames": int(len(video.frames)), "frames_mb": round(video.frames.nbytes / 2**20, 1)}))
"""


def make_clips(folder: Path, seconds: float, size: str, fps: int) -> dict[str, Path]:
    ffmpeg = ["ffmpeg", "-y", "-loglevel", "error"]
    mp4 = folder / "clip.mp4"
    subprocess.run([*ffmpeg, "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(mp4)], check=True)
    raw = folder / "raw_h264_named.mp4"  # the same H.264 stream without a container: no duration, no frame count
    subprocess.run([*ffmpeg, "-i", str(mp4), "-c:v", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", str(raw)],
                   check=True)
    return {"mp4": mp4, "headerless": raw}


def peak(path: Path, repo: Path) -> dict:
    env = os.environ | {"PYTHONPATH": str(repo)}
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", CHILD, str(path)], capture_output=True,
                          text=True, env=env, cwd=repo)  # `-c` puts the working folder first on sys.path
    if proc.returncode != 0:
        raise SystemExit(f"child failed on {path.name}:\n{proc.stderr[-2000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", proc.stderr).group(1)
    return {"file": path.name, "bytes": path.stat().st_size, "peak_rss_mb": round(rss_kb / 1024, 1), "wall": wall,
            **json.loads(proc.stdout.strip().splitlines()[-1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--repo", type=Path, default=REPO, help="checkout whose evalverse the children import")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_clips(Path(tmp), args.seconds, args.size, args.fps)
        rows = {kind: peak(path, args.repo) for kind, path in clips.items()}
    report = {"seconds": args.seconds, "size": args.size, "fps": args.fps, "repo": str(args.repo),
              "cpus": os.cpu_count(), "rows": rows,
              "headerless_over_mp4": round(rows["headerless"]["peak_rss_mb"] / rows["mp4"]["peak_rss_mb"], 3)}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.seconds:g} s {args.size} {args.fps} fps, evalverse from {args.repo}")
    print(f"{'file':<22} {'peak RSS MB':>11} {'probed s':>9} {'frames':>7} {'kept':>5} {'frames MB':>9} {'wall':>8}")
    for r in rows.values():
        print(f"{r['file']:<22} {r['peak_rss_mb']:>11} {r['probed_duration_s']:>9.2f} {r['probed_frames']:>7} "
              f"{r['kept_frames']:>5} {r['frames_mb']:>9} {r['wall']:>8}")
    print(f"header-less / mp4 peak: {report['headerless_over_mp4']}")


if __name__ == "__main__":
    main()
