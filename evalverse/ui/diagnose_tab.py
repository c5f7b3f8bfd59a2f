"""Diagnose tab: drop a clip (or pick a sample / a file from the media folder), watch the evidence being
extracted, then each dimension's card fill in, stage → aspect → dimension, with the evidence behind it.

The click handler is a generator (`api_name="diagnose"`), so the browser and `gradio_client` both receive
every update as it happens. It closes over the app context only; each call has its own state and temp folder.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import gradio as gr

from evalverse.ui import diagnose_session as session
from evalverse.ui import run_area, url_state
from evalverse.ui.context import AppContext
from evalverse.ui.progress import progress_html
from evalverse.ui.run_view import Update
from evalverse.ui.shareable import Shareable

TITLE = "Diagnose"
CONCURRENCY = 2  # diagnoses running at once; more requests wait in the queue (CPU-bound work)
INTRO = (
    "Drop a generated clip and get an expert-style diagnosis, dimension by dimension: objective evidence first "
    "(shots, faces, camera, colour, sound…), then a judge answers the taxonomy's expert questions and says why. "
    "Greyed cards are gated (not applicable to this clip); *not judged* means the evidence could not answer "
    "enough questions to give a score, which is never invented."
)


def max_upload_bytes(limits) -> int:
    """Gradio's `max_file_size`: the same limit the media layer applies (`MediaLimits.max_file_mb`, 10^6 bytes
    a MB), so the upload itself is refused (HTTP 413) before anything is stored."""
    return int(limits.max_file_mb * 1e6)


def judges_markdown(choices: list[session.JudgeChoice]) -> str:
    rows = ["| Judge | Can run here | Notes |", "|---|---|---|"]
    for c in choices:
        note = c.description if c.available else c.why
        rows.append(f"| `{c.name}` | {'yes' if c.available else 'no'} | {note.replace('|', '/')} |")
    return "\n".join(rows)


def _models(ctx: AppContext) -> list[str]:
    frame = ctx.data.frame
    if frame is None or frame.empty:
        return []
    return list(dict.fromkeys(frame["model"]))


def outputs(up: Update, first: bool, url: str | None = None) -> tuple[Any, ...]:
    """An update as the tab's outputs: progress, overview, cards, evidence, radar, report, url state."""
    keep = gr.skip()
    return (
        up.progress,
        up.overview if up.overview is not None else keep,
        up.cards if up.cards is not None else keep,
        up.evidence if up.evidence is not None else keep,
        up.radar if up.radar is not None else (None if first else keep),
        up.report_path if up.report_path is not None else (None if first else keep),
        url_state.update(url, tab="diagnose", run=up.run_id) if url is not None and up.done and up.run_id else keep,
    )


def make_handler(ctx: AppContext) -> Callable[..., Iterator[tuple[Any, ...]]]:
    """The streaming event handler; outputs: progress, overview, cards, evidence, radar, report file, url state."""

    def diagnose(video: str | None = None, sample: str | None = None, media_file: str | None = None,
                 prompt: str | None = None, reference: str | None = None, mode: str = "t2v", judge: str = "evidence",
                 compare_model: str | None = None, use_cache: bool = True,
                 url: str | None = None) -> Iterator[tuple[Any, ...]]:
        try:
            path = session.choose_video(_path(video), sample, media_file, ctx.settings)
            compare = session.leaderboard_compare(ctx.data.frame, compare_model)
        except Exception as exc:  # noqa: BLE001
            from evalverse.ui.failsafe import describe

            yield (progress_html("Cannot start", {}, error=describe(exc)), "", "", gr.skip(), None, None, gr.skip())
            return
        workdir = Path(tempfile.mkdtemp(prefix="evalverse-diagnose-"))
        first = True
        for up in session.run_diagnosis(path, ctx.settings, ctx.store, ctx.taxonomy, prompt=prompt,
                                        reference=_path(reference), mode=mode or "t2v", judge=judge or "evidence",
                                        use_cache=bool(use_cache), compare=compare, compare_name=compare_model,
                                        workdir=workdir):
            yield outputs(up, first, url)
            first = False

    return diagnose


