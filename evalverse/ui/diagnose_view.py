"""Pure builders for the Diagnose tab: dimension cards, operator progress, evidence panels, the clip radar.

Everything here takes plain data (taxonomy objects, DimensionResult dicts, EvidenceRecord dicts) and
returns HTML strings or plotly figures; nothing reads files or imports gradio. Every piece of text that
comes from a model, an operator, a transcript or the user goes through `esc` (html.escape), and numbers
go through `num`, so nothing a model writes can become markup. Colours in style attributes are checked
against a strict hex pattern first.
"""
from __future__ import annotations

import html
import math
import re
from typing import Any, Iterable, Mapping, Sequence

import plotly.graph_objects as go

STATUS_LABEL = {
    "scored": "scored", "gated": "gated", "not_judged": "not judged", "unparsed": "unparsed", "error": "error",
    "pending": "waiting for evidence", "judging": "judging…",
}
OPERATOR_TITLES = {
    "shots": "Shots", "faces": "Faces", "people": "People", "features": "Visual consistency", "speech": "Transcript",
    "lipsync": "Lip-sync", "camera": "Camera motion", "quality": "Image quality", "colour": "Colour palette",
    "audio": "Audio loudness",
}
PANEL_ORDER = ("shots", "faces", "features", "people", "camera", "lipsync", "speech", "colour", "audio", "quality")
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
SERIES_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")

CSS = """
#diagnose-cards .ev-stage { margin: 8px 0 4px; font-size: 17px; font-weight: 700; }
#diagnose-cards .ev-aspect { margin: 6px 0 4px 4px; font-size: 14px; font-weight: 600; color: #445; }
.ev-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 10px; margin-bottom: 6px; }
.ev-card { border: 1px solid #d5d9e2; border-radius: 8px; padding: 10px 12px; background: #fff; color: #222; }
.ev-card.ev-s-gated, .ev-card.ev-s-pending { background: #f1f2f4; color: #8a8f98; border-style: dashed; }
.ev-card.ev-s-judging { border-color: #5b8def; }
.ev-card.ev-s-error, .ev-card.ev-s-unparsed { border-color: #d9534f; }
.ev-card-head { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
.ev-card-name { font-weight: 700; font-size: 15px; }
.ev-card-desc { font-size: 12px; color: #667; margin: 2px 0 6px; }
.ev-badge { border-radius: 12px; padding: 2px 9px; font-size: 13px; font-weight: 700; white-space: nowrap; color: #fff; background: #8a8f98; }
.ev-badge.ev-b1 { background: #c0392b; } .ev-badge.ev-b2 { background: #e67e22; } .ev-badge.ev-b3 { background: #b7950b; }
.ev-badge.ev-b4 { background: #27ae60; } .ev-badge.ev-b5 { background: #1e8449; }
.ev-badge.ev-b-none { background: #fff; color: #666; border: 1px solid #aaa; }
.ev-gate { font-size: 13px; font-style: italic; }
.ev-rationale { white-space: pre-wrap; font-family: inherit; font-size: 12.5px; margin: 4px 0; max-height: 220px; overflow-y: auto; background: transparent; border: 0; padding: 0; }
.ev-links { font-size: 12px; margin-top: 4px; } .ev-links a { margin-right: 6px; }
.ev-answers { font-size: 12px; margin: 2px 0 0 14px; padding: 0; }
.ev-progress table { border-collapse: collapse; font-size: 12.5px; } .ev-progress td, .ev-progress th { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; }
.ev-error { background: #fdecea; border: 1px solid #d9534f; border-radius: 6px; padding: 8px 12px; color: #7a1c16; }
.ev-note { background: #eef4ff; border: 1px solid #9bb7ef; border-radius: 6px; padding: 6px 12px; color: #1f3b73; }
.ev-panel { border: 1px solid #d5d9e2; border-radius: 8px; padding: 8px 12px; margin: 8px 0; background: #fff; color: #222; }
.ev-panel h4 { margin: 0 0 4px; } .ev-panel .ev-meta { font-size: 12px; color: #667; }
.ev-strip { display: flex; gap: 8px; overflow-x: auto; } .ev-shot { font-size: 12px; text-align: center; }
.ev-shot img { display: block; height: 72px; border-radius: 4px; }
.ev-swatch { display: inline-block; width: 46px; height: 30px; border-radius: 4px; margin-right: 4px; border: 1px solid #ccc; }
.ev-words { font-size: 12px; line-height: 1.8; } .ev-word { background: #f3f5f9; border-radius: 3px; padding: 1px 4px; margin-right: 3px; }
.ev-kv { font-size: 12.5px; } .ev-kv b { font-weight: 600; }
"""


