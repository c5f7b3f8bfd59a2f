"""One diagnosis as a stream of UI updates: pipeline events in, rendered HTML / figure / report file out.

No gradio here (the tab adapts `Update` to its components), and no module-level mutable state: every call
owns its own `_Run` and its own temporary folder, so concurrent users never see each other's results.

Evidence for the panels comes from the pipeline's `operator_done` events (status and results). A run served
whole from the run cache runs no operator; its panels come from the newest cached records for the clip.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Mapping

from evalverse.config import Settings
from evalverse.errors import EvalVerseError, InputError
from evalverse.media.formats import VIDEO_SUFFIXES
from evalverse.ui import diagnose_view as view

log = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "samples"
MAX_MEDIA_LIST = 500
STREAM_INTERVAL_S = 0.25  # streamed rationale text is pushed at most this often (cards always on completion)


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


# ---- evidence capture ---------------------------------------------------------------------------------------------

def stored_evidence(store: Any, video_hash: str) -> dict[str, dict[str, Any]]:
    """The newest cached evidence record per operator for a clip (for runs served from the run cache)."""
    try:
        return {op: rec | {"cached": True} for op, rec in store.latest_evidence(video_hash).items()}
    except Exception as exc:  # noqa: BLE001 - panels are a bonus on a cached run
        log.warning("could not read cached evidence: %s", exc)
        return {}


# ---- the run --------------------------------------------------------------------------------------------------------

@dataclass
class Update:
    """One UI update. None means "leave as it is"."""

    progress: str
    cards: str | None = None
    evidence: str | None = None
    radar: Any | None = None  # plotly Figure
    report_path: str | None = None
    done: bool = False
    error: str | None = None
    first_card_s: float | None = None  # seconds from the start to the first finished dimension card


@dataclass
class _Run:
    taxonomy: Any
    started: float = field(default_factory=time.perf_counter)
    stage: str = "Starting"
    dims: list[str] = field(default_factory=list)
    operators: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    streaming: dict[str, str] = field(default_factory=dict)
    judging: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    warnings: tuple[str, ...] = ()  # about the file itself: damage found while decoding, audio track used
    first_card_s: float | None = None
    panels: tuple[str, ...] = ()  # operators with an evidence panel (card links point to these)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def progress(self, error: str = "") -> str:
        return warnings_html(self.warnings) + view.progress_html(self.stage, self.operators, note=self.note,
                                                                  error=error, elapsed=self.elapsed)

    def cards(self) -> str:
        return view.cards_html(self.taxonomy, self.results, self.streaming, self.dims or None, self.judging,
                               available_panels=self.panels)

    def read_meta(self, meta: Mapping[str, Any] | None) -> None:
        if meta:
            self.meta = dict(meta)
            self.warnings = file_warnings(self.meta)


WARNING_STYLE = "background:#fff4e5;border:1px solid #f0a030;border-radius:6px;padding:6px 12px;color:#5a3800"


def file_warnings(meta: Mapping[str, Any]) -> tuple[str, ...]:
    """About the file: damage decoding found (frames lost, where), which of several audio tracks is analysed,
    audio longer or shorter than the video. An old or partial meta dict gives none."""
    from evalverse.media.types import VideoMeta

    try:
        m = VideoMeta.model_validate(dict(meta))
    except ValueError:
        return ()
    damage = m.damage_summary()
    damage = damage and f"{damage[0].upper()}{damage[1:]}: scores that rest on these stretches are less reliable."
    return tuple(w for w in (damage, m.audio_note()) if w)


def warnings_html(warnings: tuple[str, ...]) -> str:
    items = "".join(f'<div class="ev-file-warning" style="{WARNING_STYLE}">⚠️ {view.esc(w)}</div>' for w in warnings)
    return f'<div id="diagnose-file-warning">{items}</div>' if items else ""


def leaderboard_compare(frame: Any, model: str | None) -> dict[str, float | None] | None:
    """Dimension name → the model's machine win ratio from the leaderboard frame (None when not chosen)."""
    if not model or frame is None or getattr(frame, "empty", True):
        return None
    part = frame[frame["model"] == model]
    if part.empty:
        raise InputError(f"unknown leaderboard model {model!r}")
    return {str(d): (None if v != v else float(v)) for d, v in zip(part["dimension"], part["machine_win_ratio"])}


