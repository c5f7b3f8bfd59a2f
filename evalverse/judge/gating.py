"""Context-aware gating: which parts of a dimension apply to this clip at all (paper §6.1.2, I_gate(p, C)).

Facts come from container metadata, operator evidence, the shot list, the prompt and the reference:

- needs_audio: an audio stream that is not digitally silent (metadata `has_audio`/`audio_silent`, the
  audio operator's silence measure);
- needs_speech: voice activity or transcribed words from the speech operator;
- needs_multi_shot: two or more shots (the shot list, else the shots operator);
- needs_person / needs_face: faces seen by the faces operator or persons by the people operator;
- needs_reference: a reference image/video was given;
- needs_camera_motion: a shot the camera operator labels as moving (pan, tilt, zoom, roll, handheld);
- context_dependent: the node's `context` text names what in the prompt calls for it. The context is
  mapped to themes (emotion, music, dialogue, off-screen, weather, lighting, camera; generic: action,
  progression) by its whole words, specific themes taking precedence, and the prompt is searched for
  the theme's vocabulary (word-prefix regexes, English only). When the context names no known theme,
  any shared content word (>= 5 letters) between context and prompt counts. Music contexts also open
  when the audio evidence finds a musical score. No prompt: the node is kept (we cannot tell), and
  the rationale says so. Keyword heuristics, not understanding: they miss paraphrase and negation.

A fact that evidence cannot decide (operator missing or failed) never gates: the node is judged and a
note says which gate could not be checked. Gate reasons cite the numbers they rest on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from evalverse.taxonomy import Dimension, Gate, Question, SubDimension, TaskMode

# thresholds, with why
MIN_SPEECH_S = 0.5  # less voice activity than this is a cough or a click, not speech
MIN_FACE_SHARE = 0.1  # a face in fewer than 10 % of sampled frames is a passer-by, not a performer
MIN_PERSON_SHARE = 0.1
MIN_MUSIC_SHARE = 0.3  # music under a third of the track is a sting, not a score


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
    reference: bool = False
    prompt: str | None = None
    mode: TaskMode = TaskMode.t2v

    @classmethod
    def collect(cls, meta: Any, evidence: Mapping[str, Any], shots: list | None, prompt: str | None,
                reference: Path | str | None, mode: TaskMode | str = TaskMode.t2v) -> "GateFacts":
        ev = {name: _results(rec) for name, rec in (evidence or {}).items()}
        face = _face_fact(ev.get("faces"))
        return cls(
            audio=_audio_fact(meta, (evidence or {}).get("audio")),
            speech=_speech_fact(meta, (evidence or {}).get("speech")),
            shots=_shots_fact(shots, ev.get("shots")),
            person=_person_fact(ev.get("people"), face),
            face=face,
            camera_motion=_camera_fact(ev.get("camera")),
            music=_music_fact(ev.get("audio")),
            reference=reference is not None,
            prompt=prompt,
            mode=TaskMode(mode),
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


# ---- facts from evidence ----------------------------------------------------------------------------

def _results(record: Any) -> dict | None:
    """An operator's results when it ran (ok/partial), else None."""
    if record is None:
        return None
    status = getattr(record, "status", None) or (record.get("status") if isinstance(record, dict) else None)
    results = getattr(record, "results", None)
    if results is None and isinstance(record, dict):
        results = record.get("results", record)
    if status not in (None, "ok", "partial"):
        return None
    return results or None


def _status(record: Any) -> str | None:
    if record is None:
        return None
    return getattr(record, "status", None) or (record.get("status") if isinstance(record, dict) else None)


def _message(record: Any) -> str | None:
    return getattr(record, "message", None) or (record.get("message") if isinstance(record, dict) else None)


def _get(results: Mapping | None, *keys: str) -> Any:
    if not results:
        return None
    for key in keys:
        node: Any = results
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                node = None
                break
            node = node[part]
        if node is not None:
            return node
    return None


def _audio_fact(meta: Any, audio_record: Any) -> Fact:
    if meta is not None and getattr(meta, "has_audio", None) is False:
        return Fact(False, "the file has no audio stream")
    if meta is not None and getattr(meta, "audio_silent", None) is True:
        return Fact(False, "the audio stream is digitally silent (peak below -90 dBFS)")
    if _status(audio_record) == "skipped":  # the audio operator found nothing to measure
        return Fact(False, f"audio operator skipped: {_message(audio_record) or 'no audio'}")
    audio = _results(audio_record)
    lufs = _get(audio, "loudness_lufs")
    if meta is not None and getattr(meta, "has_audio", None) is True:
        return Fact(True, "an audio stream with sound" + (f" ({lufs:.1f} LUFS)" if _num(lufs) else ""))
    if _num(lufs):
        return Fact(True, f"audio operator: {lufs:.1f} LUFS")
    return Fact(None, "no metadata or audio evidence")


