"""`evalverse runs ...`: list stored evaluation runs with their status, and prune interrupted ones."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Optional

import typer

from evalverse.errors import InputError

app = typer.Typer(no_args_is_help=True, help="stored evaluation runs: list, prune interrupted ones")

DB_HELP = "DuckDB file (default: EVALVERSE_DB or the data folder)"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str) -> float:
    """'90' or '90s', '15m', '12h', '7d', '2w' → seconds."""
    match = _DURATION.match(text or "")
    if not match:
        raise InputError(f"--older-than takes a duration such as 30m, 12h or 7d (units s, m, h, d, w), not {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def _store(db: Optional[Path], read_only: bool = False):
    from evalverse.config import Settings
    from evalverse.store import Store

    settings = Settings.from_env()
    if db is not None:
        settings = settings.model_copy(update={"db_path": db})
    return Store.from_settings(settings, read_only=read_only)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


@app.command("list")
def list_runs(
    status: Optional[str] = typer.Option(None, "--status", help="running, finished or interrupted (default: all)"),
    limit: int = typer.Option(20, "--limit", min=1, max=10_000, help="runs per page"),
    before: Optional[int] = typer.Option(None, "--before", help="show runs older than this run id (next page)"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON list"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Newest runs first, with status (running / finished / interrupted) and how many results each holds."""
    from evalverse.store import RUN_STATUSES

    if status is not None and status not in RUN_STATUSES:
        raise InputError(f"--status must be one of {', '.join(RUN_STATUSES)}, not {status!r}")
    with _store(db) as store:
        rows = store.list_runs(status=status, limit=limit, before_id=before)
        counts = store.run_counts()
    if as_json:
        keys = ("id", "status", "video_hash", "video_path", "judge_backend", "judge_version", "mode", "prompt",
                "started_at", "finished_at", "heartbeat_at", "interrupted_at", "owner", "provenance_hash", "n_results")
        typer.echo(json.dumps([{k: r[k] for k in keys} for r in rows], indent=1, ensure_ascii=False, default=str))
        return
    typer.echo(", ".join(f"{n} {s}" for s, n in counts.items()) + " runs")
    if not rows:
        typer.echo("no runs" + (f" with status {status}" if status else ""))
        return
    for r in rows:
        name = Path(r["video_path"]).name if r["video_path"] else r["video_hash"][:12]
        typer.echo(f"{r['id']:>7}  {r['status']:<11}  {_when(r['started_at'])}  {r['judge_backend']:<11} "
                   f"{r['mode'] or '-':<4} {r['n_results']:>3} results  {name}")
    if len(rows) == limit:
        typer.echo(f"more: evalverse runs list --before {rows[-1]['id']}" + (f" --status {status}" if status else ""))


@app.command("prune")
def prune(
    older_than: str = typer.Option("0", "--older-than", help="only runs started longer ago than this (30m, 12h, 7d)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="say what would be deleted, delete nothing"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Delete interrupted runs (started, never finished, owner gone) and their partial results."""
    seconds = parse_duration(older_than)
    with _store(db) as store:
        ids = store.prune_runs(seconds, dry_run=dry_run)
        path = store.path
    shown = ", ".join(map(str, ids[:20])) + (f", ... ({len(ids) - 20} more)" if len(ids) > 20 else "")
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"{verb} {len(ids)} interrupted run(s) from {path}" + (f": {shown}" if ids else ""))
