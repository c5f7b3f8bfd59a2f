"""The Diagnose tab's inputs (uploads, samples, the media folder, judges) and one diagnosis as a stream of UI
updates: pipeline events in, `run_view.Update`s out.

No gradio here (the tab adapts `Update` to its components), and no module-level mutable state: every call
owns its own `RunView` and its own temporary folder, so concurrent users never see each other's results.

Evidence for the panels comes from the pipeline's `operator_done` events. A run served whole from the run cache
runs no operator; its panels show the evidence that run used, read from the store (`replay.run_evidence`).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Mapping

from evalverse.config import Settings
from evalverse.errors import InputError
from evalverse.media.formats import VIDEO_SUFFIXES
from evalverse.ui.run_view import RunView, Update, render, write_report  # noqa: F401  (write_report: callers)

log = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "samples"
MAX_MEDIA_LIST = 500


# ---- inputs -------------------------------------------------------------------------------------------------------

def list_samples(folder: Path = SAMPLES_DIR) -> list[tuple[str, str]]:
    """(label, path) of the licence-clean sample clips shipped in assets/samples (see LICENSES.md there)."""
    if not folder.is_dir():
        return []
    return [(p.name, str(p)) for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]


def list_media(media_dir: Path | None) -> list[str]:
    """Video files under the configured media folder, as paths relative to it (links that leave it are skipped)."""
    if media_dir is None:
        return []
    try:
        root = Path(media_dir).expanduser().resolve(strict=True)
    except OSError:
        return []
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix.lower() not in VIDEO_SUFFIXES:
                continue
            try:
                real = path.resolve(strict=True)
            except OSError:
                continue
            if real.is_file() and real.is_relative_to(root):
                out.append(path.relative_to(root).as_posix())
            if len(out) >= MAX_MEDIA_LIST:
                return out
    return out


def resolve_media_file(media_dir: Path | None, name: str) -> Path:
    """`name` (relative to the media folder) as a real file strictly inside it; InputError otherwise."""
    if media_dir is None:
        raise InputError("no media folder is configured (set EVALVERSE_MEDIA_DIR to a folder of videos)")
    name = (name or "").strip()
    if not name:
        raise InputError("no media file chosen")
    rel = PurePosixPath(name.replace("\\", "/"))
    if not rel.parts or rel.parts == (".",):
        raise InputError(f"{name!r} is the media folder itself, not a file: choose a file from the media folder list")
    if rel.is_absolute() or name.startswith(("/", "\\")) or ":" in rel.parts[0] or ".." in rel.parts:
        raise InputError(f"{name!r}: choose a file from the media folder list (absolute paths and '..' are refused)")
    try:
        root = Path(media_dir).expanduser().resolve(strict=True)
    except OSError:
        raise InputError(f"the media folder {media_dir} does not exist") from None
    try:
        target = (root / rel).resolve(strict=True)
    except (OSError, ValueError):  # missing, a link loop, a NUL byte in the name
        raise InputError(f"{name!r} is not in the media folder") from None
    if not target.is_relative_to(root):
        raise InputError(f"{name!r} points outside the media folder and is refused")
    if not target.is_file():
        kind = "a folder" if target.is_dir() else "not a regular file"
        raise InputError(f"{name!r} is {kind}, not a video file: choose a file from the media folder list")
    return target


def choose_video(upload: str | None, sample: str | None, media_file: str | None, settings: Settings) -> Path:
    """The clip to diagnose: an upload first, else a sample, else a file from the media folder."""
    if upload:
        return Path(upload)
    if sample:
        samples = dict((label, path) for label, path in list_samples())
        wanted = samples.get(sample) or next((p for _, p in list_samples() if p == sample), None)
        if wanted is None:
            raise InputError(f"unknown sample {sample!r}; choose one of: {', '.join(samples)}")
        return Path(wanted)
    if media_file:
        return resolve_media_file(settings.media_dir, media_file)
    raise InputError("choose a video first: upload one, pick a sample clip, or a file from the media folder")


@dataclass(frozen=True)
class JudgeChoice:
    name: str
    available: bool
    why: str  # Availability.explain()
    description: str

    @property
    def label(self) -> str:
        return self.name if self.available else f"{self.name} (unavailable)"


def judge_choices(settings: Settings) -> list[JudgeChoice]:
    """Every registered judge backend with whether it can run here and why not."""
    from evalverse.judge.protocol import judge_names
    from evalverse.registry import REGISTRY

    judge_names()  # registers the backends
    out = []
    for cls in REGISTRY.all("judge"):
        try:
            avail = cls.availability(settings)
            out.append(JudgeChoice(cls.name, avail.available, avail.explain(), cls.description))
        except Exception as exc:  # noqa: BLE001 - a broken probe must not hide the other judges
            out.append(JudgeChoice(cls.name, False, f"{cls.name}: availability check failed ({exc})", cls.description))
    return out


def check_judge(name: str, settings: Settings) -> None:
    for choice in judge_choices(settings):
        if choice.name == name:
            if not choice.available:
                raise InputError(f"the judge {name!r} cannot run here. {choice.why}")
            return
    raise InputError(f"unknown judge {name!r}; choose one of: {', '.join(c.name for c in judge_choices(settings))}")


# ---- runs ----------------------------------------------------------------------------------------------------

def leaderboard_compare(frame: Any, model: str | None) -> dict[str, float | None] | None:
    """Dimension name → the model's machine win ratio from the leaderboard frame (None when not chosen)."""
    if not model or frame is None or getattr(frame, "empty", True):
        return None
    part = frame[frame["model"] == model]
    if part.empty:
        raise InputError(f"unknown leaderboard model {model!r}")
    return {str(d): (None if v != v else float(v)) for d, v in zip(part["dimension"], part["machine_win_ratio"])}


