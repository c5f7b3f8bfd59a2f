"""The judge uses a calibration: a judge's result for a dimension becomes the calibrated prediction of the human score.

`resolve_calibrations(dimensions, backend, data_dir)` finds, per dimension, the artifact that applies (the user's
data folder over the packaged default, `calibration_artifact.find_artifact_path`) and checks it against this
installation (measure catalogue, the dimension's taxonomy slice, operator versions, the evidence judge's checks
when its outputs are features). An artifact calibrates the judge backend it was fitted for (`artifact.judge`;
one without a judge record calibrates any backend); for other backends the dimension behaves as if it had none.
A refused or unreadable artifact stays in the resolution with the reason, so the run says why it fell back.

`calibrate_result(result, resolved, evidence)` replaces a scored result's score by the artifact's prediction
(clamped to the taxonomy's scale); `uncalibrated_score` keeps the judge's own, the answers stay as they were,
the rationale gains a paragraph naming the features that moved the prediction most (value, unit, sign), and
`calibration` records the id, the contributions and any imputed features. A refusal (at load, or at apply time
because the evidence came from another operator backend) keeps the judge's score and says why. Results the judge
did not score are left alone: a calibration never invents a score.

The pipeline puts each dimension's `Resolved.provenance` (the artifact id, or `refused:<id>`) into the run's
provenance, so installing, replacing or invalidating a calibration changes the run cache key, and runs the
operators an applied artifact reads (`Resolved.operators`), so its features are measured, not imputed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from evalverse.errors import DataError
from evalverse.judge.calibration_artifact import (
    CalibrationArtifact, CalibrationMismatch, apply, check_artifact, find_artifact_path, read_artifact)
from evalverse.judge.calibration_features import JudgeOutputs, raw_value
from evalverse.judge.types import DimensionResult

TOP_FEATURES = 3  # how many contributions the rationale names
_PARSED: dict[tuple[str, int, int], CalibrationArtifact] = {}


@dataclass(frozen=True)
class Resolved:
    dimension: str
    path: Path
    artifact_id: str
    artifact: CalibrationArtifact | None = None  # None: refused or unreadable
    problem: str | None = None  # why it is not applied

    @property
    def usable(self) -> bool:
        return self.artifact is not None and self.problem is None

    @property
    def provenance(self) -> str:
        """What a run's provenance records for this dimension (part of the cache key)."""
        return self.artifact_id if self.usable else f"refused:{self.artifact_id}"

    @property
    def operators(self) -> list[str]:
        """Operators whose evidence the artifact reads (none when it is not applied)."""
        return list(self.artifact.operators) if self.usable else []


def _read(path: Path) -> CalibrationArtifact:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        if len(_PARSED) > 32:
            _PARSED.clear()
        _PARSED[key] = read_artifact(path)
    return _PARSED[key]


def _applies_to(artifact: CalibrationArtifact, backend: str) -> bool:
    judge = artifact.judge or {}
    return not judge.get("backend") or judge["backend"] == backend


def resolve_calibrations(dimensions: Iterable[str], backend: str, data_dir: str | Path | None, *,
                         catalogue: Any = None, taxonomy: Any = None) -> dict[str, Resolved]:
    """{dimension id: Resolved} for the dimensions with an artifact for `backend` (others are absent)."""
    out: dict[str, Resolved] = {}
    for dim in dimensions:
        path = find_artifact_path(dim, data_dir)
        if path is None:
            continue
        try:
            artifact = _read(path)
        except (DataError, OSError) as exc:
            out[dim] = Resolved(dim, path, f"unreadable:{path.name}", problem=str(exc))
            continue
        if artifact.dimension != dim:
            out[dim] = Resolved(dim, path, artifact.id, problem=f"{path} calibrates {artifact.dimension}, not {dim}")
            continue
        if not _applies_to(artifact, backend):
            continue
        try:
            check_artifact(artifact, catalogue, taxonomy)
        except CalibrationMismatch as exc:
            out[dim] = Resolved(dim, path, artifact.id, artifact, problem=str(exc))
            continue
        out[dim] = Resolved(dim, path, artifact.id, artifact)
    return out