# ---- small helpers ---------------------------------------------------------------------------------------------

def esc(value: Any) -> str:
    """Text for HTML: always escaped, quotes included."""
    return html.escape("" if value is None else str(value), quote=True)


def num(value: Any, digits: int = 2, unit: str = "") -> str:
    """A number for display ("–" when missing or not finite)."""
    if isinstance(value, bool) or value is None:
        return "–" if value is None else ("yes" if value else "no")
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    return f"{v:.{digits}f}{unit}"


def _id(value: Any) -> str:
    """An id/anchor fragment: only [a-z0-9_-] survive."""
    return re.sub(r"[^a-z0-9_-]", "", str(value).lower())[:64]


def panel_anchor(operator: str) -> str:
    return f"ev-panel-{_id(operator)}"


def score_to_unit(score: float | None, scale: Sequence[float] = (1.0, 5.0)) -> float | None:
    """A 1–5 taxonomy score on [0, 1] (None stays None)."""
    if score is None:
        return None
    lo, hi = float(scale[0]), float(scale[1])
    return min(1.0, max(0.0, (float(score) - lo) / (hi - lo)))


def score_badge(result: Mapping[str, Any] | None, state: str | None = None, scale: Sequence[float] = (1.0, 5.0)) -> str:
    """The badge of a card: the score out of the scale maximum when scored, else the status (never a score)."""
    status = (result or {}).get("status") or state or "pending"
    score = (result or {}).get("score")
    if status == "scored" and score is not None and math.isfinite(float(score)):
        band = int(min(5, max(1, round(float(score)))))
        return f'<span class="ev-badge ev-b{band}" data-score="{float(score):.3f}">{float(score):.1f} / {num(scale[1], 0)}</span>'
    return f'<span class="ev-badge ev-b-none">{esc(STATUS_LABEL.get(status, status))}</span>'


# ---- dimension cards --------------------------------------------------------------------------------------------

def dimension_card(dim: Any, result: Mapping[str, Any] | None = None, streaming: str = "", state: str = "pending",
                   scale: Sequence[float] = (1.0, 5.0), available_panels: Iterable[str] = ()) -> str:
    """One dimension: name, badge, gate reason or rationale (streamed text while judging), answers, evidence links."""
    status = (result or {}).get("status") or state
    parts = [
        f'<div class="ev-card ev-s-{_id(status)}" id="ev-card-{_id(dim.id)}" data-dimension="{_id(dim.id)}" data-status="{_id(status)}">',
        f'<div class="ev-card-head"><span class="ev-card-name">{esc(dim.name)}</span>{score_badge(result, state, scale)}</div>',
        f'<div class="ev-card-desc">{esc(dim.description)}</div>',
    ]
    if result is None:
        if streaming:
            parts.append(f'<pre class="ev-rationale">{esc(streaming)}</pre>')
        elif state == "pending":
            needs = ", ".join(OPERATOR_TITLES.get(k, k) for k in dim.evidence if k != "metadata") or "the judge"
            parts.append(f'<div class="ev-gate">waiting for: {esc(needs)}</div>')
    else:
        if status == "gated":
            parts.append(f'<div class="ev-gate">Not applicable: {esc(result.get("gate_reason") or "gated")}</div>')
        elif status in ("not_judged", "unparsed", "error"):
            parts.append(f'<div class="ev-gate">{esc(STATUS_LABEL.get(status, status).capitalize())}: no score given.</div>')
        rationale = (result.get("rationale") or "").strip()
        if rationale:
            parts.append(f'<pre class="ev-rationale">{esc(rationale)}</pre>')
        reflection = (result.get("reflection") or "").strip()
        if reflection:
            parts.append(f'<details><summary>Reflection</summary><pre class="ev-rationale">{esc(reflection)}</pre></details>')
        if status == "unparsed" and result.get("raw_text"):
            parts.append(f'<details><summary>Raw model output</summary><pre class="ev-rationale">{esc(result["raw_text"])}</pre></details>')
        parts.append(_answers(result.get("answers") or []))
    links = _evidence_links(dim, result, set(available_panels))
    if links:
        parts.append(links)
    parts.append("</div>")
    return "".join(parts)


