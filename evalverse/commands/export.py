"""`evalverse export`: runs, per-dimension results, win ratios or ratings from the store to Parquet or CSV."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def export(
    what: str = typer.Option(..., "--what", help="runs | results | winratios | ratings"),
    fmt: str = typer.Option("parquet", "--format", help="parquet or csv"),
    out: Path = typer.Option(..., "--out", help="file to write"),
    source: Optional[str] = typer.Option(None, "--source", help="only this leaderboard source (winratios, ratings)"),
    db: Optional[Path] = typer.Option(None, "--db", help="results database (default: EVALVERSE_DB or the data folder)"),
) -> None:
    """Write one table of the store to a file (one row per run, per run and dimension, or per source row)."""
    from evalverse.config import Settings
    from evalverse.errors import DataError
    from evalverse.store import Store

    path = db if db is not None else Settings.from_env().db_path
    if not path.exists():
        raise DataError(f"no database at {path} (pass --db)")
    with Store.open(path, read_only=True) as store:
        n = store.bench.export(what, fmt, out, source=source)
    typer.echo(f"wrote {n} row(s) of {what} to {out}")
