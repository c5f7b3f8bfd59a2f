"""Settings from the environment, and the CLI's promise: user errors are one line, never a traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evalverse.config import Settings


def test_settings_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("EVALVERSE_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("EVALVERSE_DB", str(tmp_path / "x.duckdb"))
    monkeypatch.setenv("EVALVERSE_MAX_FILE_MB", "12.5")
    monkeypatch.delenv("EVALVERSE_MODELS", raising=False)
    s = Settings.from_env()
    assert s.db_path == tmp_path / "x.duckdb"
    assert s.models_dir == tmp_path / "d" / "models"
    assert s.limits.max_file_mb == 12.5


def test_bad_limit_is_rejected(monkeypatch):
    monkeypatch.setenv("EVALVERSE_MAX_FILE_MB", "-1")
    with pytest.raises(ValueError):
        Settings.from_env()


def _cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "evalverse.cli", *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_reports_bad_video_without_traceback(tmp_path: Path):
    bogus = tmp_path / "not_a_video.mp4"
    bogus.write_text("hello")
    proc = _cli("evidence", str(bogus), "--json", env_extra={"EVALVERSE_DB": str(tmp_path / "db.duckdb")})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error:")


def test_cli_help_is_fast_and_lists_areas():
    proc = _cli("--help")
    assert proc.returncode == 0
    for area in ("taxonomy", "leaderboard", "models", "evidence", "diagnose"):
        assert area in proc.stdout


def test_cli_import_loads_no_heavy_library():
    code = ("import sys, evalverse.cli; "
            "print([m for m in ('torch', 'gradio', 'cv2', 'transformers', 'mediapipe', 'duckdb') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_missing_option_is_a_usage_line_and_exit_2_not_a_traceback():
    """Regression: typer 0.29 raises its vendored click's MissingParameter, which main() did not recognise
    as a usage error, so `evalverse bench validate` with no --suite printed a traceback."""
    proc = _cli("bench", "validate")
    assert proc.returncode == 2, proc.stderr
    assert "Missing option '--suite'" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout


def test_python_dash_m_evalverse_is_the_command():
    proc = subprocess.run([sys.executable, "-m", "evalverse", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "bench" in proc.stdout and "suite" in proc.stdout
