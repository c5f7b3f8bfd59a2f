"""The cross-validated report of one calibration: every row's five figures with bootstrap intervals.

Rows: the calibrated model (family chosen inside each outer training set), each family alone (its
hyperparameters chosen inside), the uncalibrated judge's own score, each feature alone (a one-feature ridge
through the same cross-validation, so its sign is learned on training prompts only), and the human ceilings
(each rater against the mean of the others, on the same clips and, when given, on the rating-only set).
All model rows are held-out predictions; all intervals resample prompts on the same draws, so the paired
difference calibrated - judge has an interval too.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pandas as pd

from evalverse.calibration.cv import nested_cv, oriented_feature
from evalverse.calibration.metrics import FIGURES, PromptBootstrap, figures, interval, rater_ceiling, with_intervals
from evalverse.calibration.spec import CalibrationSpec

LABELS = {"clip_srcc": "clip SRCC", "clip_plcc": "clip PLCC", "within_prompt_accuracy": "within-prompt acc",
          "within_source_srcc": "within-source SRCC", "source_srcc": "source SRCC"}


def source_share(values: pd.Series, source: pd.Series) -> float:
    """Share of a variable's variance explained by which source made the clip (eta squared): near 1, the
    variable mostly says which generator it is."""
    v = pd.Series(np.asarray(values, float), index=source.index)
    ok = v.notna()
    if ok.sum() < 3 or v[ok].var() == 0:
        return math.nan
    means = v[ok].groupby(source[ok]).transform("mean")
    return float(((means - v[ok].mean()) ** 2).sum() / ((v[ok] - v[ok].mean()) ** 2).sum())


def _row(name: str, kind: str, pred: np.ndarray, human: np.ndarray, clips: pd.DataFrame, boot: PromptBootstrap,
         note: str = "") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    point = figures(pred, human, clips["prompt"].to_numpy(), clips["source"].to_numpy())
    dist = boot.distribution(pred, human)
    return {"name": name, "kind": kind, "figures": with_intervals(point, dist), "note": note}, dist


def _ceiling_row(name: str, clips: pd.DataFrame, boot: PromptBootstrap | None, note: str) -> dict[str, Any]:
    raters = clips[[c for c in clips.columns if c.startswith("rater:")]].to_numpy(float)
    point, dist = rater_ceiling(raters, clips["prompt"].to_numpy(), clips["source"].to_numpy(), boot)
    figs = with_intervals(point, dist) if dist is not None else {f: {"value": point[f], "lo": math.nan, "hi": math.nan}
                                                                for f in FIGURES} | {"n": point["n"], "n_pairs": point["n_pairs"]}
    return {"name": name, "kind": "ceiling", "figures": figs, "note": note}


def _with_anchors(row: dict[str, Any], held_out: tuple[np.ndarray, np.ndarray] | None) -> dict[str, Any]:
    if held_out is not None:
        from evalverse.calibration.anchors import anchor_accuracy

        row["anchor_accuracy"] = anchor_accuracy(*held_out)
    return row


def _pairs_summary(spec: CalibrationSpec, pairing: Any, y: np.ndarray, prompt: np.ndarray, source: np.ndarray) -> dict[str, Any]:
    """How many pairs of each kind the pairwise families learn from (models.pair_rows' own counts: ties in the
    human means left out)."""
    from evalverse.calibration.models import Pairing, pair_rows

    pairing = pairing if pairing is not None else Pairing(within=tuple(spec.pairs.within))
    counts = pair_rows(np.zeros((y.size, 1)), y, prompt, source, pairing)[3]
    out: dict[str, Any] = {"within": counts, "anchors": pairing.n_anchors}
    if spec.anchors is not None:
        out["anchor_spec"] = spec.anchors.model_dump(mode="json")
    return out


def build_report(spec: CalibrationSpec, axis: str, clips: pd.DataFrame, X: pd.DataFrame, judge_score: pd.Series | None,
                 long_clips: pd.DataFrame | None = None, cv: Any = None, directions: list[str | None] | None = None,
                 progress: Callable[[str], None] | None = None, signs: Any = None, pairing: Any = None) -> dict[str, Any]:
    """`clips`: one row per clip (prompt, source, human, rater:* columns), aligned with `X` (features) and
    `judge_score`. `cv`: the CV settings (default the spec's). `directions`: each feature's catalogue direction
    (None for judge outputs), to say when people's ratings run against it. `signs`: each feature's allowed
    weight sign (models.direction_signs), needed when the spec names a signed family. `pairing`: the pairs the
    Bradley-Terry families learn from (models.Pairing); with anchors, every model row also gets its held-out
    `anchor_accuracy` (known-order pairs of held-out prompts ordered right)."""
    cfg = cv or spec.cv
    say = progress or (lambda _m: None)
    y = clips["human"].to_numpy(float)
    prompt, source = clips["prompt"].astype(str).to_numpy(), clips["source"].astype(str).to_numpy()
    boot = PromptBootstrap(prompt, source, cfg.bootstrap, cfg.seed)
    families = list(spec.families)
    say(f"cross-validating {', '.join(families)} ({cfg.folds} folds x {cfg.repeats} repeats, inner {cfg.inner_folds})")
    res = nested_cv(X.to_numpy(float), y, prompt, source, families, cfg.folds, cfg.repeats, cfg.inner_folds,
                    cfg.select_by, cfg.seed, signs, pairing, list(spec.models))
    preds = res["predictions"]
    anchors = res.get("anchors", {})
    rows, dists = [], {}
    choice = ", ".join(f"{f} {n}x" for f, n in res["choices"].most_common())
    row, dists["calibrated"] = _row("calibrated", "model", preds["selected"], y, clips, boot,
                                    f"family chosen per outer fold by inner CV: {choice}")
    rows.append(_with_anchors(row, anchors.get("selected")))
    for family in families:
        note = "hyperparameters chosen by inner CV" + (
            "; weights sign-constrained by the catalogue's directions" if family.endswith("_signed") else "") + (
            "; for comparison only (the spec's `compare`: never chosen)" if family in spec.compare else "")
        row, _ = _row(family, "family", preds[family], y, clips, boot, note)
        rows.append(_with_anchors(row, anchors.get(family)))
    if judge_score is not None:
        js = judge_score.to_numpy(float)
        row, dists["judge"] = _row(f"{spec.judge} judge (uncalibrated)", "judge", js, y, clips, boot,
                                   f"its own {spec.dimension} score; {int(np.isnan(js).sum())} clip(s) not scored")
        rows.append(row)
    say(f"cross-validating {X.shape[1]} single features")
    for name, direction in zip(X.columns, directions or [None] * X.shape[1]):
        x = X[name].to_numpy(float)
        single = oriented_feature(x, y, prompt, cfg.folds, cfg.repeats, cfg.seed)
        sign = 1.0 if figures(x, y, prompt, source)["clip_srcc"] >= 0 else -1.0
        note = "orientation learned on training prompts"
        if direction in ("higher_is_better", "lower_is_better") and (sign > 0) != (direction == "higher_is_better"):
            note += f"; people's ratings run against the catalogue's direction ({direction.replace('_', ' ')})"
        row, _ = _row(name, "feature", single, y, clips, boot, note)
        rows.append(row)
    say("human ceilings")
    rows.append(_ceiling_row("human ceiling (same clips)", clips, boot,
                             "each rater against the mean of the other raters, averaged over raters"))
    if long_clips is not None:
        rows.append(_ceiling_row(f"human ceiling ({long_clips['prompt'].nunique()} prompts, rating-only set)",
                                 long_clips, None, "same raters, the benchmark's whole prompt set; no interval"))
    vs_judge = None
    if "judge" in dists:
        vs_judge = {f: {"value": rows[0]["figures"][f]["value"] - next(r for r in rows if r["kind"] == "judge")["figures"][f]["value"],
                        **dict(zip(("lo", "hi"), interval(dists["calibrated"][f] - dists["judge"][f])))} for f in FIGURES}
    shares = {name: source_share(X[name], clips["source"]) for name in X.columns}
    return {
        "dimension": spec.dimension, "axis": axis, "n_clips": int(len(clips)), "n_prompts": int(len(set(prompt))),
        "sources": {str(k): int(v) for k, v in clips["source"].value_counts().sort_index().items()},
        "features": list(X.columns),
        "cv": {"scheme": "prompt-grouped K-fold, repeated; nested (inner prompt-grouped K-fold) for every choice",
               **cfg.model_dump()},
        "pairs": _pairs_summary(spec, pairing, y, prompt, source),
        "rows": rows, "vs_judge": vs_judge, "choices": dict(res["choices"]), "hypers": res["hypers"],
        "source_share": {"features": shares, "calibrated": source_share(pd.Series(preds["selected"], index=clips.index), clips["source"]),
                         "human": source_share(clips["human"], clips["source"])},
        "predictions": [{"clip": str(c), "prompt": p, "source": s, "human": float(h), "predicted": float(v),
                         **({"judge": None if math.isnan(j) else float(j)} if judge_score is not None else {})}
                        for c, p, s, h, v, j in zip(clips["clip"], prompt, source, y, preds["selected"],
                                                    judge_score.to_numpy(float) if judge_score is not None else y)],
    }


def ship_decision(report: dict[str, Any], rule: Any) -> dict[str, Any]:
    """Whether the calibration's held-out figures justify shipping it as the packaged default, and why."""
    cal = report["rows"][0]["figures"]
    judge = next((r["figures"] for r in report["rows"] if r["kind"] == "judge"), None)
    reasons, ok = [], True

    def need(cond: bool, text: str) -> None:
        nonlocal ok
        ok = ok and cond
        reasons.append(("met: " if cond else "NOT met: ") + text)

    if rule.within_source_srcc_ci_low_above is not None:
        lo = cal["within_source_srcc"]["lo"]
        need(lo > rule.within_source_srcc_ci_low_above,
             f"within-source SRCC 95% CI low {lo:.3f} > {rule.within_source_srcc_ci_low_above}")
    if rule.within_prompt_accuracy_ci_low_above is not None:
        lo = cal["within_prompt_accuracy"]["lo"]
        need(lo > rule.within_prompt_accuracy_ci_low_above,
             f"within-prompt accuracy 95% CI low {lo:.3f} > {rule.within_prompt_accuracy_ci_low_above}")
    for f in rule.beats_uncalibrated_judge_on:
        if judge is None:
            need(False, f"{f}: no uncalibrated judge to compare with")
            continue
        a, b = cal[f]["value"], judge[f]["value"]
        need(not math.isnan(a) and (math.isnan(b) or a > b), f"{LABELS[f]} {a:.3f} beats the uncalibrated judge's {b:.3f}")
    return {"justified": ok, "reasons": reasons}


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))  # NaN, or null once it went through JSON


