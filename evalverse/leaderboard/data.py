"""Leaderboard data for the UI and the CLI: import the seed (paper Table 3 + models.yaml) into the store,
and read tidy DataFrames back with stage/aspect/dimension names taken from the taxonomy.

The store keeps taxonomy dimension ids; frames show the taxonomy's names, in the taxonomy's order.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalverse.errors import DataError
from evalverse.leaderboard.stats import alignment_table
from evalverse.taxonomy import Taxonomy, load_taxonomy

SEED_DIR = Path(__file__).resolve().parents[2] / "leaderboard_data"
SEED_CSV = SEED_DIR / "paper_table3_win_ratios.csv"
SEED_MODELS = SEED_DIR / "models.yaml"
SEED_SOURCE = "paper_table3"
CSV_COLUMNS = ("stage", "aspect", "dimension", "model", "machine_win_ratio", "human_win_ratio")
FRAME_COLUMNS = ["stage", "aspect", "dimension", "model", "machine_win_ratio", "human_win_ratio", "dimension_id", "source"]
MODEL_COLUMNS = ["model", "organisation", "open_source", "params_b", "audio", "multi_shot", "reference", "notes"]


class SeedModel(BaseModel):
    """One entry of models.yaml."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    organisation: str | None = None
    open_source: bool | None = None
    params_b: float | None = Field(None, gt=0)
    audio: bool = False
    multi_shot: bool = False
    reference: bool = False
    notes: str = ""


@dataclass(frozen=True)
class SeedSummary:
    csv_path: Path
    models_path: Path
    source: str
    rows: int
    dimensions: int
    models: int

    def describe(self) -> str:
        return (
            f"loaded {self.rows} win ratios ({self.dimensions} dimensions × {self.models} models) from "
            f"{self.csv_path} and {self.models_path} as source {self.source!r}"
        )


# ---- reading and validating the seed files ---------------------------------------------------------

