"""Annotate tab: sign in with a personal access token, get the next task (the scheduler picks it and holds it
for you), watch the outputs side by side with one control (and the real clip of the prompt when there is
one), and answer, for every dimension that applies, which output is better (or a strict ranking of three
or more), with an optional note. Outputs are shown blind (A, B, ... in an order drawn at random per task and
stored) and served under random file names; nobody sees anyone else's labels here.

Every action goes through `AnnotationService` with the signed-in token, which is checked on every call (a
revoked token stops working at once). Time spent: from when the task was shown to when the labels were sent,
shared equally among the dimensions sent together (so per task it adds up to the time spent).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gradio as gr

from evalverse.errors import AccessError, EvalVerseError, InputError
from evalverse.ui import annotate_view as view
from evalverse.ui import sync_player
from evalverse.ui.context import AppContext
from evalverse.ui.failsafe import describe
from evalverse.ui.media_links import kind_of, links_for

TITLE = "Annotate"
INTRO = (
    "Compare the outputs of several models for one prompt, dimension by dimension, the way the paper's expert "
    "panel does. Sign in with the personal access token you were given (`evalverse annotators add NAME --role "
    "annotator` prints one). The outputs are anonymous and their order is random; the one control under the "
    "players plays, pauses, seeks and loops them together."
)
MEDIA_SUFFIXES = (".mp4", ".webm", ".mov", ".m4v", ".mkv", ".avi", ".gif", ".png", ".jpg", ".jpeg", ".webp")


def service_for(ctx: AppContext):
    """The app's AnnotationService (one per context); DataError-like message when no store is open."""
    svc = getattr(ctx, "_annotation_service", None)
    if svc is None:
        if ctx.store is None:
            raise AccessError("no results database is open, so annotation is not available (see the banner)")
        from evalverse.humans.service import AnnotationService

        svc = AnnotationService(ctx.store, ctx.taxonomy)
        setattr(ctx, "_annotation_service", svc)
    return svc


def _frame_s(ctx: AppContext, shown: list[dict[str, Any]]) -> float:
    for s in shown:
        video = ctx.store.get_video(s["video_hash"]) if s.get("video_hash") else None
        fps = ((video or {}).get("meta") or {}).get("fps")
        if fps:
            return 1.0 / float(fps)
    return sync_player.FRAME_S


def _clip(value: Any) -> str | None:
    return value if isinstance(value, str) and Path(value).suffix.lower() in MEDIA_SUFFIXES else None


def players_for(ctx: AppContext, task: Any, group: str = "annotate") -> str:
    """The players for a TaskView: outputs left to right as A, B, ..., then the real clip of the prompt and
    the reference the models were given, each under an opaque name."""
    links = links_for(ctx)
    n = len(task.shown)
    outputs = [{"label": view.output_label(p, n), "url": links.url(s["video_path"], f"{task.uid}/{p}"),
                "kind": kind_of(s["video_path"] or "")} for p, s in enumerate(task.shown)]
    refs = []
    truth = _clip(task.ground_truth)
    if truth:
        refs.append({"label": "Real clip of the prompt", "url": links.url(truth, f"{task.uid}/truth"), "kind": kind_of(truth)})
    for i, ref in enumerate(task.reference or []):
        refs.append({"label": "Reference given to the models", "url": links.url(ref, f"{task.uid}/ref{i}"),
                     "kind": kind_of(ref)})
    return sync_player.players_html(outputs, refs, frame_s=_frame_s(ctx, task.shown), group=group,
                                    sticky=group == "annotate")


def task_state(token: str, name: str, task: Any) -> dict[str, Any]:
    return {"token": token, "name": name, "uid": task.uid, "case_key": task.case_key, "kind": task.kind,
            "n": len(task.shown), "dimensions": task.dimensions, "done": list(task.done), "shown_at": time.time()}


def _extra(task: Any) -> list[str]:
    lines = []
    if task.ground_truth is not None and not _clip(task.ground_truth):
        lines.append(f"Ground truth: {task.ground_truth}")
    if task.done:
        names = {d["id"]: d["name"] for d in task.dimensions}
        lines.append("You labelled already: " + ", ".join(names.get(d, d) for d in task.done))
    return lines


def load_next(ctx: AppContext, token: str, name: str, lead: str = "") -> tuple[Any, str, str, str]:
    """(state, status, task html, players html) for the next task of this annotator."""
    svc = service_for(ctx)
    task = svc.next_task(token)
    if task is None:
        return ({"token": token, "name": name, "uid": None}, view.message(
            f"{lead}No task is waiting for you, {name}: every task has its annotations or you have done it.", "info"),
            "", "")
    todo = len(task.dimensions) - len(task.done)
    status = view.message(f"{lead}Signed in as {name} (annotator). Task {task.case_key}: {todo} dimension(s) to "
                          "label; answer those you can judge, then submit.", "ok" if lead else "info")
    return (task_state(token, name, task), status, view.task_html(task, extra=_extra(task)), players_for(ctx, task))


