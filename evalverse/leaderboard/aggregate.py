"""Aggregates of pairwise win ratios and the leaderboard table, as pure DataFrame functions.

Input is the long "win-ratio frame": one row per (stage, aspect, dimension, model) with
`machine_win_ratio` and `human_win_ratio` in [0, 1] (the shape of `leaderboard.data.leaderboard_frame`).

The aggregation rule is AGGREGATION_RULE below (the About tab shows it as written).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal, Sequence

import numpy as np
import pandas as pd

from evalverse.errors import DataError, InputError

Source = Literal["machine", "human"]
Level = Literal["overall", "stage", "aspect"]

SOURCES: dict[str, str] = {"machine": "machine_win_ratio", "human": "human_win_ratio"}
KEY_COLUMNS = ("stage", "aspect", "dimension", "model")
REQUIRED_COLUMNS = (*KEY_COLUMNS, *SOURCES.values())
CAPABILITIES = ("audio", "multi_shot", "reference")  # boolean columns of the models frame
MISSING_CELL = "–"

AGGREGATION_RULE = """\
A model's score over a set of dimensions (overall, a stage, an aspect, or the dimensions you tick) is the
plain **mean over the dimensions it was evaluated on** within that set, and beside it we report how many of
the set it has (*n* of *N*). A model that was never run on, say, the sound dimensions is not scored zero there:
those dimensions are left out of its mean and its *n* is smaller, so compare scores with different *n*
with care. Machine and human win ratios are aggregated separately by the same rule. Every dimension weighs
the same (a flat mean, not a mean of aspect means), so the score equals the average of the visible cells."""


def check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with numeric ratios, or DataError naming the missing columns / bad values."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a win-ratio DataFrame, got {type(frame).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"win-ratio frame lacks column(s) {', '.join(missing)}; has {', '.join(map(str, frame.columns))}")
    out = frame.copy()
    for col in SOURCES.values():
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
        bad = out[col].dropna()
        bad = bad[(bad < 0) | (bad > 1)]
        if len(bad):
            raise DataError(f"{col} must lie in [0, 1]; found {bad.iloc[0]!r}")
    dup = out.duplicated(list(KEY_COLUMNS))
    if dup.any():
        row = out.loc[dup, list(KEY_COLUMNS)].iloc[0].tolist()
        raise DataError(f"win-ratio frame has duplicate rows for {row}")
    return out


def source_column(source: str) -> str:
    try:
        return SOURCES[source]
    except KeyError:
        raise InputError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}") from None


def dimension_order(frame: pd.DataFrame, order: Sequence[str] | None = None) -> list[tuple[str, str, str]]:
    """(stage, aspect, dimension) triples in display order.

    `order` (e.g. dimension names in taxonomy order) sorts those it names first, in that order; the rest
    keep their order of first appearance in the frame, so an unknown dimension is shown, not dropped.
    """
    triples = list(dict.fromkeys(zip(frame["stage"], frame["aspect"], frame["dimension"])))
    if order:
        rank = {name: i for i, name in enumerate(order)}
        triples.sort(key=lambda t: rank.get(t[2], len(rank)))  # stable: unknown ones keep frame order
    return triples


def model_order(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["model"]))


# ---- filtering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the user picked. None / empty for a list means "no restriction"."""

    stages: tuple[str, ...] | None = None
    aspects: tuple[str, ...] | None = None
    dimensions: tuple[str, ...] | None = None
    access: Literal["all", "open", "closed"] = "all"
    capabilities: tuple[str, ...] = field(default_factory=tuple)  # models must have ALL of these
    models: tuple[str, ...] | None = None


