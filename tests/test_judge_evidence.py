"""The offline `evidence` judge: checks from typed operator evidence, coverage rule, gating, reflection."""
from __future__ import annotations

from pathlib import Path

import pytest

from evalverse.judge import JudgeContext, make_judge
from evalverse.judge.checks import CheckView, code_checks, load_checks, run_check
from evalverse.judge.reflection import contradictions
from evalverse.registry import REGISTRY
from evalverse.taxonomy import load_taxonomy
from judge_records import evidence, meta, record, shots_record

FIXTURES = Path(__file__).parent / "fixtures"
TAX = load_taxonomy(FIXTURES / "judge_taxonomy.yaml")
TEST_CHECKS = FIXTURES / "judge_checks.yaml"


def judge_dim(dim_id, records, m=None, prompt=None, taxonomy=TAX, checks=TEST_CHECKS):
    ctx = JudgeContext(taxonomy=taxonomy, meta=m or meta(), evidence={r.operator: r for r in records}, prompt=prompt)
    events = list(make_judge("evidence", checks=checks).judge(taxonomy.dimension(dim_id), ctx))
    return events, events[-1].data["result"]


def view(*records, m=None, prompt=None):
    return CheckView(evidence=evidence(*records, m=m if m is not None else meta()), prompt=prompt)


def test_scores_from_checks_with_polarity_and_coverage():
    q = record("quality", sharpness=50.0, noise_sigma=1.0, flicker={"detected": False})
    events, r = judge_dim("visual_quality", [q])
    assert r.status == "scored"
    by_id = {a.question_id: a for a in r.answers}
    assert by_id["vq_sharp"].answer is False and by_id["vq_sharp"].score == 0.0
    # vq_noise asks "is there noise?" (negative polarity); the check says noise is low -> answer "no" -> good
    assert by_id["vq_noise"].answer is False and by_id["vq_noise"].score == 1.0
    assert by_id["vq_plastic"].answerable is False and "needs a VLM" in by_id["vq_plastic"].basis
    assert by_id["vq_flicker"].answer is True
    # rendering: (0 + 1) / 2 answered = 0.5; temporal: 1.0 -> mean 0.75 -> 1 + 4 * 0.75 = 4.0
    assert r.score == pytest.approx(4.0)
    assert r.sub_scores == {"rendering_quality": pytest.approx(3.0), "temporal_stability": pytest.approx(5.0)}
    # the basis cites the measure, its value with the unit, and the threshold
    assert by_id["vq_sharp"].basis == "quality.sharpness 50 Laplacian variance at 720 px vs minimum 100"
    assert "3 of 4 questions answered" in r.rationale
    assert r.evidence_used == ["quality"]
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "reflection" in kinds and "score" in kinds
    assert kinds.count("question") == 4


def test_missing_evidence_means_not_judged_never_a_score():
    events, r = judge_dim("visual_quality", [record("quality", status="unavailable", message="no opencv")])
    assert r.status == "not_judged" and r.score is None
    assert r.gate_reason.startswith("needs a VLM: only 0 of 4")
    assert all(a.answer is None for a in r.answers)
    assert any("quality evidence is unavailable (no opencv)" in a.basis for a in r.answers)


def test_one_answer_is_too_little():
    # expression: ex_matches is gated off by a calm prompt, ex_moves names a check listed as unimplemented
    _, r = judge_dim("expression", [record("faces")], prompt="a woman reads quietly")
    assert r.status == "not_judged" and r.score is None
    assert "only 0 of 1" in r.gate_reason and "at least 2 needed" in r.gate_reason
    (ans,) = r.answers
    assert ans.basis == "not answerable: deliberately left unimplemented in the test fixture"


def test_gated_dimension_yields_gate_event_and_no_score():
    events, r = judge_dim("vocal", [], m=meta(has_audio=False))
    assert r.status == "gated" and r.score is None and r.gate_reason == "no audible audio: the file has no audio stream"
    assert [e.kind for e in events] == ["start", "gate", "done"]


def test_a_taxonomy_check_that_resolves_to_nothing_stops_the_judge(tmp_path):
    bad = tmp_path / "checks.yaml"
    bad.write_text(TEST_CHECKS.read_text().replace("  test.face_moves: deliberately left unimplemented in the test fixture\n", ""))
    from evalverse.errors import DataError

    with pytest.raises(DataError, match="test.face_moves"):
        judge_dim("expression", [record("faces")], prompt="a woman reads quietly", checks=bad)


def test_reflection_flags_contradicting_operators():
    ev = {"faces": record("faces", frames_with_face_ratio=0.9), "people": record("people", person_fraction=0.0),
          "speech": record("speech", voiced_s=3.0, n_words=8), "audio": record("audio", status="skipped")}
    flags = contradictions(ev, meta(has_audio=True, audio_silent=False))
    assert any("faces found a face in 90%" in f and "people (mediapipe_pose)" in f for f in flags)
    assert any("3.0 s of voice activity but the audio is reported silent" in f for f in flags)
    agree = {"faces": record("faces", frames_with_face_ratio=0.9), "people": record("people", person_fraction=0.8)}
    assert contradictions(agree, meta()) == []


