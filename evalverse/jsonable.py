"""JSON-ready copies of values (operator results, events, stored records): one conversion for every layer.

numpy arrays and scalars, pydantic models, dataclass-like objects with `as_dict`, enums, paths, dates and
sets become plain JSON types; non-finite floats become None (strict JSON readers, DuckDB's included, reject NaN).
"""
from __future__ import annotations

import math
from enum import Enum
from pathlib import PurePath
from typing import Any


def to_plain(value: Any, strict: bool = False) -> Any:
    """A JSON-ready copy of `value`. Unknown types raise TypeError when `strict`, else become their str()."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return to_plain(value.value, strict)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v, strict) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_plain(v, strict) for v in items]
    if hasattr(value, "model_dump"):  # pydantic
        return to_plain(value.model_dump(mode="json"), strict)
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_plain(value.tolist(), strict)
    if hasattr(value, "as_dict"):  # evalverse.media.types.Shot and friends
        return to_plain(value.as_dict(), strict)
    if hasattr(value, "isoformat"):  # datetime, date
        return value.isoformat()
    if strict:
        raise TypeError(f"cannot store a value of type {type(value).__name__} as JSON: {value!r}")
    return str(value)
