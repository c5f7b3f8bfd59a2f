"""The flow shared by chat-model judges (local VLM, OpenAI-compatible endpoint).

prompt from the taxonomy → stream the reply (reasoning and self-reflection are forwarded as events as
they arrive; the JSON verdict is parsed at the end) → parse → on failure one repair request → answers
scored by `scoring.aggregate`. A reply that stays unreadable is recorded as `unparsed` with its raw
text and no score; a failed call is recorded as `error`. Neither ever carries a score.
"""
from __future__ import annotations

import re
import time
from abc import abstractmethod
from typing import Any, ClassVar, Iterator

from evalverse.errors import EvalVerseError
from evalverse.judge.gating import ActiveDimension
from evalverse.judge.parsing import REFLECTION_MARKER, Parsed, parse_judgment
from evalverse.judge.prompts import Prompt, build_prompt, repair_request
from evalverse.judge.protocol import Frame, JudgeBackend, JudgeContext, done
from evalverse.judge.scoring import aggregate, load_weights, question_score
from evalverse.judge.types import DimensionResult, JudgeEvent, QuestionAnswer

Message = dict[str, Any]  # {"role": "system"|"user"|"assistant", "content": str}


class JudgeCallError(EvalVerseError):
    """The model could not be reached or failed while answering (after any retries)."""


class PhaseSplitter:
    """Splits a streamed reply into reasoning, reflection and verdict pieces as it arrives.

    Only whole lines are released (a marker such as "Self-reflection:" may straddle two chunks), except
    that a line longer than `max_hold` characters is released as it grows.
    """

    def __init__(self, max_hold: int = 160) -> None:
        self.text = ""
        self.emitted = 0
        self.max_hold = max_hold

    def feed(self, chunk: str) -> list[tuple[str, str]]:
        self.text += chunk
        end = self.text.rfind("\n") + 1
        if len(self.text) - end > self.max_hold:
            end = len(self.text)
        return self._release(end)

    def flush(self) -> list[tuple[str, str]]:
        return self._release(len(self.text))

    def _boundaries(self, upto: int) -> tuple[int, int]:
        head = self.text[:upto]
        m = REFLECTION_MARKER.search(head)
        reflection = m.start() if m else upto
        fence = re.search(r"(?m)^\s*```", head[m.end() if m else 0:])
        verdict = (m.end() if m else 0) + fence.start() if fence else upto
        return min(reflection, verdict), verdict

    def _release(self, end: int) -> list[tuple[str, str]]:
        if end <= self.emitted:
            return []
        reflection, verdict = self._boundaries(end)
        pieces = []
        for phase, lo, hi in (("reasoning", 0, reflection), ("reflection", reflection, verdict), ("verdict", verdict, end)):
            lo, hi = max(lo, self.emitted), min(hi, end)
            if hi > lo:
                pieces.append((phase, self.text[lo:hi]))
        self.emitted = end
        return pieces


