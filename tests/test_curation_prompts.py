"""Prompts from metadata: the template writer states only what the (planted) metadata holds, says nothing of
what is unknown, and the checker catches every unsupported claim, from the template or anyone else."""
from __future__ import annotations

import itertools

import pytest

from curation_planted import UNKNOWN, record
from evalverse.curation.prompts import claims, facts_for, template_prompt, unsupported
from evalverse.curation.records import view
from evalverse.curation.vocabulary import load_vocabulary

VOCAB = load_vocabulary()


def _facts(rec, shot=None):
    return facts_for(view(rec), shot)


def _claimed(prompt: str) -> set[tuple[str, str]]:
    return {(c.attribute, c.value) for c in claims(prompt) if c.kind == "attribute"}


def test_a_talking_close_up_states_its_facts_and_nothing_else():
    rec = record(shot_size="close_up", person_fraction=0.9, max_people=1, face_ratio=0.95, n_identities=1,
                 camera_movement="static", voiced_s=5.5, n_words=14, language="en",
                 transcript="My biggest weakness is asking for help. I learned that late.", lighting_key="low",
                 cct_k=3200.0, colourfulness=20.0, shots=[{"start": 0.0, "end": 6.2, "shot_size": "close_up",
                                                           "person_fraction": 0.9}])
    facts = _facts(rec)
    prompt = template_prompt(facts)
    assert unsupported(prompt, facts) == []
    assert _claimed(prompt) >= {("shot_size", "close_up"), ("faces", "one"), ("camera", "static"),
                                ("multi_shot", "single_shot"), ("sound", "speech"), ("lighting_key", "low"),
                                ("colour_temperature", "warm"), ("colour", "muted")}
    assert "English" in prompt and "“My biggest weakness is asking for help”" in prompt and "About 6 seconds" in prompt
    assert {c.value for c in claims(prompt) if c.kind == "colour"} == {"blue", "beige"}


def test_unknown_facts_are_not_stated():
    rec = record(shot_size=UNKNOWN, person_fraction=UNKNOWN, face_ratio=UNKNOWN, camera_movement=UNKNOWN,
                 voiced_s=UNKNOWN, music_share=UNKNOWN, n_words=UNKNOWN, lighting_key=UNKNOWN, colourfulness=UNKNOWN,
                 cct_k=UNKNOWN, palette=UNKNOWN)
    facts = _facts(rec)
    assert {k for k, v in facts.attributes.items() if v is None} >= {
        "people", "shot_size", "faces", "camera", "sound", "language", "lighting_key", "colour", "colour_temperature"}
    prompt = template_prompt(facts)
    assert prompt == "A single continuous shot. About 6 seconds long."
    assert unsupported(prompt, facts) == []


def test_no_audio_and_black_and_white_are_stated_as_such():
    rec = record(has_audio=False, voiced_s=UNKNOWN, music_share=UNKNOWN, grayscale=True, colourfulness=1.0,
                 palette=[{"hex": "#101010", "share": 0.6, "name": "black"}, {"hex": "#d0d0d0", "share": 0.4, "name": "light grey"}])
    facts = _facts(rec)
    prompt = template_prompt(facts)
    assert ("sound", "no_audio") in _claimed(prompt) and ("colour", "black_and_white") in _claimed(prompt)
    assert not any(a == "colour_temperature" for a, _ in _claimed(prompt))  # a grey picture has no warmth to state
    assert unsupported(prompt, facts) == []


def test_a_multi_shot_prompt_describes_each_shot_with_its_own_facts():
    shots = [{"start": 0.0, "end": 1.5, "camera_movement": "pan_left"},
             {"start": 1.5, "end": 3.0, "shot_size": "wide", "person_fraction": 0.8, "camera_movement": "static"},
             {"start": 3.0, "end": 4.0, "camera_movement": "tilt_up"}]
    rec = record(n_shots=3, mean_shot_s=1.33, duration_s=4.0, camera_movement="pan_left", person_fraction=0.3,
                 shot_size="wide", face_ratio=0.5, n_identities=2, shots=shots, music_share=0.8)
    facts = _facts(rec)
    prompt = template_prompt(facts)
    assert unsupported(prompt, facts) == []
    assert "three shots" in prompt and "rapid cutting" in prompt and "musical score" in prompt
    assert "Shot 1: the camera pans left" in prompt and "Shot 3: the camera tilts up" in prompt
    assert "Shot 2: a wide shot of two people, a locked-off static camera" in prompt
    # the same words in the wrong shot are caught: shot 1 is no wide shot and does not tilt
    wrong = prompt.replace("Shot 1: the camera pans left", "Shot 1: a wide shot, the camera tilts up")
    assert {(c.attribute, c.value, c.segment) for c in unsupported(wrong, facts)} == {
        ("shot_size", "wide", 1), ("camera", "tilt", 1)}


