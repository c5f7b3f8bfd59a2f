"""Evidence benchmark: what one diagnosis costs, operator by operator, against decoding the same file once.

    make bench                                                     # the three standard clips, workers 1 and all cores
    make bench BENCH_ARGS=--quick                                  # talk10 only, all cores, one warm pass
    .venv/bin/python benchmarks/bench_evidence.py --clips talk10 --workers 1,2 --reps 3
    .venv/bin/python benchmarks/bench_evidence.py --clip my.mp4 --json --out benchmarks/results/my.json

Standard clips (made with ffmpeg from ../shared/media):
- talk10: 10 s at 1280x720 25 fps of a documentary with a presenter, narration and several shots (faces, speech);
- long60: the same footage looped to 60 s (does the cost grow no faster than the duration?);
- uhd10: the 10 s clip at 3840x2160 (does the cost depend on resolution?).

Each clip and worker count is measured in a fresh process, so "cold" includes importing and loading models;
then `--reps` warm passes (models stay loaded: `evalverse.models.loaded` counts the loads, a warm pass must add
none) and one full diagnosis with the evidence judge (time to the first and the last dimension card). Reported:
`ffmpeg -f null` decode of the same file in the same process (the floor; fastest of 3), probe + decode, each
operator's seconds, the wall time of the whole evidence and its ratio to the ffmpeg decode, the CPU seconds the
process spent (all threads), and the peak resident memory. With one worker the operators run one at a time,
so each operator's CPU seconds are measured too; the table of operators comes from that row, and the
operators' makespan at 1 and at N cores is computed from those CPU seconds by the scheduler itself, running
stand-ins that sleep that long (`cpu-bound wall`: what an unloaded machine would take, decode not included).

Wall-clock times move with the machine's load (the CPU seconds much less): on a shared machine read the CPU
columns, and take wall times on a quiet one. The report starts with the conditions (date, commit, CPUs, load
average at start and end, the command); `--out` (and `make bench`, to benchmarks/results/latest.json) saves
the full JSON with them.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
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


def ffmpeg_decode(path: Path, tries: int = 3) -> dict:
    """Fastest of `tries` runs of `ffmpeg -f null` (wall) and that run's CPU seconds."""
    from evalverse.media.synthetic import ffmpeg_binary

    best = None
    for _ in range(tries):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([ffmpeg_binary(), "-v", "error", "-i", str(path), "-f", "null", "-"], check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if best is None or wall < best["wall_s"]:
            best = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
    return best


def evidence_pass(path: Path, settings) -> dict:
    """One evidence run (no cache) in this process: wall and CPU of the whole, of decoding and of each operator
    (an operator's CPU is only its own when operators run one at a time: workers = 1)."""
    from evalverse.pipeline import evidence_stream

    wall0, cpu0 = time.perf_counter(), time.process_time()
    ops: dict[str, dict] = {}
    started: dict[str, tuple[float, float]] = {}
    out: dict = {}
    for ev in evidence_stream(path, settings, store=None, use_cache=False):
        now, cpu = time.perf_counter(), time.process_time()
        if ev["type"] == "decode":
            out["decode_s"], out["decode_cpu_s"] = ev["seconds"], round(cpu - cpu0, 3)  # probe included in the CPU
        elif ev["type"] == "operator_start":
            started[ev["operator"]] = (now, cpu)
        elif ev["type"] == "operator_done":
            s_wall, s_cpu = started.get(ev["operator"], (now, cpu))
            ops[ev["operator"]] = {"seconds": ev["seconds"], "status": ev["status"], "backend": ev["backend"],
                                   "done_at_s": round(now - wall0, 3)}
            if settings.workers == 1:
                ops[ev["operator"]]["cpu_s"] = round(cpu - s_cpu, 3)
        elif ev["type"] == "report":
            out["probe_s"] = ev["report"]["timings"].get("probe")
            out["operators_s"] = ev["report"]["timings"].get("operators")
    out.update({"evidence_wall_s": round(time.perf_counter() - wall0, 3), "cpu_s": round(time.process_time() - cpu0, 3),
                "operators": ops})
    return out


def diagnose_pass(path: Path, settings) -> dict:
    """A full evidence-judge diagnosis (no cache): seconds to the first and to the last dimension card."""
    from evalverse.pipeline import diagnose_stream

    t0, first = time.perf_counter(), None
    for ev in diagnose_stream(path, settings, store=None, use_cache=False):
        if ev["type"] == "dimension_done" and first is None:
            first = time.perf_counter() - t0
    return {"first_card_s": round(first or 0.0, 3), "total_s": round(time.perf_counter() - t0, 3)}


def median_pass(passes: list[dict]) -> dict:
    """Per-key medians of warm passes (operators too)."""
    med = {k: round(statistics.median(p[k] for p in passes), 3) for k in ("evidence_wall_s", "cpu_s", "decode_s",
                                                                          "decode_cpu_s", "operators_s")}
    med["operators"] = {}
    for op in passes[0]["operators"]:
        rows = [p["operators"][op] for p in passes if op in p["operators"]]
        med["operators"][op] = {**rows[0], **{k: round(statistics.median(r[k] for r in rows), 3)
                                             for k in ("seconds", "cpu_s", "done_at_s") if k in rows[0]}}
    return med


def measure(path: Path, workers: int, reps: int, diagnose: bool) -> dict:
    """In this (fresh) process: the ffmpeg floor, a cold pass, `reps` warm passes, a diagnosis, peak memory."""
    from evalverse.config import Settings

    try:
        from evalverse.models.loaded import loads
    except ImportError:  # a checkout from before the model cache (measuring an older commit with this script)
        def loads() -> dict:
            return {}

    settings = Settings.from_env().model_copy(update={"workers": workers})
    floor = ffmpeg_decode(path)
    cold = evidence_pass(path, settings)
    loads_cold = sum(loads().values())
    warm = [evidence_pass(path, settings) for _ in range(reps)]
    loads_warm = sum(loads().values()) - loads_cold
    diag = diagnose_pass(path, settings) if diagnose else None
    from evalverse.media import probe_video

    info = probe_video(path, settings.limits)
    w = median_pass(warm)
    return {"clip": path.name, "duration_s": info.duration_s, "size": [info.width, info.height], "workers": workers,
            "reps": reps, "ffmpeg": floor, "cold": cold, "warm": w, "warm_passes": [p["evidence_wall_s"] for p in warm],
            "warm_over_ffmpeg": round(w["evidence_wall_s"] / floor["wall_s"], 1) if floor["wall_s"] > 0 else None,
            "diagnose_warm": diag, "model_loads": {"cold": loads_cold, "warm": loads_warm},
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def makespan(cpu: dict[str, float], budget: int, scale: float = 0.2) -> float:
    """Seconds the operators take at `budget` cores if each runs for the CPU seconds it used alone and nothing
    else runs on the machine: the real scheduler (evalverse.operators.scheduler) runs stand-ins that sleep that
    long (times `scale`, with the declared costs scaled alike), so its own rules decide the order."""
    from evalverse.operators.base import EvidenceRecord
    from evalverse.operators.runner import dependencies, get_operator, resolve_order
    from evalverse.operators.scheduler import schedule

    order = [n for n in resolve_order(None) if n in cpu]
    needs = {n: [d for d in dependencies(get_operator(n)) if d in cpu] for n in order}
    threads = {n: int(get_operator(n).threads) for n in order}

    def start(name):
        def work():
            time.sleep(cpu[name] * scale)
            return EvidenceRecord(operator=name, version="0")
        return work

    extra: tuple = ()
    try:
        from evalverse.operators.runner import chain_lengths

        extra = ({k: v * scale for k, v in chain_lengths(order, needs).items()},
                 {n: float(get_operator(n).cost) * scale for n in order})
    except ImportError:  # an older checkout: its scheduler takes the order alone
        pass
    t0 = time.perf_counter()
    for _ in schedule(order, needs, threads, budget, start, lambda n, r: None, *extra):
        pass
    return round((time.perf_counter() - t0) / scale, 2)


def run_child(path: Path, workers: int, reps: int, diagnose: bool) -> dict:
    cmd = [sys.executable, __file__, "--measure", str(path), "--workers", str(workers), "--reps", str(reps)]
    if not diagnose:
        cmd.append("--no-diagnose")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"measuring {path.name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def git_commit() -> str | None:
    """The measured checkout's commit, with "+dirty" when it has uncommitted changes (None outside git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=REPO).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def conditions(report: dict) -> str:
    """One line saying where and how the figures were taken: wall times are only comparable under like load."""
    m = report["machine"]
    load = lambda la: " / ".join(f"{x:.2f}" for x in la)  # noqa: E731
    return (f"{report['started']}, commit {report['commit']}, {m['cpus']} CPUs, Python {m['python']}; load average "
            f"(1/5/15 min) {load(m['load_avg_at_start'])} at start, {load(m['load_avg_at_end'])} at end; "
            f"command: {report['command']}")


def tables(rows: list[dict]) -> str:
    """Markdown: one row per clip and worker count; per-operator CPU and wall by clip; growth with duration/size."""
    head = ["clip", "size", "s", "workers", "ffmpeg s", "decode s", "cold wall s", "warm wall s", "warm/ffmpeg",
            "warm CPU s", "cpu-bound wall s (1 / N cores)", "first card s", "last card s", "peak MB", "model loads cold/warm"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        w, d = r["warm"], r.get("diagnose_warm") or {}
        ideal = r.get("cpu_bound_wall_s")
        out.append("| " + " | ".join([
            r["clip"], f"{r['size'][0]}x{r['size'][1]}", f"{r['duration_s']:.0f}", str(r["workers"]),
            f"{r['ffmpeg']['wall_s']:.2f}", f"{w['decode_s']:.2f}", f"{r['cold']['evidence_wall_s']:.2f}",
            f"{w['evidence_wall_s']:.2f}", str(r["warm_over_ffmpeg"]), f"{w['cpu_s']:.2f}",
            f"{ideal['1']:.2f} / {ideal['N']:.2f}" if ideal else "",
            f"{d['first_card_s']:.2f}" if d else "—", f"{d['total_s']:.2f}" if d else "—", f"{r['peak_rss_mb']:.0f}",
            f"{r['model_loads']['cold']}/{r['model_loads']['warm']}"]) + " |")
    single = {r["clip"]: r for r in rows if r["workers"] == 1}
    if single:
        clips = list(single)
        ops = sorted({op for r in single.values() for op in r["warm"]["operators"]})
        out += ["", "Warm, one worker (operators one at a time): CPU s / wall s per operator", "",
                "| operator | " + " | ".join(clips) + " |", "|---|" + "---|" * len(clips)]
        for op in ["decode"] + ops:
            cells = []
            for c in clips:
                w = single[c]["warm"]
                if op == "decode":
                    cells.append(f"{w['decode_cpu_s']:.2f} / {w['decode_s']:.2f}")
                else:
                    o = w["operators"].get(op, {})
                    cells.append(f"{o.get('cpu_s', float('nan')):.2f} / {o.get('seconds', float('nan')):.2f}")
            out.append(f"| {op} | " + " | ".join(cells) + " |")
        base = single.get("talk10.mp4")
        if base and len(single) > 1:
            out += ["", "Growth against talk10 (warm, one worker; 1.0 = same cost)", "",
                    "| clip | duration × | pixels × | CPU × | wall × |", "|---|---|---|---|---|"]
            for c, r in single.items():
                px = r["size"][0] * r["size"][1] / (base["size"][0] * base["size"][1])
                out.append(f"| {c} | {r['duration_s'] / base['duration_s']:.1f} | {px:.1f} | "
                           f"{r['warm']['cpu_s'] / base['warm']['cpu_s']:.2f} | "
                           f"{r['warm']['evidence_wall_s'] / base['warm']['evidence_wall_s']:.2f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", default="talk10,long60,uhd10", help="standard clips to make and measure")
    ap.add_argument("--clip", type=Path, help="measure this file instead of the standard clips")
    ap.add_argument("--workers", default=f"1,{os.cpu_count() or 1}", help="comma-separated operator CPU budgets")
    ap.add_argument("--reps", type=int, default=2, help="warm passes per clip (their median is reported)")
    ap.add_argument("--quick", action="store_true", help="talk10 only, all cores, one warm pass")
    ap.add_argument("--no-diagnose", action="store_true", help="skip the evidence-judge diagnosis (first card)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--out", type=Path, help="also write the JSON report here")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: measure in this (fresh) process
    args = ap.parse_args(argv)
    workers = sorted({int(w) for w in str(args.workers).split(",") if w.strip()})
    if args.quick:
        args.clips, workers, args.reps = "talk10", [os.cpu_count() or 1], 1
    if args.measure:
        print(json.dumps(measure(args.measure, workers[0], max(1, args.reps), not args.no_diagnose)))
        return 0
    rows, load_at_start, began = [], os.getloadavg(), time.strftime("%Y-%m-%d %H:%M:%S %z")
    with tempfile.TemporaryDirectory(prefix="evalverse-bench-") as tmp:
        paths = [args.clip] if args.clip else [make_clip(n.strip(), Path(tmp)) for n in args.clips.split(",") if n.strip()]
        for path in paths:
            for w in workers:
                rows.append(run_child(Path(path), w, max(1, args.reps), not args.no_diagnose))
                print(f"measured {Path(path).name} with {w} worker(s)", file=sys.stderr, flush=True)
    n = os.cpu_count() or 1
    for r in rows:  # the operators' makespan from their own CPU seconds (known from the one-worker row)
        one = next((x for x in rows if x["clip"] == r["clip"] and x["workers"] == 1), None)
        if one:
            cpu = {op: o["cpu_s"] for op, o in one["warm"]["operators"].items() if "cpu_s" in o}
            r["cpu_bound_wall_s"] = {"1": makespan(cpu, 1), "N": makespan(cpu, n)}
    report = {"machine": {"python": platform.python_version(), "cpus": n, "platform": platform.platform(),
                          "load_avg_at_start": load_at_start, "load_avg_at_end": os.getloadavg()},
              "command": " ".join([Path(sys.executable).name, "benchmarks/bench_evidence.py", *(argv or sys.argv[1:])]),
              "commit": git_commit(), "started": began, "rows": rows}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2) if args.json else conditions(report) + "\n\n" + tables(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
