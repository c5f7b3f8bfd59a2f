"""Suite tab: verify a suite builder's annotation beside the clip. Pick an annotation file (written by
`evalverse suite annotate`) and a clip; its keyframes, the clip itself (when it lies in the media folder),
its attributes and every field with the operator and version that produced it are shown. A correction
(clip or shot, field, new value) is stored with who (the person behind a personal access token) and when;
corrected values win whenever the annotation is read. The CSV route (`evalverse suite verify export` /
`import`) does the same for many clips at once."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

from evalverse.ui.context import AppContext

TITLE = "Suite"
FIELD_HEADERS = ["field", "value", "produced by", "note"]


def field_rows(view: Any, shot: int | None = None) -> list[list[str]]:
    """The fields of a clip (or of one shot) as table rows: name, value, operator+version or who corrected it."""
    fields = view.fields if shot is None else next(s for s in view.shots if s["index"] == shot)["fields"]
    rows = []
    for name, entry in fields.items():
        value = entry.get("value")
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if entry.get("corrected"):
            by = f"corrected by {entry['corrected']['who']} ({entry['corrected']['at']})"
            note = f"detected: {json.dumps(entry.get('detected'), ensure_ascii=False)}"
        else:
            by = f"{entry['operator']} {entry['version']} ({entry.get('backend') or '-'})"
            note = f"{entry['status']}: {entry.get('why')}" if entry.get("status") else ""
        rows.append([name, text[:200], by, note])
    return rows


def attribute_markdown(view: Any) -> str:
    attrs = ", ".join(f"**{k}** {v}" for k, v in view.attributes.items() if v is not None)
    return f"`{view.clip}` ({len(view.shots)} shot(s), sha256 {view.sha256[:12]}…): {attrs}"


def correction(view: Any, shot_choice: str, name: str, text: str, who: str, note: str = "") -> dict[str, Any]:
    """The correction a form makes; InputError when the value is not allowed for the field."""
    from evalverse.curation.verify import CLIP_NAMES, SHOT_NAMES, _current, parse_value
    from evalverse.curation.vocabulary import load_vocabulary
    from evalverse.errors import InputError

    shot = None if shot_choice in ("", "clip") else int(shot_choice.split()[-1])
    allowed = CLIP_NAMES if shot is None else SHOT_NAMES
    if name not in allowed:
        raise InputError(f"{name!r} cannot be corrected {'for a clip' if shot is None else 'per shot'}; "
                         f"choose one of {', '.join(allowed)}")
    try:
        new = parse_value(name, text, load_vocabulary())
    except ValueError as exc:
        raise InputError(str(exc)) from None
    row = None if shot is None else next(s for s in view.shots if s["index"] == shot)
    return {"clip_sha256": view.sha256, "clip": view.clip, "shot": shot, "field": name,
            "old_value": _current(view, name, row), "new_value": new, "who": who, "source": "app", "note": note}


def _keyframes(view: Any) -> list[tuple[Any, str]]:
    from PIL import Image

    out = []
    for s in view.shots:
        k = s.get("keyframe")
        if k and view.base is not None and (view.base / k["path"]).is_file():
            with Image.open(view.base / k["path"]) as img:
                out.append((img.copy(), f"shot {s['index']} at {k['time_s']} s"))
    return out


def _playable(ctx: AppContext, path: str) -> str | None:
    """The clip's path when it lies inside the media folder the app may serve, else None."""
    media = ctx.settings.media_dir
    if media is None:
        return None
    try:
        p, root = Path(path).resolve(strict=True), Path(media).expanduser().resolve(strict=True)
    except OSError:
        return None
    return str(p) if root in p.parents else None


def render(ctx: AppContext) -> None:
    from evalverse.curation.verify import CLIP_NAMES, load_views
    from evalverse.ui.failsafe import describe

    gr.Markdown("Check what `evalverse suite annotate` found in each clip and correct what is wrong. "
                "Corrections need a personal access token (`evalverse annotators add NAME --role annotator`).")
    views_state = gr.State({})
    with gr.Row():
        meta_path = gr.Textbox(label="annotation file (META.jsonl)", scale=4, elem_id="suite-meta")
        load = gr.Button("Load", scale=1, elem_id="suite-load")
    clip = gr.Dropdown(label="clip", choices=[], elem_id="suite-clip")
    summary = gr.Markdown(elem_id="suite-summary")
    with gr.Row():
        gallery = gr.Gallery(label="keyframes", columns=4, height=220)
        video = gr.Video(label="clip (files in the media folder only)", interactive=False)
    table = gr.Dataframe(headers=FIELD_HEADERS, interactive=False, wrap=True, elem_id="suite-fields")
    with gr.Row():
        shot = gr.Dropdown(label="correct", choices=["clip"], value="clip")
        name = gr.Dropdown(label="field", choices=list(CLIP_NAMES), value=CLIP_NAMES[0])
        value = gr.Textbox(label="new value (empty: none)")
        token = gr.Textbox(label="personal access token", type="password")
    note = gr.Textbox(label="note (optional)")
    save = gr.Button("Store correction", elem_id="suite-save")
    status = gr.Markdown(elem_id="suite-status")

    def do_load(path: str):
        try:
            views = load_views(path.strip(), ctx.store)
        except Exception as exc:  # noqa: BLE001 - shown, never raised
            return {}, gr.update(choices=[], value=None), f"⚠️ {describe(exc)}"
        return views, gr.update(choices=list(views), value=next(iter(views), None)), f"{len(views)} clip(s)"

    def do_show(views: dict, name_: str | None):
        v = views.get(name_) if name_ else None
        if v is None:
            return "", [], None, [], gr.update(choices=["clip"], value="clip")
        shots = ["clip"] + [f"shot {s['index']}" for s in v.shots]
        return (attribute_markdown(v), _keyframes(v), _playable(ctx, v.record["path"]), field_rows(v),
                gr.update(choices=shots, value="clip"))

    def do_save(path: str, views: dict, name_: str, shot_: str, field_: str, text: str, token_: str, note_: str):
        from evalverse.humans.roles import authenticate

        try:
            if ctx.store is None:
                raise RuntimeError("no results database is open")
            person = authenticate(ctx.store, token_)
            ctx.store.add_field_corrections([correction(views[name_], shot_, field_, text, person.name, note_)])
            fresh = load_views(path.strip(), ctx.store)
        except Exception as exc:  # noqa: BLE001
            return views, f"⚠️ {describe(exc)}", gr.update()
        return fresh, f"stored: {field_} of {name_} ({shot_}) by {person.name}", field_rows(fresh[name_])

    load.click(do_load, [meta_path], [views_state, clip, status])
    clip.change(do_show, [views_state, clip], [summary, gallery, video, table, shot])
    save.click(do_save, [meta_path, views_state, clip, shot, name, value, token, note], [views_state, status, table])
