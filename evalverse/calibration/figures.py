"""Calibration figures for the Alignment tab: report data -> plotly Figure, pure (no I/O, no gradio).

Each figure carries its provenance (the artifact id or report it was drawn from) in `layout.meta` and a
caption, so a stored or exported figure can be traced to the fit that made it.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from evalverse.calibration.metrics import FIGURES, pearson, spearman
from evalverse.calibration.report import LABELS
from evalverse.errors import InputError
from evalverse.leaderboard.figures import PALETTE, TEMPLATE, least_squares

ROW_COLOURS = {"model": "#1f77b4", "judge": "#d62728", "feature": "#7f7f7f", "ceiling": "#2ca02c", "family": "#9467bd"}


def _provenance(fig: go.Figure, provenance: str | None) -> go.Figure:
    if provenance:
        fig.update_layout(meta={"provenance": provenance})
        fig.add_annotation(text=f"source: {provenance}", x=0, y=-0.18, xref="paper", yref="paper", showarrow=False,
                           font={"size": 10, "color": "#777"}, xanchor="left")
    return fig


def predicted_vs_human(predictions: pd.DataFrame | Sequence[dict], title: str = "Held-out prediction vs human score",
                       provenance: str | None = None) -> go.Figure:
    """Human mean score (x) vs held-out predicted score (y) per clip, coloured by source, with the
    least-squares line and SRCC/PLCC in the title. Needs columns human, predicted, source (clip optional)."""
    df = pd.DataFrame(predictions)
    missing = {"human", "predicted", "source"} - set(df.columns)
    if missing:
        raise InputError(f"predicted_vs_human needs columns human, predicted, source; missing {sorted(missing)}")
    df = df.dropna(subset=["human", "predicted"])
    fig = go.Figure()
    for i, (source, part) in enumerate(df.groupby("source", sort=True)):
        fig.add_trace(go.Scatter(
            x=part["human"], y=part["predicted"], mode="markers", name=str(source),
            marker={"size": 8, "color": PALETTE[i % len(PALETTE)], "line": {"width": 1, "color": "white"}},
            text=part["clip"] if "clip" in part else None,
            hovertemplate="%{text}<br>human %{x:.2f}<br>predicted %{y:.2f}<extra>" + str(source) + "</extra>"))
    x, y = df["human"].to_numpy(float), df["predicted"].to_numpy(float)
    if len(x) >= 2 and np.ptp(x) > 0:
        slope, intercept = least_squares(x, y)
        xs = np.array([x.min(), x.max()])
        fig.add_trace(go.Scatter(x=xs, y=slope * xs + intercept, mode="lines", name="least-squares fit",
                                 line={"color": "#444", "dash": "dash", "width": 1.5},
                                 hovertemplate=f"y = {slope:.2f}x + {intercept:.2f}<extra>fit</extra>"))
    s, p = spearman(x, y), pearson(x, y)
    stats = "n/a" if math.isnan(s) else f"SRCC {s:.2f}, PLCC {p:.2f}"
    fig.update_layout(title=f"{title} ({stats}, n = {len(df)})", xaxis={"title": "Human score (mean of raters)"},
                      yaxis={"title": "Predicted score"}, template=TEMPLATE, height=520)
    return _provenance(fig, provenance)


def _pick(rows: list[dict[str, Any]], kinds: Sequence[str]) -> list[dict[str, Any]]:
    return [r for r in rows if r["kind"] in kinds]


def cv_figures(rows: list[dict[str, Any]], figures: Sequence[str] = FIGURES, best_features: int = 1,
               provenance: str | None = None) -> go.Figure:
    """Grouped bars per figure: the calibrated model, the uncalibrated judge, the best single feature(s) (by
    clip SRCC) and the human ceiling(s), each with its 95% interval as error bars."""
    if not rows:
        raise InputError("cv_figures needs report rows")
    unknown = [f for f in figures if f not in FIGURES]
    if unknown:
        raise InputError(f"unknown figure(s) {unknown}; known: {list(FIGURES)}")
    feats = sorted(_pick(rows, ["feature"]), key=lambda r: -np.nan_to_num(r["figures"]["clip_srcc"]["value"], nan=-9))
    shown = _pick(rows, ["model"]) + _pick(rows, ["judge"]) + feats[:best_features] + _pick(rows, ["ceiling"])
    fig = go.Figure()
    for k, r in enumerate(shown):
        vals = [r["figures"][f]["value"] for f in figures]
        lo = [r["figures"][f]["lo"] for f in figures]
        hi = [r["figures"][f]["hi"] for f in figures]
        plus = [None if (h is None or math.isnan(h)) else h - v for v, h in zip(vals, hi)]
        minus = [None if (l is None or math.isnan(l)) else v - l for v, l in zip(vals, lo)]
        colour = ROW_COLOURS.get(r["kind"], "#999")
        fig.add_trace(go.Bar(
            x=[LABELS[f] for f in figures], y=vals, name=r["name"],
            marker={"color": colour, "opacity": 1.0 if r["kind"] != "ceiling" or k == len(shown) - 1 else 0.6},
            error_y={"type": "data", "array": plus, "arrayminus": minus, "visible": True},
            hovertemplate="%{x}: %{y:.2f}<extra>" + r["name"] + "</extra>"))
    fig.update_layout(barmode="group", title="Held-out agreement with people (95% CIs over prompts) beside the human ceiling",
                      yaxis={"title": "SRCC / PLCC / accuracy", "range": [-1, 1]}, template=TEMPLATE, height=480)
    fig.add_hline(y=0.5, line={"dash": "dot", "color": "#bbb"}, annotation_text="chance accuracy",
                  annotation_position="bottom right")
    return _provenance(fig, provenance)


def feature_weights(weights: pd.DataFrame | Sequence[dict], provenance: str | None = None, top: int = 15) -> go.Figure:
    """Horizontal bars of which features carry the weight: `importance` (mean |contribution|, score points)
    when given, else |weight|; coloured by the weight's sign (blue raises the prediction, red lowers it)."""
    df = pd.DataFrame(weights)
    if "feature" not in df.columns or not ({"weight", "importance"} & set(df.columns)):
        raise InputError("feature_weights needs columns feature and weight and/or importance")
    size = df["importance"] if "importance" in df else df["weight"].abs()
    df = df.assign(_size=size).sort_values("_size", ascending=True).tail(top)
    signs = df["weight"] if "weight" in df else pd.Series([None] * len(df), index=df.index)
    colours = ["#999" if s is None or pd.isna(s) else ("#1f77b4" if s >= 0 else "#d62728") for s in signs]
    hover = [f"{f}<br>{'weight %+.3f per SD' % w if w is not None and not pd.isna(w) else 'non-linear model'}"
             for f, w in zip(df["feature"], signs)]
    fig = go.Figure(go.Bar(x=df["_size"], y=df["feature"], orientation="h", marker={"color": colours},
                           hovertext=hover, hoverinfo="text"))
    fig.update_layout(title="Which features carry the weight (blue raises the score, red lowers it)",
                      xaxis={"title": "mean |contribution| (score points)" if "importance" in df else "|weight| per SD"},
                      template=TEMPLATE, height=max(320, 28 * len(df) + 120), margin={"l": 320})
    return _provenance(fig, provenance)


