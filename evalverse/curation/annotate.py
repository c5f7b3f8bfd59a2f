"""`suite annotate`: every clip of a folder through the evidence operators, on the benchmark's engines
(local processes or Ray actors; `Job(task="evidence")`), into an annotation file.

The driver is the only writer: of the store (each worker's evidence writes are replayed, so the evidence
cache fills wherever the work ran), of the annotation file and of the keyframe images (which come back from
the worker as JPEG bytes cut from the frames it decoded). A clip's record is appended and synced as soon as
it is done, so a killed run loses at most the clips in flight: run the same command again and it keeps every
record whose file (sha256) and annotation plan (operator versions, backends, parameters, the vocabulary) are
unchanged, and does the rest, with the evidence cache answering for what was computed before. A clip that
cannot be read is reported and skipped; the others go on.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from evalverse.bench.engines import make_engine
from evalverse.bench.submission import WorkItem
from evalverse.bench.worker import Job, Snapshot, replay, snapshot_for
from evalverse.config import Settings
from evalverse.curation.fields import OPERATORS, clip_fields, shot_rows
from evalverse.curation.records import FORMAT, append_record, clip_id, read_meta, write_meta
from evalverse.errors import InputError


@dataclass
class AnnotateSummary:
    folder: str
    out: str
    files: int
    already_done: int = 0
    annotated: int = 0
    from_cache: int = 0  # annotated now with every usable operator's evidence served from the cache
    failed: list[dict[str, Any]] = field(default_factory=list)  # clip, file, kind, error
    dropped_lines: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["done"] = self.already_done + self.annotated
        out["seconds"] = round(self.seconds, 3)
        return out


def scan_folder(folder: Path, recursive: bool = False, skip: tuple[Path, ...] = ()) -> list[Path]:
    """Video files of `folder` (its sub-folders too when `recursive`), sorted; hidden files and `skip` left out."""
    from evalverse.media.formats import VIDEO_SUFFIXES

    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    pattern = "**/*" if recursive else "*"
    skipped = [s.resolve() for s in skip]
    out = []
    for p in sorted(folder.glob(pattern)):
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        if p.suffix.lower() not in VIDEO_SUFFIXES or any(s in p.resolve().parents for s in skipped):
            continue
        out.append(p)
    return out


def annotation_header(folder: Path, plan: dict[str, Any], vocab_version: str) -> dict[str, Any]:
    from evalverse import __version__
    from evalverse.operators.catalogue import load_catalogue

    return {"format": FORMAT, "folder": str(folder.resolve()), "operators": plan, "vocabulary": vocab_version,
            "catalogue": load_catalogue().version, "evalverse": __version__,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def annotation_key(plan: dict[str, Any], vocab_version: str) -> str:
    from evalverse.provenance import canonical_hash

    return canonical_hash({"format": FORMAT, "operators": plan, "vocabulary": vocab_version})


def keyframe_dir(out: Path) -> Path:
    return out.with_name(out.stem + ".keyframes")


def build_record(report: dict[str, Any], clip: str, path: Path, folder: Path, key: str,
                 keyframes: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The annotation record of one clip from its evidence report (pipeline.evidence_stream's, plus the
    worker's keyframes) and the keyframe files already written ({shot index: {path, time_s, frame, phash}})."""
    from evalverse.curation.attributes import colour_name
    from evalverse.media.types import VideoMeta
    from evalverse.operators.base import EvidenceRecord
    from evalverse.operators.evidence import Evidence

    meta = VideoMeta.model_validate(report["video"])
    evidence = Evidence({n: EvidenceRecord.model_validate(r) for n, r in report["operators"].items()}, meta=meta)
    rows = shot_rows(evidence, colour_name)
    for row in rows:
        row["keyframe"] = keyframes.get(int(row["index"]))
    return {
        "clip": clip, "path": str(path.absolute()), "file": str(path.relative_to(folder)), "sha256": meta.content_hash,
        "size_bytes": meta.size_bytes, "annotation_key": key,
        "annotated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "operators": {n: {"version": r.version, "backend": r.backend, "status": r.status, "message": r.message,
                          "cached": r.cached} for n, r in evidence.items()},
        "fields": clip_fields(evidence, colour_name), "shots": rows,
    }


