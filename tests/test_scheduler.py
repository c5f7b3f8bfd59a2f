"""Operators side by side: dependencies respected, the CPU budget kept, results identical to one-at-a-time."""
from __future__ import annotations

import threading

import numpy as np

from evalverse.media.types import DecodedVideo, VideoMeta
from evalverse.operators.base import EvidenceRecord, Operator
from evalverse.operators.results import Results
from evalverse.operators.runner import run_operators, iter_operators
from evalverse.operators.scheduler import schedule
from evalverse.registry import Backend
from fake_operators import FakeOperators

BARRIER = threading.Barrier(2, timeout=3)
ACTIVE = {"now": 0, "max": 0}
LOCK = threading.Lock()


class Value(Results):
    value: int


def _video() -> DecodedVideo:
    frames = np.zeros((4, 8, 8, 3), np.uint8)
    times = np.arange(4) / 4.0
    meta = VideoMeta(path="m.mp4", content_hash="s" * 64, size_bytes=1, container="mp4", duration_s=1.0, fps=4.0,
                     n_frames=4, width=8, height=8, coded_width=8, coded_height=8, vcodec="h264", has_audio=False)
    return DecodedVideo(meta=meta, frames=frames, times=times, stills=frames[:1], still_times=times[:1], audio=None)


def _track(fn):
    with LOCK:
        ACTIVE["now"] += 1
        ACTIVE["max"] = max(ACTIVE["max"], ACTIVE["now"])
    try:
        return fn()
    finally:
        with LOCK:
            ACTIVE["now"] -= 1


class _Op(Operator):
    version = "1"
    description = "scheduler test operator"
    evidence_kind = "features"
    results_model = Value
    backends = (Backend("x", "none", "none"),)


_fake = FakeOperators()
_fakes_registered = _fake.fixture()


@_fake
class Left(_Op):
    name = "_sc_left"

    def run(self, ctx):  # meets Right at the barrier: only possible when both run at once
        return _track(lambda: {"value": BARRIER.wait()})

@_fake
class Right(_Op):
    name = "_sc_right"

    def run(self, ctx):
        return _track(lambda: {"value": BARRIER.wait()})

@_fake
class After(_Op):
    name = "_sc_after"
    needs = ("frames", "_sc_left", "_sc_right")

    def run(self, ctx):
        return {"value": 10 + ctx.evidence["_sc_left"].value("value") + ctx.evidence["_sc_right"].value("value")}

@_fake
class Wide(_Op):
    name = "_sc_wide"
    threads = 2

    def run(self, ctx):
        return _track(lambda: {"value": 7})

@_fake
class Narrow(_Op):
    name = "_sc_narrow"

    def run(self, ctx):
        return _track(lambda: {"value": 3})


def test_independent_operators_run_at_the_same_time(settings):
    """Left and Right wait for each other at a barrier: they finish only if they run side by side."""
    records = run_operators(_video(), settings, names=["_sc_after"], workers=2)
    assert records["_sc_left"].status == records["_sc_right"].status == "ok"
    assert sorted([records["_sc_left"].value("value"), records["_sc_right"].value("value")]) == [0, 1]
    assert records["_sc_after"].value("value") == 11  # ran after both, saw both


def test_one_worker_runs_one_at_a_time(settings):
    BARRIER.reset()
    records = run_operators(_video(), settings, names=["_sc_left", "_sc_right"], workers=1)
    # alone, each times out at the barrier: the failure is recorded, never raised
    assert records["_sc_left"].status == "error" and "BrokenBarrierError" in records["_sc_left"].message
    BARRIER.reset()


def test_budget_counts_declared_cores(settings):
    ACTIVE.update(now=0, max=0)
    records = run_operators(_video(), settings, names=["_sc_wide", "_sc_narrow"], workers=2)
    assert records["_sc_wide"].value("value") == 7 and records["_sc_narrow"].value("value") == 3
    assert ACTIVE["max"] == 1  # the two-core operator never shared the two-core budget