class ChatJudge(JudgeBackend):
    """A judge that talks to a chat model. Subclasses implement `_stream` (and may override `_prepare`)."""

    repairs: ClassVar[int] = 1  # follow-up requests after an unreadable verdict

    @abstractmethod
    def _stream(self, messages: list[Message], frames: list[Frame]) -> Iterator[str]:
        """Send the conversation (frames belong to the first user message) and yield text chunks.
        Raise JudgeCallError/UnavailableError when the model cannot answer."""

    def _prepare(self) -> None:
        """Load the model or check the endpoint (once per instance)."""

    def _judge_active(self, active: ActiveDimension, context: JudgeContext) -> Iterator[JudgeEvent]:
        dim = active.dimension
        prompt = self.prompt_for(active, context)
        questions = active.questions
        scale = tuple(context.taxonomy.score_scale)
        messages: list[Message] = [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}]
        result = DimensionResult(dimension=dim.id, status="error", backend=self.name, backend_version=self.version_string())
        texts: list[str] = []
        try:
            self._prepare()
            text = yield from self._streamed(dim.id, messages, context.frames, attempt=1)
            texts.append(text)
            parsed = parse_judgment(text, questions, scale)  # type: ignore[arg-type]
            for attempt in range(2, 2 + self.repairs):
                if parsed.ok:
                    break
                yield JudgeEvent(kind="error", dimension=dim.id, text=f"unreadable verdict ({parsed.error}); asking for a repair",
                                 data={"recoverable": True, "attempt": attempt - 1, "error": parsed.error})
                messages += [{"role": "assistant", "content": text},
                             {"role": "user", "content": repair_request(parsed.error or "unreadable", prompt.question_ids)}]
                text = yield from self._streamed(dim.id, messages, context.frames, attempt=attempt)
                texts.append(text)
                repaired = parse_judgment(text, questions, scale)  # type: ignore[arg-type]
                if not repaired.reasoning:
                    repaired.reasoning, repaired.reflection = parsed.reasoning, repaired.reflection or parsed.reflection
                parsed = repaired
        except EvalVerseError as exc:
            result.rationale = f"the {self.name} judge failed: {exc}"
            result.raw_text = "\n\n".join(texts) or None
            yield JudgeEvent(kind="error", dimension=dim.id, text=str(exc), data={"recoverable": False})
            yield done(result)
            return
        result.raw_text = "\n\n--- repair ---\n\n".join(texts)
        yield from self._finish(active, context, parsed, result)

    def prompt_for(self, active: ActiveDimension, context: JudgeContext) -> Prompt:
        return build_prompt(active, context.taxonomy, meta=context.meta, evidence=context.evidence, shots=context.shots,
                            prompt=context.prompt, reference=context.reference, mode=context.mode.value,
                            frame_times=[f.time for f in context.frames])

    def version_string(self) -> str:
        return self.version

    def _streamed(self, dimension: str, messages: list[Message], frames: list[Frame], attempt: int
                  ) -> Iterator[JudgeEvent]:
        """Forward reasoning/reflection as events while the reply streams; return the full text."""
        splitter = PhaseSplitter()
        started = time.perf_counter()
        for chunk in self._stream(messages, frames):
            yield from _phase_events(dimension, splitter.feed(chunk), attempt)
        yield from _phase_events(dimension, splitter.flush(), attempt)
        self.last_call_seconds = time.perf_counter() - started
        return splitter.text

    def _finish(self, active: ActiveDimension, context: JudgeContext, parsed: Parsed, result: DimensionResult
                ) -> Iterator[JudgeEvent]:
        dim = active.dimension
        result.rationale, result.reflection = parsed.reasoning, parsed.reflection
        if not parsed.ok:
            result.status = "unparsed"
            result.rationale = (parsed.reasoning + "\n\n" if parsed.reasoning else "") + f"[unparsed: {parsed.error}]"
            yield JudgeEvent(kind="error", dimension=dim.id, text=f"verdict unreadable: {parsed.error}",
                             data={"recoverable": False})
            yield done(result)
            return
        scores: dict[str, float | None] = {}
        for q in active.questions:
            answer = parsed.answers.get(q.id)
            scores[q.id] = question_score(q, answer)
            qa = QuestionAnswer(question_id=q.id, answer=answer, answerable=True, score=scores[q.id],
                                basis=_basis_for(q.id, parsed.reasoning))
            result.answers.append(qa)
            yield JudgeEvent(kind="question", dimension=dim.id, text=q.text, data=qa.model_dump())
        agg = aggregate(dim, scores, tuple(context.taxonomy.score_scale), load_weights(), asked=scores.keys())
        result.sub_scores = agg.sub_scores
        result.evidence_used = [k for k in dim.evidence if k in context.evidence]
        if agg.score is not None:
            result.score, source = agg.score, "answers"
        else:
            result.score, source = parsed.score, "model"
        result.status = "scored" if result.score is not None else "not_judged"
        if result.score is None:
            result.rationale += "\n\n[not judged: the model answered no question and gave no score]"
        data = {"score": result.score, "source": source, "model_score": parsed.score, "confidence": parsed.confidence,
                "answered": agg.answered, "asked": agg.asked, "warnings": parsed.warnings}
        yield JudgeEvent(kind="score", dimension=dim.id, text="" if result.score is None else f"{result.score:.2f}", data=data)
        yield done(result)


def _phase_events(dimension: str, pieces: list[tuple[str, str]], attempt: int) -> Iterator[JudgeEvent]:
    for phase, text in pieces:
        if phase == "verdict":
            continue  # parsed at the end; kept in raw_text
        kind = "rationale" if phase == "reasoning" else "reflection"
        yield JudgeEvent(kind=kind, dimension=dimension, text=text, data={"stream": True, "attempt": attempt})


def _basis_for(qid: str, reasoning: str) -> str:
    """The reasoning paragraph that starts with [qid], if the model followed the contract."""
    m = re.search(r"\[" + re.escape(qid) + r"\](.*?)(?=\n\s*\[[a-z][a-z0-9_]*\]|\Z)", reasoning, re.S)
    return m.group(1).strip()[:1000] if m else ""
