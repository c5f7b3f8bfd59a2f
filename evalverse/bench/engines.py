"""Engines schedule `worker.evaluate` over many items; they never change what is computed.

- `local`, 1 worker: in this process, one item after the other.
- `local`, N workers: N spawned processes that live for the whole run (imports and loaded models stay warm).
- `ray`: N Ray actors (one CPU each) that live for the whole run, on a local Ray runtime by default or on the
  cluster at `address`. On a cluster the nodes need EvalVerse installed (the same image) and the videos at the
  same paths (shared storage); the package code itself is shipped with the job.

`map(tasks)` pulls (item, snapshot) pairs lazily, keeps a few per worker in flight, and yields each `Outcome`
as soon as it is done (completion order).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Iterator

from evalverse.bench.submission import WorkItem
from evalverse.bench.worker import Job, Outcome, Snapshot, evaluate
from evalverse.config import Settings
from evalverse.errors import InputError, UnavailableError

ENGINES = ("local", "ray")
IN_FLIGHT_PER_WORKER = 2
PASS_ENV = ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "YOLO_OFFLINE", "YOLO_CONFIG_DIR", "GRADIO_ANALYTICS_ENABLED")

Task = tuple[WorkItem, Snapshot]


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _init_worker(threads: int) -> None:
    """Spawned process start: share the cores between workers instead of each taking all of them."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))


def _evaluate_in_process(item: WorkItem, snapshot: Snapshot, settings: Settings, job: Job) -> Outcome:
    return evaluate(item, snapshot, settings, job, worker=f"pid{os.getpid()}")


class LocalEngine:
    name = "local"

    def __init__(self, settings: Settings, job: Job, workers: int = 1) -> None:
        if workers < 1:
            raise InputError(f"--workers must be at least 1, not {workers}")
        self.settings, self.job, self.workers = settings, job, workers
        self._pool = None

    def map(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        if self.workers == 1:
            for item, snap in tasks:
                yield evaluate(item, snap, self.settings, self.job, worker="main")
            return
        import multiprocessing as mp
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        from concurrent.futures.process import BrokenProcessPool

        def start():
            return ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                       initializer=_init_worker, initargs=(threads_per_worker(self.workers),))

        if self._pool is None:
            self._pool = start()
        it, pending = iter(tasks), {}
        limit = self.workers * IN_FLIGHT_PER_WORKER
        while True:
            while len(pending) < limit:
                task = next(it, None)
                if task is None:
                    break
                pending[self._pool.submit(_evaluate_in_process, task[0], task[1], self.settings, self.job)] = task[0].key
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                key = pending.pop(fut)
                try:
                    yield fut.result()
                except BrokenProcessPool as exc:  # a worker died (killed, out of memory, a crash in native code)
                    broken = True
                    yield Outcome(key=key, error=f"the worker process died while this clip was in flight ({exc})",
                                  error_kind="error")
            if broken:  # everything still in flight went down with it: report those, start fresh workers
                for fut, key in pending.items():
                    yield Outcome(key=key, error="the worker process died while this clip was in flight", error_kind="error")
                pending.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = start()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class RayEngine:
    name = "ray"

    def __init__(self, settings: Settings, job: Job, workers: int = 1, address: str | None = None) -> None:
        if workers < 1:
            raise InputError(f"--workers must be at least 1, not {workers}")
        try:
            import ray
        except ImportError:
            raise UnavailableError("--engine ray needs Ray: pip install -c requirements/constraints.txt -e '.[ray]' "
                                   "(or use --engine local)") from None
        self.ray, self.settings, self.job, self.workers, self.address = ray, settings, job, workers, address
        self._started = False
        env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
        runtime_env: dict[str, Any] = {"env_vars": env}
        if address:  # a cluster: ship this checkout's package so every node runs the same code
            runtime_env["py_modules"] = [str(Path(__file__).resolve().parents[1])]
        if not ray.is_initialized():
            try:
                if address:
                    ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
                else:
                    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env)
            except Exception as exc:  # noqa: BLE001 - a cluster that cannot be reached is the user's to fix
                where = f"the Ray cluster at {address}" if address else "a local Ray runtime"
                raise UnavailableError(f"could not start {where}: {type(exc).__name__}: {exc}") from None
            self._started = True
        self._actor = ray.remote(num_cpus=1)(_Actor)
        self.actors = [self._actor.remote(settings, job, i) for i in range(workers)]

    def map(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        ray = self.ray
        it = iter(tasks)
        load = {i: 0 for i in range(len(self.actors))}
        pending: dict[Any, tuple[int, str, Any]] = {}
        while True:
            for i in sorted(load, key=load.get):
                while load[i] < IN_FLIGHT_PER_WORKER:
                    task = next(it, None)
                    if task is None:
                        break
                    pending[self.actors[i].run.remote(task[0], task[1])] = (i, task[0].key, self.actors[i])
                    load[i] += 1
            if not pending:
                return
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                i, key, actor = pending.pop(ref)
                load[i] -= 1
                try:
                    yield ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - an actor that died: its clip fails, a new actor takes over
                    yield Outcome(key=key, error=f"the Ray worker failed: {type(exc).__name__}: {str(exc).splitlines()[0]}",
                                  error_kind="error")
                    if isinstance(exc, ray.exceptions.RayActorError) and self.actors[i] is actor:
                        self.actors[i] = self._actor.remote(self.settings, self.job, i)

    def close(self) -> None:
        for a in getattr(self, "actors", []):
            self.ray.kill(a)
        self.actors = []
        if self._started:
            self.ray.shutdown()
            self._started = False


class _Actor:
    """A Ray actor: one long-lived worker process; the pipeline's imports and models stay loaded in it."""

    def __init__(self, settings: Settings, job: Job, index: int) -> None:
        self.settings, self.job, self.name = settings, job, f"ray-actor-{index}"

    def run(self, item: WorkItem, snapshot: Snapshot) -> Outcome:
        return evaluate(item, snapshot, self.settings, self.job, worker=self.name)


def make_engine(name: str, settings: Settings, job: Job, workers: int = 1, address: str | None = None):
    if name not in ENGINES:
        raise InputError(f"--engine must be one of {', '.join(ENGINES)}, not {name!r}")
    if address and name != "ray":
        raise InputError("--ray-address needs --engine ray")
    if name == "ray":
        return RayEngine(settings, job, workers, address)
    return LocalEngine(settings, job, workers)
