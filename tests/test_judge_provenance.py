"""The judge's data hashes reach the run's provenance: one changed threshold, gate minimum or word list makes
the next diagnosis of the same clip recompute instead of coming back from the cache with the old verdict."""
from __future__ import annotations

import yaml

from evalverse.judge.checks import data as checks_data
from evalverse.judge import gating_data
from evalverse.media.synthetic import silent_audio_clip
from evalverse.pipeline import diagnose
from evalverse.store import Store


def test_editing_one_threshold_recomputes_the_next_diagnosis(settings, tmp_path, monkeypatch):
    clip = silent_audio_clip(tmp_path / "card.mp4", seconds=1.0, size=(640, 480)).path  # textured, SD, sharp enough
    checks = tmp_path / "checks.yaml"
    checks.write_text(checks_data.CHECKS_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(checks_data, "CHECKS_PATH", checks)
    store = Store.memory()
    first = diagnose(clip, settings, dimensions=["visual_quality"], store=store)
    again = diagnose(clip, settings, dimensions=["visual_quality"], store=store)
    assert again["cached"] and again["run_id"] == first["run_id"]

    raw = yaml.safe_load(checks.read_text(encoding="utf-8"))
    raw["checks"]["quality.sharpness_adequate"]["all"][0]["threshold"] = 10_000.0  # now the same card is too soft
    checks.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    edited = diagnose(clip, settings, dimensions=["visual_quality"], store=store)
    assert not edited["cached"] and edited["run_id"] != first["run_id"]
    (before,), (after,) = first["results"], edited["results"]
    sharp = "visual_quality_rendering_quality_q1"
    assert {a["question_id"]: a["answer"] for a in before["answers"]}[sharp] is True
    assert {a["question_id"]: a["answer"] for a in after["answers"]}[sharp] is False
    assert after["score"] < before["score"]


def test_editing_a_gate_minimum_recomputes_too(settings, tmp_path, monkeypatch):
    clip = silent_audio_clip(tmp_path / "grey.mp4", seconds=1.0).path
    gating = tmp_path / "gating.yaml"
    gating.write_text(gating_data.GATING_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(gating_data, "GATING_PATH", gating)
    store = Store.memory()
    first = diagnose(clip, settings, dimensions=["visual_quality"], store=store)
    raw = yaml.safe_load(gating.read_text(encoding="utf-8"))
    raw["motion"]["duration"]["value"] = 2.0  # now a 1 s clip is too short for motion
    gating.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    edited = diagnose(clip, settings, dimensions=["visual_quality"], store=store)
    assert not edited["cached"]
    (result,) = edited["results"]
    assert "too short to judge motion" in result["rationale"] and "0.5 s" not in result["rationale"]
    assert first["results"][0]["rationale"].count("too short to judge motion") == 0
