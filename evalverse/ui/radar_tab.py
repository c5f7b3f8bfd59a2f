"""Radar tab: chosen models over the 18 dimensions or 7 aspects, machine or human win ratios."""
from __future__ import annotations

import gradio as gr

from evalverse.errors import InputError
from evalverse.leaderboard.aggregate import selected_score
from evalverse.leaderboard.figures import radar
from evalverse.ui.context import AppContext
from evalverse.ui.failsafe import failsafe_figure

TITLE = "Radar"
LEVELS = {"Dimensions": "dimension", "Aspects": "aspect"}
SOURCES = {"Machine (EvalVerse)": "machine", "Human (experts)": "human"}
DEFAULT_MODELS = 4


@failsafe_figure
def radar_figure(ctx: AppContext, models, level_label, source_label):
    if not models:
        raise InputError("Pick at least one model.")
    return radar(
        ctx.data.require_frame(), models, LEVELS.get(level_label, "dimension"),
        SOURCES.get(source_label, "machine"), ctx.dimension_order,
    )


def top_models(ctx: AppContext, k: int = DEFAULT_MODELS) -> list[str]:
    """The k best by overall machine win ratio: a readable default (all 11 overlap too much)."""
    scores = selected_score(ctx.data.require_frame(), None, "machine")
    return scores.sort_values("score", ascending=False, kind="stable")["model"].head(k).tolist()


def render(ctx: AppContext) -> None:
    frame = ctx.data.frame
    if frame is None or frame.empty:
        gr.Markdown(f"⚠️ **No leaderboard data.** {ctx.data.errors.get('frame', 'The store holds no win ratios yet.')}")
        return
    gr.Markdown(
        "Each model's win ratio per dimension (or per aspect: the mean over the aspect's dimensions the model "
        "has). A break in a line is a dimension the model was **not evaluated on**, not a zero."
    )
    names = list(dict.fromkeys(frame["model"]))
    default = top_models(ctx)
    with gr.Row():
        models = gr.CheckboxGroup(names, value=default, label="Models", scale=4, elem_id="radar-models")
        with gr.Column(scale=1):
            level = gr.Radio(list(LEVELS), value="Dimensions", label="Axes")
            source = gr.Radio(list(SOURCES), value="Machine (EvalVerse)", label="Win ratio from")
    plot = gr.Plot(radar_figure(ctx, default, "Dimensions", "Machine (EvalVerse)"), elem_id="radar-plot",
                   show_label=False)
    controls = [models, level, source]
    for control in controls:
        control.input(lambda *v: radar_figure(ctx, *v), controls, plot, show_progress="hidden",
                      trigger_mode="always_last")
