"""Reading a judge model's reply: reasoning, self-reflection, then one JSON verdict.

Robust to what models do: prose before and after, with or without a ```json fence, trailing commas,
single quotes, Python literals, numbers as strings ("4"). Strict where it matters: a truncated or
missing JSON object, a score outside the scale, a non-numeric score ("four"), an answer of the wrong
type, or empty output make the parse fail with a reason — the caller then asks once for a repair and
otherwise records the result as `unparsed` with the raw text. A failed parse never yields a score.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from evalverse.taxonomy import AnswerType, Question

REFLECTION_MARKER = re.compile(r"(?im)^[\s#>*_-]*self[\s-]*reflection[\s*_]*:?[\s*_]*")
_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$")
_YES = {"yes", "y", "true"}
_NO = {"no", "n", "false"}
_NULL = {"null", "none", "n/a", "na", "unknown", "unanswerable", "not applicable", ""}


@dataclass
class Parsed:
    ok: bool
    reasoning: str = ""
    reflection: str = ""
    answers: dict[str, bool | float | None] = field(default_factory=dict)
    score: float | None = None  # the model's own holistic score, on the scale
    confidence: float | None = None
    error: str | None = None  # why the parse failed (shown to the model in the repair request)
    warnings: list[str] = field(default_factory=list)


def parse_judgment(text: str | None, questions: Sequence[Question], scale: tuple[float, float] = (1.0, 5.0),
                   ) -> Parsed:
    """Parse a reply written to the output contract of `evalverse.judge.prompts`."""
    if text is None or not text.strip():
        return Parsed(ok=False, error="the reply was empty")
    found = find_json_object(text)
    if isinstance(found, str):
        reasoning, reflection = split_reasoning(text)
        return Parsed(ok=False, reasoning=reasoning, reflection=reflection, error=found)
    obj, start = found
    reasoning, reflection = split_reasoning(_strip_fence_opener(text[:start]))
    out = Parsed(ok=True, reasoning=reasoning, reflection=reflection)
    if not reflection:
        out.warnings.append("no 'Self-reflection:' section")
    try:
        out.score = _score(obj, scale)
        out.confidence = _confidence(obj)
        out.answers = _answers(obj, questions, out.warnings)
    except ValueError as exc:
        out.ok = False
        out.error = str(exc)
    return out


def split_reasoning(text: str) -> tuple[str, str]:
    """(reasoning, reflection) split at the first 'Self-reflection:' heading."""
    m = REFLECTION_MARKER.search(text)
    if not m:
        return text.strip(), ""
    return text[: m.start()].strip(), text[m.end():].strip()


def _strip_fence_opener(text: str) -> str:
    return re.sub(r"```[a-zA-Z]*\s*$", "", text.rstrip())


def find_json_object(text: str) -> tuple[dict, int] | str:
    """The last top-level {...} that decodes (leniently) to a dict with "score" or "answers", with its
    start offset; or the reason there is none (no object, truncated, undecodable)."""
    best: tuple[dict, int, int] | None = None
    undecodable: str | None = None
    unclosed_after = -1  # start of the last '{' that never closes
    i = 0
    while True:
        start = text.find("{", i)
        if start < 0:
            break
        end = _matching_brace(text, start)
        if end is None:
            unclosed_after = max(unclosed_after, start)
            i = start + 1
            continue
        candidate = text[start:end + 1]
        obj = _decode(candidate)
        if isinstance(obj, dict) and ({"score", "answers"} & set(obj)):
            best = (obj, start, end)
            i = end + 1
        else:
            if obj is None and re.search(r"[\"']\s*(score|answers)\s*[\"']\s*:", candidate):
                undecodable = "the JSON verdict could not be decoded"
            i = start + 1
    if best is not None and unclosed_after > best[2]:
        return "the JSON verdict is truncated (an object after it never closes)"
    if best is not None:
        return best[0], best[1]
    if unclosed_after >= 0:
        return "the JSON verdict is truncated (the object never closes)"
    return undecodable or "no JSON verdict with \"answers\" and \"score\" was found"


def _matching_brace(text: str, start: int) -> int | None:
    depth = 0
    quote: str | None = None
    escaped = False
    for pos in range(start, len(text)):
        ch = text[pos]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return pos if ch == "}" else None
    return None


def _decode(s: str) -> Any:
    try:
        return json.loads(s)
    except ValueError:
        pass
    no_trailing = re.sub(r",\s*([}\]])", r"\1", s)
    try:
        return json.loads(no_trailing)
    except ValueError:
        pass
    pythonic = re.sub(r"\btrue\b", "True", no_trailing)
    pythonic = re.sub(r"\bfalse\b", "False", pythonic)
    pythonic = re.sub(r"\bnull\b", "None", pythonic)
    try:
        return ast.literal_eval(pythonic)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None


def _as_number(v: Any, what: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError(f"{what} must be a number, got {v!r}")
    if isinstance(v, (int, float)):
        if v != v:
            raise ValueError(f"{what} must be a number, got NaN")
        return float(v)
    if isinstance(v, str):
        if v.strip().lower() in _NULL:
            return None
        if _NUMBER.match(v):
            return float(v)
    raise ValueError(f"{what} must be a number, got {v!r}")


def _score(obj: dict, scale: tuple[float, float]) -> float | None:
    if "score" not in obj:
        raise ValueError('the JSON verdict has no "score"')
    score = _as_number(obj["score"], "score")
    lo, hi = scale
    if score is not None and not lo <= score <= hi:
        raise ValueError(f"score {score:g} is outside the scale {lo:g}–{hi:g}")
    return score


def _confidence(obj: dict) -> float | None:
    conf = _as_number(obj.get("confidence"), "confidence")
    if conf is not None and not 0.0 <= conf <= 1.0:
        raise ValueError(f"confidence {conf:g} is outside 0–1")
    return conf


def _answers(obj: dict, questions: Sequence[Question], warnings: list[str]) -> dict[str, bool | float | None]:
    raw = obj.get("answers")
    if raw is None:
        if questions:
            raise ValueError('the JSON verdict has no "answers" object')
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f'"answers" must be an object keyed by question id, got {type(raw).__name__}')
    by_id = {q.id: q for q in questions}
    unknown = [k for k in raw if k not in by_id]
    if unknown:
        warnings.append(f"ignored answers to unknown questions: {', '.join(map(str, unknown))}")
    out: dict[str, bool | float | None] = {}
    for q in questions:
        if q.id not in raw:
            warnings.append(f"no answer to {q.id}")
            out[q.id] = None
            continue
        out[q.id] = coerce_answer(q, raw[q.id])
    return out


def coerce_answer(q: Question, value: Any) -> bool | float | None:
    """An answer as bool (yes/no) or float (1–5), None for null; ValueError when of the wrong type."""
    if value is None:
        return None
    if q.answer == AnswerType.yes_no:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            word = value.strip().strip(".!").lower()
            if word in _YES:
                return True
            if word in _NO:
                return False
            if word in _NULL:
                return None
        raise ValueError(f"answer to {q.id} must be yes, no or null, got {value!r}")
    x = _as_number(value, f"answer to {q.id}")
    if x is not None and not 1.0 <= x <= 5.0:
        raise ValueError(f"answer to {q.id} must be 1–5, got {x:g}")
    return x
