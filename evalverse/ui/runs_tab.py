"""Runs tab: stored diagnoses, searchable and filterable, newest first, paged by the store; one dimension across
runs sorted by score (with keyframes); a stored run opened in the same view as a fresh diagnosis (read from the
store: nothing decoded, no operator, no judge); two runs compared (players, both radars, per-dimension
differences). The filters, the open run and the compared pair are kept in the link (`shareable`).
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from evalverse.errors import EvalVerseError
from evalverse.ui import diagnose_session as session
from evalverse.ui import run_area, runs_list, url_state
from evalverse.ui.compare_view import compare_html, player_note
from evalverse.ui.context import AppContext
from evalverse.ui.progress import error_html
from evalverse.ui.shareable import Shareable

log = logging.getLogger(__name__)
TITLE = "Runs"
PAGE = 20
ANY = "any"
STATUSES = (ANY, "finished", "interrupted", "running")
INTRO = ("Every stored diagnosis, newest first. Search by prompt, clip name, hash, judge or run id; pick one "
         "dimension to see it across runs, lowest score first, with keyframes. Click a run to open it as it was "
         "diagnosed (read from the store: nothing is recomputed), or *compare* to set it beside the open one.")


def _opt(value: Any) -> str | None:
    return None if value in (None, "", ANY) else str(value)


def facets(ctx: AppContext) -> dict[str, list[str]]:
    try:
        return ctx.store.run_facets() if ctx.store is not None else {"judges": [], "suites": [], "models": []}
    except EvalVerseError as exc:
        log.warning("run facets: %s", exc)
        return {"judges": [], "suites": [], "models": []}


def listing(ctx: AppContext, state: dict[str, Any], before: int | None = None, offset: int = 0,
            ) -> tuple[str, str, int | None, bool]:
    """(list html, page line, the last row's cursor, whether there may be more) for the state's filters."""
    if ctx.store is None:
        return error_html("no results database is open, so there are no stored runs", "runs"), "", None, False
    filters = {k: _opt(state.get(k)) for k in ("judge", "suite", "model")}
    query = state.get("q")
    dimension = _opt(state.get("dimension"))
    base = {k: state.get(k) for k in url_state.KEYS if k not in ("run", "a", "b")}
    try:
        if dimension:
            with ctx.store.batch():  # one connection for the page and its keyframes
                rows = ctx.store.dimension_page(dimension, query=query, limit=PAGE, offset=offset,
                                                order=state.get("order") or "score_asc", **filters)
                frames = ctx.store.keyframes_for([r["video_hash"] for r in rows])
            html = runs_list.cases_html(rows, frames, ctx.taxonomy, dimension, base)
            return html, f"results {offset + 1}–{offset + len(rows)}" if rows else "", None, len(rows) == PAGE
        rows = ctx.store.search_runs(query=query, status=_opt(state.get("status")), limit=PAGE, before_id=before,
                                     **filters)
    except EvalVerseError as exc:
        return error_html(str(exc), "runs"), "", None, False
    show_origin = any(r.get("suite") or r.get("model") for r in rows) or bool(filters["suite"] or filters["model"])
    html = runs_list.runs_table_html(rows, url_state.run_id(state), show_origin, base)
    line = f"runs #{rows[0]['id']} to #{rows[-1]['id']}" if rows else ""
    return html, line, (rows[-1]["id"] if rows else None), len(rows) == PAGE


def open_run(ctx: AppContext, run_id: int | None) -> list[Any]:
    """The run view's outputs: box visibility, progress, overview, radar, cards, report, evidence."""
    if run_id is None:
        return [gr.update(visible=False)] + [gr.skip()] * 6
    last = None
    for up in session.open_stored_run(ctx.store, ctx.taxonomy, run_id, prefix="rv", progress_prefix="run",
                                      workdir=Path(tempfile.mkdtemp(prefix="evalverse-run-"))):
        last = up
    return [gr.update(visible=True), last.progress, last.overview or "", last.radar, last.cards or "",
            last.report_path, last.evidence or ""]


def playable(path: str | None, ctx: AppContext) -> tuple[str | None, str]:
    """(the path when Gradio can serve it, else None; why not). Served: files that still exist under the working
    folder, the temporary folder (uploads) or the media folder."""
    if not path:
        return None, "the run stored no path for it"
    p = Path(path)
    if not p.is_file():
        return None, "the file is no longer at its stored path"
    roots = [Path.cwd(), Path(tempfile.gettempdir())] + ([Path(ctx.settings.media_dir)] if ctx.settings.media_dir else [])
    real = p.resolve()
    if not any(real.is_relative_to(r.resolve()) for r in roots if r.exists()):
        return None, ("it is outside the folders this app serves (the working folder, the temporary folder and the "
                      "media folder EVALVERSE_MEDIA_DIR); set EVALVERSE_MEDIA_DIR to its folder to see it here")
    if os.path.basename(real).startswith("."):
        return None, "hidden files are not served"
    return str(real), ""


def compare_runs(ctx: AppContext, a: int | None, b: int | None) -> list[Any]:
    """The compare outputs: box visibility, player A, player B, note A, note B, radar, table."""
    if a is None or b is None:
        return [gr.update(visible=False)] + [gr.skip()] * 6
    from evalverse.leaderboard.figures import runs_radar
    from evalverse.replay import stored_report

    try:
        ra, rb = stored_report(ctx.store, a, ctx.taxonomy), stored_report(ctx.store, b, ctx.taxonomy)
    except EvalVerseError as exc:
        return [gr.update(visible=True), None, None, error_html(str(exc), "compare"), "", None, ""]
    (pa, why_a), (pb, why_b) = playable(ra.get("video"), ctx), playable(rb.get("video"), ctx)
    radar = runs_radar(ctx.taxonomy, [(f"A: run #{a}", {r["dimension"]: r for r in ra["results"]}),
                                      (f"B: run #{b}", {r["dimension"]: r for r in rb["results"]})], height=480,
                       provenance={"a": (ra.get("provenance") or {}).get("hash"), "b": (rb.get("provenance") or {}).get("hash")})
    return [gr.update(visible=True), pa, pb, player_note(ra.get("video"), pa is not None, why_a),
            player_note(rb.get("video"), pb is not None, why_b), radar, compare_html(ctx.taxonomy, ra, rb)]


def _pages(stack: list | None = None, before: int | None = None, offset: int = 0, last: int | None = None,
           more: bool = False) -> str:
    return json.dumps({"stack": stack or [], "before": before, "offset": offset, "last": last, "more": more})


def _read_pages(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    text = str(value or "").strip().lstrip("#")
    return int(text) if text.isdigit() else None


def render(ctx: AppContext) -> None:
    share = ctx.share or Shareable()
    if ctx.taxonomy is None:
        gr.Markdown("⚠️ The taxonomy could not be loaded, so stored runs cannot be shown (see the banner).")
        return
    found = facets(ctx)
    dims = [("every dimension (one row per run)", "")] + [(d.name, d.id) for d in ctx.taxonomy.dimensions]
    gr.Markdown(INTRO)
    with gr.Row(equal_height=True):
        q = gr.Textbox(label="Search", placeholder="prompt, clip name, hash, judge or run id", elem_id="runs-q", scale=3)
        judge = gr.Dropdown([ANY] + found["judges"], value=ANY, label="Judge", elem_id="runs-judge", scale=1)
        status = gr.Dropdown(list(STATUSES), value=ANY, label="Status", elem_id="runs-status", scale=1)
        suite = gr.Dropdown([ANY] + found["suites"], value=ANY, label="Suite", elem_id="runs-suite", scale=1,
                            visible=bool(found["suites"]))
        model = gr.Dropdown([ANY] + found["models"], value=ANY, label="Model", elem_id="runs-model", scale=1,
                            visible=bool(found["models"]))
        dimension = gr.Dropdown(dims, value="", label="One dimension across runs", elem_id="runs-dimension", scale=2)
        search = gr.Button("Search", elem_id="runs-search", scale=0, min_width=90)
    first, line, cursor, more = listing(ctx, {})
    table = gr.HTML(first, elem_id="runs-list", js_on_load=runs_list.ROW_CLICK_JS)
    # the pager's cursors, as JSON in a hidden box (a gr.State would hold every page open with a heartbeat)
    pages = gr.Textbox(_pages(last=cursor, more=more), visible="hidden", elem_id="runs-pages")
    with gr.Row(equal_height=False, elem_classes=["ev-runs-controls"]):
        newer = gr.Button("← Newer", elem_id="runs-newer", size="sm", scale=0, min_width=90)
        older = gr.Button("Older →", elem_id="runs-older", size="sm", scale=0, min_width=90)
        page_line = gr.Markdown(line, elem_id="runs-page")
        open_id = gr.Textbox(show_label=False, placeholder="run id", elem_id="runs-open-id", scale=0, min_width=90,
                             container=False)
        open_btn = gr.Button("Open run", elem_id="runs-open", size="sm", scale=0, min_width=90)
        cmp_a = gr.Textbox(show_label=False, placeholder="run A", elem_id="compare-a", scale=0, min_width=80,
                           container=False)
        cmp_b = gr.Textbox(show_label=False, placeholder="run B", elem_id="compare-b", scale=0, min_width=80,
                           container=False)
        cmp_btn = gr.Button("Compare", elem_id="compare-run", size="sm", scale=0, min_width=90)
    with gr.Column(visible=False, elem_id="compare-box") as cmp_box:
        gr.Markdown("### Compare: A (red) and B (blue)")
        with gr.Row():
            with gr.Column():
                video_a = gr.Video(label="A", interactive=False, elem_id="compare-video-a", height=260)
                note_a = gr.HTML("", elem_id="compare-note-a")
            with gr.Column():
                video_b = gr.Video(label="B", interactive=False, elem_id="compare-video-b", height=260)
                note_b = gr.HTML("", elem_id="compare-note-b")
        cmp_radar = gr.Plot(show_label=False, elem_id="compare-radar")
        cmp_table = gr.HTML("", elem_id="compare-view")
    with gr.Column(visible=False, elem_id="run-box") as run_box:
        area = run_area.build("run")

    filters = [q, judge, status, suite, model, dimension]
    run_outs = [run_box, area.progress, area.overview, area.radar, area.cards, area.report, area.evidence]
    cmp_outs = [cmp_box, video_a, video_b, note_a, note_b, cmp_radar, cmp_table]

    def state_of(url: str, current: Any, qv, jv, sv, suv, mv, dv) -> dict[str, Any]:
        """The view: the link's state with the filters as shown and the run open in this tab."""
        return url_state.parse(url) | {"q": qv, "judge": _opt(jv), "status": _opt(sv), "suite": _opt(suv),
                                       "model": _opt(mv), "dimension": _opt(dv), "run": _int(current)}

    def relist(state: dict[str, Any], pg: Any) -> tuple[str, str]:
        """The list again at the page it shows (after a run was opened: its row marked, compare links for it)."""
        pg = _read_pages(pg)
        html, text, _, _ = listing(ctx, state, before=pg.get("before"), offset=int(pg.get("offset") or 0))
        return html, text

    def do_search(current, qv, jv, sv, suv, mv, dv, url):
        state = state_of(url, current, qv, jv, sv, suv, mv, dv)
        html, text, last, more = listing(ctx, state)
        query = url_state.update(url_state.encode(state | {"run": url_state.parse(url).get("run")}), tab="runs")
        return html, text, _pages(last=last, more=more), query

    view_in = [open_id] + filters
    search_io = dict(inputs=view_in + [share.url], outputs=[table, page_line, pages, share.url])
    share.on_select("runs", lambda *v: do_search(*v)[:3], view_in + [share.url], [table, page_line, pages])
    search.click(do_search, **search_io)
    q.submit(do_search, **search_io)
    for comp in (judge, status, suite, model, dimension):
        comp.input(do_search, **search_io)

    def turn(step: int):
        def go(current, qv, jv, sv, suv, mv, dv, url, pg):
            state = state_of(url, current, qv, jv, sv, suv, mv, dv)
            pg = _read_pages(pg)
            stack = list(pg.get("stack") or [])
            if state.get("dimension"):
                offset = max(0, int(pg.get("offset") or 0) + step * PAGE)
                html, text, last, more = listing(ctx, state, offset=offset)
                return html, text, json.dumps(pg | {"offset": offset, "more": more})
            if step > 0:
                if pg.get("last") is None or not pg.get("more", True):
                    return gr.skip(), gr.skip(), gr.skip()
                stack.append(pg.get("before"))
                before = pg.get("last")
            else:
                before = stack.pop() if stack else None
            html, text, last, more = listing(ctx, state, before=before)
            return html, text, _pages(stack, before, last=last, more=more)
        return go

    page_io = dict(inputs=view_in + [share.url, pages], outputs=[table, page_line, pages])
    older.click(turn(1), **page_io)
    newer.click(turn(-1), **page_io)

    def do_open(value, qv, jv, sv, suv, mv, dv, url, pg):
        rid = _int(value)
        if rid is None:
            return [gr.skip()] * (len(run_outs) + 4)
        return (open_run(ctx, rid) + [str(rid), url_state.update(url, tab="runs", run=rid)]
                + list(relist(state_of(url, rid, qv, jv, sv, suv, mv, dv), pg)))

    open_io = dict(inputs=view_in + [share.url, pages], outputs=run_outs + [open_id, share.url, table, page_line],
                   scroll_to_output=True)
    open_btn.click(do_open, **open_io)
    open_id.submit(do_open, **open_io)

    def do_compare(av, bv, url):
        a, b = _int(av), _int(bv)
        if a is None or b is None:
            return [gr.skip()] * len(cmp_outs) + [gr.skip()]
        return compare_runs(ctx, a, b) + [url_state.update(url, tab="runs", a=a, b=b)]

    cmp_btn.click(do_compare, inputs=[cmp_a, cmp_b, share.url], outputs=cmp_outs + [share.url], scroll_to_output=True)

    def clicked(current, qv, jv, sv, suv, mv, dv, url, pg, evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        rid, action = _int(data.get("run")), data.get("action")
        skip_run, skip_cmp = [gr.skip()] * len(run_outs), [gr.skip()] * len(cmp_outs)
        if rid is None:
            return skip_run + skip_cmp + [gr.skip()] * 6
        if action == "compare":
            a = _int(current)
            if a is None or a == rid:  # nothing open yet: this run becomes A
                return skip_run + skip_cmp + [gr.skip(), str(rid), gr.skip(), gr.skip(), gr.skip(), gr.skip()]
            return (skip_run + compare_runs(ctx, a, rid)
                    + [gr.skip(), str(a), str(rid), url_state.update(url, tab="runs", a=a, b=rid), gr.skip(), gr.skip()])
        return (open_run(ctx, rid) + skip_cmp + [str(rid), gr.skip(), gr.skip(), url_state.update(url, tab="runs", run=rid)]
                + list(relist(state_of(url, rid, qv, jv, sv, suv, mv, dv), pg)))

    table.click(clicked, inputs=view_in + [share.url, pages],
                outputs=run_outs + cmp_outs + [open_id, cmp_a, cmp_b, share.url, table, page_line],
                scroll_to_output=True)

    def restore(state: dict[str, str]) -> list[Any]:
        choices = {"judge": [ANY] + found["judges"], "status": list(STATUSES), "suite": [ANY] + found["suites"],
                   "model": [ANY] + found["models"], "dimension": [d for _, d in dims]}
        values = [state.get("q") or ""] + [state[k] if state.get(k) in choices[k] else (ANY if k != "dimension" else "")
                                           for k in ("judge", "status", "suite", "model", "dimension")]
        state = dict(state) | {k: v for k, v in zip(("judge", "status", "suite", "model", "dimension"), values[1:])}
        html, text, last, more = listing(ctx, state)
        rid, a, b = url_state.run_id(state), url_state.run_id(state, "a"), url_state.run_id(state, "b")
        return (values + [html, text, _pages(last=last, more=more),
                          str(rid or ""), str(a or ""), str(b or "")]
                + open_run(ctx, rid) + compare_runs(ctx, a, b))

    share.on_load(filters + [table, page_line, pages, open_id, cmp_a, cmp_b] + run_outs + cmp_outs, restore, tab="runs")

