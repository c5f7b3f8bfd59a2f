"""`evalverse taxonomy ...` commands: show the packaged taxonomy tree, validate another taxonomy file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from evalverse.taxonomy import Taxonomy

app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    help="Show the evaluation taxonomy (stages → aspects → dimensions → sub-dimensions → questions).",
)


@app.callback(invoke_without_command=True)
def show(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the whole tree and its counts as JSON."),
    questions: bool = typer.Option(False, "--questions", "-q", help="Also list every expert question."),
) -> None:
    """Print the taxonomy tree with counts (`--json` for machines)."""
    if ctx.invoked_subcommand is not None:
        return
    from evalverse.taxonomy import load_taxonomy

    tax = load_taxonomy()
    if as_json:
        typer.echo(json.dumps(taxonomy_payload(tax), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_tree(tax, with_questions=questions))


@app.command("validate")
def validate(
    path: Path = typer.Argument(..., help="A taxonomy YAML file to check against the schema."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Validate a taxonomy file; a malformed file is reported as one clear error (exit 2)."""
    from evalverse.taxonomy import load_taxonomy

    tax = load_taxonomy(path)  # raises DataError naming the file and the problem
    counts = tax.counts()
    if as_json:
        typer.echo(json.dumps({"path": str(path), "valid": True, "counts": counts}))
    else:
        typer.echo(f"ok: {path} is a valid taxonomy ({_counts_line(counts)})")


def taxonomy_payload(tax: "Taxonomy") -> dict:
    """The JSON shape of `evalverse taxonomy --json`: {"counts": {...}, "taxonomy": {...}}."""
    return {"counts": tax.counts(), "taxonomy": tax.model_dump(mode="json")}


def render_tree(tax: "Taxonomy", with_questions: bool = False) -> str:
    """A readable indented tree: stages, aspects, dimensions (modes, gates, evidence), sub-dimensions."""
    lines = [f"EvalVerse taxonomy v{tax.version}: {_counts_line(tax.counts())}"]
    for stage in tax.stages:
        lines.append(f"{stage.name} [{stage.id}]")
        for aspect in stage.aspects:
            lines.append(f"  {aspect.name} [{aspect.id}]")
            for dim in aspect.dimensions:
                n_q = sum(len(s.questions) for s in dim.sub_dimensions)
                lines.append(f"    {dim.name} [{dim.id}]  {len(dim.sub_dimensions)} sub-dimensions, {n_q} questions")
                lines.append(f"      modes: {_join(m.value for m in dim.modes)}"
                             f" | gates: {_join(g.value for g in dim.gates)}"
                             f" | evidence: {_join(dim.evidence)}")
                for sub in dim.sub_dimensions:
                    gates = f"  gates: {_join(g.value for g in sub.gates)}" if sub.gates else ""
                    lines.append(f"      - {sub.name} [{sub.id}]  {len(sub.questions)} questions{gates}")
                    if with_questions:
                        for q in sub.questions:
                            lines.append(f"          {q.id}: {q.text}{_question_tags(q)}")
    return "\n".join(lines)


def _question_tags(q) -> str:
    tags = []
    if q.answer.value == "scale":
        tags.append("scale 1-5")
    if q.polarity.value == "negative":
        tags.append("yes = bad")
    if q.check:
        tags.append(f"check {q.check}")
    if q.gates:
        tags.append("gates " + _join(g.value for g in q.gates))
    return f"  ({'; '.join(tags)})" if tags else ""


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{v} {k.replace('_', '-')}" for k, v in counts.items())


def _join(items) -> str:
    items = list(items)
    return ", ".join(items) if items else "-"
