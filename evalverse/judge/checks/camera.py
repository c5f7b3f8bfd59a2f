"""Camera checks that need code: shake against a prompt that may ask for a hand-held look, and the measured
moves against the ones the prompt names. (Smoothness and the static/moving mix are data checks.)"""
from __future__ import annotations

import re
from typing import ClassVar

from evalverse.judge.checks.base import CheckView, CodeCheck, NotAnswerable, Params, seconds
from evalverse.registry import register


@register
class NoUnintendedShake(CodeCheck):
    """No shot with hand-held jitter, unless the prompt asks for a hand-held look (its words in checks.yaml)."""

    name: ClassVar[str] = "camera.no_unintended_shake"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "No shot shows hand-held jitter that the prompt did not ask for."
    reads: ClassVar[tuple[str, ...]] = ("camera.shake_pct_w", "camera.shots.handheld", "camera.n_handheld_shots")
    param_names: ClassVar[tuple[str, ...]] = ("handheld_words",)

    @classmethod
    def answer(cls, view: CheckView, params: Params) -> tuple[bool, str]:
        shake = view.cite("camera.shake_pct_w")
        c = view.typed("camera")
        shaky = [s for s in c.shots if s.handheld]
        where = ", ".join(f"shot {s.index} ({seconds(s.start)}-{seconds(s.end)})" for s in shaky[:3])
        basis = (f"{shake}; hand-held jitter in {len(shaky)} shot(s)"
                 + (f": {where}" if where else ""))
        if any(re.search(p, (view.prompt or "").lower()) for p in params["handheld_words"]):
            return True, basis + "; the prompt asks for a hand-held look"
        return not shaky, basis


@register
class MotionMatchesPrompt(CodeCheck):
    """Some shot's label or movements contain a move the prompt names (vocabulary in checks.yaml); a prompt
    asking for a static camera is met when every shot is static."""

    name: ClassVar[str] = "camera.motion_matches_prompt"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "The measured camera moves include the one the prompt asks for."
    reads: ClassVar[tuple[str, ...]] = ("camera.shots.label", "camera")
    param_names: ClassVar[tuple[str, ...]] = ("moves",)

    @classmethod
    def answer(cls, view: CheckView, params: Params) -> tuple[bool, str]:
        if not view.prompt:
            raise NotAnswerable("no prompt given")
        text = view.prompt.lower()
        wanted = [k for k, pat in params["moves"].items() if re.search(pat, text)]
        if not wanted:
            raise NotAnswerable("the prompt names no camera movement")
        c = view.typed("camera")
        labels = [str(s.label) for s in c.shots]
        moves = {str(m) for s in c.shots for m in s.movements} | set(labels)
        hit = [w for w in wanted if any(w in m for m in moves)]
        if "static" in wanted and all(lab == "static" for lab in labels):
            hit.append("static")
        return bool(hit), f"prompt asks for {', '.join(wanted)}; measured shot labels {labels}, movements {sorted(moves)}"
