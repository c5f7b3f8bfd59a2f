"""Shared fixtures. Tests are offline always; `slow` and `browser` markers mark the long ones."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("YOLO_OFFLINE", "1")

from evalverse.config import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EVALVERSE_SHARED", REPO.parent / "shared"))
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing every path into a fresh temporary folder."""
    return Settings(data_dir=tmp_path, db_path=tmp_path / "db" / "evalverse.duckdb", models_dir=tmp_path / "models")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.exists():
        pytest.skip(f"shared material not found at {SHARED} (set EVALVERSE_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def paper_csv() -> Path:
    """The paper's Table 3 win ratios: shipped in the repository (leaderboard_data/), so no test needs ../shared for it."""
    return REPO / "leaderboard_data" / "paper_table3_win_ratios.csv"


@pytest.fixture(scope="session")
def shared_media(shared_dir: Path) -> Path:
    return shared_dir / "media"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
