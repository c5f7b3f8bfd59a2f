"""`evalverse runs ...`: list and search stored evaluation runs, show one as it was diagnosed, prune interrupted ones."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Optional

import typer

from evalverse.errors import InputError

app = typer.Typer(no_args_is_help=True, help="stored evaluation runs: list and search, show one, prune interrupted ones")

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


LIST_KEYS = ("id", "status", "video_hash", "video_path", "judge_backend", "judge_version", "mode", "prompt",
             "started_at", "finished_at", "heartbeat_at", "interrupted_at", "owner", "provenance_hash", "n_results",
             "n_scored", "n_gated", "n_not_judged", "mean_score", "suite", "model", "case_id")


@app.command("list")
def list_runs(
    status: Optional[str] = typer.Option(None, "--status", help="running, finished or interrupted (default: all)"),
    query: Optional[str] = typer.Option(None, "--query", "-q", help="search prompt, clip path, hash prefix, judge or run id"),
    judge: Optional[str] = typer.Option(None, "--judge", help="only runs of this judge backend"),
    suite: Optional[str] = typer.Option(None, "--suite", help="only runs of this benchmark suite"),
    model: Optional[str] = typer.Option(None, "--model", help="only clips of this generation model"),
    limit: int = typer.Option(20, "--limit", min=1, max=500, help="runs per page"),
    before: Optional[int] = typer.Option(None, "--before", help="show runs older than this run id (next page)"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON list"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Newest runs first, with status (running / finished / interrupted), results and where they came from."""
    from evalverse.store import RUN_STATUSES

    if status is not None and status not in RUN_STATUSES:
        raise InputError(f"--status must be one of {', '.join(RUN_STATUSES)}, not {status!r}")
    with _store(db) as store:
        rows = store.search_runs(query=query, judge=judge, status=status, suite=suite, model=model, limit=limit,
                                 before_id=before)
        counts = None if as_json else store.run_counts()
    if as_json:
        typer.echo(json.dumps([{k: r.get(k) for k in LIST_KEYS} for r in rows], indent=1, ensure_ascii=False,
                              default=str))
        return
    typer.echo(", ".join(f"{n} {s}" for s, n in counts.items()) + " runs")
    if not rows:
        typer.echo("no runs match" if (status or query or judge or suite or model) else "no runs")
        return
    for r in rows:
        name = Path(r["video_path"]).name if r["video_path"] else r["video_hash"][:12]
        origin = " ".join(str(r[k]) for k in ("suite", "model", "case_id") if r.get(k))
        typer.echo(f"{r['id']:>7}  {r['status']:<11}  {_when(r['started_at'])}  {r['judge_backend']:<11} "
                   f"{r['mode'] or '-':<4} {r['n_scored']:>2}/{r['n_results']:<2} scored  {name}"
                   + (f"  [{origin}]" if origin else ""))
    if len(rows) == limit:
        flags = "".join(f" --{k} {shlex.quote(str(v))}" for k, v in
                        (("status", status), ("query", query), ("judge", judge), ("suite", suite), ("model", model)) if v)
        typer.echo(f"more: evalverse runs list --before {rows[-1]['id']}{flags}")


@app.command("show")
def show(
    run_id: int = typer.Argument(..., help="the run's id (from `evalverse runs list`)"),
    as_json: bool = typer.Option(False, "--json", help="print the run's report as JSON (as `diagnose --json` does)"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """One stored run as it was diagnosed, read from the store (nothing is decoded or recomputed)."""
    from evalverse.replay import stored_report

    with _store(db, read_only=False) as store:
        report = stored_report(store, run_id)
    if as_json:
        typer.echo(json.dumps(report, indent=1, ensure_ascii=False, default=str))
        return
    from evalverse.taxonomy import load_taxonomy
    from evalverse.ui.cards import verdict_line

    tax = load_taxonomy()
    prov = (report.get("provenance") or {}).get("hash") or "-"
    typer.echo(f"run {report['run_id']} ({report['status']}) of {report['video']}\n"
               f"judge {report['judge']} {report['judge_version']}, mode {report['mode']}, started {report['started_at']}, "
               f"provenance {prov[:16]}\nprompt: {report.get('prompt') or '-'}")
    for res in report["results"]:
        score = f"{res['score']:.2f}" if res.get("score") is not None else res["status"]
        typer.echo(f"  {res['dimension']:<15} {score:<11} {verdict_line(res, tax)[:110]}")
    missing = [n for n, o in (report.get("operators") or {}).items() if o.get("missing")]
    if missing:
        typer.echo(f"evidence no longer stored for: {', '.join(missing)}")


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
