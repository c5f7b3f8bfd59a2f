"""The annotation file (META.jsonl): a header line, then one record per clip; and the view of a record that
sampling and construction read (fields after human corrections, attributes derived from them).

    {"annotation": {"format": 1, "folder": "...", "operators": {name: {version, backend, params}},
                    "vocabulary": "<hash>", "catalogue": "<hash>", "evalverse": "0.1.0", "created_at": "..."}}
    {"clip": "real_bikes", "path": "/abs/real_bikes.mp4", "file": "real_bikes.mp4", "sha256": "...",
     "size_bytes": 509868, "annotation_key": "<hash>", "annotated_at": "...",
     "operators": {name: {version, backend, status, message, cached}},
     "fields": {name: {value, operator, version, backend, source[, status, why]}},
     "shots": [{index, start, end, transition, fields: {...}, keyframe: {path, time_s, frame, phash}}]}

Keyframe paths are relative to the annotation file's folder. A correction is applied by `view`: a corrected
field's value is replaced (the detected value kept under `detected`, with who and when), and attributes are
derived again from the corrected fields; a corrected attribute replaces the derived one.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from evalverse.curation.attributes import clip_attributes, shot_attributes
from evalverse.errors import DataError

FORMAT = 1
ID_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def clip_id(path: Path, taken: set[str]) -> str:
    """A suite-safe id from the file name (letters, digits, `_ . -`), unique among `taken`."""
    base = ID_SAFE.sub("_", path.stem).strip("_.-") or "clip"
    if not base[0].isalnum():
        base = f"c{base}"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1  # not "-n": that reads as a seed of `base` in a submission
    taken.add(out)
    return out


@dataclass
class MetaFile:
    header: dict[str, Any]
    records: list[dict[str, Any]]
    path: Path
    dropped: list[str] = field(default_factory=list)  # lines that could not be read (a run killed mid-write)

    def by_clip(self) -> dict[str, dict[str, Any]]:
        return {r["clip"]: r for r in self.records}


RECORD_KEYS = {"clip", "path", "file", "sha256", "size_bytes", "annotation_key", "annotated_at", "operators",
               "fields", "shots"}


def read_meta(path: str | Path, tolerant: bool = False) -> MetaFile:
    """Read an annotation file. A bad line is a DataError naming it; `tolerant` (resuming) drops a bad last
    line instead (what a kill in mid-write leaves)."""
    path = Path(path).expanduser()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read annotation file {path}: {exc.strerror or exc}") from exc
    header: dict[str, Any] | None = None
    records: list[dict[str, Any]] = []
    problems, dropped = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if tolerant and number == len(lines):
                dropped.append(f"line {number}: incomplete (dropped)")
                continue
            problems.append(f"line {number}: not valid JSON ({exc.msg})")
            continue
        if header is None:
            if not isinstance(obj, dict) or "annotation" not in obj:
                problems.append(f"line {number}: the first line must be the {{\"annotation\": {{...}}}} header "
                                "(is this a file `evalverse suite annotate` wrote?)")
                break
            header = obj["annotation"]
            continue
        missing = RECORD_KEYS - set(obj) if isinstance(obj, dict) else RECORD_KEYS
        if missing:
            problems.append(f"line {number}: a clip record needs {', '.join(sorted(missing))}")
            continue
        records.append(obj)
    if header is None and not problems:
        problems.append("empty file (no header)")
    if header is not None and header.get("format") != FORMAT:
        problems.append(f"annotation format {header.get('format')!r}; this EvalVerse reads format {FORMAT}")
    if problems:
        raise DataError(f"{len(problems)} problem(s) in annotation file {path}:\n  " + "\n  ".join(problems[:30]))
    return MetaFile(header or {}, records, path, dropped)


def write_meta(path: Path, header: dict[str, Any], records: Iterable[dict[str, Any]]) -> None:
    """Write header and records atomically (a temporary file renamed over the old one)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps({"annotation": header}, ensure_ascii=False) + "\n")
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False, allow_nan=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one record and make it durable before the next clip starts."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


# ---- the view: corrections applied, attributes derived ----------------------------------------------------
@dataclass
class ClipView:
    record: dict[str, Any]
    fields: dict[str, dict[str, Any]]
    attributes: dict[str, Any]
    shots: list[dict[str, Any]]  # each with "fields" and "attributes" (after corrections)
    corrected: list[dict[str, Any]] = field(default_factory=list)  # the corrections that were applied
    base: Path | None = None  # folder keyframe paths are relative to

    @property
    def clip(self) -> str:
        return self.record["clip"]

    @property
    def sha256(self) -> str:
        return self.record["sha256"]

    def value(self, name: str) -> Any:
        entry = self.fields.get(name)
        return None if entry is None else entry.get("value")


def latest_corrections(corrections: Iterable[dict[str, Any]]) -> dict[tuple[str, int | None, str], dict[str, Any]]:
    """{(clip sha256, shot or None, name): the newest correction} (newest by time, then by id)."""
    out: dict[tuple[str, int | None, str], dict[str, Any]] = {}
    for c in sorted(corrections, key=lambda c: (str(c.get("corrected_at")), c.get("id") or 0)):
        out[(c["clip_sha256"], c.get("shot"), c["field"])] = c
    return out


def _apply_fields(fields: dict[str, dict[str, Any]], mine: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {k: dict(v) for k, v in fields.items()}
    for name, c in mine.items():
        if name in out:
            entry = out[name]
            entry["detected"] = entry.get("value")
            entry["value"] = c["new_value"]
            entry["corrected"] = {"who": c["who"], "at": str(c["corrected_at"])}
            entry.pop("status", None)
            entry.pop("why", None)
    return out


def view(record: dict[str, Any], corrections: Iterable[dict[str, Any]] = (), base: Path | None = None,
         vocabulary: Any = None) -> ClipView:
    """The record as sampling and construction read it: corrected fields win over detected ones, attributes
    are derived from the corrected fields, and a corrected attribute wins over a derived one."""
    from evalverse.curation.vocabulary import load_vocabulary

    vocab = vocabulary or load_vocabulary()
    latest = latest_corrections(c for c in corrections if c["clip_sha256"] == record["sha256"])

    def mine(shot: int | None) -> dict[str, dict[str, Any]]:
        return {name: c for (_, s, name), c in latest.items() if s == shot}

    clip_fix = mine(None)
    fields = _apply_fields(record["fields"], clip_fix)
    attrs = clip_attributes(fields, vocab)
    attrs.update({name: c["new_value"] for name, c in clip_fix.items() if name in vocab.attributes})
    shots = []
    for shot in record["shots"]:
        fix = mine(int(shot["index"]))
        row = dict(shot, fields=_apply_fields(shot["fields"], fix))
        sa = shot_attributes(row, attrs, fields, vocab)
        sa.update({name: c["new_value"] for name, c in fix.items() if name in vocab.attributes})
        shots.append(row | {"attributes": sa})
    return ClipView(record, fields, attrs, shots, corrected=list(latest.values()), base=base)
