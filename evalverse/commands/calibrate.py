"""`evalverse calibrate --dimension visual_quality`: fit, cross-validate and report a calibration; write its artifact."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Optional

import typer


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def calibrate(
    dimension: str = typer.Option(..., "--dimension", help="taxonomy dimension id with a calibration spec (visual_quality)"),
    human: Optional[str] = typer.Option(None, "--human", help="human ratings: default the store's judgments of the "
                                        "dimension (import them with `evalverse humans import FILE --format fetv`); a "
                                        "store source id for that source only; or a FETV-format ratings.csv read directly"),
    clips: Optional[list[Path]] = typer.Option(None, "--clips", help="folder(s) holding the rated videos, when they are "
                                               "not beside the imported ratings file (matched by content hash)"),
    axis: Optional[str] = typer.Option(None, "--axis", help="rating axis to learn (default: the spec's first, e.g. static_quality)"),
    long: Optional[str] = typer.Option(None, "--long", help="FETV's rating-only file for the ceiling over all its prompts "
                                       "(default: the store's judgments of the dimension without a video, else "
                                       "../shared/data/fetv/fetv_ratings_long.csv when present)"),
    folds: Optional[int] = typer.Option(None, "--folds", help="outer prompt-grouped folds (default: the spec's)"),
    repeats: Optional[int] = typer.Option(None, "--repeats", help="outer repetitions (default: the spec's)"),
    bootstrap: Optional[int] = typer.Option(None, "--bootstrap", help="bootstrap draws for the intervals (default: the spec's)"),
    seed: Optional[int] = typer.Option(None, "--seed", help="random seed for folds and bootstrap (default: the spec's)"),
    activate: Optional[bool] = typer.Option(None, "--activate/--no-activate",
                                            help="make it the dimension's calibration in the data folder (default: only "
                                                 "when its held-out figures meet the spec's ship rule)"),
    out: Optional[Path] = typer.Option(None, "--out", help="also write the artifact to this file"),
    no_write: bool = typer.Option(False, "--no-write", help="report only; write no artifact"),
    no_cache: bool = typer.Option(False, "--no-cache", help="recompute the clips' evidence"),
    as_json: bool = typer.Option(False, "--json", help="print the report (and where the artifact went) as JSON"),
) -> None:
    """Learn DIMENSION's predicted human score from measures and judge outputs; report it cross-validated by
    prompt with 95% intervals beside the uncalibrated judge, each feature alone and the human ceiling."""
    from evalverse.calibration.artifacts import weights_table
    from evalverse.calibration.report import format_report
    from evalverse.calibration.run import calibrate as run
    from evalverse.calibration.spec import load_spec
    from evalverse.config import Settings
    from evalverse.judge.calibration_artifact import user_artifact_path, write_artifact
    from evalverse.store import Store

    settings = Settings.from_env()
    cv = load_spec(dimension).cv
    overrides = {k: v for k, v in {"folds": folds, "repeats": repeats, "bootstrap": bootstrap, "seed": seed}.items()
                 if v is not None}
    cv = cv.model_validate(cv.model_dump() | overrides) if overrides else None
    store = Store.from_settings(settings)  # the ratings live there: the file or a clear error, never a stand-in
    try:
        outcome = run(dimension, settings, human=human, axis=axis, long=long, store=store, use_cache=not no_cache,
                      cv=cv, progress=lambda m: typer.echo(m, err=True), folders=list(clips or []))
    finally:
        store.close()
    artifact, report = outcome.artifact, outcome.report
    written: dict[str, str] = {}
    justified = report["ship"]["justified"]
    if not no_write:
        history = Path(settings.data_dir) / "calibration" / "history" / f"{artifact.id}.json"
        written["history"] = str(write_artifact(artifact, history))
        if activate if activate is not None else justified:
            written["active"] = str(write_artifact(artifact, user_artifact_path(settings.data_dir, dimension)))
        if out is not None:
            written["out"] = str(write_artifact(artifact, out))
    weights = weights_table(artifact, outcome.X)
    if as_json:
        typer.echo(json.dumps(_json_safe({"report": report, "artifact": {"id": artifact.id, "written": written,
                                                                          "model": artifact.model.kind,
                                                                          "fitted_by": artifact.model.fitted_by},
                                          "weights": weights.to_dict(orient="records")}), indent=2, default=str))
        return
    typer.echo(format_report(report))
    typer.echo(f"\nFinal model on all clips: {artifact.model.fitted_by} {artifact.model.hyper}; features by how much "
               "they move the prediction (mean |contribution|, score points):")
    for r in weights.head(8).itertuples():
        w = "" if r.weight is None or (isinstance(r.weight, float) and math.isnan(r.weight)) else f" weight {r.weight:+.3f}/SD"
        typer.echo(f"  {r.feature:<55} {r.importance:.3f}{w}")
    typer.echo("\nShip as the packaged default: " + ("yes" if justified else "no") + " ("
               + "; ".join(report["ship"]["reasons"]) + ")")
    typer.echo(f"Artifact {artifact.id}: " + (", ".join(f"{k} {v}" for k, v in written.items()) or "not written")
               + ("" if "active" in written or no_write else " (not activated: pass --activate to use it anyway)"))
