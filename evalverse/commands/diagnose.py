"""`evalverse diagnose VIDEO`: evidence → judge → store, printed per dimension (or streamed as JSON lines)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def diagnose(
    video: Path = typer.Argument(..., help="video file to diagnose"),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="the generation prompt (enables context-aware gating)"),
    reference: Optional[Path] = typer.Option(None, "--reference", help="reference image or video (r2v)"),
    mode: str = typer.Option("t2v", "--mode", help="task mode: t2v or r2v (audio and multi-shot are read from the clip)"),
    judge: str = typer.Option("evidence", "--judge", help="judge backend: evidence (offline), transformers (local VLM), openai"),
    dimensions: Optional[str] = typer.Option(None, "--dimensions", help="comma-separated dimension ids or names (default: all)"),
    stream: bool = typer.Option(False, "--stream", help="print every event as one JSON line as it happens"),
    as_json: bool = typer.Option(False, "--json", help="print the final report as JSON"),
    db: Optional[Path] = typer.Option(None, "--db", help="results database (default: EVALVERSE_DB or the data folder)"),
    no_cache: bool = typer.Option(False, "--no-cache", help="recompute even if this clip was diagnosed with the same settings"),
) -> None:
    """Diagnose VIDEO: per dimension a score (1-5, or null), status, gate reason, rationale, answers, backend."""
    from evalverse.config import Settings
    from evalverse.errors import InputError
    from evalverse.pipeline import diagnose_stream
    from evalverse.store import Store

    if mode not in ("t2v", "r2v"):
        raise InputError(f"--mode must be t2v or r2v, got {mode!r} (audio and multi-shot are detected from the clip)")
    settings = Settings.from_env()
    if db is not None:
        settings = settings.model_copy(update={"db_path": db})
    store = Store.from_settings(settings)  # never an in-memory stand-in: a run id printed is a run stored
    report = None
    try:
        for event in diagnose_stream(video, settings, prompt=prompt, reference=reference, mode=mode, judge=judge,
                                     dimensions=dimensions, store=store, use_cache=not no_cache):
            if stream:
                typer.echo(json.dumps(event, ensure_ascii=False, default=str))
            elif event["type"] == "operator_done":
                typer.echo(f"  evidence {event['operator']}: {event['status']} ({event['seconds']:.1f} s"
                           + (", cached" if event["cached"] else "") + ")", err=True)
            if event["type"] == "report":
                report = event["report"]
    finally:
        store.close()
    if report is not None and not stream:
        from evalverse.commands.evidence import meta_notes

        for line in meta_notes(report["meta"]):
            typer.echo(line, err=True)
    if stream or report is None:
        return
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return
    typer.echo(format_report(report))


def format_report(report: dict) -> str:
    lines = [f"{report['video']}  judge={report['judge']}  mode={report['mode']}  run={report['run_id']}"
             + ("  (cached)" if report["cached"] else "") + f"  {report['seconds']:.1f} s"]
    for r in report["results"]:
        score = "null" if r.get("score") is None else f"{r['score']:.2f}"
        lines.append("")
        lines.append(f"{r['dimension']}: score {score}  status {r['status']}  backend {r['backend']}"
                     + (f"  gate_reason: {r['gate_reason']}" if r.get("gate_reason") else ""))
        if r.get("rationale"):
            lines += ["  " + line for line in r["rationale"].splitlines()]
        if r.get("reflection"):
            lines.append("  " + r["reflection"])
        answered = [a for a in r.get("answers") or [] if a.get("answer") is not None]
        if answered:
            lines.append("  answers: " + ", ".join(f"{a['question_id']}={_fmt(a['answer'])}" for a in answered))
    lines.append("")
    lines.append("summary: " + ", ".join(f"{k} {v}" for k, v in sorted(report["summary"].items())))
    return "\n".join(lines)


def _fmt(answer) -> str:
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    return f"{answer:g}"
