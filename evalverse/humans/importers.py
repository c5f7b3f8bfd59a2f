"""Reading human judgments from files: FETV's rating tables, generic pointwise and pairwise CSVs.

Every row is checked before anything is stored; a file with any bad row is refused whole, with every
problem listed as `line N, field: why` (line 1 is the header). A video is identified by the sha256 of its
file when the file exists (relative paths are read from the CSV's folder), otherwise by its name. Each
judgment gets a `uid` hashed from its natural key (source, video(s), rater, axis), so importing the same
file again adds nothing.

Formats (columns; optional ones in brackets):
- fetv: `prompt_index, model, rater` and one column per mapped axis (static_quality, temporal_quality,
  alignment), plus `file` (the rated GIFs' table, `../shared/media/fetv_rated_gifs/ratings.csv`) or
  `video_id` (the long table without videos, `../shared/data/fetv/fetv_ratings_long.csv`).
- pointwise: `video, rater, dimension, score` [model, case, sub_dimension, seconds, note].
- pairwise: `case, video_a, video_b, rater, dimension, outcome` (a, b, tie or both_bad)
  [model_a, model_b, sub_dimension, left (a or b: the side shown on the left), seconds, note].
"""
from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalverse.errors import DataError, InputError
from evalverse.humans.mapping import Mapping, load_mapping, taxonomy_mapping
from evalverse.media.hashing import sha256_file
from evalverse.taxonomy import Taxonomy, load_taxonomy

FORMATS = ("fetv", "pointwise", "pairwise")
OUTCOMES = ("a", "b", "tie", "both_bad")
QA_STATUSES = ("pass", "pending")
MAX_LISTED = 50
REQUIRED = {
    "pointwise": ("video", "rater", "dimension", "score"),
    "pairwise": ("case", "video_a", "video_b", "rater", "dimension", "outcome"),
    "fetv": ("prompt_index", "model", "rater"),
}


@dataclass
class ImportBatch:
    """A validated file, ready for `Store.import_human_judgments(batch.source, batch.pointwise, batch.pairwise)`."""

    source: dict[str, Any]
    pointwise: list[dict[str, Any]] = field(default_factory=list)
    pairwise: list[dict[str, Any]] = field(default_factory=list)
    rows_read: int = 0
    skipped: dict[str, tuple[int, str]] = field(default_factory=dict)  # axis -> (ratings skipped, why)
    hashed_videos: int = 0
    named_videos: int = 0


