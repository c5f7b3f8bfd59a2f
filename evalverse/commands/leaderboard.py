"""`evalverse leaderboard ...`: import the seed win ratios, print the model × dimension table and the
human–machine alignment (SRCC/PLCC per dimension) computed from the store."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Optional

import typer

from evalverse.errors import DataError

app = typer.Typer(no_args_is_help=True, help="leaderboard commands")

DB_HELP = "DuckDB file (default: EVALVERSE_DB or the data folder)"


def _settings(db: Optional[Path]):
    from evalverse.config import Settings

    settings = Settings.from_env()
    return settings if db is None else settings.model_copy(update={"db_path": db})


def _open_seeded(db: Optional[Path]):
    """The store to read the leaderboard from. A fresh or empty store is first seeded from leaderboard_data/
    (as the app does on its first start); a file this user cannot write is read as it is."""
    from evalverse.leaderboard.data import load_seed_if_empty
    from evalverse.store import Store

    settings = _settings(db)
    if settings.db_path.exists() and not os.access(settings.db_path, os.W_OK):
        return Store.from_settings(settings, read_only=True)
    store = Store.from_settings(settings)
    try:
        summary = load_seed_if_empty(store)
    except BaseException:
        store.close()
        raise
    if summary is not None:
        typer.echo(f"first use of {store.path}: {summary.describe()}", err=True)
    return store


def _empty(path: str, source: str) -> DataError:
    from evalverse.leaderboard.data import SEED_SOURCE

    if source == SEED_SOURCE:
        how = "`evalverse leaderboard load`"
    elif ":" in source:  # a bench source <suite>:<judge>@<version>
        how = "`evalverse bench winratios --suite SUITE.jsonl --judge JUDGE`"
    else:
        how = f"`evalverse leaderboard load --source {source} --csv FILE`"
    return DataError(f"the leaderboard in {path} has no win ratios for source {source!r}: import them with {how}")


def _clean(value: Any) -> Any:
    """JSON-ready: NaN → null, numpy scalars → Python numbers."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@app.command("load")
def load(
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    csv: Optional[Path] = typer.Option(None, "--csv", help="win-ratio CSV (default: leaderboard_data/paper_table3_win_ratios.csv)"),
    models: Optional[Path] = typer.Option(None, "--models", help="models YAML (default: leaderboard_data/models.yaml)"),
    source: str = typer.Option("paper_table3", "--source", help="name the rows are stored under (replaced on reload)"),
) -> None:
    """Validate and import win ratios and generation models (idempotent; a bad row imports nothing)."""
    from evalverse.leaderboard import data
    from evalverse.store import Store

    with Store.from_settings(_settings(db)) as store:
        summary = data.load_seed(store, csv or data.SEED_CSV, models or data.SEED_MODELS, source=source)
        typer.echo(f"{summary.describe()} into {store.path}")


@app.command("table")
def table(
    as_json: bool = typer.Option(False, "--json", help="print a JSON list of {model, dimension, machine, human}"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    source: str = typer.Option("paper_table3", "--source", help="which stored win ratios to show"),
) -> None:
    """Model × dimension table of machine/human win ratios (a fresh store is seeded first, as the app does)."""
    import pandas as pd

    from evalverse.leaderboard.data import leaderboard_frame

    with _open_seeded(db) as store:
        frame = leaderboard_frame(store, source)
        if frame.empty:
            raise _empty(store.path, source)
    if as_json:
        records = [
            {"model": r.model, "dimension": r.dimension, "machine": _clean(r.machine_win_ratio), "human": _clean(r.human_win_ratio)}
            for r in frame.itertuples()
        ]
        typer.echo(json.dumps(records, indent=1, ensure_ascii=False))
        return
    def side(v) -> str:
        return "-" if v is None or v != v else f"{v:.2f}"

    cells = frame.assign(cell=[f"{side(m)}/{side(h)}" for m, h in zip(frame.machine_win_ratio, frame.human_win_ratio)])
    grid = cells.pivot(index="model", columns="dimension", values="cell")
    grid = grid.reindex(columns=list(dict.fromkeys(frame["dimension"]))).fillna("-")
    typer.echo("machine/human win ratio; '-' = not evaluated\n")
    with pd.option_context("display.width", 10_000, "display.max_columns", None, "display.max_rows", None):
        typer.echo(grid.T.to_string())


@app.command("alignment")
def alignment(
    as_json: bool = typer.Option(False, "--json", help="print a JSON list of per-dimension correlations"),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    source: str = typer.Option("paper_table3", "--source", help="which stored win ratios to use (paper_table3, or a bench "
                               "source <suite>:<judge>@<version>)"),
) -> None:
    """Per dimension: Spearman (SRCC) and Pearson (PLCC) correlation of machine vs human win ratios across models
    (for a bench source, the models whose machine and human figures both rest on enough cases)."""
    import pandas as pd

    from evalverse.leaderboard.sources import alignment_for

    with _open_seeded(db) as store:
        frame = alignment_for(store, source)
        if frame.empty:
            raise _empty(store.path, source)
    columns = ["dimension", "n_models", "srcc", "p_srcc", "plcc", "p_plcc"]
    if as_json:
        records = [{c: _clean(v) for c, v in zip(columns, row)} for row in frame[columns].itertuples(index=False)]
        typer.echo(json.dumps(records, indent=1, ensure_ascii=False))
        return
    with pd.option_context("display.width", 10_000, "display.max_rows", None, "display.float_format", "{:.3f}".format):
        typer.echo(frame[columns].to_string(index=False))
