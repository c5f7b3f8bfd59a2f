"""`evalverse suite ...`: build a benchmark suite from a folder of real footage (the paper's section 4):
annotate every clip, verify the labels (a CSV a person edits), sample balanced cases, construct the suite."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(no_args_is_help=True, help="build test suites from real footage: annotate, verify, sample, build")
verify_app = typer.Typer(no_args_is_help=True, help="human verification of the annotation (CSV out, corrections in)")
app.add_typer(verify_app, name="verify")

DB_HELP = "results database: evidence cache and corrections (default: EVALVERSE_DB or the data folder)"


def _settings(db: Optional[Path]):
    from evalverse.config import Settings

    settings = Settings.from_env()
    return settings.model_copy(update={"db_path": db}) if db is not None else settings


def _echo_json(obj) -> None:
    typer.echo(json.dumps(obj, indent=1, ensure_ascii=False, default=str))


@app.command("annotate")
def annotate(
    folder: Path = typer.Argument(..., help="folder of clips"),
    out: Path = typer.Option(..., "--out", help="annotation file to write (JSONL; resumed when it exists)"),
    operators: Optional[str] = typer.Option(None, "--operators", help="comma-separated operators (default: those "
                                            "the annotation's fields come from)"),
    engine: str = typer.Option("local", "--engine", help="local or ray"),
    workers: int = typer.Option(1, "--workers", help="parallel workers (processes or Ray actors)"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address"),
    recursive: bool = typer.Option(False, "--recursive", help="also the clips in sub-folders"),
    no_cache: bool = typer.Option(False, "--no-cache", help="recompute evidence already in the cache"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Run the evidence operators over every clip of FOLDER and write per-clip and per-shot metadata."""
    from evalverse.bench.progress import Progress
    from evalverse.commands.evidence import parse_names
    from evalverse.curation.annotate import annotate_folder, scan_folder
    from evalverse.curation.fields import OPERATORS
    from evalverse.store import Store

    settings = _settings(db)
    names = tuple(parse_names(operators) or OPERATORS)
    total = len(scan_folder(folder.expanduser(), recursive)) if folder.expanduser().is_dir() else 0
    progress = Progress(total, label="annotate ", enabled=sys.stderr.isatty() and not as_json)

    def on_clip(event):
        progress.update(failed=event["status"] == "error", cached=bool(event.get("cached")))
        if event["status"] == "error" and not progress.enabled:
            typer.echo(f"skipped {event.get('file')}: {event['error']}", err=True)

    with Store.open(settings.db_path) as store:
        try:
            summary = annotate_folder(folder, out, store, settings, operators=names, engine=engine, workers=workers,
                                      ray_address=ray_address, use_cache=not no_cache, recursive=recursive,
                                      on_clip=on_clip)
        finally:
            progress.close()
    result = summary.as_dict()
    if as_json:
        _echo_json(result)
        return
    typer.echo(f"{out}: {result['done']} of {result['files']} clip(s) annotated ({summary.already_done} earlier, "
               f"{summary.annotated} now, {summary.from_cache} of them from the evidence cache), "
               f"{len(summary.failed)} skipped, {result['seconds']} s")
    for f in summary.failed:
        typer.echo(f"  skipped {f['file']} [{f['kind']}]: {f['error']}")


@app.command("show")
def show(
    meta: Path = typer.Argument(..., help="annotation file"),
    clip: Optional[str] = typer.Option(None, "--clip", help="one clip: its fields with operator and version"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="print as JSON"),
) -> None:
    """The annotation after corrections: each clip's attributes and the library's distribution of each."""
    from collections import Counter

    from evalverse.curation.verify import load_views
    from evalverse.errors import InputError
    from evalverse.store import Store

    with Store.open(_settings(db).db_path) as store:
        views = load_views(meta, store)
    if clip is not None:
        if clip not in views:
            raise InputError(f"no clip {clip!r} in {meta}; clips: {', '.join(views)}")
        v = views[clip]
        out = {"clip": clip, "attributes": v.attributes, "fields": v.fields, "shots": v.shots}
        if as_json:
            _echo_json(out)
            return
        for name, entry in v.fields.items():
            who = f"corrected by {entry['corrected']['who']}" if entry.get("corrected") else \
                f"{entry['operator']} {entry['version']}" + (f" ({entry['status']}: {entry.get('why')})" if entry.get("status") else "")
            value = entry.get("value")
            text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
            typer.echo(f"{name:<22} {text[:60]:<60} {who}")
        return
    dist = {}
    for v in views.values():
        for a, value in v.attributes.items():
            dist.setdefault(a, Counter())["unknown" if value is None else str(value)] += 1
    if as_json:
        _echo_json({"clips": {k: v.attributes for k, v in views.items()}, "distribution": dist})
        return
    for a, counts in dist.items():
        typer.echo(f"{a:<20} " + ", ".join(f"{k} {n}" for k, n in counts.most_common()))