def _answers(answers: Sequence[Mapping[str, Any]]) -> str:
    if not answers:
        return ""
    answered = sum(a.get("answer") is not None for a in answers)
    items = "".join(
        f"<li><code>{esc(a.get('question_id'))}</code>: {esc(_say(a.get('answer')))} — {esc(a.get('basis'))}</li>"
        for a in answers
    )
    return (f'<details><summary>Expert questions: {answered} of {len(answers)} answered</summary>'
            f'<ul class="ev-answers">{items}</ul></details>')


def _say(answer: Any) -> str:
    if answer is None:
        return "not answered"
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    return num(answer, 1)


def _evidence_links(dim: Any, result: Mapping[str, Any] | None, available: set[str]) -> str:
    """Links to the panels the judge cited (evidence_used), else to the kinds the taxonomy names for it."""
    used = list((result or {}).get("evidence_used") or []) or [k for k in dim.evidence if k != "metadata"]
    links = []
    for op in dict.fromkeys(used):
        title = esc(OPERATOR_TITLES.get(op, op))
        if op in available:
            links.append(f'<a href="#{panel_anchor(op)}" class="ev-link" data-operator="{_id(op)}">{title}</a>')
        else:
            links.append(f'<span class="ev-link-missing" title="no evidence panel">{title}</span>')
    return f'<div class="ev-links">Evidence: {" ".join(links)}</div>' if links else ""


def cards_html(taxonomy: Any, results: Mapping[str, Mapping[str, Any]], streaming: Mapping[str, str] | None = None,
               dimensions: Sequence[str] | None = None, judging: str | None = None,
               available_panels: Iterable[str] = ()) -> str:
    """All cards of the run, grouped stage → aspect → dimension in taxonomy order."""
    streaming = streaming or {}
    wanted = set(dimensions) if dimensions else None
    scale = tuple(taxonomy.score_scale)
    panels = tuple(available_panels)
    out = ['<div class="ev-cards">']
    for stage in taxonomy.stages:
        stage_html = []
        for aspect in stage.aspects:
            cards = [
                dimension_card(d, results.get(d.id), streaming.get(d.id, ""),
                               "judging" if d.id == judging else "pending", scale, panels)
                for d in aspect.dimensions if wanted is None or d.id in wanted
            ]
            if cards:
                stage_html.append(f'<div class="ev-aspect">{esc(aspect.name)}</div><div class="ev-grid">{"".join(cards)}</div>')
        if stage_html:
            out.append(f'<div class="ev-stage">{esc(stage.name)}</div>' + "".join(stage_html))
    out.append("</div>")
    return "".join(out)


def summary_line(results: Mapping[str, Mapping[str, Any]], total: int) -> str:
    counts: dict[str, int] = {}
    for r in results.values():
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    bits = ", ".join(f"{n} {STATUS_LABEL.get(k, k)}" for k, n in counts.items())
    return f"{len(results)} of {total} dimensions done" + (f" ({esc(bits)})" if bits else "")


# ---- progress ---------------------------------------------------------------------------------------------------

