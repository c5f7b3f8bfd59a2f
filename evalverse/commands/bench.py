"""`evalverse bench ...`: validate a suite (and a submission), run a model's submission through the pipeline,
and turn the stored results into win ratios with intervals (a leaderboard source)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(no_args_is_help=True, help="benchmark runs: suites, submissions, win ratios")

DB_HELP = "results database (default: EVALVERSE_DB or the data folder)"
ROOT_HELP = "folder the suite's relative paths resolve against (default: the suite's own root; env EVALVERSE_SUITE_ROOT)"


def _settings(db: Optional[Path]):
    from evalverse.config import Settings

    settings = Settings.from_env()
    return settings.model_copy(update={"db_path": db}) if db is not None else settings


def _suite(path: Path, root: Optional[Path], settings):
    from evalverse.bench.suite import load_suite

    return load_suite(path, root=root or settings.suite_root)


@app.command("validate")
def validate(
    suite: Path = typer.Option(..., "--suite", help="suite file (JSONL)"),
    videos: Optional[Path] = typer.Option(None, "--videos", help="a submission folder to check against the suite"),
    model: str = typer.Option("submission", "--model", help="model name (checked against model.yaml)"),
    root: Optional[Path] = typer.Option(None, "--root", help=ROOT_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Check a suite (and optionally a submission folder); a bad suite lists every problem and exits 2."""
    from evalverse.bench.submission import describe, scan_submission

    s = _suite(suite, root, _settings(None))
    out = {"suite": s.name, "cases": len(s), "root": str(s.root), "modes": sorted({c.mode for c in s.cases}),
           "with_ground_truth": sum(c.ground_truth is not None for c in s.cases)}
    if videos is not None:
        out["submission"] = describe(scan_submission(videos, s, model))
    if as_json:
        typer.echo(json.dumps(out, indent=1))
        return
    typer.echo(f"suite {s.name}: {len(s)} cases ({', '.join(out['modes'])}), {out['with_ground_truth']} with ground truth, root {s.root}")
    if videos is not None:
        sub = out["submission"]
        typer.echo(f"submission {videos}: {sub['files']} clip(s); missing {len(sub['missing'])}, extra {len(sub['extra'])}")
        for line in (sub["missing"] and [f"  missing: {', '.join(sub['missing'])}"] or []) + (
                sub["extra"] and [f"  extra: {', '.join(sub['extra'])}"] or []):
            typer.echo(line)


