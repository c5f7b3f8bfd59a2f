"""The `/reward` API endpoint: JSON in, JSON out, the same as `evalverse.reward.score`.

Request:  {"videos": [V, ...], "prompts": [...] | "one prompt", "dimensions": [ids] | null, "judge": "evidence"}
          where V is {"base64": "<file bytes>", "name": "clip.mp4"}, {"sample": "<file in assets/samples>"}, or
          {"media": "<path relative to EVALVERSE_MEDIA_DIR>"} (a bare string means media). Nothing else on the
          server's disk can be named.
Response: {"results": [per-clip entry as reward.score returns], "seconds": s} or {"error": "one line"}.
"""
from __future__ import annotations

import base64
import binascii
import tempfile
import time
from pathlib import Path
from typing import Any

from evalverse.errors import EvalVerseError, InputError
from evalverse.media.formats import VIDEO_SUFFIXES
from evalverse.ui.context import AppContext
from evalverse.ui.diagnose_session import list_samples, resolve_media_file
from evalverse.ui.failsafe import describe

API_NAME = "reward"


def _video(spec: Any, ctx: AppContext, folder: Path, i: int) -> Path:
    if isinstance(spec, str):
        spec = {"media": spec}
    if not isinstance(spec, dict) or len(spec.keys() & {"base64", "sample", "media"}) != 1:
        raise InputError(f"videos[{i}] must be one of {{'base64', 'name'}}, {{'sample'}} or {{'media'}}")
    if "sample" in spec:
        samples = dict(list_samples())
        if spec["sample"] not in samples:
            raise InputError(f"videos[{i}]: unknown sample {spec['sample']!r}; choose one of {', '.join(samples)}")
        return Path(samples[spec["sample"]])
    if "media" in spec:
        return resolve_media_file(ctx.settings.media_dir, str(spec["media"]))
    suffix = Path(str(spec.get("name") or "clip.mp4")).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise InputError(f"videos[{i}]: name must end in one of {', '.join(VIDEO_SUFFIXES)}")
    try:
        data = base64.b64decode(spec["base64"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise InputError(f"videos[{i}]: base64 is not valid base64") from None
    limit = ctx.settings.limits.max_file_mb * 1e6
    if len(data) > limit:
        raise InputError(f"videos[{i}] is {len(data) / 1e6:.1f} MB, over the limit of {ctx.settings.limits.max_file_mb:g} MB")
    path = folder / f"video{i}{suffix}"
    path.write_bytes(data)
    return path


def handle(ctx: AppContext, request: dict[str, Any], scorers: dict[str, Any]) -> dict[str, Any]:
    """Score a request (see the module docstring); problems come back as {"error": ...}, never raised."""
    from evalverse.bench.reward import MAX_BATCH, Scorer

    started = time.perf_counter()
    try:
        if not isinstance(request, dict):
            raise InputError("the request must be a JSON object with `videos`")
        unknown = set(request) - {"videos", "prompts", "dimensions", "judge", "modes"}
        if unknown:
            raise InputError(f"unknown request field(s) {', '.join(sorted(unknown))}")
        videos = request.get("videos")
        if not isinstance(videos, list) or not videos:
            raise InputError("`videos` must be a non-empty list")
        if len(videos) > MAX_BATCH:
            raise InputError(f"at most {MAX_BATCH} videos per request")
        judge = str(request.get("judge") or "evidence")
        with tempfile.TemporaryDirectory(prefix="evalverse-reward-") as tmp:
            paths = [_video(v, ctx, Path(tmp), i) for i, v in enumerate(videos)]
            if judge not in scorers:
                scorers[judge] = Scorer(ctx.settings, judge=judge, store=ctx.store)
            results = scorers[judge].score(paths, prompts=request.get("prompts"), dimensions=request.get("dimensions"),
                                           modes=request.get("modes"))
        for r, v in zip(results, videos):  # temporary upload paths mean nothing to the caller
            if isinstance(v, dict) and "base64" in v:
                r["video"] = str(v.get("name") or "upload")
        return {"results": results, "seconds": round(time.perf_counter() - started, 3)}
    except EvalVerseError as exc:
        return {"error": describe(exc)}


def register(ctx: AppContext) -> None:
    """Add the endpoint to the Blocks being built (call inside `with gr.Blocks()`)."""
    import gradio as gr

    scorers: dict[str, Any] = {}

    def reward(request: dict) -> dict:
        """Per clip: a dense per-dimension score vector in [0, 1] (None where unscored), mask, overall, provenance."""
        return handle(ctx, request, scorers)

    gr.api(reward, api_name=API_NAME)
