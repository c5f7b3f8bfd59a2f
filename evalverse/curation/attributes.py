"""Attributes: the categorical labels a sample is balanced on and a prompt states, derived from the
annotation's fields (after any human correction) with the vocabulary's thresholds and the judge's presence
minimums (judge/gating.yaml). Pure functions of a record; nothing here reads a file but the two data files.

A derived value is None when the fields it rests on are unknown (their operator did not run usefully): an
unknown attribute is neither balanced on nor stated. A corrected attribute (a person's label) wins over the
derived one.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from evalverse.curation.fields import field_known, field_value
from evalverse.curation.vocabulary import Vocabulary, load_vocabulary

CAMERA_FAMILY = {"static": "static", "handheld": "handheld"}
DIRECTIONS = {"pan": ("left", "right"), "tilt": ("up", "down"), "zoom": ("in", "out"),
              "roll": ("clockwise", "counterclockwise")}


def camera_family(label: str | None) -> tuple[str | None, str | None]:
    """("pan", "right") for "pan_right"; ("static", None); (None, None) for no label."""
    if not label:
        return None, None
    if label in CAMERA_FAMILY:
        return CAMERA_FAMILY[label], None
    family, _, direction = label.partition("_")
    if family in DIRECTIONS and direction in DIRECTIONS[family]:
        return family, direction
    return None, None


@lru_cache(maxsize=1024)
def _lab(hex_colour: str) -> tuple[float, float, float]:
    import numpy as np

    from evalverse.operators.colour import rgb_to_lab

    rgb = np.array([[int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]], np.uint8)
    lab = rgb_to_lab(rgb)[0]
    return float(lab[0]), float(lab[1]), float(lab[2])


def colour_name(hex_colour: str, vocabulary: Vocabulary | None = None) -> str:
    """The vocabulary's colour name nearest to `hex_colour` (CIELAB delta E 76)."""
    vocab = vocabulary or load_vocabulary()
    target = _lab(hex_colour.lower())
    return min(vocab.spec.colour_names.items(),
               key=lambda kv: sum((a - b) ** 2 for a, b in zip(_lab(kv[1]), target)))[0]


def _presence():
    from evalverse.judge.gating_data import load_gating

    return load_gating().presence


def _band(value: float | None, low: float, high: float, names: tuple[str, str, str]) -> str | None:
    if value is None:
        return None
    return names[0] if value < low else names[2] if value > high else names[1]


def sound_value(has_audio: Any, silent: Any, voiced_s: Any, n_words: Any, music: Any, ambience: Any,
                known: dict[str, bool], vocab: Vocabulary) -> str | None:
    """Main sound: no_audio, silent, then speech before music before ambience, else silent."""
    presence = _presence()
    if has_audio is False:
        return "no_audio"
    if silent:
        return "silent"
    if not (known.get("speech") and known.get("audio")):
        return None
    if (voiced_s or 0) >= presence.speech.value or (n_words or 0) > 0:
        return "speech"
    if (music or 0) >= presence.music.value:
        return "music"
    if (ambience or 0) >= vocab.threshold("ambience_share"):
        return "ambience"
    return "silent"


