"""`bench winratios`: the stored results of a suite's runs → win ratios with intervals and Bradley–Terry
ratings per dimension, human win ratios on the same pairing where the store holds human judgments for the
suite's cases, all stored as the leaderboard source `<suite>:<judge>@<version>`.

The statistics are `evalverse.leaderboard.pairwise` (pure); this module only gathers and stores.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from evalverse.errors import DataError, InputError
from evalverse.leaderboard import pairwise

N_BOOT = 1000  # as LMArena / FastChat's elo_analysis
CI = 0.95


def source_name(suite: str, judge: str, judge_version: str) -> str:
    return f"{suite}:{judge}@{judge_version}"


def _pick_version(scores: pd.DataFrame, judge: str, wanted: str | None) -> str:
    versions = sorted(v for v in scores["judge_version"].dropna().unique())
    if wanted is not None:
        if wanted not in versions:
            raise InputError(f"no results of judge {judge} version {wanted!r}; stored: {', '.join(versions) or 'none'}")
        return wanted
    if len(versions) > 1:
        raise InputError(f"results of judge {judge} come from versions {', '.join(versions)}; pick one with --judge-version")
    return versions[0]


def human_frames(store: Any, suite: str, items: pd.DataFrame, qa_status: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Human pointwise/pairwise judgments mapped to the suite's cases (by test case, or by the item's video)."""
    cases = store.bench.cases(suite)
    by_test = dict(zip(cases["test_case_id"], cases["case_id"]))
    by_video = {(h, m): c for h, m, c in zip(items["video_hash"], items["model"], items["case_id"]) if h}
    point = store.pointwise_judgments(qa_status=qa_status)
    rows = []
    for r in point.itertuples(index=False):
        case = by_test.get(r.test_case_id) if pd.notna(r.test_case_id) else None
        if case is None and isinstance(r.video_hash, str):
            case = by_video.get((r.video_hash, r.model))
        if case is not None:
            rows.append((case, r.model, r.dimension, float(r.score)))
    pw = store.pairwise_judgments(qa_status=qa_status)
    pairs = [(r.dimension, by_test[r.test_case_id], r.model_a, r.model_b, r.winner) for r in pw.itertuples(index=False)
             if pd.notna(r.test_case_id) and r.test_case_id in by_test]
    return (pd.DataFrame(rows, columns=["case", "model", "dimension", "score"]),
            pd.DataFrame(pairs, columns=pairwise.OUTCOME_COLUMNS))


