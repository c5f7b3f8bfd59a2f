"""`evalverse annotators add | list | revoke`: the people who annotate, review and audit, and their tokens."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from evalverse.commands.humans import DB_HELP, open_store

app = typer.Typer(no_args_is_help=True, help="annotators, reviewers, auditors and their access tokens")


@app.command("add")
def add(
    name: str = typer.Argument(..., help="the person's name (one person may hold several roles)"),
    role: str = typer.Option(..., "--role", help="annotator | reviewer | auditor"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Add a person with a role and print their personal access token once (only its hash is stored)."""
    from evalverse.humans.roles import issue_token

    with open_store(db) as store:
        issued = issue_token(store, name, role)
    typer.echo(f"{issued.name} has the {issued.role} role (token id {issued.token_id}). Their personal access token, "
               "shown this once; keep it secret:", err=True)
    typer.echo(issued.token)


@app.command("list")
def list_(db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Everyone and their tokens (ids and roles, never the tokens)."""
    with open_store(db, read_only=True) as store:
        people = store.annotators()
    if as_json:
        typer.echo(json.dumps(people, indent=1, default=str))
        return
    for p in people:
        tokens = ", ".join(f"{t['token_id']} {t['role']}{' (revoked)' if t['revoked_at'] else ''}" for t in p["tokens"])
        typer.echo(f"{p['name']}: {tokens or 'no tokens'}")


@app.command("revoke")
def revoke(token_id: str = typer.Argument(..., help="the token id shown by `add` and `list`"),
           db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Revoke a token: it stops working at once."""
    with open_store(db) as store:
        store.revoke_token(token_id)
    typer.echo(f"revoked token {token_id}")
