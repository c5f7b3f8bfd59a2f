"""The language-model prompt writer is held to the template's guarantee: a prompt stating an unsupported fact
is sent back once with the words named, and a second bad answer (or a failed endpoint) falls back to the
template and says so. No network: the client's `complete` is replaced by a script."""
from __future__ import annotations

import pytest

from curation_planted import record
from evalverse.config import JudgeSettings, Settings
from evalverse.curation.prompts import facts_for, template_prompt, unsupported
from evalverse.curation.records import view
from evalverse.curation.writers import LanguageModelWriter, TemplateWriter, make_writer
from evalverse.errors import InputError
from evalverse.judge.backends.chat import JudgeCallError

FACTS = facts_for(view(record(shot_size="close_up", person_fraction=0.9, face_ratio=0.9, n_identities=1,
                              lighting_key="low", shots=[{"start": 0.0, "end": 6.2, "shot_size": "close_up",
                                                          "person_fraction": 0.9}])))
GOOD = "A close-up of one person in a single continuous shot, low-key lighting. About 6 seconds long."
BAD = "A handheld wide shot of two women at night. About 12 seconds long."


def _settings(tmp_path):
    return Settings(data_dir=tmp_path, db_path=tmp_path / "db.duckdb", models_dir=tmp_path / "models")


def _writer(tmp_path, answers):
    s = _settings(tmp_path).model_copy(
        update={"judge": JudgeSettings(openai_base_url="http://127.0.0.1:9/v1", openai_model="m")})
    w = make_writer("openai", s)
    assert isinstance(w, LanguageModelWriter)
    sent = []

    def complete(messages):
        sent.append([dict(m) for m in messages])
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    w.client.complete = complete
    return w, sent


def test_a_supported_answer_is_kept(tmp_path):
    assert unsupported(GOOD, FACTS) == []
    w, sent = _writer(tmp_path, [f"Prompt: “{GOOD}”"])
    out = w.write(FACTS, "t2v")
    assert out.prompt == GOOD  # "Prompt:" and the curly quotes around the whole answer are taken off
    assert out.rejected == [] and out.writer.startswith("openai m@http://127.0.0.1:9/v1") and len(sent) == 1


def test_an_unsupported_answer_is_sent_back_with_the_words_named_then_repaired(tmp_path):
    w, sent = _writer(tmp_path, [BAD, GOOD])
    out = w.write(FACTS, "t2v")
    assert out.prompt == GOOD and len(out.rejected) == 1 and "attempt 1" in out.rejected[0]
    assert len(sent) == 2 and "not among the facts given" in sent[1][-1]["content"]
    assert "handheld" in sent[1][-1]["content"]


def test_two_bad_answers_or_a_failed_endpoint_fall_back_to_the_template(tmp_path):
    for answers in ([BAD, BAD], [JudgeCallError("connection refused")]):
        w, _ = _writer(tmp_path, list(answers))
        out = w.write(FACTS, "r2v")
        assert out.prompt == template_prompt(FACTS, "r2v") and out.writer.endswith("-> template") and out.rejected
        assert unsupported(out.prompt, FACTS) == []


def test_openai_without_an_endpoint_says_what_to_set_and_auto_uses_the_template(tmp_path, monkeypatch):
    monkeypatch.delenv("EVALVERSE_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    bare = _settings(tmp_path)
    with pytest.raises(InputError, match="EVALVERSE_OPENAI_BASE_URL"):
        make_writer("openai", bare)
    assert isinstance(make_writer("auto", bare), TemplateWriter)
    with pytest.raises(InputError, match="--writer must be one of"):
        make_writer("gpt", bare)
