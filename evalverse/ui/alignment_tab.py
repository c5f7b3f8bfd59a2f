"""Alignment tab: how well machine win ratios follow the human ones, per dimension (table + scatter), and
EvalVerse's own calibrations against human ratings (evalverse.calibration: figures from the artifacts' reports)."""
from __future__ import annotations

import gradio as gr
import pandas as pd

from evalverse.leaderboard.aggregate import dimension_order
from evalverse.leaderboard.figures import alignment_grid, alignment_scatter
from evalverse.ui.context import AppContext
from evalverse.ui.failsafe import failsafe_figure

TITLE = "Alignment"
ALL = "All dimensions"


def _frame(ctx: AppContext, source: str | None) -> pd.DataFrame:
    if not source:
        return ctx.data.require_frame()
    frame = ctx.source_data(source)["frame"]
    if frame is None or frame.empty:
        from evalverse.errors import DataError

        raise DataError(f"the source {source!r} holds no win ratios")
    return frame


@failsafe_figure
def alignment_figure(ctx: AppContext, choice: str, source: str | None = None):
    frame = _frame(ctx, source)
    if not choice or choice == ALL:
        return alignment_grid(frame, order=ctx.dimension_order)
    return alignment_scatter(frame, choice)


HEADERS = {"dimension": "Dimension", "n_models": "n", "n": "n", "srcc": "SRCC", "p_srcc": "p (SRCC)",
           "plcc": "PLCC", "p_plcc": "p (PLCC)"}


def _is_p_value(column: str) -> bool:
    c = column.lower()
    return c == "p" or c.startswith("p_") or c.endswith(("_p", "p_value", "pvalue"))


def alignment_table(ctx: AppContext, source: str | None = None) -> pd.DataFrame:
    """The store's per-dimension correlation table for reading: p-values in scientific notation,
    correlations to 3 decimals, internal id columns dropped."""
    table = ctx.source_data(source)["alignment"] if source else ctx.data.alignment
    if table is None:
        return pd.DataFrame({"Problem": [ctx.data.errors.get("alignment", "no alignment data")]})
    out = table.drop(columns=[c for c in table.columns if c.endswith("_id")])
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        if _is_p_value(col):
            out[col] = out[col].map(lambda v: "–" if pd.isna(v) else f"{v:.1e}")
        else:
            out[col] = out[col].round(3)
    return out.rename(columns=HEADERS)


def render(ctx: AppContext) -> None:
    _render_win_ratios(ctx)
    render_calibration(ctx)


def _render_win_ratios(ctx: AppContext) -> None:
    frame = ctx.data.frame
    gr.Markdown(
        "Agreement between EvalVerse's machine win ratios and the expert panel's, per dimension, over the "
        "models evaluated on it: Spearman (SRCC) and Pearson (PLCC) correlations with their p-values and the "
        "number of models *n*. With so few models per dimension (as few as 4 for sound), read the p-values with care."
    )
    first = ctx.default_source()
    source = gr.Dropdown([(s["label"], s["source"]) for s in ctx.sources()], value=first, label="Source",
                         elem_id="alignment-source")
    gr.Markdown("For a computed source, only models whose machine and human figures both rest on enough cases "
                "count, and the scatter shows each figure's 95 % interval as error bars.")
    try:
        frame = _frame(ctx, first) if first else frame
    except Exception:  # noqa: BLE001 - shown below
        frame = None
    table = gr.Dataframe(alignment_table(ctx, first), label="Per-dimension correlation", interactive=False,
                         elem_id="alignment-table", max_height=520, buttons=["copy"])
    if frame is None or frame.empty:
        gr.Markdown(f"⚠️ **No win ratios to plot.** {ctx.data.errors.get('frame', '')}")
        return
    dims = [t[2] for t in dimension_order(frame, ctx.dimension_order)]
    choice = gr.Dropdown([ALL, *dims], value=ALL, label="Scatter for", elem_id="alignment-choice")
    plot = gr.Plot(alignment_figure(ctx, ALL, first), show_label=False, elem_id="alignment-plot")
    choice.input(lambda c, s_: alignment_figure(ctx, c, s_), [choice, source], plot, show_progress="hidden",
                 trigger_mode="always_last")

    def pick(name):
        try:
            ds = [t[2] for t in dimension_order(_frame(ctx, name), ctx.dimension_order)]
        except Exception:  # noqa: BLE001 - the figure says why
            ds = []
        return alignment_table(ctx, name), gr.update(choices=[ALL, *ds], value=ALL), alignment_figure(ctx, ALL, name)

    source.input(pick, source, [table, choice, plot], show_progress="hidden")


# ---- EvalVerse's own calibration -------------------------------------------------------------------------------

def calibration_entries(ctx: AppContext) -> list:
    from evalverse.calibration.installed import installed_calibrations

    return installed_calibrations(ctx.settings.data_dir, taxonomy=ctx.taxonomy)


def _entry(ctx: AppContext, path: str | None):
    entries = calibration_entries(ctx)
    entry = next((e for e in entries if str(e.path) == path), entries[0] if entries else None)
    if entry is None:
        from evalverse.errors import InputError

        raise InputError("no calibration fitted yet")
    return entry


def _figure(k: int):
    @failsafe_figure
    def build(ctx: AppContext, path: str | None):
        from evalverse.calibration.figures import calibration_figures

        return calibration_figures(_entry(ctx, path).artifact)[k]
    return build


cv_figure, scatter_figure, weights_figure = _figure(0), _figure(1), _figure(2)


def calibration_table(ctx: AppContext) -> pd.DataFrame:
    from evalverse.calibration.figures import calibration_summary
    from evalverse.ui.failsafe import failsafe_table

    return failsafe_table(lambda: calibration_summary(calibration_entries(ctx)))()[0]


def render_calibration(ctx: AppContext) -> None:
    gr.Markdown(
        "### EvalVerse's own calibration\nHow well the judge's calibrated score agrees with people, per dimension, "
        "on prompts the fit never saw (prompt-grouped nested cross-validation, 95% intervals over prompts), beside "
        "the human ceiling (one rater against the others), the uncalibrated judge and the best single feature. "
        "*Within-source* SRCC orders the clips of one generator: it cannot be won by recognising which model made "
        "a clip. Every number is read from the calibration artifacts (`evalverse calibrate`).")
    try:
        entries = calibration_entries(ctx)
    except Exception as exc:  # noqa: BLE001 - the section says why; the rest of the tab stays
        from evalverse.ui.failsafe import describe

        gr.Markdown(f"⚠️ **Calibrations could not be read.** {describe(exc)}")
        return
    if not entries:
        gr.Markdown("No calibration is fitted or installed yet. Import human ratings and fit one: "
                    "`evalverse humans import ../shared/media/fetv_rated_gifs/ratings.csv --format fetv`, then "
                    "`evalverse calibrate --dimension visual_quality`.", elem_id="calibration-empty")
        return
    gr.Dataframe(calibration_table(ctx), label="Calibrations (held-out figures)", interactive=False,
                 elem_id="calibration-table", buttons=["copy"])
    first = str(entries[0].path)
    choice = gr.Dropdown([(e.label, str(e.path)) for e in entries], value=first, label="Calibration",
                         elem_id="calibration-choice")
    plots = [gr.Plot(build(ctx, first), show_label=False, elem_id=f"calibration-{name}")
             for build, name in ((cv_figure, "cv"), (scatter_figure, "scatter"), (weights_figure, "weights"))]
    choice.input(lambda p: (cv_figure(ctx, p), scatter_figure(ctx, p), weights_figure(ctx, p)), choice, plots,
                 show_progress="hidden")
