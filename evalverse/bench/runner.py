"""`bench run`: every clip of a submission through the pipeline, scheduled by an engine, resumable.

The driver (this module, in the CLI's process) is the only writer of the store. For each item it hashes the
file, skips it when the store already has it done with the same file and request, else hands the item and a
snapshot of the store's cache for that file to the engine; each outcome's writes are replayed into the store
and the item is recorded last. A run killed at any point leaves complete items recorded and nothing else
that counts: started again, it does the rest (an item killed between its writes is found in the run cache,
or computed again), and an item's row is one row whatever happened before.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

from evalverse.bench.engines import make_engine
from evalverse.bench.submission import Submission, WorkItem
from evalverse.bench.suite import Suite
from evalverse.bench.worker import Job, Outcome, Snapshot, replay, snapshot_for
from evalverse.config import Settings


@dataclass
class BenchSummary:
    suite: str
    model: str
    judge: str
    engine: str
    workers: int
    items: int  # clips in the submission that match a case
    already_done: int = 0  # done in an earlier invocation with the same file and request
    evaluated: int = 0  # handled in this invocation (done or failed)
    computed: int = 0  # of those, diagnosed now (not served from the run cache)
    cached: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # case, seed, kind, error
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    judge_version: str | None = None
    seconds: float = 0.0

    @property
    def unreadable(self) -> list[str]:
        return [f["file"] for f in self.failed if f["kind"] == "unreadable"]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["unreadable"] = self.unreadable
        out["done"] = self.already_done + self.evaluated - len(self.failed)
        minutes = self.seconds / 60
        out["clips_per_minute"] = round(self.evaluated / minutes, 2) if minutes > 0 and self.evaluated else None
        out["seconds_per_clip"] = round(self.seconds / self.evaluated, 3) if self.evaluated else None
        out["seconds"] = round(self.seconds, 3)
        return out


def _hash(path) -> tuple[str | None, str | None]:
    from evalverse.media.hashing import sha256_file

    try:
        return sha256_file(path), None
    except OSError as exc:
        return None, f"{path.name}: cannot be read ({exc.strerror or exc})"


def fingerprint(settings: Settings, job: Job, check: bool = True) -> Callable[[WorkItem, str | None], str]:
    """The request key of an item: the provenance hash the pipeline will give its diagnosis (data files,
    operators and their parameters, judge, dimensions, the case's prompt, mode and reference). A done item is
    skipped only while that hash is unchanged, so a changed threshold or operator re-runs it. `check` also asks
    the judge whether it can run here, so an unusable judge is one error up front rather than one per clip."""
    from evalverse.judge.protocol import make_judge
    from evalverse.pipeline import provenance_for, resolve_dimensions
    from evalverse.taxonomy import load_taxonomy

    backend = make_judge(job.judge, settings, **job.judge_options)
    if check:
        backend.check_available()
    tax = load_taxonomy()
    dims = resolve_dimensions(tax, list(job.dimensions) if job.dimensions else None)

    def key(item: WorkItem, reference_sha: str | None) -> str:
        return provenance_for(settings, backend, tax, dims, prompt=item.prompt, mode=item.mode,
                              judge_options=job.judge_options, reference_sha256=reference_sha)["hash"]

    return key


def run_bench(suite: Suite, submission: Submission, store: Any, settings: Settings, job: Job, *, engine: str = "local",
              workers: int = 1, ray_address: str | None = None,
              on_item: Callable[[dict[str, Any]], None] | None = None) -> BenchSummary:
    started = time.perf_counter()
    model = submission.model
    summary = BenchSummary(suite.name, model, job.judge, engine, workers, len(submission.items),
                           missing=list(submission.missing), extra=list(submission.extra),
                           duplicates=list(submission.duplicates))
    case_tests = store.bench.register_suite(suite)
    if submission.info is not None:
        store.upsert_model(**submission.info.model_dump())
    elif model not in {m["name"] for m in store.models()}:
        store.upsert_model(model)
    request_key = fingerprint(settings, job, check=(engine == "local"))  # a cluster's workers may have what we lack
    ref_hashes: dict[str, str | None] = {}
    done = store.bench.done_items(suite.name, model, job.judge)
    base = {"suite": suite.name, "model": model, "judge": job.judge, "engine": engine}
    hashes: dict[str, str] = {}

    def request_of(item: WorkItem) -> str:
        ref = str(item.reference) if item.reference else None
        if ref is not None and ref not in ref_hashes:
            ref_hashes[ref] = _hash(item.reference)[0]
        return request_key(item, ref_hashes.get(ref) if ref else None)

    def finish(item: WorkItem, row: dict[str, Any]) -> None:
        store.bench.record_item({**base, "case_id": item.case_id, "seed": item.seed, "path": str(item.path),
                                 "request_key": request_of(item), **row})
        event = {"type": "item", "case": item.case_id, "seed": item.seed, **{k: row.get(k) for k in (
            "status", "cached", "run_id", "error_kind", "error", "seconds")}}
        if on_item is not None:
            on_item(event)

    def fail(item: WorkItem, kind: str, error: str, seconds: float = 0.0, video_hash: str | None = None) -> None:
        summary.evaluated += 1
        summary.failed.append({"case": item.case_id, "seed": item.seed, "file": item.path.name, "kind": kind, "error": error})
        finish(item, {"status": "error", "error_kind": kind, "error": error, "seconds": seconds, "video_hash": video_hash})

    def tasks() -> Iterator[tuple[WorkItem, Snapshot]]:
        for item in submission.items:
            digest, problem = _hash(item.path)
            if digest is None:
                fail(item, "unreadable", problem or "cannot be read")
                continue
            prior = done.get(item.key)
            if prior and prior["video_hash"] == digest and prior["request_key"] == request_of(item):
                summary.already_done += 1
                continue
            hashes[item.key] = digest
            yield item, snapshot_for(store, digest)

    by_key = {i.key: i for i in submission.items}
    runner = make_engine(engine, settings, job, workers, ray_address)
    try:
        for outcome in runner.map(tasks()):
            item = by_key[outcome.key]
            _record(store, item, outcome, case_tests.get(item.case_id), model, summary, finish, fail,
                    hashes.get(item.key))
    finally:
        runner.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _record(store, item: WorkItem, outcome: Outcome, test_case_id, model, summary: BenchSummary, finish, fail,
            digest) -> None:
    if outcome.report is None:
        fail(item, outcome.error_kind or "error", outcome.error or "failed without a message", outcome.seconds, digest)
        return
    ids = replay(store, outcome.calls)
    report = outcome.report
    run_id = ids.get(int(report["run_id"]), int(report["run_id"])) if report.get("run_id") is not None else None
    store.upsert_video(report["content_hash"], str(item.path), report["meta"], model=model, test_case_id=test_case_id)
    summary.evaluated += 1
    summary.cached += int(bool(report.get("cached")))
    summary.computed += int(not report.get("cached"))
    summary.judge_version = report.get("judge_version") or summary.judge_version
    finish(item, {"status": "done", "run_id": run_id, "video_hash": report["content_hash"], "cached": bool(report.get("cached")),
                  "judge_version": report.get("judge_version"), "seconds": outcome.seconds})
