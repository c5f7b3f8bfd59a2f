"""Sample: pick N clips (or shots) whose attributes cover the library in proportion, stratified on several
attributes at once. Pure functions: candidates in, chosen candidates and a report out.

Targets. For each balanced attribute the target count of each value is its share of the library times N
(`proportional`, the paper's rule) or N split evenly over the values present (`uniform`), rounded by largest
remainders so the counts sum to N, with a coverage floor: every value present in the library gets at least
one case while there are fewer values than cases (the slot comes from the value with the most). A value the
annotation could not decide is counted as `unknown`: it is part of the library's distribution, never a value
to cover.

Selection. The quotas of all attributes are met together (marginal quota sampling): candidates are taken
greedily by how many still-open quotas they fill (ties in a seeded random order), then single swaps between
chosen and unchosen candidates are kept while they lower the total deviation sum |achieved - target| over
every attribute and value. The same seed gives the same sample. A source clip (by content hash) is used
once unless `allow_repeat`.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from evalverse.errors import InputError

UNKNOWN = "unknown"
MODES = ("proportional", "uniform")
MAX_SWAP_PASSES = 20


@dataclass(frozen=True)
class Candidate:
    key: str  # "<clip>" or "<clip>#<shot>"
    clip: str
    sha256: str
    shot: int | None
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def value(self, attribute: str) -> str:
        v = self.attributes.get(attribute)
        return UNKNOWN if v is None else str(v)


def candidates(views: Iterable[Any], unit: str = "clip") -> list[Candidate]:
    """Clips (or every shot of every clip) of `records.ClipView`s as candidates, in a stable order."""
    if unit not in ("clip", "shot"):
        raise InputError(f"--unit must be clip or shot, not {unit!r}")
    out = []
    for v in views:
        if unit == "clip":
            out.append(Candidate(v.clip, v.clip, v.sha256, None, dict(v.attributes)))
        else:
            out += [Candidate(f"{v.clip}#{s['index']}", v.clip, v.sha256, int(s["index"]), dict(s["attributes"]))
                    for s in v.shots]
    return out


def largest_remainder(weights: dict[str, float], n: int) -> dict[str, int]:
    """Integer counts proportional to `weights` summing to n (Hamilton's method; ties by value name)."""
    total = sum(weights.values())
    if n <= 0 or total <= 0:
        return {k: 0 for k in weights}
    exact = {k: n * w / total for k, w in weights.items()}
    counts = {k: int(x) for k, x in exact.items()}
    rest = n - sum(counts.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), k))[:rest]:
        counts[k] += 1
    return counts


def targets(cands: list[Candidate], attribute: str, n: int, mode: str = "proportional") -> dict[str, int]:
    """Target count per value of one attribute (see the module docstring)."""
    if mode not in MODES:
        raise InputError(f"--target must be one of {', '.join(MODES)}, not {mode!r}")
    library = Counter(c.value(attribute) for c in cands)
    if mode == "uniform":
        known = [v for v in library if v != UNKNOWN]
        counts = largest_remainder({v: 1.0 for v in known}, n) if known else {}
        counts = _cap(counts, library, n)
        if UNKNOWN in library:
            counts[UNKNOWN] = counts.get(UNKNOWN, 0)
    else:
        counts = largest_remainder(dict(library), n)
    coverable = [v for v in library if v != UNKNOWN]
    if len(coverable) <= n:
        for v in coverable:
            while counts.get(v, 0) < 1:
                donor = max((k for k in counts if counts[k] > 1), key=lambda k: (counts[k], k), default=None)
                if donor is None:
                    break
                counts[donor] -= 1
                counts[v] = counts.get(v, 0) + 1
    return {v: counts.get(v, 0) for v in sorted(library)}


def _cap(counts: dict[str, int], library: Counter, n: int) -> dict[str, int]:
    """Uniform targets never ask for more of a value than the library has; the surplus goes to the others."""
    counts = dict(counts)
    for _ in range(len(counts) + 1):
        over = sum(max(0, counts[v] - library[v]) for v in counts)
        if not over:
            break
        for v in counts:
            counts[v] = min(counts[v], library[v])
        room = {v: library[v] - counts[v] for v in counts if library[v] > counts[v]}
        if not room:
            break
        for v, extra in largest_remainder({v: 1.0 for v in room}, over).items():
            counts[v] += min(extra, room[v])
    return counts


