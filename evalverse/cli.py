"""`evalverse` command line. Each area lives in evalverse/commands/<area>.py and imports its heavy
dependencies inside the command body, so `evalverse --help` stays fast."""
from __future__ import annotations

import sys

import typer

from evalverse.commands import calibrate, diagnose, evidence, leaderboard, models, taxonomy
from evalverse.errors import EvalVerseError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Judge AI-generated video the way a film crew would.")
app.add_typer(taxonomy.app, name="taxonomy")
app.add_typer(leaderboard.app, name="leaderboard")
app.add_typer(models.app, name="models")
app.command("evidence")(evidence.evidence)
app.command("diagnose")(diagnose.diagnose)
app.command("calibrate")(calibrate.calibrate)


def main() -> None:
    """Entry point: user-facing errors print as one clear line and exit 2, never as a traceback."""
    try:
        app(standalone_mode=False)
    except EvalVerseError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors arrive here with standalone_mode=False
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
