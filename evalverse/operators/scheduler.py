"""Run one clip's operators side by side within a CPU budget, respecting what each needs.

An operator starts once every operator it needs has finished; among those ready, the runner's order decides
(cheapest declared `cost` first, so cheap evidence and the dimensions resting on it arrive early), with one
exception when `chains` and `costs` are given (each operator's declared cost, and that plus the longest chain
of operators waiting for it): the ready operator starting the longest chain goes first once that chain has no
slack left, that is once the work not yet done, spread over the budget, would no longer outlast it (and
nothing on a chain as long is running). So cheap operators still go first, and the longest chain (decode →
shots → faces → lipsync here) is started just in time not to lengthen the run. Simulated with the measured
CPU seconds of talk10 at 2 cores: cheapest-first alone ends at 2.94 s (first card 0.40 s, mean card
1.98 s), longest-chain-first at 2.31 s (first card 1.07 s), this rule at 2.39 s (first card 0.40 s, mean
card 1.75 s); the lower bound is 2.27 s.

Each operator declares how many cores it keeps busy (`threads`); the scheduler starts another operator only while
the cores in use stay within the budget (one operator always runs, whatever it declares). Work runs in
threads: the decoded clip is shared read-only, and the native libraries doing the heavy work here (OpenCV,
TFLite/mediapipe, CTranslate2, ONNX Runtime, numpy) release the GIL while they compute.

Events stream as they happen: operator_start when an operator is started, operator_done when it finishes,
so the UI and CLI keep showing per-operator progress. Cache reads and writes and every change to the
shared evidence happen on the caller's thread; a worker only runs `run_one` on a snapshot of what it needs.
"""
from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterator

from evalverse.operators.base import EvidenceRecord


def schedule(order: list[str], needs: dict[str, list[str]], threads: dict[str, int], budget: int,
             start: Callable[[str], EvidenceRecord | Callable[[], EvidenceRecord]],
             finish: Callable[[str, EvidenceRecord], None], chains: dict[str, float] | None = None,
             costs: dict[str, float] | None = None) -> Iterator[tuple[str, str, EvidenceRecord | None]]:
    """Run `order` (dependencies first, preferred order) within `budget` cores.

    `start(name)` is called on this thread when `name` may start: it returns a finished record (cache hit, no
    backend) or a zero-argument callable that computes it (run in a worker thread). `finish(name, record)` is
    called on this thread when it is done. `chains` and `costs`: the length of the longest chain each operator
    starts and each one's cost (see the module docstring); without them `order` alone decides. Yields
    ("start", name, None) and ("done", name, record)."""
    budget = max(1, int(budget))
    done: set[str] = set()
    started: set[str] = set()
    running: dict[Future, str] = {}
    in_use = 0
    began: dict[str, float] = {}  # running operators: when each started
    with ThreadPoolExecutor(max_workers=budget, thread_name_prefix="evalverse-op") as pool:
        while len(done) < len(order):
            progressed = True
            while progressed:  # start everything that is ready and fits, in order
                progressed = False
                for name in _by_chain(order, needs, done, started, began, budget, chains, costs):
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
                        began[name] = time.perf_counter()
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
                began.pop(name, None)
                in_use -= min(max(1, int(threads.get(name, 1))), budget)
                record = future.result()  # run_one never raises; anything else is a scheduler bug worth seeing
                finish(name, record)
                done.add(name)
                yield "done", name, record


def _by_chain(order: list[str], needs: dict[str, list[str]], done: set[str], started: set[str],
              began: dict[str, float], budget: int, chains: dict[str, float] | None,
              costs: dict[str, float] | None) -> list[str]:
    """`order`, with the ready operator that starts the longest chain moved to the front when that chain has no
    slack left and no running operator starts a chain as long."""
    if not chains or not costs:
        return order
    ready = [n for n in order if n not in started and all(d in done for d in needs.get(n, ()))]
    if not ready:
        return order
    lead = max(ready, key=lambda n: chains.get(n, 0.0))  # the first of equals in `order`
    if any(chains.get(r, 0.0) >= chains.get(lead, 0.0) for r in began):
        return order
    now = time.perf_counter()
    left = sum(costs.get(n, 0.0) for n in order if n not in started)
    left += sum(max(costs.get(r, 0.0) - (now - t), 0.0) for r, t in began.items())
    if left / budget - chains.get(lead, 0.0) > 1e-9:
        return order  # the rest of the work outlasts the chain: cheap ones may still go first
    return [lead] + [n for n in order if n != lead]
