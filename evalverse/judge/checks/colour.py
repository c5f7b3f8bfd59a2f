"""Colour checks that need code: palette consistency across shots, with a single-shot fallback.
(Harmony, saturation and colour cast are data checks in checks.yaml.)"""
from __future__ import annotations

from typing import ClassVar

from evalverse.judge.checks.base import CheckView, CodeCheck, NotAnswerable, Params, fmt
from evalverse.registry import register


@register
class PaletteConsistent(CodeCheck):
    """Several shots: the adjacent-shot palette consistency score. One shot: how much colourfulness varies
    over time (coefficient of variation), since there is no second palette to compare with."""

    name: ClassVar[str] = "colour.palette_consistent"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "The palette holds across shots (or, in a single shot, colourfulness holds over time)."
    reads: ClassVar[tuple[str, ...]] = ("colour.palette_consistency.score", "colour.palette_consistency.mean_delta_e",
                                        "colour.colourfulness_cv")
    param_names: ClassVar[tuple[str, ...]] = ("consistency_min", "colourfulness_cv_max")

    @classmethod
    def answer(cls, view: CheckView, params: Params) -> tuple[bool, str]:
        c = view.typed("colour")
        score = c.palette_consistency.score
        if score is not None:
            t = float(params["consistency_min"])
            de = c.palette_consistency.mean_delta_e
            return score >= t, (f"colour.palette_consistency.score {fmt(score)} (mean adjacent-shot dE "
                                f"{fmt(de) if de is not None else '?'}) vs minimum {fmt(t)}")
        cv = c.colourfulness_cv
        if cv is None:
            raise NotAnswerable("one shot and too few colourfulness samples to compare")
        t = float(params["colourfulness_cv_max"])
        return cv <= t, f"one shot: colour.colourfulness_cv {fmt(cv)} over the clip vs maximum {fmt(t)}"
