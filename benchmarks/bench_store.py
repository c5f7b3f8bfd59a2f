"""Results-store costs: what one connection costs (the store opens one per operation), single operations,
the run queries at scale (list a page, count, prune, cache lookup) on a file with N dimension results, and the
Runs views at that scale (search a page, filter, one dimension across runs with keyframes, reopen a run,
`evalverse runs list --json` in this process and as a new process).

    .venv/bin/python benchmarks/bench_store.py                 # 100k results (about 5.6k runs of 18 dimensions)
    .venv/bin/python benchmarks/bench_store.py --results 1000000 --json
    .venv/bin/python benchmarks/bench_store.py --only-browse   # just the Runs views (fill + browse steps)

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


JUDGES = ("evidence", "openai", "transformers")
THUMB = "data:image/jpeg;base64," + "A" * 4000  # the size of a 160 px keyframe thumbnail (3-6 kB)


def fill(path: Path, results: int) -> int:
    """Bulk-load `results` dimension results (runs of 18 taxonomy dimensions, a 400-character rationale each, every
    50th run left interrupted, every 7th result gated) straight through SQL, the way a long-used store looks: 2,000
    clips with paths and shots evidence (4 keyframe thumbnails each), prompts, three judges."""
    from evalverse.taxonomy import load_taxonomy

    dims = [d.id for d in load_taxonomy().dimensions]
    runs = results // DIMS
    Store.open(path).close()  # schema
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO eval_runs (id, video_hash, judge_backend, judge_version, operator_versions, settings, settings_key, "
        "prompt, mode, started_at, finished_at, provenance_hash, owner_host, owner_pid, heartbeat_at, interrupted_at) "
        "SELECT i, 'v' || (i % 2000), (?::VARCHAR[])[1 + i % 3], '1.0', '{}', '{}', 'k' || (i % 7), "
        "'a generated clip number ' || i || ' of a chef plating a dish', 't2v', "
        "TIMESTAMP '2026-01-01' + to_seconds(i * 60), "
        "CASE WHEN i % 50 = 0 THEN NULL ELSE TIMESTAMP '2026-01-01' + to_seconds(i * 60 + 30) END, "
        "'p' || (i % 3), 'bench-host', 1, TIMESTAMP '2026-01-01' + to_seconds(i * 60), "
        "CASE WHEN i % 50 = 0 THEN TIMESTAMP '2026-01-02' ELSE NULL END FROM range(1, ?) t(i)",
        [list(JUDGES), runs + 1],
    )
    con.execute(f"SELECT setval('eval_run_id_seq', {runs + 1})")
    con.execute(
        "INSERT INTO dimension_results (run_id, seq, dimension, status, score, gate_reason, rationale, answers, "
        "evidence_used, backend, backend_version, seconds, result, provenance_hash) "
        f"SELECT 1 + i // {DIMS}, 1 + i % {DIMS}, (?::VARCHAR[])[1 + i % {DIMS}], "
        "CASE WHEN i % 7 = 0 THEN 'gated' ELSE 'scored' END, CASE WHEN i % 7 = 0 THEN NULL ELSE 1 + (i * 7919 % 400) / 100.0 END, "
        "NULL, repeat('w', 400), '[]', '[]', 'evidence', '', 0.1, "
        "'{\"dimension\": \"d\", \"status\": \"scored\", \"backend\": \"evidence\", \"rationale\": \"' || repeat('w', 400) || '\"}', 'p' "
        f"FROM range(0, {runs * DIMS}) t(i)",
        [dims],
    )
    con.execute("INSERT INTO videos (content_hash, path, meta, added_at, updated_at) SELECT 'v' || i, "
                "'/media/clips/clip_' || i || '.mp4', '{}', TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01' "
                "FROM range(0, 2000) t(i)")
    con.execute("INSERT INTO evidence (video_hash, operator, version, params_key, record, created_at) SELECT 'v' || i, "
                "'shots', '1.2', 'k', json_object('operator', 'shots', 'results', json_object('shots', "
                "[json_object('index', j, 'start', j * 1.5, 'end', j * 1.5 + 1.5, 'thumbnail', ?) "
                "FOR j IN range(4)])), TIMESTAMP '2026-01-01' FROM range(0, 2000) t(i)", [THUMB])
    con.close()
    return runs


def browse_steps(path: Path, store: Store, runs: int, n: int, steps: dict) -> None:
    """The Runs views: what the Runs tab and `evalverse runs list --json` ask of the store, and the whole view."""
    import subprocess

    from typer.testing import CliRunner

    from evalverse.cli import app
    from evalverse.config import Settings
    from evalverse.replay import stored_report
    from evalverse.taxonomy import load_taxonomy
    from evalverse.ui.context import AppContext
    from evalverse.ui.runs_tab import listing

    tax = load_taxonomy()
    ctx = AppContext(settings=Settings(data_dir=path.parent, db_path=path, models_dir=path.parent / "m"), store=store,
                     taxonomy=tax)
    mid = runs // 2
    for mode, linger in (("each call opens the file", 0.0), ("calls in a burst, 50 ms pin", LINGER_S)):
        store._db.linger_s = linger
        time.sleep(0.2)
        tag = f" [{mode}]"
        steps["search_runs (first page of 20)" + tag] = timed(lambda: store.search_runs(limit=20), n)
        steps["search_runs (text search, 20)" + tag] = timed(lambda: store.search_runs(query="chef plating", limit=20), n)
        steps["search_runs (judge + interrupted, 20)" + tag] = timed(
            lambda: store.search_runs(judge="openai", status="interrupted", limit=20), n)
        steps["search_runs (page deep in the table)" + tag] = timed(lambda: store.search_runs(limit=20, before_id=mid), n)
        steps["dimension_page (lighting by score, 20)" + tag] = timed(lambda: store.dimension_page("lighting", limit=20), n)
        steps["Runs view: list page as HTML (listing)" + tag] = timed(lambda: listing(ctx, {}), n)
        steps["Runs view: one dimension with keyframes (listing)" + tag] = timed(
            lambda: listing(ctx, {"dimension": "lighting"}), n)
        steps["run_facets (filter choices)" + tag] = timed(store.run_facets, n)
    store._db.linger_s = LINGER_S
    steps["reopen one run from the store (stored_report)"] = timed(lambda: stored_report(store, mid, tax), max(5, n // 4))
    store.close()  # the CLI opens the file itself, as it would in another process
    cli = CliRunner()
    args = ["runs", "list", "--json", "--db", str(path)]
    steps["`evalverse runs list --json` in this process (open + page + JSON)"] = timed(lambda: cli.invoke(app, args), n)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}  # this checkout's evalverse
    steps["`evalverse runs list --json` as a new process (Python start and imports included)"] = timed(
        lambda: subprocess.run([sys.executable, "-m", "evalverse.cli", *args], capture_output=True, check=True, env=env), 5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--only-browse", action="store_true", help="fill, then time only the Runs views")
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
        if args.only_browse:
            browse_steps(path, store, runs, n, steps)
            _print(report, args)
            return
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
        browse_steps(path, store, runs, n, steps)
    _print(report, args)


def _print(report: dict, args: argparse.Namespace) -> None:
    steps = report["steps"]
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
