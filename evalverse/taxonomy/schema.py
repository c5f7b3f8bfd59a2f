"""Typed model of the taxonomy file (`taxonomy.yaml`): stages → aspects → dimensions →
sub-dimensions → expert questions. The file is the single source every other part reads.

Ids are lower snake case and unique across the whole tree (a question id is unique among questions).
"""
from __future__ import annotations

from enum import Enum
from typing import Iterator

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class TaskMode(str, Enum):
    """Generation tasks the paper covers (Table 1)."""

    t2v = "t2v"  # text-to-video
    r2v = "r2v"  # reference-to-video
    av = "av"  # video with sound
    multi_shot = "multi_shot"


class Gate(str, Enum):
    """Conditions under which a node is judged at all; unmet → gated out with a reason."""

    needs_audio = "needs_audio"  # an audio stream that is not digitally silent
    needs_speech = "needs_speech"  # audible speech (voice activity)
    needs_multi_shot = "needs_multi_shot"  # two or more shots
    needs_person = "needs_person"  # a visible person (body or face)
    needs_face = "needs_face"  # a visible face
    needs_reference = "needs_reference"  # a reference image or video was given
    needs_camera_motion = "needs_camera_motion"  # the camera moves
    needs_motion = "needs_motion"  # the clip is long enough (frames and seconds) to show motion at all
    context_dependent = "context_dependent"  # only where the prompt's narrative calls for it (see `context`)


class AnswerType(str, Enum):
    yes_no = "yes_no"  # yes = good unless the question says otherwise through `polarity`
    scale = "scale"  # 1 (poor) … 5 (excellent)


class Polarity(str, Enum):
    """Whether answer "yes" (or a high scale value) is good for the video."""

    positive = "positive"
    negative = "negative"


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)


class Question(BaseModel):
    """One concrete check an expert makes, answerable yes/no or on a 1–5 scale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=10)
    answer: AnswerType = AnswerType.yes_no
    polarity: Polarity = Polarity.positive
    # evidence kinds (see Taxonomy.evidence_kinds) that can answer it objectively; empty = vision-language only
    evidence: tuple[str, ...] = ()
    # name of the objective check (an entry of evalverse/judge/checks.yaml) that answers it from evidence, if any
    check: str | None = None
    gates: tuple[Gate, ...] = ()
    context: str | None = None  # when gates has context_dependent: what in the prompt calls for it


class SubDimension(_Node):
    gates: tuple[Gate, ...] = ()
    context: str | None = None
    questions: tuple[Question, ...] = Field(min_length=1)


class Dimension(_Node):
    modes: tuple[TaskMode, ...] = Field(min_length=1)
    gates: tuple[Gate, ...] = ()
    context: str | None = None
    evidence: tuple[str, ...] = ()  # evidence kinds that inform it
    sub_dimensions: tuple[SubDimension, ...] = Field(min_length=1)


class Aspect(_Node):
    dimensions: tuple[Dimension, ...] = Field(min_length=1)


class Stage(_Node):
    aspects: tuple[Aspect, ...] = Field(min_length=1)


class EvidenceKind(_Node):
    """A kind of objective evidence an operator produces (faces, speech, camera motion, ...)."""


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    source: str
    score_scale: tuple[float, float] = (1.0, 5.0)
    evidence_kinds: tuple[EvidenceKind, ...]
    stages: tuple[Stage, ...] = Field(min_length=1)

    # ---- traversal -------------------------------------------------------------------------
    def iter_aspects(self) -> Iterator[tuple[Stage, Aspect]]:
        for stage in self.stages:
            for aspect in stage.aspects:
                yield stage, aspect

    def iter_dimensions(self) -> Iterator[tuple[Stage, Aspect, Dimension]]:
        for stage, aspect in self.iter_aspects():
            for dim in aspect.dimensions:
                yield stage, aspect, dim

    @property
    def dimensions(self) -> list[Dimension]:
        return [d for _, _, d in self.iter_dimensions()]

    def dimension(self, key: str) -> Dimension:
        """Look a dimension up by id or by name (case-insensitive)."""
        wanted = key.strip().lower()
        for dim in self.dimensions:
            if dim.id == wanted or dim.name.lower() == wanted:
                return dim
        raise KeyError(f"unknown dimension {key!r}; known: {', '.join(d.id for d in self.dimensions)}")

    def path_of(self, dimension_id: str) -> tuple[Stage, Aspect, Dimension]:
        for stage, aspect, dim in self.iter_dimensions():
            if dim.id == dimension_id:
                return stage, aspect, dim
        raise KeyError(dimension_id)

    def counts(self) -> dict[str, int]:
        dims = self.dimensions
        subs = [s for d in dims for s in d.sub_dimensions]
        return {
            "stages": len(self.stages),
            "aspects": sum(len(s.aspects) for s in self.stages),
            "dimensions": len(dims),
            "sub_dimensions": len(subs),
            "questions": sum(len(s.questions) for s in subs),
        }

    # ---- validation ------------------------------------------------------------------------
    @model_validator(mode="after")
    def _check_ids_and_references(self) -> "Taxonomy":
        kinds = {k.id for k in self.evidence_kinds}
        node_ids: set[str] = set()
        question_ids: set[str] = set()

        def claim(seen: set[str], node_id: str, what: str) -> None:
            if node_id in seen:
                raise ValueError(f"duplicate {what} id {node_id!r}")
            seen.add(node_id)

        for stage in self.stages:
            claim(node_ids, stage.id, "node")
            for aspect in stage.aspects:
                claim(node_ids, aspect.id, "node")
                for dim in aspect.dimensions:
                    claim(node_ids, dim.id, "node")
                    _check_context(dim.id, dim.gates, dim.context)
                    for kind in dim.evidence:
                        if kind not in kinds:
                            raise ValueError(f"dimension {dim.id!r} names unknown evidence kind {kind!r}")
                    for sub in dim.sub_dimensions:
                        claim(node_ids, sub.id, "node")
                        _check_context(sub.id, sub.gates, sub.context)
                        for q in sub.questions:
                            claim(question_ids, q.id, "question")
                            _check_context(q.id, q.gates, q.context)
                            for kind in q.evidence:
                                if kind not in kinds:
                                    raise ValueError(f"question {q.id!r} names unknown evidence kind {kind!r}")
        return self

    @field_validator("score_scale")
    @classmethod
    def _scale_ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not v[0] < v[1]:
            raise ValueError("score_scale must be (low, high) with low < high")
        return v


def _check_context(node_id: str, gates: tuple[Gate, ...], context: str | None) -> None:
    if Gate.context_dependent in gates and not context:
        raise ValueError(f"{node_id!r} is context_dependent but says no `context`")
