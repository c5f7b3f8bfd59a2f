"""Prompt writers: the offline template writer, and an OpenAI-compatible language model (the `openai` judge's
client and settings: EVALVERSE_OPENAI_BASE_URL / _MODEL / _API_KEY) held to the same guarantee.

The model is given the case's facts as a list of phrases and told to state nothing else. Its answer is read
by the same checker as the template's (`prompts.unsupported`); a prompt that states an unsupported fact is
sent back once with the offending words named, and if the repaired prompt still states one (or the endpoint
fails) the case gets the template's prompt instead, and says so (`writer`, `rejected`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from evalverse.curation.prompts import Facts, template_prompt, unsupported
from evalverse.curation.vocabulary import Vocabulary, load_vocabulary
from evalverse.errors import InputError

WRITERS = ("auto", "template", "openai")
SYSTEM = (
    "You write prompts for video generation models in the vocabulary of professional cinematography. "
    "Write one paragraph of at most 120 words that states exactly the facts you are given, in your own words, "
    "and nothing else: no gender, age, clothing, objects, places, time of day, weather, lens or camera moves "
    "that are not among the facts, and no numbers that are not given. For several shots, describe each "
    "after 'Shot N:' in order. If a line of dialogue is given, quote it exactly. Answer with the prompt only.")


@dataclass
class Written:
    prompt: str
    writer: str  # "template" or "openai <model>@<url>" (+ " -> template" when the model's prompt was refused)
    rejected: list[str] = field(default_factory=list)  # why a model's prompt was refused, per attempt


def fact_sheet(facts: Facts, mode: str, vocab: Vocabulary) -> str:
    """The facts as the model sees them: the template's own sentences, one fact group a line."""
    text = template_prompt(facts, mode, vocab)
    return "\n".join(f"- {s.strip()}" for s in re.split(r"(?<=\.)\s+", text) if s.strip())


def _clean(text: str) -> str:
    text = text.strip().strip("`").strip()
    text = re.sub(r"^(?:prompt|here is the prompt)\s*:\s*", "", text, flags=re.IGNORECASE)
    pairs = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}  # a whole answer wrapped in quotes
    if len(text) > 1 and pairs.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return " ".join(text.split())


class TemplateWriter:
    name = "template"

    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        self.vocab = vocabulary or load_vocabulary()

    def describe(self) -> str:
        return f"template (vocabulary {self.vocab.version})"

    def write(self, facts: Facts, mode: str) -> Written:
        return Written(template_prompt(facts, mode, self.vocab), "template")


class LanguageModelWriter:
    name = "openai"

    def __init__(self, settings: Any, vocabulary: Vocabulary | None = None, **options: Any) -> None:
        from evalverse.judge.backends.openai_compat import OpenAIJudge

        self.vocab = vocabulary or load_vocabulary()
        self.client = OpenAIJudge(settings, **{"max_tokens": 400, "temperature": 0.0, **options})

    def describe(self) -> str:
        c = self.client
        return f"openai {c.model}@{c.base_url} temperature={c.temperature:g} seed={c.seed}"

    def write(self, facts: Facts, mode: str) -> Written:
        from evalverse.judge.backends.chat import JudgeCallError

        task = "reference-to-video (the model also gets the reference image)" if mode == "r2v" else "text-to-video"
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"Task: {task}.\nFacts:\n{fact_sheet(facts, mode, self.vocab)}"}]
        rejected: list[str] = []
        for attempt in range(2):
            try:
                text = _clean(self.client.complete(messages))
            except JudgeCallError as exc:
                rejected.append(f"the endpoint failed: {exc}")
                break
            bad = unsupported(text, facts, self.vocab) if text else []
            if text and not bad:
                return Written(text, self.describe(), rejected)
            why = "an empty answer" if not text else "; ".join(c.describe() for c in bad)
            rejected.append(f"attempt {attempt + 1}: {why}")
            messages += [{"role": "assistant", "content": text},
                         {"role": "user", "content": "These words state facts that are not among the facts given: "
                          f"{why}. Rewrite the prompt without them, stating only the facts given."}]
        return Written(template_prompt(facts, mode, self.vocab), f"{self.describe()} -> template", rejected)


NOT_CONFIGURED = ("no OpenAI-compatible endpoint is configured for the language-model prompt writer: set "
                  "EVALVERSE_OPENAI_BASE_URL and EVALVERSE_OPENAI_MODEL (and EVALVERSE_OPENAI_API_KEY if the endpoint "
                  "needs one; the same settings as the `openai` judge), or use --writer template")


def configured(settings: Any) -> bool:
    """An OpenAI-compatible endpoint is configured: a base URL or a model in the settings, or an API key in the
    environment (then the `openai` judge's default endpoint is meant)."""
    import os

    judge = getattr(settings, "judge", None)
    if judge is not None and (judge.openai_base_url or judge.openai_model):
        return True
    return bool(os.environ.get("EVALVERSE_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY"))


def make_writer(name: str, settings: Any, **options: Any):
    """`template`, `openai`, or `auto` (openai when an endpoint is configured, else template). `openai` with
    nothing configured is an InputError saying what to set (it would only fail on every case)."""
    if name not in WRITERS:
        raise InputError(f"--writer must be one of {', '.join(WRITERS)}, not {name!r}")
    if name == "openai" and not configured(settings) and not options.get("base_url"):
        raise InputError(NOT_CONFIGURED)
    if name == "openai" or (name == "auto" and configured(settings)):
        return LanguageModelWriter(settings, **options)
    return TemplateWriter()
