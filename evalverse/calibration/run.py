"""One calibration end to end: ratings -> evidence (cached) -> features -> nested CV report -> final fit -> artifact."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from evalverse.calibration import ratings as R
from evalverse.calibration.anchors import anchor_accuracy, make_copies
from evalverse.calibration.anchors import pairing as make_pairing
from evalverse.calibration.artifacts import build_artifact, weights_table
from evalverse.calibration.cv import fit_final
from evalverse.calibration.dataset import collect, feature_frame, operator_facts
from evalverse.calibration.models import Pairing, direction_signs
from evalverse.calibration.report import build_report, ship_decision
from evalverse.calibration.spec import CVSpec, CalibrationSpec, load_spec
from evalverse.errors import InputError
from evalverse.judge.calibration_artifact import CalibrationArtifact
from evalverse.judge.calibration_features import JudgeOutputs


@dataclass
class Outcome:
    spec: CalibrationSpec
    axis: str
    clips: pd.DataFrame  # per clip: clip, path, prompt, source, rater:*, human
    X: pd.DataFrame  # features, aligned with clips
    report: dict[str, Any]
    artifact: CalibrationArtifact


@dataclass
class Human:
    """Where a calibration's ratings came from: the rated clips, the rating-only set for the ceiling, and what
    the artifact records (the store's source ids or the CSV read, and the axis -> dimension mapping applied)."""
    clips: pd.DataFrame
    long: pd.DataFrame | None
    source: str
    mapping: dict[str, Any] | None


def _checked(clips: pd.DataFrame) -> pd.DataFrame:
    missing = [p for p in clips["path"] if not Path(p).is_file()]
    if missing:
        raise InputError(f"{len(missing)} rated clip(s) have no video file, first: {missing[0]}")
    if clips["prompt"].nunique() < 4:
        raise InputError(f"calibration needs clips of at least 4 prompts, got {clips['prompt'].nunique()}")
    return clips


def load_human(spec: CalibrationSpec, axis: str, human: str | None, store: Any, long: str | None = None,
               folders: list[Path] | None = None) -> Human:
    """The rated clips (one row per clip) and the rating-only set. `human`: None = every source in the store
    (the human pointwise judgments of the spec's dimension and the axis's sub-dimension, matched to files by
    content hash); a store source id = that source only; a ratings CSV = that file, read directly."""
    target = spec.human.axes[axis]
    csv = R.resolve_fetv_csv_path(human) if human else None
    if csv is not None:
        clips = R.per_clip(R.fetv_clip_ratings(csv), axis)
        label, mapping = f"csv:{csv.name}", None
    else:
        if store is None:
            raise InputError("reading human judgments from the store needs a store; pass --human ratings.csv otherwise")
        table = R.store_clip_ratings(store, spec.dimension, target.sub_dimension, axis, spec.human.scale, source=human,
                                     folders=folders)
        clips = R.per_clip(table, axis)
        sources = R.store_clip_sources(store, spec.dimension, target.sub_dimension, human)
        label = "store:" + ",".join(sources)
        mapping = {s["id"]: {a: t for a, t in (s["mapping"] or {}).items() if isinstance(t, dict)
                             and t.get("dimension") == spec.dimension and t.get("sub_dimension") == target.sub_dimension}
                   for s in store.human_sources() if s["id"] in sources}  # the axis -> dimension mapping applied
    long_path = R.resolve_long_csv(long) if (long or csv is not None) else None
    if long_path is not None:
        long_clips = R.per_clip(R.fetv_long_ratings(long_path), axis)
    elif csv is None and store is not None:
        rating_only = R.store_rating_only(store, spec.dimension, target.sub_dimension, axis, spec.human.scale)
        if rating_only is not None:
            long_clips = R.per_clip(rating_only, axis)
        else:
            default = R.resolve_long_csv(None)
            long_clips = R.per_clip(R.fetv_long_ratings(default), axis) if default is not None else None
    else:
        long_clips = None
    return Human(_checked(clips), long_clips, label, mapping)


def _judge_on_anchors(spec: CalibrationSpec, pairing: Pairing) -> tuple[np.ndarray, np.ndarray]:
    """The judge's own score of each anchor's better and worse clip (its `judge.score` feature column)."""
    k = next((n for n, f in enumerate(spec.features) if f.is_judge and f.judge_kind == "score"), None)
    if k is None:
        nan = np.full(pairing.n_anchors, np.nan)
        return nan, nan
    return pairing.better[:, k], pairing.worse[:, k]


def anchor_pairing(spec: CalibrationSpec, clips: pd.DataFrame, items: dict, X: pd.DataFrame, paths: list[str],
                   settings: Any, store: Any, use_cache: bool, say: Callable[[str], None]) -> Pairing:
    """The spec's pair kinds and, when it names anchors, the degraded copies' features (made and cached once)."""
    if spec.anchors is None:
        return Pairing(within=tuple(spec.pairs.within))
    problems: list[str] = []
    ladders = make_copies(spec, clips, {p: items[p]["content_hash"] for p in paths}, settings, problems)
    copies = [c for ladder in ladders for _crf, c in ladder.copies]
    say(f"anchors: {len(copies)} x264 copies of {len(ladders)} clips (CRF {', '.join(map(str, spec.anchors.x264_crf))})")
    if problems:
        say(f"anchors: {len(problems)} clip(s) could not be re-encoded and have no anchors, first: {problems[0]}")
    copy_items = collect(copies, spec, settings, store, use_cache,
                         on_progress=lambda n, total, p, hit: say(f"  anchor {n}/{total}") if not hit and n % 20 == 0 else None)
    X_copies = feature_frame(list(spec.features), copy_items, copies)
    pairing = make_pairing(spec, ladders, X.set_axis(paths), X_copies)
    say(f"anchors: {pairing.n_anchors} known-order pairs")
    return pairing


def calibrate(dimension: str, settings: Any, human: str | None = None, axis: str | None = None,
              long: str | None = None, store: Any = None, use_cache: bool = True, cv: CVSpec | None = None,
              progress: Callable[[str], None] | None = None, folders: list[Path] | None = None) -> Outcome:
    """`human`: None (the store's judgments), a store source id, or a ratings CSV (see `load_human`)."""
    say = progress or (lambda _m: None)
    spec = load_spec(dimension)
    axis = axis or spec.human.default_axis
    if axis not in spec.human.axes:
        raise InputError(f"{dimension} is calibrated against {', '.join(spec.human.axes)}, not {axis!r}")
    if cv is not None:
        spec = spec.model_copy(update={"cv": cv})
    rated = load_human(spec, axis, human, store, long, folders)
    clips = rated.clips
    say(f"ratings: {len(clips)} clips of {clips['prompt'].nunique()} prompts from {rated.source}")
    paths = list(clips["path"])
    say(f"evidence for {len(paths)} clips (cached under {settings.data_dir / 'calibration'})")
    items = collect(paths, spec, settings, store, use_cache,
                    on_progress=lambda n, total, p, hit: say(f"  {n}/{total} {Path(p).name}{' (cached)' if hit else ''}")
                    if not hit or n == total else None)
    X = feature_frame(list(spec.features), items, paths).reset_index(drop=True)
    pairing = anchor_pairing(spec, clips, items, X, paths, settings, store, use_cache, say)
    judge_score = None
    if spec.judge:  # the judge's own score, also where an installed calibration replaced it
        judge_score = pd.Series([JudgeOutputs.from_result(items[p]["judge"]).score if items[p].get("judge") else None
                                 for p in paths], dtype=float)
    long_clips = rated.long
    from evalverse.operators.catalogue import load_catalogue

    catalogue = load_catalogue()
    directions = [None if f.is_judge else catalogue.get(f.source).direction for f in spec.features]
    signs = direction_signs(spec.directions(catalogue))
    report = build_report(spec, axis, clips, X, judge_score, long_clips, spec.cv, directions, say, signs, pairing)
    if pairing.n_anchors and judge_score is not None:  # the uncalibrated judge on the same known-order pairs
        judge_row = next(r for r in report["rows"] if r["kind"] == "judge")
        judge_row["anchor_accuracy"] = anchor_accuracy(*_judge_on_anchors(spec, pairing))
    report["ship"] = ship_decision(report, spec.ship_when)
    for entry, path in zip(report["predictions"], paths):
        entry["content_hash"] = items[path]["content_hash"]
    say("final fit on all clips")
    final = fit_final(X.to_numpy(float), clips["human"].to_numpy(float), clips["prompt"].astype(str).to_numpy(),
                      clips["source"].astype(str).to_numpy(), list(spec.models), spec.cv.inner_folds,
                      spec.cv.select_by, spec.cv.seed, signs, pairing)
    judge_version = None
    if spec.uses_judge:
        judge_version = next((it["judge"].get("backend_version") for it in items.values() if it.get("judge")), None)
    artifact = build_artifact(spec, axis, final, clips, [items[p]["content_hash"] for p in paths],
                              operator_facts(items, spec.operators), report, mapping=rated.mapping,
                              judge_version=judge_version, human_source=rated.source)
    # which features carry the weight, over the training clips (not part of the id: it is a report)
    artifact.cv["weights"] = weights_table(artifact, X).to_dict(orient="records")
    return Outcome(spec, axis, clips, X, report, artifact)
