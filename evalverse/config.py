"""Run-time settings, read from the environment once and passed down explicitly.

Every knob has one name here; the CLI's flags override these values, nothing else reads os.environ.
"""
from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import BaseModel, Field

APP_NAME = "evalverse"
# The longest a process waits for another's lock on the results database before failing. An EvalVerse
# process keeps the file for one transaction (milliseconds; the largest, the leaderboard seed import,
# took 0.15 s on a loaded 2-core machine) plus a 50 ms linger, and hands it over within about a second
# when another process asks (evalverse.store.base). 30 s rides out heavy contention between the app and
# several CLI runs, while a stuck foreign holder (a DuckDB shell left open) still fails within a wait a
# person accepts. EVALVERSE_DB_LOCK_TIMEOUT overrides it.
DEFAULT_DB_LOCK_TIMEOUT_S = 30.0


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        from evalverse.errors import InputError

        raise InputError(f"{name} must be a number of seconds >= 0, not {value!r}")
    return seconds


class MediaLimits(BaseModel):
    """Input limits: a file over any of them is refused with a message before decoding starts."""

    max_file_mb: float = Field(2048, gt=0)
    max_duration_s: float = Field(600, gt=0)
    max_pixels: int = Field(3840 * 2160, gt=0)  # 4K UHD is accepted, larger is refused


class JudgeSettings(BaseModel):
    """Judge backends' knobs (the OpenAI API key is a secret: read from the environment at call time)."""

    vlm_model: str = "Qwen2.5-VL-3B-Instruct"  # a local path, or a folder name under models_dir
    vlm_device: str = "auto"  # auto | cpu | cuda
    openai_base_url: str | None = None  # None: https://api.openai.com/v1
    openai_model: str | None = None


class Settings(BaseModel):
    data_dir: Path
    db_path: Path
    models_dir: Path
    media_dir: Path | None = None  # the Diagnose tab may browse this folder and nothing outside it
    # how long to wait for another process's lock on db_path before failing (see evalverse.store.base)
    db_lock_timeout_s: float = Field(DEFAULT_DB_LOCK_TIMEOUT_S, ge=0)
    suite_root: Path | None = None  # overrides the folder a bench suite's relative paths resolve against
    limits: MediaLimits = MediaLimits()
    judge: JudgeSettings = JudgeSettings()
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)  # cores one diagnosis's operators may use

    @classmethod
    def from_env(cls) -> "Settings":
        data_dir = _env_path("EVALVERSE_DATA", Path(user_data_dir(APP_NAME)))
        media = os.environ.get("EVALVERSE_MEDIA_DIR")
        suite_root = os.environ.get("EVALVERSE_SUITE_ROOT")
        limits = MediaLimits(
            **{
                key: float(os.environ[env])
                for key, env in (
                    ("max_file_mb", "EVALVERSE_MAX_FILE_MB"),
                    ("max_duration_s", "EVALVERSE_MAX_DURATION_S"),
                    ("max_pixels", "EVALVERSE_MAX_PIXELS"),
                )
                if os.environ.get(env)
            }
        )
        return cls(
            data_dir=data_dir,
            db_path=_env_path("EVALVERSE_DB", data_dir / "evalverse.duckdb"),
            db_lock_timeout_s=_env_seconds("EVALVERSE_DB_LOCK_TIMEOUT", DEFAULT_DB_LOCK_TIMEOUT_S),
            models_dir=_env_path("EVALVERSE_MODELS", data_dir / "models"),
            media_dir=Path(media).expanduser() if media else None,
            suite_root=Path(suite_root).expanduser() if suite_root else None,
            limits=limits,
            **({"workers": int(os.environ["EVALVERSE_WORKERS"])} if os.environ.get("EVALVERSE_WORKERS") else {}),
            judge=JudgeSettings(
                **{
                    key: os.environ[env]
                    for key, env in (
                        ("vlm_model", "EVALVERSE_VLM_MODEL"),
                        ("vlm_device", "EVALVERSE_VLM_DEVICE"),
                        ("openai_base_url", "EVALVERSE_OPENAI_BASE_URL"),
                        ("openai_model", "EVALVERSE_OPENAI_MODEL"),
                    )
                    if os.environ.get(env)
                }
            ),
        )
