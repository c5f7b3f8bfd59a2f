"""Judge protocol: what every judge backend receives and how it answers.

A backend is a registered `Component` of kind "judge". `judge(dimension, context)` streams
`JudgeEvent`s for one dimension; the last event is always `done` with the `DimensionResult` in
`data["result"]`. Gating is shared: `JudgeBackend.judge` decides the dimension's gates and the gates of
its sub-dimensions and questions before the backend's own `_judge_active` sees what remains, so every
backend bypasses the same metrics for the same clip (paper eq. 2, the indicator I_gate(p, C)).
"""
from __future__ import annotations

import time
from abc import abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterator, Literal

import numpy as np

from evalverse.config import Settings
from evalverse.errors import InputError, UnavailableError
from evalverse.judge.gating import ActiveDimension, GateFacts, active_parts
from evalverse.judge.types import DimensionResult, JudgeEvent
from evalverse.operators.evidence import Evidence
from evalverse.registry import REGISTRY, Component
from evalverse.taxonomy import Dimension, TaskMode, Taxonomy


@dataclass
class Frame:
    time: float  # seconds into the clip
    image: np.ndarray  # (H, W, 3) uint8 RGB


@dataclass
class JudgeContext:
    """Everything a judge may look at for one clip (shared by all its dimensions)."""

    taxonomy: Taxonomy
    meta: Any = None  # evalverse.media.types.VideoMeta, or None in unit tests
    frames: list[Frame] = field(default_factory=list)  # sampled frames (about 8) in time order
    evidence: Evidence = field(default_factory=Evidence)  # operator name -> EvidenceRecord, filled as they finish
    prompt: str | None = None  # the generation prompt (text), when known
    reference: Path | None = None  # reference image/video for r2v, when given
    mode: TaskMode = TaskMode.t2v
    settings: Settings | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.evidence, Evidence):
            self.evidence = Evidence(self.evidence, meta=self.meta)
        elif self.evidence.meta is None:
            self.evidence.meta = self.meta

    @property
    def shots(self) -> list[Any]:
        """The clip's shots (evalverse.media.types.Shot); their one source is the shots operator's evidence."""
        return self.evidence.shots()

    def facts(self) -> GateFacts:
        return GateFacts.collect(self.evidence, self.prompt, self.reference, self.mode)


def sample_frames(frames: np.ndarray, times: np.ndarray, n: int = 8) -> list[Frame]:
    """`n` frames spread evenly over the clip (first and last included); all of them when fewer."""
    total = len(frames)
    if total == 0:
        return []
    idx = np.unique(np.linspace(0, total - 1, num=min(n, total)).round().astype(int))
    return [Frame(time=float(times[i]), image=frames[i]) for i in idx]


class JudgeBackend(Component):
    """Base of judge backends. Subclasses implement `_judge_active` for the dimension's ungated part."""

    kind: ClassVar[Literal["judge"]] = "judge"

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        self.settings = settings
        self.options = options

    def check_available(self) -> None:
        """Raise UnavailableError (what is missing, the exact fix) when this backend cannot run here."""
        if self.settings is None or not self.backends:
            return
        avail = self.availability(self.settings)
        if not avail.available:
            raise UnavailableError(avail.explain())

    def judge(self, dimension: Dimension, context: JudgeContext) -> Iterator[JudgeEvent]:
        started = time.perf_counter()
        yield JudgeEvent(kind="start", dimension=dimension.id, data={"backend": self.name, "name": dimension.name})
        active = active_parts(dimension, context.facts())
        if active.gated:
            yield JudgeEvent(kind="gate", dimension=dimension.id, text=active.gate_reason or "",
                             data={"gated": True, "notes": active.notes})
            result = DimensionResult(
                dimension=dimension.id, status="gated", gate_reason=active.gate_reason,
                rationale="; ".join(active.notes), backend=self.name, backend_version=self.version,
            )
            result.seconds = time.perf_counter() - started
            yield done(result)
            return
        if active.skipped:
            yield JudgeEvent(kind="gate", dimension=dimension.id, text="parts gated",
                             data={"gated": False, "skipped": active.skipped, "notes": active.notes})
        result: DimensionResult | None = None
        for event in self._judge_active(active, context):
            if event.kind == "done":
                result = event.data["result"]
                break
            yield event
        if result is None:  # a backend bug must not look like a verdict
            result = DimensionResult(dimension=dimension.id, status="error", backend=self.name,
                                     backend_version=self.version, rationale="backend ended without a result")
        result.seconds = time.perf_counter() - started
        yield done(result)

    @abstractmethod
    def _judge_active(self, active: ActiveDimension, context: JudgeContext) -> Iterator[JudgeEvent]:
        """Judge the ungated sub-dimensions/questions of `active`; end with a `done` event."""


def done(result: DimensionResult) -> JudgeEvent:
    return JudgeEvent(kind="done", dimension=result.dimension, data={"result": result})


def judge_names() -> list[str]:
    _register_backends()
    return REGISTRY.names("judge")


def make_judge(name: str, settings: Settings | None = None, **options: Any) -> JudgeBackend:
    """An instance of the judge backend registered as `name`; InputError when there is none."""
    _register_backends()
    try:
        cls = REGISTRY.get("judge", name)
    except KeyError:
        raise InputError(f"unknown judge {name!r}; choose one of: {', '.join(REGISTRY.names('judge'))}") from None
    return cls(settings, **options)  # type: ignore[call-arg]


def _register_backends() -> None:
    # importing the modules registers the classes; heavy libraries load only when a backend runs
    from evalverse.judge.backends import evidence, openai_compat, transformers_vlm  # noqa: F401
