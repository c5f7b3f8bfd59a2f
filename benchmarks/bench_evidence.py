"""Evidence benchmark: what one diagnosis costs, operator by operator, against decoding the same file once.

    make bench                                                       # the three standard clips, workers 1 and the default
    .venv/bin/python benchmarks/bench_evidence.py --clips talk10 --workers 2
    .venv/bin/python benchmarks/bench_evidence.py --clip my.mp4 --json

Standard clips (made with ffmpeg from ../shared/media, or synthetic when it is absent):
- talk10: 10 s at 1280x720 25 fps of a documentary with a presenter, narration and several shots (faces, speech);
- long60: the same footage looped to 60 s (does the cost grow no faster than the duration?);
- uhd10: the 10 s clip at 3840x2160 (does the cost depend on resolution?).

Each clip is measured in a fresh process (so "cold" includes importing and loading models), twice in a row
("warm": models stay loaded). Reported per clip and worker count: `ffmpeg -f null` decode of the same file in
the same run (the floor), probe + decode, each operator's seconds, the wall time of the whole evidence, the
ratio wall / ffmpeg decode, the time to the first and to the last dimension result of a full diagnosis with
the evidence judge, and the process's peak resident memory. Numbers are wall-clock: run on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EVALVERSE_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO))

DOC = "real_multishot_speech_bbc_documentary.mp4"  # 25 s, 704x576, presenter + narration, ~6 shots
CLIPS = {
    "talk10": {"seconds": 10.0, "size": (1280, 720), "loop": False},
    "long60": {"seconds": 60.0, "size": (1280, 720), "loop": True},
    "uhd10": {"seconds": 10.0, "size": (3840, 2160), "loop": False},
}


def make_clip(name: str, folder: Path) -> Path:
    """One of the standard clips, made once per run in `folder`."""
    from evalverse.media.synthetic import ffmpeg_binary

    spec = CLIPS[name]
    out = folder / f"{name}.mp4"
    if out.exists():
        return out
    src = SHARED / "media" / DOC
    w, h = spec["size"]
    if not src.exists():
        raise SystemExit(f"{src} not found: pass --clip FILE, or set EVALVERSE_SHARED to the shared folder")
    loop = ["-stream_loop", "-1"] if spec["loop"] else ["-ss", "6.8"]  # 6.8 s: the presenter's shot starts
    subprocess.run([ffmpeg_binary(), "-y", "-v", "error", *loop, "-i", str(src), "-t", str(spec["seconds"]),
                    "-vf", f"scale={w}:{h}:flags=bicubic,setsar=1", "-r", "25", "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(out)], check=True)
    return out


def ffmpeg_decode_seconds(path: Path) -> float:
    from evalverse.media.synthetic import ffmpeg_binary

    start = time.perf_counter()
    subprocess.run([ffmpeg_binary(), "-v", "error", "-i", str(path), "-f", "null", "-"], check=True)
    return time.perf_counter() - start


def measure_once(path: Path, workers: int) -> dict:
    """Evidence (no cache) then a full evidence-judge diagnosis (no cache), in this process."""
    from evalverse.config import Settings
    from evalverse.pipeline import diagnose_stream, evidence_stream

    settings = Settings.from_env().model_copy(update={"workers": workers})
    t0 = time.perf_counter()
    ops: dict[str, dict] = {}
    timings: dict = {}
    for ev in evidence_stream(path, settings, store=None, use_cache=False):
        if ev["type"] == "operator_done":
            ops[ev["operator"]] = {"seconds": ev["seconds"], "status": ev["status"], "backend": ev["backend"],
                                   "done_at_s": round(time.perf_counter() - t0, 3)}
        elif ev["type"] == "report":
            timings = ev["report"]["timings"]
    evidence_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = None
    for ev in diagnose_stream(path, settings, store=None, use_cache=False):
        if ev["type"] == "dimension_done" and first is None:
            first = time.perf_counter() - t0
    return {"evidence_wall_s": round(evidence_wall, 3), "probe_s": timings.get("probe"), "decode_s": timings.get("decode"),
            "operators_s": timings.get("operators"), "operators": ops,
            "diagnose_first_card_s": round(first or 0.0, 3), "diagnose_total_s": round(time.perf_counter() - t0, 3)}


def measure(path: Path, workers: int) -> dict:
    """Run in a fresh process: ffmpeg floor, a cold pass, a warm pass, peak memory."""
    floor = ffmpeg_decode_seconds(path)
    cold = measure_once(path, workers)
    warm = measure_once(path, workers)
    from evalverse.media import probe_video
    from evalverse.config import Settings

    meta = probe_video(path, Settings.from_env().limits)
    return {"clip": path.name, "duration_s": meta.duration_s, "size": [meta.width, meta.height], "workers": workers,
            "ffmpeg_decode_s": round(floor, 3), "cold": cold, "warm": warm,
            "warm_over_ffmpeg": round(warm["evidence_wall_s"] / floor, 1) if floor > 0 else None,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_child(path: Path, workers: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--measure", str(path), "--workers", str(workers)],
                          capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"measuring {path.name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    ops = sorted({op for r in rows for op in r["warm"]["operators"]})
    head = ["clip", "size", "s", "workers", "ffmpeg s", "cold wall s", "warm wall s", "warm/ffmpeg", "first card s (warm)",
            "peak MB"] + [f"{op} s" for op in ops]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        w = r["warm"]
        cells = [r["clip"], f"{r['size'][0]}x{r['size'][1]}", f"{r['duration_s']:.0f}", str(r["workers"]),
                 f"{r['ffmpeg_decode_s']:.2f}", f"{r['cold']['evidence_wall_s']:.2f}", f"{w['evidence_wall_s']:.2f}",
                 f"{r['warm_over_ffmpeg']}", f"{w['diagnose_first_card_s']:.2f}", f"{r['peak_rss_mb']:.0f}"]
        cells += [f"{w['operators'].get(op, {}).get('seconds', float('nan')):.2f}" for op in ops]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", default="talk10,long60,uhd10", help="standard clips to make and measure")
    ap.add_argument("--clip", type=Path, help="measure this file instead of the standard clips")
    ap.add_argument("--workers", default=f"1,{os.cpu_count() or 1}", help="comma-separated operator CPU budgets")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: measure in this (fresh) process
    args = ap.parse_args(argv)
    workers = sorted({int(w) for w in str(args.workers).split(",") if w.strip()})
    if args.measure:
        print(json.dumps(measure(args.measure, workers[0])))
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="evalverse-bench-") as tmp:
        paths = [args.clip] if args.clip else [make_clip(n.strip(), Path(tmp)) for n in args.clips.split(",") if n.strip()]
        for path in paths:
            for w in workers:
                rows.append(run_child(Path(path), w))
                print(f"measured {Path(path).name} with {w} worker(s)", file=sys.stderr, flush=True)
    report = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
              "rows": rows}
    print(json.dumps(report, indent=2) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