def progress_html(stage: str, operators: Mapping[str, Mapping[str, Any]], note: str = "", error: str = "",
                  elapsed: float | None = None) -> str:
    """Where the run is: a status line, then per operator: name, backend, seconds, status."""
    head = f"<b>{esc(stage)}</b>" + (f" · {elapsed:.1f} s" if elapsed is not None else "")
    rows = "".join(
        f"<tr><td>{esc(OPERATOR_TITLES.get(name, name))}</td><td>{esc(op.get('backend') or '–')}</td>"
        f"<td>{num(op.get('seconds'), 2, ' s')}</td><td>{esc(op.get('status'))}{' (cached)' if op.get('cached') else ''}</td>"
        f"<td>{esc(op.get('message') or '')}</td></tr>"
        for name, op in operators.items()
    )
    table = ("<table><tr><th>Evidence</th><th>Backend</th><th>Time</th><th>Status</th><th>Note</th></tr>"
             f"{rows}</table>") if rows else ""
    parts = [f'<div class="ev-progress" id="diagnose-progress-inner">{head}']
    if error:
        parts.append(f'<div class="ev-error" id="diagnose-error">{esc(error)}</div>')
    if note:
        parts.append(f'<div class="ev-note">{esc(note)}</div>')
    parts.append(table + "</div>")
    return "".join(parts)


def error_html(message: str) -> str:
    return f'<div class="ev-error" id="diagnose-error">{esc(message)}</div>'


# ---- evidence panels --------------------------------------------------------------------------------------------

def _series(obj: Any) -> tuple[list[float], list[float | None]]:
    if not isinstance(obj, Mapping):
        return [], []
    t, v = obj.get("times") or [], obj.get("values") or []
    n = min(len(t), len(v))
    out_t, out_v = [], []
    for i in range(n):
        try:
            ti = float(t[i])
        except (TypeError, ValueError):
            continue
        vi = v[i]
        out_t.append(ti)
        out_v.append(float(vi) if isinstance(vi, (int, float)) and math.isfinite(float(vi)) else None)
    return out_t, out_v


