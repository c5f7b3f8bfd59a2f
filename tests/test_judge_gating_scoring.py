"""Gating (which parts apply to a clip) and scoring (answers → sub-dimension → dimension)."""
from __future__ import annotations

from pathlib import Path

import pytest

from evalverse.errors import DataError
from evalverse.judge.gating import GateFacts, active_parts, prompt_calls_for
from evalverse.judge.scoring import aggregate, load_weights, question_score
from evalverse.media.types import Shot, VideoMeta
from evalverse.operators.base import EvidenceRecord
from evalverse.taxonomy import load_taxonomy

TAX = load_taxonomy(Path(__file__).parent / "fixtures" / "judge_taxonomy.yaml")


def meta(**kw) -> VideoMeta:
    base = dict(path="x.mp4", content_hash="h", size_bytes=1, container="mp4", duration_s=4.0, fps=25.0, n_frames=100,
                width=640, height=360, coded_width=640, coded_height=360, vcodec="h264", has_audio=True,
                audio_silent=False, acodec="aac")
    return VideoMeta(**(base | kw))


def rec(op: str, status: str = "ok", message: str | None = None, **results) -> EvidenceRecord:
    return EvidenceRecord(operator=op, version="1", status=status, message=message, results=results)


def shots(n: int) -> list[Shot]:
    return [Shot(index=i, start=i, end=i + 1, start_frame=25 * i, end_frame=25 * (i + 1)) for i in range(n)]


def facts(m=None, ev=None, n_shots=1, prompt=None, reference=None):
    return GateFacts.collect(m if m is not None else meta(), ev or {}, shots(n_shots), prompt, reference)


# ---- gates ------------------------------------------------------------------------------------------

def test_no_audio_stream_gates_sound_with_reason():
    a = active_parts(TAX.dimension("vocal"), facts(meta(has_audio=False, audio_silent=None, acodec=None)))
    assert a.gated and a.gate_reason == "no audible audio: the file has no audio stream"


def test_digital_silence_gates_sound():
    a = active_parts(TAX.dimension("vocal"), facts(meta(audio_silent=True)))
    assert a.gated and "digitally silent" in a.gate_reason


def test_audio_without_speech_gates_vocal_citing_numbers():
    ev = {"speech": rec("speech", voiced_s=0.2, n_words=0)}
    a = active_parts(TAX.dimension("vocal"), facts(ev=ev))
    assert a.gated and a.gate_reason == "no speech: speech operator: 0.2 s of voice activity, 0 words"
    ev = {"speech": rec("speech", voiced_s=3.4, n_words=9)}
    assert not active_parts(TAX.dimension("vocal"), facts(ev=ev)).gated


def test_speech_operator_skipped_means_no_speech():
    ev = {"speech": rec("speech", status="skipped", message="the audio is digitally silent (peak -120 dBFS)")}
    a = active_parts(TAX.dimension("vocal"), facts(m=meta(audio_silent=None), ev=ev))
    assert a.gated and "skipped" in a.gate_reason


def test_speech_evidence_missing_does_not_gate_and_says_so():
    ev = {"speech": rec("speech", status="unavailable", message="no whisper")}
    a = active_parts(TAX.dimension("vocal"), facts(ev=ev))
    assert not a.gated
    assert any("could not check needs_speech" in n for n in a.notes)


def test_multi_shot_gated_on_single_shot_only():
    a = active_parts(TAX.dimension("multi_shot_logic"), facts(n_shots=1))
    assert a.gated and a.gate_reason.startswith("a single shot: 1 shot(s)")
    assert not active_parts(TAX.dimension("multi_shot_logic"), facts(n_shots=3)).gated


def test_no_face_gates_expression_unknown_face_does_not():
    ev = {"faces": rec("faces", frames_with_face_ratio=0.0, max_faces=0)}
    a = active_parts(TAX.dimension("expression"), facts(ev=ev, prompt="a happy man"))
    assert a.gated and "0% of sampled frames" in a.gate_reason
    a = active_parts(TAX.dimension("expression"), facts(ev={}, prompt="a happy man"))
    assert not a.gated and any("needs_face" in n for n in a.notes)


def test_context_dependent_sub_dimension_follows_the_prompt():
    ev = {"faces": rec("faces", frames_with_face_ratio=0.9, max_faces=1)}
    calm = active_parts(TAX.dimension("expression"), facts(ev=ev, prompt="a man stands at a bus stop at noon"))
    assert not calm.gated
    assert "expression_accuracy" in calm.skipped and [s.id for s, _ in calm.subs] == ["expression_dynamics"]
    sad = active_parts(TAX.dimension("expression"), facts(ev=ev, prompt="a woman weeps as she reads the letter"))
    assert [s.id for s, _ in sad.subs] == ["expression_accuracy", "expression_dynamics"]
    unknown = active_parts(TAX.dimension("expression"), facts(ev=ev, prompt=None))
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
    from evalverse.judge.gating import gate_reason
    from evalverse.taxonomy import Gate
    assert gate_reason(Gate.needs_reference, facts())[0] == "no reference image or video was given"
    assert gate_reason(Gate.needs_reference, facts(reference=Path("ref.png")))[0] is None


def test_camera_motion_from_shot_labels():
    from evalverse.judge.gating import gate_reason
    from evalverse.taxonomy import Gate
    still = {"camera": rec("camera", shots=[{"label": "static"}], dynamic_degree=0.9)}
    moving = {"camera": rec("camera", shots=[{"label": "static"}, {"label": "pan_left"}])}
    assert gate_reason(Gate.needs_camera_motion, facts(ev=still))[0].startswith("a static camera: camera operator: 0 of 1")
    assert gate_reason(Gate.needs_camera_motion, facts(ev=moving))[0] is None


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


def test_shipped_weights_are_uniform_and_match_the_real_taxonomy():
    w = load_weights()
    assert w.default_question == 1.0 and w.default_sub_dimension == 1.0
    w.check_against(load_taxonomy())


def test_every_context_in_the_real_taxonomy_names_a_known_theme():
    from evalverse.judge.gating import context_themes

    tax = load_taxonomy()
    nodes = [n for d in tax.dimensions for n in [d, *d.sub_dimensions, *(q for s in d.sub_dimensions for q in s.questions)]]
    contexts = [(n.id, n.context) for n in nodes if n.context]
    assert contexts
    for node_id, ctx in contexts:
        assert context_themes(ctx), f"{node_id}: context names no theme the prompt heuristics know: {ctx!r}"
