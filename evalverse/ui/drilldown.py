"""Leaderboard drill-down: from one cell (a model on a dimension) to the cases behind it.

For a source computed from an own suite (`<suite>:<judge>@<version>`), the model's stored results on that dimension,
lowest score first, each with its keyframe strip, score, verdict line and a link to the full run: the Runs tab's
per-case list (`Store.dimension_page` + `Store.keyframes_for` rendered by `runs_list.cases_html`), restricted to the
suite, the model and the judge's version. The links are real addresses (`?tab=diagnose&run=ID…`, keeping this view's
state); inside the app they open the stored run in the Diagnose tab, read from the store without recomputing
(`Shareable.follow`), and one more link lists the same cases in the Runs tab. For the paper's
Table 3 the cell says why there is nothing to list: the paper publishes only win ratios.
"""
from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from evalverse.errors import EvalVerseError
from evalverse.leaderboard.aggregate import dimension_columns, format_ci
from evalverse.ui import runs_list, url_state
from evalverse.ui.markup import esc, ident
from evalverse.ui.progress import error_html

LIMIT = 100  # results listed at most (an FETV suite has 25 cases a model); the Runs tab pages through all
MODEL_COLUMN = "Model"
BENCH_HINT = ("Click a dimension cell of a model to see the cases behind it: each clip's keyframes, score and "
              "verdict, lowest score first, with a link to its full run.")
PAPER_HINT = ("Click a dimension cell to see what stands behind it. The paper's Table 3 publishes win ratios only, "
              "so it has no cases to list; pick a source computed from your own suite for that.")
HOW_TO_BENCH = ("To see the clips behind a number, run your own suite (<code>evalverse bench run --suite … --model … "
                "--videos …</code> per model, then <code>evalverse bench winratios --suite …</code>) and pick that "
                "source above.")


def hint_html(kind: str) -> str:
    return f'<div class="ev-meta" id="drill-hint">{esc(PAPER_HINT if kind == "paper" else BENCH_HINT)}</div>'


def clicked_cell(frame: pd.DataFrame | None, columns: Sequence[str], index: Any, row_value: Any
                 ) -> tuple[str, str] | None:
    """(model, dimension id) of a clicked leaderboard cell: `columns` are the shown table's headers, `index` the
    event's (row, column) and `row_value` the clicked row as shown (so a table sorted in the browser still gives
    the right model). None for a cell that is not a dimension's (rank, model, aggregates) or a problem table."""
    if frame is None or not isinstance(index, (list, tuple)) or len(index) != 2 or row_value is None:
        return None
    columns, row = list(columns), list(row_value)
    try:
        header = columns[int(index[1])]
        model = row[columns.index(MODEL_COLUMN)]
    except (ValueError, IndexError, TypeError):
        return None
    dimension = dimension_columns(frame).get(header)
    if dimension is None or model is None or str(model) not in set(frame["model"].astype(str)):
        return None
    return str(model), dimension


def drill_state(source: str | None, model: str | None, dimension: str | None) -> dict[str, Any]:
    """The link keys of an open drill-down (None removes them)."""
    return {"source": source, "drill_model": model, "drill_dimension": dimension}


def _cell(frame: pd.DataFrame, model: str, dimension: str) -> Any:
    rows = frame[(frame["model"].astype(str) == model) & (frame["dimension_id"].astype(str) == dimension)]
    return rows.iloc[0] if len(rows) else None


def _figure_line(row: Any, kind: str) -> str:
    """What the cell says, in words: 'machine 0.67 ±0.21 over 6 cases · human –'."""
    if row is None:
        return "no win ratio for this model on this dimension"
    if kind != "bench":
        return (f"machine win ratio {format_ci(row['machine_win_ratio'], None, None)} · "
                f"human {format_ci(row['human_win_ratio'], None, None)}")
    n = row.get("n_cases")
    machine = format_ci(row.get("machine_win_ratio"), row.get("machine_ci_low"), row.get("machine_ci_high"), n,
                        bool(row.get("machine_enough")))
    human = format_ci(row.get("human_win_ratio"), row.get("human_ci_low"), row.get("human_ci_high"),
                      row.get("human_n_cases"), bool(row.get("human_enough")))
    over = f" over {int(n)} case{'s' * (int(n) != 1)}" if n is not None and not pd.isna(n) else ""
    return f"machine win ratio {machine}{over} · human {human}"


def _dimension_name(ctx: Any, dimension: str) -> str:
    try:
        return ctx.taxonomy.dimension(dimension).name
    except (KeyError, AttributeError):
        return dimension


def drill_html(ctx: Any, source: str | None, model: str | None, dimension: str | None) -> str:
    """The drill-down of one cell (a hint when none is open); problems are shown in its place."""
    try:
        data = ctx.source_data(source)
    except EvalVerseError as exc:
        return error_html(str(exc), "drill")
    kind, frame = data["kind"], data["frame"]
    if not model or not dimension:
        return hint_html(kind)
    if frame is None or frame.empty or "dimension_id" not in frame.columns:
        return error_html(f"the source {source!r} holds no win ratios", "drill")
    row = _cell(frame, model, dimension)
    title = (f'<div class="ev-drill-head"><b>{esc(model)}</b> · {esc(_dimension_name(ctx, dimension))} '
             f'<span class="ev-meta">{esc(source or "paper")}</span></div>'
             f'<div class="ev-drill-figure">{esc(_figure_line(row, kind))}</div>')
    attrs = f'id="drill" data-model="{esc(model)}" data-dimension="{ident(dimension)}" data-kind="{kind}"'
    if kind != "bench":
        return (f'<div class="ev-drill" {attrs}>{title}<div class="ev-note" id="drill-not-public">The paper publishes '
                f'only its win ratios (Table 3): the videos and per-video judgments behind them are not public, so '
                f'there are no cases to list for this cell. {HOW_TO_BENCH}</div></div>')
    info = ctx.store.bench.source(source) if ctx.store is not None else None
    if info is None:
        return error_html(f"the store holds no description of the source {source!r}", "drill")
    where = {"suite": info["suite"], "model": model, "judge": info["judge"]}
    base = drill_state(source, model, dimension) | {"tab": "leaderboard", **where, "dimension": dimension}
    try:
        with ctx.store.batch():  # one connection for the page and its keyframes
            rows = ctx.store.dimension_page(dimension, judge_version=info["judge_version"], limit=LIMIT, **where)
            frames = ctx.store.keyframes_for([r["video_hash"] for r in rows])
    except EvalVerseError as exc:
        return error_html(str(exc), "drill")
    listing = runs_list.cases_html(rows, frames, ctx.taxonomy, dimension, base, run_tab="diagnose")
    all_runs = "?" + url_state.encode(base | {"tab": "runs"})
    more = (f"the first {LIMIT} of them; " if len(rows) == LIMIT else "")
    note = (f'<div class="ev-meta">{len(rows)} stored result{"s" * (len(rows) != 1)} of {esc(info["judge"])} '
            f'{esc(info["judge_version"])} on suite {esc(info["suite"])} ({more}click one to open its full run, read '
            f'from the store) · <a href="{esc(all_runs)}" id="drill-all">all in the Runs tab</a></div>')
    return f'<div class="ev-drill" {attrs}>{title}{note}{listing}</div>'
