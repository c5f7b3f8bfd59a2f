"""The motion gate end to end: a clip of two frames is too short to judge motion, so every part that needs
motion is gated with the minimum stated, while what a single frame can show is still judged."""
from __future__ import annotations

from evalverse.judge.gating_data import load_gating
from evalverse.media.synthetic import pan_clip
from evalverse.pipeline import diagnose


def test_a_two_frame_clip_gates_motion_and_keeps_the_rest(settings, tmp_path):
    short = pan_clip(tmp_path / "two.mp4", n=2).path
    report = diagnose(short, settings, dimensions=["pacing", "visual_quality"], prompt="the camera pans over a field")
    by_dim = {r["dimension"]: r for r in report["results"]}
    motion = load_gating().motion
    reason = (f"too short to judge motion: 2 frame(s), 0.08 s (motion needs at least {motion.frames.value:.0f} frames "
              f"and {motion.duration.value:g} s)")
    assert by_dim["pacing"]["status"] == "gated" and by_dim["pacing"]["gate_reason"] == reason
    vq = by_dim["visual_quality"]
    assert vq["status"] == "scored"  # sharpness, noise and blocking need one frame only
    assert f"visual_quality_temporal_consistency ({reason})" in vq["rationale"]
    assert not any(a["question_id"].startswith("visual_quality_temporal_consistency") for a in vq["answers"])


def test_a_long_enough_pan_is_judged_for_motion(settings, tmp_path):
    clip = pan_clip(tmp_path / "pan.mp4", n=25).path
    report = diagnose(clip, settings, dimensions=["pacing"], prompt="the camera pans over a field")
    (pacing,) = report["results"]
    assert pacing["status"] != "gated", pacing["gate_reason"]
    assert "too short to judge motion" not in pacing["rationale"]