def restore(ctx: AppContext, state: dict[str, str]) -> list[Any]:
    """On page load: a stored run named by the link (`?tab=diagnose&run=ID`) is shown here, from the store."""
    rid = url_state.run_id(state)
    if state.get("tab") != "diagnose" or rid is None:
        return [gr.skip()] * 6
    last = None
    for up in session.open_stored_run(ctx.store, ctx.taxonomy, rid, prefix="ev", progress_prefix="diagnose"):
        last = up
    return list(outputs(last, True)[:6]) if last is not None else [gr.skip()] * 6


def _path(value: Any) -> str | None:
    """A file input as a path (gradio gives a str; API callers may send a FileData-like dict)."""
    if not value:
        return None
    if isinstance(value, dict):
        return value.get("path") or None
    if isinstance(value, (list, tuple)):
        return _path(value[0]) if value else None
    return str(value)


def render(ctx: AppContext) -> None:
    settings = ctx.settings
    if ctx.taxonomy is None:
        gr.Markdown("⚠️ The taxonomy could not be loaded, so clips cannot be diagnosed (see the banner).")
        return
    limits = settings.limits
    choices = session.judge_choices(settings)
    default_judge = next((c.name for c in choices if c.available), choices[0].name if choices else "evidence")
    media = session.list_media(settings.media_dir)
    gr.Markdown(INTRO)
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            video = gr.File(
                label=(f"Upload a video: mp4, webm, mov, mkv, avi (at most {limits.max_file_mb:g} MB, "
                       f"{limits.max_duration_s:g} s, {limits.max_pixels / 1e6:.1f} MP)"),
                file_count="single", type="filepath", elem_id="diagnose-upload",
            )
            sample = gr.Dropdown(
                choices=[label for label, _ in session.list_samples()], value=None, label="…or a sample clip",
                info="Licence-clean clips shipped in assets/samples (sources and licences in LICENSES.md there)",
                elem_id="diagnose-sample",
            )
            media_file = gr.Dropdown(
                choices=media, value=None, label=f"…or a file from the media folder ({settings.media_dir})",
                visible=settings.media_dir is not None, elem_id="diagnose-media",
            )
            prompt = gr.Textbox(label="Generation prompt (optional: enables context-aware gating)", lines=2,
                                elem_id="diagnose-prompt")
            reference = gr.File(label="Reference image or video (optional, for r2v)", file_count="single",
                                type="filepath", elem_id="diagnose-reference")
            mode = gr.Radio(["t2v", "r2v"], value="t2v", label="Task mode",
                            info="Sound and multi-shot dimensions follow from the clip itself", elem_id="diagnose-mode")
            judge = gr.Dropdown(choices=[(c.label, c.name) for c in choices], value=default_judge, label="Judge",
                                elem_id="diagnose-judge")
            with gr.Accordion("Judge backends and why some cannot run", open=False):
                gr.Markdown(judges_markdown(choices))
            compare = gr.Dropdown(choices=_models(ctx), value=None, label="Compare the radar with a leaderboard model",
                                  info="Its machine win ratio is a different scale from this clip's score",
                                  elem_id="diagnose-compare")
            use_cache = gr.Checkbox(value=True, label="Reuse a cached diagnosis of the same clip and settings")
            run = gr.Button("Diagnose", variant="primary", elem_id="diagnose-run")
        with gr.Column(scale=3):
            area = run_area.build("diagnose", progress_html("Choose a clip and press Diagnose", {}), evidence_heading=True)
    share = ctx.share or Shareable()  # a tab built outside build_app keeps its own (never restored)
    outs = area.outputs
    run.click(
        make_handler(ctx),
        inputs=[video, sample, media_file, prompt, reference, mode, judge, compare, use_cache, share.url],
        outputs=outs + [share.url],
        api_name="diagnose",
        concurrency_limit=CONCURRENCY,
    )
    share.bind("sample", sample, lambda: [label for label, _ in session.list_samples()])
    share.bind("media", media_file, lambda: session.list_media(settings.media_dir))
    share.on_load(outs, lambda state: restore(ctx, state), tab="diagnose")
