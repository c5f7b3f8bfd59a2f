"""The flow shared by chat-model judges (local VLM, OpenAI-compatible endpoint).

prompt from the taxonomy → the pictures (a reference-to-video clip's reference first, as labelled
pictures, then the sampled frames with their times; see `images.py`) → stream the reply (reasoning and
self-reflection are forwarded as events as they arrive; the JSON verdict is parsed at the end) → parse
→ on failure one repair request → answers scored by `scoring.aggregate`. A reply that stays unreadable
is recorded as `unparsed` with its raw text and no score, and says when the model ran out of output
tokens; a failed call is recorded as `error`. Neither ever carries a score. A reference that cannot be
decoded is not silently dropped: the model is told, and the rationale says so.
"""
from __future__ import annotations

import re
import time
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Iterator, Sequence

from evalverse.errors import EvalVerseError
from evalverse.judge.backends.images import Shown, frame_pictures, reference_pictures
from evalverse.judge.gating import ActiveDimension
from evalverse.judge.parsing import REFLECTION_MARKER, Parsed, parse_judgment
from evalverse.judge.prompts import Prompt, build_prompt, repair_request
from evalverse.judge.protocol import JudgeBackend, JudgeContext, done
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
    last_finish: str | None = None  # why the last reply ended: "stop", "length" (the token limit), or unknown

    @abstractmethod
    def _stream(self, messages: list[Message], pictures: list[Shown]) -> Iterator[str]:
        """Send the conversation (the labelled pictures belong to the first user message, each after its
        label, in order) and yield text chunks. Raise JudgeCallError/UnavailableError when the model cannot
        answer."""

    def _prepare(self) -> None:
        """Load the model or check the endpoint (once per instance)."""

    def _judge_active(self, active: ActiveDimension, context: JudgeContext) -> Iterator[JudgeEvent]:
        dim = active.dimension
        prompt = self.prompt_for(active, context)
        questions = active.questions
        scale = tuple(context.taxonomy.score_scale)
        user = prompt.user
        result = DimensionResult(dimension=dim.id, status="error", backend=self.name, backend_version=self.version_string())
        notes: list[str] = []  # what the model could not be given or could not finish; kept in the rationale
        pictures = frame_pictures(context.frames)
        if context.reference is not None:
            reference, problem = self._reference(context)
            pictures = reference + pictures
            if reference:
                user += (f"\n\nThe reference is shown before the video frames: {len(reference)} picture(s), each "
                         "labelled \"Reference\". Compare the video with it where a question asks about fidelity.")
            else:
                note = (f"the reference {Path(context.reference).name} could not be shown to the model ({problem}); "
                        "questions about fidelity to it cannot be judged from pictures")
                user += f"\n\nNote: {note}. Answer null to questions that need the reference."
                notes.append(note)
                yield JudgeEvent(kind="error", dimension=dim.id, text=note, data={"recoverable": True, "reference": False})
        messages: list[Message] = [{"role": "system", "content": prompt.system}, {"role": "user", "content": user}]
        texts: list[str] = []
        try:
            self._prepare()
            text = yield from self._streamed(dim.id, messages, pictures, attempt=1)
            texts.append(text)
            parsed = self._parse(text, questions, scale)
            for attempt in range(2, 2 + self.repairs):
                if parsed.ok:
                    break
                yield JudgeEvent(kind="error", dimension=dim.id, text=f"unreadable verdict ({parsed.error}); asking for a repair",
                                 data={"recoverable": True, "attempt": attempt - 1, "error": parsed.error})
                messages += [{"role": "assistant", "content": text},
                             {"role": "user", "content": repair_request(parsed.error or "unreadable", prompt.question_ids)}]
                text = yield from self._streamed(dim.id, messages, pictures, attempt=attempt)
                texts.append(text)
                repaired = self._parse(text, questions, scale)
                if not repaired.reasoning:
                    repaired.reasoning, repaired.reflection = parsed.reasoning, repaired.reflection or parsed.reflection
                parsed = repaired
        except EvalVerseError as exc:
            result.rationale = "\n\n".join([f"the {self.name} judge failed: {exc}"] + [f"[{n}]" for n in notes])
            result.raw_text = "\n\n".join(texts) or None
            yield JudgeEvent(kind="error", dimension=dim.id, text=str(exc), data={"recoverable": False})
            yield done(result)
            return
        result.raw_text = "\n\n--- repair ---\n\n".join(texts)
        result.backend_version = self.version_string()  # now with what the endpoint reported about itself
        yield from self._finish(active, context, parsed, result, notes)

    def _parse(self, text: str, questions, scale) -> Parsed:
        parsed = parse_judgment(text, questions, scale)  # type: ignore[arg-type]
        if not parsed.ok and self.last_finish == "length":
            parsed.error = (f"{parsed.error}; the reply was cut off at the output limit of {self.output_limit()} tokens "
                            "before the verdict was complete")
        elif not parsed.ok and self.last_finish not in (None, "stop"):
            parsed.error = f"{parsed.error}; the model's reply ended with finish reason {self.last_finish!r}"
        return parsed

    def output_limit(self) -> int | None:
        """The most tokens one reply may have (None: unknown)."""
        return None

    def prompt_for(self, active: ActiveDimension, context: JudgeContext) -> Prompt:
        return build_prompt(active, context.taxonomy, meta=context.meta, evidence=context.evidence, shots=context.shots,
                            prompt=context.prompt, reference=context.reference, mode=context.mode.value,
                            frame_times=[f.time for f in context.frames])

    def version_string(self) -> str:
        return self.version

    def _reference(self, context: JudgeContext) -> tuple[list[Shown], str | None]:
        """The reference as labelled pictures (decoded once per file and judge), or ([], why not)."""
        path = Path(context.reference)  # type: ignore[arg-type]
        try:
            stat = path.stat()
            key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        except OSError as exc:
            return [], f"{type(exc).__name__}: {exc.strerror or exc}"
        cache = self.__dict__.setdefault("_reference_cache", {})
        if key not in cache:
            try:
                cache[key] = (reference_pictures(path, context.settings or self.settings), None)
            except (EvalVerseError, OSError, ValueError) as exc:
                cache[key] = ([], str(exc) if isinstance(exc, EvalVerseError) else f"{type(exc).__name__}: {exc}")
        return cache[key]

    def _streamed(self, dimension: str, messages: list[Message], pictures: list[Shown], attempt: int
                  ) -> Iterator[JudgeEvent]:
        """Forward reasoning/reflection as events while the reply streams; return the full text."""
        splitter = PhaseSplitter()
        started = time.perf_counter()
        for chunk in self._stream(messages, pictures):
            yield from _phase_events(dimension, splitter.feed(chunk), attempt)
        yield from _phase_events(dimension, splitter.flush(), attempt)
        self.last_call_seconds = time.perf_counter() - started
        return splitter.text

    def _finish(self, active: ActiveDimension, context: JudgeContext, parsed: Parsed, result: DimensionResult,
                notes: Sequence[str] = ()) -> Iterator[JudgeEvent]:
        dim = active.dimension
        result.rationale, result.reflection = parsed.reasoning, parsed.reflection
        if not parsed.ok:
            result.status = "unparsed"
            result.rationale = (parsed.reasoning + "\n\n" if parsed.reasoning else "") + f"[unparsed: {parsed.error}]"
            result.rationale += "".join(f"\n\n[{n}]" for n in notes)
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
        result.evidence_used = [k for k in dim.evidence if context.evidence.usable(k)]
        if agg.score is not None:
            result.score, source = agg.score, "answers"
        else:
            result.score, source = parsed.score, "model"
        result.status = "scored" if result.score is not None else "not_judged"
        if result.score is None:
            result.rationale += "\n\n[not judged: the model answered no question and gave no score]"
        result.rationale += "".join(f"\n\n[{n}]" for n in notes)
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
