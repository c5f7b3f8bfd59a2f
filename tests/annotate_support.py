"""A small annotation world for the Annotate/Review tests: a suite of six cases, two models ("alpha", "beta")
with real synthetic clips and stored bench results (so a leaderboard source exists), stored evidence (probe and
shots) for the first case's clips, people with tokens, and optionally five cases already annotated, reviewed
and finalised through the service (so the suite's human figure rests on enough cases once one more is done).

Clips differ per model and case (different content hashes); the first case has a real clip of the prompt.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalverse.media.synthetic import cuts_clip, flicker_clip, pan_clip

MODELS = ("alpha", "beta")
SUITE = "demo"
SOURCE = "demo:evidence@1.0"
N_CASES = 6
PRESEEDED_DIMS = ["visual_quality", "lens", "lighting"]
PEOPLE = [("ann1", "annotator"), ("ann2", "annotator"), ("rev", "reviewer"), ("ann1", "reviewer"), ("aud", "auditor"),
          ("pre1", "annotator"), ("pre2", "annotator"), ("prerev", "reviewer"), ("preaud", "auditor")]
PAYLOAD_NOTE = '<img src=x onerror="window.__pwned=1"> fine <b>bold</b> ${window.__pwned=2} {{value}}'
MACHINE = {"alpha": {"visual_quality": 4.0, "lens": 2.0, "lighting": 3.0},
           "beta": {"visual_quality": 3.0, "lens": 3.0, "lighting": 2.0}}


@dataclass
class World:
    root: Path
    suite_path: Path
    suite: Any
    tokens: dict[str, str] = field(default_factory=dict)  # "name" (first role) or "name:role" -> token
    clips: dict[tuple[str, str], Path] = field(default_factory=dict)  # (model, case) -> clip
    truth: Path | None = None
    ui_task: str | None = None  # uid of the task left for the UI
    stats_before: dict | None = None


def make_clips(folder: Path) -> tuple[dict[tuple[str, str], Path], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    clips = {}
    for i in range(N_CASES):
        a, b = folder / "alpha" / f"c{i}.mp4", folder / "beta" / f"c{i}.mp4"
        a.parent.mkdir(exist_ok=True)
        b.parent.mkdir(exist_ok=True)
        if not a.exists():
            cuts_clip(a, cut_frames=(), n=60 + i)  # 2.4 s and more, one shot
        if not b.exists():
            pan_clip(b, px_per_frame=2.0 + i, n=75)  # 3 s
        clips[("alpha", f"c{i}")], clips[("beta", f"c{i}")] = a, b
    truth = folder / "truth_c0.mp4"
    if not truth.exists():
        flicker_clip(truth, amplitude=12.0, n=50)  # 2 s
    return clips, truth


def write_suite(path: Path, truth: Path) -> Path:
    lines = [json.dumps({"suite": {"name": SUITE, "description": "annotation demo"}})]
    for i in range(N_CASES):
        case = {"id": f"c{i}", "prompt": f"a slow <b>pan</b> over textured wall number {i} & {{{{value}}}} ${{1+1}}",
                "mode": "t2v"}
        if i == 0:
            case["ground_truth"] = str(truth)
        lines.append(json.dumps(case))
    path.write_text("\n".join(lines) + "\n")
    return path


def fill_bench(store, suite, clips) -> None:
    """Bench items and machine results as `bench run` stores them (one run per clip, three dimensions)."""
    from evalverse.media.hashing import sha256_file

    store.bench.register_suite(suite)
    tests = dict(zip(store.bench.cases(suite.name)["case_id"], store.bench.cases(suite.name)["test_case_id"]))
    for model in MODELS:
        for i, case in enumerate(suite.cases):
            path = clips[(model, case.id)]
            digest = sha256_file(path)
            run = store.start_run(digest, "evidence", "1.0", {}, {"k": 1})
            for dim, q in MACHINE[model].items():
                store.add_dimension_result(run, {"dimension": dim, "status": "scored", "score": q + 0.05 * i,
                                                 "backend": "evidence", "backend_version": "1.0"})
            store.finish_run(run)
            store.upsert_video(digest, str(path), None, model=model, test_case_id=int(tests[case.id]))
            store.bench.record_item({"suite": suite.name, "model": model, "judge": "evidence", "case_id": case.id,
                                     "seed": 0, "path": str(path), "video_hash": digest, "request_key": "r",
                                     "judge_version": "1.0", "status": "done", "run_id": run})


def store_evidence(store, settings, paths) -> None:
    """Probe, decode and shot detection for these clips, stored as the pipeline stores them."""
    from evalverse.pipeline import evidence_stream

    for p in paths:
        for _ in evidence_stream(p, settings, ["shots"], store=store):
            pass


def side_of(store, uid: str, model: str) -> str:
    task = store.get_task(uid)
    slot = next(o["slot"] for o in task["outputs"] if o["model"] == model)
    return "left" if task["display_order"][0] == slot else "right"


def build(root: Path, store, settings, *, preseed: bool = True, create: bool = True, n_boot: int = 200,
          clips_root: Path | None = None) -> World:
    """The world in `store`; clips under `clips_root` (default root/clips; made once, reused when there)."""
    from evalverse.bench.suite import load_suite
    from evalverse.bench.winratios import compute
    from evalverse.humans.roles import issue_token
    from evalverse.humans.service import AnnotationService
    from evalverse.humans.suite_tasks import create_suite_tasks

    clips, truth = make_clips(clips_root or root / "clips")
    suite = load_suite(write_suite(root / "demo.jsonl", truth))
    world = World(root=root, suite_path=root / "demo.jsonl", suite=suite, clips=clips, truth=truth)
    fill_bench(store, suite, clips)
    store_evidence(store, settings, [clips[("alpha", "c0")], clips[("beta", "c0")]])
    compute(store, SUITE, n_boot=n_boot)
    for name, role in PEOPLE:
        token = issue_token(store, name, role).token
        world.tokens.setdefault(name, token)
        world.tokens[f"{name}:{role}"] = token
    svc = AnnotationService(store, rng=random.Random(11))
    if preseed:
        for i in range(1, N_CASES):
            case = suite.cases[i]
            uid = svc.create_task({"case_key": case.id, "prompt": case.prompt, "suite": SUITE, "required": 2,
                                   "test_case_id": int(store.bench.cases(SUITE).set_index("case_id").loc[case.id, "test_case_id"]),
                                   "dimensions": PRESEEDED_DIMS,
                                   "outputs": [{"model": m, "video_path": str(clips[(m, case.id)])} for m in MODELS]})
            for who in ("pre1", "pre2"):
                assert svc.next_task(world.tokens[who]).uid == uid
                winner = "alpha" if (who == "pre1" or i % 2) else "beta"  # pre2 disagrees on even cases
                svc.submit(world.tokens[who], uid, [{"dimension": d, "choice": side_of(store, uid, winner), "seconds": 20}
                                                    for d in PRESEEDED_DIMS])
            for who in ("pre1", "pre2"):
                svc.review(world.tokens["prerev"], uid, who, "pass", "")
            audit = svc.audit_view(world.tokens["preaud"], uid)
            svc.finalise(world.tokens["preaud"], uid, {u: ("accept", "both defensible") for u in audit["needs_decision"]})
        compute(store, SUITE, n_boot=n_boot)
    if create:
        out = create_suite_tasks(svc, suite, list(MODELS), required=2)
        world.ui_task = out.created[0]["uid"] if out.created else None
    return world
