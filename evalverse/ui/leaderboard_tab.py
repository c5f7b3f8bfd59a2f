"""Leaderboard tab: a source picker (the paper's Table 3, each computed bench source), the table (machine / human
per dimension; computed sources with ± intervals), aggregates and filters, and for computed sources the
per-dimension interval plot and Bradley–Terry ratings."""
from __future__ import annotations

import gradio as gr
import pandas as pd

from evalverse.errors import InputError
from evalverse.errors import DataError
from evalverse.leaderboard.aggregate import (
    CAPABILITIES,
    SELECTED_HUMAN,
    SELECTED_MACHINE,
    Filters,
    aggregate_column,
    filter_rows,
    dimension_order,
    leaderboard_table,
    paper_cells,
)
from evalverse.leaderboard.figures import ci_plot, ratings_plot
from evalverse.ui import drilldown, url_state
from evalverse.ui.context import AppContext
from evalverse.ui.failsafe import describe, failsafe_figure
from evalverse.ui.shareable import FOLLOW_JS, Shareable

TITLE = "Leaderboard"
LEVELS = {"Overall": "overall", "Per stage": "stage", "Per aspect": "aspect"}
ACCESS = {"All": "all", "Open source": "open", "Closed": "closed"}
CAPABILITY_LABELS = {"audio": "Audio", "multi_shot": "Multi-shot", "reference": "Reference input"}
RULE = (
    "**Selected (M / H)**: mean machine / human win ratio over the *selected* dimensions the model was "
    "evaluated on; **Dims** says how many of them it has. A dimension a model was not run on (e.g. sound "
    "for a silent model) is left out, never counted as zero. Cells read *machine / human* as in the "
    "paper's Table 3; – = not evaluated. Click a column header to sort by it, a dimension's cell to see the cases "
    "behind it (below the table). For a computed source "
    "(`<suite>:<judge>@<version>`), ± is half the width of the 95 % bootstrap interval over cases; a figure over "
    "too few cases reads *too few (n)* and is left out of the aggregates."
)
OVERALL_RATINGS = "overall"


def source_frame(ctx: AppContext, source: str | None) -> pd.DataFrame:
    frame = ctx.source_data(source)["frame"] if source else ctx.data.require_frame()
    if frame is None or frame.empty:
        raise DataError(f"the source {source!r} holds no win ratios")
    return frame


def source_choices(ctx: AppContext) -> list[tuple[str, str]]:
    return [(s["label"], s["source"]) for s in ctx.sources()]


@failsafe_figure
def interval_figure(ctx: AppContext, source: str | None, dimension: str | None):
    data = ctx.source_data(source)
    if data["kind"] != "bench":
        raise InputError("The paper's Table 3 has no intervals; pick a computed source.")
    if not dimension:
        raise InputError("Pick a dimension.")
    return ci_plot(data["frame"], dimension, data["min_cases"])


@failsafe_figure
def rating_figure(ctx: AppContext, source: str | None, dimension: str | None):
    data = ctx.source_data(source)
    if data["kind"] != "bench" or data["ratings"] is None:
        raise InputError("The paper's Table 3 has no Bradley–Terry ratings; pick a computed source.")
    return ratings_plot(data["ratings"], dimension or OVERALL_RATINGS)


def sort_choices(frame: pd.DataFrame, level: str) -> list[str]:
    choices = [SELECTED_MACHINE, SELECTED_HUMAN]
    if level != "overall":
        for group in dict.fromkeys(frame[level]):
            choices += [aggregate_column(group, "machine"), aggregate_column(group, "human")]
    return choices


def compute(ctx: AppContext, level_label, sort_by, stages, aspects, dims, access_label, caps, source=None):
    """(table, note, paper html, sort choices, sort_by) for the controls' values; raises EvalVerseError."""
    level = LEVELS.get(level_label, "overall")
    frame = source_frame(ctx, source)
    choices = sort_choices(frame, level)
    if sort_by not in choices:
        sort_by = SELECTED_MACHINE
    for picked, what in ((stages, "stage"), (aspects, "aspect"), (dims, "dimension")):
        if not picked:
            raise InputError(f"Select at least one {what}.")
    filters = Filters(
        stages=tuple(stages), aspects=tuple(aspects), dimensions=tuple(dims),
        access=ACCESS.get(access_label, "all"), capabilities=tuple(c for c in caps or () if c in CAPABILITIES),
    )
    table = leaderboard_table(frame, ctx.data.models, filters, level, sort_by, ctx.dimension_order)
    visible = filter_rows(frame, filters)
    visible = visible[visible["model"].isin(table["Model"])]
    if table.empty or visible.empty:
        raise InputError("No model or dimension matches these filters.")
    n_dims = visible["dimension"].nunique()
    note = (f"{len(table)} model{'s' * (len(table) != 1)} · {n_dims} dimension{'s' * (n_dims != 1)} selected · "
            f"sorted by **{sort_by}**")
    return table, note, paper_html(visible, list(table["Model"]), ctx.dimension_order), choices, sort_by


