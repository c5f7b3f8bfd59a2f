"""Active (coverage floor + Bradley–Terry interval overlap) against uniform random scheduling of pairwise
annotations, on simulated annotators with known noisy Bradley–Terry preferences (evalverse.humans.simulation).

    PYTHONPATH=. .venv/bin/python benchmarks/humans_scheduler.py                # 20 worlds, default campaign
    PYTHONPATH=. .venv/bin/python benchmarks/humans_scheduler.py --seeds 50 --json --out sched.json

Prints, per scheduler, the median and mean votes until the top-k stays unchanged for `patience` checks
(and how often that stable top-k was the true one), and until the top-k is right for good.
A run that never gets there counts as its whole budget.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalverse.humans.simulation import SimConfig, compare  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20, help="number of simulated worlds (seeds 0..N-1)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    for f in fields(SimConfig):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    args = parser.parse_args(argv)
    cfg = SimConfig(**{f.name: getattr(args, f.name) for f in fields(SimConfig)})
    start = time.perf_counter()
    report = compare(cfg, range(args.seeds))
    report["seconds"] = round(time.perf_counter() - start, 1)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{args.seeds} worlds: {cfg.n_models} models, {cfg.n_cases} cases x all pairs, {cfg.per_item} annotations "
          f"per item, {cfg.n_annotators} annotators (noise {cfg.annotator_noise}), ties {cfg.tie_rate}, top-{cfg.top_k}, "
          f"check every {cfg.check_every} votes, stable = {cfg.patience} checks unchanged, budget {cfg.budget}")
    print(f"{'scheduler':<10}{'votes to stable (median / mean)':>34}{'stable top-k right':>20}{'votes to right for good (median / mean)':>42}")
    for name, s in report["schedulers"].items():
        print(f"{name:<10}{s['median_votes_to_stable']:>18.0f} / {s['mean_votes_to_stable']:<13.1f}"
              f"{s['stable_top_k_correct']:>12d} of {args.seeds:<5d}"
              f"{s['median_votes_to_correct']:>22.0f} / {s['mean_votes_to_correct']:<17.1f}")
    print(f"({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