def _fmt(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "missing"
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.3e}"


def _contributions(artifact: CalibrationArtifact, prediction: Any, evidence: Any, judge: JudgeOutputs) -> list[dict]:
    by_name = {f.name: f for f in artifact.features}
    out = []
    for name, value, change in prediction.contributions:
        f = by_name[name]
        raw = raw_value(f.spec, evidence, judge)
        label = f.spec.source if f.spec.aggregate is None else f"{f.spec.aggregate}({f.spec.source})"
        out.append({"feature": name, "source": label, "value": raw, "transformed": value, "unit": f.unit,
                    "direction": f.direction, "change": change, "imputed": name in prediction.imputed})
    return out


def _say_contribution(c: dict) -> str:
    value = "missing (counted at its training median)" if c["imputed"] else f"{_fmt(c['value'])} {c['unit']}"
    return f"{c['source']} = {value}: {c['change']:+.2f}"


def _fallback(result: DimensionResult, resolved: Resolved, why: str) -> DimensionResult:
    out = result.model_copy(deep=True)
    out.uncalibrated_score = result.score
    out.calibration = {"id": resolved.artifact_id, "applied": False, "reason": why, "path": str(resolved.path)}
    out.rationale = (result.rationale + f"\nCalibration {resolved.artifact_id} not applied ({why}); the score is "
                     "the judge's own, uncalibrated.").lstrip("\n")
    return out


def calibrate_result(result: DimensionResult, resolved: Resolved | None, evidence: Any) -> DimensionResult:
    """The result with the calibrated score (see the module docstring); unchanged without a calibration or score."""
    if resolved is None or result.status != "scored" or result.score is None:
        return result
    if not resolved.usable:
        return _fallback(result, resolved, resolved.problem or "refused")
    artifact = resolved.artifact
    judge = JudgeOutputs.from_result(result)
    try:
        prediction = apply(artifact, evidence, judge)
    except CalibrationMismatch as exc:
        return _fallback(result, resolved, str(exc))
    contributions = _contributions(artifact, prediction, evidence, judge)
    out = result.model_copy(deep=True)
    out.uncalibrated_score = result.score
    out.score = prediction.score
    cal_row = next((r for r in artifact.cv.get("rows", []) if r.get("kind") == "model"), None)
    held_out = ""
    if cal_row:
        srcc = (cal_row.get("figures", {}).get("clip_srcc") or {}).get("value")
        held_out = "" if srcc is None else f"; held-out clip SRCC with people {srcc:.2f}"
    clamped = "" if prediction.score == prediction.unclamped else f", clamped from {prediction.unclamped:.2f}"
    lines = [f"Calibrated score {prediction.score:.2f}{clamped} (the rule-based answers above gave {result.score:.2f}): "
             f"calibration {artifact.id}, {artifact.model.fitted_by} on {artifact.training.get('n_clips', '?')} clips "
             f"rated by people for {artifact.target.axis.replace('_', ' ')} ({artifact.target.source}){held_out}.",
             "Moved most by: " + "; ".join(_say_contribution(c) for c in contributions[:TOP_FEATURES]) + "."]
    if prediction.imputed:
        lines.append(f"{len(prediction.imputed)} feature(s) missing here, counted at their training median: "
                     + ", ".join(prediction.imputed) + ".")
    out.rationale = (result.rationale + "\n" + "\n".join(lines)).lstrip("\n")
    out.calibration = {"id": artifact.id, "applied": True, "path": str(resolved.path), "unclamped": prediction.unclamped,
                       "contributions": contributions, "imputed": list(prediction.imputed),
                       "target": {"source": artifact.target.source, "axis": artifact.target.axis}}
    return out
