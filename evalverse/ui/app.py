"""Compose the Gradio app from tab modules. Each tab is a module with `TITLE` and `render(ctx)`;
a new tab (e.g. Diagnose) is one more module appended to `TABS` (or passed as `tabs=`)."""
from __future__ import annotations

import html
from types import ModuleType
from typing import Any, Sequence

import gradio as gr

from evalverse.config import Settings
from evalverse.ui import (about_tab, alignment_tab, annotate_tab, diagnose_tab, leaderboard_tab, radar_tab, review_tab,
                          reward_api, runs_tab, styles, suite_tab, taxonomy_tab)
from evalverse.ui.context import AppContext, open_context
from evalverse.ui.shareable import Shareable

TABS: tuple[ModuleType, ...] = (diagnose_tab, runs_tab, leaderboard_tab, radar_tab, alignment_tab, annotate_tab, review_tab,
                                taxonomy_tab, suite_tab, about_tab)
TITLE = "EvalVerse: judge AI-generated video the way a film crew would"

CSS = """
.ev-banner { background: #fff4e5; border: 1px solid #f0a030; border-radius: 6px; padding: 10px 14px; color: #5a3800; }
.ev-banner p { margin: 2px 0; }
.ev-paper-scroll { overflow-x: auto; max-width: 100%; }
.ev-paper-table { border-collapse: collapse; font-size: 12px; width: 100%; }
.ev-paper-table th, .ev-paper-table td { border: 1px solid #ddd; padding: 3px 6px; text-align: center; white-space: nowrap; }
.ev-paper-table thead th { background: #f4f6fa; }
.ev-paper-table tbody th { text-align: left; }
footer { display: none !important; }
"""


def launch_options(settings: Settings | AppContext | None = None) -> dict[str, Any]:
    """Keyword arguments for `Blocks.launch()`: in Gradio 6 theme and CSS go there, not to Blocks(); with
    `settings`, Gradio's own upload limit too, so a file over the size limit is refused before it is stored."""
    options: dict[str, Any] = {"theme": gr.themes.Soft(), "css": CSS + styles.CSS}
    if settings is not None:
        s = settings.settings if isinstance(settings, AppContext) else settings
        options["max_file_size"] = diagnose_tab.max_upload_bytes(s.limits)
        if s.media_dir is not None:  # stored runs of media-folder clips play in the Runs tab's compare view
            options["allowed_paths"] = [str(s.media_dir)]
    return options


def banner_html(warnings: Sequence[str]) -> str:
    items = "".join(f"<p>⚠️ {html.escape(w)}</p>" for w in warnings)
    return f'<div class="ev-banner" id="ev-warning">{items}</div>' if warnings else ""


def build_app(settings: Settings | AppContext, tabs: Sequence[ModuleType] = TABS) -> gr.Blocks:
    """The app for `settings` (opens store, seed and taxonomy; problems become a banner) or a ready context."""
    ctx = settings if isinstance(settings, AppContext) else open_context(settings)
    with gr.Blocks(title="EvalVerse", analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}")
        gr.HTML(banner_html(ctx.warnings), visible=bool(ctx.warnings), elem_id="ev-banner")
        ctx.share = Shareable()  # the view kept in the page address (tab, filters, open run, compared pair)
        with gr.Tabs(elem_id="ev-tabs") as tab_set:
            for tab in tabs:
                name = tab.__name__.rsplit(".", 1)[-1]
                with gr.Tab(tab.TITLE, id=name) as block:
                    _render_safely(tab, ctx)
                ctx.share.tab(name.removesuffix("_tab"), block, name)
        ctx.share.install(demo, tab_set)
        reward_api.register(ctx)  # JSON-in, JSON-out /reward (evalverse.reward over HTTP)
    demo.evalverse_context = ctx  # for tests and for closing the store on shutdown
    return demo


def _render_safely(tab: ModuleType, ctx: AppContext) -> None:
    """A tab that fails to build shows its error; the other tabs still work."""
    try:
        tab.render(ctx)
    except Exception as exc:  # noqa: BLE001
        from evalverse.ui.failsafe import describe

        gr.Markdown(f"⚠️ **This tab could not be built.** {describe(exc)}")
