"""Parser of judge replies: a table of what models write, plus seeded random truncations and noise."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from evalverse.judge.parsing import find_json_object, parse_judgment, split_reasoning
from evalverse.taxonomy import load_taxonomy

TAX = load_taxonomy(Path(__file__).parent / "fixtures" / "judge_taxonomy.yaml")
VQ = TAX.dimension("visual_quality")
QUESTIONS = [q for s in VQ.sub_dimensions for q in s.questions]  # vq_sharp, vq_noise (neg), vq_plastic (scale), vq_flicker

GOOD = """[vq_sharp] Edges are crisp at t=0.5 s; sharpness 410 supports it.
[vq_noise] No visible grain; noise sigma 1.2.
[vq_plastic] Skin looks slightly waxy.
[vq_flicker] Luma is steady, flicker index 0.004.

Self-reflection: I said the skin is waxy; the evidence cannot confirm texture, so I keep a middle rating.

```json
{"answers": {"vq_sharp": "yes", "vq_noise": "no", "vq_plastic": 3, "vq_flicker": "yes"}, "score": 4, "confidence": 0.7}
```"""

EXPECTED = {"vq_sharp": True, "vq_noise": False, "vq_plastic": 3.0, "vq_flicker": True}


def test_contract_reply_parses_fully():
    p = parse_judgment(GOOD, QUESTIONS)
    assert p.ok, p.error
    assert p.answers == EXPECTED
    assert p.score == 4.0 and p.confidence == 0.7
    assert p.reasoning.startswith("[vq_sharp]") and "flicker index 0.004" in p.reasoning
    assert p.reflection.startswith("I said the skin is waxy") and "```" not in p.reflection
    assert p.warnings == []


BODY = '"answers": {"vq_sharp": "yes", "vq_noise": "no", "vq_plastic": 3, "vq_flicker": "yes"}'

# (reply, expected ok, expected score or error fragment)
TABLE = [
    # accepted variants
    ('{%s, "score": 4, "confidence": 0.5}' % BODY, True, 4.0),  # bare JSON, no prose, no fence
    ('Reasoning...\n```\n{%s, "score": 4}\n```' % BODY, True, 4.0),  # fence without language
    ('Reasoning\n```JSON\n{%s, "score": 4,}\n```\nThanks!' % BODY, True, 4.0),  # trailing comma, prose after
    ("Reasoning\n{'answers': {'vq_sharp': 'yes', 'vq_noise': 'no', 'vq_plastic': 3, 'vq_flicker': 'yes'}, 'score': 4}", True, 4.0),
    ('x\n{"answers": {"vq_sharp": true, "vq_noise": false, "vq_plastic": "3", "vq_flicker": "Yes."}, "score": "4"}', True, 4.0),
    ('x\n{"answers": {"vq_sharp": True, "vq_noise": False, "vq_plastic": 3, "vq_flicker": "y"}, "score": 4.5, }', True, 4.5),
    ('An example: {"score": 1} is wrong.\nReal verdict:\n{%s, "score": 2}' % BODY, True, 2.0),  # last object wins
    ('{%s, "score": " 3 "}' % BODY, True, 3.0),
    # rejected: every one must fail with a reason, never a score
    ("", False, "empty"),
    ("   \n\t ", False, "empty"),
    ("The video looks good. Score: 4/5.", False, "no JSON verdict"),
    ('```json\n{%s, "score": 4' % BODY, False, "truncated"),
    ('```json\n{"answers": {"vq_sharp": "yes", "vq_no', False, "truncated"),
    ('{%s, "score": 7}' % BODY, False, "outside the scale"),
    ('{%s, "score": 0}' % BODY, False, "outside the scale"),
    ('{%s, "score": -2}' % BODY, False, "outside the scale"),
    ('{%s, "score": "four"}' % BODY, False, "must be a number"),
    ('{%s, "score": true}' % BODY, False, "must be a number"),
    ('{%s, "score": NaN}' % BODY, False, ""),
    ('{%s}' % BODY, False, 'no "score"'),
    ('{"score": 4}', False, 'no "answers"'),
    ('{"answers": ["yes", "no"], "score": 4}', False, "keyed by question id"),
    ('{"answers": {"vq_sharp": "maybe"}, "score": 4}', False, "yes, no or null"),
    ('{"answers": {"vq_sharp": 1}, "score": 4}', False, "yes, no or null"),
    ('{"answers": {"vq_plastic": 9}, "score": 4}', False, "must be 1–5"),
    ('{"answers": {"vq_plastic": "high"}, "score": 4}', False, "must be a number"),
    ('{"answers": {"vq_plastic": true}, "score": 4}', False, "must be a number"),
    ('{%s, "score": 4, "confidence": 80}' % BODY, False, "confidence"),
    ('{"answers": {"vq_sharp": "yes"} "score": 4}', False, "could not be decoded"),
]


@pytest.mark.parametrize("reply,ok,expect", TABLE)
def test_reply_table(reply, ok, expect):
    p = parse_judgment(reply, QUESTIONS)
    assert p.ok is ok, (p.error, reply)
    if ok:
        assert p.score == expect
        assert p.error is None
    else:
        assert p.error and expect.lower() in p.error.lower()
        # (a failed parse may keep what it read, e.g. a score; the chat judge records it as unparsed without a
        # score: tests/test_judge_openai.py::test_still_malformed_after_repair_is_unparsed_without_score)


def test_missing_and_unknown_answers_are_warned_not_invented():
    p = parse_judgment('{"answers": {"vq_sharp": "no", "zz_other": "yes"}, "score": 2}', QUESTIONS)
    assert p.ok
    assert p.answers == {"vq_sharp": False, "vq_noise": None, "vq_plastic": None, "vq_flicker": None}
    assert any("zz_other" in w for w in p.warnings)
    assert any("no answer to vq_noise" in w for w in p.warnings)


def test_null_answers_and_null_score_are_kept_as_none():
    p = parse_judgment('{"answers": {"vq_sharp": null, "vq_noise": "n/a", "vq_plastic": null, "vq_flicker": "unknown"}, '
                       '"score": null}', QUESTIONS)
    assert p.ok and p.score is None
    assert set(p.answers.values()) == {None}


def test_reflection_marker_variants():
    for marker in ("Self-reflection:", "**Self-Reflection:**", "## Self reflection", "SELF-REFLECTION"):
        reasoning, reflection = split_reasoning(f"step one\nstep two\n{marker}\nI re-check.\n")
        assert reasoning == "step one\nstep two" and reflection == "I re-check.", marker
    assert split_reasoning("no marker here") == ("no marker here", "")


def test_braces_inside_strings_do_not_confuse_the_scanner():
    text = 'Note the sign "{" in the frame.\n{"answers": {"vq_sharp": "yes {not a brace}"}, "score": 3}'
    found = find_json_object(text)
    assert not isinstance(found, str)
    # the answer text is not yes/no, so the parse fails on that, not on the braces
    p = parse_judgment(text, QUESTIONS[:1])
    assert not p.ok and "yes, no or null" in p.error


def test_random_truncations_never_give_a_partial_verdict():
    """Cut a valid reply anywhere: the parse either fails, or (cut after the JSON closed) equals the full parse."""
    full = parse_judgment(GOOD, QUESTIONS)
    json_end = GOOD.rindex("}") + 1
    rng = random.Random(20260124)
    cuts = sorted({rng.randrange(0, len(GOOD) + 1) for _ in range(400)} | set(range(json_end - 5, len(GOOD) + 1)))
    oks = 0
    for cut in cuts:
        p = parse_judgment(GOOD[:cut], QUESTIONS)
        if cut < json_end:
            assert not p.ok, f"cut at {cut} parsed: {GOOD[:cut]!r}"
            assert p.error
        else:
            assert p.ok and p.answers == full.answers and p.score == full.score
            oks += 1
    assert oks >= 1


def test_random_prose_noise_around_the_verdict():
    rng = random.Random(7)
    alphabet = "abc xyz .,;:!?\n'\"()[]-*#`"
    verdict = json.dumps({"answers": {k: ("yes" if v is True else "no" if v is False else v) for k, v in EXPECTED.items()},
                          "score": 3, "confidence": 0.4})
    for _ in range(200):
        before = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
        after = "".join(rng.choice(alphabet.replace("{", "")) for _ in range(rng.randrange(0, 40)))
        p = parse_judgment(before + "\n" + verdict + "\n" + after, QUESTIONS)
        assert p.ok, (before, after, p.error)
        assert p.answers == EXPECTED and p.score == 3.0


def test_random_corruptions_fail_or_parse_exactly():
    """Replace one character of the JSON: the result is either a clean failure or a verdict whose
    values are all valid; never an out-of-range score."""
    rng = random.Random(99)
    start = GOOD.index("{")
    for _ in range(300):
        i = rng.randrange(start, GOOD.rindex("}") + 1)
        corrupted = GOOD[:i] + rng.choice("9x}{,\"'0 ") + GOOD[i + 1:]
        p = parse_judgment(corrupted, QUESTIONS)
        if p.ok:
            assert p.score is None or 1.0 <= p.score <= 5.0
            assert all(v is None or isinstance(v, bool) or 1.0 <= v <= 5.0 for v in p.answers.values())
        else:
            assert p.error
