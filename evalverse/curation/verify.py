"""Verify: the annotation as a CSV a person edits (one row per clip, and one per shot), and the edits read
back as corrections (who, when, field, old value, new value) for the store. Corrected values win over
detected ones whenever the annotation is read (`records.view`).

Columns: `clip, sha256, shot, start_s, end_s, file, keyframe`, then one column per editable name. A clip row
has an empty `shot`; a shot row holds only the per-shot names (the others stay empty and are ignored). A cell
left as exported changes nothing; a changed cell is a correction; an emptied cell sets the value to none.
Every problem of a file (an unknown clip, a value outside an attribute's values, a changed hash) is listed
with its line number and nothing is stored.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, Iterable

from evalverse.curation.records import ClipView
from evalverse.errors import DataError

CONTEXT = ("clip", "sha256", "shot", "start_s", "end_s", "file", "keyframe")
CLIP_NAMES = ("shot_size", "camera", "n_shots", "cut_rhythm", "people", "faces", "sound", "language",
              "transcript", "lighting_key", "colour", "colour_temperature")
SHOT_NAMES = ("shot_size", "camera", "people", "sound", "colour_temperature")
FIELD_NAMES = ("n_shots", "transcript")  # fields (their derived attributes follow); the rest are attributes
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _current(view: ClipView, name: str, shot: dict[str, Any] | None) -> Any:
    if name in FIELD_NAMES:
        fields = view.fields if shot is None else shot["fields"]
        entry = fields.get(name)
        return None if entry is None else entry.get("value")
    return (view.attributes if shot is None else shot["attributes"]).get(name)


def export_rows(views: Iterable[ClipView], shots: bool = True) -> list[dict[str, str]]:
    rows = []
    for v in views:
        first = v.shots[0]["keyframe"]["path"] if v.shots and v.shots[0].get("keyframe") else ""
        row = {"clip": v.clip, "sha256": v.sha256, "shot": "", "start_s": "0",
               "end_s": _cell(v.value("duration_s")), "file": v.record["path"], "keyframe": first}
        row |= {n: _cell(_current(v, n, None)) for n in CLIP_NAMES}
        rows.append(row)
        for s in (v.shots if shots else []):
            row = {"clip": v.clip, "sha256": v.sha256, "shot": str(s["index"]), "start_s": _cell(s["start"]),
                   "end_s": _cell(s["end"]), "file": v.record["path"],
                   "keyframe": (s.get("keyframe") or {}).get("path", "")}
            row |= {n: (_cell(_current(v, n, s)) if n in SHOT_NAMES else "") for n in CLIP_NAMES}
            rows.append(row)
    return rows


def export_csv(views: Iterable[ClipView], shots: bool = True) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[*CONTEXT, *CLIP_NAMES], lineterminator="\n")
    writer.writeheader()
    writer.writerows(export_rows(views, shots))
    return buf.getvalue()


def parse_value(name: str, text: str, vocabulary: Any) -> Any:
    """The typed value of a cell; ValueError with the allowed values when it is not one."""
    text = text.strip()
    if text == "":
        return None
    if name == "n_shots":
        if not text.isdigit() or int(text) < 1:
            raise ValueError("n_shots must be a whole number of at least 1")
        return int(text)
    if name == "transcript":
        return text
    if name == "language":
        if text == "none" or LANGUAGE_CODE.match(text):
            return text
        raise ValueError("language must be an ISO 639-1 code (en, ja, ...) or none")
    allowed = vocabulary.values(name)
    if text not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}")
    return text


def read_corrections(text: str, views: dict[str, ClipView], who: str, source: str, vocabulary: Any,
                     note: str = "") -> list[dict[str, Any]]:
    """The corrections a edited CSV makes against the current annotation (`views` by clip id); DataError
    listing every problem (nothing is returned then)."""
    if not who.strip():
        raise DataError("say who made the corrections (--who NAME)")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("clip", "sha256", "shot") if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"{source}: the CSV needs the columns {', '.join(missing)} (export one with "
                        "`evalverse suite verify export`)")
    names = [n for n in CLIP_NAMES if n in (reader.fieldnames or [])]
    problems: list[str] = []
    out: list[dict[str, Any]] = []
    for number, row in enumerate(reader, start=2):
        clip = (row.get("clip") or "").strip()
        v = views.get(clip)
        if v is None:
            problems.append(f"line {number}: clip {clip!r} is not in the annotation")
            continue
        if (row.get("sha256") or "").strip() != v.sha256:
            problems.append(f"line {number}: clip {clip}'s file has changed since the export (sha256 differs); "
                            "export again")
            continue
        shot_text = (row.get("shot") or "").strip()
        shot = None
        if shot_text:
            shot = next((s for s in v.shots if str(s["index"]) == shot_text), None)
            if shot is None:
                problems.append(f"line {number}: clip {clip} has no shot {shot_text}")
                continue
        for name in names:
            if shot is not None and name not in SHOT_NAMES:
                continue
            try:
                new = parse_value(name, row.get(name) or "", vocabulary)
            except ValueError as exc:
                problems.append(f"line {number} ({clip}{'' if shot is None else ' shot ' + shot_text}), {name}: {exc}")
                continue
            old = _current(v, name, shot)
            if new == old or (isinstance(old, (int, float)) and not isinstance(old, bool) and _cell(old) == _cell(new)):
                continue
            out.append({"clip_sha256": v.sha256, "clip": clip, "shot": None if shot is None else int(shot["index"]),
                        "field": name, "old_value": old, "new_value": new, "who": who.strip(),
                        "source": f"{source} line {number}", "note": note})
    if problems:
        shown = problems[:50] + ([f"... and {len(problems) - 50} more"] if len(problems) > 50 else [])
        raise DataError(f"{len(problems)} problem(s) in {source} (nothing was stored):\n  " + "\n  ".join(shown))
    return out


def load_views(meta_path: str | Path, store: Any = None) -> dict[str, ClipView]:
    """Every clip of an annotation file as seen after the store's corrections, by clip id."""
    from evalverse.curation.records import read_meta, view

    meta = read_meta(meta_path)
    corrections = store.field_corrections([r["sha256"] for r in meta.records]) if store is not None else []
    base = Path(meta_path).expanduser().resolve().parent
    return {r["clip"]: view(r, corrections, base=base) for r in sorted(meta.records, key=lambda r: r["clip"])}
