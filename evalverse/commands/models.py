"""`evalverse models list | pull NAME|all | doctor`: the weights EvalVerse can use and what runs here."""
from __future__ import annotations

import json
import sys
from typing import Any

import typer

app = typer.Typer(no_args_is_help=True, help="model weights: list, pull, and check what can run here")


def _settings():
    from evalverse.config import Settings

    return Settings.from_env()


def model_rows(settings) -> list[dict[str, Any]]:
    from evalverse.models import load_manifest

    rows = []
    for e in load_manifest():
        problems = e.problems(settings)
        status = "installed" if not problems else e.status(settings)
        rows.append({
            "name": e.name, "title": e.title, "used_by": e.used_by, "source": e.source, "kind": e.kind,
            "target": str(e.path(settings)), "licence": e.licence, "size_mb": e.size_mb,
            "installed": not problems, "status": status, "missing": [str(p) for p in e.missing(settings)],
            "problems": problems, "fix": e.fix() if problems else None,
        })
    return rows


def _register_components() -> list[str]:
    """Import everything that registers components; returns notes about parts that could not load."""
    import importlib

    notes = []
    import evalverse.operators  # noqa: F401
    for module in ("evalverse.judge.backends.evidence", "evalverse.judge.backends.openai_compat",
                   "evalverse.judge.backends.transformers_vlm"):  # the package itself registers nothing
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            notes.append(f"{module} could not be imported ({exc})")
    return notes


def doctor_report(settings) -> dict[str, Any]:
    """Every registered component with its chosen backend, and for each backend that cannot run: why and the fix."""
    from evalverse.registry import REGISTRY

    notes = _register_components()
    components = []
    for cls in REGISTRY:
        avail = cls.availability(settings)
        components.append({
            "kind": cls.kind, "name": cls.name, "version": cls.version, "available": avail.available,
            "backend": avail.backend,
            "backends": [{"name": b.name, "weights": b.weights, "licence": b.licence,
                          "missing": b.missing(settings), "fix": b.fix} for b in cls.backends],
            "explain": avail.explain(),
        })
    return {"models_dir": str(settings.models_dir), "components": components, "models": model_rows(settings),
            "notes": notes}


@app.command("list")
def list_models(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """The model weights EvalVerse can pull, where they go and whether they are installed."""
    rows = model_rows(_settings())
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['name']:<14} {r['status']:<10} {r['size_mb']:>7.0f} MB  {r['licence']}\n"
                   f"{'':14} {r['title']} (for {', '.join(r['used_by'])})\n{'':14} {r['source']} -> {r['target']}")
        if r["status"] == "incomplete":
            typer.echo(f"{'':14} incomplete: {'; '.join(r['problems'])} (fix: {r['fix']})")


@app.command("pull")
def pull_models(
    name: str = typer.Argument(..., help="model name from `evalverse models list`, or `all`"),
    timeout: float = typer.Option(20.0, "--timeout", help="seconds to wait for the source to answer"),
    force: bool = typer.Option(False, "--force", help="download again even when installed"),
) -> None:
    """Download model weights into the models folder (EVALVERSE_MODELS)."""
    from evalverse.errors import UnavailableError
    from evalverse.models import get_entry, load_manifest, pull

    settings = _settings()
    entries = list(load_manifest()) if name == "all" else [get_entry(name)]
    failures = []
    for entry in entries:
        if entry.installed(settings) and not force:
            typer.echo(f"{entry.name}: already installed at {entry.path(settings)}")
            continue
        problems = entry.problems(settings)
        if problems and entry.status(settings) == "incomplete":
            typer.echo(f"{entry.name}: incomplete ({'; '.join(problems)}); fetching what is missing", err=True)
        typer.echo(f"{entry.name}: downloading {entry.source} (about {entry.size_mb:.0f} MB) ...", err=True)
        try:
            path = pull(entry, settings, timeout=timeout, force=force)
            typer.echo(f"{entry.name}: installed at {path}")
        except UnavailableError as exc:
            if len(entries) == 1:
                raise
            failures.append(exc)
            typer.echo(f"error: {exc}", err=True)
    if failures:
        raise UnavailableError(f"{len(failures)} of {len(entries)} models could not be pulled (see above)")


@app.command("doctor")
def doctor(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """What can run here: each operator and judge backend, the backend it will use, and fixes for the rest."""
    report = doctor_report(_settings())
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"models folder: {report['models_dir']}")
    for c in report["components"]:
        mark = "ok " if c["available"] else "-- "
        typer.echo(f"{mark}{c['kind']:<8} {c['name']:<12} " + (f"using {c['backend']}" if c["available"] else "NOT AVAILABLE"))
        for b in c["backends"]:
            if b["missing"]:
                fix = f" (fix: {b['fix']})" if b["fix"] else ""
                typer.echo(f"      {b['name']}: {'; '.join(b['missing'])}{fix}")
    typer.echo("model weights:")
    for m in report["models"]:
        typer.echo(f"  {m['name']:<14} {m['status']:<10} {m['target']}")
        if m["status"] == "incomplete":  # an interrupted pull: say what is wrong and how to finish it
            typer.echo(f"      {'; '.join(m['problems'])} (fix: {m['fix']})")
    for note in report["notes"]:
        typer.echo(f"note: {note}", err=True)
    sys.stdout.flush()