def test_events_stream_start_before_done_and_dependencies_first(settings):
    events = [(e["kind"], e["operator"]) for e in iter_operators(_video(), settings, names=["_sc_after"], workers=2)]
    assert events.index(("operator_start", "_sc_after")) > events.index(("operator_done", "_sc_left"))
    assert events.index(("operator_start", "_sc_after")) > events.index(("operator_done", "_sc_right"))
    assert {k for k, _ in events} == {"operator_start", "operator_done"} and len(events) == 6


def test_schedule_keeps_order_within_budget_and_reports_unschedulable():
    log: list[tuple[str, str]] = []

    def start(name):
        return lambda: EvidenceRecord(operator=name, version="1")

    out = list(schedule(["a", "b", "c"], {"c": ["a"]}, {}, 1, start, lambda n, r: log.append(("fin", n))))
    assert [(k, n) for k, n, _ in out] == [("start", "a"), ("done", "a"), ("start", "b"), ("done", "b"),
                                          ("start", "c"), ("done", "c")]
    try:
        list(schedule(["a"], {"a": ["missing"]}, {}, 2, start, lambda n, r: None))
    except RuntimeError as exc:
        assert "cannot be scheduled" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a never-satisfiable dependency must not hang or pass")


def test_every_registered_operator_can_be_scheduled():
    """Regression: the input `audio` was read as a dependency on the `audio` operator, so audio waited for
    itself and speech/lipsync never started."""
    from evalverse.operators.runner import dependencies, get_operator, operator_names, resolve_order

    order = resolve_order([n for n in operator_names() if not n.startswith("_")])  # tests register private ones
    needs = {n: dependencies(get_operator(n)) for n in order}
    assert all(n not in needs[n] for n in order)
    seen = [(k, n) for k, n, _ in schedule(order, needs, {}, 2, lambda n: EvidenceRecord(operator=n, version="1"),
                                            lambda n, r: None)]
    assert {n for k, n in seen if k == "done"} == set(order)


def _starts(order, needs, costs, budget, with_chains=True):
    chains: dict[str, float] = {}
    for n in reversed(order):
        chains[n] = costs[n] + max((chains[m] for m in order if n in needs.get(m, ())), default=0.0)
    extra = (chains, costs) if with_chains else ()
    events = schedule(order, needs, {}, budget, lambda n: (lambda: EvidenceRecord(operator=n, version="1")),
                      lambda n, r: None, *extra)
    return [n for k, n, _ in events if k == "start"]


def test_cheap_operators_go_first_while_the_longest_chain_has_slack():
    # one core: the rest of the work (4.0 + 2.5) always outlasts the chain long -> tail (2.5), so order decides
    order, needs = ["c1", "c2", "c3", "c4", "long", "tail"], {"tail": ["long"]}
    costs = {"c1": 1.0, "c2": 1.0, "c3": 1.0, "c4": 1.0, "long": 2.0, "tail": 0.5}
    assert _starts(order, needs, costs, 1) == order


def test_the_longest_chain_starts_first_when_it_outlasts_the_rest_spread_over_the_cores():
    order, needs = ["c1", "c2", "long", "tail"], {"tail": ["long"]}
    costs = {"c1": 0.1, "c2": 0.1, "long": 2.0, "tail": 0.5}  # 2.7 of work over 2 cores: 1.35 < 2.5
    assert _starts(order, needs, costs, 2)[0] == "long"
    assert _starts(order, needs, costs, 2, with_chains=False)[:3] == ["c1", "c2", "long"]  # without: order alone


def test_chain_lengths_add_the_costs_of_what_waits():
    from evalverse.operators.runner import chain_lengths, dependencies, get_operator, resolve_order

    order = resolve_order(["lipsync"])
    lengths = chain_lengths(order, {n: dependencies(get_operator(n)) for n in order})
    cost = {n: get_operator(n).cost for n in order}
    assert lengths["lipsync"] == cost["lipsync"]
    assert lengths["faces"] == cost["faces"] + cost["lipsync"]
    assert lengths["shots"] == cost["shots"] + lengths["faces"]