def filter_rows(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows of the dimensions that pass the stage/aspect/dimension filters."""
    keep = pd.Series(True, index=frame.index)
    for col, wanted in (("stage", filters.stages), ("aspect", filters.aspects), ("dimension", filters.dimensions)):
        if wanted:
            keep &= frame[col].isin(list(wanted))
    return frame[keep]


def filter_models(models: pd.DataFrame | None, names: Iterable[str], filters: Filters) -> list[str]:
    """Model names (in the given order) that pass the open/closed, capability and name filters.

    A model the models frame does not describe passes only when no access/capability filter is set:
    we do not guess what we were not told.
    """
    names = list(names)
    if filters.models:
        names = [n for n in names if n in set(filters.models)]
    unknown_caps = [c for c in filters.capabilities if c not in CAPABILITIES]
    if unknown_caps:
        raise InputError(f"unknown capability {unknown_caps[0]!r}; choose from {', '.join(CAPABILITIES)}")
    if filters.access not in ("all", "open", "closed"):
        raise InputError(f"access must be all, open or closed, not {filters.access!r}")
    if filters.access == "all" and not filters.capabilities:
        return names
    if models is None or models.empty:
        return []
    info = models.drop_duplicates("model").set_index("model")
    kept = []
    for name in names:
        if name not in info.index:
            continue
        row = info.loc[name]
        if filters.access != "all":
            is_open = row.get("open_source")
            if pd.isna(is_open) or bool(is_open) != (filters.access == "open"):
                continue
        if any(pd.isna(row.get(c)) or not bool(row.get(c)) for c in filters.capabilities):
            continue
        kept.append(name)
    return kept


# ---- aggregates -------------------------------------------------------------------------------


def aggregate(frame: pd.DataFrame, level: Level = "overall", dimensions: Sequence[str] | None = None) -> pd.DataFrame:
    """Long table of aggregates: model, group, source, score, n, n_total.

    `level` groups dimensions: "overall" (one group "Overall"), "stage" or "aspect".
    `dimensions` (names) restricts which dimensions count; None = all in the frame.
    score = mean of the model's win ratios over the group's dimensions it has (NaN when it has none),
    n = how many it has, n_total = how many dimensions the group has in the (restricted) frame.
    """
    frame = check_frame(frame)
    if level not in ("overall", "stage", "aspect"):
        raise InputError(f"level must be overall, stage or aspect, not {level!r}")
    if dimensions is not None:
        frame = frame[frame["dimension"].isin(list(dimensions))]
    group = pd.Series("Overall", index=frame.index) if level == "overall" else frame[level]
    frame = frame.assign(_group=group)
    totals = frame.groupby("_group", sort=False)["dimension"].nunique()
    groups = list(totals.index)
    models = model_order(frame)
    rows = []
    for source, col in SOURCES.items():
        stats = frame.groupby(["model", "_group"], sort=False)[col].agg(["mean", "count"])
        for model in models:
            for g in groups:
                mean, count = stats.loc[(model, g)].tolist() if (model, g) in stats.index else (np.nan, 0)
                rows.append(
                    {"model": model, "group": g, "source": source, "score": float(mean) if count else np.nan,
                     "n": int(count), "n_total": int(totals[g])}
                )
    return pd.DataFrame(rows, columns=["model", "group", "source", "score", "n", "n_total"])


def selected_score(frame: pd.DataFrame, dimensions: Sequence[str] | None, source: Source = "machine") -> pd.DataFrame:
    """model, score, n, n_total for the user's dimension selection (None = all dimensions)."""
    source_column(source)
    agg = aggregate(frame, "overall", dimensions)
    return agg[agg["source"] == source][["model", "score", "n", "n_total"]].reset_index(drop=True)


def format_pair(machine: float | None, human: float | None, digits: int = 2) -> str:
    """'0.61 / 0.63' as in the paper's Table 3; '–' for a side without a value."""
    def one(v):
        return MISSING_CELL if v is None or pd.isna(v) else f"{v:.{digits}f}"

    if (machine is None or pd.isna(machine)) and (human is None or pd.isna(human)):
        return MISSING_CELL
    return f"{one(machine)} / {one(human)}"


def format_ci(value, low, high, n_cases=None, enough: bool = True, digits: int = 2) -> str:
    """One side of a computed source's cell: '0.66 ±0.15' (± half the 95 % interval's width), 'too few (n=3)'
    when the figure rests on too few cases, '–' when there is none."""
    if not enough and n_cases is not None and not pd.isna(n_cases) and int(n_cases) > 0:
        return f"too few (n={int(n_cases)})"
    if value is None or pd.isna(value):
        return MISSING_CELL
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} ±{(high - low) / 2:.{digits}f}"


def _ci_cell(r, digits: int) -> str:
    machine = format_ci(r.machine_win_ratio, r.machine_ci_low, r.machine_ci_high, r.n_cases, r.machine_enough, digits)
    human = format_ci(r.human_win_ratio, r.human_ci_low, r.human_ci_high, r.human_n_cases, r.human_enough, digits)
    return MISSING_CELL if machine == human == MISSING_CELL else f"{machine} / {human}"


CI_FRAME_COLUMNS = ("machine_ci_low", "machine_ci_high", "human_ci_low", "human_ci_high", "n_cases", "human_n_cases",
                    "machine_enough", "human_enough")


def paper_cells(frame: pd.DataFrame, order: Sequence[str] | None = None, digits: int = 2) -> pd.DataFrame:
    """The paper's layout: one row per model, one column per dimension, MultiIndex columns
    (stage, aspect, dimension), cells 'machine / human' (missing: '–'). A computed source's frame (with the
    interval columns of `leaderboard.sources.source_frame`) shows each side with its ± interval."""
    frame = check_frame(frame)
    triples = dimension_order(frame, order)
    models = model_order(frame)
    if all(c in frame.columns for c in CI_FRAME_COLUMNS):
        cells = {(r.stage, r.aspect, r.dimension, r.model): _ci_cell(r, digits) for r in frame.itertuples(index=False)}
        data = {t: [cells.get((*t, m), MISSING_CELL) for m in models] for t in triples}
        out = pd.DataFrame(data, index=pd.Index(models, name="model"))
        out.columns = pd.MultiIndex.from_tuples(triples, names=["stage", "aspect", "dimension"])
        return out
    lookup = {
        (r.stage, r.aspect, r.dimension, r.model): (r.machine_win_ratio, r.human_win_ratio)
        for r in frame.itertuples(index=False)
    }
    data = {
        t: [format_pair(*lookup.get((*t, m), (None, None)), digits=digits) for m in models] for t in triples
    }
    out = pd.DataFrame(data, index=pd.Index(models, name="model"))
    out.columns = pd.MultiIndex.from_tuples(triples, names=["stage", "aspect", "dimension"])
    return out


