"""Turning a fitted calibration into its artifact (evalverse.judge.calibration_artifact), and the weights table.

The artifact's id is `<dimension>-<axis>-<hash>`, the hash over its model, features and training data, so
the same fit on the same data gets the same id, and the judge can put it in a run's provenance and cache key.
"""
from __future__ import annotations

import platform
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from evalverse.calibration.cv import Final
from evalverse.calibration.spec import CalibrationSpec
from evalverse.judge.calibration_artifact import (
    ArtifactFeature, CalibrationArtifact, LinearModel, MLPModel, Target, dimension_facts, measure_facts)

JUDGE_UNITS = {"score": "score on the taxonomy scale", "answer": "answer score 0-1", "sub_score": "score on the taxonomy scale"}


def training_hash(clips: pd.DataFrame, content_hashes: list[str], axis: str) -> str:
    """A hash of what the model learned from: each clip's content hash, prompt, source and every rating."""
    from evalverse.provenance import canonical_hash

    raters = sorted(c for c in clips.columns if c.startswith("rater:"))
    rows = sorted([h, str(p), str(s), [None if pd.isna(v) else float(v) for v in vals]]
                  for h, p, s, vals in zip(content_hashes, clips["prompt"], clips["source"], clips[raters].to_numpy()))
    return canonical_hash({"axis": axis, "raters": raters, "clips": rows})


def _library() -> dict[str, str]:
    import scipy

    from evalverse import __version__

    return {"evalverse": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "python": platform.python_version()}


def build_artifact(spec: CalibrationSpec, axis: str, final: Final, clips: pd.DataFrame, content_hashes: list[str],
                   operators: dict[str, dict[str, Any]], report: dict[str, Any], mapping: dict[str, Any] | None = None,
                   judge_version: str | None = None, catalogue: Any = None, taxonomy: Any = None,
                   created_at: datetime | None = None, human_source: str | None = None) -> CalibrationArtifact:
    from evalverse.operators.catalogue import load_catalogue
    from evalverse.provenance import canonical_hash, file_hash
    from evalverse.taxonomy import load_taxonomy
    from evalverse.taxonomy.loader import DEFAULT_PATH

    cat = catalogue or load_catalogue()
    tax = taxonomy or load_taxonomy()
    pre, model = final.preprocessor, final.model
    features = []
    for k, (fs, direction) in enumerate(zip(spec.features, spec.directions(cat))):
        if fs.is_judge:
            unit, kind, scope = JUDGE_UNITS[fs.judge_kind], "judge", "judge"
        else:
            m = cat.get(fs.source)
            unit, kind, scope = m.unit, m.kind, m.scope
        features.append(ArtifactFeature(spec=fs, name=fs.name, unit=unit, kind=kind, scope=scope, direction=direction,
                                        impute=float(pre.impute[k]), mean=float(pre.mean[k]), scale=float(pre.scale[k])))
    if model.family in ("mlp", "mlp_pairs"):
        L = model.layers
        fitted = MLPModel(hidden_weights=L["W1"].tolist(), hidden_bias=L["b1"].tolist(), output_weights=L["w2"].tolist(),
                          output_bias=float(L["b2"]), hyper=model.hyper, fitted_by=model.family)
    else:
        fitted = LinearModel(fitted_by=model.family, intercept=float(model.intercept),
                             weights=[float(w) for w in model.weights], hyper=model.hyper)
    measures = [f.source for f in spec.features if not f.is_judge]
    used_ops = spec.operators  # the measures' operators and the shots they all read
    training = {"n_clips": int(len(clips)), "n_prompts": int(clips["prompt"].nunique()),
                "sources": {str(k): int(v) for k, v in clips["source"].value_counts().sort_index().items()},
                "data_hash": training_hash(clips, content_hashes, axis),
                "spec_hash": canonical_hash(spec.model_dump(mode="json")),
                "selection": {"family": final.selection.family, "hyper": final.selection.hyper,
                              "inner_scores": {f: s for f, (_h, s) in final.selection.best.items()},
                              "select_by": spec.cv.select_by}}
    # the held-out figures and the held-out prediction of every training clip (the Alignment tab's scatter)
    cv = {k: report[k] for k in ("rows", "vs_judge", "choices", "cv", "pairs", "source_share", "predictions") if k in report}
    cv["ship"] = report.get("ship")
    body = {"features": [f.model_dump(mode="json") for f in features], "model": fitted.model_dump(mode="json"),
            "data": training["data_hash"], "axis": axis}
    target = spec.human.axes[axis]
    return CalibrationArtifact(
        id=f"{spec.dimension}-{axis}-{canonical_hash(body, 12)}", dimension=spec.dimension,
        target=Target(source=human_source or spec.human.source, axis=axis, dimension=spec.dimension, sub_dimension=target.sub_dimension,
                      scale=spec.human.scale, mapping=mapping or {axis: {"dimension": spec.dimension,
                                                                         "sub_dimension": target.sub_dimension}}),
        scale=tuple(tax.score_scale), features=features, model=fitted, training=training,
        catalogue={"version": cat.version, "measures": measure_facts(cat, measures)},
        taxonomy={**dimension_facts(tax, spec.dimension), "file_hash": file_hash(DEFAULT_PATH)},
        operators={n: {"version": operators[n]["version"], "backend": operators[n].get("backend")}
                   for n in used_ops if n in operators},
        judge=_judge_record(spec, judge_version, tax),
        cv=cv, library=_library(), created_at=created_at or datetime.now(timezone.utc),
        note=("ship: " + "; ".join(report["ship"]["reasons"])) if report.get("ship") else "")


def _judge_record(spec: CalibrationSpec, judge_version: str | None, taxonomy: Any) -> dict[str, Any] | None:
    """The judge the calibration replaces the score of (the spec's baseline backend), and, when its outputs are
    features, what they depend on (so a changed check or weight refuses the artifact)."""
    from evalverse.judge.calibration_artifact import evidence_judge_facts

    if spec.judge is None:
        return None
    record: dict[str, Any] = {"backend": spec.judge, "version": judge_version, "reads_outputs": spec.uses_judge}
    if spec.uses_judge and spec.judge == "evidence":
        record["data"] = evidence_judge_facts(taxonomy, spec.dimension)
    return record


def weights_table(artifact: CalibrationArtifact, X: pd.DataFrame | None = None) -> pd.DataFrame:
    """feature, unit, weight (score change per training SD; linear models), importance (mean |contribution|
    over the rows of X, when given: comparable across families), sorted by importance or |weight|."""
    from evalverse.judge.calibration_artifact import predict_row

    rows = []
    weights = artifact.model.weights if isinstance(artifact.model, LinearModel) else [None] * len(artifact.features)
    for f, w in zip(artifact.features, weights):
        rows.append({"feature": f.name, "unit": f.unit, "weight": w})
    out = pd.DataFrame(rows)
    if X is not None:
        contrib = {f.name: [] for f in artifact.features}
        for _, r in X.iterrows():
            row = {k: (None if pd.isna(v) else float(v)) for k, v in r.items()}
            for name, _v, c in predict_row(artifact, row).contributions:
                contrib[name].append(abs(c))
        out["importance"] = [float(np.mean(contrib[f.name])) for f in artifact.features]
        return out.sort_values("importance", ascending=False, ignore_index=True)
    return out.reindex(out["weight"].abs().sort_values(ascending=False).index).reset_index(drop=True)