def sign_in(ctx: AppContext, token: str | None) -> tuple[Any, str, str, str]:
    """The Sign in button: a valid annotator token gets the next task; anything else says why (and shows nothing)."""
    try:
        me = service_for(ctx).whoami((token or "").strip())
        if not me.can("annotate"):
            raise AccessError(f"{me.name}'s {me.role} token cannot annotate; that needs an annotator token "
                              "(reviewers and auditors work in the Review tab)")
        return load_next(ctx, token.strip(), me.name)
    except EvalVerseError as exc:
        return None, view.message(str(exc), "error"), "", ""
    except Exception as exc:  # noqa: BLE001 - shown, never a broken page
        return None, view.message(describe(exc), "error"), "", ""


def collect_labels(state: dict[str, Any], fields: list[tuple[str, int]], values: list[Any]) -> list[dict[str, Any]]:
    """Labels from the form's values: per dimension `k` answer fields (one radio for two outputs, one dropdown
    per place otherwise) then a note. Unanswered dimensions are left for later; a note without an answer is
    an error (it would be lost)."""
    labels, i = [], 0
    names = {d["id"]: d["name"] for d in state["dimensions"]}
    for dim, k in fields:
        answer, note = values[i:i + k], (values[i + k] or "").strip()
        i += k + 1
        if state["kind"] == "pairwise":
            label = {"dimension": dim, "choice": answer[0]} if answer[0] else None
        else:
            ranking = view.ranking_from_places(answer, state["n"])
            label = {"dimension": dim, "ranking": ranking} if ranking is not None else None
        if label is None:
            if note:
                raise InputError(f"{names.get(dim, dim)}: a note but no answer; choose an answer or clear the note")
            continue
        labels.append({**label, "note": note})
    if not labels:
        raise InputError("Choose an answer for at least one dimension before submitting.")
    return labels


def submit(ctx: AppContext, state: dict[str, Any] | None, fields: list[tuple[str, int]], values: list[Any]):
    """The Submit button: (state or gr.skip(), status, task html, players html)."""
    if not state or not state.get("uid"):
        return gr.skip(), view.message("Sign in first.", "error"), gr.skip(), gr.skip()
    try:
        labels = collect_labels(state, fields, list(values))
        seconds = max(0.0, time.time() - float(state["shown_at"])) / len(labels)
        uids = service_for(ctx).submit(state["token"], state["uid"], [{**lab, "seconds": round(seconds, 3)} for lab in labels])
    except EvalVerseError as exc:
        return gr.skip(), view.message(f"Not saved: {exc}", "error"), gr.skip(), gr.skip()
    except Exception as exc:  # noqa: BLE001
        return gr.skip(), view.message(f"Not saved: {describe(exc)}", "error"), gr.skip(), gr.skip()
    lead = f"Saved {len(uids)} label(s) on task {state['case_key']}. "
    try:
        return load_next(ctx, state["token"], state["name"], lead)
    except EvalVerseError as exc:
        return {"token": state["token"], "name": state["name"], "uid": None}, view.message(lead + str(exc), "error"), "", ""


def render(ctx: AppContext) -> None:
    gr.set_static_paths([links_for(ctx).root])  # the opaque copies, nothing else
    gr.Markdown(INTRO)
    with gr.Row(equal_height=True):
        token = gr.Textbox(label="Personal access token", type="password", placeholder="evv_...", scale=4,
                           elem_id="annotate-token")
        go = gr.Button("Sign in and get the next task", variant="primary", scale=1, elem_id="annotate-signin")
    state = gr.State(None)
    status = gr.HTML("", elem_id="annotate-status", css_template=view.CSS)
    header = gr.HTML("", elem_id="annotate-task", css_template=view.CSS)
    players = gr.HTML("", elem_id="annotate-players", js_on_load=sync_player.SYNC_JS, css_template=sync_player.CSS)

    @gr.render(inputs=state)
    def form(st):
        if not st or not st.get("uid"):
            return
        fields, components = [], []
        places = view.PLACES[: st["n"]]
        letters = [view.letter(p) for p in range(st["n"])]
        for dim in st["dimensions"]:
            if dim["id"] in st["done"]:
                continue
            with gr.Row(elem_id=f"annotate-dim-{dim['id']}", elem_classes=["ev-ann-row"], equal_height=False):
                with gr.Column(scale=3, min_width=260):
                    gr.HTML(view.guidance_html(dim), css_template=view.CSS)
                with gr.Column(scale=4, min_width=320):
                    if st["kind"] == "pairwise":
                        answers = [gr.Radio(list(view.PAIR_CHOICES), label=f"{dim['name']}: which output is better?",
                                            elem_id=f"annotate-choice-{dim['id']}")]
                    else:
                        with gr.Row():
                            answers = [gr.Dropdown(letters, value=None, label=f"{dim['name']}: {place}",
                                                   elem_id=f"annotate-rank-{dim['id']}-{i}")
                                       for i, place in enumerate(places)]
                    note = gr.Textbox(label="Note (optional)", lines=1, max_lines=4, elem_id=f"annotate-note-{dim['id']}")
            fields.append((dim["id"], len(answers)))
            components += [*answers, note]
        send = gr.Button("Submit my labels", variant="primary", elem_id="annotate-submit")
        send.click(lambda *values: submit(ctx, st, fields, values), components, [state, status, header, players],
                   show_progress="minimal")

    go.click(lambda t: sign_in(ctx, t), token, [state, status, header, players], show_progress="minimal")
    token.submit(lambda t: sign_in(ctx, t), token, [state, status, header, players], show_progress="minimal")
