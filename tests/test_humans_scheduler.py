"""Scheduling: coverage floor, Bradley–Terry interval overlap, N independent annotations per task, never the
same annotator twice; and the simulated campaign in which active scheduling settles the ranking sooner."""
from __future__ import annotations

import random

import pandas as pd
import pytest

from evalverse.humans.roles import issue_token
from evalverse.humans.scheduling import Candidate, interval_overlap, pick
from evalverse.humans.service import AnnotationService
from evalverse.humans.simulation import SimConfig, compare
from evalverse.store import Store


def test_interval_overlap():
    assert interval_overlap(0, 2, 1, 3) == pytest.approx(1 / 3)
    assert interval_overlap(0, 1, 2, 3) == 0.0
    assert interval_overlap(0, 2, 0, 2) == 1.0
    assert interval_overlap(0, 4, 1, 2) == pytest.approx(1 / 4)
    assert interval_overlap(float("nan"), 1, 0, 1) == 1.0  # no interval yet: fully uncertain


def _intervals(**bounds):
    return {"lens": pd.DataFrame({"lower": [b[0] for b in bounds.values()], "upper": [b[1] for b in bounds.values()]},
                                 index=list(bounds))}


def test_pick_prefers_the_most_overlapping_pair_once_every_pair_is_seen():
    iv = _intervals(A=(1100, 1200), B=(1090, 1190), C=(900, 950), D=(700, 760))
    cands = [Candidate(1, (("A", "B"),)), Candidate(2, (("A", "C"),)), Candidate(3, (("C", "D"),))]
    counts = {("A", "B"): 3, ("A", "C"): 3, ("C", "D"): 3}
    assert pick(cands, iv, counts, floor=1, rng=random.Random(0)).key == 1


def test_coverage_floor_comes_first():
    iv = _intervals(A=(1100, 1200), B=(1090, 1190), C=(900, 950), D=(700, 760))
    cands = [Candidate(1, (("A", "B"),)), Candidate(2, (("C", "D"),))]
    assert pick(cands, iv, {("A", "B"): 5}, floor=1, rng=random.Random(0)).key == 2  # C-D never compared
    assert pick(cands, iv, {("A", "B"): 5, ("C", "D"): 1}, floor=2, rng=random.Random(0)).key == 2
    assert pick(cands, iv, {("A", "B"): 5, ("C", "D"): 1}, floor=1, rng=random.Random(0)).key == 1


def test_ties_go_to_the_item_with_fewer_annotations():
    cands = [Candidate(1, (("A", "B"),), annotations=2), Candidate(2, (("A", "B"),), annotations=0)]
    assert pick(cands, {}, {("A", "B"): 9}, floor=1, rng=random.Random(0)).key == 2
    assert pick([], {}, {}) is None


def test_each_task_gets_its_independent_annotations_and_never_twice_from_one_annotator():
    store = Store.memory()
    svc = AnnotationService(store, rng=random.Random(2))
    tasks = [svc.create_task({"case_key": f"c{i}", "required": 2, "dimensions": ["lens"],
                              "outputs": [{"model": "A"}, {"model": "B"}, {"model": "C"}][: 2 + i % 2]}) for i in range(4)]
    people = [issue_token(store, f"p{i}", "annotator").token for i in range(3)]
    done: dict[str, list[int]] = {uid: [] for uid in tasks}
    for _round in range(4):
        for i, token in enumerate(people):
            view = svc.next_task(token)
            if view is None:
                continue
            assert i not in done[view.uid]
            n = len(view.shown)
            label = {"dimension": "lens", "choice": "left"} if n == 2 else {"dimension": "lens", "ranking": list(range(n))}
            svc.submit(token, view.uid, [label])
            done[view.uid].append(i)
    assert {uid: len(who) for uid, who in done.items()} == {uid: 2 for uid in tasks}
    assert all(svc.next_task(t) is None for t in people)


def test_an_unfinished_claim_is_resumed_and_holds_the_slot():
    store = Store.memory()
    svc = AnnotationService(store)
    uid = svc.create_task({"case_key": "c", "required": 1, "dimensions": ["lens", "lighting"],
                           "outputs": [{"model": "A"}, {"model": "B"}]})
    a, b = (issue_token(store, n, "annotator").token for n in ("a", "b"))
    assert svc.next_task(a).uid == uid
    assert svc.next_task(b) is None  # a holds the only slot
    svc.submit(a, uid, [{"dimension": "lens", "choice": "tie"}])
    again = svc.next_task(a)
    assert again.uid == uid and again.done == ["lens"]


def test_active_scheduling_settles_the_top_k_with_fewer_votes_than_random():
    cfg = SimConfig(n_models=5, n_cases=4, n_annotators=6, budget=240, check_every=8, patience=4, top_k=2, refit_every=2)
    report = compare(cfg, range(8))
    active, uniform = report["schedulers"]["active"], report["schedulers"]["random"]
    assert active["median_votes_to_stable"] < uniform["median_votes_to_stable"]
    assert active["mean_votes_to_correct"] < uniform["mean_votes_to_correct"]
    assert active["stable_top_k_correct"] >= uniform["stable_top_k_correct"]
