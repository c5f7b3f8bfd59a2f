"""Evidence and judge outputs for every rated clip, computed once through the pipeline and cached.

For each clip: the evidence of the spec's operators (`pipeline.evidence_stream`, the same path as `evalverse
evidence`) and, when the spec names a judge, that judge's result for the dimension (`pipeline.diagnose_stream`,
the same path as `evalverse diagnose`). Operator records are cached in the store as always; on top of that
each clip's plain evidence and judge result go to `<data_dir>/calibration/evidence.parquet` under a key over
everything that could change them (the operators' plan: versions, backends, parameters; the catalogue
version; the judge backend, version and data; the dimension's taxonomy slice), so a refit, or another
feature list over the same operators, reads the file and decodes nothing.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from evalverse.calibration.spec import CalibrationSpec
from evalverse.judge.calibration_features import FeatureSpec, JudgeOutputs, feature_row

CACHE_NAME = "evidence.parquet"
CACHE_COLUMNS = ["content_hash", "key", "path", "evidence", "judge"]


def evidence_key(spec: CalibrationSpec, settings: Any) -> tuple[str, dict[str, Any]]:
    """(hash, what it covers): the cache key of a clip's evidence and judge result for this spec."""
    from evalverse.judge.calibration_artifact import dimension_facts
    from evalverse.operators.catalogue import load_catalogue
    from evalverse.operators.runner import plan
    from evalverse.provenance import canonical_hash, data_versions
    from evalverse.taxonomy import load_taxonomy

    from evalverse.media.decode import decode_facts

    covers: dict[str, Any] = {"operators": plan(spec.operators, settings), "decode": decode_facts(),
                              "catalogue": load_catalogue().version,
                              "dimension": dimension_facts(load_taxonomy(), spec.dimension)["dimension_hash"]}
    if spec.judge:
        from evalverse.judge.protocol import make_judge

        backend = make_judge(spec.judge, settings)
        version = backend.version_string() if hasattr(backend, "version_string") else backend.version
        covers["judge"] = {"backend": spec.judge, "version": version, "data": data_versions()}
    return canonical_hash(covers), covers


def cache_path(settings: Any) -> Path:
    return Path(settings.data_dir) / "calibration" / CACHE_NAME


def read_cache(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame(columns=CACHE_COLUMNS)
    import duckdb

    try:
        return duckdb.sql(f"SELECT * FROM read_parquet('{_sql_path(path)}')").df()
    except duckdb.Error:  # a broken cache is recomputed, never fatal
        return pd.DataFrame(columns=CACHE_COLUMNS)


def write_cache(path: Path, frame: pd.DataFrame) -> None:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.parquet")
    frame = frame[CACHE_COLUMNS].reset_index(drop=True)  # noqa: F841 (read by duckdb by name)
    duckdb.sql(f"COPY (SELECT * FROM frame) TO '{_sql_path(tmp)}' (FORMAT parquet)")
    tmp.replace(path)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def compute_clip(path: str, spec: CalibrationSpec, settings: Any, store: Any = None) -> dict[str, Any]:
    """{"evidence": {"meta", "operators"}, "judge": DimensionResult dict or None} for one clip, via the pipeline."""
    from evalverse.pipeline import diagnose_stream, evidence_stream

    report: dict[str, Any] = {}
    for event in evidence_stream(path, settings, spec.operators, store=store):
        if event["type"] == "report":
            report = event["report"]
    judged = None
    if spec.judge:
        for event in diagnose_stream(path, settings, judge=spec.judge, dimensions=[spec.dimension], store=store):
            if event["type"] == "dimension_done":
                judged = event["result"]
    return {"evidence": {"meta": report["video"], "operators": report["operators"]}, "judge": judged}


def collect(paths: list[str], spec: CalibrationSpec, settings: Any, store: Any = None, use_cache: bool = True,
            on_progress: Callable[[int, int, str, bool], None] | None = None,
            compute: Callable[..., dict[str, Any]] = compute_clip) -> dict[str, dict[str, Any]]:
    """{path: {"content_hash", "evidence", "judge"}} for every clip, from the cache where its key matches."""
    from evalverse.media.hashing import sha256_file

    key, _ = evidence_key(spec, settings)
    file = cache_path(settings)
    cache = read_cache(file) if use_cache else pd.DataFrame(columns=CACHE_COLUMNS)
    hits = {(r.content_hash, r.key): r for r in cache.itertuples()}
    out: dict[str, dict[str, Any]] = {}
    new_rows = []
    for n, path in enumerate(paths):
        digest = sha256_file(path)
        hit = hits.get((digest, key))
        if hit is not None:
            item = {"evidence": json.loads(hit.evidence), "judge": json.loads(hit.judge)}
        else:
            item = compute(path, spec, settings, store)
            new_rows.append({"content_hash": digest, "key": key, "path": str(path),
                             "evidence": json.dumps(item["evidence"]), "judge": json.dumps(item["judge"])})
        out[path] = {"content_hash": digest, **item}
        if on_progress is not None:
            on_progress(n + 1, len(paths), path, hit is not None)
    if new_rows:
        fresh = pd.DataFrame(new_rows, columns=CACHE_COLUMNS)
        old = read_cache(file)
        keep = old[~old.set_index(["content_hash", "key"]).index.isin(fresh.set_index(["content_hash", "key"]).index)]
        write_cache(file, pd.concat([keep, fresh], ignore_index=True))
    return out


def to_evidence(item: dict[str, Any]) -> Any:
    """The cached plain evidence as an `Evidence` (typed records, probe metadata)."""
    from evalverse.media.types import VideoMeta
    from evalverse.operators.base import EvidenceRecord
    from evalverse.operators.evidence import Evidence

    ev = item["evidence"]
    meta = {k: v for k, v in ev["meta"].items() if k in VideoMeta.model_fields}
    return Evidence({name: EvidenceRecord.model_validate(rec) for name, rec in ev["operators"].items()},
                    meta=VideoMeta.model_validate(meta))


def feature_frame(specs: list[FeatureSpec], items: dict[str, dict[str, Any]], paths: list[str]) -> pd.DataFrame:
    """Clips x features (transformed values, NaN where missing), rows in `paths` order."""
    rows = []
    for path in paths:
        item = items[path]
        judge = JudgeOutputs.from_result(item["judge"]) if item.get("judge") else None
        rows.append(feature_row(specs, to_evidence(item), judge))
    return pd.DataFrame(rows, columns=[s.name for s in specs], index=paths).astype(float)


def operator_facts(items: dict[str, dict[str, Any]], operators: list[str]) -> dict[str, dict[str, Any]]:
    """{operator: {version, backend}} the training evidence was made with (the most common, per operator)."""
    out: dict[str, dict[str, Any]] = {}
    for name in operators:
        seen = [(r["version"], r.get("backend")) for it in items.values()
                for n, r in it["evidence"]["operators"].items() if n == name and r["status"] in ("ok", "partial")]
        if seen:
            version, backend = max(set(seen), key=seen.count)
            out[name] = {"version": version, "backend": backend, "clips": len(seen)}
    return out
