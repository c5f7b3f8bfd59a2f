"""Strict JSON for the store: numpy scalars and arrays, paths, enums, pydantic models and tuples become
plain JSON; non-finite floats become null (DuckDB's JSON type and other readers reject NaN)."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from evalverse.jsonable import to_plain as _to_plain


def to_plain(value: Any) -> Any:
    """A JSON-ready copy of `value`; a type JSON cannot hold is an error here, never silently a string."""
    return _to_plain(value, strict=True)


def dumps(value: Any) -> str:
    return json.dumps(to_plain(value), ensure_ascii=False, allow_nan=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def canonical_key(value: Any) -> str:
    """A stable sha256 of `value` (keys sorted), used for settings and operator params."""
    text = json.dumps(to_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
