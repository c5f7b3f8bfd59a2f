"""Run one clip's operators side by side within a CPU budget, respecting what each needs.

An operator starts once every operator it needs has finished; among those ready, the runner's order decides
(cheapest declared `cost` first, so cheap evidence and the dimensions resting on it arrive early). Each
operator declares how many cores it keeps busy (`threads`); the scheduler starts another operator only while
the cores in use stay within the budget (one operator always runs, whatever it declares). Work runs in
threads: the decoded clip is shared read-only, and the native libraries doing the heavy work here (OpenCV,
TFLite/mediapipe, CTranslate2, ONNX Runtime, numpy) release the GIL while they compute.

Events stream as they happen: operator_start when an operator is started, operator_done when it finishes,
so the UI and CLI keep showing per-operator progress. Cache reads and writes and every change to the
shared evidence happen on the caller's thread; a worker only runs `run_one` on a snapshot of what it needs.
"""
from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterator

from evalverse.operators.base import EvidenceRecord


def schedule(order: list[str], needs: dict[str, list[str]], threads: dict[str, int], budget: int,
             start: Callable[[str], EvidenceRecord | Callable[[], EvidenceRecord]],
             finish: Callable[[str, EvidenceRecord], None]) -> Iterator[tuple[str, str, EvidenceRecord | None]]:
    """Run `order` (dependencies first, preferred order) within `budget` cores.

    `start(name)` is called on this thread when `name` may start: it returns a finished record (cache hit, no
    backend) or a zero-argument callable that computes it (run in a worker thread). `finish(name, record)` is
    called on this thread when it is done. Yields ("start", name, None) and ("done", name, record)."""
    budget = max(1, int(budget))
    done: set[str] = set()
    started: set[str] = set()
    running: dict[Future, str] = {}
    in_use = 0
    with ThreadPoolExecutor(max_workers=budget, thread_name_prefix="evalverse-op") as pool:
        while len(done) < len(order):
            progressed = True
            while progressed:  # start everything that is ready and fits, in order
                progressed = False
                for name in order:
                    if name in started or not all(n in done for n in needs.get(name, ())):
                        continue
                    cores = min(max(1, int(threads.get(name, 1))), budget)
                    if running and in_use + cores > budget:
                        continue  # a smaller ready operator further down may still fit
                    started.add(name)
                    yield "start", name, None
                    work = start(name)
                    if isinstance(work, EvidenceRecord):
                        finish(name, work)
                        done.add(name)
                        yield "done", name, work
                    else:
                        running[pool.submit(work)] = name
                        in_use += cores
                    progressed = True
                    break  # re-scan from the top: what is ready may have changed
            if not running:
                if len(done) < len(order):  # nothing runs and nothing can start: a dependency never finished
                    raise RuntimeError(f"operators cannot be scheduled: {sorted(set(order) - done)}")
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: order.index(running[f])):
                name = running.pop(future)
                in_use -= min(max(1, int(threads.get(name, 1))), budget)
                record = future.result()  # run_one never raises; anything else is a scheduler bug worth seeing
                finish(name, record)
                done.add(name)
                yield "done", name, record
