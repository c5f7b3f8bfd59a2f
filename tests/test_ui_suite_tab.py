"""Suite tab helpers: a field table names the operator and version (or who corrected it), and a form's
correction is refused with the allowed values when the value or field is not allowed."""
from __future__ import annotations

import pytest

from curation_planted import record
from evalverse.curation.records import view
from evalverse.errors import InputError
from evalverse.ui.suite_tab import correction, field_rows


def test_field_rows_show_the_producer_and_a_correction_shows_who():
    rec = record(shot_size="wide", person_fraction=0.9)
    rows = {r[0]: r for r in field_rows(view(rec))}
    assert rows["shot_size"][1] == "wide" and rows["shot_size"][2].startswith("people 0")
    fix = correction(view(rec), "clip", "shot_size", "close_up", "ana")
    assert (fix["field"], fix["old_value"], fix["new_value"], fix["who"], fix["shot"]) == (
        "shot_size", "wide", "close_up", "ana", None)
    corrected = view(rec, [fix | {"id": 1, "corrected_at": "2026-01-02 10:00:00"}])
    row = {r[0]: r for r in field_rows(corrected)}["shot_size"]
    assert row[1] == "close_up" and row[2].startswith("corrected by ana") and "wide" in row[3]


def test_a_bad_value_or_a_clip_only_field_per_shot_is_refused():
    v = view(record())
    with pytest.raises(InputError, match="shot_size must be one of"):
        correction(v, "clip", "shot_size", "huge", "ana")
    with pytest.raises(InputError, match="cannot be corrected per shot"):
        correction(v, "shot 0", "transcript", "hello", "ana")