def sample(cands: list[Candidate], attrs: list[str], n: int, seed: int = 0, mode: str = "proportional",
           allow_repeat: bool = False) -> tuple[list[Candidate], dict[str, Any]]:
    """Choose `n` candidates balanced on `attrs`; returns (chosen, report)."""
    if n < 1:
        raise InputError(f"--n must be at least 1, not {n}")
    if not attrs:
        raise InputError("give the attributes to balance on (--balance a,b,c)")
    unknown = sorted({a for a in attrs if not any(a in c.attributes for c in cands)})
    if unknown:
        known = sorted({k for c in cands for k in c.attributes})
        raise InputError(f"unknown attribute(s) {', '.join(unknown)}; the annotation has: {', '.join(known)}")
    sources = {c.sha256 for c in cands}
    limit = len(cands) if allow_repeat else len(sources)
    if n > limit:
        raise InputError(f"asked for {n} but there are only {limit} " + (
            "candidates" if allow_repeat else "distinct source clips (pass --allow-same-source, with --unit shot, "
                                              "to take several shots of one clip)"))
    want = {a: targets(cands, a, n, mode) for a in attrs}
    rng = random.Random(seed)
    order = list(cands)
    rng.shuffle(order)
    chosen: list[Candidate] = []
    used: set[str] = set()
    got = {a: Counter() for a in attrs}
    while len(chosen) < n:
        def gain(c: Candidate) -> int:
            return sum(1 if got[a][c.value(a)] < want[a].get(c.value(a), 0) else -1 for a in attrs)

        taken = {c.key for c in chosen}
        pool = [c for c in order if c.key not in taken and (allow_repeat or c.sha256 not in used)]
        best = max(pool, key=gain)  # max keeps the first of equals: the seeded order breaks ties
        chosen.append(best)
        used.add(best.sha256)
        for a in attrs:
            got[a][best.value(a)] += 1
    chosen = _improve(chosen, order, attrs, want, allow_repeat)
    return chosen, report(cands, chosen, attrs, want, mode, seed)


def _improve(chosen: list[Candidate], order: list[Candidate], attrs: list[str], want: dict[str, dict[str, int]],
             allow_repeat: bool) -> list[Candidate]:
    """Single swaps (chosen <-> unchosen) kept while they lower the total deviation (computed incrementally:
    a swap changes only the counts of the two candidates' values)."""
    chosen = list(chosen)
    got = {a: Counter(c.value(a) for c in chosen) for a in attrs}

    def cost(a: str, v: str, count: int) -> int:
        return abs(count - want[a].get(v, 0))

    def delta(out: Candidate, into: Candidate) -> int:
        d = 0
        for a in attrs:
            vo, vi = out.value(a), into.value(a)
            if vo != vi:
                d += cost(a, vo, got[a][vo] - 1) - cost(a, vo, got[a][vo])
                d += cost(a, vi, got[a][vi] + 1) - cost(a, vi, got[a][vi])
        return d

    for _ in range(MAX_SWAP_PASSES):
        improved = False
        for i in range(len(chosen)):
            keys = {x.key for x in chosen}
            sources = Counter(x.sha256 for x in chosen)
            for c in order:
                if c.key in keys:
                    continue
                if not allow_repeat and sources[c.sha256] - (chosen[i].sha256 == c.sha256) > 0:
                    continue
                if delta(chosen[i], c) < 0:
                    for a in attrs:
                        got[a][chosen[i].value(a)] -= 1
                        got[a][c.value(a)] += 1
                    sources[chosen[i].sha256] -= 1
                    sources[c.sha256] += 1
                    keys.discard(chosen[i].key)
                    keys.add(c.key)
                    chosen[i] = c
                    improved = True
        if not improved:
            break
    return chosen


def report(cands: list[Candidate], chosen: list[Candidate], attrs: list[str], want: dict[str, dict[str, int]],
           mode: str, seed: int) -> dict[str, Any]:
    """Per attribute and value: library count and share, target count and share, achieved count and share."""
    out: dict[str, Any] = {"n": len(chosen), "library": len(cands), "mode": mode, "seed": seed, "attributes": {}}
    for a in attrs:
        lib = Counter(c.value(a) for c in cands)
        got = Counter(c.value(a) for c in chosen)
        rows = []
        for v in sorted(set(lib) | set(want[a])):
            rows.append({"value": v, "library": lib.get(v, 0), "library_share": round(lib.get(v, 0) / len(cands), 4),
                         "target": want[a].get(v, 0), "target_share": round(want[a].get(v, 0) / len(chosen), 4),
                         "achieved": got.get(v, 0), "achieved_share": round(got.get(v, 0) / len(chosen), 4)})
        dev = sum(abs(r["achieved"] - r["target"]) for r in rows)
        out["attributes"][a] = {"values": rows, "deviation": dev,
                                "covered": sum(1 for r in rows if r["value"] != UNKNOWN and r["achieved"] > 0),
                                "present": sum(1 for r in rows if r["value"] != UNKNOWN and r["library"] > 0)}
    out["deviation"] = sum(v["deviation"] for v in out["attributes"].values())
    out["distinct_sources"] = len({c.sha256 for c in chosen})
    return out
