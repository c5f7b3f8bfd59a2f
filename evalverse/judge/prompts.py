"""Prompts for vision-language judges, built from the taxonomy (never from a copy of its questions).

The system prompt sets the role (a film crew's expert reviewer) and the output contract: reasoning
first, step by step per question; then "Self-reflection:" re-examining each claim against the
evidence (paper §6.1.2); then one fenced ```json block {"answers": {...}, "score": 1-5,
"confidence": 0-1}. The user prompt carries the dimension's definition, its ungated sub-dimensions
and questions (with ids, answer types and polarity), what was gated and why, the task prompt, the
reference, clip facts, and a compact JSON summary of the operators named by the dimension's evidence
kinds (paper §6.1.1, E_prof).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

from evalverse.judge.gating import ActiveDimension
from evalverse.operators.evidence import Evidence
from evalverse.operators.results import FLAG_FIELDS
from evalverse.taxonomy import AnswerType, Polarity, Question, Taxonomy

FLAGS = set(FLAG_FIELDS)  # partial / skipped / message: the record's status says them
MAX_EVIDENCE_CHARS = 6000  # keeps the evidence well inside a small VLM's context next to 8 frames

ROLE = (
    "You are an expert reviewer on a film crew (director, cinematographer, colourist, editor and sound "
    "designer in one) judging an AI-generated video for the EvalVerse benchmark. You judge one dimension "
    "at a time from the frames you are shown and the objective operator evidence you are given. "
    "Measurements in the evidence are facts: do not contradict them without saying why. Never claim what "
    "you cannot see or hear; answer null when a question cannot be judged from what you have."
)

CONTRACT = """Output contract (follow it exactly):
1. Reasoning: go through the questions in the order given, step by step, one short paragraph per question that starts with its id in square brackets, e.g. [question_id]. Cite what you see (with frame times) and the evidence numbers you rely on.
2. A line "Self-reflection:" followed by a re-examination of your claims against the evidence and the frames: name any claim that is not supported (a possible hallucination) and correct it.
3. Last, one fenced json block and nothing after it:
```json
{"answers": {"<question id>": <answer>, ...}, "score": <1-5>, "confidence": <0-1>}
```
Answers: yes/no questions take "yes" or "no"; scale questions take an integer from 1 (poor) to 5 (excellent); null when a question cannot be judged. "score" is your overall judgment of the dimension from 1 (poor) to 5 (excellent); "confidence" is how sure you are, from 0 to 1."""

MODE_NAMES = {"t2v": "text-to-video", "r2v": "reference-to-video", "av": "video with sound",
              "multi_shot": "multi-shot video"}


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    question_ids: tuple[str, ...]


def build_prompt(active: ActiveDimension, taxonomy: Taxonomy, *, meta: Any = None, evidence: Mapping[str, Any] | None = None,
                 shots: list | None = None, prompt: str | None = None, reference: Any = None, mode: str = "t2v",
                 frame_times: list[float] | None = None) -> Prompt:
    dim = active.dimension
    stage, aspect, _ = taxonomy.path_of(dim.id)
    lines = [
        f"Dimension: {dim.name} ({dim.id}), stage {stage.name}, aspect {aspect.name}.",
        f"Definition: {dim.description}",
        "",
        f"Task: {MODE_NAMES.get(str(mode), str(mode))}.",
        f"Generation prompt: \"{prompt.strip()}\"" if prompt and prompt.strip() else "Generation prompt: none given.",
        f"Reference: {_name(reference)} (judge fidelity to it where a question asks)." if reference is not None
        else "Reference: none.",
        "Video: " + clip_facts(meta, shots),
    ]
    if frame_times:
        lines.append(f"Frames shown ({len(frame_times)}, in order) at t = " + ", ".join(f"{t:.2f}" for t in frame_times) + " s.")
    lines += ["", "Sub-dimensions and questions:"]
    for sub, questions in active.subs:
        lines.append(f"## {sub.name} ({sub.id}): {sub.description}")
        if sub.context:
            lines.append(f"   Applies when: {sub.context}")
        lines += [f"- {question_line(q)}" for q in questions]
    if active.skipped:
        lines += ["", "Not judged for this clip (gated):"]
        lines += [f"- {node}: {why}" for node, why in active.skipped.items()]
    if active.notes:
        lines += ["", "Notes:"] + [f"- {n}" for n in active.notes]
    kinds = relevant_kinds(active)
    lines += ["", f"Operator evidence ({', '.join(kinds) if kinds else 'none'}), objective measurements as JSON:",
              evidence_json(kinds, evidence or {}, meta, shots)]
    qids = tuple(q.id for q in active.questions)
    lines += ["", f"Answer every question id: {', '.join(qids)}."]
    return Prompt(system=ROLE + "\n\n" + CONTRACT, user="\n".join(lines), question_ids=qids)


def question_line(q: Question) -> str:
    if q.answer == AnswerType.yes_no:
        kind = "yes/no; \"yes\" marks a defect" if q.polarity == Polarity.negative else "yes/no"
    else:
        kind = "scale 1-5; high means more of a defect" if q.polarity == Polarity.negative else "scale 1-5"
    extra = f" Applies when: {q.context}" if q.context else ""
    return f"[{q.id}] ({kind}) {q.text}{extra}"


def relevant_kinds(active: ActiveDimension) -> list[str]:
    """The dimension's evidence kinds, then any extra kinds its asked questions name, in order."""
    kinds = list(active.dimension.evidence)
    for q in active.questions:
        for k in q.evidence:
            if k not in kinds:
                kinds.append(k)
    return kinds


