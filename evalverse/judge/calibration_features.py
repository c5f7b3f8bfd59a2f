"""Calibration features: how one number a calibration reads is taken from a clip's evidence and judge outputs.

A feature names its source and how to turn it into one number:

- `source`: a measure of the catalogue (`quality.sharpness`, `camera.shots.shake_pct_w`), or an output of the
  judge that ran on the dimension: `judge.score` (its own, uncalibrated score on the taxonomy's scale),
  `judge.answer.<question id>` (that question's answer on [0, 1], polarity applied, as scored),
  `judge.sub_score.<sub-dimension id>`;
- `aggregate`: for a per-shot measure, how its shots become one value (mean, median, min or max; a
  duration-free summary: shots are counted alike);
- `transform`: `identity` or `log` (natural log of value + `offset`; a measure whose range reaches 0 needs
  an offset > 0, checked against the catalogue).

The same code extracts features for fitting (evalverse.calibration) and when a judge applies a calibration
artifact (evalverse.judge.calibration_artifact), so training and use cannot drift apart. Missing values (an
operator that did not run, a question left unanswered, a measure not defined for this clip) come back as None;
the artifact's imputation decides what they count as.

Metadata (`metadata.*`: frame size, frame rate, frame count, file size) is refused as a feature: it describes
the file, not what is seen, and on rated data it identifies which generator made a clip (a source proxy).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

JUDGE = "judge"
JUDGE_KINDS = ("score", "answer", "sub_score")
REFUSED_SOURCES = {"metadata": "metadata describes the file (size, frame rate, frame count), not what is seen; "
                               "on rated data it identifies the generator (a source proxy)"}
Aggregate = Literal["mean", "median", "min", "max"]
Transform = Literal["identity", "log"]


class FeatureSpec(BaseModel):
    """One feature of a calibration (data: written in the calibration spec, copied into the artifact)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=3)
    aggregate: Aggregate | None = None
    transform: Transform = "identity"
    offset: float = 0.0
    reason: str = ""  # why it is a feature (documentation; not part of the name)

    @model_validator(mode="after")
    def _consistent(self) -> "FeatureSpec":
        if self.transform != "log" and self.offset != 0.0:
            raise ValueError("an offset only applies to the log transform")
        if self.source.split(".", 1)[0] == JUDGE:
            parts = self.source.split(".", 2)
            if len(parts) < 2 or parts[1] not in JUDGE_KINDS:
                raise ValueError(f"judge feature {self.source!r}: expected judge.score, judge.answer.<question id> "
                                 "or judge.sub_score.<sub-dimension id>")
            if parts[1] == "score" and len(parts) != 2 or parts[1] != "score" and len(parts) != 3:
                raise ValueError(f"judge feature {self.source!r}: judge.score takes no id; answers and sub-scores do")
            if self.aggregate is not None:
                raise ValueError(f"judge feature {self.source!r} is one value per clip: no aggregate")
        return self

    @property
    def is_judge(self) -> bool:
        return self.source.split(".", 1)[0] == JUDGE

    @property
    def judge_kind(self) -> str | None:
        return self.source.split(".")[1] if self.is_judge else None

    @property
    def judge_item(self) -> str | None:
        parts = self.source.split(".", 2)
        return parts[2] if self.is_judge and len(parts) == 3 else None

    @property
    def name(self) -> str:
        """A readable, unique name: `log(quality.sharpness+1)`, `max(camera.shots.shake_pct_w)`."""
        inner = self.source if self.aggregate is None else f"{self.aggregate}({self.source})"
        if self.transform == "log":
            return f"log({inner}{'+' + format(self.offset, 'g') if self.offset else ''})"
        return inner


@dataclass(frozen=True)
class JudgeOutputs:
    """What a judge said about one dimension of one clip, as calibration features read it."""

    score: float | None = None
    answers: Mapping[str, float | None] = field(default_factory=dict)  # question id -> [0, 1] score
    sub_scores: Mapping[str, float | None] = field(default_factory=dict)

    @classmethod
    def from_result(cls, result: Any) -> "JudgeOutputs":
        """From a DimensionResult (or its dict): answers by their polarity-applied scores. The score is the
        judge's own: `uncalibrated_score` where a calibration already replaced `score`."""
        data = result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(result or {})
        answers = {a["question_id"]: a.get("score") for a in data.get("answers") or []}
        score = data.get("uncalibrated_score")
        if score is None:  # no calibration replaced it
            score = data.get("score")
        return cls(score=score, answers=answers, sub_scores=dict(data.get("sub_scores") or {}))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        x = float(value)
        return x if math.isfinite(x) else None
    return None


