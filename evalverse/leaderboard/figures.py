"""DataFrame → plotly Figure, pure functions (no I/O, no gradio).

Input is the long win-ratio frame (see `aggregate.py`). A dimension a model was not evaluated on is
a GAP in its trace (None with `connectgaps=False`), never a zero.
"""
from __future__ import annotations

import math
from typing import Literal, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from evalverse.errors import InputError
from evalverse.leaderboard.aggregate import check_frame, dimension_order, model_order, source_column

PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939",
)
TEMPLATE = "plotly_white"


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def radar(
    frame: pd.DataFrame,
    models: Sequence[str] | None = None,
    level: Literal["dimension", "aspect"] = "dimension",
    source: Literal["machine", "human"] = "machine",
    order: Sequence[str] | None = None,
) -> go.Figure:
    """One closed polar trace per model over the dimensions (or aspects) in the frame.

    level="aspect": an aspect's value is the mean over the aspect's dimensions the model has (the same
    rule as `aggregate.aggregate`); None when it has none. `order` gives dimension names in display order.
    """
    frame = check_frame(frame)
    col = source_column(source)
    if level not in ("dimension", "aspect"):
        raise InputError(f"level must be 'dimension' or 'aspect', not {level!r}")
    known = model_order(frame)
    models = list(models) if models else known
    unknown = [m for m in models if m not in known]
    if unknown:
        raise InputError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(known)}")
    triples = dimension_order(frame, order)
    if level == "dimension":
        axes = [t[2] for t in triples]
        values = frame.pivot_table(index="model", columns="dimension", values=col, aggfunc="mean")
    else:
        axes = list(dict.fromkeys(t[1] for t in triples))
        values = frame.pivot_table(index="model", columns="aspect", values=col, aggfunc="mean")
    values = values.reindex(index=models, columns=axes)

    fig = go.Figure()
    for i, model in enumerate(models):
        r = [None if pd.isna(v) else float(v) for v in values.loc[model].tolist()]
        # close the polygon by repeating the first axis; a gap there stays a gap
        fig.add_trace(
            go.Scatterpolar(
                r=r + r[:1], theta=axes + axes[:1], name=model, mode="lines+markers",
                connectgaps=False, line={"color": _colour(i), "width": 2}, marker={"size": 5},
                hovertemplate="%{theta}: %{r:.2f}<extra>" + model + "</extra>",
            )
        )
    what = "dimensions" if level == "dimension" else "aspects"
    fig.update_layout(
        title=f"{source.capitalize()} win ratio over {len(axes)} {what}",
        polar={"radialaxis": {"range": [0, 1], "tickvals": [0.25, 0.5, 0.75, 1.0]}, "angularaxis": {"direction": "clockwise"}},
        template=TEMPLATE, legend={"orientation": "h", "y": -0.12}, margin={"l": 60, "r": 60, "t": 60, "b": 40},
        height=620,
    )
    return fig


