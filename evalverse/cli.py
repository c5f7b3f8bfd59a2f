"""`evalverse` command line. Each area lives in evalverse/commands/<area>.py and imports its heavy
dependencies inside the command body, so `evalverse --help` stays fast.

stderr carries EvalVerse's own messages only: third-party logging is silenced before any heavy library
loads (evalverse/commands/quiet.py), unless `--verbose` is given (anywhere before a `--`)."""
from __future__ import annotations

import sys

import typer

from evalverse.commands import (annotators, bench, calibrate, diagnose, evidence, export, humans, humans_tasks,
                                leaderboard, models, quiet, runs, suite, taxonomy)
from evalverse.errors import EvalVerseError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Judge AI-generated video the way a film crew would.")
app.add_typer(taxonomy.app, name="taxonomy")
app.add_typer(leaderboard.app, name="leaderboard")
app.add_typer(models.app, name="models")
app.add_typer(runs.app, name="runs")
app.add_typer(humans.app, name="humans")
humans.app.add_typer(humans_tasks.app, name="tasks")
app.add_typer(annotators.app, name="annotators")
app.add_typer(bench.app, name="bench")
app.add_typer(suite.app, name="suite")
app.command("evidence")(evidence.evidence)
app.command("diagnose")(diagnose.diagnose)
app.command("export")(export.export)
app.command("calibrate")(calibrate.calibrate)


@app.callback()
def _global_options(
    verbose: bool = typer.Option(False, "--verbose", help="also show other libraries' log output on stderr "
                                 "(TensorFlow Lite, absl, mediapipe, warnings); hidden by default"),
) -> None:
    """Judge AI-generated video the way a film crew would."""


def main() -> None:
    """Entry point: user-facing errors print as one clear line and exit 2, never as a traceback."""
    args = sys.argv[1:]
    if quiet.verbose_requested(args):
        cut = args.index("--") if "--" in args else len(args)
        args = [a for a in args[:cut] if a != "--verbose"] + args[cut:]
    else:
        quiet.silence_third_party()
    try:
        app(args=args, standalone_mode=False)
    except EvalVerseError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # usage errors (a missing option, a bad value) arrive here with standalone_mode=False
        # typer >= 0.29 raises its own vendored click's exceptions (typer._click), not click's: recognise
        # a usage error by what it can do, not by one library's class
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