@app.command("run")
def run(
    suite: Path = typer.Option(..., "--suite", help="suite file (JSONL)"),
    model: str = typer.Option(..., "--model", help="the generation model's name on the leaderboard"),
    videos: Path = typer.Option(..., "--videos", help="submission folder: <case id>.<ext> (<case id>-<n>.<ext> for seeds)"),
    judge: str = typer.Option("evidence", "--judge", help="judge backend: evidence (offline), transformers, openai"),
    workers: int = typer.Option(1, "--workers", help="parallel workers (processes or Ray actors)"),
    engine: str = typer.Option("local", "--engine", help="local or ray"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address (default: a local Ray runtime)"),
    dimensions: Optional[str] = typer.Option(None, "--dimensions", help="comma-separated dimension ids (default: all)"),
    root: Optional[Path] = typer.Option(None, "--root", help=ROOT_HELP),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    no_cache: bool = typer.Option(False, "--no-cache", help="recompute clips already diagnosed with the same settings"),
    stream: bool = typer.Option(False, "--stream", help="print one JSON line per finished clip"),
    as_json: bool = typer.Option(False, "--json", help="print the run's summary as JSON"),
) -> None:
    """Diagnose every clip of a submission (resumable: run it again to finish an interrupted run)."""
    from evalverse.bench.progress import Progress
    from evalverse.bench.runner import run_bench
    from evalverse.bench.submission import scan_submission
    from evalverse.bench.worker import Job
    from evalverse.pipeline import resolve_dimensions
    from evalverse.store import Store
    from evalverse.taxonomy import load_taxonomy

    settings = _settings(db)
    s = _suite(suite, root, settings)
    sub = scan_submission(videos, s, model)
    dims = tuple(d.id for d in resolve_dimensions(load_taxonomy(), dimensions)) if dimensions else None
    job = Job(judge=judge, dimensions=dims, use_cache=not no_cache)
    for problem in sub.problems():
        typer.echo(f"warning: {problem}", err=True)
    progress = Progress(len(sub.items), label=f"{model} ", enabled=sys.stderr.isatty() and not stream)

    def on_item(event):
        progress.update(failed=event["status"] == "error", cached=bool(event.get("cached")))
        if stream:
            typer.echo(json.dumps(event, ensure_ascii=False))
        elif event["status"] == "error" and not progress.enabled:
            typer.echo(f"failed: {event['case']} (seed {event['seed']}): {event['error']}", err=True)

    with Store.open(settings.db_path) as store:
        try:
            summary = run_bench(s, sub, store, settings, job, engine=engine, workers=workers, ray_address=ray_address,
                                on_item=on_item)
        finally:
            progress.close()
    out = summary.as_dict()
    if as_json:
        typer.echo(json.dumps(out, indent=1, ensure_ascii=False))
        return
    if not stream:
        rate = f", {out['clips_per_minute']} clips/min" if out["clips_per_minute"] else ""
        typer.echo(f"{s.name} / {model}: {out['done']} of {out['items']} clip(s) done ({summary.already_done} earlier, "
                   f"{summary.computed} diagnosed, {summary.cached} from cache), {len(summary.failed)} failed, "
                   f"{len(summary.missing)} missing{rate}")
        for f in summary.failed:
            typer.echo(f"  failed {f['case']} seed {f['seed']} [{f['kind']}]: {f['error']}")


@app.command("winratios")
def winratios(
    suite: Path = typer.Option(..., "--suite", help="suite file (its name picks the stored runs)"),
    judge: str = typer.Option("evidence", "--judge", help="whose results to compare"),
    judge_version: Optional[str] = typer.Option(None, "--judge-version", help="when results of several versions are stored"),
    n_boot: int = typer.Option(1000, "--n-boot", help="bootstrap resamples of the cases"),
    seed: int = typer.Option(0, "--seed", help="bootstrap seed (same seed, same intervals)"),
    human_qa: str = typer.Option("pass", "--human-qa", help="human judgments to use: pass (QA passed) or any"),
    root: Optional[Path] = typer.Option(None, "--root", help=ROOT_HELP),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="print win ratios and ratings as JSON"),
) -> None:
    """Per dimension and model: win ratio with a bootstrap 95% interval over cases; Bradley-Terry ratings;
    stored as the leaderboard source <suite>:<judge>@<version>."""
    from evalverse.bench.winratios import compute, enough
    from evalverse.errors import InputError
    from evalverse.store import Store

    if human_qa not in ("pass", "any"):
        raise InputError(f"--human-qa must be pass or any, not {human_qa!r}")
    settings = _settings(db)
    s = _suite(suite, root, settings)
    with Store.open(settings.db_path) as store:
        result = compute(store, s.name, judge, judge_version, n_boot=n_boot, seed=seed,
                         human_qa=None if human_qa == "any" else human_qa)
    if as_json:
        typer.echo(json.dumps(result, indent=1, ensure_ascii=False))
        return
    typer.echo(f"source {result['source']}: {len(result['summary']['models'])} models, {result['summary']['cases']} cases, "
               f"{result['summary']['pairs']} comparisons, {result['summary']['excluded_pairs']} pairs excluded "
               f"{result['summary']['excluded_by_reason']}")
    for r in result["win_ratios"]:
        if r.get("machine_win_ratio") is None:
            continue
        figure = (f"{r['machine_win_ratio']:.3f} [{r['machine_ci_low']:.3f}, {r['machine_ci_high']:.3f}]"
                  if enough(r["n_cases"]) else f"too few cases (n={r['n_cases']})")
        typer.echo(f"  {r['dimension']:<15} {r['model']:<24} {figure}  n_cases={r['n_cases']}")
