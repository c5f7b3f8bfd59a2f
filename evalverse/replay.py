"""A stored run as the pipeline's event stream, read from the store alone: nothing is probed, decoded, computed
or judged. The UI renders these events with the same code as a fresh diagnosis, so an opened run looks the
way it did when it was made; `evalverse runs show ID --json` prints the report event.

Events (see evalverse.pipeline for their fields): start, probe (the stored metadata), {"type": "stored",
"run_id", "status", "started_at", "finished_at", "seconds"} (instead of decode; `seconds` is the time spent
reading the store), operator_done for each operator of the run (`stored: true`), shots, dimension_done for each
stored result in taxonomy order, and the report (`stored: true`, with the run's provenance and evidence).

Which evidence a run used: its provenance names each operator's version, backend and parameters, from which
the evidence cache key follows exactly as the runner computes it (`operators.runner.params_key`). A record
whose key is no longer in the store is shown as unavailable with `missing: true` and says why, never replaced by
another run's evidence; runs from before provenance was stored fall back to the newest record of the same
operator version, and say so.
"""
from __future__ import annotations

import itertools
import time
from typing import Any, Iterator

from evalverse.errors import InputError

UNUSABLE = ("skipped", "unavailable", "error")  # a downstream key names an upstream that was not usable


def _needs(name: str) -> tuple[str, ...]:
    from evalverse.operators.runner import get_operator

    try:
        return tuple(get_operator(name).needs)
    except InputError:  # an operator this installation no longer has
        return ()


