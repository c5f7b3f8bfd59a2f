"""Context-aware gating: which parts of a dimension apply to this clip at all (paper §6.1.2, I_gate(p, C)).

Facts come from container metadata, operator evidence (read through the typed accessors of
`evalverse.operators.evidence.Evidence` and the measure catalogue), the prompt and the reference:

- needs_audio: an audio stream that is not digitally silent (metadata `has_audio`/`audio_silent`, the
  audio operator's loudness, or its skip);
- needs_speech: voice activity or transcribed words from the speech operator;
- needs_multi_shot: two or more shots (the shots operator);
- needs_person / needs_face: faces seen by the faces operator or persons by the people operator;
- needs_reference: a reference image/video was given;
- needs_camera_motion: a shot the camera operator labels as moving (pan, tilt, zoom, roll, handheld);
- needs_motion: enough frames and seconds to show motion at all (metadata `n_frames`, `duration_s`);
- context_dependent: the node's `context` text names what in the prompt calls for it
  (`evalverse.judge.prompt_context`).

The numbers (presence and motion minimums) and the context vocabulary are data: `judge/gating.yaml`.
A fact that evidence cannot decide (operator missing or failed) never gates: the node is judged and a
note says which gate could not be checked. Gate reasons cite the numbers they rest on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from evalverse.judge.gating_data import load_gating
from evalverse.judge.prompt_context import context_themes, prompt_calls_for
from evalverse.operators.evidence import Evidence
from evalverse.taxonomy import Dimension, Gate, Question, SubDimension, TaskMode

__all__ = ["ActiveDimension", "Fact", "GateFacts", "active_parts", "context_themes", "gate_reason", "prompt_calls_for"]


@dataclass(frozen=True)
class Fact:
    value: bool | int | None  # None: evidence could not decide
    basis: str  # what it rests on, with numbers


UNKNOWN = Fact(None, "no evidence")


@dataclass(frozen=True)
class GateFacts:
    audio: Fact = UNKNOWN  # True: audible audio stream
    speech: Fact = UNKNOWN
    shots: Fact = UNKNOWN  # int: number of shots
    person: Fact = UNKNOWN
    face: Fact = UNKNOWN
    camera_motion: Fact = UNKNOWN
    music: Fact = UNKNOWN  # a musical score in the soundtrack (audio operator)
    motion: Fact = UNKNOWN  # long enough to show motion
    reference: bool = False
    prompt: str | None = None
    mode: TaskMode = TaskMode.t2v

    @classmethod
    def collect(cls, evidence: Evidence | Mapping[str, Any], prompt: str | None = None,
                reference: Path | str | None = None, mode: TaskMode | str = TaskMode.t2v, meta: Any = None) -> "GateFacts":
        """Facts from one clip's evidence (its `meta` is the probe's metadata; `meta=` sets it for a plain dict)."""
        ev = evidence if isinstance(evidence, Evidence) else Evidence(evidence or {}, meta=meta)
        if meta is not None and ev.meta is None:
            ev.meta = meta
        face = _face_fact(ev)
        return cls(
            audio=_audio_fact(ev), speech=_speech_fact(ev), shots=_shots_fact(ev), person=_person_fact(ev, face),
            face=face, camera_motion=_camera_fact(ev), music=_music_fact(ev), motion=_motion_fact(ev.meta),
            reference=reference is not None, prompt=prompt, mode=TaskMode(mode),
        )


@dataclass
class ActiveDimension:
    """The part of a dimension that applies to this clip."""

    dimension: Dimension
    subs: list[tuple[SubDimension, list[Question]]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # sub-dimension/question id -> gate reason
    notes: list[str] = field(default_factory=list)  # gates evidence could not decide
    gate_reason: str | None = None

    @property
    def gated(self) -> bool:
        return self.gate_reason is not None

    @property
    def questions(self) -> list[Question]:
        return [q for _, qs in self.subs for q in qs]


def active_parts(dim: Dimension, facts: GateFacts) -> ActiveDimension:
    """Apply the dimension's gates, then its sub-dimensions' and questions' gates."""
    active = ActiveDimension(dimension=dim)
    reason = _first_closed(dim.gates, dim.context, facts, active.notes) or _mode_reason(dim, facts, active.notes)
    if reason:
        active.gate_reason = reason
        return active
    for sub in dim.sub_dimensions:
        sub_reason = _first_closed(sub.gates, sub.context, facts, active.notes)
        if sub_reason:
            active.skipped[sub.id] = sub_reason
            continue
        kept: list[Question] = []
        for q in sub.questions:
            q_reason = _first_closed(q.gates, q.context, facts, active.notes)
            if q_reason:
                active.skipped[q.id] = q_reason
            else:
                kept.append(q)
        if kept:
            active.subs.append((sub, kept))
    if not active.subs:
        active.gate_reason = "every part is gated: " + "; ".join(sorted(set(active.skipped.values())))
    return active


