"""The offline `evidence` judge: checks from operator results, coverage rule, gating, reflection."""
from __future__ import annotations

from pathlib import Path

import pytest

from evalverse.judge import JudgeContext, make_judge
from evalverse.judge.backends.evidence import MIN_ANSWERED
from evalverse.judge.checks import CHECKS, THRESHOLDS, UNIMPLEMENTED, EvidenceView, run_check
from evalverse.judge.reflection import contradictions
from evalverse.media.types import Shot, VideoMeta
from evalverse.operators.base import EvidenceRecord
from evalverse.taxonomy import load_taxonomy

TAX = load_taxonomy(Path(__file__).parent / "fixtures" / "judge_taxonomy.yaml")


def meta(**kw) -> VideoMeta:
    base = dict(path="x.mp4", content_hash="h", size_bytes=1, container="mp4", duration_s=4.0, fps=25.0, n_frames=100,
                width=1280, height=720, coded_width=1280, coded_height=720, vcodec="h264", has_audio=False)
    return VideoMeta(**(base | kw))


def rec(op, status="ok", **results):
    return EvidenceRecord(operator=op, version="1", status=status, results=results)


def judge_dim(dim_id, evidence, m=None, prompt=None, taxonomy=TAX, shots=1):
    ctx = JudgeContext(taxonomy=taxonomy, meta=m or meta(), evidence=evidence, prompt=prompt,
                       shots=[Shot(index=i, start=i, end=i + 1, start_frame=i, end_frame=i + 1) for i in range(shots)])
    events = list(make_judge("evidence").judge(taxonomy.dimension(dim_id), ctx))
    return events, events[-1].data["result"]


# the fixture taxonomy names test.* checks; register them for these tests only
@pytest.fixture(autouse=True)
def test_checks(monkeypatch):
    def sharp(ev):
        v = ev.results("quality")["sharpness"]
        return v >= 100, f"sharpness {v}"

    def noisy_free(ev):
        v = ev.results("quality")["noise_sigma"]
        return v <= 2, f"noise {v}"

    def stable(ev):
        return not ev.results("quality")["flicker"], "flicker flag"

    extra = {"test.sharp": sharp, "test.noisy": noisy_free, "test.stable": stable}
    monkeypatch.setattr("evalverse.judge.checks.CHECKS", {**CHECKS, **extra})


def test_scores_from_checks_with_polarity_and_coverage():
    ev = {"quality": rec("quality", sharpness=50.0, noise_sigma=1.0, flicker=False)}
    events, r = judge_dim("visual_quality", ev)
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
    assert "sharpness 50.0" in r.rationale and "3 of 4 questions answered" in r.rationale
    assert r.evidence_used == ["quality"]
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "reflection" in kinds and "score" in kinds
    assert kinds.count("question") == 4


def test_missing_evidence_means_not_judged_never_a_score():
    events, r = judge_dim("visual_quality", {"quality": rec("quality", status="unavailable")})
    assert r.status == "not_judged" and r.score is None
    assert r.gate_reason.startswith("needs a VLM: only 0 of 4")
    assert all(a.answer is None for a in r.answers)
    assert any("quality evidence is unavailable" in a.basis for a in r.answers)


def test_one_answer_is_too_little():
    # expression: ex_matches is gated off by a calm prompt, ex_moves has a check that is not registered
    ev = {"faces": rec("faces", frames_with_face_ratio=1.0, max_faces=1)}
    _, r = judge_dim("expression", ev, prompt="a woman reads quietly")
    assert r.status == "not_judged" and r.score is None
    assert MIN_ANSWERED == 2


def test_gated_dimension_yields_gate_event_and_no_score():
    events, r = judge_dim("vocal", {}, m=meta(has_audio=False))
    assert r.status == "gated" and r.score is None and r.gate_reason == "no audible audio: the file has no audio stream"
    assert [e.kind for e in events] == ["start", "gate", "done"]


def test_reflection_flags_contradicting_operators():
    ev = {"faces": rec("faces", frames_with_face_ratio=0.9), "people": rec("people", person_fraction=0.0, backend="mediapipe_pose"),
          "speech": rec("speech", voiced_s=3.0, n_words=8), "audio": EvidenceRecord(operator="audio", version="1", status="skipped")}
    flags = contradictions(ev, meta(has_audio=True, audio_silent=False))
    assert any("faces found a face in 90%" in f and "people" in f for f in flags)
    assert any("3.0 s of voice activity but the audio is reported silent" in f for f in flags)
    assert contradictions({"faces": rec("faces", frames_with_face_ratio=0.9), "people": rec("people", person_fraction=0.8)}) == []


# ---- the real taxonomy and the real checks ----------------------------------------------------------

def test_every_check_in_the_taxonomy_is_implemented_or_listed():
    tax = load_taxonomy()
    names = {q.check for d in tax.dimensions for s in d.sub_dimensions for q in s.questions if q.check}
    missing = sorted(n for n in names if n not in CHECKS and n not in UNIMPLEMENTED)
    assert not missing, f"checks named in taxonomy.yaml without an implementation or a reason: {missing}"
    assert not (set(CHECKS) & set(UNIMPLEMENTED))
    stale = sorted(n for n in UNIMPLEMENTED if n not in names)
    assert not stale, f"UNIMPLEMENTED lists checks the taxonomy no longer names: {stale}"
    # every implemented check's prefix is an evidence kind of the taxonomy
    kinds = {k.id for k in tax.evidence_kinds}
    assert {n.split(".")[0] for n in CHECKS} <= kinds


def test_real_checks_on_planted_numbers():
    m = meta(width=256, height=256)
    view = EvidenceView(records={"quality": rec("quality", sharpness=500.0, noise_sigma=0.5, blockiness=1.01,
                                                flicker={"detected": True, "flicker_index": 0.04, "luma_jump_max": 30.0})}, meta=m)
    sharp = run_check("quality.sharpness_adequate", view)
    assert sharp.answer is False and "short side 256 px vs minimum 480" in sharp.basis  # low resolution fails
    assert run_check("quality.noise_low", view).answer is True
    flick = run_check("quality.no_exposure_flicker", view)
    assert flick.answer is False and "0.0400" in flick.basis and "30.0" in flick.basis
    shots = EvidenceView(records={"shots": rec("shots", shots=[{"start": 0, "end": 2.0}, {"start": 2.0, "end": 2.3},
                                                               {"start": 2.3, "end": 6.0}])})
    dur = run_check("shots.shot_durations_reasonable", shots)
    assert dur.answer is False and "shortest 0.30 s" in dur.basis
    assert run_check("shots.cut_tempo_varies", shots).answer is True
    lips = EvidenceView(records={"lipsync": rec("lipsync", offset_ms=200.0, detectable=True, confidence=0.4,
                                                envelope={"peak_corr": 0.5})})
    off = run_check("lipsync.offset_small", lips)
    assert off.answer is False and "+200 ms" in off.basis
    assert run_check("lipsync.mouth_tracks_loudness", lips).answer is True
    none = run_check("audio.no_clipping", EvidenceView(records={}))
    assert none.answer is None and none.basis == "not answerable: the audio operator did not run"
    unimpl = run_check("quality.subject_in_focus", EvidenceView(records={}))
    assert unimpl.answer is None and unimpl.basis.startswith("not answerable: quality measures")
    assert THRESHOLDS["min_short_side_px"] == 480