def least_squares(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """(slope, intercept) of the ordinary least-squares line y = slope·x + intercept."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < 2 or np.ptp(x) == 0:
        raise InputError("a line needs at least two points with different x")
    dx = x - x.mean()
    slope = float((dx * (y - y.mean())).sum() / (dx * dx).sum())
    return slope, float(y.mean() - slope * x.mean())


def pearson_r(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's r; NaN when undefined (fewer than 3 points or no spread)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


CI_SIDES = ["machine_ci_low", "machine_ci_high", "human_ci_low", "human_ci_high"]


def _pairs(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    part = frame[frame["dimension"] == dimension].dropna(subset=["machine_win_ratio", "human_win_ratio"])
    extra = [c for c in CI_SIDES if c in part.columns] if all(c in part.columns for c in CI_SIDES) else []
    return part[["model", "human_win_ratio", "machine_win_ratio", *extra]]


def _r_text(r: float, n: int) -> str:
    return f"r = {r:.2f}, n = {n}" if not math.isnan(r) else f"r = n/a, n = {n}"


def _add_alignment(fig: go.Figure, part: pd.DataFrame, colours: dict[str, str], row=None, col=None, legend=True) -> float:
    x = part["human_win_ratio"].to_numpy()
    y = part["machine_win_ratio"].to_numpy()
    where = {"row": row, "col": col} if row else {}
    for i, (model, xi, yi) in enumerate(zip(part["model"], x, y)):
        bars = {}
        if "machine_ci_low" in part.columns:  # a computed source: 95 % intervals as error bars
            for axis, side, v in (("x", "human", xi), ("y", "machine", yi)):
                lo, hi = part[f"{side}_ci_low"].iloc[i], part[f"{side}_ci_high"].iloc[i]
                if pd.notna(lo) and pd.notna(hi):
                    bars[f"error_{axis}"] = {"type": "data", "symmetric": False, "array": [hi - v],
                                             "arrayminus": [v - lo], "thickness": 1, "width": 3}
        fig.add_trace(
            go.Scatter(
                x=[xi], y=[yi], mode="markers", name=model, legendgroup=model, showlegend=legend,
                marker={"size": 9, "color": colours[model], "line": {"width": 1, "color": "white"}},
                hovertemplate=f"{model}<br>human %{{x:.2f}}<br>machine %{{y:.2f}}<extra></extra>", **bars,
            ),
            **where,
        )
    if len(x) >= 2 and np.ptp(x) > 0:
        slope, intercept = least_squares(x, y)
        xs = np.array([0.0, 1.0])
        fig.add_trace(
            go.Scatter(
                x=xs, y=slope * xs + intercept, mode="lines", name="least-squares fit", legendgroup="fit",
                showlegend=legend, line={"color": "#444", "dash": "dash", "width": 1.5},
                hovertemplate=f"y = {slope:.2f}·x + {intercept:.2f}<extra>fit</extra>",
            ),
            **where,
        )
    return pearson_r(x, y)


def alignment_scatter(frame: pd.DataFrame, dimension: str) -> go.Figure:
    """Human (x) vs machine (y) win ratio per model on one dimension, with the least-squares line
    and Pearson's r in the title. Models missing either value are left out (n says how many remain)."""
    frame = check_frame(frame)
    if dimension not in set(frame["dimension"]):
        raise InputError(f"unknown dimension {dimension!r}; known: {', '.join(dict.fromkeys(frame['dimension']))}")
    colours = {m: _colour(i) for i, m in enumerate(model_order(frame))}
    part = _pairs(frame, dimension)
    fig = go.Figure()
    r = _add_alignment(fig, part, colours)
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="y = x", line={"color": "#bbb", "width": 1, "dash": "dot"},
                   hoverinfo="skip")
    )
    fig.update_layout(
        title=f"{dimension}: human vs machine win ratio ({_r_text(r, len(part))})",
        xaxis={"title": "Human win ratio", "range": [0, 1]}, yaxis={"title": "Machine win ratio", "range": [0, 1]},
        template=TEMPLATE, height=560,
    )
    return fig