def gate_reason(gate: Gate, facts: GateFacts, context: str | None = None) -> tuple[str | None, str | None]:
    """(reason to gate, or None; note when evidence could not decide)."""
    if gate == Gate.needs_reference:
        return (None, None) if facts.reference else ("no reference image or video was given", None)
    if gate == Gate.context_dependent:
        calls, why = prompt_calls_for(context or "", facts.prompt, facts.music)
        if calls is None:
            return None, why
        return (None, None) if calls else (why, None)
    fact, closed = {
        Gate.needs_audio: (facts.audio, "no audible audio"),
        Gate.needs_speech: (facts.speech, "no speech"),
        Gate.needs_multi_shot: (facts.shots, "a single shot"),
        Gate.needs_person: (facts.person, "no visible person"),
        Gate.needs_face: (facts.face, "no visible face"),
        Gate.needs_camera_motion: (facts.camera_motion, "a static camera"),
        Gate.needs_motion: (facts.motion, "too short to judge motion"),
    }[gate]
    if fact.value is None:
        return None, f"could not check {gate.value} ({fact.basis}); judged anyway"
    is_open = fact.value >= 2 if gate == Gate.needs_multi_shot else bool(fact.value)
    return (None, None) if is_open else (f"{closed}: {fact.basis}", None)


def _first_closed(gates: tuple[Gate, ...], context: str | None, facts: GateFacts, notes: list[str]) -> str | None:
    for gate in gates:
        reason, note = gate_reason(gate, facts, context)
        if note and note not in notes:
            notes.append(note)
        if reason:
            return reason
    return None


def _mode_reason(dim: Dimension, facts: GateFacts, notes: list[str]) -> str | None:
    """A dimension made for other tasks: r2v-only without a reference, av-only without audio, multi-shot
    only with one shot. Clip properties (audio, shots) decide av and multi_shot, not the --mode flag."""
    modes = set(dim.modes)
    if modes & {TaskMode.t2v} or facts.mode in modes:
        return None
    if TaskMode.r2v in modes and facts.reference:
        return None
    if TaskMode.av in modes:
        reason, note = gate_reason(Gate.needs_audio, facts)
        if note and note not in notes:
            notes.append(note)
        if reason is None:
            return None
    if TaskMode.multi_shot in modes:
        reason, note = gate_reason(Gate.needs_multi_shot, facts)
        if note and note not in notes:
            notes.append(note)
        if reason is None:
            return None
    wanted = ", ".join(sorted(m.value for m in modes))
    return f"applies to {wanted} tasks only; this clip is a {facts.mode.value} run without what they need"


# ---- facts from evidence (typed accessors only) ------------------------------------------------------