def update_table(ctx: AppContext, *values):
    """Event handler: compute() as component updates; a problem shows in place of the table."""
    try:
        table, note, paper, choices, sort_by = compute(ctx, *values)
        return _df_update(table), note, paper, gr.update(choices=choices, value=sort_by)
    except Exception as exc:  # noqa: BLE001 - shown in place of the table
        message = describe(exc)
        return _df_update(pd.DataFrame({"Problem": [message]})), f"⚠️ {message}", "", gr.update()


def _datatypes(table: pd.DataFrame) -> list[str]:
    return ["number" if pd.api.types.is_numeric_dtype(table[c]) else "str" for c in table.columns]


def _df_update(table: pd.DataFrame):
    return gr.update(value=table, datatype=_datatypes(table))


def paper_html(frame: pd.DataFrame, models: list[str], order) -> str:
    """The paper's layout with grouped headers (stage / aspect / dimension), rows in leaderboard order."""
    if frame.empty:
        return ""
    cells = paper_cells(frame, order).reindex(models).dropna(how="all")
    cells.columns = cells.columns.droplevel(0)  # stage is implied by the aspect; keeps the header compact
    table = cells.to_html(classes="ev-paper-table", border=0, na_rep="–", index_names=False)
    return f'<div class="ev-paper-scroll">{table}</div>'


