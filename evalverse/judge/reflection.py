"""Self-reflection for the evidence judge: re-examine claims by looking for operators that contradict
each other (one of them is probably wrong, so answers resting on it are weaker).

Each rule names both sides with their numbers; the numbers it compares with are data
(`judge/gating.yaml`, `reflection:`). The rules:
- faces found a face in many frames, but the people operator saw no person;
- speech heard voice activity, but metadata or the audio operator call the track silent;
- lip-sync measured an offset, but speech found hardly any voice activity;
- the image is soft (sharpness check failed) while the dimension still scores high from other checks;
- the camera operator calls every shot static, but features show the picture changing a lot
  (subject motion or morphing rather than camera motion);
- speech heard a clear stretch of voice, but the audio operator's content split has no speech;
- the file is damaged (frames that could not be decoded, decoder errors): the verdict rests partly on the
  damaged stretches, named with their times (`damage_claims`).

A dimension is re-examined against the operators it used (`used_evidence`): they have all finished when it is
judged, so its reflection is the same however the scheduler interleaved the others, and a contradiction between
two operators it never read is not its concern.
"""
from __future__ import annotations

from typing import Any, Mapping

from evalverse.judge.gating_data import load_gating
from evalverse.judge.types import QuestionAnswer
from evalverse.operators.evidence import Evidence


def contradictions(evidence: Evidence | Mapping[str, Any], meta: Any = None) -> list[str]:
    ev = evidence if isinstance(evidence, Evidence) else Evidence(evidence, meta=meta)
    meta = meta if meta is not None else ev.meta
    t = load_gating().reflection
    out: list[str] = []
    face_share, person = ev.value("faces.frames_with_face_ratio"), ev.value("people.person_fraction")
    if face_share is not None and person is not None and face_share >= t.face_share_seen.value and not person:
        out.append(f"faces found a face in {100 * face_share:.0f}% of frames but people ({ev.value('people.backend')}) saw "
                   "no person in any sampled frame: the people detector probably misses this framing, so framing answers are weak")
    speech = ev.usable("speech")
    voiced = ev.value("speech.voiced_s") or 0.0
    silent_audio = getattr(meta, "audio_silent", None) is True or ev.status("audio") == "skipped"
    if speech and voiced >= t.voice_heard.value and silent_audio:
        out.append(f"speech found {voiced:.1f} s of voice activity but the audio is reported silent")
    offset = ev.value("lipsync.offset_ms")
    if offset is not None and speech and voiced < t.voice_scarce.value:
        out.append(f"lip-sync estimated an offset of {offset} ms but speech found only {voiced:.1f} s of voice")
    labels = [label for _, label in ev.value("camera.shots.label") or []]
    first_last = ev.value("features.first_to_last")
    if labels and all(lab == "static" for lab in labels) and first_last is not None \
            and first_last < t.picture_changed.value:
        out.append(f"camera calls every shot static, yet the first and last frames are only {first_last:.2f} similar: "
                   "the change comes from the subject or from morphing, not from camera motion")
    speech_share = ev.value("audio.speech_share")
    if speech_share is not None and speech and voiced >= t.voice_clear.value and speech_share == 0.0:
        out.append(f"speech found {voiced:.1f} s of voice but the audio content split has no speech")
    return out


def used_evidence(evidence: Evidence | Mapping[str, Any], used: list[str], meta: Any = None) -> Evidence:
    """The records of the operators a dimension's answers rest on (its `evidence_used`)."""
    ev = evidence if isinstance(evidence, Evidence) else Evidence(evidence, meta=meta)
    return Evidence({name: rec for name, rec in ev.items() if name in set(used)}, meta=meta if meta is not None else ev.meta)


def damage_claims(meta: Any, used: list[str]) -> list[str]:
    """The damaged stretches of the file a verdict rests on: frame damage for answers from picture operators,
    audio decoder errors for answers from sound operators (the probe's metadata counts as neither)."""
    from evalverse.operators.runner import get_operator

    if meta is None or not getattr(meta, "damaged", False):
        return []
    needs = {n: set(get_operator(n).needs) for n in used if n != "metadata"}
    picture = sorted(n for n, k in needs.items() if "frames" in k)
    sound = sorted(n for n, k in needs.items() if "audio" in k)
    out = []
    frames_bad = (meta.undecodable_frames or 0) + (meta.corrupt_frames or 0)
    if picture and (frames_bad or meta.decode_errors):
        where = ", ".join(f"{s.start:.2f}-{s.end:.2f} s" for s in meta.damaged_spans[:4]) or "somewhere in the clip"
        out.append(f"this verdict rests on {', '.join(picture)}, computed on a damaged picture ({frames_bad} frame(s) "
                   f"missing or corrupt, at {where}): answers about those stretches are weaker")
    if sound and meta.audio_decode_errors:
        out.append(f"this verdict rests on {', '.join(sound)}, computed on audio with {meta.audio_decode_errors} "
                   "decoder error(s): gaps may be decoding damage rather than the sound design")
    return out


def score_claims(answers: list[QuestionAnswer], check_names: Mapping[str, str], score: float | None) -> list[str]:
    """Claims in this dimension's verdict that the evidence does not carry."""
    out: list[str] = []
    soft = [a for a in answers if check_names.get(a.question_id) == "quality.sharpness_adequate" and a.answer is False]
    if soft and score is not None and score >= load_gating().reflection.high_score.value:
        out.append(f"the score {score:.1f} is high although the image is soft ({soft[0].basis}); "
                   "it rests on the other checks only")
    return out