def dimension_column(aspect: str, dimension: str) -> str:
    """The leaderboard table's header of one dimension's cells: 'Aspect · Dimension'."""
    return f"{aspect} · {dimension}"


def dimension_columns(frame: pd.DataFrame) -> dict[str, str]:
    """{table header: dimension id} for the dimensions of a frame with a `dimension_id` column (the cells a
    leaderboard click can open)."""
    if frame is None or frame.empty or "dimension_id" not in frame.columns:
        return {}
    rows = frame.drop_duplicates(["aspect", "dimension"])
    return {dimension_column(a, d): str(i) for a, d, i in zip(rows["aspect"], rows["dimension"], rows["dimension_id"])}


def aggregate_column(group: str, source: str) -> str:
    return f"{group} ({'M' if source == 'machine' else 'H'})"


SELECTED_MACHINE = "Selected (M)"
SELECTED_HUMAN = "Selected (H)"
DIMS_COLUMN = "Dims"


def leaderboard_table(
    frame: pd.DataFrame,
    models: pd.DataFrame | None = None,
    filters: Filters = Filters(),
    level: Level = "overall",
    sort_by: str = SELECTED_MACHINE,
    order: Sequence[str] | None = None,
    digits: int = 2,
) -> pd.DataFrame:
    """The leaderboard as one flat table, ready to show.

    Columns: Rank, Model, Access, Selected (M), Selected (H), Dims ('n/N' of the selection the model
    has), the aggregates at `level` over the selection (e.g. 'Production (M)', 'Production (H)'), then
    one 'machine / human' cell per selected dimension (header 'Aspect · Dimension'), in `order`.
    Rows: models passing the model filters, sorted by `sort_by` (any numeric column) descending,
    missing values last; ties keep the frame's model order. Rank counts from 1 in that order; a model
    without a value in `sort_by` (e.g. not evaluated on any selected dimension) is listed unranked (NaN).
    """
    frame = check_frame(frame)
    rows = filter_rows(frame, filters)
    names = filter_models(models, model_order(frame), filters)
    rows = rows[rows["model"].isin(names)]
    triples = dimension_order(rows, order)
    dims = [t[2] for t in triples]

    table = pd.DataFrame({"Model": names})
    access = {}
    if models is not None and not models.empty and "open_source" in models.columns:
        for r in models.drop_duplicates("model").itertuples(index=False):
            access[r.model] = MISSING_CELL if pd.isna(r.open_source) else ("Open" if bool(r.open_source) else "Closed")
    table["Access"] = [access.get(n, MISSING_CELL) for n in names]

    selected = aggregate(rows, "overall") if len(rows) else None
    for source, label in (("machine", SELECTED_MACHINE), ("human", SELECTED_HUMAN)):
        table[label] = _lookup(selected, names, "Overall", source, "score")
    n = _lookup(selected, names, "Overall", "machine", "n")
    n_h = _lookup(selected, names, "Overall", "human", "n")
    table[DIMS_COLUMN] = [f"{int(max(a, b))}/{len(dims)}" for a, b in zip(np.nan_to_num(n), np.nan_to_num(n_h))]

    agg = aggregate(rows, level) if len(rows) else None
    if agg is not None and level != "overall":
        for g in dict.fromkeys(agg["group"]):
            for source in SOURCES:
                table[aggregate_column(g, source)] = _lookup(agg, names, g, source, "score")

    cells = paper_cells(rows, order, digits) if len(rows) else None
    for stage, aspect, dim in triples:
        table[dimension_column(aspect, dim)] = cells[(stage, aspect, dim)].reindex(names).fillna(MISSING_CELL).tolist()

    numeric = numeric_columns(table)
    if sort_by not in numeric:
        raise InputError(f"cannot sort by {sort_by!r}; choose one of {', '.join(numeric)}")
    table = table.sort_values(sort_by, ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    ranks = np.arange(1, len(table) + 1, dtype=float)
    ranks[table[sort_by].isna().to_numpy()] = np.nan
    table.insert(0, "Rank", ranks)
    for col in numeric:
        table[col] = table[col].round(digits + 1)
    return table


def numeric_columns(table: pd.DataFrame) -> list[str]:
    """Columns a user can sort by: the numeric aggregates (not Rank)."""
    return [c for c in table.columns if c != "Rank" and pd.api.types.is_numeric_dtype(table[c])]


def _lookup(agg: pd.DataFrame | None, names: list[str], group: str, source: str, what: str) -> list[float]:
    if agg is None:
        return [np.nan] * len(names)
    part = agg[(agg["group"] == group) & (agg["source"] == source)].set_index("model")[what]
    return [float(part[n]) if n in part.index else np.nan for n in names]
