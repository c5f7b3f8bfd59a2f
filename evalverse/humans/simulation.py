"""Simulated annotation campaigns: how many votes until the human ranking settles, with the active scheduler
(`scheduling.pick`: coverage floor, then Bradley–Terry interval overlap) against uniform random choice.

The world: `n_models` models with true log-strengths drawn from N(0, spread²); `n_cases` test cases, each
offering every model pair as an item that wants `per_item` annotations from different annotators. Each
of `n_annotators` annotators has known preferences, a noisy Bradley–Terry: their own log-strengths are
the true ones plus N(0, annotator_noise²), fixed for the campaign; a vote is a tie with probability
`tie_rate`, otherwise output a wins with probability σ(θ'_a − θ'_b). One vote at a time, a random
annotator asks for work and the scheduler picks among the items still open to them.

After every `check_every` votes the ranking is refitted (`bradley_terry_intervals`). Reported per run:
- votes_to_stable: the first check at which the top-k (in order) has stayed the same for `patience`
  consecutive checks - what a team can see without knowing the truth - and whether that top-k was right;
- votes_to_correct: from which check on the top-k equals the true top-k until the end of the budget.
"""
from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from itertools import combinations
from statistics import mean, median
from typing import Any

import numpy as np
import pandas as pd

from evalverse.humans.scheduling import Candidate, pair_key, pick, pick_uniform
from evalverse.leaderboard.stats import bradley_terry_intervals


@dataclass(frozen=True)
class SimConfig:
    n_models: int = 8
    n_cases: int = 20
    n_annotators: int = 12
    per_item: int = 3
    spread: float = 1.0
    annotator_noise: float = 0.3
    tie_rate: float = 0.1
    top_k: int = 3
    check_every: int = 10
    patience: int = 5
    budget: int = 1500
    floor: int = 1
    refit_every: int = 5  # the active scheduler's intervals are refreshed this often (votes)


@dataclass
class RunResult:
    scheduler: str
    seed: int
    votes_to_stable: int | None
    stable_correct: bool | None
    votes_to_correct: int | None
    votes: int


def _top(frame: pd.DataFrame, k: int) -> tuple[str, ...]:
    return tuple(frame.index[:k])


def run(cfg: SimConfig, scheduler: str, seed: int) -> RunResult:
    """One campaign; the world (true strengths, annotators) depends on `seed` only, not on the scheduler."""
    world = np.random.default_rng(seed)
    models = [f"m{i}" for i in range(cfg.n_models)]
    truth = dict(zip(models, world.normal(0.0, cfg.spread, cfg.n_models)))
    true_top = tuple(sorted(models, key=lambda m: -truth[m])[: cfg.top_k])
    perceived = [{m: truth[m] + world.normal(0.0, cfg.annotator_noise) for m in models} for _ in range(cfg.n_annotators)]
    items = [(c, a, b) for c in range(cfg.n_cases) for a, b in combinations(models, 2)]
    done_by: list[set[int]] = [set() for _ in items]
    rng = random.Random(seed * 7919 + (1 if scheduler == "active" else 2))
    votes: list[tuple[str, str, str]] = []
    pair_counts: dict[tuple[str, str], int] = {}
    intervals: dict[str, pd.DataFrame] = {}
    tops: list[tuple[str, ...]] = []
    stable_at = stable_ok = None
    correct_since = None
    while len(votes) < cfg.budget:
        who = rng.randrange(cfg.n_annotators)
        open_items = [i for i, d in enumerate(done_by) if len(d) < cfg.per_item and who not in d]
        if not open_items:
            break
        candidates = [Candidate(i, (pair_key(items[i][1], items[i][2]),), len(done_by[i])) for i in open_items]
        if scheduler == "active":
            if votes and len(votes) % cfg.refit_every == 0:
                intervals = {"dim": bradley_terry_intervals(pd.DataFrame(votes, columns=["model_a", "model_b", "winner"]))}
            choice = pick(candidates, intervals, pair_counts, cfg.floor, rng)
        else:
            choice = pick_uniform(candidates, rng)
        _, a, b = items[choice.key]
        view = perceived[who]
        if rng.random() < cfg.tie_rate:
            outcome = "tie"
        else:
            outcome = "a" if rng.random() < 1.0 / (1.0 + math.exp(-(view[a] - view[b]))) else "b"
        votes.append((a, b, outcome))
        done_by[choice.key].add(who)
        pair_counts[pair_key(a, b)] = pair_counts.get(pair_key(a, b), 0) + 1
        if len(votes) % cfg.check_every == 0:
            top = _top(bradley_terry_intervals(pd.DataFrame(votes, columns=["model_a", "model_b", "winner"])), cfg.top_k)
            tops.append(top)
            if stable_at is None and len(tops) >= cfg.patience and len(set(tops[-cfg.patience:])) == 1:
                stable_at, stable_ok = len(votes), top == true_top
            if top == true_top:
                correct_since = correct_since or len(votes)
            else:
                correct_since = None
    return RunResult(scheduler, seed, stable_at, stable_ok, correct_since, len(votes))


def compare(cfg: SimConfig, seeds: range | list[int]) -> dict[str, Any]:
    """Both schedulers on the same worlds; per scheduler the runs and their medians / means."""
    out: dict[str, Any] = {"config": asdict(cfg), "seeds": list(seeds), "schedulers": {}}
    for name in ("active", "random"):
        runs = [run(cfg, name, s) for s in seeds]
        # a run that never gets there counts as the whole budget (a lower bound on its true cost)
        stable = [r.votes_to_stable if r.votes_to_stable is not None else r.votes for r in runs]
        correct = [r.votes_to_correct if r.votes_to_correct is not None else r.votes for r in runs]
        out["schedulers"][name] = {
            "runs": [asdict(r) for r in runs],
            "stable_reached": sum(r.votes_to_stable is not None for r in runs),
            "median_votes_to_stable": median(stable), "mean_votes_to_stable": mean(stable),
            "stable_top_k_correct": sum(bool(r.stable_correct) for r in runs),
            "correct_reached": sum(r.votes_to_correct is not None for r in runs),
            "median_votes_to_correct": median(correct), "mean_votes_to_correct": mean(correct),
        }
    return out