def run_diagnosis(video: Path, settings: Settings, store: Any, taxonomy: Any, *, prompt: str | None = None,
                  reference: str | Path | None = None, mode: str = "t2v", judge: str = "evidence",
                  dimensions: list[str] | None = None, use_cache: bool = True,
                  compare: Mapping[str, float | None] | None = None, compare_name: str | None = None,
                  workdir: Path | None = None) -> Iterator[Update]:
    """Diagnose `video`, yielding an `Update` after every step worth showing; errors end the stream with a message
    (never an exception): bad input shows its InputError text, anything unexpected its type and message."""
    from evalverse.pipeline import diagnose_stream

    run = _Run(taxonomy=taxonomy)
    records: dict[str, dict[str, Any]] = {}  # operator -> evidence record, for the panels and the report
    try:
        check_judge(judge, settings)
        if mode not in ("t2v", "r2v"):
            raise InputError(f"mode must be t2v or r2v, not {mode!r} (audio and multi-shot follow from the clip)")
        run.stage = f"Reading {Path(video).name}"
        yield Update(progress=run.progress(), cards="", evidence=view.evidence_html({}), radar=None)
        last_push = 0.0
        for ev in diagnose_stream(video, settings, prompt=prompt, reference=reference, mode=mode, judge=judge,
                                  dimensions=dimensions, store=store, use_cache=use_cache, taxonomy=taxonomy):
            kind = ev["type"]
            if kind == "start":
                run.dims = list(ev.get("dimensions") or [])
                run.stage = f"Probing {Path(video).name}"
                yield Update(progress=run.progress(), cards=run.cards())
            elif kind == "probe":
                run.read_meta(ev.get("meta"))
                run.stage = f"Decoding {run.meta.get('duration_s', 0):.1f} s at {run.meta.get('width')}×{run.meta.get('height')}"
                yield Update(progress=run.progress())
            elif kind == "cached":
                run.note = f"Served from the cache: this clip was diagnosed with the same settings before (run {ev.get('run_id')})."
                run.stage = "Cached result"
                if store is not None:
                    records.update(stored_evidence(store, run.meta.get("content_hash", "")))
                run.panels = tuple(records)
                yield Update(progress=run.progress(), evidence=_evidence(run, records, video))
            elif kind == "decode":
                run.read_meta(ev.get("meta"))  # now with what decoding found (damage)
                run.stage = f"Extracting evidence ({ev.get('frames')} frames decoded in {ev.get('seconds', 0):.1f} s)"
                yield Update(progress=run.progress())
            elif kind == "operator_start":
                run.operators[ev["operator"]] = {"status": "running…"}
                run.stage = f"Evidence {ev['index'] + 1}/{ev['total']}: {view.OPERATOR_TITLES.get(ev['operator'], ev['operator'])}"
                yield Update(progress=run.progress())
            elif kind == "operator_done":
                run.operators[ev["operator"]] = {k: ev.get(k) for k in ("status", "backend", "seconds", "cached", "message")}
                records[ev["operator"]] = run.operators[ev["operator"]] | {"results": ev.get("results") or {}}
                run.panels = tuple(records)
                yield Update(progress=run.progress(), evidence=_evidence(run, records, video))
            elif kind == "judge":
                dim = ev["dimension"]
                if run.judging != dim:
                    run.judging = dim
                    run.stage = f"Judging {_dim_name(taxonomy, dim)}"
                if ev.get("kind") in ("rationale", "reflection") and ev.get("text"):
                    run.streaming[dim] = run.streaming.get(dim, "") + ev["text"]
                if time.perf_counter() - last_push >= STREAM_INTERVAL_S:
                    last_push = time.perf_counter()
                    yield Update(progress=run.progress(), cards=run.cards())
            elif kind == "dimension_done":
                run.results[ev["dimension"]] = ev["result"]
                run.streaming.pop(ev["dimension"], None)
                run.judging = None
                if run.first_card_s is None:
                    run.first_card_s = run.elapsed
                run.stage = view.summary_line(run.results, len(run.dims) or len(taxonomy.dimensions))
                last_push = time.perf_counter()
                yield Update(progress=run.progress(), cards=run.cards(), first_card_s=run.first_card_s)
            elif kind == "report":
                report = dict(ev["report"])
                run.read_meta(report.get("meta"))  # a cached run's damage comes with its stored meta
                report["evidence"] = records
                path = write_report(report, workdir)
                run.stage = (f"Done in {run.elapsed:.1f} s: " + view.summary_line(run.results, len(run.dims) or len(run.results))
                             + (" (from cache)" if report.get("cached") else ""))
                radar = view.clip_radar(taxonomy, run.results, compare, compare_name)
                yield Update(progress=run.progress(), cards=run.cards(), evidence=_evidence(run, records, video), radar=radar,
                             report_path=str(path), done=True, first_card_s=run.first_card_s)
    except EvalVerseError as exc:
        run.stage = "Stopped"
        # cards already finished stay; placeholders of a run that never got going are cleared
        yield Update(progress=run.progress(error=str(exc)), cards=run.cards() if run.results else "", done=True,
                     error=str(exc))
    except Exception as exc:  # noqa: BLE001 - the app keeps serving; the user sees what broke
        log.exception("diagnosis of %s failed", video)
        message = f"The diagnosis failed: {type(exc).__name__}: {exc}"
        run.stage = "Stopped"
        yield Update(progress=run.progress(error=message), cards=run.cards() if run.results else "", done=True,
                     error=message)


def _evidence(run: _Run, records: Mapping[str, dict[str, Any]], video: Path) -> str:
    return view.evidence_html(records, run.meta.get("duration_s"))


def _dim_name(taxonomy: Any, dim_id: str) -> str:
    try:
        return taxonomy.dimension(dim_id).name
    except KeyError:
        return dim_id


def write_report(report: Mapping[str, Any], workdir: Path | None = None) -> Path:
    """The report as JSON in a per-call folder (a fresh temporary one unless given)."""
    folder = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="evalverse-diagnose-"))
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(str(report.get("video") or "clip")).stem[:60] or "clip"
    path = folder / f"evalverse-report-{''.join(c for c in stem if c.isalnum() or c in '-_')}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path
