"""`evalverse humans stats`: who rated what, how far raters agree (the human ceiling), and who looks careless.
Per source (an imported file, or "app") and per dimension / sub-dimension / rating axis:

- pointwise scores: Krippendorff's alpha (ordinal) with a unit-bootstrap 95% interval; leave-one-rater-out
  SRCC (each rater against the mean of the others); pairwise agreement rate of the preferences the scores
  imply between the videos of one case; each rater's agreement with the consensus (the LOO figures);
- pairwise outcomes: Krippendorff's alpha (nominal, over a / b / tie / both_bad, pairs put in one
  orientation); pairwise agreement rate; each annotator's agreement with the others' majority;
- careless-work flags: choosing one side far more often than chance (exact binomial test, Bonferroni-
  corrected over the group's annotators at 0.01), one constant answer over 10+ items, and working much
  faster than others on the same items (Hampel's rule on log-time ratios) when times exist.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from evalverse.leaderboard import agreement as ag

SIDE_ALPHA = 0.01
MIN_SIDE_VOTES = 10
FLIP = {"a": "b", "b": "a", "tie": "tie", "both_bad": "both_bad"}


def _num(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return round(v, 4) if isinstance(v, float) else v


def pointwise_group(part: pd.DataFrame, n_boot: int, seed: int) -> dict[str, Any]:
    units = part.assign(unit=part["unit"].astype(str))
    matrix, _ = ag.reliability_matrix(units, "unit", "annotator", "score")
    loo = ag.leave_one_rater_out(units, "unit", "annotator", "score")
    groups = units.assign(group=units["case_key"].fillna("").astype(str))
    prefs = ag.preferences_from_scores(groups[groups["group"] != ""], "group", "unit", "annotator", "score")
    rate, pairs = ag.pairwise_agreement_rate(prefs, "unit", "rater", "value") if len(prefs) else (float("nan"), 0)
    flags = []
    for rater, sub in units.groupby("annotator"):
        if ag.constant_answers(sub["score"].tolist()):
            flags.append({"rater": rater, "flag": "constant", "detail": f"the same score on all {len(sub)} items"})
    flags += _time_flags(units.rename(columns={"annotator": "rater"}), "unit")
    return {
        "kind": "pointwise", "raters": int(units["annotator"].nunique()), "items": int(units["unit"].nunique()),
        "judgments": int(len(units)),
        "alpha": {"level": "ordinal", "value": _num(ag.krippendorff_alpha(matrix, "ordinal")),
                  "ci95": [_num(v) for v in ag.alpha_bootstrap(matrix, "ordinal", n_boot, seed=seed)]},
        "loo_srcc": {"mean": _num(loo["srcc"].mean()) if len(loo) else None,
                     "per_rater": [{k: _num(v) for k, v in r.items()} for r in loo.to_dict("records")]},
        "pairwise_agreement": {"rate": _num(rate), "rater_pairs": pairs,
                               "basis": "preferences implied by the scores between videos of the same case"},
        "consensus": [{"rater": r["rater"], "n": r["n"], "srcc_vs_others_mean": _num(r["srcc"]), "mae": _num(r["mae"])}
                      for r in loo.to_dict("records")],
        "flags": flags,
    }


def canonical_outcomes(part: pd.DataFrame) -> pd.DataFrame:
    """Pairwise rows with one orientation per item (the two videos or models sorted), so 'a' always means
    the same output of the item; `chose_left` is True/False for decisive votes with a known side."""
    a = part["video_a"].fillna(part["model_a"]).astype(str)
    b = part["video_b"].fillna(part["model_b"]).astype(str)
    swap = a > b
    case = part["case_key"].fillna(part["test_case_id"].astype(str)).fillna("").astype(str)
    unit = case + "|" + a.where(~swap, b) + "|" + b.where(~swap, a)
    value = part["winner"].where(~swap, part["winner"].map(FLIP))
    decisive = part["winner"].isin(["a", "b"])
    side = part["left_side"].fillna("a")  # unknown side: the first listed counts as left
    chose_left = (part["winner"] == side).where(decisive)
    return part.assign(unit=unit, value=value, chose_left=chose_left)


def pairwise_group(part: pd.DataFrame, n_boot: int, seed: int) -> dict[str, Any]:
    rows = canonical_outcomes(part)
    matrix, labels = ag.reliability_matrix(rows, "unit", "annotator", "value")
    rate, pairs = ag.pairwise_agreement_rate(rows, "unit", "annotator", "value")
    consensus = ag.consensus_agreement(rows, "unit", "annotator", "value")
    flags = []
    raters = rows["annotator"].unique()
    for rater, sub in rows.groupby("annotator"):
        left = sub["chose_left"].dropna()
        n_left, n_right = int(left.sum()), int((~left.astype(bool)).sum())
        p = ag.side_bias_p(n_left, n_right)
        if n_left + n_right >= MIN_SIDE_VOTES and p < SIDE_ALPHA / len(raters):
            side = "left" if n_left > n_right else "right"
            flags.append({"rater": rater, "flag": "side_bias",
                          "detail": f"chose the {side} output in {max(n_left, n_right)} of {n_left + n_right} "
                                    f"decisive votes (binomial p = {p:.2g})"})
        if ag.constant_answers(sub["winner"].tolist()):
            flags.append({"rater": rater, "flag": "constant", "detail": f"answered {sub['winner'].iloc[0]!r} on all {len(sub)} items"})
    flags += _time_flags(rows.rename(columns={"annotator": "rater"}), "unit")
    return {
        "kind": "pairwise", "raters": int(len(raters)), "items": int(rows["unit"].nunique()), "judgments": int(len(rows)),
        "alpha": {"level": "nominal", "categories": labels, "value": _num(ag.krippendorff_alpha(matrix, "nominal")),
                  "ci95": [_num(v) for v in ag.alpha_bootstrap(matrix, "nominal", n_boot, seed=seed)]},
        "pairwise_agreement": {"rate": _num(rate), "rater_pairs": pairs, "basis": "same outcome on the same item"},
        "consensus": [{k: _num(v) for k, v in r.items()} for r in consensus.to_dict("records")],
        "flags": flags,
    }


def _time_flags(rows: pd.DataFrame, unit: str) -> list[dict[str, Any]]:
    if "seconds" not in rows or rows["seconds"].isna().all():
        return []
    per = rows.dropna(subset=["seconds"]).groupby([unit, "rater"], as_index=False)["seconds"].max()
    out = ag.fast_outliers(per, unit, "rater", "seconds")
    return [{"rater": r["rater"], "flag": "fast",
             "detail": f"median time {r['median_ratio']:.0%} of others' on the same items over {r['n']} items"}
            for r in out.to_dict("records") if r["flagged"]]


def human_stats(store, *, source: str | None = None, dimension: str | None = None, counted: bool = False,
                n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The `humans stats --json` report (see the module docstring)."""
    sources = {s["id"]: s for s in store.human_sources()}
    ratings = store.human_ratings(source=source, dimension=dimension, counted=counted)
    outcomes = store.human_outcomes(source=source, dimension=dimension, counted=counted)
    times = store.submission_times()
    if len(outcomes) and len(times):  # app votes: time per (task, annotator) from the submissions
        outcomes = _with_task_times(store, outcomes, times)
    report = []
    for src in sorted(set(ratings["source"].fillna("(none)")) | set(outcomes["source"].fillna("(none)"))):
        meta = sources.get(src, {})
        r = ratings[ratings["source"].fillna("(none)") == src]
        o = outcomes[outcomes["source"].fillna("(none)") == src]
        groups = []
        for kind, frame, fn in (("pointwise", r, pointwise_group), ("pairwise", o, pairwise_group)):
            if frame.empty:
                continue
            keys = frame[["dimension", "sub_dimension", "axis"]].astype(object).where(frame[["dimension", "sub_dimension", "axis"]].notna(), None)
            for key, idx in keys.groupby(["dimension", "sub_dimension", "axis"], dropna=False).groups.items():
                g = fn(frame.loc[idx], n_boot, seed)
                groups.append({"dimension": key[0], "sub_dimension": _none(key[1]), "axis": _none(key[2]), **g})
        report.append({
            "source": src, "format": meta.get("format"), "scale": [meta.get("scale_min"), meta.get("scale_max")],
            "citation": meta.get("citation") or None,
            "raters": int(pd.concat([r["annotator"], o["annotator"]]).nunique()),
            "items": int(r["unit"].nunique() + (canonical_outcomes(o)["unit"].nunique() if len(o) else 0)),
            "judgments": int(len(r) + len(o)), "groups": groups,
        })
    return {"counted_only": counted, "bootstrap_rounds": n_boot, "sources": report}


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _with_task_times(store, outcomes: pd.DataFrame, times: pd.DataFrame) -> pd.DataFrame:
    subs = store.submission_index()
    if subs.empty:
        return outcomes
    merged = outcomes.merge(subs, how="left", left_on="submission_id", right_on="id", suffixes=("", "_sub"))
    merged = merged.merge(times.rename(columns={"seconds": "task_seconds"}), how="left",
                          left_on=["task_id", "annotator"], right_on=["task_id", "annotator"])
    merged["seconds"] = merged["task_seconds"].where(merged["task_seconds"].notna(), merged["seconds"])
    return merged[outcomes.columns]
