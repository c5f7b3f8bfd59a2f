"""`evalverse evidence VIDEO`: probe, decode once, run the shot detector and every operator, print the evidence."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer


def parse_names(text: str | None) -> list[str] | None:
    """"a, b" -> ["a", "b"]; empty or None -> None (all operators)."""
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    return names or None


def parse_prefer(text: str | None) -> dict[str, str]:
    """"shots=transnetv2,people=mediapipe_pose" -> {"shots": "transnetv2", "people": "mediapipe_pose"}."""
    from evalverse.errors import InputError

    out: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise InputError(f"--prefer expects operator=backend pairs separated by commas, got {item.strip()!r}")
        op, backend = (s.strip() for s in item.split("=", 1))
        out[op] = backend
    return out


def collect_evidence(video_path: str | Path, settings, names: list[str] | None = None, store=None,
                     use_cache: bool = True, prefer: dict[str, str] | None = None, on_event=None) -> dict[str, Any]:
    """{"video": VideoMeta dict, "shots": [...], "operators": {name: EvidenceRecord dict}} for one file, through
    the pipeline's evidence stream (decoded once). The `shots` operator always runs (others rely on it)."""
    from evalverse.pipeline import evidence_stream

    if names is not None:
        names = list(dict.fromkeys(["shots", *names]))
    report: dict[str, Any] = {}
    for event in evidence_stream(video_path, settings, names, store=store, use_cache=use_cache, prefer=prefer):
        if on_event is not None:
            on_event(event)
        if event["type"] == "report":
            report = event["report"]
    return {key: report[key] for key in ("video", "shots", "operators")}


def _summary_line(name: str, rec: dict[str, Any]) -> str:
    bits = [f"{name:<10}", f"{rec['status']:<11}", f"{(rec.get('backend') or '-'):<15}", f"{rec['seconds']:7.2f}s"]
    if rec.get("cached"):
        bits.append("(cached)")
    if rec.get("message"):
        bits.append(rec["message"])
    return "  ".join(bits)


def print_measures(as_json: bool) -> None:
    """The measure catalogue: a JSON list (operator, measure, unit, direction, range, ...) or a table."""
    from evalverse.operators.catalogue import load_catalogue

    catalogue = load_catalogue()
    if as_json:
        typer.echo(json.dumps(catalogue.as_json(), indent=2, ensure_ascii=False))
        return
    for m in catalogue:
        rng = "" if m.range is None else f" [{m.range[0]}, {m.range[1]}]"
        typer.echo(f"{m.id:<48} {m.scope:<5} {m.direction:<17} {m.unit}{rng}")
    typer.echo(f"{len(catalogue)} measures (catalogue {catalogue.version})")


def evidence(
    video: Optional[str] = typer.Argument(None, help="video file"),
    measures: bool = typer.Option(False, "--measures", help="print the measure catalogue instead (no video needed)"),
    as_json: bool = typer.Option(False, "--json", help="print the whole evidence as JSON"),
    no_cache: bool = typer.Option(False, "--no-cache", help="recompute instead of reading cached evidence"),
    operators: Optional[str] = typer.Option(None, "--operators", help="comma-separated operator names (default: all)"),
    prefer: Optional[str] = typer.Option(None, "--prefer", help="backend choices, e.g. shots=transnetv2,people=mediapipe_pose"),
    db: Optional[Path] = typer.Option(None, "--db", help="results database (default: EVALVERSE_DB or the data folder)"),
) -> None:
    """Print all operator evidence for VIDEO (decoded once; cached in the results database), or with
    --measures the catalogue of every measure the operators report (unit, direction, range, meaning)."""
    from evalverse.config import Settings
    from evalverse.errors import InputError
    from evalverse.store import Store

    if measures:
        print_measures(as_json)
        return
    if video is None:
        raise InputError("give a video file, or --measures for the measure catalogue")

    settings = Settings.from_env()
    if db is not None:
        settings = settings.model_copy(update={"db_path": db})
    store, warning = Store.open_or_memory(settings)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)

    def progress(event: dict) -> None:
        if not as_json and event["type"] == "operator_start":
            print(f"[{event['index'] + 1}/{event['total']}] {event['operator']} ...", file=sys.stderr, flush=True)

    try:
        out = collect_evidence(video, settings, parse_names(operators), store=store, use_cache=not no_cache,
                               prefer=parse_prefer(prefer), on_event=progress)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False))
        return
    meta = out["video"]
    typer.echo(f"{Path(meta['path']).name}: {meta['duration_s']:.2f} s, {meta['width']}x{meta['height']}, "
               f"{meta['fps']:.2f} fps, audio: {'yes' if meta['has_audio'] else 'no'}, shots: {len(out['shots'])}")
    for name, rec in out["operators"].items():
        typer.echo(_summary_line(name, rec))
