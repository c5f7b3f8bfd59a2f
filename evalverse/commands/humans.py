"""`evalverse humans import | export | stats | sources`: human judgments in the store."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from evalverse.errors import DataError, InputError

app = typer.Typer(no_args_is_help=True, help="human judgments: import, export, agreement statistics")

DB_HELP = "DuckDB file (default: EVALVERSE_DB or the data folder)"
FORMATS = ("fetv", "pointwise", "pairwise", "jsonl")


def db_path(db: Optional[Path]) -> Path:
    from evalverse.config import Settings

    return db if db is not None else Settings.from_env().db_path


def open_store(db: Optional[Path], read_only: bool = False):
    from evalverse.store import Store

    path = db_path(db)
    if read_only and not path.exists():
        raise DataError(f"no database at {path}: import some judgments first (`evalverse humans import`) or pass --db")
    return Store.open(path, read_only=read_only)


def _scale(text: Optional[str]) -> Optional[tuple[float, float]]:
    if not text:
        return None
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--scale must be LOW,HIGH (for example 1,5), not {text!r}") from None
    return (low, high)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="the file to import"),
    fmt: str = typer.Option(..., "--format", "-f", help="fetv | pointwise | pairwise | jsonl (an `export` file)"),
    source: Optional[str] = typer.Option(None, "--source", help="name to store the judgments under (default FORMAT:FILE-STEM)"),
    mapping: Optional[str] = typer.Option(None, "--mapping", help="axis → taxonomy mapping: a packaged name (fetv) or a YAML file"),
    scale: Optional[str] = typer.Option(None, "--scale", help="rating scale LOW,HIGH (default: the mapping's, else the taxonomy's)"),
    qa_status: str = typer.Option("pass", "--qa-status", help="pass: the source vouches for them, they count; pending: they await review"),
    suite: Optional[str] = typer.Option(None, "--suite", help="benchmark suite the judgments belong to"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Validate a whole file and import it in one transaction (a bad row imports nothing; importing again adds nothing)."""
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "jsonl":
        from evalverse.humans.exchange import read_jsonl

        bundle = read_jsonl(file)
        with open_store(db) as store:
            counts = store.load_humans(bundle)
        summary = {"file": str(file), "format": "jsonl", "counts": counts}
        typer.echo(json.dumps(summary, indent=1) if as_json else
                   f"imported {file}: " + "; ".join(f"{k} +{v['added']} ={v['unchanged']} ~{v['updated']}"
                                                  for k, v in counts.items() if any(v.values())))
        return
    from evalverse.humans.importers import read_judgments

    batch = read_judgments(file, fmt, source=source, mapping=mapping, scale=_scale(scale), qa_status=qa_status, suite=suite)
    with open_store(db) as store:
        counts = store.import_human_judgments(batch.source, batch.pointwise, batch.pairwise)
    summary = {
        "file": str(file), "format": fmt, "source": batch.source["id"], "rows": batch.rows_read,
        "scale": [batch.source["scale_min"], batch.source["scale_max"]], "counts": counts,
        "videos": {"by_content_hash": batch.hashed_videos, "by_name": batch.named_videos},
        "skipped": {axis: {"ratings": n, "reason": why} for axis, (n, why) in batch.skipped.items()},
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=1))
        return
    parts = [f"{kind}: {c['added']} added, {c['unchanged']} already there, {c['updated']} updated"
             for kind, c in counts.items() if any(c.values())]
    typer.echo(f"imported {file} as source {batch.source['id']!r} ({batch.rows_read} rows; "
               f"{batch.hashed_videos} videos by content hash, {batch.named_videos} by name): " + "; ".join(parts or ["nothing"]))
    for axis, (n, why) in batch.skipped.items():
        typer.echo(f"skipped {n} {axis!r} ratings: {why}")


@app.command("export")
def export(
    file: Path = typer.Argument(..., help="JSONL file to write ('-' for standard output)"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write every human judgment, task, label, review and audit as JSONL (re-import with --format jsonl)."""
    from evalverse.humans.exchange import export_jsonl

    with open_store(db, read_only=True) as store:
        if str(file) == "-":
            counts = export_jsonl(store, sys.stdout)
            return
        tmp = file.with_name(file.name + ".partial")
        with tmp.open("w", encoding="utf-8") as out:
            counts = export_jsonl(store, out)
        tmp.replace(file)
    typer.echo(f"exported to {file}: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v), err=True)


@app.command("stats")
def stats(
    as_json: bool = typer.Option(False, "--json", help="print the whole report as JSON"),
    source: Optional[str] = typer.Option(None, "--source", help="only this source (see `evalverse humans sources`)"),
    dimension: Optional[str] = typer.Option(None, "--dimension", help="only this taxonomy dimension"),
    counted: bool = typer.Option(False, "--counted", help="only finalised judgments (default: every stored one)"),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="bootstrap rounds for alpha's 95% interval"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Raters, items, inter-rater agreement (Krippendorff's alpha, leave-one-rater-out SRCC, pairwise agreement),
    agreement with the consensus and careless-work flags, per source and dimension."""
    from evalverse.humans.report import human_stats

    with open_store(db, read_only=True) as store:
        report = human_stats(store, source=source, dimension=dimension, counted=counted, n_boot=bootstrap)
    if not report["sources"]:
        raise DataError("no human judgments match: import some with `evalverse humans import`")
    if as_json:
        typer.echo(json.dumps(report, indent=1, ensure_ascii=False))
        return
    for src in report["sources"]:
        typer.echo(f"{src['source']}: {src['raters']} raters, {src['items']} items, {src['judgments']} judgments")
        for g in src["groups"]:
            what = g["sub_dimension"] or g["dimension"]
            axis = f" ({g['axis']})" if g["axis"] and g["axis"] != g["dimension"] else ""
            a = g["alpha"]
            line = (f"  {what}{axis}: {g['kind']}, {g['raters']} raters, {g['items']} items; alpha ({a['level']}) "
                    f"{_f(a['value'])} [{_f(a['ci95'][0])}, {_f(a['ci95'][1])}]")
            if "loo_srcc" in g:
                line += f"; leave-one-rater-out SRCC {_f(g['loo_srcc']['mean'])}"
            line += f"; pairwise agreement {_f(g['pairwise_agreement']['rate'])}"
            typer.echo(line)
            for flag in g["flags"]:
                typer.echo(f"    flag {flag['rater']}: {flag['flag']} - {flag['detail']}")


@app.command("sources")
def sources(db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Where the stored judgments came from: file, hash, scale, mapping."""
    with open_store(db, read_only=True) as store:
        rows = store.human_sources()
    if as_json:
        typer.echo(json.dumps(rows, indent=1, default=str))
        return
    for r in rows:
        typer.echo(f"{r['id']}: {r['format']}, {r['pointwise']} pointwise + {r['pairwise']} pairwise, "
                   f"scale {r['scale_min']}-{r['scale_max']}, {r['path'] or ''}")


def _f(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"
