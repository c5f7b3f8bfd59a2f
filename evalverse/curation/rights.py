"""Rights and provenance: licences from an optional per-folder licence file, and near-duplicate cases.

Licence file: `licences.csv` (or `licenses.csv`) in a clip's folder, columns

    file,licence,source,licence_file,attribution
    *,CC-BY-4.0,Our archive,LICENSE.txt,
    chaplin.mp4,public domain (1916),Mutual Film,,

`file` is a file name or a glob (`*` for the folder's default); the first row naming the file exactly wins,
else the first glob that matches, in file order. `licence` is required; `licence_file` (a path relative to the
folder) must exist. Every problem is listed with its line; nothing is guessed.

Near duplicates: two cases whose keyframes' perceptual hashes lie within the vocabulary's
`near_duplicate_bits` (any pair of their keyframes), or that were cut from the same file, are flagged.
"""
from __future__ import annotations

import csv
import fnmatch
import io
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any

from evalverse.errors import DataError

LICENCE_FILES = ("licences.csv", "licenses.csv")
COLUMNS = ("file", "licence", "source", "licence_file", "attribution")


def licence_file(folder: Path) -> Path | None:
    for name in LICENCE_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def parse_licences(text: str, where: str, folder: Path) -> list[dict[str, str]]:
    """Rows of a licence file; DataError listing every problem."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = [f.strip() for f in (reader.fieldnames or [])]
    if "license" in fields and "licence" not in fields:
        fields = ["licence" if f == "license" else f for f in fields]
    problems = []
    for need in ("file", "licence"):
        if need not in fields:
            problems.append(f"missing column {need!r} (columns: {', '.join(COLUMNS)})")
    unknown = [f for f in fields if f not in COLUMNS]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)} (columns: {', '.join(COLUMNS)})")
    rows = []
    if not problems:
        for number, raw in enumerate(reader, start=2):
            row = {f: (v or "").strip() for f, v in zip(fields, raw.values())}
            if not row.get("file"):
                problems.append(f"line {number}: `file` is empty (a name, a glob, or * for the folder)")
            if not row.get("licence"):
                problems.append(f"line {number} ({row.get('file')}): `licence` is empty")
            lf = row.get("licence_file")
            if lf and not (folder / lf).is_file():
                problems.append(f"line {number} ({row.get('file')}): licence_file {lf!r} not found in {folder}")
            rows.append(row | {"line": str(number)})
    if problems:
        raise DataError(f"{len(problems)} problem(s) in licence file {where}:\n  " + "\n  ".join(problems))
    return rows


@lru_cache(maxsize=64)
def _rows(path: str, mtime: float) -> tuple[tuple[tuple[str, str], ...], ...]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read licence file {p}: {exc.strerror or exc}") from exc
    return tuple(tuple(sorted(r.items())) for r in parse_licences(text, str(p), p.parent))


def licence_for(clip_path: str | Path) -> dict[str, Any] | None:
    """The licence row for a clip from its folder's licence file ({licence, source, licence_file (absolute),
    attribution, from: "<file> line N"}), or None when the folder has no file or no row matches."""
    clip = Path(clip_path)
    lf = licence_file(clip.parent)
    if lf is None:
        return None
    rows = [dict(r) for r in _rows(str(lf), lf.stat().st_mtime)]
    match = next((r for r in rows if r["file"] == clip.name), None) or next(
        (r for r in rows if any(ch in r["file"] for ch in "*?[") and fnmatch.fnmatch(clip.name, r["file"])), None)
    if match is None:
        return None
    out = {"licence": match["licence"], "source": match.get("source") or None,
           "licence_file": str((lf.parent / match["licence_file"]).resolve()) if match.get("licence_file") else None,
           "attribution": match.get("attribution") or None, "from": f"{lf} line {match['line']}"}
    return out


def near_duplicates(cases: list[dict[str, Any]], max_bits: int) -> list[dict[str, Any]]:
    """Pairs of cases ({id, sha256, phashes: [...]}) cut from the same file or with keyframes within
    `max_bits`: [{a, b, reason, distance}] (distance: the closest keyframe pair, in bits)."""
    from evalverse.media.keyframes import hamming

    out = []
    for a, b in combinations(cases, 2):
        if a["sha256"] == b["sha256"]:
            out.append({"a": a["id"], "b": b["id"], "reason": "same source file", "distance": 0})
            continue
        dists = [hamming(x, y) for x in a["phashes"] for y in b["phashes"]]
        if dists and min(dists) <= max_bits:
            out.append({"a": a["id"], "b": b["id"], "reason": "similar keyframes (perceptual hash)",
                        "distance": min(dists)})
    return out