def _speech_fact(meta: Any, speech: Any) -> Fact:
    if meta is not None and (getattr(meta, "has_audio", None) is False or getattr(meta, "audio_silent", None) is True):
        return Fact(False, "there is no audible audio")
    status = _status(speech)
    if status == "skipped":  # the speech operator had nothing to listen to
        return Fact(False, f"speech operator skipped: {_message(speech) or 'no audio'}")
    results = _results(speech)
    if results is not None and results.get("skipped"):
        return Fact(False, f"speech operator skipped: {results.get('message') or 'no audio'}")
    if results is None:
        return Fact(None, "speech evidence unavailable" + (f" ({status})" if status else ""))
    seconds = _get(results, "voiced_s", "speech_seconds")
    words = _get(results, "n_words")
    if _num(seconds):
        has = float(seconds) >= MIN_SPEECH_S or (_num(words) and words > 0 and float(seconds) > 0)
        return Fact(bool(has), f"speech operator: {float(seconds):.1f} s of voice activity"
                    + (f", {int(words)} words" if _num(words) else ""))
    if _num(words):
        return Fact(words > 0, f"speech operator: {int(words)} transcribed words")
    return Fact(None, "speech evidence has no voice-activity measure")


def _shots_fact(shots: list | None, evidence: dict | None) -> Fact:
    if shots:
        return Fact(len(shots), f"{len(shots)} shot(s) detected")
    n = _get(evidence, "n_shots", "count")
    if n is None and evidence and isinstance(evidence.get("shots"), list):
        n = len(evidence["shots"])
    if _num(n):
        return Fact(int(n), f"shots operator: {int(n)} shot(s)")
    return Fact(None, "no shot detection")


def _face_fact(faces: dict | None) -> Fact:
    if faces is None:
        return Fact(None, "faces evidence unavailable")
    share = _get(faces, "frames_with_face_ratio")
    if _num(share):
        return Fact(float(share) >= MIN_FACE_SHARE, f"faces operator: a face in {100 * float(share):.0f}% of sampled frames")
    n = _get(faces, "max_faces", "n_tracks")
    if _num(n):
        return Fact(n > 0, f"faces operator: {int(n)} face track(s)")
    return Fact(None, "faces evidence has no presence measure")


def _person_fact(people: dict | None, face: Fact) -> Fact:
    if face.value:
        return Fact(True, face.basis)
    if people is not None:
        share = _get(people, "person_fraction")
        if _num(share):
            seen = float(share) >= MIN_PERSON_SHARE
            return Fact(seen or bool(face.value), f"people operator: a person in {100 * float(share):.0f}% of sampled frames")
        n = _get(people, "max_people")
        if _num(n):
            return Fact(n > 0, f"people operator: up to {int(n)} person(s) per frame")
    if face.value is False:
        # no face and no people evidence: bodies may still be visible, so we cannot decide
        return Fact(None, f"{face.basis}; people evidence unavailable")
    return Fact(None, "neither faces nor people evidence")


def _camera_fact(camera: dict | None) -> Fact:
    """Camera motion from the camera operator's per-shot labels (dynamic degree counts subject motion too)."""
    shots = _get(camera, "shots")
    if isinstance(shots, list) and shots:
        moving = [s for s in shots if isinstance(s, Mapping) and s.get("label") not in (None, "static")]
        labels = ", ".join(sorted({str(s.get("label")) for s in shots if isinstance(s, Mapping)}))
        return Fact(bool(moving), f"camera operator: {len(moving)} of {len(shots)} shot(s) move ({labels})")
    return Fact(None, "camera evidence unavailable")


def _music_fact(audio: dict | None) -> Fact:
    share = _get(audio, "music_share", "content.music_share", "shares.music")
    if _num(share):
        return Fact(float(share) >= MIN_MUSIC_SHARE, f"audio operator: music in {100 * float(share):.0f}% of the track")
    return Fact(None, "no music measure")


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


# ---- prompt context ---------------------------------------------------------------------------------