def alignment_grid(frame: pd.DataFrame, columns: int = 6, order: Sequence[str] | None = None) -> go.Figure:
    """Small multiples of `alignment_scatter` for every dimension; each panel titled with its r."""
    frame = check_frame(frame)
    dims = [t[2] for t in dimension_order(frame, order)]
    if not dims:
        raise InputError("no dimensions to plot")
    columns = max(1, min(columns, len(dims)))
    rows = math.ceil(len(dims) / columns)
    parts = {d: _pairs(frame, d) for d in dims}
    titles = [f"{d} ({_r_text(pearson_r(p['human_win_ratio'], p['machine_win_ratio']), len(p))})" for d, p in parts.items()]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.03, vertical_spacing=0.09)
    colours = {m: _colour(i) for i, m in enumerate(model_order(frame))}
    for i, d in enumerate(dims):
        _add_alignment(fig, parts[d], colours, row=i // columns + 1, col=i % columns + 1, legend=(i == 0))
    # models missing from the first panel still need one legend entry
    shown = set(parts[dims[0]]["model"])
    for tr in fig.data:
        if tr.legendgroup in colours and tr.legendgroup not in shown:
            tr.showlegend = True
            shown.add(tr.legendgroup)
    fig.update_xaxes(range=[0, 1], tickvals=[0, 0.5, 1], tickfont={"size": 9})
    fig.update_yaxes(range=[0, 1], tickvals=[0, 0.5, 1], tickfont={"size": 9})
    fig.update_annotations(font_size=11)
    fig.update_layout(
        title="Human (x) vs machine (y) win ratio per dimension, least-squares line and Pearson r",
        template=TEMPLATE, height=260 * rows + 120, legend={"orientation": "h", "y": -0.06},
        margin={"l": 40, "r": 20, "t": 80, "b": 40},
    )
    return fig


def ci_plot(frame: pd.DataFrame, dimension: str, min_cases: int | None = None) -> go.Figure:
    """One dimension of a computed source: each model's machine (and human, where present) win ratio with its
    95 % bootstrap interval as error bars, best first; a model whose figure rests on too few cases is listed
    with "too few cases (n)" instead of a point. Needs the columns of `leaderboard.sources.source_frame`."""
    frame = check_frame(frame)
    need = ["machine_ci_low", "machine_ci_high", "n_cases", "machine_enough", "machine_win_ratio_raw"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise InputError(f"this source has no intervals (missing {', '.join(missing)}); pick a computed source")
    part = frame[frame["dimension"] == dimension]
    if part.empty:
        raise InputError(f"no figures for {dimension!r} in this source")
    part = part.assign(_key=part["machine_win_ratio"].fillna(-1)).sort_values("_key", ascending=True, kind="stable")
    labels = [m if ok else f"{m} · too few cases (n={int(n) if pd.notna(n) else 0})"
              for m, ok, n in zip(part["model"], part["machine_enough"], part["n_cases"])]
    fig = go.Figure()
    for side, colour in (("machine", PALETTE[0]), ("human", PALETTE[1])):
        vals = part[f"{side}_win_ratio"]
        if vals.notna().sum() == 0:
            continue
        lo, hi = part.get(f"{side}_ci_low"), part.get(f"{side}_ci_high")
        fig.add_trace(go.Scatter(
            x=vals, y=labels, mode="markers", name="Machine (EvalVerse)" if side == "machine" else "Human",
            marker={"size": 10, "color": colour, "symbol": "circle" if side == "machine" else "diamond"},
            error_x={"type": "data", "symmetric": False, "array": (hi - vals).tolist(), "arrayminus": (vals - lo).tolist(),
                     "thickness": 1.5, "width": 4},
            hovertemplate="%{y}: %{x:.2f}<extra>" + side + "</extra>"))
    fig.add_vline(x=0.5, line={"color": "#bbb", "dash": "dot", "width": 1})
    note = f" (figures over fewer than {min_cases} cases are withheld)" if min_cases else ""
    fig.update_layout(title=f"{dimension}: win ratio with 95% bootstrap interval over cases{note}",
                      xaxis={"title": "Win ratio", "range": [0, 1]}, template=TEMPLATE,
                      height=max(260, 60 + 44 * len(part)), margin={"l": 260, "r": 30, "t": 60, "b": 40},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def ratings_plot(ratings: pd.DataFrame, dimension: str = "overall") -> go.Figure:
    """Bradley–Terry ratings of one dimension (or 'overall') with their 95 % intervals and rank upper bound."""
    need = ["dimension", "model", "rating", "ci_low", "ci_high", "rank_ub"]
    missing = [c for c in need if c not in ratings.columns]
    if missing:
        raise InputError(f"ratings lack column(s) {', '.join(missing)}")
    part = ratings[ratings["dimension"] == dimension].sort_values("rating", ascending=True)
    if part.empty:
        raise InputError(f"no Bradley–Terry ratings for {dimension!r}")
    labels = [f"{m} (rank ≤ {int(r)})" for m, r in zip(part["model"], part["rank_ub"])]
    fig = go.Figure(go.Scatter(
        x=part["rating"], y=labels, mode="markers", marker={"size": 10, "color": PALETTE[2]}, name="rating",
        error_x={"type": "data", "symmetric": False, "array": (part["ci_high"] - part["rating"]).tolist(),
                 "arrayminus": (part["rating"] - part["ci_low"]).tolist(), "thickness": 1.5, "width": 4},
        hovertemplate="%{y}: %{x:.0f}<extra></extra>"))
    fig.update_layout(title=f"Bradley–Terry rating ({dimension}), 95% bootstrap interval over cases",
                      xaxis={"title": "Rating (mean 1000; +400 = 10:1 odds)"}, template=TEMPLATE,
                      height=max(260, 60 + 44 * len(part)), margin={"l": 220, "r": 30, "t": 60, "b": 40})
    return fig


def error_figure(message: str) -> go.Figure:
    """A blank figure that says what went wrong, shown in place of one that failed."""
    fig = go.Figure()
    fig.add_annotation(
        text=f"Figure unavailable:<br>{_wrap(str(message))}", x=0.5, y=0.5, xref="paper", yref="paper",
        showarrow=False, font={"size": 15, "color": "#b00020"}, align="center",
    )
    fig.update_layout(
        xaxis={"visible": False}, yaxis={"visible": False}, template=TEMPLATE, height=320,
        meta={"error": str(message)},
    )
    return fig


def _wrap(text: str, width: int = 80) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width and line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "<br>".join(lines)


# ---- one clip's scores (Diagnose, Runs, Compare) -------------------------------------------------------------

CLIP_COLOURS = ("#d62728", "#1f77b4")  # first run red, second blue, in every compare view


def score_to_unit(score: float | None, scale: Sequence[float] = (1.0, 5.0)) -> float | None:
    """A taxonomy score on [0, 1]: (s − lo) / (hi − lo), clipped (None stays None)."""
    if score is None:
        return None
    lo, hi = float(scale[0]), float(scale[1])
    return min(1.0, max(0.0, (float(score) - lo) / (hi - lo)))


def _clip_r(taxonomy, results) -> list[float | None]:
    """Per taxonomy dimension the scaled score when scored, else None (a gap: gated, not judged, missing)."""
    scale = tuple(taxonomy.score_scale)
    out = []
    for d in taxonomy.dimensions:
        res = results.get(d.id) or {}
        score = res.get("score") if res.get("status") == "scored" else None
        out.append(score_to_unit(score, scale) if score is not None and math.isfinite(float(score)) else None)
    return out


def _polar_layout(fig: go.Figure, title: str, height: int, provenance: dict | None) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 13}},
        polar={"radialaxis": {"range": [0, 1], "tickvals": [0.25, 0.5, 0.75, 1.0], "tickfont": {"size": 9}},
               "angularaxis": {"direction": "clockwise", "tickfont": {"size": 9.5}}},
        template=TEMPLATE, legend={"orientation": "h", "y": -0.12, "font": {"size": 10}},
        margin={"l": 78, "r": 78, "t": 66, "b": 24}, height=height, meta={"provenance": provenance or {}},
    )
    return fig


