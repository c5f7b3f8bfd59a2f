"""The measure catalogue: every scalar an operator reports, with its unit, direction, valid range and meaning.

The facts live in `measures.yaml` (one entry per measure); which measures exist, their scope (whole clip or
per shot) and their kind (number, integer, bool, category) follow from the operators' typed results models
(`evalverse.operators.results`). `load_catalogue()` joins the two and refuses, with a message naming the
operator and the measure, a measure an operator reports that the file does not describe, an entry for a
measure no operator reports, and an entry whose unit, direction, range or description is missing or wrong.
The judge's checks, the gates, the UI's evidence panels, calibration features and the docs read this one
catalogue (`evalverse evidence --measures --json` prints it).

`metadata` is the probe's `VideoMeta` (frame rate, size, duration, audio): not an operator, but checks and
gates read it through the same catalogue.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from evalverse.errors import DataError
from evalverse.operators.results import Kind, measure_fields

CATALOGUE_PATH = Path(__file__).with_name("measures.yaml")
METADATA = "metadata"

Direction = Literal["higher_is_better", "lower_is_better", "target_band", "neutral"]


class MeasureFacts(BaseModel):
    """What `measures.yaml` says about one measure."""

    model_config = ConfigDict(extra="forbid")

    unit: str
    direction: Direction
    range: tuple[float | None, float | None] | None = None  # valid values [lo, hi]; None end = unbounded
    target: tuple[float, float] | None = None  # the good band, for direction target_band
    description: str

    @model_validator(mode="after")
    def _consistent(self) -> "MeasureFacts":
        if not self.unit.strip():
            raise ValueError("unit is empty")
        if not self.description.strip():
            raise ValueError("description is empty")
        if self.range is not None and None not in self.range and self.range[0] > self.range[1]:
            raise ValueError(f"range {list(self.range)} has its low end above its high end")
        if (self.direction == "target_band") != (self.target is not None):
            raise ValueError("a target band is given exactly when direction is target_band")
        if self.target is not None and self.target[0] > self.target[1]:
            raise ValueError(f"target {list(self.target)} has its low end above its high end")
        return self


class Measure(BaseModel):
    """One catalogue entry: the file's facts plus what the results model says (scope, kind)."""

    model_config = ConfigDict(extra="forbid")

    id: str  # "operator.measure"
    operator: str
    measure: str  # dotted path inside the operator's results
    unit: str
    direction: Direction
    range: tuple[float | None, float | None] | None = None
    target: tuple[float, float] | None = None
    description: str
    scope: Literal["clip", "shot"]
    kind: Kind
    values: tuple[str, ...] = ()  # the categories, for kind "category"

    def in_range(self, value: Any) -> bool:
        if self.range is None or not isinstance(value, (int, float)) or isinstance(value, bool):
            return True
        lo, hi = self.range
        return (lo is None or value >= lo) and (hi is None or value <= hi)


class Catalogue:
    """All measures, by id. `version` is a content hash of the file, part of every run's provenance."""

    def __init__(self, measures: dict[str, Measure], version: str, path: Path) -> None:
        self.measures = measures
        self.version = version
        self.path = path

    def __contains__(self, measure_id: str) -> bool:
        return measure_id in self.measures

    def __iter__(self):
        return iter(self.measures.values())

    def __len__(self) -> int:
        return len(self.measures)

    def get(self, measure_id: str) -> Measure:
        try:
            return self.measures[measure_id]
        except KeyError:
            raise KeyError(f"no measure {measure_id!r} in the catalogue") from None

    def for_operator(self, operator: str) -> list[Measure]:
        return [m for m in self.measures.values() if m.operator == operator]

    def as_json(self) -> list[dict[str, Any]]:
        return [m.model_dump(mode="json") for m in self.measures.values()]


def measure_sources() -> dict[str, type[BaseModel]]:
    """Every source of measures: `metadata` (VideoMeta) and each registered operator's results model."""
    from evalverse.media.types import VideoMeta
    from evalverse.operators.runner import get_operator, operator_names

    sources: dict[str, type[BaseModel]] = {METADATA: VideoMeta}
    for name in operator_names():
        if name.startswith("_"):  # private operators (tests register some) are not part of the catalogue
            continue
        model = getattr(get_operator(name), "results_model", None)
        if model is not None:
            sources[name] = model
    return sources


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    return _load(str(path or CATALOGUE_PATH))


@lru_cache(maxsize=4)
def _load(path: str) -> Catalogue:
    try:
        text = Path(path).read_text(encoding="utf-8")
        raw = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read the measure catalogue {path}: {exc}") from exc
    entries = raw.get("measures")
    if not isinstance(entries, dict):
        raise DataError(f"measure catalogue {path}: expected a `measures:` mapping of source -> measure -> facts")
    unknown_keys = set(raw) - {"version", "measures"}
    if unknown_keys:
        raise DataError(f"measure catalogue {path}: unknown top-level key(s) {sorted(unknown_keys)}")
    sources = measure_sources()
    problems: list[str] = []
    measures: dict[str, Measure] = {}
    for source, model in sources.items():
        declared = {p: (scope, kind, values) for p, scope, kind, values in measure_fields(model)}
        described = entries.get(source) or {}
        if not isinstance(described, dict):
            problems.append(f"{source}: expected a mapping of measure -> facts")
            continue
        for name in declared.keys() - described.keys():
            problems.append(f"{source} reports measure {name!r} that the catalogue does not describe")
        for name in described.keys() - declared.keys():
            problems.append(f"the catalogue describes {source}.{name}, which {source} does not report")
        for name in sorted(declared.keys() & described.keys()):
            scope, kind, values = declared[name]
            try:
                facts = MeasureFacts.model_validate(described[name])
            except ValidationError as exc:
                first = exc.errors()[0]
                problems.append(f"{source}.{name}: {'.'.join(map(str, first['loc'])) or 'entry'} {first['msg']}")
                continue
            if kind in ("bool", "category") and facts.direction == "target_band":
                problems.append(f"{source}.{name}: a {kind} measure cannot have a target band")
            measures[f"{source}.{name}"] = Measure(
                id=f"{source}.{name}", operator=source, measure=name, scope=scope, kind=kind, values=values,
                **facts.model_dump())
    for source in entries.keys() - sources.keys():
        problems.append(f"the catalogue describes measures of {source!r}, which is not a registered operator")
    if problems:
        raise DataError(f"measure catalogue {path} does not match the operators' results models:\n  - "
                        + "\n  - ".join(problems))
    version = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Catalogue(measures, version, Path(path))