def _with_cached_evidence(events: Iterator[dict[str, Any]], store: Any) -> Iterator[dict[str, Any]]:
    """The pipeline's events; after a "cached" event, the evidence that cached run used, read from the store."""
    for ev in events:
        yield ev
        if ev["type"] == "cached" and store is not None:
            from evalverse.replay import run_evidence

            try:
                run = store.get_run(int(ev["run_id"]))
                records = run_evidence(store, run) if run else {}
            except Exception as exc:  # noqa: BLE001 - panels are a bonus on a cached run
                log.warning("could not read the cached run's evidence: %s", exc)
                records = {}
            from evalverse.operators.base import EvidenceRecord

            for i, (name, raw) in enumerate(records.items()):
                rec = EvidenceRecord.model_validate(raw | {"operator": name})
                yield {"type": "operator_done", "operator": name, "index": i, "total": len(records),
                       "status": rec.status, "backend": rec.backend, "seconds": rec.seconds, "cached": True,
                       "stored": True, "message": rec.message, "results": rec.results, "version": rec.version}


def run_diagnosis(video: Path, settings: Settings, store: Any, taxonomy: Any, *, prompt: str | None = None,
                  reference: str | Path | None = None, mode: str = "t2v", judge: str = "evidence",
                  dimensions: list[str] | None = None, use_cache: bool = True,
                  compare: Mapping[str, float | None] | None = None, compare_name: str | None = None,
                  workdir: Path | None = None) -> Iterator[Update]:
    """Diagnose `video`, yielding an `Update` after every step worth showing; errors end the stream with a message
    (never an exception): bad input shows its InputError text, anything unexpected its type and message."""
    from evalverse.pipeline import diagnose_stream

    view = RunView(taxonomy=taxonomy, compare=compare, compare_name=compare_name, workdir=workdir)

    def events() -> Iterator[dict[str, Any]]:
        check_judge(judge, settings)
        if mode not in ("t2v", "r2v"):
            raise InputError(f"mode must be t2v or r2v, not {mode!r} (audio and multi-shot follow from the clip)")
        yield from _with_cached_evidence(diagnose_stream(
            video, settings, prompt=prompt, reference=reference, mode=mode, judge=judge, dimensions=dimensions,
            store=store, use_cache=use_cache, taxonomy=taxonomy), store)

    view.stage = f"Reading {Path(video).name}"
    yield Update(progress=view.progress(), overview="", cards="", evidence=view.evidence(), radar=None)
    yield from render(events(), view)


def open_stored_run(store: Any, taxonomy: Any, run_id: int, *, prefix: str = "rv", progress_prefix: str = "run",
                    workdir: Path | None = None) -> Iterator[Update]:
    """A stored run's view, from the store alone (nothing decoded, no operator, no judge): the same updates a
    fresh diagnosis ends with."""
    from evalverse.replay import stored_stream

    view = RunView(taxonomy=taxonomy, prefix=prefix, progress_prefix=progress_prefix, workdir=workdir)
    if store is None:
        yield view.fail("no results database is open, so there are no stored runs")
        return
    yield from render(stored_stream(store, run_id, taxonomy), view)


def warm_up(settings: Settings, taxonomy: Any) -> dict[str, float]:
    """What app.py runs in the background once the page is served: the operators' models
    (evalverse.operators.warm), then one diagnosis of a tiny synthetic clip through this module's own path
    (judge, cards, overview, radar, report) on an in-memory store, so the first real diagnosis pays no import
    or first-call cost. Seconds per step; a failure is logged, never raised (warming is an optimisation)."""
    import tempfile
    import time

    from evalverse.media.synthetic import cuts_clip
    from evalverse.operators.warm import warm_up as warm_operators
    from evalverse.store import Store

    seconds = warm_operators(settings)
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="evalverse-warm-") as tmp, Store.memory() as store:
            clip = cuts_clip(Path(tmp) / "warm-up.mp4", cut_frames=(12,), n=25, size=(160, 120)).path
            for _ in run_diagnosis(clip, settings, store, taxonomy, use_cache=False, workdir=Path(tmp)):
                pass
    except Exception as exc:  # noqa: BLE001
        log.info("warm-up diagnosis failed: %s", exc)
    seconds["tiny diagnosis"] = round(time.perf_counter() - start, 3)
    return seconds