def test_reflection_static_camera_but_changing_picture():
    ev = {"camera": record("camera"), "features": record("features", first_to_last=0.3)}
    (flag,) = contradictions(ev, meta())
    assert "first and last frames are only 0.30 similar" in flag
    assert contradictions({"camera": record("camera"), "features": record("features", first_to_last=0.7)}, meta()) == []


# ---- the real taxonomy and the real checks ----------------------------------------------------------

def test_every_check_in_the_taxonomy_resolves_and_none_is_stale():
    tax, checks = load_taxonomy(), load_checks()
    checks.check_against(tax)  # raises when a taxonomy check is neither data, code, nor unimplemented
    names = {q.check for d in tax.dimensions for s in d.sub_dimensions for q in s.questions if q.check}
    stale = sorted(checks.names() - names)
    assert not stale, f"checks.yaml defines checks the taxonomy no longer names: {stale}"
    kinds = {k.id for k in tax.evidence_kinds}
    assert {n.split(".")[0] for n in checks.names()} <= kinds


def test_code_checks_live_in_the_one_registry_with_their_entries():
    registered = code_checks()
    assert set(registered) == set(load_checks().code)
    for name, cls in registered.items():
        assert REGISTRY.get("check", name) is cls and cls.kind == "check" and cls.version and cls.description
        assert cls.reads, name


def test_data_checks_on_planted_numbers():
    low_res = view(record("quality", sharpness=500.0), m=meta(width=256, height=256))
    sharp = run_check("quality.sharpness_adequate", low_res)
    assert sharp.answer is False and "metadata.short_side 256 px vs minimum 480" in sharp.basis
    assert sharp.operators == ["quality"]
    flicker = view(record("quality", flicker={"detected": True, "flicker_index": 0.04, "luma_jump_max": 30.0}))
    res = run_check("quality.no_exposure_flicker", flicker)
    assert res.answer is False and "quality.flicker.detected: yes (wanted: no)" in res.basis
    assert "quality.flicker.flicker_index 0.04 ratio" in res.basis and "luma_jump_max 30 luma levels" in res.basis
    shots = view(shots_record([2.0, 0.3, 3.7]))
    dur = run_check("shots.shot_durations_reasonable", shots)
    assert dur.answer is False and "shots.min_shot_s 0.3 s vs minimum 0.5" in dur.basis
    assert run_check("shots.cut_tempo_varies", shots).answer is True
    two = run_check("shots.cut_tempo_varies", view(shots_record([2.0, 2.0])))
    assert two.answer is None and two.basis.startswith("not answerable: two shots: too few")
    lips = view(record("lipsync", offset_ms=200.0, detectable=True, envelope={"peak_corr": 0.5}))
    off = run_check("lipsync.offset_small", lips)
    assert off.answer is False and "lipsync.offset_ms 200 ms" in off.basis
    assert run_check("lipsync.mouth_tracks_loudness", lips).answer is True
    none = run_check("audio.no_clipping", view())
    assert none.answer is None and none.basis == "not answerable: the audio operator did not run"
    unimpl = run_check("quality.subject_in_focus", view())
    assert unimpl.answer is None and unimpl.basis.startswith("not answerable: quality measures")


def test_preconditions_exemptions_and_any_of():
    nobody = run_check("people.subject_prominent", view(record("people", person_fraction=0.0, subject_prominence=0.0)))
    assert nobody.answer is None and "the people operator saw no person" in nobody.basis
    grey = run_check("colour.saturation_balanced", view(record("colour", grayscale=True, saturation_mean=0.01)))
    assert grey.answer is True and grey.basis.startswith("black and white by design")
    garish = run_check("colour.saturation_balanced", view(record("colour", saturation_mean=0.9)))
    assert garish.answer is False and "vs band 0.08 to 0.75" in garish.basis
    brows_only = record("faces", expression={"mouth_open": {"range": 0.01}, "brow_raise": {"range": 0.05}})
    varies = run_check("faces.expression_varies", view(brows_only))
    assert varies.answer is True and varies.basis.startswith("either suffices")
    no_mesh = record("faces", expression={"mouth_open": {"range": None}, "brow_raise": {"range": None}})
    assert run_check("faces.expression_varies", view(no_mesh)).basis.startswith("not answerable: no face mesh")


def test_per_backend_thresholds():
    ev = record("features", mean_to_previous_in_shot=0.8)
    classical = run_check("features.temporal_consistency_high", view(ev))
    assert classical.answer is True and "minimum 0.75 for the classical backend" in classical.basis
    dino = run_check("features.temporal_consistency_high", view(record("features", backend="dinov2",
                                                                       mean_to_previous_in_shot=0.8)))
    assert dino.answer is False and "minimum 0.85 for the dinov2 backend" in dino.basis


