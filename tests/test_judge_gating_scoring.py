"""Gating (which parts apply to a clip) and scoring (answers → sub-dimension → dimension)."""
from __future__ import annotations

from pathlib import Path

import pytest

from evalverse.errors import DataError
from evalverse.judge.gating import GateFacts, active_parts, gate_reason, prompt_calls_for
from evalverse.judge.scoring import aggregate, load_weights, question_score
from evalverse.taxonomy import Gate, load_taxonomy
from judge_records import evidence, meta as _meta, record, shots_record

TAX = load_taxonomy(Path(__file__).parent / "fixtures" / "judge_taxonomy.yaml")


def meta(**kw):
    return _meta(**({"width": 640, "height": 360, "coded_width": 640, "coded_height": 360, "has_audio": True,
                     "audio_silent": False, "acodec": "aac"} | kw))


def facts(m=None, records=(), n_shots=1, prompt=None, reference=None):
    recs = list(records) + ([shots_record([1.0] * n_shots)] if n_shots else [])
    return GateFacts.collect(evidence(*recs, m=m if m is not None else meta()), prompt, reference)


# ---- gates ------------------------------------------------------------------------------------------

def test_no_audio_stream_gates_sound_with_reason():
    a = active_parts(TAX.dimension("vocal"), facts(meta(has_audio=False, audio_silent=None, acodec=None)))
    assert a.gated and a.gate_reason == "no audible audio: the file has no audio stream"


def test_digital_silence_gates_sound():
    a = active_parts(TAX.dimension("vocal"), facts(meta(audio_silent=True)))
    assert a.gated and "digitally silent" in a.gate_reason


def test_audio_without_speech_gates_vocal_citing_numbers():
    quiet = [record("speech", voiced_s=0.2, n_words=0)]
    a = active_parts(TAX.dimension("vocal"), facts(records=quiet))
    assert a.gated and a.gate_reason == "no speech: speech operator: 0.2 s of voice activity, 0 words"
    talk = [record("speech", voiced_s=3.4, n_words=9)]
    assert not active_parts(TAX.dimension("vocal"), facts(records=talk)).gated
    # one transcribed word in a short voiced stretch still counts as speech
    assert not active_parts(TAX.dimension("vocal"), facts(records=[record("speech", voiced_s=0.3, n_words=1)])).gated


def test_speech_operator_skipped_means_no_speech():
    ev = [record("speech", status="skipped", message="the audio is digitally silent (peak -120 dBFS)")]
    a = active_parts(TAX.dimension("vocal"), facts(m=meta(audio_silent=None), records=ev))
    assert a.gated and "skipped" in a.gate_reason


def test_speech_evidence_missing_does_not_gate_and_says_so():
    ev = [record("speech", status="unavailable", message="no whisper")]
    a = active_parts(TAX.dimension("vocal"), facts(records=ev))
    assert not a.gated
    assert any("could not check needs_speech" in n for n in a.notes)


def test_multi_shot_gated_on_single_shot_only():
    a = active_parts(TAX.dimension("multi_shot_logic"), facts(n_shots=1))
    assert a.gated and a.gate_reason == "a single shot: 1 shot(s) detected"
    assert not active_parts(TAX.dimension("multi_shot_logic"), facts(n_shots=3)).gated
    unknown = active_parts(TAX.dimension("multi_shot_logic"), facts(n_shots=0))  # the shots operator did not run
    assert not unknown.gated and any("could not check needs_multi_shot (no shot detection)" in n for n in unknown.notes)


def test_no_face_gates_expression_unknown_face_does_not():
    ev = [record("faces", frames_with_face_ratio=0.0, max_faces=0, n_tracks=0)]
    a = active_parts(TAX.dimension("expression"), facts(records=ev, prompt="a happy man"))
    assert a.gated and a.gate_reason == "no visible face: faces operator: a face in 0% of sampled frames"
    passer_by = [record("faces", frames_with_face_ratio=0.05)]  # under the 10 % presence minimum of gating.yaml
    assert active_parts(TAX.dimension("expression"), facts(records=passer_by, prompt="a happy man")).gated
    a = active_parts(TAX.dimension("expression"), facts(prompt="a happy man"))
    assert not a.gated and any("needs_face" in n for n in a.notes)