def _cell(fig: dict[str, Any], pct: bool) -> str:
    v, lo, hi = fig["value"], fig["lo"], fig["hi"]
    if _missing(v):
        return "n/a"
    fmt = (lambda x: f"{100 * x:.0f}%") if pct else (lambda x: f"{x:+.2f}")
    return fmt(v) + ("" if _missing(lo) or _missing(hi) else f" [{fmt(lo)}, {fmt(hi)}]")


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of the report (what `evalverse calibrate` prints)."""
    head = (f"Calibration of {report['dimension']} against human {report['axis']}: {report['n_clips']} clips, "
            f"{report['n_prompts']} prompts, sources {report['sources']}\n"
            f"Held-out figures ({report['cv']['folds']}-fold prompt-grouped CV x {report['cv']['repeats']} repeats, "
            f"nested; 95% bootstrap CIs over prompts, {report['cv']['bootstrap']} draws). Source SRCC rests on "
            f"{len(report['sources'])} points: it says little.")
    width = max(len(r["name"]) for r in report["rows"]) + 4
    cols = FIGURES
    lines = [head, "", "".join([f"{'':<{width}}"] + [f"{LABELS[c]:<23}" for c in cols])]
    for r in report["rows"]:
        if r["kind"] == "feature" and r is report["rows"][next(i for i, x in enumerate(report["rows"]) if x["kind"] == "feature")]:
            lines.append("single features:")
        if r["kind"] == "ceiling" and r is next(x for x in report["rows"] if x["kind"] == "ceiling"):
            lines.append("")
        flag = " !" if "against the catalogue" in r.get("note", "") else ""
        lines.append("".join([f"{r['name'] + flag:<{width}}"] + [f"{_cell(r['figures'][c], c == 'within_prompt_accuracy'):<23}"
                                                           for c in cols]))
    if report.get("vs_judge"):
        lines += ["", "".join([f"{'calibrated - judge':<{width}}"] + [f"{_cell(report['vs_judge'][c], False):<23}" for c in cols])]
    shares = report["source_share"]
    top = sorted(shares["features"].items(), key=lambda kv: -(-1 if _missing(kv[1]) else kv[1]))[:5]
    lines += ["", f"Share of variance explained by the source: human {shares['human']:.2f}, calibrated prediction "
                  f"{shares['calibrated']:.2f}; most source-bound features: "
                  + ", ".join(f"{n} {v:.2f}" for n, v in top)]
    lines.append(f"Family chosen per outer fold: {report['choices']}")
    pairs = report.get("pairs") or {}
    if pairs:
        lines.append("Bradley-Terry pairs: " + ", ".join(f"within {k} {v}" for k, v in pairs["within"].items())
                     + (f", anchors {pairs['anchors']}" if pairs.get("anchors") else ""))
    held = [(r["name"], r["anchor_accuracy"]) for r in report["rows"] if not _missing(r.get("anchor_accuracy"))]
    if held:
        lines.append("Known-order anchors of held-out prompts ordered right (a clip above its x264 copies, heavier "
                     "compression below lighter): " + ", ".join(f"{n} {100 * v:.0f}%" for n, v in held))
    if any("against the catalogue" in r.get("note", "") for r in report["rows"]):
        lines.append("!: people's ratings run against the measure's catalogue direction on these clips")
    return "\n".join(lines)
