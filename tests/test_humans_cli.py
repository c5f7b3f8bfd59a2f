"""`evalverse humans ...` and `evalverse annotators ...` end to end, and the FETV figures from the shared data."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalverse.cli import app
from evalverse.humans.roles import authenticate
from evalverse.store import Store

runner = CliRunner()


def _ok(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_annotators_add_prints_a_token_once_and_stores_only_its_hash(tmp_path):
    db = str(tmp_path / "a.duckdb")
    token = _ok("annotators", "add", "Ana Díaz", "--role", "reviewer", "--db", db).stdout.strip().splitlines()[-1]
    assert token.startswith("evv_")
    with Store.open(db, read_only=True) as store:
        assert authenticate(store, token).role == "reviewer"
        assert token.split("_", 2)[2] not in json.dumps(store._rows("SELECT * FROM annotator_tokens"), default=str)
    listing = _ok("annotators", "list", "--db", db).stdout
    assert "Ana Díaz" in listing and token not in listing
    bad = runner.invoke(app, ["annotators", "add", "x", "--role", "boss", "--db", db])
    assert bad.exit_code != 0 and "role must be one of annotator, reviewer, auditor" in str(bad.exception)


def test_fetv_both_files_import_and_give_the_human_ceiling(shared_dir: Path, tmp_path):
    db = str(tmp_path / "f.duckdb")
    gifs = shared_dir / "media" / "fetv_rated_gifs" / "ratings.csv"
    long = shared_dir / "data" / "fetv" / "fetv_ratings_long.csv"
    first = json.loads(_ok("humans", "import", str(gifs), "--format", "fetv", "--db", db, "--json").stdout)
    assert first["videos"] == {"by_content_hash": 124, "by_name": 0} and first["counts"]["pointwise"]["added"] == 744
    assert first["skipped"]["alignment"]["ratings"] == 372
    _ok("humans", "import", str(long), "--format", "fetv", "--db", db)
    report = json.loads(_ok("humans", "stats", "--json", "--bootstrap", "100", "--db", db).stdout)
    by = {(s["source"], g["axis"]): g for s in report["sources"] for g in s["groups"]}
    gif_static = by[("fetv:ratings", "static_quality")]
    assert (gif_static["raters"], gif_static["items"], gif_static["judgments"]) == (3, 124, 372)
    long_static = by[("fetv:fetv_ratings_long", "static_quality")]
    assert long_static["items"] == 2967 and long_static["raters"] == 3
    for g in by.values():  # raters agree well above chance, below perfection: a ceiling, not a formality
        assert 0.4 < g["alpha"]["value"] < 0.95 and g["alpha"]["ci95"][0] < g["alpha"]["value"] < g["alpha"]["ci95"][1]
        assert 0.5 < g["loo_srcc"]["mean"] < 0.95 and len(g["loo_srcc"]["per_rater"]) == 3
    text = _ok("humans", "stats", "--db", db, "--bootstrap", "0").stdout
    assert "leave-one-rater-out SRCC" in text and "visual_quality_temporal_consistency (temporal_quality)" in text


def test_export_then_import_jsonl_through_the_cli(tmp_path):
    db, other, out = str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb"), tmp_path / "h.jsonl"
    with Store.open(db) as store:
        store.add_pointwise("lens", "M", 4, "r1", qa_status="pass")
        store.add_pairwise("lens", "M", "N", "both_bad", "r1", qa_status="pass")
    _ok("humans", "export", str(out), "--db", db)
    assert [json.loads(line)["type"] for line in out.read_text().splitlines()] == ["header", "pairwise", "pointwise"]
    summary = json.loads(_ok("humans", "import", str(out), "--format", "jsonl", "--db", other, "--json").stdout)
    assert summary["counts"]["pairwise"]["added"] == 1 and summary["counts"]["pointwise"]["added"] == 1
    empty = runner.invoke(app, ["humans", "stats", "--db", str(tmp_path / "none.duckdb")])
    assert empty.exit_code != 0 and "no database" in str(empty.exception)


@pytest.mark.parametrize("args, message", [
    (["--format", "csv"], "--format must be one of"),
    (["--format", "pointwise", "--scale", "5"], "--scale must be LOW,HIGH"),
])
def test_bad_options_are_clear(tmp_path, args, message):
    path = tmp_path / "x.csv"
    path.write_text("video,rater,dimension,score\nv,r,lens,3\n")
    result = runner.invoke(app, ["humans", "import", str(path), *args, "--db", str(tmp_path / "d.duckdb")])
    assert result.exit_code != 0 and message in str(result.exception)