def _aggregate(rows: list[tuple[int, Any]], how: str) -> float | None:
    values = sorted(v for v in (_number(x) for _, x in rows) if v is not None)
    if not values:
        return None
    if how == "mean":
        return sum(values) / len(values)
    if how == "min":
        return values[0]
    if how == "max":
        return values[-1]
    mid = len(values) // 2  # median
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def transform(spec: FeatureSpec, value: float | None) -> float | None:
    """The spec's transform of one raw value (None stays None; log of a value <= -offset is None)."""
    if value is None:
        return None
    if spec.transform == "log":
        shifted = value + spec.offset
        return math.log(shifted) if shifted > 0 else None
    return value


def raw_value(spec: FeatureSpec, evidence: Any, judge: JudgeOutputs | None = None) -> float | None:
    """The feature's value before its transform: a measure read through `evidence.value(id)` (an
    evalverse.operators.evidence.Evidence), per-shot measures aggregated; or a judge output."""
    if spec.is_judge:
        if judge is None:
            return None
        kind, item = spec.judge_kind, spec.judge_item
        if kind == "score":
            return _number(judge.score)
        return _number((judge.answers if kind == "answer" else judge.sub_scores).get(item))
    value = evidence.value(spec.source) if evidence is not None else None
    if isinstance(value, list):
        if spec.aggregate is None:
            raise ValueError(f"{spec.source} is a per-shot measure: the feature needs an aggregate")
        return _aggregate(value, spec.aggregate)
    return _number(value)


def feature_row(specs: list[FeatureSpec], evidence: Any, judge: JudgeOutputs | None = None) -> dict[str, float | None]:
    """{feature name: transformed value or None} for one clip."""
    return {s.name: transform(s, raw_value(s, evidence, judge)) for s in specs}


def spec_problems(specs: list[FeatureSpec], catalogue: Any, taxonomy: Any, dimension: str) -> list[str]:
    """Everything wrong with a feature list against the measure catalogue and the taxonomy (empty: fine)."""
    problems: list[str] = []
    names = [s.name for s in specs]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"feature {dup} is listed twice")
    try:
        dim = taxonomy.dimension(dimension)
    except KeyError:
        return problems + [f"dimension {dimension!r} is not in the taxonomy"]
    questions = {q.id: q for sub in dim.sub_dimensions for q in sub.questions}
    subs = {sub.id for sub in dim.sub_dimensions}
    for s in specs:
        if s.is_judge:
            item = s.judge_item
            if s.judge_kind == "answer" and item not in questions:
                problems.append(f"feature {s.name}: question {item!r} is not one of {dimension}'s questions")
            elif s.judge_kind == "answer" and questions[item].check is None:
                problems.append(f"feature {s.name}: question {item!r} has no check, so the evidence judge never answers it")
            if s.judge_kind == "sub_score" and item not in subs:
                problems.append(f"feature {s.name}: {item!r} is not one of {dimension}'s sub-dimensions")
            continue
        operator = s.source.split(".", 1)[0]
        if operator in REFUSED_SOURCES:
            problems.append(f"feature {s.name}: {REFUSED_SOURCES[operator]}")
            continue
        if s.source not in catalogue:
            problems.append(f"feature {s.name}: measure {s.source!r} is not in the measure catalogue")
            continue
        m = catalogue.get(s.source)
        if m.kind == "category":
            problems.append(f"feature {s.name}: {s.source} is a category, not a number")
        if m.scope == "shot" and s.aggregate is None:
            problems.append(f"feature {s.name}: {s.source} is per shot; say how shots combine (aggregate: mean|median|min|max)")
        if m.scope == "clip" and s.aggregate is not None:
            problems.append(f"feature {s.name}: {s.source} is one value per clip; drop the aggregate")
        if s.transform == "log":
            lo = m.range[0] if m.range is not None else None
            if lo is None or lo + s.offset <= 0:
                problems.append(f"feature {s.name}: log needs value + offset > 0, but {s.source} ranges from "
                                f"{'-inf' if lo is None else format(lo, 'g')}; give an offset")
    return problems