def read_models(path: str | Path = SEED_MODELS) -> list[SeedModel]:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"cannot read models file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"models file {path} is not valid YAML: {exc}") from exc
    entries = raw.get("models") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise DataError(f"models file {path} must have a non-empty list under `models:`")
    problems: list[str] = []
    models: list[SeedModel] = []
    for i, entry in enumerate(entries, start=1):
        label = entry.get("name", "?") if isinstance(entry, dict) else "?"
        try:
            models.append(SeedModel.model_validate(entry))
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors())
            problems.append(f"entry {i} ({label}): {detail}")
    names = [e.get("name") for e in entries if isinstance(e, dict) and e.get("name")]
    problems += [f"model {n!r} is listed twice" for n in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        raise DataError(f"{len(problems)} problem(s) in models file {path}:\n  " + "\n  ".join(problems))
    return models


def _same(a: str, b_name: str, b_id: str) -> bool:
    key = a.strip().lower()
    return key in (b_name.strip().lower(), b_id.lower())


def read_win_ratios(path: str | Path, taxonomy: Taxonomy, model_names: set[str]) -> list[dict[str, Any]]:
    """Validated rows {dimension (taxonomy id), model, machine_win_ratio, human_win_ratio}; any bad row →
    DataError listing every problem with its file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"cannot read win-ratio file {path}: {exc.strerror or exc}") from exc
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path}, line 1: missing column(s) {missing}; the header must have {list(CSV_COLUMNS)}")
    reader.fieldnames = header
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    first_line: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(f"line {line}: more fields than the header has columns")
            continue
        empty = [c for c in CSV_COLUMNS if row.get(c) is None or not str(row[c]).strip()]
        if empty:
            problems.append(f"line {line}: missing value(s) for {empty}")
            continue
        row_problems = []
        dim_name, model = row["dimension"].strip(), row["model"].strip()
        try:
            dim = taxonomy.dimension(dim_name)
        except KeyError:
            row_problems.append(f"unknown dimension {dim_name!r} (not in taxonomy {taxonomy.version})")
            dim = None
        if dim is not None:
            stage, aspect, _ = taxonomy.path_of(dim.id)
            if not _same(row["stage"], stage.name, stage.id) or not _same(row["aspect"], aspect.name, aspect.id):
                row_problems.append(
                    f"dimension {dim.name!r} is under {stage.name} / {aspect.name} in the taxonomy, "
                    f"not {row['stage'].strip()} / {row['aspect'].strip()}"
                )
        if model not in model_names:
            row_problems.append(f"unknown model {model!r} (not in the models file)")
        ratios = {}
        for col in ("machine_win_ratio", "human_win_ratio"):
            try:
                value = float(row[col])
            except ValueError:
                row_problems.append(f"{col} {row[col]!r} is not a number")
                continue
            if not math.isfinite(value) or not 0.0 <= value <= 1.0:
                row_problems.append(f"{col} {row[col]!r} is outside [0, 1]")
            ratios[col] = value
        if dim is not None:
            key = (dim.id, model)
            if key in first_line:
                row_problems.append(f"duplicate of line {first_line[key]} ({dim.name}, {model})")
            else:
                first_line[key] = line
        if row_problems:
            problems += [f"line {line}: {p}" for p in row_problems]
        else:
            rows.append({"dimension": dim.id, "model": model, **ratios})
    if not rows and not problems:
        problems.append("no data rows")
    if problems:
        shown = problems[:50] + ([f"... and {len(problems) - 50} more"] if len(problems) > 50 else [])
        raise DataError(f"{len(problems)} problem(s) in win-ratio file {path} (nothing imported):\n  " + "\n  ".join(shown))
    return rows


# ---- importing into the store ----------------------------------------------------------------------

def load_seed(
    store: Any,
    csv_path: str | Path = SEED_CSV,
    models_path: str | Path = SEED_MODELS,
    *,
    source: str = SEED_SOURCE,
    taxonomy: Taxonomy | None = None,
) -> SeedSummary:
    """Validate both files completely, then import them in one transaction (replacing `source`'s rows,
    upserting the models). Idempotent."""
    taxonomy = taxonomy or load_taxonomy()
    models = read_models(models_path)
    rows = read_win_ratios(csv_path, taxonomy, {m.name for m in models})
    store.import_leaderboard(source, [m.model_dump() for m in models], rows)
    return SeedSummary(
        Path(csv_path), Path(models_path), source, len(rows),
        len({r["dimension"] for r in rows}), len({r["model"] for r in rows}),
    )


def load_seed_if_empty(store: Any, *, taxonomy: Taxonomy | None = None) -> SeedSummary | None:
    """On the app's first start: import the bundled seed when the store has no leaderboard rows but those of
    computed bench sources (which sit beside the paper's). Returns None when nothing was done (other rows
    exist, or the store is read-only)."""
    computed = {s["source"] for s in store.bench.sources()} if hasattr(store, "bench") else set()
    if store.read_only or set(store.win_ratio_sources()) - computed:
        return None
    return load_seed(store, taxonomy=taxonomy)


# ---- frames for the UI and CLI ---------------------------------------------------------------------

def _dimension_order(taxonomy: Taxonomy) -> dict[str, tuple[int, str, str, str]]:
    return {
        dim.id: (i, stage.name, aspect.name, dim.name)
        for i, (stage, aspect, dim) in enumerate(taxonomy.iter_dimensions())
    }


def leaderboard_frame(store: Any, source: str | None = SEED_SOURCE, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """DataFrame[stage, aspect, dimension, model, machine_win_ratio, human_win_ratio, dimension_id, source]:
    names from the taxonomy, rows in taxonomy order then by model. `source=None` gives every source.
    A stored dimension the taxonomy no longer has is kept at the end with empty stage and aspect."""
    taxonomy = taxonomy or load_taxonomy()
    raw = store.win_ratios(source)
    if raw.empty:
        return pd.DataFrame(columns=FRAME_COLUMNS)
    order = _dimension_order(taxonomy)
    unknown = (len(order), None, None, None)
    info = raw["dimension"].map(lambda d: order.get(d, unknown))
    frame = pd.DataFrame(
        {
            "stage": [i[1] for i in info],
            "aspect": [i[2] for i in info],
            "dimension": [i[3] if i[3] is not None else d for i, d in zip(info, raw["dimension"])],
            "model": raw["model"],
            "machine_win_ratio": raw["machine_win_ratio"].astype(float),
            "human_win_ratio": raw["human_win_ratio"].astype(float),
            "dimension_id": raw["dimension"],
            "source": raw["source"],
            "_order": [i[0] for i in info],
        }
    )
    frame = frame.sort_values(["_order", "dimension_id", "model", "source"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def models_frame(store: Any) -> pd.DataFrame:
    """DataFrame[model, organisation, open_source, params_b, audio, multi_shot, reference, notes] (by name)."""
    rows = store.models()
    if not rows:
        return pd.DataFrame(columns=MODEL_COLUMNS)
    frame = pd.DataFrame(rows).rename(columns={"name": "model"})
    return frame[MODEL_COLUMNS].reset_index(drop=True)


def alignment_frame(store: Any, source: str = SEED_SOURCE, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Per dimension (taxonomy order), SRCC/PLCC between machine and human win ratios across models:
    DataFrame[dimension, n_models, srcc, p_srcc, plcc, p_plcc] (plus dimension_id)."""
    frame = leaderboard_frame(store, source, taxonomy)
    if frame.empty:
        return pd.DataFrame(columns=["dimension", "n_models", "srcc", "p_srcc", "plcc", "p_plcc", "dimension_id"])
    table = alignment_table(
        frame.rename(columns={"machine_win_ratio": "machine", "human_win_ratio": "human"})[
            ["dimension", "model", "machine", "human"]
        ]
    )
    ids = frame.drop_duplicates("dimension").set_index("dimension")["dimension_id"]
    table["dimension_id"] = table["dimension"].map(ids)
    return table