def clip_facts(meta: Any, shots: list | None) -> str:
    if meta is None:
        return "metadata unavailable."
    audio = "none"
    if getattr(meta, "has_audio", False):
        audio = "digitally silent" if getattr(meta, "audio_silent", None) else (getattr(meta, "acodec", None) or "present")
    text = f"{meta.duration_s:.2f} s, {meta.width}x{meta.height}, {meta.fps:.3g} fps, audio: {audio}"
    if shots:
        text += f", {len(shots)} shot(s)"
    return text + "."


def evidence_json(kinds: list[str], evidence: Mapping[str, Any], meta: Any, shots: list | None) -> str:
    """Compact JSON of the named operators' records, shrunk until it fits MAX_EVIDENCE_CHARS."""
    summary = evidence_summary(kinds, evidence, meta, shots)
    for max_list in (8, 4, 2, 0):
        text = json.dumps(compact(summary, max_list=max_list), separators=(",", ":"), ensure_ascii=False)
        if len(text) <= MAX_EVIDENCE_CHARS:
            return text
    return text[:MAX_EVIDENCE_CHARS] + "…(cut)"


def evidence_summary(kinds: list[str], evidence: Mapping[str, Any], meta: Any, shots: list | None) -> dict:
    """Per evidence kind: the probe's metadata, or the operator's typed results (its status and message
    when it did not run usefully)."""
    ev = evidence if isinstance(evidence, Evidence) else Evidence(evidence, meta=meta)
    out: dict[str, Any] = {}
    for kind in kinds:
        if kind == "metadata":
            if meta is not None:
                out["metadata"] = {
                    k: getattr(meta, k) for k in ("duration_s", "width", "height", "fps", "n_frames", "has_audio",
                                                  "audio_silent", "vcodec", "acodec") if hasattr(meta, k)
                }
            continue
        if kind == "shots" and shots and "shots" not in ev:
            out["shots"] = {"n_shots": len(shots), "shots": [_shot_dict(s) for s in shots]}
            continue
        rec = ev.record(kind)
        if rec is None:
            out[kind] = {"status": "not run"}
            continue
        entry: dict[str, Any] = {"status": rec.status}
        typed = rec.typed() if rec.usable else None
        if typed is not None:
            entry.update(typed.model_dump(mode="json", exclude_none=True,
                                         exclude=FLAGS if rec.status == "ok" else FLAGS - {"message"}))
        else:
            entry["message"] = rec.message
        out[kind] = entry
    return out


def _shot_dict(s: Any) -> dict:
    return s.as_dict() if hasattr(s, "as_dict") else dict(s)


def compact(value: Any, max_list: int = 8, depth: int = 0) -> Any:
    """Round floats to 3 significant digits, summarise long lists, cut deep nesting and long strings."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.3g}")
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return compact(value.item(), max_list, depth)  # numpy scalar
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:197] + "..."
    if depth >= 5:  # summary > operator > group > series > values
        return "…"
    if isinstance(value, Mapping):
        return {str(k): compact(v, max_list, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if len(value) <= max_list:
            return [compact(v, max_list, depth + 1) for v in value]
        nums = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(nums) == len(value):
            finite = [float(v) for v in nums if math.isfinite(float(v))]
            if not finite:
                return {"n": len(value)}
            return {"n": len(value), "mean": compact(sum(finite) / len(finite)), "min": compact(min(finite)),
                    "max": compact(max(finite))}
        head = [compact(v, max_list, depth + 1) for v in value[:max_list]]
        return head + [f"… {len(value) - max_list} more"] if max_list else [f"{len(value)} items"]
    return str(value)[:200]


def _name(reference: Any) -> str:
    return getattr(reference, "name", None) or str(reference)


def repair_request(error: str, question_ids: tuple[str, ...]) -> str:
    """The one follow-up sent when a reply could not be parsed."""
    ids = ", ".join(question_ids)
    return (
        f"Your reply could not be used: {error}. Reply again with ONLY the fenced json block, nothing else:\n"
        '```json\n{"answers": {"<question id>": <answer>, ...}, "score": <1-5>, "confidence": <0-1>}\n```\n'
        f"Question ids: {ids}. Yes/no answers are \"yes\" or \"no\", scale answers integers 1-5, null when "
        "unknown; score is a number from 1 to 5; confidence a number from 0 to 1."
    )
