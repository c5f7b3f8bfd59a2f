"""Results-store costs: what one connection costs (the store opens one per operation), single operations,
and the run queries at scale (list a page, count, prune, cache lookup) on a file with N dimension results.

    .venv/bin/python benchmarks/bench_store.py                 # 100k results (about 5.6k runs of 18 dimensions)
    .venv/bin/python benchmarks/bench_store.py --results 1000000 --json

Prints median and 90th percentile milliseconds per step. Wall-clock times: run it on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalverse.store import Store  # noqa: E402
from evalverse.store.base import LINGER_S  # noqa: E402

DIMS = 18


def timed(fn, n: int) -> dict[str, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return {"median_ms": round(statistics.median(times), 2), "p90_ms": round(times[int(0.9 * (n - 1))], 2), "n": n}


def fill(path: Path, results: int) -> int:
    """Bulk-load `results` dimension results (runs of 18, a 400-character rationale each, every 50th run left
    interrupted) straight through SQL, the way a long-used store looks."""
    runs = results // DIMS
    Store.open(path).close()  # schema
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO eval_runs (id, video_hash, judge_backend, judge_version, operator_versions, settings, settings_key, "
        "prompt, mode, started_at, finished_at, provenance_hash, owner_host, owner_pid, heartbeat_at, interrupted_at) "
        "SELECT i, 'v' || (i % 2000), 'evidence', '1.0', '{}', '{}', 'k' || (i % 7), NULL, 't2v', "
        "TIMESTAMP '2026-01-01' + to_seconds(i * 60), "
        "CASE WHEN i % 50 = 0 THEN NULL ELSE TIMESTAMP '2026-01-01' + to_seconds(i * 60 + 30) END, "
        "'p' || (i % 3), 'bench-host', 1, TIMESTAMP '2026-01-01' + to_seconds(i * 60), "
        "CASE WHEN i % 50 = 0 THEN TIMESTAMP '2026-01-02' ELSE NULL END FROM range(1, ?) t(i)",
        [runs + 1],
    )
    con.execute(f"SELECT setval('eval_run_id_seq', {runs + 1})")
    con.execute(
        "INSERT INTO dimension_results (run_id, seq, dimension, status, score, gate_reason, rationale, answers, "
        "evidence_used, backend, backend_version, seconds, result, provenance_hash) "
        f"SELECT 1 + i // {DIMS}, 1 + i % {DIMS}, 'd' || (i % {DIMS}), 'scored', 3.0, NULL, repeat('w', 400), '[]', '[]', "
        "'evidence', '', 0.1, '{\"dimension\": \"d\", \"status\": \"scored\", \"backend\": \"evidence\"}', 'p' "
        f"FROM range(0, {runs * DIMS}) t(i)"
    )
    con.close()
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    n = args.repeat
    report: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__},
                    "results": args.results, "steps": {}}
    steps = report["steps"]
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.duckdb"
        Store.open(empty).close()
        steps["connect+close, empty file"] = timed(lambda: duckdb.connect(str(empty)).close(), n)
        path = Path(tmp) / "big.duckdb"
        t = time.perf_counter()
        runs = fill(path, args.results)
        report["fill_s"] = round(time.perf_counter() - t, 1)
        report["runs"] = runs
        report["file_mb"] = round(path.stat().st_size / 1e6, 1)
        steps["connect+close, filled file"] = timed(lambda: duckdb.connect(str(path)).close(), n)
        t = time.perf_counter()
        store = Store.open(path)
        steps["Store.open (migrations checked, interrupted runs swept)"] = {"median_ms": round((time.perf_counter() - t) * 1e3, 2), "n": 1}
        mid = runs // 2
        for mode, linger in (("each call opens the file", 0.0), ("calls in a burst, 50 ms pin", LINGER_S)):
            store._db.linger_s = linger
            time.sleep(0.2)  # the pin of the previous calls has gone
            tag = f" [{mode}]"
            steps["run_results (one run)" + tag] = timed(lambda: store.run_results(mid), n)
            steps["get_evidence (miss)" + tag] = timed(lambda: store.get_evidence("v1", "faces", "1", "k"), n)
            steps["find_cached_run" + tag] = timed(
                lambda: store.find_cached_run("v3", "evidence", "1.0", "k3", mode="t2v", provenance="p0"), n)
            steps["list_runs (first page of 50)" + tag] = timed(lambda: store.list_runs(limit=50), n)
            steps["list_runs (page deep in the table)" + tag] = timed(lambda: store.list_runs(limit=50, before_id=mid), n)
            steps["list_runs (interrupted only)" + tag] = timed(lambda: store.list_runs(status="interrupted", limit=50), n)
            steps["run_counts" + tag] = timed(store.run_counts, n)
            steps["put_evidence (one write transaction)" + tag] = timed(
                lambda: store.put_evidence("v1", "faces", "1", "k", {"x": 1}), n)
            rid = store.start_run("vb", "evidence", "1.0", {}, {})
            steps["add_dimension_result" + tag] = timed(lambda: store.add_dimension_result(
                rid, {"dimension": "lens", "status": "scored", "score": 3.0, "backend": "evidence"}), n)
        steps["prune_runs --dry-run"] = timed(lambda: store.prune_runs(0, dry_run=True), 5)
        t = time.perf_counter()
        pruned = store.prune_runs(0)
        steps[f"prune_runs (deletes {len(pruned)} runs and their results)"] = {"median_ms": round((time.perf_counter() - t) * 1e3, 2), "n": 1}
        from evalverse.leaderboard.data import load_seed

        t = time.perf_counter()
        load_seed(store)
        steps["leaderboard seed import (one transaction)"] = {"median_ms": round((time.perf_counter() - t) * 1e3, 2), "n": 1}
        store.close()
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"{args.results} results in {report['runs']} runs, {report['file_mb']} MB, filled in {report['fill_s']} s; "
          f"{report['machine']}")
    for name, s in steps.items():
        p90 = f"  p90 {s['p90_ms']:8.2f}" if "p90_ms" in s else ""
        print(f"{name:<80} median {s['median_ms']:8.2f} ms{p90}")


if __name__ == "__main__":
    main()
