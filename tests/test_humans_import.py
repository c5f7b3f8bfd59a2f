"""`evalverse humans import`: FETV and generic files, validation (bad rows listed, nothing half-imported),
idempotent re-import, the axis → taxonomy mapping as checked data, videos by content hash or by name."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from evalverse.cli import app
from evalverse.errors import DataError
from evalverse.humans.importers import read_judgments
from evalverse.humans.mapping import load_mapping
from evalverse.media.hashing import sha256_file
from evalverse.store import Store
from evalverse.store import migrations

runner = CliRunner()


def _csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _fetv_rows(n_prompts=2, models=("cogvideo", "zeroscope"), raters=("h0", "h1")):
    rows = []
    for p in range(n_prompts):
        for i, m in enumerate(models):
            for j, r in enumerate(raters):
                rows.append({"prompt_index": p, "video_id": f"video{p}", "model": m, "rater": r,
                             "static_quality": 1 + (p + i + j) % 5, "temporal_quality": 2, "alignment": 4,
                             "prompt": "a <i>dog</i> runs", "source": "MSRVTT"})
    return rows


def test_fetv_mapping_is_checked_against_the_taxonomy(tmp_path):
    fetv = load_mapping("fetv")
    assert fetv.mapped["static_quality"].dimension == "visual_quality"
    assert fetv.mapped["static_quality"].sub_dimension == "visual_quality_rendering_quality"
    assert fetv.mapped["temporal_quality"].sub_dimension == "visual_quality_temporal_consistency"
    assert set(fetv.skipped) == {"alignment"} and "prompt-following" in fetv.skipped["alignment"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\naxes:\n  sharp: {dimension: sharpness, reason: 'a reason long enough to pass'}\n"
                   "  soft: {dimension: lens, sub_dimension: visual_quality_physics, reason: 'a reason long enough'}\n")
    with pytest.raises(DataError) as err:
        load_mapping(bad)
    assert "unknown dimension 'sharpness'" in str(err.value)
    assert "'visual_quality_physics' is not a sub-dimension of lens" in str(err.value)
    (tmp_path / "noreason.yaml").write_text("name: x\naxes:\n  sharp: {dimension: lens, reason: short}\n")
    with pytest.raises(DataError, match="reason"):
        load_mapping(tmp_path / "noreason.yaml")


def test_fetv_long_layout_imports_by_name_and_skips_unmapped_axes(tmp_path):
    path = _csv(tmp_path / "long.csv", _fetv_rows())
    batch = read_judgments(path, "fetv")
    assert len(batch.pointwise) == 2 * 2 * 2 * 2  # prompts × models × raters × mapped axes
    assert batch.skipped["alignment"][0] == 8 and batch.named_videos == 4 and batch.hashed_videos == 0
    row = batch.pointwise[0]
    assert (row["video_hash"], row["video_name"], row["case_key"], row["axis"]) == (None, "fetv_0_cogvideo", "fetv_0", "static_quality")
    assert (row["scale_min"], row["scale_max"], batch.source["id"]) == (1.0, 5.0, "fetv:long")


def test_rated_files_are_identified_by_content_hash(tmp_path):
    (tmp_path / "fetv_0_cogvideo.gif").write_bytes(b"GIF89a one")
    rows = [{"file": "fetv_0_cogvideo.gif", "prompt_index": 0, "model": "cogvideo", "rater": r,
             "static_quality": 3, "temporal_quality": 4, "alignment": 5, "prompt": "p"} for r in ("h0", "h1")]
    rows.append({**rows[0], "file": "missing.gif", "rater": "h0"})
    batch = read_judgments(_csv(tmp_path / "ratings.csv", rows), "fetv")
    hashed = [r for r in batch.pointwise if r["video_name"] == "fetv_0_cogvideo.gif"]
    assert {r["video_hash"] for r in hashed} == {sha256_file(tmp_path / "fetv_0_cogvideo.gif")}
    assert [r["video_hash"] for r in batch.pointwise if r["video_name"] == "missing.gif"] == [None, None]


def test_bad_rows_are_all_listed_and_nothing_is_imported(tmp_path):
    rows = _fetv_rows()
    rows[1]["static_quality"] = 7
    rows[2]["temporal_quality"] = "good"
    rows[3]["rater"] = ""
    rows[5] = dict(rows[4])  # the same video, rater and axis twice
    path = _csv(tmp_path / "bad.csv", rows)
    store = Store.memory()
    with pytest.raises(DataError) as err:
        store.import_human_judgments(**dict(zip(("source", "pointwise", "pairwise"), _parts(read_judgments(path, "fetv")))))
    text = str(err.value)
    assert "5 problem(s) in 4 row(s)" in text and "nothing was imported" in text
    assert "line 3, static_quality: '7' is outside the scale 1-5" in text
    assert "line 4, temporal_quality: 'good' is not a number" in text
    assert "line 5, rater: empty" in text
    assert "line 7, static_quality: repeats line 6" in text
    assert store.counts()["human_pointwise"] == 0


def _parts(batch):
    return batch.source, batch.pointwise, batch.pairwise


def test_cli_import_is_one_transaction_idempotent_and_reports_updates(tmp_path):
    db = tmp_path / "h.duckdb"
    path = _csv(tmp_path / "long.csv", _fetv_rows())
    first = runner.invoke(app, ["humans", "import", str(path), "--format", "fetv", "--db", str(db), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["counts"]["pointwise"] == {"added": 16, "unchanged": 0, "updated": 0}
    again = runner.invoke(app, ["humans", "import", str(path), "--format", "fetv", "--db", str(db), "--json"])
    assert json.loads(again.output)["counts"]["pointwise"] == {"added": 0, "unchanged": 16, "updated": 0}
    rows = _fetv_rows()
    rows[0]["static_quality"] = 5 if rows[0]["static_quality"] != 5 else 4
    _csv(path, rows)
    changed = runner.invoke(app, ["humans", "import", str(path), "--format", "fetv", "--db", str(db), "--json"])
    assert json.loads(changed.output)["counts"]["pointwise"] == {"added": 0, "unchanged": 15, "updated": 1}
    with Store.open(db, read_only=True) as store:
        assert store.counts()["human_pointwise"] == 16
        [source] = store.human_sources()
        assert source["format"] == "fetv" and source["mapping"]["alignment"]["dimension"] is None
        assert (source["scale_min"], source["scale_max"]) == (1.0, 5.0) and len(source["file_sha256"]) == 64


def test_cli_bad_file_is_one_line_exit_2(tmp_path):
    path = _csv(tmp_path / "x.csv", [{"video": "v", "rater": "r", "dimension": "nonsense", "score": 3}])
    result = runner.invoke(app, ["humans", "import", str(path), "--format", "pointwise", "--db", str(tmp_path / "d.duckdb")])
    assert result.exit_code != 0 and "'nonsense' is neither a taxonomy dimension" in str(result.exception)


def test_pointwise_and_pairwise_generic_formats(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"video a")
    point = _csv(tmp_path / "p.csv", [
        {"video": "a.mp4", "rater": "r1", "dimension": "Lens", "score": 4, "model": "M", "case": "c1", "sub_dimension": "lens_focus"},
        {"video": "b.mp4", "rater": "r1", "dimension": "lighting", "score": 2, "model": "", "case": "c1", "sub_dimension": ""},
    ])
    batch = read_judgments(point, "pointwise", scale=(1, 5))
    assert [(r["dimension"], r["sub_dimension"], r["model"]) for r in batch.pointwise] == [("lens", "lens_focus", "M"), ("lighting", None, None)]
    assert batch.pointwise[0]["video_hash"] == sha256_file(tmp_path / "a.mp4") and batch.pointwise[1]["video_hash"] is None
    pair = _csv(tmp_path / "q.csv", [
        {"case": "c1", "video_a": "a.mp4", "video_b": "b.mp4", "rater": "r1", "dimension": "lens", "outcome": "both_bad",
         "model_a": "M", "model_b": "N", "left": "b", "seconds": "12.5"},
        {"case": "c1", "video_a": "a.mp4", "video_b": "b.mp4", "rater": "r2", "dimension": "lens", "outcome": "A"},
        {"case": "c1", "video_a": "a.mp4", "video_b": "a.mp4", "rater": "r3", "dimension": "lens", "outcome": "worse"},
        {"case": "c1", "video_a": "b.mp4", "video_b": "a.mp4", "rater": "r1", "dimension": "lens", "outcome": "b"},
    ])
    with pytest.raises(DataError) as err:
        read_judgments(pair, "pairwise")
    text = str(err.value)
    assert "line 4, outcome: 'worse' is not one of a, b, tie, both_bad" in text
    assert "line 5, video_a: repeats line 2" in text  # the same pair the other way round, same rater
    rows = list(csv.DictReader(pair.open()))[:2]
    good = read_judgments(_csv(tmp_path / "q2.csv", rows), "pairwise")
    store = Store.memory()
    store.import_human_judgments(good.source, good.pointwise, good.pairwise)
    got = store.human_outcomes()[["winner", "left_side", "seconds", "model_b"]].values.tolist()
    assert got[0] == ["both_bad", "b", 12.5, "N"] and got[1][0] == "a"


def test_migration_keeps_old_judgments_and_allows_both_bad(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    migrations.migrate(con, migrations.MIGRATIONS[:2])
    con.execute("INSERT INTO human_pairwise (dimension, model_a, model_b, winner, annotator, qa_status, created_at) "
                "VALUES ('lens', 'A', 'B', 'a', 'x', 'pass', now())")
    con.close()
    with Store.open(path) as store:
        assert store.schema_version == migrations.LATEST
        old = store.pairwise_judgments()
        assert old[["model_a", "winner", "annotator"]].values.tolist() == [["A", "a", "x"]]
        new_id = store.add_pairwise("lens", "A", "B", "both_bad", "y", qa_status="pass")
        assert new_id > int(old["id"].iloc[0])
        assert store.human_outcomes()["uid"].notna().all()
