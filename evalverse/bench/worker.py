"""The unit of work every engine schedules: one clip through `pipeline.diagnose`, away from the database.

A worker (a thread, a process or a Ray actor, possibly on another machine) never opens the DuckDB file: the
driver hands it a `Snapshot` of what the store knows about the clip (its cached evidence and finished runs),
the pipeline runs against a `SnapshotStore` that answers reads from the snapshot and records every write,
and the driver replays the recorded calls into the real store (`replay`). So the cache is reused wherever the
work runs, the driver is the only writer, and a worker killed mid-clip leaves nothing half-written.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from evalverse.bench.submission import WorkItem
from evalverse.config import Settings
from evalverse.errors import EvalVerseError, InputError
from evalverse.store.runs import provenance_hash
from evalverse.store.serialise import canonical_key

READ_PREFIXES = ("find_", "get_", "latest_", "run_results", "resume_")  # reads the snapshot cannot answer: None


class Provisional(int):
    """A run id handed out by a SnapshotStore; `replay` maps it to the real id."""


@dataclass
class Snapshot:
    """What the store holds for one video hash: evidence rows and finished runs with their results."""

    video_hash: str | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)  # operator, version, params_key, record
    runs: list[dict[str, Any]] = field(default_factory=list)  # eval_runs row + "results" (finished runs only)
    video: dict[str, Any] | None = None  # the videos row (path, meta, model, test case)


class SnapshotStore:
    """The part of the Store the pipeline uses: reads from a Snapshot, writes recorded as (method, args, kwargs)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.calls: list[tuple[str, tuple, dict]] = []
        self._next = -1
        self._evidence = {(e["operator"], e["version"], e["params_key"]): e["record"] for e in snapshot.evidence}
        self.read_only = False

    def find_cached_run(self, video_hash, judge_backend, judge_version, settings_key, *, prompt=None, mode=None,
                        operator_versions=None, provenance=None):
        """The same rule as Store.find_cached_run, over the snapshot's finished runs (newest first)."""
        key = settings_key if isinstance(settings_key, str) else canonical_key(settings_key)
        mode = getattr(mode, "value", mode)
        wanted = provenance_hash(provenance)
        for run in self.snapshot.runs:
            if (run["video_hash"], run["judge_backend"], run["judge_version"], run["settings_key"],
                    run.get("provenance_hash")) != (video_hash, judge_backend, judge_version, key, wanted):
                continue
            if run.get("prompt") != prompt or run.get("mode") != mode:
                continue
            if operator_versions is None or run.get("operator_versions") == dict(operator_versions):
                return int(run["id"])
        return None

    def run_results(self, run_id):
        for run in self.snapshot.runs:
            if int(run["id"]) == int(run_id):
                return [dict(r) for r in run["results"]]
        return []

    def get_video(self, content_hash):
        return dict(self.snapshot.video) if self.snapshot.video and content_hash == self.snapshot.video_hash else None

    def find_resumable_run(self, *args, **kwargs):
        """Interrupted runs are not in a snapshot: an interrupted clip is diagnosed again, in full."""
        return None

    def get_evidence(self, video_hash, operator, version, params_key):
        if video_hash != self.snapshot.video_hash:
            return None
        return self._evidence.get((operator, version, params_key))

    def put_evidence(self, video_hash, operator, version, params_key, record):
        if video_hash == self.snapshot.video_hash:
            self._evidence[(operator, version, params_key)] = record
        self.calls.append(("put_evidence", (video_hash, operator, version, params_key, record), {}))

    def start_run(self, *args, **kwargs):
        run_id = Provisional(self._next)
        self._next -= 1
        self.calls.append(("start_run", args, dict(kwargs, _provisional=int(run_id))))
        return run_id

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name.startswith(READ_PREFIXES):
            return lambda *args, **kwargs: None  # a read this snapshot does not hold: "nothing stored"

        def record(*args, **kwargs):  # any other write the pipeline makes (upsert_video, add_dimension_result, ...)
            self.calls.append((name, args, kwargs))

        return record


@dataclass
class Outcome:
    """What a worker returns for one item: the pipeline's report or the error, and the writes to replay."""

    key: str
    report: dict[str, Any] | None = None
    error: str | None = None
    error_kind: str | None = None  # "unreadable" (the clip could not be read), "input", "error"
    calls: list[tuple[str, tuple, dict]] = field(default_factory=list)
    seconds: float = 0.0
    worker: str = ""


TASKS = ("diagnose", "evidence")


