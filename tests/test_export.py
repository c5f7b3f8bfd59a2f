"""`evalverse export`: runs, results and win ratios to Parquet or CSV, read back."""
from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from bench_support import write_suite
from evalverse.bench.suite import load_suite
from evalverse.bench.winratios import compute
from evalverse.cli import app
from evalverse.store import Store
from test_bench_winratios import _fill


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    path = root / "ev.duckdb"
    suite = load_suite(write_suite(root / "demo.jsonl", 6))
    with Store.open(path) as store:
        _fill(store, suite, {"alpha": 4.0, "beta": 3.0, "gamma": 2.0, "delta": 1.0})
        compute(store, "demo", n_boot=50)
    return path


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_round_trips(db, tmp_path, fmt):
    runner = CliRunner()
    reader = "read_parquet" if fmt == "parquet" else "read_csv_auto"
    for what, rows in (("runs", 24), ("results", 48), ("winratios", 4), ("ratings", 8)):
        out = tmp_path / f"{what}.{fmt}"
        res = runner.invoke(app, ["export", "--what", what, "--format", fmt, "--out", str(out), "--db", str(db)])
        assert res.exit_code == 0, res.output
        assert f"wrote {rows} row(s)" in res.output
        back = duckdb.execute(f"SELECT * FROM {reader}('{out}')").df()
        assert len(back) == rows
    wins = duckdb.execute(f"SELECT * FROM {reader}('{tmp_path / f'winratios.{fmt}'}')").df().set_index("model")
    assert wins.loc["alpha", "machine_win_ratio"] == 1.0 and wins.loc["alpha", "n_cases"] == 6
    assert {"machine_ci_low", "machine_ci_high", "human_win_ratio", "source"} <= set(wins.columns)
    runs = duckdb.execute(f"SELECT * FROM {reader}('{tmp_path / f'runs.{fmt}'}')").df()
    assert set(runs["suite"]) == {"demo"} and set(runs["model"]) == {"alpha", "beta", "gamma", "delta"}


def test_bad_export_arguments_are_one_line_errors(db, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["export", "--what", "everything", "--out", str(tmp_path / "x"), "--db", str(db)])
    assert res.exit_code != 0 and "--what must be one of" in str(res.exception)
    res = runner.invoke(app, ["export", "--what", "runs", "--out", str(tmp_path / "no" / "x.csv"), "--db", str(db)])
    assert "does not exist" in str(res.exception)
