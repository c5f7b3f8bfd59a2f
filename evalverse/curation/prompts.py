"""Prompts from metadata: the facts a case may state, a template writer that states them in cinematic
vocabulary, and a checker that reads any prompt (the template's or a language model's) for claims the facts
do not support.

Facts come only from the annotation (after corrections): attributes, the number of shots, per-shot
attributes, palette colour names, the language and the transcript, the duration. The checker finds, in a
prompt, every word of the vocabulary that claims an attribute value, every number of shots, cuts, people or
seconds, every colour name, language name and quotation, and every word the annotation can never support
(gender, age, dolly, night, ...). A claim is supported when the facts hold it; in a multi-shot prompt the
text after "Shot N:" is checked against shot N (the clip's look and sound still apply there).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from evalverse.curation.attributes import camera_family
from evalverse.curation.vocabulary import Vocabulary, load_vocabulary

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve")
PER_SHOT = ("shot_size", "camera", "people", "sound", "colour_temperature")
SHOT_MARK = re.compile(r"\bshot (\d+)\s*[:.(]", re.IGNORECASE)
COUNT = re.compile(r"(?<![\w-])(\d+|" + "|".join(NUMBER_WORDS) + r")(?:\s+(?:distinct|separate|different))?\s+"
                   r"(shots?|cuts?|people|persons|figures|faces|characters)(?![\w-])", re.IGNORECASE)
SECONDS = re.compile(r"(\d+(?:\.\d+)?)[\s-]*(?:seconds?|secs?|s)(?![\w-])", re.IGNORECASE)
QUOTE = re.compile(r"[\"“]([^\"”]{2,})[\"”]")
SECONDS_TOLERANCE = 0.5  # a stated length is rounded to whole seconds ("about 6 seconds")


@dataclass
class Facts:
    """What one case may state. `attributes`: the clip's (or the shot's, for a shot case); `shots`: per-shot
    attributes and palette names of a multi-shot case, in order."""

    attributes: dict[str, Any]
    n_shots: int = 1
    duration_s: float | None = None
    colours: list[str] = field(default_factory=list)  # palette colour names, most area first
    transcript: str | None = None
    directions: dict[str, set[str]] = field(default_factory=dict)  # camera family -> directions seen
    shots: list[dict[str, Any]] = field(default_factory=list)  # {"attributes", "colours", "duration_s", "direction"}
    n_people: int | None = None  # distinct identities, when faces says several


def _names(palette: Any, k: int = 3) -> list[str]:
    out: list[str] = []
    for p in palette or []:
        if p.get("name") and p["name"] not in out:
            out.append(p["name"])
    return out[:k]


def facts_for(view: Any, shot: int | None = None) -> Facts:
    """The facts of a clip case (`shot` None) or of one shot of it, from a `records.ClipView`."""
    if shot is not None:
        s = next(x for x in view.shots if int(x["index"]) == shot)
        f = s["fields"]
        label = (f.get("camera_movement") or {}).get("value")
        fam, direction = camera_family(label)
        return Facts(attributes=dict(s["attributes"]), n_shots=1, duration_s=round(s["end"] - s["start"], 3),
                     colours=_names((f.get("palette") or {}).get("value")), transcript=None,
                     directions={fam: {direction}} if fam and direction else {},
                     n_people=_people(view))
    attrs = dict(view.attributes)
    directions: dict[str, set[str]] = {}
    shots = []
    for s in view.shots:
        fam, direction = camera_family((s["fields"].get("camera_movement") or {}).get("value"))
        if fam and direction:
            directions.setdefault(fam, set()).add(direction)
        shots.append({"attributes": dict(s["attributes"]), "colours": _names((s["fields"].get("palette") or {}).get("value")),
                      "duration_s": round(s["end"] - s["start"], 3),
                      "direction": direction if fam == s["attributes"].get("camera") else None})
    fam, direction = camera_family(view.value("camera_movement"))
    if fam and direction:
        directions.setdefault(fam, set()).add(direction)
    n_shots = view.value("n_shots") or len(view.shots) or 1
    speech = attrs.get("sound") == "speech"
    return Facts(attributes=attrs, n_shots=int(n_shots), duration_s=view.value("duration_s"),
                 colours=_names(view.value("palette")), transcript=view.value("transcript") if speech else None,
                 directions=directions, shots=shots if attrs.get("multi_shot") == "multi_shot" else [],
                 n_people=_people(view))


def _people(view: Any) -> int | None:
    n = view.value("n_identities")
    return int(n) if isinstance(n, int) and n >= 2 and view.attributes.get("faces") == "several" else None


# ---- the template writer ------------------------------------------------------------------------------
def _number(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def _fill(phrase: str, **values: Any) -> str:
    out = phrase
    for key, value in values.items():
        out = out.replace("{" + key + "}", "" if value is None else str(value))
    return re.sub(r"\s+", " ", out).strip()


def _subject(attrs: dict[str, Any], n_people: int | None, vocab: Vocabulary) -> str:
    faces = attrs.get("faces")
    if faces == "one":
        return vocab.phrase("faces", "one")
    if faces == "several" and n_people:
        return _fill(vocab.phrase("faces", "several"), n=_number(n_people))
    if attrs.get("people") == "present":
        return vocab.phrase("people", "present")
    return ""


def _framing(attrs: dict[str, Any], n_people: int | None, direction: str | None, vocab: Vocabulary,
             in_shot: bool = False) -> str:
    """"a close-up of one person, the camera pans left" (what is known of one shot's framing). Inside one shot
    of several the subject is named only where that shot has a person."""
    size = attrs.get("shot_size")
    subject = "" if in_shot and attrs.get("people") != "present" else _subject(attrs, n_people, vocab)
    parts = []
    if size and size != "no_person" and subject:
        parts.append(f"{vocab.phrase('shot_size', size)} of {subject}")
    elif subject:
        parts.append(subject)
    cam = attrs.get("camera")
    if cam:
        parts.append(_fill(vocab.phrase("camera", cam), direction=direction if cam in ("pan", "tilt", "zoom", "roll") else None))
    return ", ".join(p for p in parts if p)


def _look(facts: Facts, vocab: Vocabulary) -> str:
    a = facts.attributes
    bits = []
    if a.get("lighting_key"):
        bits.append(vocab.phrase("lighting_key", a["lighting_key"]))
    if a.get("colour_temperature"):
        bits.append(vocab.phrase("colour_temperature", a["colour_temperature"]))
    colour = a.get("colour")
    if colour == "black_and_white":
        bits.insert(0, vocab.phrase("colour", colour))
    elif colour:
        palette = vocab.phrase("colour", colour)
        if facts.colours:
            palette += " of " + _join(facts.colours)
        bits.append(palette)
    return _join(bits)


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _quote(transcript: str | None, max_words: int = 14) -> str | None:
    if not transcript:
        return None
    first = re.split(r"(?<=[.!?])\s|(?<=[。！？])", transcript.strip())[0]  # CJK sentences end without a space
    words = first.split()
    text = " ".join(words[:max_words]).strip(" ,;:.!?。！？、")
    return text or None


def _sound(facts: Facts, vocab: Vocabulary) -> str:
    a = facts.attributes
    sound = a.get("sound")
    if not sound:
        return ""
    if sound == "speech":
        language = vocab.language_name(a.get("language"))
        phrase = _fill(vocab.phrase("sound", "speech"), language=language) if language else "spoken dialogue"
        quote = _quote(facts.transcript)
        return f"{phrase}: “{quote}”" if quote else phrase
    return vocab.phrase("sound", sound)


def template_prompt(facts: Facts, mode: str = "t2v", vocabulary: Vocabulary | None = None) -> str:
    """The case's prompt from its facts alone (deterministic; states nothing the facts do not hold)."""
    vocab = vocabulary or load_vocabulary()
    a = facts.attributes
    sentences = []
    lead = "Starting from the reference image, " if mode == "r2v" else ""
    if facts.shots:
        form = _fill(vocab.phrase("multi_shot", "multi_shot"), n=_number(facts.n_shots))
        rhythm = vocab.phrase("cut_rhythm", a.get("cut_rhythm") or "")
        sentences.append(lead + form + (f" with {rhythm}" if rhythm else ""))
    else:
        direction = next(iter(facts.directions.get(a.get("camera") or "", [])), None)
        framing = _framing(a, facts.n_people, direction, vocab)
        form = vocab.phrase("multi_shot", "single_shot") if a.get("multi_shot") else "a shot"
        sentences.append(lead + form + (f": {framing}" if framing else ""))
    look = _look(facts, vocab)
    if look:
        sentences.append(look)
    sound = _sound(facts, vocab)
    if sound:
        sentences.append("Sound: " + sound)
    if facts.duration_s:
        seconds = max(1, round(facts.duration_s))
        sentences.append(f"About {seconds} second{'' if seconds == 1 else 's'} long")
    for i, shot in enumerate(facts.shots, start=1):
        framing = _framing(shot["attributes"], facts.n_people, shot.get("direction"), vocab, in_shot=True) or "the scene"
        sentences.append(f"Shot {i}: {framing}")
    return ". ".join(s[0].upper() + s[1:] for s in sentences if s) + "."


# ---- the checker --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    kind: str  # "attribute", "count", "seconds", "colour", "language", "quote", "unsupported"
    text: str  # the words in the prompt
    attribute: str | None = None
    value: Any = None
    segment: int = 0  # 0: the clip-level text; N: after "Shot N:"

    def describe(self) -> str:
        where = "" if not self.segment else f" (shot {self.segment})"
        if self.kind == "attribute":
            return f"{self.text!r} claims {self.attribute} = {self.value}{where}"
        if self.kind == "unsupported":
            return f"{self.text!r} states something no annotation field supports{where}"
        return f"{self.text!r} ({self.kind}){where}"


def _segments(prompt: str) -> list[tuple[int, str]]:
    marks = list(SHOT_MARK.finditer(prompt))
    if not marks:
        return [(0, prompt)]
    out = [(0, prompt[:marks[0].start()])]
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(prompt)
        out.append((int(m.group(1)), prompt[m.end():end]))
    return out


def _mask(text: str, m: re.Match) -> str:
    return text[:m.start()] + " " * (m.end() - m.start()) + text[m.end():]


def claims(prompt: str, vocabulary: Vocabulary | None = None) -> list[Claim]:
    """Every claim the prompt makes that the vocabulary can read."""
    vocab = vocabulary or load_vocabulary()
    out: list[Claim] = []
    for seg, text in _segments(prompt):
        for m in QUOTE.finditer(text):
            out.append(Claim("quote", m.group(1), segment=seg))
            text = _mask(text, m)
        for m in COUNT.finditer(text):
            word = m.group(1).lower()
            n = int(word) if word.isdigit() else NUMBER_WORDS.index(word)
            noun = m.group(2).lower()
            kind = "shots" if noun.startswith("shot") else "cuts" if noun.startswith("cut") else "people"
            out.append(Claim("count", m.group(0), kind, n, seg))
        for m in SECONDS.finditer(text):
            out.append(Claim("seconds", m.group(0), value=float(m.group(1)), segment=seg))
            text = _mask(text, m)
        for pattern, rx in vocab.unsupported_patterns:
            for m in rx.finditer(text):
                out.append(Claim("unsupported", m.group(0), segment=seg))
        for attribute, value, rx in vocab.claim_patterns:
            for m in list(rx.finditer(text)):
                out.append(Claim("attribute", m.group(0), attribute, value, seg))
                text = _mask(text, m)
        for code, rx in vocab.language_patterns:
            for m in rx.finditer(text):
                out.append(Claim("language", m.group(0), "language", code, seg))
        for name in sorted(vocab.spec.colour_names, key=len, reverse=True):
            rx = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.IGNORECASE)
            for m in list(rx.finditer(text)):
                out.append(Claim("colour", m.group(0), "colour_name", name, seg))
                text = _mask(text, m)
    return out


