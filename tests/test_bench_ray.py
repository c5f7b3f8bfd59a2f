"""The Ray engine does the same work as the local one: same items, same results (local Ray runtime, 2 CPUs)."""
from __future__ import annotations

import pytest

from bench_support import DIMS, make_clips, submission, write_suite
from evalverse.bench.runner import run_bench
from evalverse.bench.submission import scan_submission
from evalverse.bench.suite import load_suite
from evalverse.bench.worker import Job
from evalverse.store import Store

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason="Ray is the optional extra `.[ray]` (the README's install includes it)")


def _results(store):
    items = store.bench.items().sort_values(["case_id", "seed"])
    out = {}
    for row in items.itertuples():
        res = store.run_results(int(row.run_id))
        out[(row.case_id, row.seed, row.video_hash)] = [(r["dimension"], r["status"], r["score"], r["gate_reason"]) for r in res]
    return out


def test_ray_results_equal_the_local_engine(tmp_path, settings):
    suite = load_suite(write_suite(tmp_path / "s.jsonl", 4))
    folder = submission(tmp_path / "sub", make_clips(tmp_path / "clips", 2, 0) + make_clips(tmp_path / "clips", 2, 2))
    job = Job(dimensions=tuple(DIMS.split(",")))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with Store.memory() as local, Store.memory() as on_ray:
            a = run_bench(suite, scan_submission(folder, suite, "m"), local, settings, job, engine="local")
            b = run_bench(suite, scan_submission(folder, suite, "m"), on_ray, settings, job, engine="ray", workers=2)
            assert a.computed == b.computed == 4 and not a.failed and not b.failed
            assert _results(local) == _results(on_ray)
            assert local.counts()["evidence"] == on_ray.counts()["evidence"]
            workers = {w for w in on_ray.bench.items().engine}
            assert workers == {"ray"}
    finally:
        ray.shutdown()
