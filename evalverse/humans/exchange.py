"""JSONL export and import of everything human: sources, people, tasks and outputs, claims, labels (with
the left/right order shown and the time spent), reviews, audits, label views, and every pairwise and
pointwise judgment with its QA status. One JSON object a line, `{"type": ..., ...}`, after a header line.

References use stable keys (uids, person names), never local ids, so a file loads into any store.
Tokens are not exported (credentials stay where they were issued): issue new ones after an import.
Importing is one transaction and idempotent: existing uids are kept, QA status and finalisation are
brought up to date. Every line is checked first; a bad line refuses the whole file (line, field, why).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from evalverse.errors import DataError, InputError
from evalverse.humans.importers import MAX_LISTED, OUTCOMES

FORMAT = "evalverse-humans"
VERSION = 1
ORDER = ("source", "annotator", "task", "assignment", "submission", "review", "audit", "view", "pairwise", "pointwise")
REQUIRED = {
    "source": ("id", "format"),
    "annotator": ("name",),
    "task": ("uid", "case_key", "mode", "dimensions", "display_order", "required", "outputs"),
    "assignment": ("task", "annotator", "assigned_at", "expires_at"),
    "submission": ("uid", "task", "annotator", "dimension", "display_order", "submitted_at"),
    "review": ("uid", "submission", "reviewer", "verdict", "created_at"),
    "audit": ("uid", "task", "auditor", "decision", "created_at"),
    "view": ("task", "annotator", "role", "seen_at"),
    "pairwise": ("uid", "dimension", "winner", "annotator", "qa_status"),
    "pointwise": ("uid", "dimension", "score", "annotator", "qa_status"),
}
CHOICES = {
    ("pairwise", "winner"): OUTCOMES, ("submission", "outcome"): OUTCOMES + (None,),
    ("pairwise", "qa_status"): ("pass", "fail", "pending"), ("pointwise", "qa_status"): ("pass", "fail", "pending"),
    ("review", "verdict"): ("pass", "fail"), ("audit", "decision"): ("accept", "reject", "finalise"),
    ("view", "role"): ("annotator", "reviewer", "auditor"),
}
TIMES = ("created_at", "imported_at", "updated_at", "assigned_at", "expires_at", "submitted_at", "seen_at", "finalised_at")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def export_jsonl(store, out: IO[str]) -> dict[str, int]:
    """Write the header and every record; returns how many of each type."""
    bundle = store.dump_humans()
    header = {"type": "header", "format": FORMAT, "version": VERSION, "schema": store.schema_version,
              "exported_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat()}
    out.write(json.dumps(header, ensure_ascii=False) + "\n")
    counts = {}
    for kind in ORDER:
        for rec in bundle.get(kind, []):
            out.write(json.dumps({"type": kind, **{k: _plain(v) for k, v in rec.items()}}, ensure_ascii=False,
                                 allow_nan=False, default=_plain) + "\n")
        counts[kind] = len(bundle.get(kind, []))
    return counts


def read_jsonl(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Parse and check a file into a `Store.load_humans` bundle; DataError listing every bad line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    problems: list[str] = []
    bundle: dict[str, list[dict[str, Any]]] = {k: [] for k in ORDER}
    header_seen = False
    for n, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            rec = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}, json: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(rec, dict):
            problems.append(f"line {n}, record: not a JSON object")
            continue
        kind = rec.pop("type", None)
        if kind == "header":
            header_seen = True
            if rec.get("format") != FORMAT or rec.get("version") != VERSION:
                problems.append(f"line {n}, header: not an {FORMAT} v{VERSION} file "
                                f"(format {rec.get('format')!r}, version {rec.get('version')!r})")
            continue
        if kind not in REQUIRED:
            problems.append(f"line {n}, type: {kind!r} is not one of {', '.join(ORDER)}")
            continue
        problems += [f"line {n}, {f}: missing" for f in REQUIRED[kind] if rec.get(f) is None]
        for (k, f), allowed in CHOICES.items():
            if k == kind and f in rec and rec[f] not in allowed:
                problems.append(f"line {n}, {f}: {rec[f]!r} is not one of {', '.join(str(a) for a in allowed if a)}")
        for f in TIMES:
            if isinstance(rec.get(f), str):
                try:
                    rec[f] = datetime.fromisoformat(rec[f])
                except ValueError:
                    problems.append(f"line {n}, {f}: {rec[f]!r} is not an ISO date-time")
        if kind == "pointwise" and not isinstance(rec.get("score"), (int, float)):
            problems.append(f"line {n}, score: {rec.get('score')!r} is not a number")
        bundle[kind].append(rec)
    if not header_seen and any(bundle.values()):
        problems.insert(0, f"line 1, header: missing (expected {{\"type\": \"header\", \"format\": \"{FORMAT}\"}})")
    if problems:
        more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise DataError(f"{len(problems)} bad line(s) in {path}; nothing was imported:\n  "
                        + "\n  ".join(problems[:MAX_LISTED]) + more)
    return bundle


def import_jsonl(store, path: str | Path) -> dict[str, dict[str, int]]:
    return store.load_humans(read_jsonl(path))
