"""Latency per clip of the reward API (`evalverse.reward`): cold call, warm Scorer, cached answer.

    .venv/bin/python benchmarks/bench_reward.py [--clips a.mp4 b.mp4 ...] [--dimensions visual_quality,...] [--json]

Default clips: the licence-clean samples in assets/samples. "cold" is the first `reward.score` in a fresh
process (imports and model loading included); "warm" scores the same clips again in the same Scorer with the
cache off (every operator runs again); "cached" with the cache on (same clips, same settings).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="+", type=Path, default=None)
    ap.add_argument("--dimensions", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    clips = args.clips or sorted(p for p in (REPO / "assets" / "samples").iterdir() if p.suffix in (".mp4", ".mpg"))
    dims = args.dimensions.split(",") if args.dimensions else None
    from evalverse import reward
    from evalverse.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env().model_copy(update={"data_dir": Path(tmp)})
        t = time.perf_counter()
        with reward.Scorer(settings, use_cache=False) as scorer:
            first = scorer.score(clips[:1], dimensions=dims)
            cold = time.perf_counter() - t
            t = time.perf_counter()
            warm = scorer.score(clips, dimensions=dims)
            warm_s = time.perf_counter() - t
        with reward.Scorer(settings) as scorer:
            scorer.score(clips, dimensions=dims)
            t = time.perf_counter()
            cached = scorer.score(clips, dimensions=dims)
            cached_s = time.perf_counter() - t
    report = {
        "cpus": os.cpu_count(), "dimensions": dims or "all 18", "cold_first_clip_s": round(cold, 2),
        "warm_per_clip_s": round(warm_s / len(clips), 2), "cached_per_clip_s": round(cached_s / len(clips), 3),
        "clips": [{"clip": Path(r["video"]).name, "seconds": r["seconds"], "n_scored": r["n_scored"],
                   "overall": r["overall"], "error": r["error"]} for r in warm],
        "all_cached": all(r["cached"] for r in cached), "first_ok": first[0]["error"] is None,
    }
    print(json.dumps(report, indent=1) if args.json else "\n".join(f"{k}: {v}" for k, v in report.items()))


if __name__ == "__main__":
    main()
