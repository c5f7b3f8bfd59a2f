"""Annotation tasks from a benchmark suite: one task per case that two or more of the chosen models have a
clip for, with the case's prompt, mode, reference and real clip (ground truth), and which dimensions apply
decided by the taxonomy's gates from each output's stored evidence.

Where the clips come from: the suite's bench items (`evalverse bench run`: the done item of each model and
case, lowest seed first), or, for a model, `clips` given by the caller (a submission folder scanned by the
CLI) instead of its bench items.
Evidence: the newest stored record per operator for the clip's content hash (`Store.latest_evidence`) and the
probe's metadata (`Store.get_video`), read into `GateFacts.collect`; an output without stored evidence has
only what the case itself says (prompt, mode, reference), so a gate that evidence would decide stays open.

Creating again is harmless: a case that already has a task for the same models in this suite is skipped.
The suite is duck-typed (`name`, `cases` with id, prompt, mode, reference, ground_truth), so this module does
not import the bench package; the store's `bench` repository gives the suite's test cases and items.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from evalverse.errors import InputError

Clip = tuple[str, str | None]  # (path, content hash or None)


@dataclass
class SuiteTasks:
    suite: str
    models: list[str]
    created: list[dict[str, Any]] = field(default_factory=list)  # uid, case, models, dimensions, gates_from
    existing: list[str] = field(default_factory=list)  # cases that already had a task for these models
    skipped: dict[str, str] = field(default_factory=dict)  # case -> why no task

    def as_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "models": self.models, "created": self.created, "existing": self.existing,
                "skipped": self.skipped}


def parse_models(text: str | Iterable[str]) -> list[str]:
    names = [m.strip() for m in (text.split(",") if isinstance(text, str) else text) if m and m.strip()]
    if len(names) < 2:
        raise InputError(f"--models needs two or more model names separated by commas, got {names or 'none'}")
    if len(set(names)) != len(names):
        raise InputError(f"--models names a model twice: {', '.join(names)}")
    return names


def bench_clips(store: Any, suite: str, models: list[str], judge: str | None = None) -> dict[str, dict[str, Clip]]:
    """{model: {case id: (path, hash)}} from the suite's done bench items (lowest seed per case)."""
    items = store.bench.items(suite=suite)
    out: dict[str, dict[str, Clip]] = {m: {} for m in models}
    if items.empty:
        return out
    done = items[(items["status"] == "done") & items["model"].isin(models)]
    if judge is not None:
        done = done[done["judge"] == judge]
    for row in done.sort_values(["model", "case_id", "seed", "judge"]).itertuples(index=False):
        out[row.model].setdefault(row.case_id, (str(row.path), row.video_hash if isinstance(row.video_hash, str) else None))
    return out


def gate_facts(store: Any, clip: Clip, prompt: str, mode: str, reference: Any) -> tuple[Any, str, str | None]:
    """(GateFacts for one output, what decided them: "evidence" or "case only", the clip's content hash)."""
    from evalverse.judge.gating import GateFacts
    from evalverse.media.types import VideoMeta
    from evalverse.operators.base import EvidenceRecord
    from evalverse.operators.evidence import Evidence

    path, digest = clip
    if digest is None and Path(path).is_file():
        from evalverse.media.hashing import sha256_file

        digest = sha256_file(path)
    records, meta = {}, None
    if digest is not None:
        for name, raw in store.latest_evidence(digest).items():
            try:
                records[name] = EvidenceRecord.model_validate(raw)
            except ValueError:  # a record of an older layout: that operator's facts stay unknown
                continue
        video = store.get_video(digest)
        if video and video.get("meta"):
            try:
                meta = VideoMeta.model_validate(video["meta"])
            except ValueError:
                meta = None
    facts = GateFacts.collect(Evidence(records, meta=meta), prompt=prompt, reference=reference, mode=mode)
    return facts, ("evidence" if records or meta is not None else "case only"), digest


def create_suite_tasks(service: Any, suite: Any, models: list[str], *, required: int = 3,
                       clips: Mapping[str, Mapping[str, Clip]] | None = None, judge: str | None = None,
                       dimensions: list[str] | None = None) -> SuiteTasks:
    """Create the suite's tasks for `models` through `service` (an AnnotationService); see the module docstring."""
    store = service.store
    models = parse_models(models)
    known = {s["name"] for s in store.bench.suites()}
    cases = store.bench.cases(suite.name) if suite.name in known else None
    if cases is None or set(c.id for c in suite.cases) - set(cases["case_id"]):
        store.bench.register_suite(suite)
        cases = store.bench.cases(suite.name)
    test_case = dict(zip(cases["case_id"], cases["test_case_id"]))
    found = bench_clips(store, suite.name, models, judge)
    for model, given in (clips or {}).items():
        if model not in found:
            raise InputError(f"clips were given for {model!r}, which is not one of --models {', '.join(models)}")
        found[model] = dict(given)  # instead of that model's bench items
    if not any(found.values()):
        raise InputError(f"no clips of {', '.join(models)} for suite {suite.name!r}: run `evalverse bench run --suite ... "
                         "--model M --videos DIR` for each model first, or pass --videos MODEL=DIR")
    existing = {(t["case_key"], frozenset(o["model"] for o in t["outputs"])) for t in store.annotation_tasks(suite=suite.name)}
    out = SuiteTasks(suite=suite.name, models=models)
    for case in suite.cases:
        have = [m for m in models if case.id in found[m]]
        if len(have) < 2:
            out.skipped[case.id] = (f"only {have[0]} has a clip" if have else "no model has a clip")
            continue
        if (case.id, frozenset(have)) in existing:
            out.existing.append(case.id)
            continue
        reference = str(case.reference) if case.reference else None
        facts, basis, hashes = [], set(), {}
        for m in have:
            f, b, hashes[m] = gate_facts(store, found[m][case.id], case.prompt, case.mode, reference)
            facts.append(f)
            basis.add(b)
        spec = {
            "case_key": case.id, "prompt": case.prompt, "mode": case.mode, "suite": suite.name,
            "test_case_id": int(test_case[case.id]) if case.id in test_case else None,
            "reference": [reference] if reference else [],
            "ground_truth": str(case.ground_truth) if case.ground_truth else None,
            "outputs": [{"model": m, "video_path": found[m][case.id][0], "video_hash": hashes[m]} for m in have],
            "required": required, "dimensions": dimensions,
        }
        uid = service.create_task(spec, facts)
        task = store.get_task(uid)
        out.created.append({"uid": uid, "case": case.id, "models": have, "dimensions": task["dimensions"],
                            "gates_from": " and ".join(sorted(basis))})
    return out
