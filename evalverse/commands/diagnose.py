"""`evalverse diagnose VIDEO` (implemented with the operators)."""
from __future__ import annotations

import typer


def diagnose(video: str = typer.Argument(..., help="video file")) -> None:
    """Diagnose for VIDEO."""
    raise typer.Exit(3)
