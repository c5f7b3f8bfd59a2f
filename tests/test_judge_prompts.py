"""Prompts are built from the taxonomy; snapshot tests pin their exact text.

Regenerate the snapshots after an intended change with
    EVALVERSE_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_judge_prompts.py
A missing snapshot fails (it is never written silently).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from evalverse.judge.gating import GateFacts, active_parts
from evalverse.judge.prompts import MAX_EVIDENCE_CHARS, build_prompt, compact, evidence_json
from evalverse.media.types import VideoMeta
from evalverse.operators.evidence import Evidence
from evalverse.taxonomy import load_taxonomy
from judge_records import record, shots_record

HERE = Path(__file__).parent
SNAPSHOTS = HERE / "snapshots"
TAX = load_taxonomy(HERE / "fixtures" / "judge_taxonomy.yaml")
META = VideoMeta(path="clip.mp4", content_hash="h", size_bytes=1, container="mp4", duration_s=4.0, fps=24.0, n_frames=96,
                 width=1280, height=720, coded_width=1280, coded_height=720, vcodec="h264", has_audio=False)
SHOTS_RECORD = shots_record([4.0], fps=24.0)
EVIDENCE = {
    "shots": SHOTS_RECORD,
    "quality": record("quality", sharpness=412.3456, noise_sigma=1.23456, blockiness=1.02, sharpness_stills=[400.0, 410.5, 420.25],
                      flicker={"flicker_index": 0.00412, "detected": False},
                      exposure={"luma_series": {"times": [i / 10 for i in range(40)], "values": [100 + i % 3 for i in range(40)]}}),
    "faces": record("faces", status="unavailable", message="mediapipe missing"),
}
UPDATE = "EVALVERSE_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_judge_prompts.py"


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("EVALVERSE_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"snapshot {path} is missing; if the prompt is as intended, write it with: {UPDATE}")
    assert text == path.read_text(encoding="utf-8"), f"prompt changed; if intended, regenerate with: {UPDATE} ({path})"


def prompt_for(dim_id: str, prompt_text: str | None, evidence=EVIDENCE):
    ev = Evidence(evidence, meta=META)
    active = active_parts(TAX.dimension(dim_id), GateFacts.collect(ev, prompt_text))
    return build_prompt(active, TAX, meta=META, evidence=ev, shots=ev.shots(), prompt=prompt_text, mode="t2v",
                        frame_times=[0.0, 1.0, 2.0, 3.0])


def test_a_missing_snapshot_fails_with_the_command_to_write_it(monkeypatch, tmp_path):
    monkeypatch.setitem(globals(), "SNAPSHOTS", tmp_path)
    monkeypatch.delenv("EVALVERSE_UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="is missing; .*EVALVERSE_UPDATE_SNAPSHOTS=1"):
        check_snapshot("nope.txt", "text")
    assert not (tmp_path / "nope.txt").exists()


def test_visual_quality_prompt_snapshot():
    p = prompt_for("visual_quality", "A lighthouse at dusk, slow pan")
    check_snapshot("prompt_visual_quality.system.txt", p.system)
    check_snapshot("prompt_visual_quality.user.txt", p.user)
    assert p.question_ids == ("vq_sharp", "vq_noise", "vq_plastic", "vq_flicker")


def test_expression_prompt_lists_gated_parts_and_missing_evidence():
    p = prompt_for("expression", "A man waits for a bus")
    check_snapshot("prompt_expression.user.txt", p.user)
    assert "expression_accuracy: the prompt does not call for emotion" in p.user
    assert "[ex_matches]" not in p.user and "[ex_moves]" in p.user
    assert '"faces":{"status":"unavailable","message":"mediapipe missing"}' in p.user


def test_every_question_of_the_dimension_comes_from_the_taxonomy():
    p = prompt_for("visual_quality", None)
    for sub in TAX.dimension("visual_quality").sub_dimensions:
        assert f"## {sub.name} ({sub.id}): {sub.description}" in p.user
        for q in sub.questions:
            assert f"[{q.id}]" in p.user and q.text in p.user
    assert '"yes" marks a defect' in p.user  # vq_noise has negative polarity
    assert "Generation prompt: none given." in p.user
    assert "Self-reflection:" in p.system and "```json" in p.system


def test_real_taxonomy_prompts_build_for_every_dimension():
    tax = load_taxonomy()
    ev = Evidence({"shots": shots_record([2.0, 2.0], fps=24.0)}, meta=META)
    facts = GateFacts.collect(ev, "a woman laughs, then cries, as music swells")
    for dim in tax.dimensions:
        active = active_parts(dim, facts)
        if active.gated:
            continue
        p = build_prompt(active, tax, meta=META, evidence=ev, shots=ev.shots(), prompt="x", mode="t2v")
        assert set(p.question_ids) == {q.id for q in active.questions}
        assert len(p.user) < 20_000


def test_compact_rounds_summarises_and_caps():
    out = compact({"a": 1.23456789, "b": list(range(100)), "c": [{"x": i} for i in range(20)], "d": float("nan"),
                   "e": np.float32(2.5), "f": np.arange(3), "s": "x" * 500})
    assert out["a"] == 1.23 and out["b"] == {"n": 100, "mean": 49.5, "min": 0, "max": 99}
    assert len(out["c"]) == 9 and out["c"][-1] == "… 12 more"
    assert out["d"] is None and out["e"] == 2.5 and out["f"] == [0, 1, 2] and len(out["s"]) == 200
    long_series = {"times": [i / 100 for i in range(5000)], "values": [float(i % 7) for i in range(5000)]}
    stills = [float(i) for i in range(3000)]
    big = {"quality": record("quality", sharpness_stills=stills, exposure={"luma_series": long_series},
                             colour_temperature={"series": long_series})}
    text = evidence_json(["quality"], big, None, None)
    assert len(text) <= MAX_EVIDENCE_CHARS
    summary = json.loads(text)["quality"]
    assert summary["sharpness_stills"] == {"n": 3000, "mean": 1.5e3, "min": 0, "max": 3e3}
