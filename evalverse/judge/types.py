"""Judge contract: a judge streams events for one dimension and ends in a typed DimensionResult.

Scores live on the taxonomy's score_scale (1 = poor … 5 = excellent); None means not scored, and the
status says why. A score is never invented: gated, not_judged and unparsed results carry no score.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

EventKind = Literal["start", "gate", "rationale", "question", "reflection", "score", "error", "done"]
ResultStatus = Literal["scored", "gated", "not_judged", "unparsed", "error"]


class JudgeEvent(BaseModel):
    kind: EventKind
    dimension: str
    text: str = ""  # streamed rationale/reflection text (a chunk) or a message
    data: dict[str, Any] = Field(default_factory=dict)


class QuestionAnswer(BaseModel):
    question_id: str
    answer: bool | float | None = None  # yes/no, or 1–5; None when it could not be answered
    answerable: bool = True  # False: needs vision-language understanding this backend lacks
    basis: str = ""  # the evidence or observation behind the answer, with numbers and timestamps
    score: float | None = None  # the answer mapped onto [0, 1] with the question's polarity applied


class DimensionResult(BaseModel):
    dimension: str
    status: ResultStatus
    score: float | None = None
    gate_reason: str | None = None
    rationale: str = ""
    reflection: str = ""
    answers: list[QuestionAnswer] = Field(default_factory=list)
    sub_scores: dict[str, float | None] = Field(default_factory=dict)
    evidence_used: list[str] = Field(default_factory=list)  # operator names cited
    backend: str
    backend_version: str = ""
    raw_text: str | None = None  # the model's raw output where there was one
    seconds: float = 0.0
    provenance_hash: str | None = None  # the run provenance it was made with (evalverse.provenance), set by the pipeline
    # when a calibration artifact applies (evalverse.judge.calibrated): `score` is its prediction of the human
    # score, `uncalibrated_score` the judge's own, `calibration` {id, applied, contributions | reason, ...}
    uncalibrated_score: float | None = None
    calibration: dict[str, Any] | None = None
