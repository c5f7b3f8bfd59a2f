"""Batch throughput of `bench run`: local vs Ray engine, 1 and 2 workers, clips per minute on one suite.

    .venv/bin/python benchmarks/bench_runs.py                       # FETV: the 25 CogVideo GIFs of suites/fetv25.jsonl
    .venv/bin/python benchmarks/bench_runs.py --limit 10 --json     # first 10 cases only
    .venv/bin/python benchmarks/bench_runs.py --suite S.jsonl --videos DIR --configs local:1 ray:2

Every configuration starts from an empty database (no cache: every clip is decoded, every operator runs and
the evidence judge judges all 18 dimensions) and goes through `evalverse.bench.runner.run_bench`, exactly what
`evalverse bench run` does. Wall time includes starting the engine (worker processes, the local Ray
runtime and its actors); "first clip" says how long that took until the first result came back.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def run_config(engine: str, workers: int, suite_path: Path, videos: Path, limit: int | None, dimensions) -> dict:
    from evalverse.bench.runner import run_bench
    from evalverse.bench.submission import scan_submission
    from evalverse.bench.suite import load_suite
    from evalverse.bench.worker import Job
    from evalverse.config import Settings
    from evalverse.store import Store

    suite = load_suite(suite_path)
    sub = scan_submission(videos, suite, "bench-model")
    sub.items = sub.items[:limit] if limit else sub.items
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env().model_copy(update={"db_path": Path(tmp) / "bench.duckdb", "data_dir": Path(tmp)})
        stamps = []
        started = time.perf_counter()
        with Store.open(settings.db_path) as store:
            summary = run_bench(suite, sub, store, settings, Job(dimensions=dimensions), engine=engine, workers=workers,
                                on_item=lambda e: stamps.append(time.perf_counter() - started))
        wall = time.perf_counter() - started
    n = summary.evaluated
    return {"engine": engine, "workers": workers, "clips": n, "failed": len(summary.failed), "wall_s": round(wall, 1),
            "first_clip_s": round(stamps[0], 1) if stamps else None,
            "clips_per_min": round(60 * n / wall, 1) if wall else None,
            "steady_clips_per_min": round(60 * (n - 1) / (stamps[-1] - stamps[0]), 1) if len(stamps) > 2 else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, default=REPO / "suites" / "fetv25.jsonl")
    ap.add_argument("--videos", type=Path, default=None, help="submission folder (default: FETV CogVideo GIFs)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--dimensions", default=None, help="comma-separated (default: all 18)")
    ap.add_argument("--configs", nargs="+", default=["local:1", "local:2", "ray:1", "ray:2"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = None
    videos = args.videos
    if videos is None:
        sys.path.insert(0, str(REPO / "scripts"))
        from fetv_submissions import build

        tmp = tempfile.TemporaryDirectory()
        build(Path(tmp.name), REPO.parent / "shared")
        videos = Path(tmp.name) / "cogvideo"
    dims = tuple(d.strip() for d in args.dimensions.split(",")) if args.dimensions else None
    rows = []
    for config in args.configs:
        engine, workers = config.split(":")
        rows.append(run_config(engine, int(workers), args.suite, videos, args.limit, dims))
        if not args.json:
            print(json.dumps(rows[-1]), file=sys.stderr)
    base = next((r for r in rows if r["engine"] == "local" and r["workers"] == 1), None)
    for r in rows:
        r["vs_local_1"] = round(r["clips_per_min"] / base["clips_per_min"], 2) if base and base["clips_per_min"] else None
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
              "suite": str(args.suite), "videos": str(videos), "dimensions": list(dims) if dims else "all", "runs": rows}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print("| engine | workers | clips | wall (s) | first clip (s) | clips/min | steady clips/min | × local-1 |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['engine']} | {r['workers']} | {r['clips']} | {r['wall_s']} | {r['first_clip_s']} | "
                  f"{r['clips_per_min']} | {r['steady_clips_per_min']} | {r['vs_local_1']} |")
        print(f"\n{os.cpu_count()} CPUs, load average at the end {report['machine']['loadavg_at_end']}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