def test_where_names_the_times_of_the_defects():
    f = record("faces", n_identity_switches=2, identity_switches=[{"track": 0, "time": 1.5, "distance": 0.8},
                                                                  {"track": 0, "time": 3.25, "distance": 0.9}])
    res = run_check("faces.identity_stable", view(f))
    assert res.answer is False and "at 1.50 s, 3.25 s" in res.basis


def test_code_checks_on_planted_evidence():
    two_shots = [{"index": 0, "start": 0.0, "end": 2.0, "label": "static", "handheld": False},
                 {"index": 1, "start": 2.0, "end": 4.0, "label": "pan_right", "movements": ["pan_right"], "handheld": True}]
    cam = record("camera", shots=two_shots, n_shots=2, n_static_shots=1, n_moving_shots=1, n_handheld_shots=1)
    assert run_check("camera.static_dynamic_mix", view(cam)).answer is True
    shake = run_check("camera.no_unintended_shake", view(cam, prompt="a city street"))
    assert shake.answer is False and "shot 1 (2.00 s-4.00 s)" in shake.basis
    assert run_check("camera.no_unintended_shake", view(cam, prompt="hand-held footage of a street")).answer is True
    assert run_check("camera.motion_matches_prompt", view(cam, prompt="the camera pans across a bay")).answer is True
    assert run_check("camera.motion_matches_prompt", view(cam, prompt="a slow zoom in")).answer is False
    no_move = run_check("camera.motion_matches_prompt", view(cam, prompt="a cat"))
    assert no_move.basis == "not answerable: the prompt names no camera movement"
    size = run_check("people.shot_size_matches_prompt", view(record("people", shot_size="wide"), prompt="a close-up of a face"))
    assert size.answer is False and "prompt asks for close up, the framing measures wide" in size.basis
    near = view(record("people", shot_size="medium"), prompt="a close-up of a face")
    assert run_check("people.shot_size_matches_prompt", near).answer is True
    masked = run_check("audio.speech_not_masked", view(record("audio", speech_share=0.2, music_share=0.6)))
    assert masked.answer is False and "music takes 75%" in masked.basis
    one_shot = run_check("colour.palette_consistent", view(record("colour", colourfulness_cv=0.4)))
    assert one_shot.answer is False and "one shot: colour.colourfulness_cv 0.4" in one_shot.basis
    shots = run_check("colour.palette_consistent", view(record("colour", palette_consistency={"score": 0.8, "mean_delta_e": 10.0})))
    assert shots.answer is True and "colour.palette_consistency.score 0.8" in shots.basis


def test_identity_across_shots():
    idents = [{"id": 0, "tracks": [0, 2], "shots": [0, 1], "screen_time_s": 3.0, "across_shot_similarity": 0.9}]
    f = record("faces", n_tracks=2, identities=idents, n_shots_with_faces=2, n_recurring_identities=1)
    res = run_check("faces.identity_consistent_across_shots", view(f))
    assert res.answer is True and "identity 0 in shots [0, 1]" in res.basis and "0.9" in res.basis
    strangers = [{"id": 0, "shots": [0], "screen_time_s": 1.0}, {"id": 1, "shots": [1], "screen_time_s": 1.0}]
    res = run_check("faces.identity_consistent_across_shots", view(record("faces", n_tracks=2, identities=strangers)))
    assert res.answer is None and "none recurs" in res.basis


def test_reflection_reads_only_the_operators_the_verdict_rests_on():
    """Regression: reflection read every record present, so its flags depended on which operators the scheduler
    had finished when the dimension was judged. A contradiction between faces and people is not a visual
    quality matter; the verdict that used only quality gets none, whenever it is judged."""
    contradicting = [record("faces", frames_with_face_ratio=0.9), record("people", person_fraction=0.0)]
    q = record("quality", sharpness=300.0, noise_sigma=1.0, flicker={"detected": False})
    _, early = judge_dim("visual_quality", [q])
    _, late = judge_dim("visual_quality", [q, *contradicting])
    assert early.reflection == late.reflection and "faces found a face" not in late.reflection


def test_reflection_names_the_damaged_stretches_a_verdict_rests_on():
    from evalverse.media.types import DamagedSpan

    damaged = meta(n_frames=135, decoded_frames=120, undecodable_frames=15, decode_errors=15,
                   damaged_spans=[DamagedSpan(start=2.72, end=4.52, undecodable=15)])
    q = record("quality", sharpness=300.0, noise_sigma=1.0, flicker={"detected": False})
    _, r = judge_dim("visual_quality", [q], m=damaged)
    assert "computed on a damaged picture (15 frame(s) missing or corrupt, at 2.72-4.52 s)" in r.reflection
    _, clean = judge_dim("visual_quality", [q])
    assert "damaged" not in clean.reflection
