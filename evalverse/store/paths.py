"""Checking a database path before DuckDB sees it, and explaining DuckDB's connect errors to a user."""
from __future__ import annotations

import os
from pathlib import Path

from evalverse.errors import StoreError


def prepare_path(path: Path, read_only: bool) -> Path:
    if path.exists() and path.is_dir():
        raise StoreError(f"database path {path} is a folder; give a file path such as {path / 'evalverse.duckdb'}")
    if read_only:
        if not path.exists():
            raise StoreError(f"database {path} does not exist (cannot create it in read-only mode)")
        return path
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder {parent} for the database: {exc.strerror or exc}; "
            "set EVALVERSE_DB or --db to a writable location"
        ) from exc
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise StoreError(
                f"database {path} is not writable by this user; fix its permissions, open it read-only, "
                "or set EVALVERSE_DB / --db to another file"
            )
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(
            f"cannot create database {path}: the folder {parent} is read-only; "
            "set EVALVERSE_DB or --db to a writable location"
        )
    return path


def explain_connect_error(path: str, read_only: bool, exc: Exception) -> str:
    text = str(exc)
    lower = text.lower()
    if "not a valid" in lower or "serializ" in lower or "version" in lower:
        return f"{path} is not a DuckDB database this EvalVerse can read; move it aside or choose another path. Detail: {text}"
    mode = "read-only" if read_only else "read-write"
    return f"cannot open database {path} {mode}: {text}"