def test_context_dependent_sub_dimension_follows_the_prompt():
    ev = [record("faces", frames_with_face_ratio=0.9)]
    calm = active_parts(TAX.dimension("expression"), facts(records=ev, prompt="a man stands at a bus stop at noon"))
    assert not calm.gated
    assert "expression_accuracy" in calm.skipped and [s.id for s, _ in calm.subs] == ["expression_dynamics"]
    sad = active_parts(TAX.dimension("expression"), facts(records=ev, prompt="a woman weeps as she reads the letter"))
    assert [s.id for s, _ in sad.subs] == ["expression_accuracy", "expression_dynamics"]
    unknown = active_parts(TAX.dimension("expression"), facts(records=ev, prompt=None))
    assert len(unknown.subs) == 2 and any("no prompt" in n for n in unknown.notes)


@pytest.mark.parametrize("context,prompt,expected", [
    ("the prompt describes an emotion", "A girl smiling under cherry blossoms", True),
    ("the prompt describes an emotion", "The person's whole face glowed with contentment", True),
    ("the prompt describes an emotion", "A red car on a mountain road", False),
    ("The prompt asks for music", "a pianist plays a slow melody", True),
    ("The prompt asks for music", "a quiet library", False),
    ("The prompt describes an emotional arc, build-up or climax", "calm at first, then she suddenly screams", True),
    ("requires a lighthouse", "a lighthouse on a cliff", True),  # no theme: shared content word
    ("requires a lighthouse", "a tree on a cliff", False),
])
def test_prompt_context_heuristics(context, prompt, expected):
    calls, why = prompt_calls_for(context, prompt)
    assert calls is expected, why
    assert why


def test_reference_gate():
    assert gate_reason(Gate.needs_reference, facts())[0] == "no reference image or video was given"
    assert gate_reason(Gate.needs_reference, facts(reference=Path("ref.png")))[0] is None


def test_camera_motion_from_shot_labels():
    still = [record("camera", dynamic_degree=0.9)]  # subject motion (dynamic degree) is not camera motion
    two = [{"index": 0, "start": 0.0, "end": 2.0, "label": "static", "handheld": False},
           {"index": 1, "start": 2.0, "end": 4.0, "label": "pan_left", "handheld": False}]
    moving = [record("camera", shots=two, n_shots=2, n_static_shots=1, n_moving_shots=1, dominant="pan_left")]
    assert gate_reason(Gate.needs_camera_motion, facts(records=still))[0] == \
        "a static camera: camera operator: 0 of 1 shot(s) move (static)"
    assert gate_reason(Gate.needs_camera_motion, facts(records=moving))[0] is None


def test_clips_too_short_for_motion_are_gated_with_the_minimum():
    for m in (meta(n_frames=1, duration_s=0.04), meta(n_frames=2, duration_s=1.0), meta(n_frames=12, duration_s=0.4)):
        reason, _ = gate_reason(Gate.needs_motion, facts(m=m))
        assert reason.startswith("too short to judge motion: ") and "motion needs at least 3 frames and 0.5 s" in reason
    assert gate_reason(Gate.needs_motion, facts(m=meta(n_frames=3, duration_s=0.5))) == (None, None)
    # 0 frames and 0 s: a header that states neither; the gate is not decided, the note says so
    reason, note = gate_reason(Gate.needs_motion, facts(m=meta(n_frames=0, duration_s=0.0)))
    assert reason is None and "could not check needs_motion" in note
    short = active_parts(TAX.dimension("visual_quality"), facts(m=meta(n_frames=1, duration_s=0.04)))
    assert not short.gated and "temporal_stability" in short.skipped
    assert [s.id for s, _ in short.subs] == ["rendering_quality"]


def test_every_motion_gated_node_of_the_real_taxonomy_closes_on_a_still():
    tax = load_taxonomy()
    still = facts(m=meta(n_frames=1, duration_s=0.04), records=[record("faces"), record("people")])
    gated = [n for d in tax.dimensions for n in [d, *d.sub_dimensions, *(q for s in d.sub_dimensions for q in s.questions)]
             if Gate.needs_motion in n.gates]
    assert {"consistency", "action", "pacing", "progression", "visual_quality_temporal_consistency",
            "expression_continuity", "vocal_lip_sync"} <= {n.id for n in gated}
    for dim_id in ("consistency", "action", "pacing", "progression"):
        a = active_parts(tax.dimension(dim_id), still)
        assert a.gated and "too short to judge motion" in a.gate_reason, dim_id


