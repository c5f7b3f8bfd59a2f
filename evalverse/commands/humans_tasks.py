"""`evalverse humans tasks create | list`: annotation tasks from a suite and the clips of two or more models."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from evalverse.commands.humans import DB_HELP, db_path
from evalverse.errors import InputError

app = typer.Typer(no_args_is_help=True, help="annotation tasks: create them from a suite, see their progress")


def _videos(values: list[str], suite, models: list[str]) -> dict[str, dict[str, tuple[str, None]]]:
    """--videos MODEL=DIR (repeatable) → {model: {case id: (path, None)}} (lowest seed per case)."""
    from evalverse.bench.submission import scan_submission

    out: dict[str, dict[str, tuple[str, None]]] = {}
    for value in values:
        model, sep, folder = value.partition("=")
        if not sep or not model.strip() or not folder.strip():
            raise InputError(f"--videos takes MODEL=DIR, not {value!r}")
        if model.strip() not in models:
            raise InputError(f"--videos names {model.strip()!r}, which is not one of --models {', '.join(models)}")
        sub = scan_submission(Path(folder.strip()), suite, model.strip())
        clips: dict[str, tuple[str, None]] = {}
        for item in sorted(sub.items, key=lambda i: i.seed):
            clips.setdefault(item.case_id, (str(item.path), None))
        out[model.strip()] = clips
    return out


@app.command("create")
def create(
    suite: Path = typer.Option(..., "--suite", help="suite file (JSONL), as for `evalverse bench run`"),
    models: str = typer.Option(..., "--models", help="two or more model names, comma-separated (A,B[,C...])"),
    annotations: int = typer.Option(3, "--annotations", min=1, max=100, help="independent annotations each task wants"),
    videos: Optional[list[str]] = typer.Option(None, "--videos", help="MODEL=DIR: take that model's clips from a "
                                               "submission folder instead of its bench run (repeatable)"),
    judge: Optional[str] = typer.Option(None, "--judge", help="use only bench items of this judge"),
    dimensions: Optional[str] = typer.Option(None, "--dimensions", help="comma-separated dimension ids (default: "
                                             "every dimension whose gates stay open for an output)"),
    root: Optional[Path] = typer.Option(None, "--root", help="folder the suite's relative paths resolve against"),
    as_json: bool = typer.Option(False, "--json", help="print what was created as JSON"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """One task per case that two or more of the models have a clip for; which dimensions apply is decided
    by the taxonomy's gates from each clip's stored evidence (gates evidence would decide stay open without
    it). Running it again adds only what is missing."""
    from evalverse.bench.suite import load_suite
    from evalverse.config import Settings
    from evalverse.humans.service import AnnotationService
    from evalverse.humans.suite_tasks import create_suite_tasks, parse_models
    from evalverse.store import Store

    names = parse_models(models)
    s = load_suite(suite, root=root or Settings.from_env().suite_root)
    clips = _videos(videos or [], s, names)
    dims = [d.strip() for d in dimensions.split(",") if d.strip()] if dimensions else None
    with Store.open(db_path(db)) as store:
        out = create_suite_tasks(AnnotationService(store), s, names, required=annotations, clips=clips, judge=judge,
                                 dimensions=dims)
    if as_json:
        typer.echo(json.dumps(out.as_dict(), indent=1, ensure_ascii=False))
        return
    typer.echo(f"suite {out.suite}: {len(out.created)} task(s) created for {', '.join(out.models)} "
               f"({annotations} annotations each), {len(out.existing)} already there, {len(out.skipped)} case(s) skipped")
    for t in out.created:
        typer.echo(f"  {t['case']}: {len(t['models'])} outputs, {len(t['dimensions'])} dimensions (gates from {t['gates_from']})")
    for case, why in out.skipped.items():
        typer.echo(f"  skipped {case}: {why}")


@app.command("list")
def list_(
    suite: Optional[str] = typer.Option(None, "--suite", help="only tasks of this suite (its name)"),
    as_json: bool = typer.Option(False, "--json"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Tasks with their progress: annotations in / wanted, finalised or not."""
    from evalverse.commands.humans import open_store

    with open_store(db, read_only=True) as store:
        load = {t["id"]: t for t in store.task_load()}
        rows = []
        for t in store.annotation_tasks(suite=suite):
            done = len(load[t["id"]]["submitted"]) if t["id"] in load else None
            rows.append({"uid": t["uid"], "suite": t["suite"], "case": t["case_key"], "outputs": len(t["outputs"]),
                         "dimensions": len(t["dimensions"]), "required": t["required"], "annotations": done,
                         "finalised": t["finalised_at"] is not None})
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    for r in rows:
        state = "finalised" if r["finalised"] else f"{r['annotations']}/{r['required']} annotations"
        typer.echo(f"{r['uid'][:12]}  {r['suite'] or '-'}  {r['case']}: {r['outputs']} outputs, {r['dimensions']} dimensions, {state}")
