"""From answers to a dimension score.

1. Each answered question maps onto [0, 1]: yes/no → 1/0 (0/1 when the question's polarity is
   negative, i.e. "yes" names a defect); a 1–5 scale answer x → (x − 1) / 4 (1 − that when negative).
   Unanswered questions (None) are left out, never counted as 0 or 1.
2. A sub-dimension's score is the weighted mean of its answered questions (None when none answered).
3. The dimension's mean is the weighted mean of its scored sub-dimensions; the dimension score is
   lo + (hi − lo) · mean on the taxonomy's score_scale, i.e. 1 + 4 · mean on 1–5.

Weights are data (`weights.yaml`, uniform now); learned calibration weights replace them later
without code changes. A weights file naming an unknown id or a non-positive weight is a DataError.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from evalverse.errors import DataError
from evalverse.judge.datafile import load_cached
from evalverse.taxonomy import AnswerType, Dimension, Polarity, Question, Taxonomy

WEIGHTS_PATH = Path(__file__).with_name("weights.yaml")


@dataclass(frozen=True)
class Weights:
    version: str = "uniform"
    default_question: float = 1.0
    default_sub_dimension: float = 1.0
    questions: Mapping[str, float] = field(default_factory=dict)
    sub_dimensions: Mapping[str, float] = field(default_factory=dict)
    digest: str = ""  # hash of the file's canonical content (run provenance, cache key)

    def question(self, qid: str) -> float:
        return self.questions.get(qid, self.default_question)

    def sub_dimension(self, sid: str) -> float:
        return self.sub_dimensions.get(sid, self.default_sub_dimension)

    def check_against(self, taxonomy: Taxonomy) -> None:
        subs = {s.id for d in taxonomy.dimensions for s in d.sub_dimensions}
        qs = {q.id for d in taxonomy.dimensions for s in d.sub_dimensions for q in s.questions}
        unknown = [k for k in self.questions if k not in qs] + [k for k in self.sub_dimensions if k not in subs]
        if unknown:
            raise DataError(f"weights file names ids that are not in the taxonomy: {', '.join(unknown)}")


def load_weights(path: str | Path | None = None) -> Weights:
    """The weights file at `path` (default: the packaged `weights.yaml`), validated; re-read when it changes."""
    return load_cached(path or WEIGHTS_PATH, "judge weights", _build)


def _build(raw: dict, digest: str, path: Path) -> Weights:
    try:
        weights = Weights(
            version=str(raw.get("version", "unversioned")),
            default_question=float(raw.get("default_question_weight", 1.0)),
            default_sub_dimension=float(raw.get("default_sub_dimension_weight", 1.0)),
            questions={str(k): float(v) for k, v in (raw.get("questions") or {}).items()},
            sub_dimensions={str(k): float(v) for k, v in (raw.get("sub_dimensions") or {}).items()},
            digest=digest,
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"judge weights {path} are malformed: {exc}") from exc
    values = [weights.default_question, weights.default_sub_dimension, *weights.questions.values(),
              *weights.sub_dimensions.values()]
    if any(not v > 0 for v in values):
        raise DataError(f"judge weights {path}: every weight must be > 0")
    return weights


def question_score(question: Question, answer: bool | float | None) -> float | None:
    """The answer on [0, 1] with the question's polarity applied; None when unanswered."""
    if answer is None:
        return None
    if question.answer == AnswerType.yes_no:
        if not isinstance(answer, bool):
            raise ValueError(f"{question.id} expects yes/no, got {answer!r}")
        good = float(answer)
    else:
        x = float(answer)
        if isinstance(answer, bool) or not 1.0 <= x <= 5.0:
            raise ValueError(f"{question.id} expects a 1–5 value, got {answer!r}")
        good = (x - 1.0) / 4.0
    return 1.0 - good if question.polarity == Polarity.negative else good


def _mean(pairs: Iterable[tuple[float, float]]) -> float | None:
    pairs = list(pairs)
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total > 0 else None


@dataclass(frozen=True)
class Aggregate:
    score: float | None  # on the taxonomy's scale
    mean: float | None  # on [0, 1]
    sub_scores: dict[str, float | None]  # each on the taxonomy's scale (None: nothing answered)
    answered: int
    asked: int


def aggregate(dimension: Dimension, question_scores: Mapping[str, float | None],
              scale: tuple[float, float] = (1.0, 5.0), weights: Weights | None = None,
              asked: Iterable[str] | None = None) -> Aggregate:
    """Combine per-question scores ([0, 1] or None) into sub-dimension and dimension scores.

    `asked`: the question ids that were put to the judge (the ungated ones); default all present keys.
    """
    w = weights or load_weights()
    lo, hi = scale
    asked_ids = set(asked) if asked is not None else set(question_scores)
    sub_means: dict[str, float | None] = {}
    answered = 0
    for sub in dimension.sub_dimensions:
        pairs = []
        for q in sub.questions:
            s = question_scores.get(q.id)
            if q.id in asked_ids and s is not None:
                pairs.append((s, w.question(q.id)))
        answered += len(pairs)
        if any(q.id in asked_ids for q in sub.questions):
            sub_means[sub.id] = _mean(pairs)
    mean = _mean((m, w.sub_dimension(sid)) for sid, m in sub_means.items() if m is not None)
    to_scale = lambda m: None if m is None else lo + (hi - lo) * m  # noqa: E731
    return Aggregate(
        score=to_scale(mean),
        mean=mean,
        sub_scores={sid: to_scale(m) for sid, m in sub_means.items()},
        answered=answered,
        asked=len(asked_ids),
    )
