"""Seed import (validation, idempotence), leaderboard frames, and `evalverse leaderboard` end to end."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats as sps
from typer.testing import CliRunner

from evalverse.cli import app
from evalverse.errors import DataError
from evalverse.leaderboard import data
from evalverse.store import Store
from evalverse.taxonomy import load_taxonomy

runner = CliRunner()


def _seed_rows() -> list[dict]:
    with data.SEED_CSV.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write_csv(path: Path, rows: list[dict], columns=data.CSV_COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _invoke(*args: str):
    return runner.invoke(app, ["leaderboard", *args], catch_exceptions=True)


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    db = tmp_path / "lb.duckdb"
    result = _invoke("load", "--db", str(db))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return db


# ---- seed files ------------------------------------------------------------------------------

def test_seed_files_are_consistent_with_taxonomy_and_paper():
    rows = _seed_rows()
    assert len(rows) == 172
    models = data.read_models()
    names = {m.name for m in models}
    assert names == {r["model"] for r in rows} and len(models) == 11
    taxonomy = load_taxonomy()
    assert {r["dimension"] for r in rows} == {d.name for d in taxonomy.dimensions}
    by = {m.name: m for m in models}
    assert {n: by[n].params_b for n in names if by[n].params_b} == {
        "Hunyuan 1.5": 8.3, "LTX2": 19, "Wan2.2": 14, "HoloCine": 14, "MultiShotMaster": 14}
    assert {n for n in names if by[n].audio} == {"Kling-v3-Omni", "Seedance 2.0", "Happy Horse 1.0", "LTX2"}
    multi_shot_rows = {r["model"] for r in rows if r["aspect"] == "Multi-Shot"}
    assert {n for n in names if by[n].multi_shot} == multi_shot_rows | {"HoloCine", "MultiShotMaster"}
    assert by["UniVideo"].organisation is None and by["UniVideo"].reference
    assert {n for n in names if by[n].open_source} == {"Hunyuan 1.5", "LTX2", "Wan2.2"}


# ---- load: validation and idempotence --------------------------------------------------------

def test_load_is_idempotent_and_complete(loaded: Path):
    again = _invoke("load", "--db", str(loaded))
    assert again.exit_code == 0 and "172 win ratios" in again.output
    with Store.open(loaded, read_only=True) as store:
        counts = store.counts()
        assert counts["leaderboard_win_ratios"] == 172 and counts["generation_models"] == 11
        frame = data.leaderboard_frame(store)
        models = data.models_frame(store)
    taxonomy = load_taxonomy()
    order = [d.name for d in taxonomy.dimensions]
    assert list(dict.fromkeys(frame["dimension"])) == order  # taxonomy order, not CSV order
    for _, row in frame.iterrows():
        stage, aspect, dim = taxonomy.path_of(row["dimension_id"])
        assert (row["stage"], row["aspect"], row["dimension"]) == (stage.name, aspect.name, dim.name)
    csv_values = {(r["dimension"], r["model"]): (float(r["machine_win_ratio"]), float(r["human_win_ratio"])) for r in _seed_rows()}
    assert {(r.dimension, r.model): (r.machine_win_ratio, r.human_win_ratio) for r in frame.itertuples()} == csv_values
    assert models.columns.tolist()[:7] == ["model", "organisation", "open_source", "params_b", "audio", "multi_shot", "reference"]
    hunyuan = models.set_index("model").loc["Hunyuan 1.5"]
    assert hunyuan["params_b"] == 8.3 and hunyuan["organisation"] == "Tencent" and bool(hunyuan["open_source"])


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda rows: rows[4].update(dimension="Charisma"), "line 6: unknown dimension 'Charisma'"),
        (lambda rows: rows[0].update(model="Sora 9"), "line 2: unknown model 'Sora 9'"),
        (lambda rows: rows[10].update(human_win_ratio="1.2"), "line 12: human_win_ratio '1.2' is outside [0, 1]"),
        (lambda rows: rows[3].update(machine_win_ratio="-0.1"), "line 5: machine_win_ratio '-0.1' is outside [0, 1]"),
        (lambda rows: rows[7].update(machine_win_ratio="high"), "line 9: machine_win_ratio 'high' is not a number"),
        (lambda rows: rows[7].update(machine_win_ratio="nan"), "line 9: machine_win_ratio 'nan' is outside [0, 1]"),
        (lambda rows: rows[2].update(human_win_ratio=""), "line 4: missing value(s) for ['human_win_ratio']"),
        (lambda rows: rows.append(dict(rows[0])), "line 174: duplicate of line 2 (Character, Seedance 2.0)"),
        (lambda rows: rows[0].update(aspect="Acting"), "line 2: dimension 'Character' is under Pre-Production / Visual Concept Design"),
    ],
)
def test_bad_rows_are_reported_with_file_and_line_and_nothing_is_imported(tmp_path: Path, loaded: Path, mutate, message):
    rows = _seed_rows()
    mutate(rows)
    bad = _write_csv(tmp_path / "bad.csv", rows)
    result = _invoke("load", "--db", str(loaded), "--csv", str(bad), "--source", "other")
    assert result.exit_code != 0 and isinstance(result.exception, DataError)
    assert str(bad) in str(result.exception) and message in str(result.exception)
    with Store.open(loaded, read_only=True) as store:
        assert store.win_ratio_sources() == ["paper_table3"]  # nothing of the bad file got in


def test_missing_column_and_all_problems_listed(tmp_path: Path):
    rows = _seed_rows()
    no_human = _write_csv(tmp_path / "cols.csv", rows, columns=[c for c in data.CSV_COLUMNS if c != "human_win_ratio"])
    with Store.memory() as store:
        with pytest.raises(DataError, match=r"cols\.csv, line 1: missing column\(s\) \['human_win_ratio'\]"):
            data.load_seed(store, no_human)
        rows[0]["model"] = "X"
        rows[5]["dimension"] = "Y"
        two = _write_csv(tmp_path / "two.csv", rows)
        with pytest.raises(DataError) as err:
            data.load_seed(store, two)
        assert "2 problem(s)" in str(err.value) and "line 2:" in str(err.value) and "line 7:" in str(err.value)
        assert store.counts()["leaderboard_win_ratios"] == 0 and store.counts()["generation_models"] == 0


def test_bad_models_file(tmp_path: Path):
    bad = tmp_path / "models.yaml"
    bad.write_text("models:\n  - name: A\n    params_b: -3\n  - name: A\n  - {name: B, colour: red}\n")
    with pytest.raises(DataError) as err:
        data.read_models(bad)
    text = str(err.value)
    assert str(bad) in text and "entry 1 (A): params_b" in text and "entry 3 (B): colour" in text
    assert "'A' is listed twice" in text
    bad.write_text("models: [")
    with pytest.raises(DataError, match="not valid YAML"):
        data.read_models(bad)
    with pytest.raises(DataError, match="cannot read"):
        data.read_models(tmp_path / "absent.yaml")


def test_load_seed_if_empty(tmp_path: Path):
    path = tmp_path / "first.duckdb"
    with Store.open(path) as store:
        assert data.load_seed_if_empty(store).rows == 172
        assert data.load_seed_if_empty(store) is None  # already there
    with Store.open(path, read_only=True) as store:
        assert data.load_seed_if_empty(store) is None
    with Store.memory() as store:
        store.replace_win_ratios("mine", [{"dimension": "lens", "model": "X", "machine_win_ratio": 0.5, "human_win_ratio": 0.5}])
        assert data.load_seed_if_empty(store) is None  # any data at all: leave it alone


# ---- table and alignment ---------------------------------------------------------------------

def test_table_json_and_text(loaded: Path):
    result = _invoke("table", "--json", "--db", str(loaded))
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert len(records) == 172 and set(records[0]) == {"model", "dimension", "machine", "human"}
    seed = {(r["model"], r["dimension"]): (float(r["machine_win_ratio"]), float(r["human_win_ratio"])) for r in _seed_rows()}
    assert {(r["model"], r["dimension"]): (r["machine"], r["human"]) for r in records} == seed
    text = _invoke("table", "--db", str(loaded))
    assert text.exit_code == 0
    line = next(l for l in text.output.splitlines() if l.startswith("Vocal"))
    assert line.count("-") >= 7  # 7 of 11 models have no Vocal rating
    m, h = seed[("LTX2", "Vocal")]
    assert f"{m:.2f}/{h:.2f}" in line


def test_alignment_json_matches_scipy_on_the_csv(loaded: Path):
    result = _invoke("alignment", "--json", "--db", str(loaded))
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert [r["dimension"] for r in records] == [d.name for d in load_taxonomy().dimensions]
    rows = _seed_rows()
    for rec in records:
        part = [r for r in rows if r["dimension"] == rec["dimension"]]
        m = [float(r["machine_win_ratio"]) for r in part]
        h = [float(r["human_win_ratio"]) for r in part]
        assert rec["n_models"] == len(part)
        assert rec["srcc"] == pytest.approx(sps.spearmanr(m, h).statistic)
        assert rec["p_srcc"] == pytest.approx(sps.spearmanr(m, h).pvalue)
        assert rec["plcc"] == pytest.approx(sps.pearsonr(m, h).statistic)
        assert rec["p_plcc"] == pytest.approx(sps.pearsonr(m, h).pvalue)
    text = _invoke("alignment", "--db", str(loaded))
    assert text.exit_code == 0 and "Soundscape" in text.output and "srcc" in text.output


def test_alignment_nan_is_null_in_json(tmp_path: Path):
    rows = [r for r in _seed_rows() if r["dimension"] in ("Vocal", "Lens")]
    for r in rows:
        if r["dimension"] == "Vocal":
            r["machine_win_ratio"] = "0.5"  # constant: correlation undefined
    small = _write_csv(tmp_path / "small.csv", rows)
    db = tmp_path / "nan.duckdb"
    assert _invoke("load", "--db", str(db), "--csv", str(small)).exit_code == 0
    records = {r["dimension"]: r for r in json.loads(_invoke("alignment", "--json", "--db", str(db)).output)}
    assert records["Vocal"]["n_models"] == 4 and records["Vocal"]["srcc"] is None and records["Vocal"]["p_plcc"] is None
    assert records["Lens"]["srcc"] is not None


def _cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALVERSE_DB": str(db), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "evalverse.cli", "leaderboard", *args], capture_output=True, text=True, env=env, timeout=120)


def test_empty_store_says_to_run_load_end_to_end(tmp_path: Path, monkeypatch):
    db = tmp_path / "sub" / "e.duckdb"
    proc = _cli("table", db=db)  # no file at all
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "evalverse leaderboard load" in proc.stderr and not db.exists()
    Store.open(db).close()  # a database without leaderboard rows
    proc = _cli("alignment", "--json", db=db)
    assert proc.returncode == 2 and "evalverse leaderboard load" in proc.stderr and proc.stdout == ""
    proc = _cli("load", db=db)  # EVALVERSE_DB is honoured
    assert proc.returncode == 0, proc.stderr
    monkeypatch.setenv("EVALVERSE_DB", str(db))
    result = _invoke("alignment", "--json")
    assert result.exit_code == 0 and len(json.loads(result.output)) == 18


def test_shipped_table3_is_the_shared_copy(paper_csv, shared_dir):
    """leaderboard_data/ ships the paper's Table 3; where ../shared is present it must be byte-identical."""
    assert paper_csv.read_bytes() == (shared_dir / "data" / "paper_table3_win_ratios.csv").read_bytes()
