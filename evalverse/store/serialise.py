"""Strict JSON for the store: numpy scalars and arrays, paths, enums, pydantic models and tuples become
plain JSON; non-finite floats become null (DuckDB's JSON type and other readers reject NaN)."""
from __future__ import annotations

import hashlib
import json
import math
from enum import Enum
from pathlib import PurePath
from typing import Any


def to_plain(value: Any) -> Any:
    """A JSON-ready copy of `value`."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return to_plain(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_plain(v) for v in items]
    if hasattr(value, "model_dump"):  # pydantic
        return to_plain(value.model_dump(mode="json"))
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_plain(value.tolist())
    if hasattr(value, "isoformat"):  # datetime, date
        return value.isoformat()
    raise TypeError(f"cannot store a value of type {type(value).__name__} as JSON: {value!r}")


def dumps(value: Any) -> str:
    return json.dumps(to_plain(value), ensure_ascii=False, allow_nan=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def canonical_key(value: Any) -> str:
    """A stable sha256 of `value` (keys sorted), used for settings and operator params."""
    text = json.dumps(to_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
