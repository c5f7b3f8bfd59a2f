"""A run's events (a fresh diagnosis from `pipeline.diagnose_stream`, or a stored one from `replay.stored_stream`)
turned into UI updates: progress, overview, cards, evidence panels, radar, report file. Both go through the same
`RunView`, so an opened run looks exactly like a fresh one; only the progress line says where it came from.

No gradio here and no module-level mutable state: every call owns its own `RunView` and its own temporary folder.
"""
from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from evalverse.errors import EvalVerseError
from evalverse.ui import cards as card_html
from evalverse.ui import overview, panels, progress
from evalverse.ui.markup import operator_title

log = logging.getLogger(__name__)
STREAM_INTERVAL_S = 0.25  # streamed rationale text is pushed at most this often (cards always on completion)


@dataclass
class Update:
    """One UI update. None means "leave as it is"."""

    progress: str
    overview: str | None = None
    cards: str | None = None
    evidence: str | None = None
    radar: Any | None = None  # plotly Figure
    report_path: str | None = None
    done: bool = False
    error: str | None = None
    first_card_s: float | None = None  # seconds from the start to the first finished dimension card
    run_id: int | None = None
    report: dict[str, Any] | None = None


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


@dataclass
class RunView:
    """The state of one run's view. `prefix` keeps the ids of two views on one page apart ("ev" in Diagnose)."""

    taxonomy: Any
    prefix: str = "ev"
    progress_prefix: str = "diagnose"
    compare: Mapping[str, float | None] | None = None  # a leaderboard model's win ratios for the radar
    compare_name: str | None = None
    workdir: Path | None = None
    started: float = field(default_factory=time.perf_counter)
    stage: str = "Starting"
    dims: list[str] = field(default_factory=list)
    operators: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # operator -> evidence record (panels, report)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    streaming: dict[str, str] = field(default_factory=dict)
    judging: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    warnings: tuple[str, ...] = ()
    first_card_s: float | None = None
    run_id: int | None = None
    done: bool = False
    video: str = "clip"
    _last_push: float = 0.0

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    # ---- rendering ------------------------------------------------------------------------------------------
    def progress(self, error: str = "") -> str:
        return (progress.warnings_html(self.warnings, self.progress_prefix)
                + progress.progress_html(self.stage, self.operators, note=self.note, error=error, elapsed=self.elapsed,
                                         folded=self.done, prefix=self.progress_prefix))

    def overview(self) -> str:
        return overview.overview_html(self.taxonomy, self.results, self.dims or None, self.judging, self.done, self.prefix)

    def cards(self) -> str:
        return card_html.cards_html(self.taxonomy, self.results, self.streaming, self.dims or None, self.judging,
                                    available_panels=tuple(self.records), prefix=self.prefix)

    def evidence(self) -> str:
        return panels.evidence_html(self.records, self.meta.get("duration_s"), self.prefix)

    def radar(self, provenance: Mapping[str, Any] | None = None) -> Any:
        from evalverse.leaderboard.figures import clip_radar

        return clip_radar(self.taxonomy, self.results, self.compare, self.compare_name, height=360,
                          provenance={"run_id": self.run_id, "hash": (provenance or {}).get("hash")})

    def _update(self, **kw: Any) -> Update:
        return Update(progress=self.progress(), run_id=self.run_id, **kw)

    def read_meta(self, meta: Mapping[str, Any] | None) -> None:
        if meta:
            self.meta = dict(meta)
            self.warnings = file_warnings(self.meta)

    def _name(self, dim_id: str) -> str:
        try:
            return self.taxonomy.dimension(dim_id).name
        except KeyError:
            return dim_id

    def _total(self) -> int:
        return len(self.dims) or len(self.taxonomy.dimensions)

    # ---- events ---------------------------------------------------------------------------------------------
    def handle(self, ev: Mapping[str, Any]) -> Update | None:
        """The update an event calls for (None: nothing worth pushing yet)."""
        kind = ev["type"]
        if kind == "start":
            self.dims = list(ev.get("dimensions") or [])
            self.video = Path(str(ev.get("video") or "clip")).name
            self.run_id = ev.get("run_id")
            self.stage = f"Reading the stored run {self.run_id}" if ev.get("stored") else f"Probing {self.video}"
            return self._update(overview=self.overview(), cards=self.cards())
        if kind == "probe":
            self.read_meta(ev.get("meta"))
            if ev.get("stored"):
                return None
            self.stage = f"Decoding {self.meta.get('duration_s', 0):.1f} s at {self.meta.get('width')}×{self.meta.get('height')}"
            return self._update()
        if kind == "stored":
            self.run_id = ev.get("run_id")
            self.note = (f"Opened from the store: run {ev.get('run_id')} ({ev.get('status')}, started {ev.get('started_at')}). "
                         f"Nothing was decoded and no operator ran: read in {float(ev.get('seconds') or 0):.3f} s.")
            self.stage = f"Stored run {ev.get('run_id')}"
            return None
        if kind == "cached":
            self.run_id = ev.get("run_id")
            self.note = f"Served from the cache: this clip was diagnosed with the same settings before (run {ev.get('run_id')})."
            self.stage = "Cached result"
            return None
        if kind == "resumed":
            self.run_id = ev.get("run_id")
            self.note = f"Resuming the interrupted run {ev.get('run_id')}: {len(ev.get('done') or [])} dimensions were already stored."
            return self._update()
        if kind == "decode":
            self.read_meta(ev.get("meta"))  # now with what decoding found (damage)
            self.stage = f"Extracting evidence ({ev.get('frames')} frames decoded in {ev.get('seconds', 0):.1f} s)"
            return self._update()
        if kind == "operator_start":
            self.operators[ev["operator"]] = {"status": "running…"}
            self.stage = f"Evidence {ev['index'] + 1}/{ev['total']}: {operator_title(ev['operator'])}"
            return self._update()
        if kind == "operator_done":
            facts = {k: ev.get(k) for k in ("status", "backend", "seconds", "cached", "message", "stored")}
            self.operators[ev["operator"]] = facts
            self.records[ev["operator"]] = facts | {"version": ev.get("version"), "results": ev["results"]}
            return None if ev.get("stored") else self._update(evidence=self.evidence())
        if kind == "judge":
            dim = ev["dimension"]
            if self.judging != dim:
                self.judging = dim
                self.stage = f"Judging {self._name(dim)}"
            if ev.get("kind") in ("rationale", "reflection") and ev.get("text"):
                self.streaming[dim] = self.streaming.get(dim, "") + ev["text"]
            if time.perf_counter() - self._last_push >= STREAM_INTERVAL_S:
                self._last_push = time.perf_counter()
                return self._update(cards=self.cards(), overview=self.overview())
            return None
        if kind == "dimension_done":
            self.results[ev["dimension"]] = ev["result"]
            self.streaming.pop(ev["dimension"], None)
            self.judging = None
            if self.first_card_s is None:
                self.first_card_s = self.elapsed
            self.stage = card_html.summary_line(self.results, self._total())
            self._last_push = time.perf_counter()
            if self.note.startswith(("Opened", "Served")):
                return None  # stored results arrive at once: one update at the end
            return self._update(overview=self.overview(), cards=self.cards(), first_card_s=self.first_card_s)
        if kind == "report":
            return self.finish(dict(ev["report"]))
        return None

    def finish(self, report: dict[str, Any]) -> Update:
        self.read_meta(report.get("meta"))  # a cached run's damage comes with its stored meta
        self.run_id = report.get("run_id", self.run_id)
        report.setdefault("evidence", self.records)
        if not report.get("evidence"):
            report["evidence"] = self.records
        self.done = True
        path = write_report(report, self.workdir)
        origin = " (from the store)" if report.get("stored") else " (from cache)" if report.get("cached") else ""
        verb = "Opened" if report.get("stored") else "Done"
        self.stage = f"{verb} in {self.elapsed:.1f} s: " + card_html.summary_line(self.results, self._total()) + origin
        return self._update(overview=self.overview(), cards=self.cards(), evidence=self.evidence(),
                            radar=self.radar(report.get("provenance")), report_path=str(path), done=True,
                            first_card_s=self.first_card_s, report=report)

    def fail(self, message: str) -> Update:
        self.stage = "Stopped"
        self.done = bool(self.results)
        # cards already finished stay; placeholders of a run that never got going are cleared
        return Update(progress=self.progress(error=message), overview=self.overview() if self.results else "",
                      cards=self.cards() if self.results else "", done=True, error=message, run_id=self.run_id)


def render(events: Iterable[Mapping[str, Any]], view: RunView) -> Iterator[Update]:
    """Every update the events call for; errors end the stream with a message (never an exception): bad input
    shows its EvalVerseError text, anything unexpected its type and message."""
    try:
        for ev in events:
            up = view.handle(ev)
            if up is not None:
                yield up
    except EvalVerseError as exc:
        yield view.fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - the app keeps serving; the user sees what broke
        log.exception("the run view failed")
        yield view.fail(f"The diagnosis failed: {type(exc).__name__}: {exc}")


def write_report(report: Mapping[str, Any], workdir: Path | None = None) -> Path:
    """The report as JSON in a per-call folder (a fresh temporary one unless given)."""
    folder = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="evalverse-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(str(report.get("video") or "clip")).stem[:60] or "clip"
    run = f"-run{int(report['run_id'])}" if isinstance(report.get("run_id"), int) else ""
    path = folder / f"evalverse-report-{''.join(c for c in stem if c.isalnum() or c in '-_')}{run}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path
