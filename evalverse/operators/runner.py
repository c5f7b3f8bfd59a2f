"""Run evidence operators on one decoded video: dependency order, backend choice, timing, failure
isolation and the evidence cache.

Every operator yields exactly one EvidenceRecord, whatever happens: a missing backend becomes
status "unavailable" with the fix, an expected failure (UnavailableError/InputError) its message, and
any other exception status "error" with a one-line message (traceback at debug level). The others
keep working. Records of successful runs are cached in the store under
(video content hash, operator, version, params key) where the params key hashes the effective params,
the chosen backend and the cache keys of the operators it needs.

The store is passed in (operators sit below the store in the import order): anything with
`get_evidence(video_hash, operator, version, params_key) -> EvidenceRecord | dict | None` and
`put_evidence(video_hash, operator, version, params_key, record: dict)` works (evalverse.store.Store does).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any, Callable, Iterator, Protocol, TypedDict

from evalverse.config import Settings
from pydantic import ValidationError

from evalverse.errors import DataError, InputError, UnavailableError
from evalverse.media.types import DecodedVideo
from evalverse.operators.base import EvidenceRecord, Operator, OperatorContext, OperatorSkipped
from evalverse.operators.results import Results
from evalverse.registry import REGISTRY
from evalverse.jsonable import to_plain as plain

log = logging.getLogger(__name__)

# `needs` entries that are inputs, not operators
INPUT_NEEDS = frozenset({"frames", "audio", "prompt"})


class EvidenceCache(Protocol):
    def get_evidence(self, video_hash: str, operator: str, version: str, params_key: str) -> Any: ...

    def put_evidence(self, video_hash: str, operator: str, version: str, params_key: str, record: dict) -> Any: ...


class RunnerEvent(TypedDict):
    kind: str  # "operator_start" | "operator_done"
    operator: str
    record: EvidenceRecord | None  # None for operator_start
    index: int  # 0-based position in the run order
    total: int  # number of operators in this run


def operator_names() -> list[str]:
    """Every registered operator (importing the operator package registers them all)."""
    import evalverse.operators  # noqa: F401  (runs the @register decorators)

    return REGISTRY.names("operator")


def get_operator(name: str) -> type[Operator]:
    operator_names()
    try:
        cls = REGISTRY.get("operator", name)
    except KeyError as exc:
        raise InputError(str(exc).strip("'\"")) from None
    return cls  # type: ignore[return-value]


def dependencies(cls: type[Operator]) -> list[str]:
    """The operators `cls` needs (its `needs` minus the inputs frames/audio/prompt)."""
    return [n for n in cls.needs if n not in INPUT_NEEDS]


def resolve_order(names: list[str] | None = None) -> list[str]:
    """The requested operators plus everything they need, in the order they run: an operator runs once the
    operators it needs have run, and among those ready the one with the lowest declared `cost` goes first
    (ties: registry order), so cheap evidence, and the dimensions that rest on it, arrive early."""
    known = operator_names()
    wanted = list(known) if names is None else list(dict.fromkeys(names))
    needed: dict[str, list[str]] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in chain:
            raise InputError(f"operators depend on each other in a cycle: {' -> '.join((*chain, name))}")
        if name in needed:
            return
        deps = dependencies(get_operator(name))
        for need in deps:
            if need not in known:
                raise InputError(f"operator {name!r} needs {need!r}, which is neither an input nor a registered operator")
            visit(need, (*chain, name))
        needed[name] = deps

    for name in wanted:
        visit(name, ())
    rank = {n: i for i, n in enumerate(known)}
    order: list[str] = []
    while len(order) < len(needed):
        ready = [n for n, deps in needed.items() if n not in order and all(d in order for d in deps)]
        order.append(min(ready, key=lambda n: (get_operator(n).cost, rank[n])))
    return order


def chain_lengths(order: list[str], needs: dict[str, list[str]]) -> dict[str, float]:
    """Each operator's declared cost plus the longest chain of declared costs of the operators that wait on it
    (directly or not): how long the run takes from its start at the least, on enough cores."""
    out: dict[str, float] = {}
    for name in reversed(order):  # dependencies come first in `order`, so every waiting operator is done
        after = [out[n] for n in order if name in needs.get(n, ())]
        out[name] = float(get_operator(name).cost) + max(after, default=0.0)
    return out


def params_key(params: dict[str, Any], backend: str | None, upstream: dict[str, str] | None = None,
               prompt: str | None = None) -> str:
    """Stable short hash of the effective params (sorted JSON), the backend, upstream cache keys and what the
    decoder hands every operator (evalverse.media.decode.decode_facts: a decoder change is a cache miss)."""
    from evalverse.media.decode import decode_facts

    payload = {"params": params, "backend": backend, "upstream": dict(sorted((upstream or {}).items())),
               "decode": decode_facts()}
    if prompt is not None:
        payload["prompt"] = prompt
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _cache_get(store: EvidenceCache, video_hash: str, cls: type[Operator], key: str) -> EvidenceRecord | None:
    try:
        hit = store.get_evidence(video_hash, cls.name, cls.version, key)
    except Exception as exc:  # noqa: BLE001 - a broken cache must not stop the analysis
        log.warning("evidence cache read failed for %s: %s", cls.name, _one_line(exc))
        return None
    if hit is None:
        return None
    try:
        record = hit if isinstance(hit, EvidenceRecord) else EvidenceRecord.model_validate(hit)
        record.typed()  # a record that no longer fits the results model is recomputed, not served
    except (DataError, ValueError) as exc:
        log.info("cached %s evidence does not fit its results model; recomputing (%s)", cls.name, _one_line(exc))
        return None
    return record.model_copy(update={"cached": True})


def _cache_put(store: EvidenceCache, video_hash: str, record: EvidenceRecord, key: str) -> None:
    try:
        store.put_evidence(video_hash, record.operator, record.version, key, record.model_dump(mode="json"))
    except Exception as exc:  # noqa: BLE001
        log.warning("evidence cache write failed for %s: %s", record.operator, _one_line(exc))


def _input_problem(cls: type[Operator], video: DecodedVideo) -> str | None:
    if "frames" in cls.needs and len(video.frames) == 0:
        return "the video has no decoded frames"
    if "audio" in cls.needs and (video.audio is None or len(video.audio) == 0):
        return "the video has no audio stream"
    return None


def validate_results(cls: type[Operator], raw: Any) -> Results:
    """What `run` returned, as the operator's results model; InputError naming the operator and the field
    when it does not fit (an operator bug: a renamed or unexpected key fails here, at its source)."""
    model = cls.results_model
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(plain(raw.model_dump() if isinstance(raw, Results) else (raw or {})))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"{cls.name} returned results that do not fit {model.__name__}: "
                         f"{'.'.join(map(str, err['loc']))}: {err['msg']} ({exc.error_count()} problem(s))") from None


def run_one(cls: type[Operator], video: DecodedVideo, settings: Settings, params: dict[str, Any],
            evidence: dict[str, EvidenceRecord], prompt: str | None = None, backend: str | None = None,
            ) -> EvidenceRecord:
    """Run one operator with a chosen backend (or the first available one) and never raise."""
    start = time.perf_counter()
    base = {"operator": cls.name, "version": cls.version, "params": params}
    if backend is None:
        avail = cls.availability(settings)
        if not avail.available:
            return EvidenceRecord(**base, status="unavailable", message=avail.explain())
        backend = avail.backend
    problem = _input_problem(cls, video)
    if problem:
        return EvidenceRecord(**base, backend=backend, status="skipped", message=problem)
    ctx = OperatorContext(video=video, settings=settings, backend=backend, params=params,
                          evidence={n: evidence[n] for n in cls.needs if n in evidence}, prompt=prompt)
    try:
        typed = validate_results(cls, cls().run(ctx))
        # operators report "nothing to measure" or "only part measured" through flags in their results
        status = "skipped" if typed.skipped else "partial" if typed.partial else "ok"
        message = typed.message if status != "ok" else None
        record = EvidenceRecord(**base, backend=backend, status=status, message=message,
                                results=plain(typed.model_dump(mode="json")))
    except OperatorSkipped as exc:  # the input makes this evidence meaningless (e.g. silent audio)
        record = EvidenceRecord(**base, backend=backend, status="skipped", message=str(exc))
    except UnavailableError as exc:
        record = EvidenceRecord(**base, backend=backend, status="unavailable", message=str(exc))
    except InputError as exc:
        record = EvidenceRecord(**base, backend=backend, status="error", message=str(exc))
    except Exception as exc:  # noqa: BLE001 - one failing operator must not stop the others
        log.debug("operator %s failed", cls.name, exc_info=True)
        record = EvidenceRecord(**base, backend=backend, status="error", message=f"{cls.name} failed: {_one_line(exc)}")
    record.seconds = round(time.perf_counter() - start, 4)
    return record


def plan(names: list[str], settings: Settings, params: dict[str, dict[str, Any]] | None = None,
         prefer: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """What would run for `names` (in run order): {operator: {version, backend, params}}: the operator part of
    a run's provenance. `backend` is None when no backend can run here."""
    out: dict[str, dict[str, Any]] = {}
    for name in resolve_order(names):
        cls = get_operator(name)
        avail = cls.availability(settings, prefer=(prefer or {}).get(name))
        out[name] = {"version": cls.version, "backend": avail.backend,
                     "params": {**cls.default_params, **(params or {}).get(name, {})}}
    return out