def clip_radar(taxonomy, results, compare=None, compare_name: str | None = None, height: int = 560,
               provenance: dict | None = None) -> go.Figure:
    """One clip's scores over every taxonomy dimension, scaled from the score scale to [0, 1] ((s − 1) / 4 on
    1–5); gated, unjudged or missing dimensions are gaps. `compare` maps dimension name → a leaderboard model's
    machine win ratio, a different quantity (share of pairwise wins, already on [0, 1]): drawn dashed and labelled.
    `provenance` (the run's provenance hash and id) is kept in the figure's meta."""
    scale = tuple(taxonomy.score_scale)
    theta = [d.name for d in taxonomy.dimensions]
    r = _clip_r(taxonomy, results)
    fig = go.Figure()
    fig.add_trace(go.Scatterpolar(
        r=r + r[:1], theta=theta + theta[:1],
        name=f"this clip: score scaled to 0–1 ((s − {scale[0]:g}) / {scale[1] - scale[0]:g})",
        mode="lines+markers", connectgaps=False, line={"color": CLIP_COLOURS[0], "width": 2.5}, marker={"size": 7},
        hovertemplate="%{theta}: %{r:.2f}<extra>this clip</extra>",
    ))
    if compare:
        c = [compare.get(name) for name in theta]
        c = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in c]
        fig.add_trace(go.Scatterpolar(
            r=c + c[:1], theta=theta + theta[:1], name=f"{compare_name}: leaderboard machine win ratio (a different scale)",
            mode="lines", connectgaps=False, line={"color": CLIP_COLOURS[1], "width": 1.5, "dash": "dash"},
            hovertemplate="%{theta}: %{r:.2f}<extra>win ratio</extra>",
        ))
    n = sum(v is not None for v in r)
    return _polar_layout(fig, f"This clip: {n} of {len(theta)} dimensions scored<br><sup>gaps: gated or not judged; "
                              f"score scaled to 0–1</sup>", height, provenance)


def runs_radar(taxonomy, runs: Sequence[tuple[str, dict]], height: int = 520,
               provenance: dict | None = None) -> go.Figure:
    """Two (or more) runs' scores on one chart, each scaled like `clip_radar`; `runs` is [(label, {dimension id:
    result})]. Gaps where a run has no score; the title says how many dimensions both scored."""
    if not runs:
        raise InputError("runs_radar needs at least one run")
    theta = [d.name for d in taxonomy.dimensions]
    fig = go.Figure()
    rs = []
    for i, (name, results) in enumerate(runs):
        r = _clip_r(taxonomy, results)
        rs.append(r)
        fig.add_trace(go.Scatterpolar(
            r=r + r[:1], theta=theta + theta[:1], name=str(name), mode="lines+markers", connectgaps=False,
            line={"color": CLIP_COLOURS[i] if i < len(CLIP_COLOURS) else _colour(i), "width": 2.2,
                  "dash": "solid" if i == 0 else "dash"}, marker={"size": 6},
            hovertemplate=f"%{{theta}}: %{{r:.2f}}<extra>{_wrap(str(name), 30)}</extra>",
        ))
    both = sum(all(r[j] is not None for r in rs) for j in range(len(theta)))
    return _polar_layout(fig, f"Scores scaled to 0–1 over {len(theta)} dimensions ({both} scored in every run)",
                         height, provenance)