def test_av_only_dimension_on_silent_run_is_gated_even_without_explicit_gate():
    from evalverse.taxonomy.schema import Dimension
    dim = TAX.dimension("vocal").model_copy(update={"gates": ()})
    assert isinstance(dim, Dimension)
    a = active_parts(dim, facts(meta(has_audio=False, audio_silent=None)))
    assert a.gated and "applies to av tasks only" in a.gate_reason


# ---- scoring ----------------------------------------------------------------------------------------

def q(qid):
    return next(q for d in TAX.dimensions for s in d.sub_dimensions for q in s.questions if q.id == qid)


def test_question_scores_with_polarity_and_scale():
    assert question_score(q("vq_sharp"), True) == 1.0
    assert question_score(q("vq_sharp"), False) == 0.0
    assert question_score(q("vq_noise"), True) == 0.0  # negative polarity: "yes, there is noise" is bad
    assert question_score(q("vq_noise"), False) == 1.0
    assert question_score(q("vq_plastic"), 1) == 0.0
    assert question_score(q("vq_plastic"), 4) == 0.75
    assert question_score(q("vq_plastic"), None) is None
    with pytest.raises(ValueError):
        question_score(q("vq_plastic"), 6)
    with pytest.raises(ValueError):
        question_score(q("vq_sharp"), 0.5)


def test_aggregate_hand_worked():
    dim = TAX.dimension("visual_quality")
    # rendering: sharp yes (1), noise yes (0), plastic 4 (0.75) -> mean 1.75/3; temporal: flicker no (0)
    scores = {"vq_sharp": 1.0, "vq_noise": 0.0, "vq_plastic": 0.75, "vq_flicker": 0.0}
    agg = aggregate(dim, scores)
    rendering = 1.75 / 3
    assert agg.sub_scores["rendering_quality"] == pytest.approx(1 + 4 * rendering)
    assert agg.sub_scores["temporal_stability"] == pytest.approx(1.0)
    assert agg.mean == pytest.approx((rendering + 0.0) / 2)
    assert agg.score == pytest.approx(1 + 4 * (rendering / 2))
    assert agg.answered == 4


def test_aggregate_skips_unanswered_and_unasked():
    dim = TAX.dimension("visual_quality")
    agg = aggregate(dim, {"vq_sharp": 1.0, "vq_noise": None, "vq_flicker": None}, asked=["vq_sharp", "vq_noise", "vq_flicker"])
    assert agg.sub_scores == {"rendering_quality": 5.0, "temporal_stability": None}
    assert agg.score == 5.0 and agg.answered == 1 and agg.asked == 3
    none = aggregate(dim, {"vq_sharp": None})
    assert none.score is None and none.mean is None


def test_weights_file_changes_the_mean(tmp_path):
    from evalverse.judge.scoring import Weights
    dim = TAX.dimension("visual_quality")
    scores = {"vq_sharp": 1.0, "vq_noise": 0.0, "vq_flicker": 1.0}
    w = Weights(questions={"vq_sharp": 3.0}, sub_dimensions={"temporal_stability": 0.5})
    agg = aggregate(dim, scores, weights=w)
    rendering = (3 * 1.0 + 0.0) / 4
    assert agg.mean == pytest.approx((rendering * 1 + 1.0 * 0.5) / 1.5)
    bad = tmp_path / "w.yaml"
    bad.write_text("questions: {vq_sharp: 0}\n")
    with pytest.raises(DataError):
        load_weights(bad)
    with pytest.raises(DataError):
        Weights(questions={"nope": 1.0}).check_against(TAX)


def test_weights_are_reread_when_the_file_changes(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("questions: {vq_sharp: 2.0}\n")
    first = load_weights(path)
    path.write_text("questions: {vq_sharp: 3.0}\n")
    second = load_weights(path)
    assert (first.question("vq_sharp"), second.question("vq_sharp")) == (2.0, 3.0) and first.digest != second.digest


def test_shipped_weights_name_only_ids_of_the_real_taxonomy():
    load_weights().check_against(load_taxonomy())


def test_every_context_in_the_real_taxonomy_names_a_known_theme():
    from evalverse.judge.prompt_context import context_themes

    tax = load_taxonomy()
    nodes = [n for d in tax.dimensions for n in [d, *d.sub_dimensions, *(q for s in d.sub_dimensions for q in s.questions)]]
    contexts = [(n.id, n.context) for n in nodes if n.context]
    assert contexts
    for node_id, ctx in contexts:
        assert context_themes(ctx), f"{node_id}: context names no theme the prompt heuristics know: {ctx!r}"