COMBINATIONS = list(itertools.product(
    ["extreme_close_up", "medium", "extreme_wide", None], ["static", "handheld", "zoom_in", "roll_clockwise"],
    [0, 1, 3], ["speech", "music", "ambience", "silent"], ["low", "high"], [10.0, 45.0, 90.0], [1, 2]))
# the fast suite takes every 23rd of the 2304 combinations (every value of every factor occurs); -m slow all
SPREAD = [pytest.param(*c, marks=() if i % 23 == 0 else pytest.mark.slow) for i, c in enumerate(COMBINATIONS)]


@pytest.mark.parametrize("size,camera,faces,sound,key,colourfulness,shots", SPREAD)
def test_every_planted_combination_yields_a_prompt_of_supported_facts_only(size, camera, faces, sound, key,
                                                                           colourfulness, shots):
    audio = {"speech": dict(voiced_s=3.0, n_words=5, language="ja", transcript="Konnichiwa minna san."),
             "music": dict(music_share=0.7), "ambience": dict(ambience_share=0.6), "silent": {}}[sound]
    shot_rows = [{"start": 0.0, "end": 3.0, "shot_size": size, "person_fraction": 0.9 if size else 0.0,
                  "camera_movement": camera}] + ([{"start": 3.0, "end": 6.2}] if shots == 2 else [])
    rec = record(shot_size=size, person_fraction=0.9 if size else 0.0, camera_movement=camera,
                 face_ratio=0.9 if faces else 0.0, n_identities=faces, lighting_key=key, colourfulness=colourfulness,
                 n_shots=shots, mean_shot_s=6.2 / shots, shots=shot_rows, **audio)
    facts = _facts(rec)
    for mode in ("t2v", "r2v"):
        prompt = template_prompt(facts, mode)
        assert unsupported(prompt, facts) == [], prompt
        stated = _claimed(prompt)
        held = {(a, v) for a, v in facts.attributes.items()} | {
            (a, v) for s in facts.shots for a, v in s["attributes"].items()} | {("people", "present")}
        assert stated <= held, (stated - held, prompt)


@pytest.mark.parametrize("text,kind", [
    ("A handheld close-up of one person.", "attribute"),  # static camera, no person
    ("A young woman smiles at the camera.", "unsupported"),
    ("A slow dolly shot at night.", "unsupported"),
    ("A sequence of four shots.", "count"),
    ("Two people argue.", "count"),
    ("About 12 seconds long.", "seconds"),
    ("A palette of red and gold.", "colour"),
    ("She speaks French.", "language"),
    ("A voice says: “Nobody said that.”", "quote"),
])
def test_the_checker_catches_each_kind_of_unsupported_claim(text, kind):
    rec = record(voiced_s=2.0, n_words=4, language="en", transcript="Hello there, friend.")
    bad = unsupported(text, _facts(rec))
    assert kind in {c.kind for c in bad}, [c.describe() for c in bad]


def test_supported_paraphrases_pass_the_checker():
    rec = record(shot_size="medium", person_fraction=0.9, face_ratio=0.9, n_identities=1, voiced_s=2.0, n_words=3,
                 language="en", transcript="Hello there, friend.", lighting_key="high", colourfulness=70.0)
    facts = _facts(rec)
    text = ("One continuous take: a mid-shot of a lone figure on a tripod, brightly lit, vibrant blue and beige; "
            "spoken English dialogue: \"hello there\". 6 seconds.")
    assert [c.describe() for c in unsupported(text, facts)] == []


def test_a_japanese_transcript_is_quoted_by_its_first_sentence_only():
    rec = record(voiced_s=8.0, n_words=2, language="ja",
                 transcript="前回の内容ではまだまだ表面までしか触れていませんでした。 奥に進むにつれ、誰も知らない事実が明らかになるでしょう。")
    facts = _facts(rec)
    prompt = template_prompt(facts)
    assert "“前回の内容ではまだまだ表面までしか触れていませんでした”" in prompt and "奥に進む" not in prompt
    assert unsupported(prompt, facts) == []
