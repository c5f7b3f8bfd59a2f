"""`evalverse suite` on planted annotation files: sample prints the achieved balance against the target and
writes a sample file; bad input is one line and exit 2, with nothing written."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from curation_planted import record
from evalverse.commands.suite import app
from evalverse.curation.records import FORMAT, write_meta

REPO = Path(__file__).resolve().parents[1]


def _meta(tmp_path: Path) -> Path:
    recs = [record(f"c{i}", camera_movement=["static", "pan_left", "handheld"][i % 3],
                   n_shots=1 + i % 2, music_share=0.8 if i % 2 else 0.0) for i in range(9)]
    path = tmp_path / "meta.jsonl"
    write_meta(path, {"format": FORMAT, "folder": str(tmp_path)}, recs)
    return path


def test_sample_reports_achieved_against_target_and_writes_the_sample(tmp_path):
    meta = _meta(tmp_path)
    out = tmp_path / "s.jsonl"
    db = tmp_path / "db.duckdb"
    done = CliRunner().invoke(app, ["sample", str(meta), "--n", "6", "--balance", "camera,multi_shot,sound",
                                    "--seed", "3", "--out", str(out), "--db", str(db), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)["report"]
    assert report["n"] == 6 and report["distinct_sources"] == 6
    camera = {r["value"]: (r["target"], r["achieved"]) for r in report["attributes"]["camera"]["values"]}
    assert sum(t for t, _ in camera.values()) == 6 and len(camera) == 3 and all(t == 2 for t, _ in camera.values())
    lines = out.read_text().splitlines()
    assert json.loads(lines[0])["sample"]["balance"] == ["camera", "multi_shot", "sound"] and len(lines) == 7


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    meta = _meta(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO), "EVALVERSE_DB": str(tmp_path / "db.duckdb")}
    done = subprocess.run([sys.executable, "-m", "evalverse.cli", "suite", "sample", str(meta), "--n", "4",
                           "--balance", "camera,lens"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "unknown attribute(s) lens" in done.stderr and not (tmp_path / "meta.sample.jsonl").exists()
