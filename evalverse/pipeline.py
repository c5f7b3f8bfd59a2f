"""Video → evidence → judge → store, as one stream of events that the CLI and the UI both consume.

`diagnose_stream(...)` yields plain JSON-serialisable dicts, each with a "type":

- {"type": "start", "video", "judge", "mode", "prompt", "reference", "dimensions": [ids]}
- {"type": "probe", "meta": VideoMeta dict, "seconds"}
- {"type": "cached", "run_id"}: the same clip with the same settings was diagnosed before; its stored
  results follow at once as dimension_done events, then the report (nothing is decoded or judged)
- {"type": "decode", "frames", "width", "height", "audio": bool, "seconds", "meta": VideoMeta dict with the decode
  facts (frames decoded, damage and where), "damage": one-line warning or None}; from here on `meta` (the
  report's too) is the decoded one
- {"type": "resumed", "run_id", "done": [dimension ids]}: an interrupted run with these exact inputs (same
  provenance) is finished instead of started again; its stored results follow as dimension_done events and only
  the other dimensions (and the operators they need) are computed
- {"type": "operator_start", "operator", "index", "total"}
- {"type": "operator_done", "operator", "index", "total", "status", "backend", "seconds", "cached", "message",
  "results"}
- {"type": "shots", "n_shots", "shots": [Shot dicts]} (once the shots operator is done)
- {"type": "judge", "dimension", "kind", "text", "data"}: the judge's own events, interleaved with the operator
  events: each dimension is judged as soon as the operators it needs (evidence and gates) are done (start, gate,
  rationale and reflection chunks, question answers, score, recoverable errors), as they stream
- {"type": "dimension_done", "dimension", "result": DimensionResult dict}
- {"type": "report", "report": report dict} (always last)

`diagnose(...)` runs the stream and returns the report: video, content_hash, meta, prompt, reference,
mode, judge, judge_version, run_id, cached, seconds, timings {probe, decode, operators, judge},
operators {name: {status, backend, seconds, cached, message}}, results [DimensionResult dicts],
summary {status: count}, provenance (evalverse.provenance: data hashes, operator plan, judge, settings, hash).

The run cache key is the provenance hash: a changed threshold, gate, weight, taxonomy, catalogue, operator
version or parameter, judge, or calibration artifact makes the next diagnosis recompute. Each dimension result
carries the hash. Where a calibration artifact applies to a dimension (evalverse.judge.calibrated), its score is
the calibrated prediction (a judge "score" event with source "calibration" says so) and the operators it reads run.

`evidence_stream(...)` is the evidence half alone (probe, decode once, operators): what `evalverse evidence`
runs. There is one way from a file to evidence.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

from evalverse.config import Settings
from evalverse.errors import InputError
from evalverse.jsonable import to_plain as _plain
from evalverse.judge.calibrated import calibrate_result
from evalverse.judge.protocol import JudgeContext, make_judge, sample_frames
from evalverse.operators.evidence import Evidence
from evalverse.provenance import canonical_hash, data_versions, provenance_hash, run_provenance
from evalverse.taxonomy import Dimension, Gate, TaskMode, Taxonomy, load_taxonomy

N_FRAMES = 8  # frames shown to a VLM judge per dimension
# operators whose evidence decides gates, beyond the dimensions' own evidence kinds
GATE_OPERATORS: dict[Gate, tuple[str, ...]] = {
    Gate.needs_audio: ("audio",), Gate.needs_speech: ("speech",), Gate.needs_multi_shot: ("shots",),
    Gate.needs_person: ("people", "faces"), Gate.needs_face: ("faces",), Gate.needs_camera_motion: ("camera",),
    Gate.context_dependent: ("audio",),  # music contexts open on a musical score
}


def resolve_dimensions(taxonomy: Taxonomy, dimensions: list[str] | str | None) -> list[Dimension]:
    if dimensions is None or dimensions == "" or dimensions == []:
        return taxonomy.dimensions
    keys = [d.strip() for d in (dimensions.split(",") if isinstance(dimensions, str) else dimensions) if d.strip()]
    out: list[Dimension] = []
    for key in keys:
        try:
            dim = taxonomy.dimension(key)
        except KeyError:
            raise InputError(f"unknown dimension {key!r}; known: {', '.join(d.id for d in taxonomy.dimensions)}") from None
        if dim not in out:
            out.append(dim)
    return out


def operators_for(dims: list[Dimension], calibrations: dict[str, Any] | None = None) -> list[str]:
    """Registered operators that inform these dimensions or decide their gates, and those the dimensions'
    applied calibrations read (`calibrations`: evalverse.judge.calibrated.resolve_calibrations), in registry order."""
    from evalverse.operators.runner import operator_names

    wanted: set[str] = set()
    for d in dims:
        if calibrations and d.id in calibrations:
            wanted.update(calibrations[d.id].operators)
        wanted.update(d.evidence)
        gates = set(d.gates)
        for sub in d.sub_dimensions:
            gates.update(sub.gates)
            for q in sub.questions:
                wanted.update(q.evidence)
                gates.update(q.gates)
        for g in gates:
            wanted.update(GATE_OPERATORS.get(g, ()))
    return [name for name in operator_names() if name in wanted]


def _closure(wanted: list[str], available: list[str]) -> set[str]:
    """`wanted` operators that will run, plus everything they need, transitively."""
    from evalverse.operators.runner import get_operator

    out: set[str] = set()
    stack = [n for n in wanted if n in available]
    while stack:
        name = stack.pop()
        if name not in out:
            out.add(name)
            stack.extend(n for n in get_operator(name).needs if n in available)
    return out


def _mode(mode: str | TaskMode) -> TaskMode:
    try:
        return TaskMode(getattr(mode, "value", mode))
    except ValueError:
        raise InputError(f"unknown mode {mode!r}; choose one of: {', '.join(m.value for m in TaskMode)}") from None


def _probe(video_path: str | Path, settings: Settings, timings: dict[str, float]) -> Iterator[dict[str, Any]]:
    """Probe the file (yields the probe event; the VideoMeta is the event's `_meta`, taken off before it leaves)."""
    from evalverse.media import probe_video

    t = time.perf_counter()
    meta = probe_video(video_path, settings.limits)
    timings["probe"] = time.perf_counter() - t
    yield {"type": "probe", "meta": meta.model_dump(mode="json"), "seconds": round(timings["probe"], 3), "_meta": meta}


def _decode(video_path: str | Path, settings: Settings, meta: Any, timings: dict[str, float]) -> tuple[Any, dict]:
    from evalverse.media import decode_video

    t = time.perf_counter()
    video = decode_video(video_path, settings, meta=meta)  # the probe already hashed the file
    timings["decode"] = time.perf_counter() - t
    n = len(video.frames)
    meta = video.meta  # the probe's facts plus what decoding found (frames decoded, damage and where)
    return video, {"type": "decode", "frames": int(n), "width": int(video.frames.shape[2]) if n else 0,
                   "height": int(video.frames.shape[1]) if n else 0, "audio": video.audio is not None,
                   "seconds": round(timings["decode"], 3), "meta": meta.model_dump(mode="json"),
                   "damage": meta.damage_summary()}


def _operator_events(video: Any, settings: Settings, names: list[str], records: Evidence, store: Any,
                     use_cache: bool, prompt: str | None, prefer: dict[str, str] | None) -> Iterator[dict[str, Any]]:
    """Run the operators, filling `records`; yields operator_start/operator_done (and shots once known)."""
    from evalverse.operators.runner import iter_operators

    for ev in iter_operators(video, settings, names, store=store, use_cache=use_cache, prompt=prompt, prefer=prefer):
        if ev["kind"] == "operator_start":
            yield {"type": "operator_start", "operator": ev["operator"], "index": ev["index"], "total": ev["total"]}
            continue
        rec = ev["record"]
        records[ev["operator"]] = rec
        yield {"type": "operator_done", "operator": ev["operator"], "index": ev["index"], "total": ev["total"],
               "status": rec.status, "backend": rec.backend, "seconds": rec.seconds, "cached": rec.cached,
               "message": rec.message, "results": _plain(rec.results)}
        if ev["operator"] == "shots":
            shots = records.shots()
            yield {"type": "shots", "n_shots": len(shots), "shots": [s.as_dict() for s in shots]}


def evidence_stream(video_path: str | Path, settings: Settings, operators: list[str] | None = None, store: Any = None,
                    use_cache: bool = True, prefer: dict[str, str] | None = None,
                    prompt: str | None = None, on_decoded: Any = None) -> Iterator[dict[str, Any]]:
    """The evidence half of the pipeline (probe, decode once, operators; no judge, no run): the same events as
    `diagnose_stream` up to the operators, then {"type": "report", "report": {"video": meta dict, "shots": [...],
    "operators": {name: EvidenceRecord dict}, "timings"}}. `operators`: names (plus what they need); None: all.
    `on_decoded(video)`: called with the DecodedVideo once it is decoded (the suite builder keeps the shots'
    keyframes from it, so nothing is decoded twice)."""
    from evalverse.operators.runner import operator_names, resolve_order

    if operators is not None:
        known = set(operator_names())
        unknown = [n for n in operators if n not in known]
        if unknown:
            raise InputError(f"unknown operator(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    names = resolve_order(operators)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    yield {"type": "start", "video": str(video_path), "operators": names}
    meta = None
    for ev in _probe(video_path, settings, timings):
        meta = ev.pop("_meta")
        yield ev
    video, decoded = _decode(video_path, settings, meta, timings)
    yield decoded
    meta = video.meta
    if on_decoded is not None:
        on_decoded(video)
    if store is not None:
        store.upsert_video(meta.content_hash, meta.path, meta.model_dump(mode="json"))
    records = Evidence(meta=meta)
    t = time.perf_counter()
    yield from _operator_events(video, settings, names, records, store, use_cache, prompt, prefer)
    timings["operators"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    yield {"type": "report", "report": {
        "video": meta.model_dump(mode="json"), "shots": [s.as_dict() for s in records.shots()],
        "operators": {name: rec.model_dump(mode="json") for name, rec in records.items()},
        "timings": {k: round(v, 3) for k, v in timings.items()}}}


def calibrations_for(settings: Settings, backend: Any, taxonomy: Taxonomy, dims: list[Dimension]) -> dict[str, Any]:
    """{dimension id: Resolved} of the calibration artifacts that apply to these dimensions for this backend."""
    from evalverse.judge.calibrated import resolve_calibrations

    return resolve_calibrations([d.id for d in dims], backend.name, settings.data_dir, taxonomy=taxonomy)


def provenance_for(settings: Settings, backend: Any, taxonomy: Taxonomy, dims: list[Dimension], *,
                   prompt: str | None, mode: str | TaskMode, judge_options: dict[str, Any] | None = None,
                   reference_sha256: str | None = None, n_frames: int = N_FRAMES,
                   calibrations: dict[str, Any] | None = None) -> dict[str, Any]:
    """The provenance a diagnosis with these inputs will carry (evalverse.provenance), with its "hash": what a
    batch run compares to decide whether a done item is still current, before any clip is opened. Each
    dimension with a calibration adds `calibration.<dimension>`: the artifact id (or refused:<id>)."""
    from evalverse.operators.runner import plan

    prompt = prompt.strip() if prompt and prompt.strip() else None
    cals = calibrations_for(settings, backend, taxonomy, dims) if calibrations is None else calibrations
    body = run_provenance(
        data=data_versions() | {"taxonomy": canonical_hash(taxonomy.model_dump(mode="json"))}
        | {f"calibration.{dim}": r.provenance for dim, r in sorted(cals.items())},
        operators=plan(operators_for(dims, cals), settings),
        judge={"backend": backend.name,
               "version": backend.version_string() if hasattr(backend, "version_string") else backend.version,
               "options": {k: v for k, v in (judge_options or {}).items() if k != "api_key"}},
        settings={"dimensions": [d.id for d in dims], "frames": n_frames, "prompt": prompt, "mode": _mode(mode).value,
                  "reference_sha256": reference_sha256})
    return body | {"hash": provenance_hash(body)}


def _body(provenance: dict[str, Any]) -> dict[str, Any]:
    """The record the hash is computed over (the stored one), without the hash itself."""
    return {k: v for k, v in provenance.items() if k != "hash"}


def diagnose_stream(video_path: str | Path, settings: Settings, prompt: str | None = None,
                    reference: str | Path | None = None, mode: str | TaskMode = "t2v", judge: str = "evidence",
                    dimensions: list[str] | str | None = None, store: Any = None, use_cache: bool = True,
                    judge_options: dict[str, Any] | None = None, taxonomy: Taxonomy | None = None,
                    n_frames: int = N_FRAMES) -> Iterator[dict[str, Any]]:
    """Diagnose one clip; see the module docstring for the events. Bad input raises InputError before any
    work; a judge that cannot run here raises UnavailableError with the fix."""
    from evalverse.media.hashing import sha256_file
    from evalverse.media.types import with_decode_facts

    started = time.perf_counter()
    tax = taxonomy or load_taxonomy()
    task_mode = _mode(mode)
    dims = resolve_dimensions(tax, dimensions)
    prompt = prompt.strip() if prompt and prompt.strip() else None
    ref_path = Path(reference).expanduser() if reference else None
    if ref_path is not None and not ref_path.is_file():
        raise InputError(f"reference {ref_path} does not exist or is not a file")
    backend = make_judge(judge, settings, **(judge_options or {}))
    backend.check_available()
    timings: dict[str, float] = {}

    yield {"type": "start", "video": str(video_path), "judge": backend.name, "mode": task_mode.value, "prompt": prompt,
           "reference": str(ref_path) if ref_path else None, "dimensions": [d.id for d in dims]}
    meta = None
    for ev in _probe(video_path, settings, timings):
        meta = ev.pop("_meta")
        yield ev

    cals = calibrations_for(settings, backend, tax, dims)
    judge_version = backend.version_string() if hasattr(backend, "version_string") else backend.version
    provenance = provenance_for(settings, backend, tax, dims, prompt=prompt, mode=task_mode, judge_options=judge_options,
                                reference_sha256=sha256_file(ref_path) if ref_path else None, n_frames=n_frames,
                                calibrations=cals)
    op_versions = {n: p["version"] for n, p in provenance["operators"].items()}
    prov_hash = provenance["hash"]
    run_settings = provenance["settings"]
    if store is not None and use_cache:
        run_id = store.find_cached_run(meta.content_hash, backend.name, judge_version, run_settings, prompt=prompt,
                                       mode=task_mode.value, operator_versions=op_versions, provenance=prov_hash)
        if run_id is not None:
            meta = with_decode_facts(meta, (store.get_video(meta.content_hash) or {}).get("meta"))
            order = {d.id: i for i, d in enumerate(dims)}
            results = sorted(store.run_results(run_id), key=lambda r: order.get(r["dimension"], len(order)))
            yield {"type": "cached", "run_id": run_id}
            for res in results:
                yield {"type": "dimension_done", "dimension": res["dimension"], "result": res}
            timings["total"] = time.perf_counter() - started
            yield {"type": "report", "report": _report(meta, prompt, ref_path, task_mode, backend.name, judge_version,
                                                       run_id, True, timings, {}, results, provenance)}
            return

    video, decoded = _decode(video_path, settings, meta, timings)
    yield decoded
    meta = video.meta  # the probe's facts plus what decoding found (frames decoded, damage and where)

    records = Evidence(meta=meta)
    # judges read `records` as it fills; a dimension is judged as soon as the operators it needs are done,
    # so the first cards arrive before the slow operators (faces, speech) finish
    context = JudgeContext(taxonomy=tax, meta=meta, frames=sample_frames(video.frames, video.times, n_frames),
                           evidence=records, prompt=prompt, reference=ref_path, mode=task_mode, settings=settings)
    run_id, resumed = None, []
    if store is not None:
        store.upsert_video(meta.content_hash, str(video_path), meta.model_dump(mode="json"))
        key = dict(settings_key=run_settings, prompt=prompt, mode=task_mode.value, operator_versions=op_versions)
        run_id = store.find_resumable_run(meta.content_hash, backend.name, judge_version, provenance=prov_hash,
                                          **key) if use_cache else None
        if run_id is not None:  # an interrupted run with these exact inputs: finish it instead of starting again
            done = set(store.resume_run(run_id)["done"])
            resumed = [r for r in store.run_results(run_id) if r["dimension"] in done]
        else:
            run_id = store.start_run(meta.content_hash, backend.name, judge_version, op_versions, run_settings,
                                     prompt=prompt, mode=task_mode.value,
                                     provenance=_body(provenance))
    by_id: dict[str, dict[str, Any]] = {r["dimension"]: r for r in resumed}
    if resumed:
        yield {"type": "resumed", "run_id": run_id, "done": list(by_id)}
        for res in resumed:
            yield {"type": "dimension_done", "dimension": res["dimension"], "result": res}
    pending = [d for d in dims if d.id not in by_id]
    names = operators_for(pending, cals)  # a resumed run computes only what its remaining dimensions need
    needed = {dim.id: _closure(operators_for([dim], cals), names) for dim in pending}
    judge_seconds = 0.0

    def judge_ready() -> Iterator[dict[str, Any]]:
        nonlocal judge_seconds
        for dim in [d for d in pending if needed[d.id] <= records.keys()]:
            pending.remove(dim)
            t_judge = time.perf_counter()
            for event in backend.judge(dim, context):
                if event.kind == "done":
                    result = calibrate_result(event.data["result"], cals.get(dim.id), records)
                    if result.calibration is not None:
                        yield {"type": "judge", "dimension": dim.id, "kind": "score", "text": _calibrated_text(result),
                               "data": _plain({"score": result.score, "source": "calibration",
                                               "uncalibrated_score": result.uncalibrated_score,
                                               "calibration": result.calibration})}
                    res = result.model_dump(mode="json") | {"provenance_hash": prov_hash}
                    by_id[dim.id] = res
                    if store is not None:
                        store.add_dimension_result(run_id, res)
                    yield {"type": "dimension_done", "dimension": dim.id, "result": res}
                else:
                    yield {"type": "judge", "dimension": dim.id, "kind": event.kind, "text": event.text,
                           "data": _plain(event.data)}
            judge_seconds += time.perf_counter() - t_judge

    t = time.perf_counter()
    yield from judge_ready()  # dimensions that need no operator evidence at all
    for ev in _operator_events(video, settings, names, records, store, use_cache, prompt, None):
        yield ev
        if ev["type"] == "operator_done":
            yield from judge_ready()
    yield from judge_ready()
    timings["operators"] = time.perf_counter() - t - judge_seconds
    timings["judge"] = judge_seconds
    results = [by_id[d.id] for d in dims if d.id in by_id]  # taxonomy order, whatever order they finished in
    ops = {n: {"status": r.status, "backend": r.backend, "seconds": r.seconds, "cached": r.cached, "message": r.message}
           for n, r in records.items()}
    if store is not None:
        store.finish_run(run_id, operators=ops)  # kept with the run: a stored run is shown as it was diagnosed
    timings["total"] = time.perf_counter() - started
    yield {"type": "report", "report": _report(meta, prompt, ref_path, task_mode, backend.name, judge_version, run_id,
                                               False, timings, ops, results, provenance)}


def _calibrated_text(result: Any) -> str:
    cal = result.calibration
    if not cal.get("applied"):
        return f"calibration {cal['id']} not applied: {cal['reason']}"
    return f"{result.score:.2f} (calibrated by {cal['id']}; the judge's own {result.uncalibrated_score:.2f})"


def diagnose(video_path: str | Path, settings: Settings, **kwargs: Any) -> dict[str, Any]:
    """Run `diagnose_stream` to the end and return its report."""
    report: dict[str, Any] | None = None
    for event in diagnose_stream(video_path, settings, **kwargs):
        if event["type"] == "report":
            report = event["report"]
    assert report is not None
    return report


def _report(meta, prompt, ref_path, mode, judge, judge_version, run_id, cached, timings, ops, results,
            provenance) -> dict[str, Any]:
    summary: dict[str, int] = {}
    for r in results:
        summary[r["status"]] = summary.get(r["status"], 0) + 1
    return {
        "video": meta.path, "content_hash": meta.content_hash, "meta": meta.model_dump(mode="json"), "prompt": prompt,
        "reference": str(ref_path) if ref_path else None, "mode": mode.value, "judge": judge,
        "judge_version": judge_version, "run_id": run_id, "cached": cached,
        "seconds": round(timings.get("total", 0.0), 3), "timings": {k: round(v, 3) for k, v in timings.items()},
        "operators": ops, "results": results, "summary": summary, "provenance": provenance,
    }