def _supported_values(attrs_list: list[dict[str, Any]], attribute: str) -> set[Any]:
    values = {a.get(attribute) for a in attrs_list if a.get(attribute) is not None}
    if attribute == "people" and any(a.get("faces") in ("one", "several") for a in attrs_list):
        values.add("present")
    if attribute == "faces" and any(a.get("faces") == "several" for a in attrs_list):
        values.add("several")
    return values


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def unsupported(prompt: str, facts: Facts, vocabulary: Vocabulary | None = None) -> list[Claim]:
    """The claims of `prompt` that `facts` do not support (empty: the prompt states only what is known)."""
    vocab = vocabulary or load_vocabulary()
    bad = []
    for c in claims(prompt, vocab):
        shot = facts.shots[c.segment - 1] if c.segment and c.segment <= len(facts.shots) else None
        if c.segment and shot is None:
            bad.append(c)  # "Shot 5:" of a three-shot case
            continue
        scope = [facts.attributes] + [s["attributes"] for s in facts.shots] if shot is None else [
            {k: (shot["attributes"].get(k) if k in PER_SHOT else v) for k, v in facts.attributes.items()}]
        if c.kind == "unsupported":
            bad.append(c)
        elif c.kind == "attribute":
            if c.value not in _supported_values(scope, c.attribute):
                bad.append(c)
        elif c.kind == "language":
            if c.value != facts.attributes.get("language"):
                bad.append(c)
        elif c.kind == "colour":
            names = set(facts.colours) if shot is None else set(shot["colours"])
            names |= {n for s in facts.shots for n in s["colours"]} if shot is None else set()
            if c.value not in names:
                bad.append(c)
        elif c.kind == "quote":
            if not facts.transcript or _norm(c.text) not in _norm(facts.transcript):
                bad.append(c)
        elif c.kind == "seconds":
            lengths = [facts.duration_s] if shot is None else [shot["duration_s"]]
            if shot is None:
                lengths += [s["duration_s"] for s in facts.shots]
            if not any(x is not None and abs(c.value - x) <= SECONDS_TOLERANCE for x in lengths):
                bad.append(c)
        elif c.kind == "count":
            if not _count_ok(c, facts, shot):
                bad.append(c)
    return bad


def _count_ok(c: Claim, facts: Facts, shot: dict[str, Any] | None) -> bool:
    if c.attribute == "shots":
        return c.value == (1 if shot is not None else facts.n_shots)
    if c.attribute == "cuts":
        return shot is None and c.value == facts.n_shots - 1
    if c.value == 1:
        return facts.attributes.get("faces") == "one"
    return facts.n_people is not None and c.value == facts.n_people