def _audio_fact(ev: Evidence) -> Fact:
    meta = ev.meta
    if meta is not None and meta.has_audio is False:
        return Fact(False, "the file has no audio stream")
    if meta is not None and meta.audio_silent is True:
        return Fact(False, "the audio stream is digitally silent (peak below -90 dBFS)")
    rec = ev.record("audio")
    if rec is not None and rec.status == "skipped":  # the audio operator found nothing to measure
        return Fact(False, f"audio operator skipped: {rec.message or 'no audio'}")
    lufs = ev.value("audio.loudness_lufs")
    if meta is not None and meta.has_audio is True:
        return Fact(True, "an audio stream with sound" + (f" ({lufs:.1f} LUFS)" if lufs is not None else ""))
    if lufs is not None:
        return Fact(True, f"audio operator: {lufs:.1f} LUFS")
    return Fact(None, "no metadata or audio evidence")


def _speech_fact(ev: Evidence) -> Fact:
    meta = ev.meta
    if meta is not None and (meta.has_audio is False or meta.audio_silent is True):
        return Fact(False, "there is no audible audio")
    rec = ev.record("speech")
    if rec is not None and rec.status == "skipped":  # the speech operator had nothing to listen to
        return Fact(False, f"speech operator skipped: {rec.message or 'no audio'}")
    if not ev.usable("speech"):
        return Fact(None, "speech evidence unavailable" + (f" ({rec.status})" if rec is not None else ""))
    seconds, words = ev.value("speech.voiced_s"), ev.value("speech.n_words")
    minimum = load_gating().presence.speech.value
    has = seconds >= minimum or (words > 0 and seconds > 0)
    return Fact(bool(has), f"speech operator: {seconds:.1f} s of voice activity, {words} words")


def _shots_fact(ev: Evidence) -> Fact:
    n = ev.value("shots.n_shots")
    if n is None:
        return Fact(None, "no shot detection")
    return Fact(int(n), f"{n} shot(s) detected")


def _face_fact(ev: Evidence) -> Fact:
    share = ev.value("faces.frames_with_face_ratio")
    if share is None:
        return Fact(None, "faces evidence unavailable")
    return Fact(share >= load_gating().presence.face.value, f"faces operator: a face in {100 * share:.0f}% of sampled frames")


def _person_fact(ev: Evidence, face: Fact) -> Fact:
    if face.value:
        return Fact(True, face.basis)
    share = ev.value("people.person_fraction")
    if share is not None:
        return Fact(share >= load_gating().presence.person.value,
                    f"people operator: a person in {100 * share:.0f}% of sampled frames")
    if face.value is False:
        # no face and no people evidence: bodies may still be visible, so we cannot decide
        return Fact(None, f"{face.basis}; people evidence unavailable")
    return Fact(None, "neither faces nor people evidence")


def _camera_fact(ev: Evidence) -> Fact:
    """Camera motion from the camera operator's per-shot labels (dynamic degree counts subject motion too)."""
    labels = [label for _, label in ev.value("camera.shots.label") or []]
    if not labels:
        return Fact(None, "camera evidence unavailable")
    moving = [lab for lab in labels if lab not in (None, "static")]
    names = ", ".join(sorted({str(lab) for lab in labels}))
    return Fact(bool(moving), f"camera operator: {len(moving)} of {len(labels)} shot(s) move ({names})")


def _music_fact(ev: Evidence) -> Fact:
    share = ev.value("audio.music_share")
    if share is None:
        return Fact(None, "no music measure")
    return Fact(share >= load_gating().presence.music.value, f"audio operator: music in {100 * share:.0f}% of the track")


def _motion_fact(meta: Any) -> Fact:
    """Long enough to show motion: at least the minimum frames and seconds (`gating.yaml`, motion). A count of
    0 means the container did not state it; with neither known the gate is not decided."""
    if meta is None:
        return Fact(None, "no metadata")
    motion = load_gating().motion
    frames, seconds = meta.n_frames, meta.duration_s
    need = f"motion needs at least {motion.frames.value:.0f} frames and {motion.duration.value:g} s"
    known = [x for x in (frames, seconds) if x]
    if not known:
        return Fact(None, "the container states neither frame count nor duration")
    short = (frames and frames < motion.frames.value) or (seconds and seconds < motion.duration.value)
    return Fact(not short, f"{frames} frame(s), {seconds:.2f} s ({need})")
