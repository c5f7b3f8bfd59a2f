"""`evalverse bench` on the command line: validation output, bad input as one error, progress text."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from bench_support import write_suite
from evalverse.bench.progress import Progress, bar_line, clock, eta

REPO = Path(__file__).resolve().parents[1]


def _cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "evalverse.cli", *args], cwd=cwd, text=True, capture_output=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": "/tmp"}, timeout=120)


def test_validate_reports_the_submission(tmp_path):
    suite = write_suite(tmp_path / "s.jsonl", 3)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "c0.mp4").write_bytes(b"x")
    (sub / "zz.mp4").write_bytes(b"x")
    res = _cli("bench", "validate", "--suite", str(suite), "--videos", str(sub), "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["cases"] == 3 and out["submission"]["missing"] == ["c1", "c2"] and out["submission"]["extra"] == ["zz.mp4"]


def test_a_bad_suite_is_an_error_exit_2_and_nothing_runs(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "p", "mode": "v2v"}\n{"id": "a", "prompt": "q"}\n')
    res = _cli("bench", "run", "--suite", str(bad), "--model", "m", "--videos", str(tmp_path), "--db", str(tmp_path / "x.duckdb"))
    assert res.returncode == 2 and res.stderr.startswith("error: 2 problem(s) in suite") and "Traceback" not in res.stderr
    assert not (tmp_path / "x.duckdb").exists()
    res = _cli("bench", "run", "--suite", str(write_suite(tmp_path / "ok.jsonl", 1)), "--model", "m",
               "--videos", str(tmp_path / "nowhere"))
    assert res.returncode == 2 and "does not exist" in res.stderr


def test_progress_line_and_eta():
    assert clock(None) == "?" and clock(65) == "1:05" and clock(3725) == "1:02:05"
    assert eta(0, 10, 5.0) is None and eta(2, 10, 10.0) == 40.0
    line = bar_line(5, 10, 30.0, failed=1, cached=2)
    assert "5/10" in line and "10.0 clips/min" in line and "1 failed" in line and "ETA 0:30" in line
    quiet = io.StringIO()
    p = Progress(3, stream=quiet, enabled=False)
    p.update()
    p.close()
    assert quiet.getvalue() == ""  # not a terminal: nothing printed
    loud = io.StringIO()
    p = Progress(2, stream=loud, enabled=True)
    p.update(cached=True)
    p.close()
    assert "\r" in loud.getvalue() and "1/2" in loud.getvalue() and loud.getvalue().endswith("\n")
