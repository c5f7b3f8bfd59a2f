"""Self-reflection for the evidence judge: re-examine claims by looking for operators that contradict
each other (one of them is probably wrong, so answers resting on it are weaker).

Each rule names both sides with their numbers. The rules:
- faces found a face in many frames, but the people operator saw no person;
- speech heard voice activity, but metadata or the audio operator call the track silent;
- lip-sync measured an offset, but speech found no voice activity;
- the image is soft (sharpness check failed) while the dimension still scores high from other checks;
- the camera operator calls every shot static, but features show the picture changing a lot
  (subject motion or morphing rather than camera motion).
"""
from __future__ import annotations

from typing import Any, Mapping

from evalverse.judge.types import QuestionAnswer


def _res(records: Mapping[str, Any], name: str) -> dict | None:
    rec = records.get(name)
    if rec is None or getattr(rec, "status", "ok") not in ("ok", "partial"):
        return None
    return getattr(rec, "results", None) or {}


def contradictions(records: Mapping[str, Any], meta: Any = None) -> list[str]:
    out: list[str] = []
    faces, people, speech = _res(records, "faces"), _res(records, "people"), _res(records, "speech")
    audio, lipsync, camera, features = (_res(records, n) for n in ("audio", "lipsync", "camera", "features"))
    face_share = float((faces or {}).get("frames_with_face_ratio") or 0)
    if faces is not None and people is not None and face_share >= 0.3 and not people.get("person_fraction"):
        out.append(f"faces found a face in {100 * face_share:.0f}% of frames but people ({people.get('backend')}) saw no person "
                   "in any sampled frame: the people detector probably misses this framing, so framing answers are weak")
    voiced = float((speech or {}).get("voiced_s") or 0)
    audio_rec = records.get("audio")
    silent_audio = getattr(meta, "audio_silent", None) is True or getattr(audio_rec, "status", None) == "skipped"
    if speech is not None and voiced >= 1.0 and silent_audio:
        out.append(f"speech found {voiced:.1f} s of voice activity but the audio is reported silent")
    if lipsync is not None and lipsync.get("offset_ms") is not None and speech is not None and voiced < 0.5:
        out.append(f"lip-sync estimated an offset of {lipsync['offset_ms']} ms but speech found only {voiced:.1f} s of voice")
    if camera is not None and features is not None:
        labels = [s.get("label") for s in camera.get("shots") or [] if isinstance(s, Mapping)]
        first_last = features.get("first_to_last")
        if labels and all(lab == "static" for lab in labels) and isinstance(first_last, (int, float)) and first_last < 0.5:
            out.append(f"camera calls every shot static, yet the first and last frames are only {first_last:.2f} similar: "
                       "the change comes from the subject or from morphing, not from camera motion")
    if audio is not None and speech is not None and voiced >= 2.0 and float(audio.get("speech_share") or 0) == 0.0:
        out.append(f"speech found {voiced:.1f} s of voice but the audio content split has no speech")
    return out


def score_claims(answers: list[QuestionAnswer], check_names: Mapping[str, str], score: float | None) -> list[str]:
    """Claims in this dimension's verdict that the evidence does not carry."""
    out: list[str] = []
    soft = [a for a in answers if check_names.get(a.question_id) == "quality.sharpness_adequate" and a.answer is False]
    if soft and score is not None and score >= 4.0:
        out.append(f"the score {score:.1f} is high although the image is soft ({soft[0].basis}); "
                   "it rests on the other checks only")
    return out
