"""Context-dependent gating: does the prompt's narrative call for what a node's `context` describes?

The context is mapped to themes (emotion, music, dialogue, off-screen, weather, lighting, camera; generic:
action, progression) by its whole words, specific themes taking precedence, and the prompt is searched for
the theme's vocabulary (word-prefix regexes, English only). When the context names no known theme, any
shared content word between context and prompt counts. Music contexts also open when the audio evidence
finds a musical score. No prompt: the node is kept (we cannot tell), and the rationale says so. The themes,
their words and the generic ones live in `judge/gating.yaml` (`context:`). Keyword heuristics, not
understanding: they miss paraphrase and negation.
"""
from __future__ import annotations

import re
from typing import Any

from evalverse.judge.gating_data import load_gating


def context_themes(context: str) -> list[str]:
    """Themes a node's context names (whole words), specific ones first and alone when present."""
    vocab = load_gating().context
    ctx = context.lower()
    found = [name for name, theme in vocab.themes.items()
             if any(re.search(r"\b" + re.escape(w) + r"\b", ctx) for w in theme.context)]
    specific = [t for t in found if t not in vocab.generic_themes]
    return specific or found


def prompt_calls_for(context: str, prompt: str | None, music: Any = None) -> tuple[bool | None, str]:
    """Whether the prompt's narrative calls for what `context` describes: (True/False, why), or
    (None, why) when there is no prompt to read. `music`: the gate Fact on a musical score in the
    soundtrack, which opens music contexts ("... or the soundtrack carries a musical score") by itself."""
    vocab = load_gating().context
    themes = context_themes(context)
    if "music" in themes and music is not None and music.value:
        return True, f"the soundtrack carries music ({music.basis})"
    if not prompt or not prompt.strip():
        return None, "no prompt given, so context-dependent parts could not be checked; judged anyway"
    text = " " + re.sub(r"\s+", " ", prompt.lower()) + " "
    if themes:
        for name in themes:
            for stem in vocab.themes[name].prompt:
                m = re.search(r"\b" + re.escape(stem), text)
                if m:
                    word = re.match(r"[\w'-]+", text[m.start():])
                    return True, f"the prompt calls for {name} (\"{word.group(0) if word else stem}\")"
        return False, f"the prompt does not call for {' or '.join(themes)} ({context.strip()})"
    n = vocab.shared_word_letters
    ctx_words = set(re.findall(r"[a-z]{%d,}" % n, context.lower()))
    shared = sorted(w for w in ctx_words if re.search(r"\b" + w[:n], text))
    if shared:
        return True, f"the prompt mentions {', '.join(shared[:3])}"
    return False, f"the prompt does not call for it ({context.strip()})"