def line_chart(series: Sequence[tuple[str, Sequence[float], Sequence[float | None]]], width: int = 560, height: int = 140,
               y_label: str = "", x_max: float | None = None, zero_line: bool = True,
               x_labels: tuple[str, str] | None = None, min_span: float = 0.0) -> str:
    """A small inline SVG line chart (no script): polylines split at gaps, axes with min/max labels."""
    pts = [(x, y) for _, xs, ys in series for x, y in zip(xs, ys) if y is not None]
    if not pts:
        return '<div class="ev-meta">no data points</div>'
    x0 = 0.0
    x1 = max(x_max or 0.0, max(p[0] for p in pts), 1e-6)
    ys = sorted(p[1] for p in pts)
    # robust range (2nd-98th percentile) once there are enough points; outliers are drawn at the edge
    k = len(ys) // 50 if len(ys) >= 50 else 0
    y0, y1 = ys[k], ys[len(ys) - 1 - k]
    clipped = ys[0] < y0 or ys[-1] > y1
    if zero_line:
        y0, y1 = min(y0, 0.0), max(y1, 0.0)
    if y1 - y0 < min_span:  # so that measurement noise on a flat signal is not blown up to full height
        mid = (y0 + y1) / 2
        y0, y1 = mid - min_span / 2, mid + min_span / 2
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 1, y1 + 1
    pad_l, pad_b, pad_t = 44, 18, 6
    w, h = width - pad_l - 6, height - pad_b - pad_t

    def sx(x: float) -> float:
        return pad_l + (x - x0) / (x1 - x0) * w

    def sy(y: float) -> float:
        return pad_t + (1 - (min(max(y, y0), y1) - y0) / (y1 - y0)) * h

    svg = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" class="ev-chart">',
           f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="#fafbfc" stroke="#ddd"/>']
    if zero_line and y0 < 0 < y1:
        svg.append(f'<line x1="{pad_l}" x2="{pad_l + w}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" stroke="#bbb" stroke-dasharray="3 3"/>')
    legend = []
    for i, (name, xs, ys) in enumerate(series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        run: list[str] = []
        for x, y in list(zip(xs, ys)) + [(None, None)]:
            if y is None or x is None:
                if len(run) > 1:
                    svg.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{" ".join(run)}"/>')
                elif len(run) == 1:
                    cx, cy = run[0].split(",")
                    svg.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{colour}"/>')
                run = []
            else:
                run.append(f"{sx(x):.1f},{sy(y):.1f}")
        legend.append(f'<span style="color:{colour}">■</span> {esc(name)}')
    svg.append(f'<text x="{pad_l - 4}" y="{pad_t + 9}" font-size="10" text-anchor="end">{num(y1, 2)}</text>')
    svg.append(f'<text x="{pad_l - 4}" y="{pad_t + h}" font-size="10" text-anchor="end">{num(y0, 2)}</text>')
    left, right = x_labels or ("0 s", f"{num(x1, 1)} s")
    svg.append(f'<text x="{pad_l}" y="{height - 4}" font-size="10">{esc(left)}</text>')
    svg.append(f'<text x="{pad_l + w}" y="{height - 4}" font-size="10" text-anchor="end">{esc(right)}</text>')
    svg.append("</svg>")
    label = f' <span class="ev-meta">({esc(y_label)})</span>' if y_label else ""
    if clipped:
        label += ' <span class="ev-meta">[axis clipped to the 2nd–98th percentile]</span>'
    return f'<div class="ev-meta">{" ".join(legend)}{label}</div>' + "".join(svg)


def _kv(pairs: Sequence[tuple[str, str]]) -> str:
    return '<div class="ev-kv">' + " · ".join(f"<b>{esc(k)}</b> {v}" for k, v in pairs) + "</div>"


def _panel(op: str, record: Mapping[str, Any], body: str) -> str:
    status = record.get("status", "?")
    meta = (f'{esc(record.get("backend") or "–")} · {num(record.get("seconds"), 2, " s")} · {esc(status)}'
            + (" (cached)" if record.get("cached") else ""))
    message = f'<div class="ev-gate">{esc(record["message"])}</div>' if record.get("message") else ""
    return (f'<section class="ev-panel" id="{panel_anchor(op)}" data-operator="{_id(op)}">'
            f'<h4>{esc(OPERATOR_TITLES.get(op, op))}</h4><div class="ev-meta">{meta}</div>{message}{body}</section>')


def shots_panel(res: Mapping[str, Any]) -> str:
    items = []
    for s in res.get("shots") or []:
        idx = s.get("index")
        uri = s.get("thumbnail")  # the keyframe from the pipeline's one decode, kept with the shots evidence
        img = f'<img src="{esc(uri)}" alt="shot {esc(idx)} keyframe">' if uri and uri.startswith("data:image/jpeg;base64,") else ""
        items.append(f'<div class="ev-shot">{img}shot {esc(idx)}: {num(s.get("start"), 2)}–{num(s.get("end"), 2)} s'
                     f'<br><span class="ev-meta">{esc(s.get("transition"))}</span></div>')
    cuts = ", ".join(num(c, 2, " s") for c in res.get("cuts") or []) or "none"
    return (_kv([("shots", esc(res.get("n_shots"))), ("cuts at", esc(cuts)), ("mean shot", num(res.get("mean_shot_s"), 2, " s")),
                 ("method", esc(res.get("method")))]) + f'<div class="ev-strip">{"".join(items)}</div>')


def faces_panel(res: Mapping[str, Any], duration: float | None = None) -> str:
    ic = res.get("identity_consistency") or {}
    head = _kv([("face in frames", num(100 * float(res.get("frames_with_face_ratio") or 0), 0, " %")),
                ("tracks", esc(res.get("n_tracks"))), ("identities", esc(res.get("n_identities"))),
                ("identity switches", esc(res.get("n_identity_switches"))),
                ("within-track similarity", num(ic.get("within_track_mean"), 3)),
                ("across shots", num(ic.get("across_shots_mean"), 3)),
                ("embedder", esc(res.get("embedder")))])
    # one row per track: its time span, labelled with its identity similarity (consistency to its centroid)
    tracks = [t for t in res.get("tracks") or [] if isinstance(t, Mapping)][:12]
    timeline = ""
    if tracks:
        end = max([float(duration or 0)] + [float(t.get("end") or 0) for t in tracks]) or 1.0
        rows = []
        for i, t in enumerate(tracks):
            x0 = 90 + float(t.get("start") or 0) / end * 440
            x1 = 90 + float(t.get("end") or 0) / end * 440
            sim = t.get("consistency_mean")
            shade = "#27ae60" if sim is not None and float(sim) >= 0.8 else ("#e67e22" if sim is not None else "#8a8f98")
            rows.append(f'<text x="0" y="{14 + i * 18}" font-size="11">track {esc(t.get("id"))}</text>'
                        f'<rect x="{x0:.1f}" y="{4 + i * 18}" width="{max(x1 - x0, 2):.1f}" height="12" fill="{shade}"/>'
                        f'<text x="{x1 + 4:.1f}" y="{14 + i * 18}" font-size="10">sim {num(sim, 2)} (min {num(t.get("consistency_min"), 2)})</text>')
        timeline = (f'<div class="ev-meta">Face tracks over time (0–{num(end, 1)} s) with identity similarity to the track centroid</div>'
                    f'<svg width="640" height="{10 + 18 * len(tracks)}" class="ev-chart">{"".join(rows)}</svg>')
    mouth_t, mouth_v = _series(res.get("mouth_open_series"))
    mouth = line_chart([("mouth opening", mouth_t, mouth_v)], y_label="main face", x_max=duration, zero_line=False) if mouth_t else ""
    return head + timeline + mouth


def features_panel(res: Mapping[str, Any], duration: float | None = None) -> str:
    t1, v1 = _series(res.get("to_first"))
    t2, v2 = _series(res.get("to_previous"))
    head = _kv([("mean frame-to-frame (in shot)", num(res.get("mean_to_previous_in_shot"), 3)),
                ("lowest in shot", num(res.get("min_to_previous_in_shot"), 3)),
                ("abrupt changes", esc(len(res.get("abrupt_changes") or []))), ("backend", esc(res.get("backend")))])
    chart = line_chart([("similarity to first frame", t1, v1), ("to previous sample", t2, v2)],
                       y_label=str(res.get("similarity") or "similarity"), x_max=duration, zero_line=False) if t1 or t2 else ""
    return head + chart


def camera_panel(res: Mapping[str, Any], duration: float | None = None) -> str:
    series = []
    for key, name in (("pan_series", "pan"), ("tilt_series", "tilt"), ("zoom_series", "zoom"), ("roll_series", "roll")):
        t, v = _series(res.get(key))
        if t:
            series.append((name, t, v))
    shots = "; ".join(f"shot {esc(s.get('index'))}: {esc(s.get('label'))}" for s in (res.get("shots") or [])[:12]
                      if isinstance(s, Mapping))
    head = _kv([("dominant", esc(res.get("dominant"))), ("shake", num(res.get("shake_pct_w"), 3, " % width")),
                ("smoothness", num(res.get("smoothness"), 2)), ("dynamic degree", num(res.get("dynamic_degree"), 2)),
                ("hand-held", num(res.get("handheld")))])
    chart = line_chart(series, y_label="pan/tilt % width/s, zoom %/s, roll °/s", x_max=duration, min_span=6.0) if series else ""
    return head + (f'<div class="ev-meta">{shots}</div>' if shots else "") + chart


def lipsync_panel(res: Mapping[str, Any]) -> str:
    head = _kv([("offset", num(res.get("offset_ms"), 0, " ms")), ("confidence", num(res.get("confidence"), 3)),
                ("detectable by viewers", num(res.get("detectable"))), ("zero-lag correlation", num(res.get("zero_lag_corr"), 3)),
                ("method", esc(res.get("method")))])
    curve = (res.get("envelope") or {}).get("curve") or {}
    lags = [float(x) / 1000.0 for x in curve.get("lags_ms") or []]
    corr = curve.get("corr") or []
    chart = ""
    if lags and corr:
        # shift lags to start at 0 for the chart's x axis, keep the real range in the label
        lo = min(lags)
        chart = line_chart([("mouth/voice correlation", [x - lo for x in lags], [c if isinstance(c, (int, float)) else None for c in corr])],
                           y_label="correlation against audio lag",
                           x_labels=(f"lag {num(lo * 1000, 0)} ms", f"{num(max(lags) * 1000, 0)} ms"))
    return head + chart


def speech_panel(res: Mapping[str, Any]) -> str:
    head = _kv([("language", esc(res.get("language"))), ("words", esc(res.get("n_words"))),
                ("speaking rate", num(res.get("speaking_rate_wpm"), 0, " wpm")), ("speech share", num(res.get("speech_ratio"), 2)),
                ("model", esc(res.get("model")))])
    transcript = f'<p class="ev-transcript">{esc(res.get("transcript") or "(no speech)")}</p>'
    words = " ".join(f'<span class="ev-word" title="{num(w.get("start"), 2)}–{num(w.get("end"), 2)} s">{esc(w.get("word"))}'
                    f'<sub>{num(w.get("start"), 1)}</sub></span>'
                    for w in (res.get("words") or [])[:400] if isinstance(w, Mapping))
    return head + transcript + (f'<div class="ev-words">{words}</div>' if words else "")


def _swatches(palette: Sequence[Mapping[str, Any]]) -> str:
    out = []
    for p in palette:
        colour = str(p.get("hex", ""))
        if HEX.match(colour):
            out.append(f'<span class="ev-swatch" style="background:{colour}" title="{esc(colour)} {num(100 * float(p.get("share") or 0), 0)} %"></span>')
    return "".join(out)


def colour_panel(res: Mapping[str, Any]) -> str:
    harmony = res.get("harmony") or {}
    head = _kv([("harmony", esc(harmony.get("template_name") or harmony.get("reason") or "–")),
                ("colourfulness", num(res.get("colourfulness"), 1)), ("saturation", num(res.get("saturation_mean"), 2)),
                ("contrast", num(res.get("contrast_rms"), 2)), ("black and white", num(res.get("grayscale")))])
    shots = "".join(f'<div class="ev-meta">shot {esc(s.get("index"))}: {_swatches(s.get("palette") or [])}</div>'
                    for s in (res.get("shots") or [])[:12] if isinstance(s, Mapping))
    return head + f'<div>{_swatches(res.get("palette") or [])}</div>' + shots


def audio_panel(res: Mapping[str, Any], duration: float | None = None) -> str:
    head = _kv([("loudness", num(res.get("loudness_lufs"), 1, " LUFS")), ("range", num(res.get("loudness_range_lu"), 1, " LU")),
                ("silence", num(100 * float(res.get("silence_share") or 0), 0, " %")), ("dropouts", esc(res.get("n_dropouts"))),
                ("tempo", num(res.get("tempo_bpm"), 0, " bpm")), ("speech / music / ambience",
                 " / ".join(num(res.get(k), 2) for k in ("speech_share", "music_share", "ambience_share")))])
    t, v = _series(res.get("loudness_series"))
    return head + (line_chart([("momentary loudness", t, v)], y_label="LUFS", x_max=duration, zero_line=False, min_span=12.0) if t else "")


def quality_panel(res: Mapping[str, Any], duration: float | None = None) -> str:
    flicker = res.get("flicker") or {}
    ct = res.get("colour_temperature") or {}
    head = _kv([("sharpness", num(res.get("sharpness"), 0)), ("noise σ", num(res.get("noise_sigma"), 2)),
                ("blockiness", num(res.get("blockiness"), 2)), ("flicker index", num(flicker.get("flicker_index"), 3)),
                ("colour temperature", num(ct.get("cct_k"), 0, " K"))])
    t, v = _series((res.get("exposure") or {}).get("luma_series"))
    return head + (line_chart([("mean luma", t, v)], y_label="0–255", x_max=duration, zero_line=False, min_span=20.0) if t else "")


def people_panel(res: Mapping[str, Any]) -> str:
    return _kv([("person in frames", num(100 * float(res.get("person_fraction") or 0), 0, " %")),
                ("shot size", esc(res.get("shot_size"))), ("subject prominence", num(res.get("subject_prominence"), 2)),
                ("head cut", num(res.get("head_cut_fraction"), 2)), ("backend", esc(res.get("backend")))])


def evidence_html(records: Mapping[str, Mapping[str, Any]], duration: float | None = None) -> str:
    """Every operator's panel (anchored `ev-panel-<operator>`); a failed one shows its status and message."""
    if not records:
        return '<div class="ev-meta">Evidence panels appear here once the operators have run.</div>'
    builders = {
        "shots": shots_panel, "faces": lambda r: faces_panel(r, duration),
        "features": lambda r: features_panel(r, duration), "people": people_panel,
        "camera": lambda r: camera_panel(r, duration), "lipsync": lipsync_panel, "speech": speech_panel,
        "colour": colour_panel, "audio": lambda r: audio_panel(r, duration), "quality": lambda r: quality_panel(r, duration),
    }
    ordered = [op for op in PANEL_ORDER if op in records] + [op for op in records if op not in PANEL_ORDER]
    out = ['<div class="ev-evidence">']
    for op in ordered:
        record = records[op]
        res = record.get("results") or {}
        body = ""
        if record.get("status") in ("ok", "partial") and res:
            try:
                body = builders.get(op, lambda r: "")(res)
            except Exception as exc:  # noqa: BLE001 - one odd record must not hide the others
                body = f'<div class="ev-gate">could not draw this panel: {esc(type(exc).__name__)}: {esc(exc)}</div>'
        out.append(_panel(op, record, body))
    out.append("</div>")
    return "".join(out)


# ---- radar ------------------------------------------------------------------------------------------------------

def clip_radar(taxonomy: Any, results: Mapping[str, Mapping[str, Any]], compare: Mapping[str, float | None] | None = None,
               compare_name: str | None = None) -> go.Figure:
    """The clip's scores over every taxonomy dimension, scaled from the score scale to [0, 1] ((s − 1) / 4 on 1–5);
    gated, unjudged or missing dimensions are gaps. `compare` maps dimension name → a leaderboard model's machine
    win ratio, which is a different quantity (share of pairwise wins, already on [0, 1]): drawn dashed and labelled."""
    scale = tuple(taxonomy.score_scale)
    dims = taxonomy.dimensions
    theta = [d.name for d in dims]
    r = [score_to_unit((results.get(d.id) or {}).get("score") if (results.get(d.id) or {}).get("status") == "scored" else None, scale)
         for d in dims]
    fig = go.Figure()
    fig.add_trace(go.Scatterpolar(
        r=r + r[:1], theta=theta + theta[:1], name=f"this clip: score scaled to 0–1 ((s − {num(scale[0], 0)}) / {num(scale[1] - scale[0], 0)})",
        mode="lines+markers", connectgaps=False, line={"color": "#d62728", "width": 2.5}, marker={"size": 7},
        hovertemplate="%{theta}: %{r:.2f}<extra>this clip</extra>",
    ))
    if compare:
        c = [compare.get(name) for name in theta]
        c = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in c]
        fig.add_trace(go.Scatterpolar(
            r=c + c[:1], theta=theta + theta[:1], name=f"{compare_name}: leaderboard machine win ratio (a different scale)",
            mode="lines", connectgaps=False, line={"color": "#1f77b4", "width": 1.5, "dash": "dash"},
            hovertemplate="%{theta}: %{r:.2f}<extra>win ratio</extra>",
        ))
    n = sum(v is not None for v in r)
    fig.update_layout(
        title=f"This clip over {len(dims)} dimensions ({n} scored; gaps = gated or not judged)",
        polar={"radialaxis": {"range": [0, 1], "tickvals": [0.25, 0.5, 0.75, 1.0]}, "angularaxis": {"direction": "clockwise"}},
        template="plotly_white", legend={"orientation": "h", "y": -0.15}, margin={"l": 60, "r": 60, "t": 60, "b": 40},
        height=560,
    )
    return fig
