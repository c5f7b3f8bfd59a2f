"""Typed operator results: the shapes every operator's evidence takes.

Each operator declares `results_model`, a subclass of `Results`. The runner validates what `run` returns
against it (unknown fields are rejected, so a renamed key fails loudly at the source instead of silently
downstream), stores it as JSON, and readers get it back typed through `EvidenceRecord.typed`.

Which fields are *measures* (the scalars listed in the measure catalogue, `measures.yaml`) follows from the
model's structure, so the catalogue and the models can be checked against each other at start-up:

- a scalar field (int, float, bool, or a `Literal` category) of a `Results` or `Group` model is a
  whole-clip measure, named by its dotted path (`quality.exposure.clipped_shadows`);
- a scalar field of a `PerShot` row (in a list) is a per-shot measure (`camera.shots.smoothness`);
- `Detail` rows (tracks, words, palette entries, events), `Series`, lists and dicts of numbers, and free
  text are listings and provenance, not measures.
"""
from __future__ import annotations

import types
import typing
from typing import Any, Iterator, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class Group(_Strict):
    """A named group of whole-clip measures inside a results model (e.g. `quality.exposure`)."""


class PerShot(_Strict):
    """One row per shot: its scalar fields are per-shot measures."""

    index: int
    start: float
    end: float


class Detail(_Strict):
    """A listing row (a face track, a word, a palette colour, a dropout): shown, not a measure."""


class Series(_Strict):
    """A time series, binned to at most a few hundred points."""

    times: list[float] = []
    values: list[float | None] = []


class Results(_Strict):
    """Base of every operator's results. `partial`/`skipped` with `message` report work that was only
    partly possible or meaningless for this input (the runner turns them into the record's status)."""

    partial: bool = False
    skipped: bool = False
    message: str | None = None


FLAG_FIELDS = frozenset(Results.model_fields)  # flags, not measures
ROW_FIELDS = frozenset(PerShot.model_fields)  # which shot a row is about, not measures

Kind = Literal["number", "integer", "bool", "category"]


def _unwrap(annotation: Any) -> Any:
    """The annotation without Optional/None."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
        return annotation
    if origin is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    return annotation


def scalar_kind(annotation: Any) -> tuple[Kind, tuple[str, ...]] | None:
    """("number" | "integer" | "bool" | "category", category values) for scalar annotations, else None."""
    ann = _unwrap(annotation)
    if ann is bool:
        return "bool", ()
    if ann is int:
        return "integer", ()
    if ann is float:
        return "number", ()
    if get_origin(ann) is Literal:
        values = get_args(ann)
        if all(isinstance(v, str) for v in values):
            return "category", tuple(values)
    origin = get_origin(ann)
    if origin in (Union, types.UnionType):  # int | float and the like
        args = {a for a in get_args(ann) if a is not type(None)}
        if args <= {int, float}:
            return "number", ()
    return None


def _model_class(annotation: Any, base: type[BaseModel]) -> type[BaseModel] | None:
    ann = _unwrap(annotation)
    return ann if isinstance(ann, type) and issubclass(ann, base) else None


def _list_item(annotation: Any) -> Any:
    ann = _unwrap(annotation)
    if get_origin(ann) in (list, tuple) and get_args(ann):
        return get_args(ann)[0]
    return None


def measure_fields(model: type[BaseModel], prefix: str = "", scope: str = "clip",
                   ) -> Iterator[tuple[str, str, Kind, tuple[str, ...]]]:
    """(dotted path, scope, kind, category values) of every measure a results model declares."""
    skip = FLAG_FIELDS if issubclass(model, Results) else ROW_FIELDS if issubclass(model, PerShot) else frozenset()
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        path = f"{prefix}{name}"
        kind = scalar_kind(field.annotation)
        if kind is not None:
            yield path, scope, kind[0], kind[1]
            continue
        group = _model_class(field.annotation, Group)
        if group is not None:
            yield from measure_fields(group, path + ".", scope)
            continue
        item = _list_item(field.annotation)
        row = _model_class(item, PerShot) if item is not None else None
        if row is not None:
            yield from measure_fields(row, path + ".", "shot")
    for name, computed in model.model_computed_fields.items():  # derived values (e.g. VideoMeta.short_side)
        kind = scalar_kind(computed.return_type)
        if kind is not None:
            yield f"{prefix}{name}", scope, kind[0], kind[1]


def resolve(results: BaseModel, path: str) -> Any:
    """The value at a measure path: a scalar (or None) for a whole-clip measure, a list of
    (shot index, value) for a per-shot one. KeyError when the path names no field."""
    node: Any = results
    parts = path.split(".")
    for i, part in enumerate(parts):
        if node is None:
            return None
        if isinstance(node, list):
            rest = ".".join(parts[i:])
            return [(getattr(row, "index", j), resolve(row, rest)) for j, row in enumerate(node)]
        if not isinstance(node, BaseModel) or (part not in type(node).model_fields
                                                and part not in type(node).model_computed_fields):
            raise KeyError(f"{type(node).__name__} has no field {part!r} (measure path {path!r})")
        node = getattr(node, part)
    return node