def iter_operators(video: DecodedVideo, settings: Settings, names: list[str] | None = None,
                   store: EvidenceCache | None = None, use_cache: bool = True,
                   params: dict[str, dict[str, Any]] | None = None, prompt: str | None = None,
                   prefer: dict[str, str] | None = None, workers: int | None = None) -> Iterator[RunnerEvent]:
    """Run operators (all registered ones when `names` is None, plus what they need), yielding an
    operator_start and an operator_done event per operator as they happen. Independent operators run side by
    side within `workers` cores (default `settings.workers`; see evalverse.operators.scheduler). `params` maps
    operator name to overrides of its default_params; `prefer` maps operator name to a backend to use when it
    can run."""
    from evalverse.operators.scheduler import schedule

    order = resolve_order(names)
    params = params or {}
    evidence: dict[str, EvidenceRecord] = {}
    keys: dict[str, str] = {}
    video_hash = video.meta.content_hash
    classes = {name: get_operator(name) for name in order}
    pending_keys: dict[str, str] = {}
    index = {name: i for i, name in enumerate(order)}

    def start(name: str) -> EvidenceRecord | Callable[[], EvidenceRecord]:
        cls = classes[name]
        effective = {**cls.default_params, **params.get(name, {})}
        avail = cls.availability(settings, prefer=(prefer or {}).get(name))
        upstream = {n: keys[n] for n in cls.needs if n in keys}
        key = pending_keys[name] = params_key(effective, avail.backend, upstream, prompt if "prompt" in cls.needs else None)
        if not avail.available:
            return EvidenceRecord(operator=name, version=cls.version, params=effective, status="unavailable",
                                  message=avail.explain())
        if store is not None and use_cache:
            hit = _cache_get(store, video_hash, cls, key)
            if hit is not None:
                return hit
        inputs = {n: evidence[n] for n in cls.needs if n in evidence}  # a snapshot: workers never see later changes
        return lambda: run_one(cls, video, settings, effective, inputs, prompt, backend=avail.backend)

    def finish(name: str, record: EvidenceRecord) -> None:
        key = pending_keys[name]
        if store is not None and record.usable and not record.cached:
            _cache_put(store, video_hash, record, key)
        evidence[name] = record
        # downstream keys see whether this one succeeded: a fallback computed without it is not reused later
        keys[name] = key if record.usable else f"{key}:{record.status}"

    needs = {name: dependencies(cls) for name, cls in classes.items()}
    threads = {name: cls.threads for name, cls in classes.items()}
    budget = workers if workers is not None else settings.workers
    costs = {name: float(cls.cost) for name, cls in classes.items()}
    for kind, name, record in schedule(order, needs, threads, budget, start, finish, chain_lengths(order, needs), costs):
        yield RunnerEvent(kind=f"operator_{kind}", operator=name, record=record, index=index[name], total=len(order))


def run_operators(video: DecodedVideo, settings: Settings, names: list[str] | None = None,
                  store: EvidenceCache | None = None, use_cache: bool = True,
                  params: dict[str, dict[str, Any]] | None = None, prompt: str | None = None,
                  on_event: Callable[[RunnerEvent], None] | None = None, prefer: dict[str, str] | None = None,
                  workers: int | None = None) -> dict[str, EvidenceRecord]:
    """Run operators and return {operator name: EvidenceRecord} in run order (see iter_operators)."""
    records: dict[str, EvidenceRecord] = {}
    for event in iter_operators(video, settings, names, store, use_cache, params, prompt, prefer, workers):
        if on_event is not None:
            on_event(event)
        if event["kind"] == "operator_done" and event["record"] is not None:
            records[event["operator"]] = event["record"]
    return records
