"""Suites as data: every problem listed before anything runs; roots; the shipped suites are valid."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalverse.bench.suite import load_suite, split_seed
from evalverse.errors import DataError
from evalverse.taxonomy import load_taxonomy

REPO = Path(__file__).resolve().parents[1]


def _write(path: Path, rows: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_every_problem_is_listed_with_its_line(tmp_path):
    (tmp_path / "ref.png").write_bytes(b"x")
    suite = _write(tmp_path / "s.jsonl", [
        {"id": "a", "prompt": "one"},
        {"id": "a", "prompt": "dup"},
        {"id": "b", "prompt": "two", "mode": "i2v"},
        {"id": "c", "prompt": "three", "mode": "r2v"},
        {"id": "d", "prompt": "four", "ground_truth": "nowhere.mp4"},
        {"id": "e", "prompt": "five", "colour": "red"},
        "{not json",
        {"id": "f", "prompt": "six", "tags": ["dimension:nonsense"]},
        {"id": "a-2", "prompt": "reads as seed 2 of a"},
        {"id": "g", "prompt": "fine", "mode": "r2v", "reference": "ref.png"},
    ])
    with pytest.raises(DataError) as err:
        load_suite(suite)
    text = str(err.value)
    assert "nothing was run" in text
    for expected in ("line 2 (a): duplicate id, first on line 1", "line 3 (b): unknown mode 'i2v'",
                     "line 4 (c): mode r2v needs a `reference`", "line 5 (d): ground_truth 'nowhere.mp4' not found",
                     "line 6 (e): colour: Extra inputs are not permitted", "line 7: not valid JSON",
                     "line 8 (f): tag 'dimension:nonsense'", "line 9 (a-2): ambiguous id"):
        assert expected in text, expected
    assert "line 10" not in text and text.startswith("8 problem(s)")


def test_paths_resolve_against_the_header_root_or_an_override(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "gt.mp4").write_bytes(b"x")
    (tmp_path / "suites").mkdir()
    suite = _write(tmp_path / "suites" / "s.jsonl", [
        {"suite": {"name": "demo", "root": "../media"}},
        {"id": "a", "prompt": "p", "ground_truth": "gt.mp4"},
    ])
    s = load_suite(suite)
    assert s.name == "demo" and s.case("a").ground_truth == (media / "gt.mp4").resolve()
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "gt.mp4").write_bytes(b"y")
    assert load_suite(suite, root=moved).case("a").ground_truth == (moved / "gt.mp4").resolve()
    with pytest.raises(DataError, match="not found"):
        load_suite(suite, root=tmp_path)  # no gt.mp4 there
    with pytest.raises(DataError, match="header must be the first line"):
        load_suite(_write(tmp_path / "bad.jsonl", [{"id": "a", "prompt": "p"}, {"suite": {"name": "x"}}]))


def test_seed_names():
    ids = {"a", "shot-1", "b"}
    assert split_seed("a", ids) == ("a", 0)
    assert split_seed("a-3", ids) == ("a", 3)
    assert split_seed("shot-1", ids) == ("shot-1", 0)  # an exact id wins
    assert split_seed("c-1", ids) is None and split_seed("a-x", ids) is None


def test_cinematic_suite_covers_every_dimension_with_multi_shot_and_sound():
    s = load_suite(REPO / "suites" / "evalverse_cinematic.jsonl")
    tagged = {t.split(":", 1)[1] for c in s.cases for t in c.tags if t.startswith("dimension:")}
    assert tagged == {d.id for d in load_taxonomy().dimensions}
    assert sum("multi_shot" in c.tags for c in s.cases) >= 3 and sum("sound" in c.tags for c in s.cases) >= 4
    r2v = [c for c in s.cases if c.mode == "r2v"]
    assert r2v and all(c.reference is not None and c.reference.is_file() for c in r2v)


def test_fetv_suite_points_at_the_shared_clips(shared_dir):
    # the suite's own root is ../../shared/...: right for a checkout beside ../shared; EVALVERSE_SHARED elsewhere
    beside = (REPO.parent / "shared").resolve() == shared_dir.resolve()
    s = load_suite(REPO / "suites" / "fetv25.jsonl", root=None if beside else shared_dir / "media" / "fetv_rated_gifs")
    assert s.name == "fetv25" and len(s) == 25
    with_gt = [c for c in s.cases if c.ground_truth is not None]
    assert len(with_gt) == 24 and all(c.ground_truth.is_file() for c in with_gt)  # fetv_574 has no real clip shared
    assert s.case("fetv_21").prompt == "a fire is burning"
