"""Mapping an external rating axis (FETV's "static_quality", a vendor's "sharpness") onto taxonomy
dimensions. A mapping is a YAML data file (`mappings/<name>.yaml`), checked against the taxonomy when
loaded: every target dimension must exist, a sub-dimension must belong to its dimension, and every axis
says why it maps where it does, or why it maps nowhere (`dimension: null`: its ratings are skipped).
"""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalverse.errors import DataError
from evalverse.taxonomy import Taxonomy, load_taxonomy

MAPPINGS_DIR = Path(__file__).with_name("mappings")


class AxisTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dimension: str | None  # taxonomy dimension id; None: not imported
    sub_dimension: str | None = None
    reason: str = Field(min_length=20)


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    citation: str = ""
    licence: str = ""
    scale: tuple[float, float] | None = None
    axes: dict[str, AxisTarget] = Field(min_length=1)

    def target(self, axis: str) -> AxisTarget | None:
        return self.axes.get(axis)

    @property
    def mapped(self) -> dict[str, AxisTarget]:
        return {a: t for a, t in self.axes.items() if t.dimension is not None}

    @property
    def skipped(self) -> dict[str, str]:
        return {a: t.reason for a, t in self.axes.items() if t.dimension is None}

    def as_record(self) -> dict:
        """What the store keeps beside the source: {axis: {dimension, sub_dimension, reason}}."""
        return {a: t.model_dump() for a, t in self.axes.items()}


def load_mapping(name_or_path: str | Path, taxonomy: Taxonomy | None = None) -> Mapping:
    """A packaged mapping by name ("fetv") or a YAML file, validated against the taxonomy."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = MAPPINGS_DIR / f"{name_or_path}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml")))
        raise DataError(f"cannot read mapping {path}: {exc.strerror or exc} (packaged mappings: {known})") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"mapping {path} is not valid YAML: {exc}") from exc
    try:
        mapping = Mapping.model_validate(raw)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise DataError(f"mapping {path} is malformed: {detail}") from None
    return check_mapping(mapping, taxonomy or load_taxonomy(), str(path))


def check_mapping(mapping: Mapping, taxonomy: Taxonomy, where: str = "mapping") -> Mapping:
    """Resolve dimension names to ids and check every target against the taxonomy (DataError listing all)."""
    problems, axes = [], {}
    if mapping.scale is not None and not mapping.scale[0] < mapping.scale[1]:
        problems.append(f"scale {list(mapping.scale)} must be [low, high] with low < high")
    for axis, t in mapping.axes.items():
        if t.dimension is None:
            if t.sub_dimension:
                problems.append(f"axis {axis!r}: a sub-dimension without a dimension")
            axes[axis] = t
            continue
        try:
            dim = taxonomy.dimension(t.dimension)
        except KeyError:
            problems.append(f"axis {axis!r}: unknown dimension {t.dimension!r} (not in taxonomy {taxonomy.version})")
            continue
        if t.sub_dimension and t.sub_dimension not in {s.id for s in dim.sub_dimensions}:
            problems.append(f"axis {axis!r}: {t.sub_dimension!r} is not a sub-dimension of {dim.id} "
                            f"(its sub-dimensions: {', '.join(s.id for s in dim.sub_dimensions)})")
            continue
        axes[axis] = t.model_copy(update={"dimension": dim.id})
    if problems:
        raise DataError(f"{len(problems)} problem(s) in {where}:\n  " + "\n  ".join(problems))
    return mapping.model_copy(update={"axes": axes})


def taxonomy_mapping(taxonomy: Taxonomy, name: str = "taxonomy") -> Mapping:
    """The mapping of files whose `dimension` column already names taxonomy dimensions: each dimension
    (id and name, any case) maps to itself."""
    axes = {}
    for dim in taxonomy.dimensions:
        target = AxisTarget(dimension=dim.id, reason="the file names the taxonomy dimension itself")
        axes[dim.id] = target
        axes[dim.name.lower()] = target
    return Mapping(name=name, scale=tuple(taxonomy.score_scale), axes=axes)