@verify_app.command("export")
def verify_export(
    meta: Path = typer.Argument(..., help="annotation file"),
    out: Path = typer.Option(..., "--out", help="CSV to write"),
    no_shots: bool = typer.Option(False, "--no-shots", help="clip rows only"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write the annotation (after earlier corrections) as a CSV to check and edit."""
    from evalverse.curation.verify import export_csv, load_views
    from evalverse.store import Store

    with Store.open(_settings(db).db_path) as store:
        views = load_views(meta, store)
    out.write_text(export_csv(views.values(), shots=not no_shots), encoding="utf-8")
    typer.echo(f"{out}: {len(views)} clip(s); edit the cells that are wrong, then `evalverse suite verify import`")


@verify_app.command("import")
def verify_import(
    csv_path: Path = typer.Argument(..., help="the edited CSV"),
    meta: Path = typer.Option(..., "--meta", help="the annotation file it was exported from"),
    who: str = typer.Option(..., "--who", help="who made the corrections"),
    note: str = typer.Option("", "--note", help="a note stored with every correction"),
    dry_run: bool = typer.Option(False, "--dry-run", help="list the corrections, store nothing"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the corrections as JSON"),
) -> None:
    """Store every changed cell as a correction (who, when, field, old, new); corrected values win."""
    from evalverse.curation.verify import load_views, read_corrections
    from evalverse.curation.vocabulary import load_vocabulary
    from evalverse.errors import InputError
    from evalverse.store import Store

    try:
        text = csv_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {csv_path}: {exc.strerror or exc}") from exc
    with Store.open(_settings(db).db_path) as store:
        views = load_views(meta, store)
        corrections = read_corrections(text, views, who, csv_path.name, load_vocabulary(), note)
        if not dry_run:
            store.add_field_corrections(corrections)
    if as_json:
        _echo_json({"stored": 0 if dry_run else len(corrections), "corrections": corrections})
        return
    typer.echo(f"{len(corrections)} correction(s) {'found (dry run, nothing stored)' if dry_run else 'stored'}")
    for c in corrections:
        where = c["clip"] + ("" if c["shot"] is None else f" shot {c['shot']}")
        typer.echo(f"  {where}: {c['field']} {c['old_value']!r} -> {c['new_value']!r}")


@app.command("sample")
def sample(
    meta: Path = typer.Argument(..., help="annotation file"),
    n: int = typer.Option(..., "--n", help="how many clips (or shots)"),
    balance: str = typer.Option(..., "--balance", help="attributes to balance on, e.g. shot_size,camera,multi_shot,sound"),
    seed: int = typer.Option(0, "--seed", help="same seed, same sample"),
    unit: str = typer.Option("clip", "--unit", help="clip or shot"),
    target: str = typer.Option("proportional", "--target", help="proportional (the library's shares) or uniform"),
    allow_same_source: bool = typer.Option(False, "--allow-same-source", help="allow several cases of one source clip"),
    out: Optional[Path] = typer.Option(None, "--out", help="sample file (default: <META>.sample.jsonl)"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Pick N cases with proportional, stratified coverage of the attributes; report achieved vs target."""
    from evalverse.curation.construct import write_sample
    from evalverse.curation.sampling import candidates, sample as draw
    from evalverse.curation.verify import load_views
    from evalverse.store import Store

    with Store.open(_settings(db).db_path) as store:
        views = load_views(meta, store)
    attrs = [a.strip() for a in balance.split(",") if a.strip()]
    chosen, report = draw(candidates(views.values(), unit), attrs, n, seed, target, allow_same_source)
    out = out or meta.with_name(meta.stem + ".sample.jsonl")
    header = {"annotation": str(meta.resolve()), "unit": unit, "n": n, "balance": attrs, "seed": seed,
              "target": target, "allow_same_source": allow_same_source, "report": report}
    write_sample(out, header, chosen)
    if as_json:
        _echo_json({"out": str(out), "chosen": [c.key for c in chosen], "report": report})
        return
    typer.echo(f"{out}: {len(chosen)} of {report['library']} {unit}s, {report['distinct_sources']} source clip(s), "
               f"total deviation from target {report['deviation']}")
    for a, info in report["attributes"].items():
        cells = ", ".join(f"{r['value']} {r['achieved']}/{r['target']}" for r in info["values"])
        typer.echo(f"  {a:<18} achieved/target: {cells}")


@app.command("build")
def build(
    sample_path: Path = typer.Argument(..., help="sample file (from `suite sample`)"),
    out: Path = typer.Option(..., "--out", help="suite file to write (JSONL); images and cut clips go next to it"),
    mode: str = typer.Option("both", "--mode", help="t2v, r2v, or both (a case of each per sampled item)"),
    writer: str = typer.Option("auto", "--writer", help="template, openai, or auto (openai when configured)"),
    name: Optional[str] = typer.Option(None, "--name", help="suite name (default: from the file name)"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the build summary as JSON"),
) -> None:
    """Write a suite: prompts from the metadata, task modes, keyframe references, real clips as ground truth."""
    from evalverse.curation.construct import build_suite, read_sample
    from evalverse.curation.verify import load_views
    from evalverse.curation.vocabulary import load_vocabulary
    from evalverse.curation.writers import make_writer
    from evalverse.store import Store

    settings = _settings(db)
    header, _ = read_sample(sample_path)
    with Store.open(settings.db_path) as store:
        views = load_views(header["annotation"], store)
    summary = build_suite(sample_path, out, views, make_writer(writer, settings), mode=mode, name=name,
                          near_duplicate_bits=int(load_vocabulary().threshold("near_duplicate_bits")))
    report = summary.as_dict()
    out.with_name(out.stem + ".build.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    if as_json:
        _echo_json(report)
        return
    typer.echo(f"{out}: {summary.cases} case(s) ({', '.join(f'{k} {v}' for k, v in summary.modes.items())}), "
               f"prompts by {summary.writer}")
    if writer == "auto" and summary.writer.startswith("template"):
        from evalverse.curation.writers import NOT_CONFIGURED

        typer.echo(f"note: {NOT_CONFIGURED.replace(', or use --writer template', '')}; the template writer was used",
                   err=True)
    for w in summary.warnings:
        typer.echo(f"warning: {w}", err=True)