# ---- EvalVerse's own calibrations (the Alignment tab), from the artifacts' reports ------------------------------

SUMMARY_FIGURES = ("clip_srcc", "within_prompt_accuracy", "within_source_srcc")


def _first(rows: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((r for r in rows if r.get("kind") == kind), None)


def _triple(row: dict[str, Any] | None) -> str:
    if row is None:
        return "n/a"
    from evalverse.calibration.report import _cell

    return " / ".join(_cell(row["figures"][f], f == "within_prompt_accuracy").split(" [")[0] for f in SUMMARY_FIGURES)


def _anchors(cal: dict[str, Any] | None, judge: dict[str, Any] | None) -> str:
    """The share of known-order anchors (a clip above its x264 copies) of held-out prompts ordered right."""
    from evalverse.calibration.report import _missing

    def pct(row: dict[str, Any] | None) -> str:
        v = (row or {}).get("anchor_accuracy")
        return "n/a" if _missing(v) else f"{100 * v:.0f}%"

    return "n/a" if _missing((cal or {}).get("anchor_accuracy")) else f"{pct(cal)}; {pct(judge)}"


def calibration_summary(entries: Sequence[Any]) -> pd.DataFrame:
    """One row per calibration (entries: objects with `artifact`, `status`, `applied`, `problem`, as
    evalverse.calibration.installed lists them): its held-out figures with 95% CIs, beside the human ceiling,
    the uncalibrated judge and the best single feature on the same clips, and the ship rule's verdict. Every
    number comes from the artifact's own cross-validated report."""
    from evalverse.calibration.report import _cell

    out = []
    for e in entries:
        a = e.artifact
        rows = a.cv.get("rows") or []
        cal, judge, ceiling = _first(rows, "model"), _first(rows, "judge"), _first(rows, "ceiling")
        feats = sorted((r for r in rows if r.get("kind") == "feature"),
                       key=lambda r: -np.nan_to_num(r["figures"]["clip_srcc"]["value"], nan=-9))
        best = feats[0] if feats else None
        ship = (a.cv.get("ship") or {}).get("justified")
        record = {"Dimension": a.dimension, "Against": f"{a.target.axis.replace('_', ' ')} ({a.target.source})",
                  "Calibration": a.id, "Status": e.status + (" (applied)" if e.applied else " (refused)" if e.problem
                                                            else " (not applied)"),
                  "Model": f"{a.model.fitted_by}, {a.training.get('n_clips', '?')} clips / {a.training.get('n_prompts', '?')} prompts"}
        for f in SUMMARY_FIGURES:
            record[LABELS[f]] = _cell(cal["figures"][f], f == "within_prompt_accuracy") if cal else "n/a"
        record["Human ceiling (clip / pairs / within)"] = _triple(ceiling)
        record["Uncalibrated judge"] = _triple(judge)
        record["Best single feature"] = f"{best['name']}: {_triple(best)}" if best else "n/a"
        record["Compression order (held-out; judge)"] = _anchors(cal, judge)
        record["Ship rule"] = "n/a" if ship is None else ("met" if ship else "not met")
        out.append(record)
    return pd.DataFrame(out)


def artifact_weights(artifact: Any) -> pd.DataFrame:
    """feature, unit, weight, importance of an artifact: its report's table (mean |contribution| over the
    training clips) when recorded, else the linear weights (score change per training SD)."""
    recorded = artifact.cv.get("weights")
    if recorded:
        return pd.DataFrame(recorded)
    weights = getattr(artifact.model, "weights", None)
    if weights is None:
        raise InputError(f"calibration {artifact.id} records no feature importance and is not linear")
    return pd.DataFrame({"feature": [f.name for f in artifact.features], "unit": [f.unit for f in artifact.features],
                         "weight": weights})


def calibration_figures(artifact: Any) -> tuple[go.Figure, go.Figure, go.Figure]:
    """(held-out figures beside the ceiling, human-vs-predicted scatter with its fit, feature weights) of one artifact."""
    rows = artifact.cv.get("rows") or []
    preds = artifact.cv.get("predictions") or []
    if not rows or not preds:
        raise InputError(f"calibration {artifact.id} carries no cross-validated report (rows and held-out predictions)")
    axis = artifact.target.axis.replace("_", " ")
    return (cv_figures(rows, provenance=artifact.id),
            predicted_vs_human(preds, title=f"Held-out prediction vs people's {axis}", provenance=artifact.id),
            feature_weights(artifact_weights(artifact), provenance=artifact.id))
