"""People checks that need code: the measured shot size against the one the prompt names.
(Subject prominence and headroom are data checks in checks.yaml.)"""
from __future__ import annotations

import re
from typing import ClassVar

from evalverse.judge.checks.base import CheckView, CodeCheck, NotAnswerable, Params
from evalverse.registry import register


@register
class ShotSizeMatchesPrompt(CodeCheck):
    """The prompt's shot size (its vocabulary in checks.yaml) against the people operator's estimate; one size
    either way on the scale `sizes` passes (neighbouring sizes blur into each other)."""

    name: ClassVar[str] = "people.shot_size_matches_prompt"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "The framing measures the shot size the prompt names, give or take one size."
    reads: ClassVar[tuple[str, ...]] = ("people.person_fraction", "people.shot_size")
    param_names: ClassVar[tuple[str, ...]] = ("words", "sizes", "tolerance")

    @classmethod
    def answer(cls, view: CheckView, params: Params) -> tuple[bool, str]:
        if not view.prompt:
            raise NotAnswerable("no prompt given")
        text = view.prompt.lower()
        wanted = [size for size, pats in params["words"].items() if any(re.search(p, text) for p in pats)]
        if not wanted:
            raise NotAnswerable("the prompt names no shot size")
        want = wanted[0]
        p = view.typed("people")
        if not p.person_fraction:
            raise NotAnswerable(f"the people operator ({p.backend}) saw no person in {p.sampled_frames} sampled frames")
        sizes: list[str] = params["sizes"]
        got = p.shot_size
        if got not in sizes:
            raise NotAnswerable("the people operator estimated no shot size")
        tol = int(params["tolerance"])
        ok = abs(sizes.index(got) - sizes.index(want)) <= tol
        return ok, (f"prompt asks for {want.replace('_', ' ')}, the framing measures {got.replace('_', ' ')} "
                    f"(people.shot_size; {tol} size(s) either way passes)")