def _write_keyframes(out: Path, sha: str, keyframes: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    folder = keyframe_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for k in keyframes:
        name = f"{sha[:16]}_shot{k['shot']:02d}.jpg"
        (folder / name).write_bytes(k["jpeg"])
        written[int(k["shot"])] = {"path": f"{folder.name}/{name}", "time_s": k["time_s"], "frame": k["frame"],
                                   "width": k["width"], "height": k["height"], "phash": k["phash"]}
    return written


def annotate_folder(folder: str | Path, out: str | Path, store: Any, settings: Settings, *,
                    operators: tuple[str, ...] = OPERATORS, engine: str = "local", workers: int = 1,
                    ray_address: str | None = None, use_cache: bool = True, recursive: bool = False,
                    on_clip: Callable[[dict[str, Any]], None] | None = None) -> AnnotateSummary:
    """Annotate every clip of `folder` into `out` (resuming what an earlier run of the same plan wrote)."""
    from evalverse.curation.vocabulary import load_vocabulary
    from evalverse.media.hashing import sha256_file
    from evalverse.operators.runner import plan as operator_plan

    started = time.perf_counter()
    folder, out = Path(folder).expanduser(), Path(out).expanduser()
    files = scan_folder(folder, recursive, skip=(keyframe_dir(out),))
    if not files:
        raise InputError(f"no video files in {folder}" + ("" if recursive else " (sub-folders need --recursive)"))
    names = tuple(dict.fromkeys(["shots", *operators]))
    plan = operator_plan(list(names), settings)
    vocab_version = load_vocabulary().version
    key = annotation_key(plan, vocab_version)
    summary = AnnotateSummary(str(folder), str(out), len(files))
    kept: dict[str, dict[str, Any]] = {}
    if out.exists():
        old = read_meta(out, tolerant=True)
        summary.dropped_lines = old.dropped
        kept = {r["path"]: r for r in old.records if r.get("annotation_key") == key}
    out.parent.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    ids = {p: clip_id(p, taken) for p in files}
    todo: list[tuple[WorkItem, str]] = []
    records: list[dict[str, Any]] = []
    for p in files:
        try:
            digest = sha256_file(p)
        except OSError as exc:
            summary.failed.append({"clip": ids[p], "file": p.name, "kind": "unreadable",
                                   "error": f"{p.name}: cannot be read ({exc.strerror or exc})"})
            continue
        prior = kept.get(str(p.absolute()))
        if prior is not None and prior["sha256"] == digest and prior["clip"] == ids[p]:
            records.append(prior)
            summary.already_done += 1
            continue
        todo.append((WorkItem(case_id=ids[p], seed=0, path=p.absolute(), prompt=None), digest))
    write_meta(out, annotation_header(folder, plan, vocab_version), records)
    for f in summary.failed:
        _emit(on_clip, f["clip"], "error", f)

    def tasks() -> Iterator[tuple[WorkItem, Snapshot]]:
        for item, digest in todo:
            yield item, snapshot_for(store, digest)

    by_key = {item.key: item for item, _ in todo}
    job = Job(task="evidence", operators=names, use_cache=use_cache)
    runner = make_engine(engine, settings, job, workers, ray_address)
    try:
        for outcome in runner.map(tasks()):
            item = by_key[outcome.key]
            if outcome.report is None:
                failure = {"clip": item.case_id, "file": item.path.name, "kind": outcome.error_kind or "error",
                           "error": outcome.error or "failed without a message"}
                summary.failed.append(failure)
                _emit(on_clip, item.case_id, "error", failure)
                continue
            replay(store, outcome.calls)
            report = outcome.report
            written = _write_keyframes(out, report["content_hash"], report.get("keyframes", []))
            record = build_record(report, item.case_id, item.path, folder.absolute(), key, written)
            append_record(out, record)
            usable = [op for op in record["operators"].values() if op["status"] in ("ok", "partial")]
            cached = bool(usable) and all(op["cached"] for op in usable)
            summary.annotated += 1
            summary.from_cache += int(cached)
            _emit(on_clip, item.case_id, "done", {"cached": cached, "seconds": round(outcome.seconds, 3)})
    finally:
        runner.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _emit(on_clip, clip: str, status: str, extra: dict[str, Any]) -> None:
    if on_clip is not None:
        on_clip({"type": "clip", "clip": clip, "status": status, **{k: v for k, v in extra.items() if k != "clip"}})