# theme -> (words in a node's `context` that name the theme, prompt vocabulary as word-prefix regexes).
# "Specific" themes win over the generic ones (action, progression): a context about an "emotional
# change" calls for emotion words, not for any "then" in the prompt.
THEMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "emotion": (
        ("emotion", "emotional", "expression", "expressive", "mood", "feeling", "feelings", "affect", "tension"),
        ("happ", "sad", "angr", "anger", "joy", "fear", "afraid", "scared", "terr", "surpris", "smil", "laugh",
         "cry", "cries", "cried", "tear", "weep", "sob", "grie", "sorrow", "furious", "rage", "excit", "nervous",
         "anxi", "tense", "calm", "melanchol", "lonel", "love", "hate", "shock", "disgust", "frown", "grin",
         "despair", "content", "delight", "worr", "emotion", "mood", "upset", "proud", "shame", "embarrass",
         "relie", "hope", "desperat", "cheer", "gloom", "bored", "confus", "determin", "serene", "peaceful",
         "panic", "scream", "ecsta", "horr", "long for", "yearn", "tender", "bitter", "nostalg", "somber",
         "sombre", "eerie", "ominous", "romantic", "dread", "mourn", "triumph", "heartbr"),
    ),
    "music": (
        ("music", "musical", "score", "song", "songs", "soundtrack", "rhythm"),
        ("music", "song", "melod", "orchestr", "piano", "guitar", "violin", "drum", "sing", "concert", "band",
         "jazz", "rock", "hip hop", "soundtrack", "rhythm", "danc", "choir", "symphon"),
    ),
    "dialogue": (
        ("dialogue", "speech", "speak", "speaks", "voice", "vocal", "talk", "talks", "lines"),
        ("say", "said", "talk", "speak", "spoke", "convers", "dialog", "whisper", "shout", "yell", "sing",
         "narrat", "interview", "tell", "ask", "answer", "announc", "lectur", "present", "voice"),
    ),
    "offscreen": (
        ("beyond the frame", "off-screen", "offscreen", "off screen", "out of frame"),
        ("off-screen", "offscreen", "in the distance", "distant", "echo", "behind", "outside", "somewhere",
         "narrat", "voice-over", "voiceover", "thunder", "siren", "footstep", "crowd", "knock", "approach"),
    ),
    "weather": (
        ("weather", "ambience", "ambient"),
        ("rain", "storm", "wind", "snow", "thunder", "fog", "sea", "ocean", "wave", "forest", "city", "street",
         "traffic", "crowd", "birds", "river", "fire"),
    ),
    "lighting": (
        ("lighting", "light source", "time of day", "illumination", "colour temperature", "color temperature"),
        ("sunset", "sunrise", "night", "dawn", "dusk", "golden hour", "neon", "candle", "lamp", "moonlight",
         "noon", "backlit", "spotlight", "shadow", "dark", "bright", "glow", "lit", "light"),
    ),
    "camera": (
        ("camera move", "camera moves", "camera motion", "camera movement", "pan", "tilt", "zoom", "dolly", "tracking"),
        ("pan", "tilt", "zoom", "dolly", "track", "push in", "pull out", "pull back", "orbit", "crane",
         "handheld", "follow", "aerial", "drone", "fly", "circl", "rotat"),
    ),
    "action": (
        ("action", "actions", "interaction", "physical", "movement", "kinetic", "fight", "sport"),
        ("run", "jump", "fight", "danc", "throw", "catch", "grab", "push", "pull", "hit", "kick", "punch", "walk",
         "eat", "drink", "hold", "pick", "climb", "swim", "lift", "carry", "open", "pour", "cut", "chase",
         "ride", "drive", "fall", "hug", "shake", "wav", "play", "cook", "write", "read", "type", "paint"),
    ),
    "progression": (
        ("progression", "arc", "narrative", "change", "changes", "build-up", "transition", "development", "climax"),
        ("then", "becom", "turns", "turned", "gradual", "slowly", "sudden", "final", "begin", "until", "after",
         "before", "transform", "chang", "eventually", "while", "as the", "start", "grow", "fade"),
    ),
}
GENERIC_THEMES = ("action", "progression")


def context_themes(context: str) -> list[str]:
    """Themes a node's context names (whole words), specific ones first and alone when present."""
    ctx = context.lower()
    found = [name for name, (words, _) in THEMES.items()
             if any(re.search(r"\b" + re.escape(w) + r"\b", ctx) for w in words)]
    specific = [t for t in found if t not in GENERIC_THEMES]
    return specific or found


def prompt_calls_for(context: str, prompt: str | None, music: "Fact | None" = None) -> tuple[bool | None, str]:
    """Whether the prompt's narrative calls for what `context` describes: (True/False, why), or
    (None, why) when there is no prompt to read. `music`: the audio evidence's verdict on a musical
    score, which opens music contexts ("... or the soundtrack carries a musical score") by itself."""
    themes = context_themes(context)
    if "music" in themes and music is not None and music.value:
        return True, f"the soundtrack carries music ({music.basis})"
    if not prompt or not prompt.strip():
        return None, "no prompt given, so context-dependent parts could not be checked; judged anyway"
    text = " " + re.sub(r"\s+", " ", prompt.lower()) + " "
    if themes:
        for name in themes:
            for stem in THEMES[name][1]:
                m = re.search(r"\b" + re.escape(stem), text)
                if m:
                    word = re.match(r"[\w'-]+", text[m.start():])
                    return True, f"the prompt calls for {name} (\"{word.group(0) if word else stem}\")"
        return False, f"the prompt does not call for {' or '.join(themes)} ({context.strip()})"
    ctx_words = set(re.findall(r"[a-z]{5,}", context.lower()))
    shared = sorted(w for w in ctx_words if re.search(r"\b" + w[:5], text))
    if shared:
        return True, f"the prompt mentions {', '.join(shared[:3])}"
    return False, f"the prompt does not call for it ({context.strip()})"
