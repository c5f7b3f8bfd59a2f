"""Operator contract: objective evidence extractors, registered in the one registry.

An operator declares what it needs (frames, audio, other operators' evidence), the evidence kind it
produces (a taxonomy `evidence_kinds` id: the dimensions it informs are derived from the taxonomy),
and ordered backends. `run` returns plain JSON-serialisable results; the runner times it, records the
backend, catches failures and caches the record.
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from evalverse.config import Settings
from evalverse.errors import UnavailableError
from evalverse.media.types import DecodedVideo
from evalverse.registry import Component
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

    @classmethod
    def informs(cls, taxonomy: Taxonomy) -> list[str]:
        """Ids of the dimensions whose evidence list includes this operator's evidence kind."""
        return [d.id for d in taxonomy.dimensions if cls.evidence_kind in d.evidence]

    @abstractmethod
    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        """Compute results with `ctx.backend`. Raise UnavailableError/InputError for expected failures;
        return {"partial": True, ...} alongside results when only part of the work could be done."""


class OperatorSkipped(UnavailableError):
    """Raise from `run` when the input makes this evidence meaningless (e.g. digitally silent audio):
    the runner records status "skipped" with the message. (Subclass of UnavailableError so a runner that
    does not know it still records the message, as "unavailable".)"""