@dataclass(frozen=True)
class Job:
    """Everything that decides a result besides the clip: passed to every worker once.

    `task`: "diagnose" (the whole pipeline: evidence, judge, run) or "evidence" (its evidence half only, for the
    suite builder's annotation: the report of `pipeline.evidence_stream` plus each shot's keyframe as JPEG
    bytes with its perceptual hash; `operators` picks the operators, None: all)."""

    judge: str = "evidence"
    dimensions: tuple[str, ...] | None = None
    judge_options: dict[str, Any] = field(default_factory=dict)
    use_cache: bool = True
    task: str = "diagnose"
    operators: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise InputError(f"unknown job task {self.task!r}; choose one of {', '.join(TASKS)}")

    def request_key(self) -> str:
        options = {k: v for k, v in self.judge_options.items() if k != "api_key"}
        if self.task == "evidence":
            return canonical_key({"task": "evidence", "operators": list(self.operators) if self.operators else None})
        return canonical_key({"judge": self.judge, "dimensions": list(self.dimensions) if self.dimensions else None,
                              "judge_options": options})


def _evidence(item: WorkItem, store: "SnapshotStore", settings: Settings, job: Job) -> dict[str, Any]:
    """The evidence half of the pipeline on one clip, plus its shots' keyframes (from the frames it decoded)."""
    from evalverse.media.keyframes import keyframe_images
    from evalverse.pipeline import evidence_stream

    names = list(dict.fromkeys(["shots", *job.operators])) if job.operators else None
    held: dict[str, Any] = {}
    report: dict[str, Any] = {}
    for event in evidence_stream(item.path, settings, names, store=store, use_cache=job.use_cache,
                                 on_decoded=lambda video: held.__setitem__("video", video)):
        if event["type"] == "report":
            report = event["report"]
    report["content_hash"] = report["video"]["content_hash"]
    report["keyframes"] = keyframe_images(held["video"], report["shots"])
    return report


def evaluate(item: WorkItem, snapshot: Snapshot, settings: Settings, job: Job, worker: str = "") -> Outcome:
    """Run the pipeline (or its evidence half, for an evidence job) on one item; never raises (a failure is the
    outcome's error)."""
    from evalverse.pipeline import diagnose

    store = SnapshotStore(snapshot)
    started = time.perf_counter()
    out = Outcome(key=item.key, worker=worker)
    try:
        if job.task == "evidence":
            out.report = _evidence(item, store, settings, job)
        else:
            out.report = diagnose(item.path, settings, prompt=item.prompt, reference=item.reference, mode=item.mode,
                                  judge=job.judge, dimensions=list(job.dimensions) if job.dimensions else None,
                                  store=store, use_cache=job.use_cache, judge_options=dict(job.judge_options))
    except InputError as exc:
        out.error, out.error_kind = str(exc), ("unreadable" if _is_read_problem(exc, item) else "input")
    except EvalVerseError as exc:
        out.error, out.error_kind = str(exc), "error"
    except Exception as exc:  # noqa: BLE001 - one failing case is recorded, never fatal
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
        out.error, out.error_kind = f"{type(exc).__name__}: {exc}{where}", "error"
    out.calls = store.calls
    out.seconds = time.perf_counter() - started
    return out


def _is_read_problem(exc: InputError, item: WorkItem) -> bool:
    """An InputError about the clip itself (probe/decode) rather than the reference or a parameter."""
    text = str(exc)
    return item.path.name in text and not (item.reference is not None and str(item.reference) in text)


def replay(store: Any, calls: list[tuple[str, tuple, dict]]) -> dict[int, int]:
    """Apply recorded writes to the real store in their order; returns {provisional id: real run id}."""
    ids: dict[int, int] = {}

    def real(value):
        return ids.get(int(value), value) if isinstance(value, Provisional) else value

    for name, args, kwargs in calls:
        kwargs = dict(kwargs)
        provisional = kwargs.pop("_provisional", None)
        result = getattr(store, name)(*[real(a) for a in args], **{k: real(v) for k, v in kwargs.items()})
        if name == "start_run" and provisional is not None:
            ids[provisional] = int(result)
    return ids


def snapshot_for(store: Any, video_hash: str) -> Snapshot:
    """The driver side: read the snapshot a worker needs for this hash."""
    return Snapshot(video_hash=video_hash, evidence=store.bench.evidence_rows(video_hash),
                    runs=store.bench.finished_runs(video_hash), video=store.get_video(video_hash))
