"""Operator contract: objective evidence extractors, registered in the one registry.

An operator declares what it needs (frames, audio, other operators' evidence), the evidence kind it
produces (a taxonomy `evidence_kinds` id: the dimensions it informs are derived from the taxonomy),
its typed results model (`evalverse.operators.results`; its scalars are the measure catalogue's entries),
a relative cost the runner schedules by, and ordered backends. `run` returns its results (the model, or a
dict the runner validates against it); the runner times it, records the backend, catches failures and
caches the record.

Readers never dig in `EvidenceRecord.results` (the stored JSON): `record.usable`, `record.typed` (the
validated results model) and `record.value("measure.path")` are the one way in, and
`evalverse.operators.evidence.Evidence` does the same for a whole clip's records.
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from evalverse.config import Settings
from evalverse.errors import UnavailableError
from evalverse.media.types import DecodedVideo
from evalverse.operators.results import Results, resolve
from evalverse.registry import REGISTRY, Component
from evalverse.taxonomy import Taxonomy

Status = Literal["ok", "partial", "unavailable", "error", "skipped"]


class EvidenceRecord(BaseModel):
    """One operator's evidence about one video: what ran, how long it took, what it found."""

    operator: str
    version: str
    backend: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    status: Status = "ok"
    message: str | None = None  # for anything but ok: what is missing or went wrong, and how to fix it
    seconds: float = 0.0
    cached: bool = False
    results: dict[str, Any] = Field(default_factory=dict)
    _typed: Results | None = PrivateAttr(default=None)

    @property
    def usable(self) -> bool:
        """The operator ran (fully or in part) and its results can be read."""
        return self.status in ("ok", "partial")

    def typed(self) -> Results | None:
        """The results as the operator's results model, or None when the record is not usable.

        Raises DataError when stored results do not fit the model (written by another version)."""
        if not self.usable:
            return None
        if self._typed is None:
            model = results_model(self.operator)
            try:
                self._typed = model.model_validate(self.results)
            except ValidationError as exc:
                from evalverse.errors import DataError

                raise DataError(f"{self.operator} evidence does not fit its results model "
                                f"({exc.error_count()} problem(s), first: {exc.errors()[0]['msg']} at "
                                f"{'.'.join(map(str, exc.errors()[0]['loc']))})") from exc
        return self._typed

    def value(self, measure: str) -> Any:
        """One measure's value (path inside this operator's results, e.g. "exposure.clipped_shadows"); None when
        the record is not usable or the value was not measured; per-shot measures give [(shot index, value)]."""
        typed = self.typed()
        return None if typed is None else resolve(typed, measure)


def results_model(operator: str) -> type[Results]:
    """The results model a registered operator declares."""
    import evalverse.operators  # noqa: F401  (registers every operator)

    return REGISTRY.get("operator", operator).results_model


@dataclass
class OperatorContext:
    video: DecodedVideo
    settings: Settings
    backend: str  # the backend chosen by the runner for this operator
    params: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, EvidenceRecord] = field(default_factory=dict)  # records of the operators it needs
    prompt: str | None = None


class Operator(Component):
    kind: ClassVar[Literal["operator"]] = "operator"
    evidence_kind: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ("frames",)  # "frames", "audio", or names of other operators
    default_params: ClassVar[dict[str, Any]] = {}
    results_model: ClassVar[type[Results]]
    # Cost: CPU seconds on the benchmark's talk10 clip (10 s of 720p with faces and speech), warm, operators
    # one at a time (benchmarks/bench_evidence.py). Among the operators whose needs are met, cheaper ones run
    # first so the first dimensions are judged early; the longest chain of costs is started first (scheduler).
    cost: ClassVar[float] = 1.0
    threads: ClassVar[int] = 1  # cores it keeps busy while it runs (the scheduler's CPU budget counts these)
    required: ClassVar[tuple[str, ...]] = (*Component.required, "evidence_kind", "results_model")

    @classmethod
    def informs(cls, taxonomy: Taxonomy) -> list[str]:
        """Ids of the dimensions whose evidence list includes this operator's evidence kind."""
        return [d.id for d in taxonomy.dimensions if cls.evidence_kind in d.evidence]

    @abstractmethod
    def run(self, ctx: OperatorContext) -> Results | dict[str, Any]:
        """Compute results with `ctx.backend`. Raise UnavailableError/InputError for expected failures;
        return {"partial": True, ...} alongside results when only part of the work could be done."""


class OperatorSkipped(UnavailableError):
    """Raise from `run` when the input makes this evidence meaningless (e.g. digitally silent audio):
    the runner records status "skipped" with the message. (Subclass of UnavailableError so a runner that
    does not know it still records the message, as "unavailable".)"""
