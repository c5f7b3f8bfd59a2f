"""`evidence` judge: offline and deterministic. Answers only what operator evidence can answer.

For each ungated question with a `check` (taxonomy), the check (`evalverse.judge.checks`, defined in
`judge/checks.yaml`) answers it with a basis citing numbers, thresholds, units and times, or says why it
cannot ("not answerable: ..."). Questions without a check need a vision-language model: they are marked
answerable=False ("needs a VLM"). The rationale is written from those facts; the reflection lists
operators that contradict each other. The dimension is scored from the answered questions
(`scoring.aggregate`) only when at least `coverage.min_answered` questions and `coverage.min_share` of the
asked ones were answered (checks.yaml); otherwise it is `not_judged` with the reason and no score: a score
is never invented from too little evidence.

Options: `checks=` a path to another checks file (tests, experiments); it is validated like the packaged one.
"""
from __future__ import annotations

import math
from typing import ClassVar, Iterator

from evalverse.judge.checks import CheckView, Checks, load_checks, run_check
from evalverse.judge.gating import ActiveDimension
from evalverse.judge.protocol import JudgeBackend, JudgeContext, done
from evalverse.judge.reflection import contradictions, damage_claims, score_claims, used_evidence
from evalverse.judge.scoring import aggregate, load_weights, question_score
from evalverse.judge.types import DimensionResult, JudgeEvent, QuestionAnswer
from evalverse.registry import Backend, register

NEEDS_VLM = "needs a VLM: no objective check answers this question"


@register
class EvidenceJudge(JudgeBackend):
    name: ClassVar[str] = "evidence"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = ("Offline, deterministic: answers the questions that have objective checks from "
                                  "operator evidence, cites the numbers, and leaves the rest to a VLM.")
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend("checks", weights="none (rules on operator evidence)", licence="Apache-2.0"),
    )

    def __init__(self, settings=None, **options) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, **options)
        self.checks: Checks = load_checks(options.get("checks"))  # validated now: a bad file fails at start-up
        self._checked: set[int] = set()

    def _judge_active(self, active: ActiveDimension, context: JudgeContext) -> Iterator[JudgeEvent]:
        dim = active.dimension
        if id(context.taxonomy) not in self._checked:  # every check the taxonomy names must resolve
            self.checks.check_against(context.taxonomy)
            self._checked.add(id(context.taxonomy))
        ev = CheckView(evidence=context.evidence, prompt=context.prompt, reference=context.reference)
        result = DimensionResult(dimension=dim.id, status="not_judged", backend=self.name, backend_version=self.version)
        lines: list[str] = []
        scores: dict[str, float | None] = {}
        checks: dict[str, str] = {}
        for sub, questions in active.subs:
            for q in questions:
                if q.check is None:
                    qa = QuestionAnswer(question_id=q.id, answer=None, answerable=False, basis=NEEDS_VLM)
                else:
                    checks[q.id] = q.check
                    res = run_check(q.check, ev, self.checks)
                    answer = res.answer
                    if answer is not None and q.polarity.value == "negative":
                        answer = not answer  # checks report "desirable"; a negative question asks about the defect
                    qa = QuestionAnswer(question_id=q.id, answer=answer, answerable=res.answer is not None,
                                        basis=res.basis, score=question_score(q, answer))
                    line = f"[{q.id}] {q.text} -> " + (f"{_say(qa.answer)}: {res.basis}" if qa.answer is not None else res.basis)
                    lines.append(line)
                    yield JudgeEvent(kind="rationale", dimension=dim.id, text=line + "\n", data={"question_id": q.id})
                scores[q.id] = qa.score
                result.answers.append(qa)
                yield JudgeEvent(kind="question", dimension=dim.id, text=q.text,
                                 data=qa.model_dump() | {"sub_dimension": sub.id, "check": q.check})

        asked = len(result.answers)
        answered = sum(a.answer is not None for a in result.answers)
        needs_vlm = sum(a.basis == NEEDS_VLM for a in result.answers)
        result.evidence_used = sorted(set(ev.used))
        coverage = (f"{answered} of {asked} questions answered from evidence ({needs_vlm} need a VLM, "
                    f"{asked - answered - needs_vlm} lacked evidence)")
        cov = self.checks.coverage
        enough = answered >= cov.min_answered and answered >= math.ceil(cov.min_share * asked)
        if enough:
            agg = aggregate(dim, scores, tuple(context.taxonomy.score_scale), load_weights(), asked=scores.keys())
            result.score, result.sub_scores, result.status = agg.score, agg.sub_scores, "scored"
        else:
            result.sub_scores = {}
        head = (["Gated parts: " + "; ".join(f"{k} ({v})" for k, v in active.skipped.items())] if active.skipped else [])
        head += [f"Note: {n}" for n in active.notes]
        result.rationale = "\n".join(head + lines + [coverage + "."])
        if not enough:
            why = (f"needs a VLM: only {answered} of {asked} questions can be answered from evidence "
                   f"(at least {max(cov.min_answered, math.ceil(cov.min_share * asked))} needed)")
            result.rationale += f"\nNot judged: {why}."
            result.gate_reason = why  # the reason there is no score (for gated and not_judged alike)
            yield JudgeEvent(kind="score", dimension=dim.id, text="not judged", data={"score": None, "reason": why,
                                                                                         "answered": answered, "asked": asked})
        used = used_evidence(context.evidence, result.evidence_used, context.meta)
        flags = (contradictions(used, context.meta) + damage_claims(context.meta, result.evidence_used)
                 + score_claims(result.answers, checks, result.score))
        result.reflection = ("Self-reflection: " + " | ".join(flags)) if flags else \
            "Self-reflection: the operators used agree with each other; no claim rests on contradicted evidence."
        yield JudgeEvent(kind="reflection", dimension=dim.id, text=result.reflection, data={"contradictions": flags})
        if enough:
            yield JudgeEvent(kind="score", dimension=dim.id, text=f"{result.score:.2f}",
                             data={"score": result.score, "source": "answers", "answered": answered, "asked": asked,
                                   "sub_scores": result.sub_scores})
        yield done(result)


def _say(answer: bool | float | None) -> str:
    if answer is None:
        return "not answerable"
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    return f"{answer:g}"