def uid_of(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()[:32]


class _Rows:
    """Problems and per-file helpers shared by the readers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []
        self.lines: set[int] = set()
        self._hashes: dict[Path, str] = {}
        self.hashed: set[str] = set()
        self.named: set[str] = set()

    def bad(self, line: int, column: str, why: str) -> None:
        self.problems.append(f"line {line}, {column}: {why}")
        self.lines.add(line)

    def video(self, value: str) -> tuple[str | None, str]:
        """(content hash or None, name) of a video given as a path or a name."""
        name = value.strip()
        candidate = Path(name).expanduser()
        if not candidate.is_absolute():
            candidate = self.path.parent / candidate
        if name and candidate.is_file():
            resolved = candidate.resolve()
            if resolved not in self._hashes:
                self._hashes[resolved] = sha256_file(resolved)
            self.hashed.add(self._hashes[resolved])
            return self._hashes[resolved], candidate.name
        self.named.add(name)
        return None, name

    def number(self, line: int, column: str, text: str | None, scale: tuple[float, float] | None = None,
               positive: bool = False) -> float | None:
        raw = (text or "").strip()
        try:
            value = float(raw)
        except ValueError:
            self.bad(line, column, f"{raw!r} is not a number")
            return None
        if not math.isfinite(value):
            self.bad(line, column, f"{raw!r} is not a finite number")
            return None
        if scale is not None and not scale[0] <= value <= scale[1]:
            self.bad(line, column, f"{raw!r} is outside the scale {scale[0]:g}-{scale[1]:g}")
            return None
        if positive and value < 0:
            self.bad(line, column, f"{raw!r} is negative")
            return None
        return value

    def raise_if_bad(self) -> None:
        if self.problems:
            shown = self.problems[:MAX_LISTED]
            more = f"\n  ... and {len(self.problems) - MAX_LISTED} more" if len(self.problems) > MAX_LISTED else ""
            raise DataError(f"{len(self.problems)} problem(s) in {len(self.lines)} row(s) of {self.path}; "
                            "nothing was imported:\n  "
                            + "\n  ".join(shown) + more)


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows = []
    for row in reader:
        rows.append((reader.line_num, row))
    return header, rows


def read_judgments(path: str | Path, fmt: str, *, source: str | None = None, mapping: str | Path | None = None,
                   scale: tuple[float, float] | None = None, qa_status: str = "pass", suite: str | None = None,
                   taxonomy: Taxonomy | None = None) -> ImportBatch:
    """Read and validate a whole file (DataError listing every bad row; nothing is returned half-read)."""
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {FORMATS} (or jsonl), not {fmt!r}")
    if qa_status not in QA_STATUSES:
        raise InputError(f"--qa-status must be one of {QA_STATUSES}, not {qa_status!r}")
    path = Path(path)
    tax = taxonomy or load_taxonomy()
    mapped = load_mapping(mapping or "fetv", tax) if (mapping or fmt == "fetv") else taxonomy_mapping(tax)
    scale = tuple(scale) if scale else (mapped.scale or tuple(tax.score_scale))
    if not scale[0] < scale[1]:
        raise InputError(f"the scale must be LOW,HIGH with LOW < HIGH, not {scale}")
    header, rows = _read_csv(path)
    missing = [c for c in REQUIRED[fmt] if c not in header]
    if fmt == "fetv":
        missing += [a for a in mapped.axes if a not in header]
        if "file" not in header and "video_id" not in header:
            missing.append("file or video_id")
    if missing:
        raise DataError(f"{path}, line 1: missing column(s) {missing}; found {header}")
    digest = sha256_file(path)
    batch = ImportBatch(source={
        "id": source or f"{fmt}:{path.stem}", "format": fmt, "path": str(path.resolve()), "file_sha256": digest,
        "mapping": mapped.as_record() if (mapping or fmt == "fetv") else {"dimension": "taxonomy dimension ids"},
        "scale_min": scale[0], "scale_max": scale[1], "citation": mapped.citation, "licence": mapped.licence,
    }, rows_read=len(rows))
    check = _Rows(path)
    reader = {"fetv": _fetv_rows, "pointwise": _pointwise_rows, "pairwise": _pairwise_rows}[fmt]
    reader(rows, check, mapped, scale, batch, qa_status, suite, tax)
    check.raise_if_bad()
    batch.hashed_videos, batch.named_videos = len(check.hashed), len(check.named)
    return batch


def _base(batch: ImportBatch, qa_status: str, suite: str | None) -> dict[str, Any]:
    return {"source": batch.source["id"], "qa_status": qa_status, "suite": suite}


def _first_seen(seen: dict[str, int], key: str, line: int, check: _Rows, column: str, what: str) -> bool:
    if key in seen:
        check.bad(line, column, f"repeats line {seen[key]} ({what})")
        return False
    seen[key] = line
    return True


def _fetv_rows(rows, check: _Rows, mapping: Mapping, scale, batch: ImportBatch, qa: str, suite, tax) -> None:
    seen: dict[str, int] = {}
    base = _base(batch, qa, suite)
    for axis, reason in mapping.skipped.items():
        batch.skipped[axis] = (0, reason)
    for line, row in rows:
        if None in row:
            check.bad(line, "row", "more fields than the header has columns")
            continue
        empty = [c for c in ("prompt_index", "model", "rater") if not (row.get(c) or "").strip()]
        for c in empty:
            check.bad(line, c, "empty")
        if empty:
            continue
        index = row["prompt_index"].strip()
        if not index.isdigit():
            check.bad(line, "prompt_index", f"{index!r} is not a whole number")
            continue
        model, rater = row["model"].strip(), row["rater"].strip()
        if (row.get("file") or "").strip():
            video_hash, name = check.video(row["file"])
        else:
            video_hash, name = None, f"fetv_{index}_{model}"
            check.named.add(name)
        unit = video_hash or name
        for axis, target in mapping.axes.items():
            text = row.get(axis)
            if target.dimension is None:
                if (text or "").strip():
                    count, why = batch.skipped[axis]
                    batch.skipped[axis] = (count + 1, why)
                continue
            if not (text or "").strip():
                check.bad(line, axis, "empty")
                continue
            score = check.number(line, axis, text, scale)
            if score is None or not _first_seen(seen, f"{unit}|{rater}|{axis}", line, check, axis,
                                                 "same video, rater and axis"):
                continue
            batch.pointwise.append({
                **base, "uid": uid_of(batch.source["id"], unit, rater, axis), "case_key": f"fetv_{index}",
                "dimension": target.dimension, "sub_dimension": target.sub_dimension, "axis": axis, "model": model,
                "video_hash": video_hash, "video_name": name, "score": score, "annotator": rater,
                "scale_min": scale[0], "scale_max": scale[1],
            })


def _target(check: _Rows, line: int, row: dict, mapping: Mapping, tax: Taxonomy):
    """(dimension id, sub-dimension, axis) of a generic row, or None after recording the problem."""
    axis = row["dimension"].strip()
    target = mapping.target(axis) or mapping.target(axis.lower())
    if target is None:
        check.bad(line, "dimension", f"{axis!r} is neither a taxonomy dimension nor an axis of mapping {mapping.name!r}")
        return None
    if target.dimension is None:
        return ("skip", axis, target.reason)
    sub = (row.get("sub_dimension") or "").strip() or target.sub_dimension
    if sub and sub not in {s.id for s in tax.dimension(target.dimension).sub_dimensions}:
        check.bad(line, "sub_dimension", f"{sub!r} is not a sub-dimension of {target.dimension}")
        return None
    return (target.dimension, sub or None, axis)


def _optional_seconds(check: _Rows, line: int, row: dict) -> float | None:
    text = (row.get("seconds") or "").strip()
    return check.number(line, "seconds", text, positive=True) if text else None


def _complete_rows(rows, check: _Rows, kind: str):
    """The rows with no extra field and every required column filled; the others are reported by line."""
    for line, row in rows:
        if None in row:
            check.bad(line, "row", "more fields than the header has columns")
            continue
        empty = [c for c in REQUIRED[kind] if not (row.get(c) or "").strip()]
        for c in empty:
            check.bad(line, c, "empty")
        if not empty:
            yield line, row


def _pointwise_rows(rows, check: _Rows, mapping: Mapping, scale, batch: ImportBatch, qa: str, suite, tax) -> None:
    seen: dict[str, int] = {}
    base = _base(batch, qa, suite)
    for line, row in _complete_rows(rows, check, "pointwise"):
        target = _target(check, line, row, mapping, tax)
        score = check.number(line, "score", row["score"], scale)
        seconds = _optional_seconds(check, line, row)
        if target is None or score is None:
            continue
        if target[0] == "skip":
            n, why = batch.skipped.get(target[1], (0, target[2]))
            batch.skipped[target[1]] = (n + 1, why)
            continue
        dim, sub, axis = target
        video_hash, name = check.video(row["video"])
        unit, rater = video_hash or name, row["rater"].strip()
        if not _first_seen(seen, f"{unit}|{rater}|{dim}|{sub}", line, check, "video", "same video, rater and dimension"):
            continue
        batch.pointwise.append({
            **base, "uid": uid_of(batch.source["id"], unit, rater, dim, sub, axis),
            "case_key": (row.get("case") or "").strip() or None, "dimension": dim, "sub_dimension": sub,
            "axis": axis, "model": (row.get("model") or "").strip() or None, "video_hash": video_hash,
            "video_name": name, "score": score, "annotator": rater, "scale_min": scale[0], "scale_max": scale[1],
            "seconds": seconds, "note": row.get("note") or None,
        })


def _pairwise_rows(rows, check: _Rows, mapping: Mapping, scale, batch: ImportBatch, qa: str, suite, tax) -> None:
    seen: dict[str, int] = {}
    base = _base(batch, qa, suite)
    for line, row in _complete_rows(rows, check, "pairwise"):
        outcome = row["outcome"].strip().lower()
        if outcome not in OUTCOMES:
            check.bad(line, "outcome", f"{row['outcome'].strip()!r} is not one of {', '.join(OUTCOMES)}")
        left = (row.get("left") or "").strip().lower() or None
        if left not in (None, "a", "b"):
            check.bad(line, "left", f"{left!r} is not a or b")
        seconds = _optional_seconds(check, line, row)
        target = _target(check, line, row, mapping, tax)
        if target is None or outcome not in OUTCOMES or left not in (None, "a", "b"):
            continue
        if target[0] == "skip":
            n, why = batch.skipped.get(target[1], (0, target[2]))
            batch.skipped[target[1]] = (n + 1, why)
            continue
        dim, sub, axis = target
        (hash_a, name_a), (hash_b, name_b) = check.video(row["video_a"]), check.video(row["video_b"])
        unit_a, unit_b = hash_a or name_a, hash_b or name_b
        if unit_a == unit_b:
            check.bad(line, "video_b", "the same video as video_a")
            continue
        case, rater = row["case"].strip(), row["rater"].strip()
        key = "|".join([case, *sorted((unit_a, unit_b)), rater, dim, sub or ""])
        if not _first_seen(seen, key, line, check, "video_a", "same case, videos, rater and dimension"):
            continue
        batch.pairwise.append({
            **base, "uid": uid_of(batch.source["id"], case, *sorted((unit_a, unit_b)), rater, dim, sub, axis),
            "case_key": case, "dimension": dim, "sub_dimension": sub, "axis": axis,
            "model_a": (row.get("model_a") or "").strip() or None, "model_b": (row.get("model_b") or "").strip() or None,
            "video_a": unit_a, "video_b": unit_b, "winner": outcome, "annotator": rater, "left_side": left,
            "seconds": seconds, "note": row.get("note") or None,
        })
