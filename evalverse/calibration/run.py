"""One calibration end to end: ratings -> evidence (cached) -> features -> nested CV report -> final fit -> artifact."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from evalverse.calibration import ratings as R
from evalverse.calibration.artifacts import build_artifact
from evalverse.calibration.cv import fit_final
from evalverse.calibration.dataset import collect, feature_frame, operator_facts
from evalverse.calibration.report import build_report, ship_decision
from evalverse.calibration.spec import CVSpec, CalibrationSpec, load_spec
from evalverse.errors import InputError
from evalverse.judge.calibration_artifact import CalibrationArtifact


@dataclass
class Outcome:
    spec: CalibrationSpec
    axis: str
    clips: pd.DataFrame  # per clip: clip, path, prompt, source, rater:*, human
    X: pd.DataFrame  # features, aligned with clips
    report: dict[str, Any]
    artifact: CalibrationArtifact


def load_clips(human: str, axis: str, media_dir: Path | None) -> pd.DataFrame:
    """The rated clips with a video file (TRANSITION: the FETV CSV; the store's judgments later)."""
    clips = R.per_clip(R.fetv_clip_ratings(R.resolve_fetv_csv(human, media_dir)), axis)
    missing = [p for p in clips["path"] if not Path(p).is_file()]
    if missing:
        raise InputError(f"{len(missing)} rated clip(s) have no video file, first: {missing[0]}")
    if clips["prompt"].nunique() < 4:
        raise InputError(f"calibration needs clips of at least 4 prompts, got {clips['prompt'].nunique()}")
    return clips


def calibrate(dimension: str, settings: Any, human: str | None = None, axis: str | None = None,
              long: str | None = None, store: Any = None, use_cache: bool = True, cv: CVSpec | None = None,
              progress: Callable[[str], None] | None = None) -> Outcome:
    say = progress or (lambda _m: None)
    spec = load_spec(dimension)
    axis = axis or spec.human.default_axis
    if axis not in spec.human.axes:
        raise InputError(f"{dimension} is calibrated against {', '.join(spec.human.axes)}, not {axis!r}")
    if cv is not None:
        spec = spec.model_copy(update={"cv": cv})
    clips = load_clips(human or spec.human.source, axis, settings.media_dir)
    paths = list(clips["path"])
    say(f"evidence for {len(paths)} clips (cached under {settings.data_dir / 'calibration'})")
    items = collect(paths, spec, settings, store, use_cache,
                    on_progress=lambda n, total, p, hit: say(f"  {n}/{total} {Path(p).name}{' (cached)' if hit else ''}")
                    if not hit or n == total else None)
    X = feature_frame(list(spec.features), items, paths).reset_index(drop=True)
    judge_score = None
    if spec.judge:
        judge_score = pd.Series([(items[p]["judge"] or {}).get("score") for p in paths], dtype=float)
    long_path = R.resolve_long_csv(long)
    long_clips = R.per_clip(R.fetv_long_ratings(long_path), axis) if long_path is not None else None
    from evalverse.operators.catalogue import load_catalogue

    catalogue = load_catalogue()
    directions = [None if f.is_judge else catalogue.get(f.source).direction for f in spec.features]
    report = build_report(spec, axis, clips, X, judge_score, long_clips, spec.cv, directions, say)
    report["ship"] = ship_decision(report, spec.ship_when)
    for entry, path in zip(report["predictions"], paths):
        entry["content_hash"] = items[path]["content_hash"]
    say("final fit on all clips")
    final = fit_final(X.to_numpy(float), clips["human"].to_numpy(float), clips["prompt"].astype(str).to_numpy(),
                      clips["source"].astype(str).to_numpy(), list(spec.models), spec.cv.inner_folds,
                      spec.cv.select_by, spec.cv.seed)
    judge_version = None
    if spec.uses_judge:
        judge_version = next((it["judge"].get("backend_version") for it in items.values() if it.get("judge")), None)
    artifact = build_artifact(spec, axis, final, clips, [items[p]["content_hash"] for p in paths],
                              operator_facts(items, spec.operators), report, judge_version=judge_version)
    return Outcome(spec, axis, clips, X, report, artifact)
