"""Evidence panels: one per operator record, anchored `<prefix>-panel-<operator>` (the cards link to them).

A panel reads its record through the operator's typed results model (`EvidenceRecord.typed()`), never by
guessing keys. Its headline numbers are measures named by catalogue id; their labels, units and tooltips come
from the measure catalogue (`ui.measures`). Below them, what no single number says: the shot strip (keyframe
thumbnails kept with the shots evidence, so nothing re-opens the video), face tracks, time series, palette,
transcript. Every panel ends with all of the operator's catalogue measures, folded. Text is escaped; colours
and image URIs are checked against strict patterns first.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from evalverse.ui.charts import line_chart, series
from evalverse.ui.markup import esc, ident, num, operator_title, panel_anchor
from evalverse.ui.measures import DIRECTION_ARROWS, catalogue, label, tooltip, value_html, value_text

PANEL_ORDER = ("shots", "faces", "features", "people", "camera", "lipsync", "speech", "colour", "audio", "quality",
               "brisque", "niqe", "facial_expression", "speech_quality")
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
JPEG_URI = re.compile(r"^data:image/jpeg;base64,[A-Za-z0-9+/=]+$")
MAX_ROWS = 12  # tracks, shots listed in a panel

# The headline measures of each panel, by path inside the operator's results (catalogue id `<operator>.<path>`).
HEADLINES: dict[str, tuple[str, ...]] = {
    "shots": ("n_shots", "mean_shot_s", "min_shot_s"),
    "faces": ("frames_with_face_ratio", "n_tracks", "n_identities", "n_identity_switches",
              "identity_consistency.within_track_mean", "identity_consistency.across_shots_mean", "embedder"),
    "features": ("mean_to_previous_in_shot", "min_to_previous_in_shot", "n_abrupt_changes", "backend"),
    "people": ("person_fraction", "shot_size", "subject_prominence", "head_cut_fraction", "backend"),
    "camera": ("dominant", "shake_pct_w", "smoothness", "dynamic_degree", "handheld"),
    "lipsync": ("offset_ms", "confidence", "detectable", "zero_lag_corr", "method"),
    "speech": ("n_words", "speaking_rate_wpm", "speech_ratio"),
    "colour": ("harmony.template", "colourfulness", "saturation_mean", "contrast_rms", "grayscale"),
    "audio": ("loudness_lufs", "loudness_range_lu", "silence_share", "n_dropouts", "tempo_bpm",
              "speech_share", "music_share", "ambience_share"),
    "quality": ("sharpness", "noise_sigma", "blockiness", "flicker.flicker_index", "colour_temperature.cct_k",
                "exposure.clipped_shadows", "exposure.clipped_highlights"),
    "facial_expression": ("dominant", "variety", "change_rate", "intensity_mean"),
    "speech_quality": ("ovrl_mos", "sig_mos", "bak_mos", "p808_mos"),
    "brisque": ("mean", "worst", "best", "n_stills"),
    "niqe": ("mean", "worst", "best", "n_stills"),
}


# ---- typed access -------------------------------------------------------------------------------------------

def typed_results(operator: str, record: Mapping[str, Any]) -> tuple[Any | None, str]:
    """(the record's typed results or None, why not): through EvidenceRecord.typed(), as every reader does."""
    from evalverse.operators.base import EvidenceRecord

    try:
        rec = EvidenceRecord.model_validate(dict(record) | {"operator": operator, "version": str(record.get("version") or "?")})
    except ValueError as exc:
        return None, f"this record cannot be read: {type(exc).__name__}: {exc}"
    if not rec.usable:
        return None, ""
    try:
        return rec.typed(), ""
    except KeyError:
        return None, f"{operator} is not a registered operator here, so its evidence cannot be read"
    except Exception as exc:  # noqa: BLE001 - DataError (stored by another version) or a broken record
        return None, f"this record cannot be read: {type(exc).__name__}: {exc}"


def measure_value(typed: Any, path: str) -> Any:
    from evalverse.operators.results import resolve

    try:
        return resolve(typed, path)
    except KeyError:
        return None


def headline(operator: str, typed: Any, paths: tuple[str, ...] | None = None) -> str:
    paths = paths if paths is not None else HEADLINES.get(operator) or _first_measures(operator)
    items = []
    for path in paths:
        value = measure_value(typed, path)
        if value is not None and not isinstance(value, list):
            items.append(value_html(f"{operator}.{path}", value))
    return '<div class="ev-kv">' + " · ".join(items) + "</div>" if items else ""


def _first_measures(operator: str, n: int = 6) -> tuple[str, ...]:
    cat = catalogue()
    if cat is None:
        return ()
    return tuple(m.measure for m in cat.for_operator(operator) if m.scope == "clip")[:n]


def all_measures(operator: str, typed: Any) -> str:
    """Every catalogue measure of the operator with its value, unit, direction and description, folded."""
    cat = catalogue()
    if cat is None:
        return '<div class="ev-meta">The measure catalogue could not be loaded, so its measures are not listed.</div>'
    rows = []
    for m in cat.for_operator(operator):
        value = measure_value(typed, m.measure)
        rows.append(f'<tr title="{esc(tooltip(m.id))}"><td><code>{esc(m.id)}</code></td><td>{esc(label(m.id))}</td>'
                    f'<td>{esc(value_text(m.id, value))}</td><td>{esc(DIRECTION_ARROWS.get(m.direction, ""))}</td>'
                    f'<td class="ev-meta">{esc(m.description)}</td></tr>')
    if not rows:
        return ""
    return (f'<details class="ev-fold"><summary>All {len(rows)} measures</summary><table class="ev-measures">'
            f'<tr><th>Catalogue id</th><th>Measure</th><th>Value</th><th></th><th>What it is</th></tr>{"".join(rows)}'
            f"</table></details>")


# ---- panels -------------------------------------------------------------------------------------------------

def shots_panel(r: Any, duration: float | None = None) -> str:
    items = []
    for s in r.shots:
        uri = s.thumbnail or ""
        img = f'<img src="{uri}" alt="shot {s.index} keyframe">' if JPEG_URI.match(uri) else ""
        items.append(f'<div class="ev-shot">{img}shot {s.index}: {num(s.start, 2)}–{num(s.end, 2)} s'
                     f'<br><span class="ev-meta">{esc(s.transition)}</span></div>')
    cuts = ", ".join(num(c, 2, " s") for c in r.cuts) or "none"
    return (headline("shots", r) + f'<div class="ev-kv"><b>cuts at</b> {esc(cuts)} · <b>method</b> {esc(r.method)}</div>'
            + f'<div class="ev-strip">{"".join(items)}</div>')


def keyframes(r: Any, limit: int = 8) -> list[tuple[int, float, str]]:
    """(shot index, start, thumbnail data URI) of the shots evidence's keyframes (valid JPEG data URIs only)."""
    out = []
    for s in r.shots:
        if s.thumbnail and JPEG_URI.match(s.thumbnail):
            out.append((s.index, float(s.start), s.thumbnail))
    return out[:limit]


def faces_panel(r: Any, duration: float | None = None) -> str:
    tracks = list(r.tracks)[:MAX_ROWS]
    timeline = ""
    if tracks:
        end = max([float(duration or 0)] + [float(t.end) for t in tracks]) or 1.0
        rows = []
        for i, t in enumerate(tracks):
            x0, x1 = 90 + t.start / end * 440, 90 + t.end / end * 440
            sim = t.consistency_mean
            shade = "#27ae60" if sim is not None and sim >= 0.8 else ("#e67e22" if sim is not None else "#8a8f98")
            rows.append(f'<text x="0" y="{14 + i * 18}" font-size="11">track {t.id}</text>'
                        f'<rect x="{x0:.1f}" y="{4 + i * 18}" width="{max(x1 - x0, 2):.1f}" height="12" fill="{shade}"/>'
                        f'<text x="{x1 + 4:.1f}" y="{14 + i * 18}" font-size="10">sim {num(sim, 2)} (min {num(t.consistency_min, 2)})</text>')
        timeline = (f'<div class="ev-meta">Face tracks over time (0–{num(end, 1)} s) with identity similarity to the track centroid</div>'
                    f'<svg width="640" height="{10 + 18 * len(tracks)}" class="ev-chart">{"".join(rows)}</svg>')
    t, v = series(r.mouth_open_series)
    mouth = line_chart([("mouth opening", t, v)], y_label="main face", x_max=duration, zero_line=False) if t else ""
    return headline("faces", r) + timeline + mouth


def features_panel(r: Any, duration: float | None = None) -> str:
    t1, v1 = series(r.to_first)
    t2, v2 = series(r.to_previous)
    chart = line_chart([("similarity to first frame", t1, v1), ("to previous sample", t2, v2)],
                       y_label=f"{r.backend} similarity", x_max=duration, zero_line=False) if t1 or t2 else ""
    return headline("features", r) + chart


def camera_panel(r: Any, duration: float | None = None) -> str:
    lines = []
    for name in ("pan", "tilt", "zoom", "roll"):
        t, v = series(getattr(r, f"{name}_series"))
        if t:
            lines.append((name, t, v))
    shots = "; ".join(f"shot {s.index}: {esc(s.label)}" for s in r.shots[:MAX_ROWS])
    chart = line_chart(lines, y_label="pan/tilt % width/s, zoom %/s, roll °/s", x_max=duration, min_span=6.0) if lines else ""
    return headline("camera", r) + (f'<div class="ev-meta">{shots}</div>' if shots else "") + chart


def lipsync_panel(r: Any, duration: float | None = None) -> str:
    lags = [float(x) / 1000.0 for x in r.envelope.curve.lags_ms]
    corr = list(r.envelope.curve.corr)
    chart = ""
    if lags and corr:
        lo = min(lags)  # the x axis starts at 0; the real lag range is in the labels
        chart = line_chart([("mouth/voice correlation", [x - lo for x in lags], corr)],
                           y_label="correlation against audio lag",
                           x_labels=(f"lag {num(lo * 1000, 0)} ms", f"{num(max(lags) * 1000, 0)} ms"))
    return headline("lipsync", r) + chart


def speech_panel(r: Any, duration: float | None = None) -> str:
    lang = f'<div class="ev-kv"><b>language</b> {esc(r.language or "–")} · <b>model</b> {esc(r.model or "–")}</div>'
    transcript = f'<p class="ev-transcript">{esc(r.transcript or "(no speech)")}</p>'
    words = " ".join(f'<span class="ev-word" title="{num(w.start, 2)}–{num(w.end, 2)} s">{esc(w.word)}'
                     f'<sub>{num(w.start, 1)}</sub></span>' for w in r.words[:400])
    return headline("speech", r) + lang + transcript + (f'<div class="ev-words">{words}</div>' if words else "")


def swatches(palette: Any) -> str:
    out = []
    for p in palette or []:
        colour = str(getattr(p, "hex", "") or "")
        if HEX.match(colour):
            out.append(f'<span class="ev-swatch" style="background:{colour}" '
                       f'title="{esc(colour)} {num(100 * float(p.share or 0), 0)} %"></span>')
    return "".join(out)


def colour_panel(r: Any, duration: float | None = None) -> str:
    name = r.harmony.template_name or r.harmony.reason
    shots = "".join(f'<div class="ev-meta">shot {s.index}: {swatches(s.palette)}</div>' for s in r.shots[:MAX_ROWS])
    return (headline("colour", r) + (f'<div class="ev-meta">{esc(name)}</div>' if name else "")
            + f"<div>{swatches(r.palette)}</div>" + shots)


def audio_panel(r: Any, duration: float | None = None) -> str:
    t, v = series(r.loudness_series)
    chart = line_chart([("momentary loudness", t, v)], y_label="LUFS", x_max=duration, zero_line=False, min_span=12.0) if t else ""
    return headline("audio", r) + chart


def quality_panel(r: Any, duration: float | None = None) -> str:
    t, v = series(r.exposure.luma_series)
    chart = line_chart([("mean luma", t, v)], y_label="0–255", x_max=duration, zero_line=False, min_span=20.0) if t else ""
    return headline("quality", r) + chart


BUILDERS: dict[str, Callable[[Any, float | None], str]] = {
    "shots": shots_panel, "faces": faces_panel, "features": features_panel, "camera": camera_panel,
    "lipsync": lipsync_panel, "speech": speech_panel, "colour": colour_panel, "audio": audio_panel,
    "quality": quality_panel,
}


def _wrap(op: str, record: Mapping[str, Any], body: str, prefix: str) -> str:
    status = record.get("status", "?")
    origin = " (from the store)" if record.get("stored") else " (cached)" if record.get("cached") else ""
    meta = f'{esc(record.get("backend") or "–")} · {num(record.get("seconds"), 2, " s")} · {esc(status)}{origin}'
    message = f'<div class="ev-gate">{esc(record["message"])}</div>' if record.get("message") else ""
    return (f'<section class="ev-panel" id="{panel_anchor(op, prefix)}" data-operator="{ident(op)}">'
            f'<h4>{esc(operator_title(op))}</h4><div class="ev-meta">{meta}</div>{message}{body}</section>')


def panel_html(op: str, record: Mapping[str, Any], duration: float | None = None, prefix: str = "ev") -> str:
    typed, problem = typed_results(op, record)
    body = f'<div class="ev-gate">{esc(problem)}</div>' if problem else ""
    if typed is not None:
        try:
            build = BUILDERS.get(op)
            body = (build(typed, duration) if build else headline(op, typed)) + all_measures(op, typed)
        except Exception as exc:  # noqa: BLE001 - one odd record must not hide the others
            body = f'<div class="ev-gate">could not draw this panel: {esc(type(exc).__name__)}: {esc(exc)}</div>'
    return _wrap(op, record, body, prefix)


def evidence_html(records: Mapping[str, Mapping[str, Any]], duration: float | None = None, prefix: str = "ev") -> str:
    """Every operator's panel, in a fixed order; a failed one shows its status and message."""
    if not records:
        return '<div class="ev-meta">Evidence panels appear here once the operators have run.</div>'
    ordered = [op for op in PANEL_ORDER if op in records] + [op for op in records if op not in PANEL_ORDER]
    return '<div class="ev-evidence">' + "".join(panel_html(op, records[op], duration, prefix) for op in ordered) + "</div>"
