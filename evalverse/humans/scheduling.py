"""Which task next: pure functions, shared by the app's scheduler and the simulation.

Each task (item) wants N independent annotations; an annotator never gets the same item twice (the
caller passes only items this annotator may take). Among those:

1. Coverage floor: while some model pair has been compared fewer than `floor` times, only items that
   contain one of the least-seen pairs are eligible, so every pair gets seen.
2. Then the item whose pairs' Bradley–Terry intervals overlap most (where one more vote teaches most):
   overlap(I, J) = |I ∩ J| / |I ∪ J| (1 when the intervals coincide, 0 when disjoint; a model without an
   interval yet counts as fully uncertain, 1). An item's score is the mean over its pairs and dimensions.
3. Ties go to the item with fewer annotations so far, then to the random generator (seeded: reproducible).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

Pair = tuple[str, str]


@dataclass(frozen=True)
class Candidate:
    key: Any  # task id (app) or item index (simulation)
    pairs: tuple[Pair, ...]  # the model pairs the item compares
    annotations: int = 0  # annotations it has so far


def pair_key(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)


def interval_overlap(lo1: float, hi1: float, lo2: float, hi2: float) -> float:
    """|I ∩ J| / |I ∪ J| of two closed intervals; 1 when either is unknown (NaN)."""
    if any(v is None or v != v for v in (lo1, hi1, lo2, hi2)):  # NaN != NaN
        return 1.0
    inter = min(hi1, hi2) - max(lo1, lo2)
    union = max(hi1, hi2) - min(lo1, lo2)
    if union <= 0:  # two points
        return 1.0 if lo1 == lo2 else 0.0
    return max(0.0, inter) / union


def _bounds(intervals: Mapping[str, pd.DataFrame]) -> list[dict[str, tuple[float, float]]]:
    return [dict(zip(f.index, zip(f["lower"].astype(float), f["upper"].astype(float)))) for f in intervals.values()]


def informativeness(candidate: Candidate, intervals: Mapping[str, pd.DataFrame] | list) -> float:
    """Mean interval overlap over the candidate's pairs and the given dimensions (1.0 without intervals).
    `intervals`: {dimension: DataFrame indexed by model with lower, upper} (or their `_bounds`)."""
    bounds = intervals if isinstance(intervals, list) else _bounds(intervals)
    if not bounds or not candidate.pairs:
        return 1.0
    scores = []
    for table in bounds:
        for a, b in candidate.pairs:
            if a in table and b in table:
                scores.append(interval_overlap(*table[a], *table[b]))
            else:
                scores.append(1.0)
    return sum(scores) / len(scores)


def pick(candidates: Sequence[Candidate], intervals: Mapping[str, pd.DataFrame],
         pair_counts: Mapping[Pair, int], floor: int = 1, rng: random.Random | None = None) -> Candidate | None:
    """The next item by coverage floor, then interval overlap (see the module docstring); None if none."""
    if not candidates:
        return None
    rng = rng or random.Random()
    pool = list(candidates)
    if floor > 0:
        least = {c.key: min((pair_counts.get(pair_key(*p), 0) for p in c.pairs), default=0) for c in pool}
        lowest = min(least.values())
        if lowest < floor:
            pool = [c for c in pool if least[c.key] == lowest]
    bounds = _bounds(intervals)
    memo: dict[tuple[Pair, ...], float] = {}  # items of different cases often compare the same pairs
    for c in pool:
        if c.pairs not in memo:
            memo[c.pairs] = informativeness(c, bounds)
    scored = [(memo[c.pairs], -c.annotations, rng.random(), i) for i, c in enumerate(pool)]
    return pool[max(scored)[3]]


def pick_uniform(candidates: Sequence[Candidate], rng: random.Random | None = None) -> Candidate | None:
    """The baseline: any eligible item with equal probability."""
    if not candidates:
        return None
    return (rng or random.Random()).choice(list(candidates))


def count_pairs(rows: Iterable[Mapping[str, Any]]) -> dict[Pair, int]:
    """Comparisons per unordered model pair from rows with model_a and model_b."""
    counts: dict[Pair, int] = {}
    for r in rows:
        if r.get("model_a") and r.get("model_b"):
            key = pair_key(r["model_a"], r["model_b"])
            counts[key] = counts.get(key, 0) + 1
    return counts