def clip_attributes(fields: dict[str, dict[str, Any]], vocabulary: Vocabulary | None = None) -> dict[str, Any]:
    """{attribute: value or None} for a clip's fields."""
    vocab = vocabulary or load_vocabulary()
    presence = _presence()
    v = lambda name: field_value(fields, name)  # noqa: E731
    k = lambda name: field_known(fields, name)  # noqa: E731
    out: dict[str, Any] = {}
    person = k("person_fraction") and (v("person_fraction") or 0) >= presence.person.value
    out["people"] = ("present" if person else "none") if k("person_fraction") else None
    out["shot_size"] = (v("shot_size") if person and v("shot_size") else "no_person") if k("shot_size") else None
    out["camera"] = camera_family(v("camera_movement"))[0] if k("camera_movement") else None
    n_shots = v("n_shots") if k("n_shots") else None
    out["multi_shot"] = None if n_shots is None else ("multi_shot" if n_shots >= 2 else "single_shot")
    mean = v("mean_shot_s")
    if n_shots is None:
        out["cut_rhythm"] = None
    elif n_shots < 2:
        out["cut_rhythm"] = "single_shot"
    else:
        out["cut_rhythm"] = _band(mean, vocab.threshold("cut_rhythm_fast_s"), vocab.threshold("cut_rhythm_slow_s"),
                                  ("fast", "medium", "slow"))
    if k("face_ratio"):
        seen = (v("face_ratio") or 0) >= presence.face.value
        out["faces"] = "none" if not seen else ("several" if (v("n_identities") or 0) >= 2 else "one")
    else:
        out["faces"] = None
    known = {"speech": k("voiced_s"), "audio": k("music_share")}
    out["sound"] = sound_value(v("has_audio"), v("audio_silent"), v("voiced_s"), v("n_words"), v("music_share"),
                               v("ambience_share"), known, vocab)
    out["language"] = None if out["sound"] is None else (
        (v("language") or None) if out["sound"] == "speech" else "none")
    out["lighting_key"] = v("lighting_key") if k("lighting_key") else None
    out["colour"] = _colour(v("grayscale"), v("colourfulness"), vocab) if k("colourfulness") else None
    out["colour_temperature"] = None if (out["colour"] in (None, "black_and_white") or not k("cct_k")) else _band(
        v("cct_k"), vocab.threshold("warm_below_k"), vocab.threshold("cool_above_k"), ("warm", "neutral", "cool"))
    out["duration"] = _duration(v("duration_s"), vocab)
    return out


def _colour(grayscale: Any, colourfulness: Any, vocab: Vocabulary) -> str | None:
    if grayscale:
        return "black_and_white"
    if colourfulness is None:
        return None
    if colourfulness < vocab.threshold("muted_below"):
        return "muted"
    return "vivid" if colourfulness >= vocab.threshold("vivid_from") else "moderate"


def _duration(seconds: Any, vocab: Vocabulary) -> str | None:
    if seconds is None:
        return None
    if seconds <= vocab.threshold("short_clip_s"):
        return "short"
    return "medium" if seconds <= vocab.threshold("long_clip_s") else "long"


def shot_attributes(shot: dict[str, Any], clip: dict[str, Any], clip_fields: dict[str, dict[str, Any]],
                    vocabulary: Vocabulary | None = None) -> dict[str, Any]:
    """A shot's attributes: its own where the evidence is per shot (shot size, camera, sound, colour
    temperature, people, duration); the clip's for what is measured per clip only (faces, key, colour)."""
    vocab = vocabulary or load_vocabulary()
    presence = _presence()
    f = shot["fields"]
    v = lambda name: field_value(f, name)  # noqa: E731
    k = lambda name: field_known(f, name)  # noqa: E731
    out = dict(clip)
    person = k("person_fraction") and (v("person_fraction") or 0) >= presence.person.value
    out["people"] = ("present" if person else "none") if k("person_fraction") else None
    out["shot_size"] = (v("shot_size") if person and v("shot_size") else "no_person") if k("shot_size") else None
    out["camera"] = camera_family(v("camera_movement"))[0] if k("camera_movement") else None
    out["multi_shot"], out["cut_rhythm"] = "single_shot", "single_shot"
    cv = lambda name: field_value(clip_fields, name)  # noqa: E731
    known = {"speech": k("voiced_s"), "audio": k("music_share")}
    out["sound"] = sound_value(cv("has_audio"), cv("audio_silent"), v("voiced_s"), 0, v("music_share"),
                               v("ambience_share"), known, vocab)
    out["language"] = None if out["sound"] is None else (clip.get("language") if out["sound"] == "speech" else "none")
    if out.get("colour") not in (None, "black_and_white") and k("cct_k"):
        out["colour_temperature"] = _band(v("cct_k"), vocab.threshold("warm_below_k"), vocab.threshold("cool_above_k"),
                                          ("warm", "neutral", "cool"))
    out["duration"] = _duration(shot["end"] - shot["start"], vocab)
    return out