def _tree(ctx: AppContext, frame: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    triples = dimension_order(frame, ctx.dimension_order)
    return (list(dict.fromkeys(t[0] for t in triples)), list(dict.fromkeys(t[1] for t in triples)), [t[2] for t in triples])


def source_updates(ctx: AppContext, name: str | None) -> tuple:
    """Updates for a newly picked source: the intervals accordion (open for a computed source), its stages, aspects
    and dimensions (all selected), the interval dimension and plot, the ratings choice and plot."""
    try:
        st, asp, ds = _tree(ctx, source_frame(ctx, name))
    except Exception:  # noqa: BLE001 - the table shows the problem
        st, asp, ds = [], [], []
    first = ds[0] if ds else None
    opened = gr.update(open=ctx.source_data(name)["kind"] == "bench") if name else gr.update()
    return (opened, gr.update(choices=st, value=st), gr.update(choices=asp, value=asp), gr.update(choices=ds, value=ds),
            gr.update(choices=ds, value=first), interval_figure(ctx, name, first),
            gr.update(choices=[OVERALL_RATINGS, *ds], value=OVERALL_RATINGS), rating_figure(ctx, name, OVERALL_RATINGS))


def render(ctx: AppContext) -> None:
    gr.Markdown(
        "Pairwise win ratios of video generation models against all other competitors, per dimension of "
        "the EvalVerse taxonomy: **machine** (EvalVerse's judge) and **human** (expert panel). Pick the paper's "
        "Table 3 or a source computed from your own suite (`evalverse bench winratios`)."
    )
    choices = source_choices(ctx)
    first_source = ctx.default_source()
    try:
        frame = source_frame(ctx, first_source) if first_source else None
    except Exception:  # noqa: BLE001 - shown below
        frame = None
    if frame is None or frame.empty:
        gr.Markdown(f"⚠️ **No leaderboard data.** {ctx.data.errors.get('frame', 'The store holds no win ratios yet.')}",
                    elem_id="leaderboard-problem")
        return
    stages, aspects, dims = _tree(ctx, frame)
    source = gr.Dropdown(choices, value=first_source, label="Source", elem_id="leaderboard-source")
    with gr.Row():
        level = gr.Radio(list(LEVELS), value="Overall", label="Aggregate", scale=2)
        sort_by = gr.Dropdown(sort_choices(frame, "overall"), value=SELECTED_MACHINE, label="Sort by", scale=2)
        access = gr.Radio(list(ACCESS), value="All", label="Access", scale=2)
        caps = gr.CheckboxGroup(
            [(CAPABILITY_LABELS[c], c) for c in CAPABILITIES], value=[], label="Model must support", scale=3
        )
    with gr.Accordion("Stages, aspects and dimensions (recompute the Selected score)", open=False):
        stage_box = gr.CheckboxGroup(stages, value=stages, label="Stages")
        aspect_box = gr.CheckboxGroup(aspects, value=aspects, label="Aspects")
        dim_box = gr.CheckboxGroup(dims, value=dims, label="Dimensions", elem_id="dimension-checkboxes")
        with gr.Row():
            all_btn = gr.Button("Select all", size="sm")
            none_btn = gr.Button("Clear dimensions", size="sm")
    defaults = ("Overall", SELECTED_MACHINE, stages, aspects, dims, "All", [], first_source)
    try:
        first, first_note, first_paper, _, _ = compute(ctx, *defaults)
    except Exception as exc:  # noqa: BLE001
        first, first_note, first_paper = pd.DataFrame({"Problem": [describe(exc)]}), f"⚠️ {describe(exc)}", ""
    note = gr.Markdown(first_note, elem_id="leaderboard-note")
    table = gr.Dataframe(
        first, datatype=_datatypes(first), label="Leaderboard", interactive=False, pinned_columns=2, max_height=640, wrap=False,
        elem_id="leaderboard-table", buttons=["copy", "fullscreen"], show_search="search",
    )
    first_kind = ctx.source_data(first_source)["kind"]
    drill = gr.HTML(drilldown.hint_html(first_kind), elem_id="leaderboard-drill", js_on_load=FOLLOW_JS)
    gr.Markdown(RULE)
    with gr.Accordion("The paper's view (grouped by stage and aspect)", open=False):
        paper = gr.HTML(first_paper, elem_id="leaderboard-paper")

    bench = first_kind == "bench"
    with gr.Accordion("Intervals and Bradley–Terry ratings (computed sources)", open=bench) as intervals:
        with gr.Row():
            ci_dim = gr.Dropdown(dims, value=dims[0] if dims else None, label="Dimension", elem_id="interval-dimension",
                                 scale=1)
        ci_plot_box = gr.Plot(interval_figure(ctx, first_source, dims[0] if dims else None), show_label=False,
                              elem_id="interval-plot")
        bt_dim = gr.Dropdown([OVERALL_RATINGS, *dims], value=OVERALL_RATINGS, label="Ratings for", elem_id="rating-dimension")
        bt_plot = gr.Plot(rating_figure(ctx, first_source, OVERALL_RATINGS), show_label=False, elem_id="rating-plot")

    controls = [level, sort_by, stage_box, aspect_box, dim_box, access, caps, source]
    outputs = [table, note, paper, sort_by]

    def refresh(*values):
        return update_table(ctx, *values)

    share = ctx.share or Shareable()  # a tab built outside build_app keeps its own (never restored)
    picked = [intervals, stage_box, aspect_box, dim_box, ci_dim, ci_plot_box, bt_dim, bt_plot]

    def pick_source(name, url):
        """A new source: its own stages, aspects and dimensions, all selected; its plots; no drill-down open."""
        kind = ctx.source_data(name)["kind"] if name else "paper"
        return (*source_updates(ctx, name), drilldown.hint_html(kind),
                url_state.update(url, **drilldown.drill_state(name, None, None)))

    source.input(pick_source, [source, share.url], picked + [drill, share.url],
                 show_progress="hidden").then(refresh, controls, outputs, show_progress="hidden")

    def open_cell(name, shown, url, evt: gr.SelectData):
        """A clicked cell: the model's cases on that dimension below the table, and the cell in the link."""
        columns = list(shown.columns) if isinstance(shown, pd.DataFrame) else []
        target = drilldown.clicked_cell(ctx.source_data(name)["frame"], columns, evt.index, evt.row_value)
        if target is None:
            return gr.skip(), gr.skip()
        model, dimension = target
        return (drilldown.drill_html(ctx, name, model, dimension),
                url_state.update(url, tab="leaderboard", **drilldown.drill_state(name, model, dimension)))

    table.select(open_cell, [source, table, share.url], [drill, share.url], show_progress="hidden",
                 scroll_to_output=True)
    share.follow(drill)

    def restore(state):
        """On page load (or a followed link to this tab): the link's source with its open drill-down."""
        names = [s for _, s in choices]
        name = state.get("source") if state.get("source") in names else None
        if name is None and not state.get("drill_model"):
            return [gr.skip()] * (len(picked) + len(outputs) + 2)
        name = name or first_source
        updates = source_updates(ctx, name)
        st, asp, ds = (u["value"] for u in updates[1:4])
        return [name, *updates, *update_table(ctx, "Overall", SELECTED_MACHINE, st, asp, ds, "All", [], name),
                drilldown.drill_html(ctx, name, state.get("drill_model"), state.get("drill_dimension"))]

    share.on_load([source, *picked, *outputs, drill], restore, tab="leaderboard")
    ci_dim.input(lambda s_, d: interval_figure(ctx, s_, d), [source, ci_dim], ci_plot_box, show_progress="hidden")
    bt_dim.input(lambda s_, d: rating_figure(ctx, s_, d), [source, bt_dim], bt_plot, show_progress="hidden")

    # `.input` fires on user edits only, so our own updates to the sort dropdown do not loop back;
    # "always_last" so quick successive clicks are not dropped while a refresh is running
    for control in controls[:-1]:
        control.input(refresh, controls, outputs, show_progress="hidden", trigger_mode="always_last")

    def select_all(name):
        try:
            return _tree(ctx, source_frame(ctx, name))
        except Exception:  # noqa: BLE001
            return stages, aspects, dims

    all_btn.click(select_all, source, [stage_box, aspect_box, dim_box]).then(
        refresh, controls, outputs, show_progress="hidden"
    )
    none_btn.click(lambda: [], None, dim_box).then(refresh, controls, outputs, show_progress="hidden")
