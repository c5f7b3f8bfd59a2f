"""Reward API: the pipeline's per-dimension scores for a batch of clips as dense vectors, for training loops.

    from evalverse import reward
    out = reward.score(["a.mp4", "b.mp4"], prompts=["a chef plates a dish", "a cat"], dimensions=["visual_quality"])
    out[0]["vector"], out[0]["overall"], out[0]["provenance"]

Per clip: `dimensions` (ids, in the order asked), `vector` (each dimension's score mapped from the taxonomy's
score scale onto [0, 1]; None where the judge gave no score: gated, not judged, error), `mask` (1 where
scored), `raw` (scores on the 1–5 scale), `status`, `overall` (the flat mean of the scored entries, the
leaderboard's aggregation rule; None when nothing was scored), `seconds`, `cached`, `error` (one bad clip
is an error in its own entry, never an exception for the batch) and `provenance` (the diagnosis's
provenance: data-file hashes, operators with their backends and parameters, judge, settings and
the provenance hash its stored run carries; plus run id and EvalVerse version).

Batched: the clips go through the same engines as `bench run` (`workers` processes keep imports and models
warm between calls of one `Scorer`); results are cached in `store` (default: an in-memory store per Scorer).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from evalverse.bench.engines import make_engine
from evalverse.bench.submission import WorkItem
from evalverse.bench.worker import Job, replay, snapshot_for
from evalverse.config import Settings
from evalverse.errors import InputError

MAX_BATCH = 256


def _as_list(value: Any, n: int, what: str) -> list[Any]:
    if value is None or isinstance(value, (str, Path)):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise InputError(f"{what} must be one value or one per video ({n}); got {len(values)}")
    return values


class Scorer:
    def __init__(self, settings: Settings | None = None, *, judge: str = "evidence", workers: int = 1,
                 engine: str = "local", store: Any = None, judge_options: dict[str, Any] | None = None,
                 use_cache: bool = True) -> None:
        from evalverse.store import Store

        self.settings = settings or Settings.from_env()
        self.judge, self.workers, self.engine_name = judge, workers, engine
        self.judge_options, self.use_cache = dict(judge_options or {}), use_cache
        self._own_store = store is None
        self.store = store if store is not None else Store.memory()
        self._engines: dict[str, Any] = {}

    def _engine(self, job: Job):
        key = job.request_key() + str(job.use_cache)
        if key not in self._engines:
            self._engines[key] = make_engine(self.engine_name, self.settings, job, self.workers)
        return self._engines[key]

    def score(self, videos: Sequence[str | Path], prompts: Sequence[str | None] | str | None = None,
              dimensions: Sequence[str] | str | None = None, modes: Sequence[str] | str | None = None,
              references: Sequence[str | Path | None] | str | None = None) -> list[dict[str, Any]]:
        from evalverse.media.hashing import sha256_file
        from evalverse.pipeline import resolve_dimensions
        from evalverse.taxonomy import load_taxonomy

        videos = [videos] if isinstance(videos, (str, Path)) else list(videos)
        if not videos:
            return []
        if len(videos) > MAX_BATCH:
            raise InputError(f"at most {MAX_BATCH} videos per call; got {len(videos)} (split the batch)")
        tax = load_taxonomy()
        dims = [d.id for d in resolve_dimensions(tax, dimensions)]
        n = len(videos)
        prompts, modes, refs = _as_list(prompts, n, "prompts"), _as_list(modes or "t2v", n, "modes"), _as_list(references, n, "references")
        job = Job(judge=self.judge, dimensions=tuple(dims), judge_options=self.judge_options, use_cache=self.use_cache)
        out: list[dict[str, Any] | None] = [None] * n
        items: dict[str, tuple[int, WorkItem]] = {}
        tasks = []
        for i, video in enumerate(videos):
            item = WorkItem(case_id=f"v{i}", seed=0, path=Path(video).expanduser(), prompt=prompts[i], mode=modes[i] or "t2v",
                            reference=Path(refs[i]).expanduser() if refs[i] else None)
            try:
                digest = sha256_file(item.path)
            except OSError as exc:
                out[i] = _entry(i, item, dims, error=f"{item.path}: cannot be read ({exc.strerror or exc})")
                continue
            items[item.key] = (i, item)
            tasks.append((item, snapshot_for(self.store, digest)))
        for outcome in self._engine(job).map(tasks):
            i, item = items[outcome.key]
            if outcome.report is None:
                out[i] = _entry(i, item, dims, error=outcome.error, seconds=outcome.seconds)
                continue
            ids = replay(self.store, outcome.calls)
            report = outcome.report
            run_id = ids.get(int(report["run_id"]), int(report["run_id"])) if report.get("run_id") is not None else None
            out[i] = _entry(i, item, dims, report=report, run_id=run_id, seconds=outcome.seconds,
                            scale=tuple(tax.score_scale))
        return [o for o in out if o is not None]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
        self._engines = {}
        if self._own_store:
            self.store.close()

    def __enter__(self) -> "Scorer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _entry(i: int, item: WorkItem, dims: list[str], *, report: dict | None = None, run_id: int | None = None,
           error: str | None = None, seconds: float = 0.0, scale: tuple[float, float] = (1.0, 5.0)) -> dict[str, Any]:
    import evalverse

    by_dim = {r["dimension"]: r for r in (report or {}).get("results", [])}
    low, high = scale
    raw = {d: by_dim.get(d, {}).get("score") for d in dims}
    vector = [None if raw[d] is None else round((float(raw[d]) - low) / (high - low), 6) for d in dims]
    scored = [v for v in vector if v is not None]
    return {
        "index": i, "video": str(item.path), "prompt": item.prompt, "content_hash": (report or {}).get("content_hash"),
        "dimensions": dims, "vector": vector, "mask": [int(v is not None) for v in vector], "raw": raw,
        "status": {d: by_dim.get(d, {}).get("status", "error" if error else "not_judged") for d in dims},
        "overall": round(sum(scored) / len(scored), 6) if scored else None, "n_scored": len(scored),
        "seconds": round(seconds, 3), "cached": bool((report or {}).get("cached")), "error": error,
        # the diagnosis's own provenance (data hashes, operators with backends and parameters, judge, settings,
        # hash: the same one its stored run and results carry), plus how the vector was made from it
        "provenance": None if report is None else {
            **(report.get("provenance") or {}), "evalverse": evalverse.__version__, "run_id": run_id,
            "score_scale": list(scale), "vector": "(score - low) / (high - low)",
        },
    }


def score(videos: Sequence[str | Path] | str | Path, prompts: Sequence[str | None] | str | None = None,
          dimensions: Sequence[str] | str | None = None, judge: str = "evidence", **options: Any) -> list[dict[str, Any]]:
    """Score a batch once (see the module docstring); for repeated calls keep a `Scorer` open instead.
    `options`: settings, workers, engine, store, judge_options, use_cache (Scorer's), modes, references."""
    call = {k: options.pop(k) for k in ("modes", "references") if k in options}
    with Scorer(judge=judge, **options) as scorer:
        return scorer.score(videos, prompts=prompts, dimensions=dimensions, **call)