def compute(store: Any, suite: str, judge: str = "evidence", judge_version: str | None = None, *, n_boot: int = N_BOOT,
            ci: float = CI, seed: int = 0, human_qa: str | None = "pass", save: bool = True) -> dict[str, Any]:
    """Compute (and by default store) the source; returns {source, win_ratios, bradley_terry, summary}."""
    if suite not in {s["name"] for s in store.bench.suites()}:
        raise DataError(f"no runs of suite {suite!r} in {store.path}: run `evalverse bench run --suite ...` first")
    scores = store.bench.scores(suite, judge)
    if scores.empty:
        raise DataError(f"no finished {judge} results for suite {suite!r} in {store.path}")
    version = _pick_version(scores, judge, judge_version)
    scores = scores[scores["judge_version"] == version].rename(columns={"case_id": "case"})
    outcomes, excluded = pairwise.outcomes_from_scores(scores)
    wins = pairwise.win_ratio_table(outcomes, excluded, n_boot, ci, seed)
    ratings = pairwise.rating_table(outcomes, n_boot, ci, seed)
    items = store.bench.items(suite=suite, judge=judge)
    done = items[(items["status"] == "done") & (items["judge_version"] == version)]
    cases_of = {m: set(part["case_id"]) for m, part in done.groupby("model")}
    point, pair = human_frames(store, suite, done, human_qa)
    human = pairwise.human_outcomes(point, pair, cases_of)
    table = wins.rename(columns={"win_ratio": "machine_win_ratio", "ci_low": "machine_ci_low", "ci_high": "machine_ci_high"})
    if len(human):
        hw = pd.concat([pairwise.case_win_ratios(part, n_boot, ci, seed).assign(dimension=dim)
                        for dim, part in human.groupby("dimension", sort=False)], ignore_index=True)
        hw = hw.rename(columns={"win_ratio": "human_win_ratio", "ci_low": "human_ci_low", "ci_high": "human_ci_high",
                                "n_cases": "human_n_cases"}).drop(columns="n_pairs")
        table = table.merge(hw, on=["dimension", "model"], how="outer")
    for col in ("human_win_ratio", "human_ci_low", "human_ci_high", "human_n_cases"):
        if col not in table.columns:
            table[col] = None
    from evalverse.taxonomy import load_taxonomy

    rank = {d.id: i for i, d in enumerate(load_taxonomy().dimensions)}
    rank[pairwise.OVERALL] = len(rank)
    table = table.assign(_r=table["dimension"].map(rank).fillna(len(rank) + 1)).sort_values(
        ["_r", "dimension", "model"], kind="stable").drop(columns="_r")
    ratings = ratings.assign(_r=ratings["dimension"].map(rank).fillna(len(rank) + 1)).sort_values(
        ["_r", "dimension", "rating"], ascending=[True, True, False], kind="stable").drop(columns="_r")
    source = source_name(suite, judge, version)
    reasons = excluded.groupby(["dimension", "reason"]).size() if len(excluded) else pd.Series(dtype=int)
    judged = sorted(dict.fromkeys(outcomes["dimension"]), key=lambda d: rank.get(d, len(rank)))
    summary = {
        "models": sorted(cases_of), "cases": int(scores["case"].nunique()), "items": int(len(done)),
        "failed_items": int((items["status"] == "error").sum()), "judged_dimensions": judged,
        "unjudged_dimensions": sorted((d for d in set(excluded["dimension"]) if d not in judged),
                                      key=lambda d: rank.get(d, len(rank))) if len(excluded) else [],
        "pairs": int(len(outcomes)), "excluded_pairs": int(len(excluded)),
        "excluded_by_reason": {str(k): int(v) for k, v in excluded["reason"].value_counts().items()} if len(excluded) else {},
        "excluded_by_dimension": {f"{d}:{r}": int(n) for (d, r), n in reasons.items()},
        "human_judgments": {"pointwise": int(len(point)), "pairwise": int(len(pair)), "comparisons": int(len(human))},
        "min_cases": pairwise.min_cases(1 - ci),
    }
    settings = {"n_boot": n_boot, "ci": ci, "seed": seed, "min_cases": pairwise.min_cases(1 - ci), "human_qa": human_qa}
    records = _records(table)
    if save:
        store.bench.replace_source(source, suite=suite, judge=judge, judge_version=version, settings=settings,
                                   summary=summary, win_ratios=records, ratings=_records(ratings))
    return {"source": source, "suite": suite, "judge": judge, "judge_version": version, "settings": settings,
            "summary": summary, "win_ratios": records, "bradley_terry": _records(ratings)}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and v != v else (v.item() if hasattr(v, "item") else v))
                    for k, v in row.items()})
    return out


def enough(n_cases: Any, ci: float = CI) -> bool:
    return n_cases is not None and n_cases == n_cases and int(n_cases) >= pairwise.min_cases(1 - ci)


def refresh_suite(store: Any, suite: str) -> list[dict[str, Any]]:
    """Recompute every stored source of `suite` with the settings it was computed with (after human judgments
    of the suite were finalised, say); returns [{source, human_win_ratios}] for each, or [] when the suite has
    no computed source yet (then `evalverse bench winratios --suite ...` makes one)."""
    out = []
    for src in store.bench.sources():
        if src.get("kind") != "bench" or src.get("suite") != suite:
            continue
        s = src.get("settings") or {}
        result = compute(store, suite, src["judge"], src["judge_version"], n_boot=int(s.get("n_boot", N_BOOT)),
                         ci=float(s.get("ci", CI)), seed=int(s.get("seed", 0)), human_qa=s.get("human_qa", "pass"))
        out.append({"source": result["source"], "human_judgments": result["summary"]["human_judgments"],
                    "win_ratios": [r for r in result["win_ratios"] if r.get("human_win_ratio") is not None]})
    return out