def run_evidence(store: Any, run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{operator: record dict} of the evidence this run used, each marked `stored`; in the run's operator order.
    Operators whose record is not in the store get their stored status (or "missing") and a message."""
    from evalverse.operators.runner import params_key

    rows = store.evidence_records(run["video_hash"])
    by_key = {(r["operator"], r["version"], r["params_key"]): r["record"] for r in rows}
    plan: dict[str, dict[str, Any]] = ((run.get("provenance") or {}).get("operators") or {})
    done: dict[str, dict[str, Any]] = dict(run.get("operators") or {})
    prompt = run.get("prompt")
    out: dict[str, dict[str, Any]] = {}
    keys: dict[str, list[str]] = {}  # candidate cache keys of each operator, as its dependants see them
    for name, step in plan.items():
        needs = _needs(name)
        upstream = [n for n in needs if n in keys]
        options = [keys[n] for n in upstream]
        found, base = None, None
        for combo in itertools.islice(itertools.product(*options), 64):
            key = params_key(step.get("params") or {}, step.get("backend"), dict(zip(upstream, combo)),
                             prompt if "prompt" in needs else None)
            base = base or key
            hit = by_key.get((name, step.get("version"), key))
            if hit is not None:
                found, base = hit, key
                break
        if found is not None:
            out[name] = dict(found) | {"stored": True, "cached": True}
            keys[name] = [base]
        else:
            facts = done.get(name) or {}
            missing = facts.get("status") not in UNUSABLE
            message = facts.get("message") if not missing else (
                "its evidence is no longer in the store (only usable evidence is kept, under the run's exact "
                "inputs)" if facts else "the run did not record this operator's outcome and its evidence is not stored")
            out[name] = {"operator": name, "version": step.get("version"), "backend": facts.get("backend") or step.get("backend"),
                         "status": "unavailable" if missing else facts["status"], "message": message,
                         "seconds": facts.get("seconds") or 0.0, "results": {}, "stored": True, "missing": missing}
            keys[name] = [base, *(f"{base}:{s}" for s in UNUSABLE)] if base else []
    if not plan:  # a run from before provenance: the newest record of each operator version it names
        versions = run.get("operator_versions") or {}
        for row in rows:
            if versions.get(row["operator"]) == row["version"]:
                out[row["operator"]] = dict(row["record"]) | {
                    "stored": True, "cached": True,
                    "message": "newest stored record of this operator version (the run did not record its parameters)"}
    for name, record in out.items():
        facts = done.get(name) or {}
        if facts.get("seconds") is not None and record.get("status") in ("ok", "partial"):
            record["seconds"] = facts["seconds"]  # how long it took in that run (a cached record keeps its first)
    return out


def stored_stream(store: Any, run_id: int, taxonomy: Any | None = None) -> Iterator[dict[str, Any]]:
    """The events of stored run `run_id` (InputError when there is none)."""
    from evalverse.operators.base import EvidenceRecord
    from evalverse.operators.evidence import Evidence
    from evalverse.taxonomy import load_taxonomy

    started = time.perf_counter()
    run = store.get_run(int(run_id))
    if run is None:
        raise InputError(f"no stored run with id {run_id}")
    tax = taxonomy or load_taxonomy()
    video = store.get_video(run["video_hash"]) or {}
    meta = dict(video.get("meta") or {})
    order = {d.id: i for i, d in enumerate(tax.dimensions)}
    results = sorted(store.run_results(run["id"]), key=lambda r: order.get(r["dimension"], len(order)))
    settings = run.get("settings") or {}
    dims = list(settings.get("dimensions") or [r["dimension"] for r in results])
    path = video.get("path") or meta.get("path")
    yield {"type": "start", "video": path, "judge": run["judge_backend"], "mode": run.get("mode"),
           "prompt": run.get("prompt"), "reference": None, "dimensions": dims, "run_id": run["id"], "stored": True}
    yield {"type": "probe", "meta": meta, "seconds": 0.0, "stored": True}
    records = run_evidence(store, run)
    seconds = round(time.perf_counter() - started, 4)
    yield {"type": "stored", "run_id": run["id"], "status": run["status"], "started_at": str(run["started_at"]),
           "finished_at": None if run["finished_at"] is None else str(run["finished_at"]), "seconds": seconds}
    typed = Evidence()
    for i, (name, raw) in enumerate(records.items()):
        rec = EvidenceRecord.model_validate(raw | {"operator": name})
        typed[name] = rec
        yield {"type": "operator_done", "operator": name, "index": i, "total": len(records), "status": rec.status,
               "backend": rec.backend, "seconds": rec.seconds, "cached": True, "stored": True, "message": rec.message,
               "results": rec.results, "version": rec.version, "missing": bool(raw.get("missing"))}
        if name == "shots" and rec.usable:
            shots = typed.shots()
            yield {"type": "shots", "n_shots": len(shots), "shots": [s.as_dict() for s in shots]}
    for res in results:
        yield {"type": "dimension_done", "dimension": res["dimension"], "result": res}
    summary: dict[str, int] = {}
    for r in results:
        summary[r["status"]] = summary.get(r["status"], 0) + 1
    provenance = dict(run.get("provenance") or {})
    if run.get("provenance_hash"):
        provenance["hash"] = run["provenance_hash"]
    total = round(time.perf_counter() - started, 4)
    yield {"type": "report", "report": {
        "video": path, "content_hash": run["video_hash"], "meta": meta, "prompt": run.get("prompt"), "reference": None,
        "mode": run.get("mode"), "judge": run["judge_backend"], "judge_version": run["judge_version"],
        "run_id": run["id"], "status": run["status"], "cached": False, "stored": True,
        "started_at": str(run["started_at"]), "finished_at": None if run["finished_at"] is None else str(run["finished_at"]),
        "seconds": total, "timings": {"store": total},
        "operators": {n: {k: r.get(k) for k in ("status", "backend", "seconds", "message", "missing")}
                      for n, r in records.items()},
        "results": results, "summary": summary, "provenance": provenance, "evidence": records}}


def stored_report(store: Any, run_id: int, taxonomy: Any | None = None) -> dict[str, Any]:
    """The report event of `stored_stream` (what `evalverse runs show ID --json` prints)."""
    for event in stored_stream(store, run_id, taxonomy):
        if event["type"] == "report":
            return event["report"]
    raise InputError(f"no stored run with id {run_id}")  # unreachable: the stream always ends in a report
