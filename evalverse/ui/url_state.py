"""The shareable view state kept in the page's query string: which tab, the leaderboard source and its open
drill-down (a model's cases on one dimension), the Diagnose clip, the Runs filters, the open run and the compared
pair. Pure functions (no gradio): parse a query, write one, change a key.

Only the keys below are read; each value is cut to `MAX_VALUE` characters, and ids must be whole numbers, so a
crafted link can select a view but never inject anything (every value is also escaped wherever it is shown).
"""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode

# in the order they are written
KEYS = ("tab", "source", "drill_model", "drill_dimension", "sample", "media", "q", "judge", "status", "suite", "model",
        "dimension", "order", "run", "a", "b")
NUMERIC = frozenset({"run", "a", "b"})
MAX_VALUE = 300


def _clean(key: str, value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()[:MAX_VALUE]
    if not text:
        return None
    if key in NUMERIC:
        text = text.lstrip("#")
        return text if text.isdigit() and len(text) <= 18 else None
    return text


def parse(query: str | Mapping[str, Any] | None) -> dict[str, str]:
    """The known keys of a query string (`a=1&b=2`, with or without `?`) or mapping, cleaned."""
    if query is None:
        return {}
    if isinstance(query, str):
        pairs = parse_qsl(query.lstrip("?"), keep_blank_values=False)
    else:
        pairs = [(k, query[k]) for k in query.keys()]
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in KEYS and key not in out:
            cleaned = _clean(key, value)
            if cleaned is not None:
                out[key] = cleaned
    return out


def encode(state: Mapping[str, Any]) -> str:
    """The query string (no `?`) of a state: known keys only, in `KEYS` order, empty values left out."""
    pairs = [(k, _clean(k, state.get(k))) for k in KEYS]
    return urlencode([(k, v) for k, v in pairs if v is not None])


def update(query: str | Mapping[str, Any] | None, **changes: Any) -> str:
    """`query` with some keys set (None or "" removes a key)."""
    state: dict[str, Any] = dict(parse(query))
    for key, value in changes.items():
        if key not in KEYS:
            raise KeyError(f"{key!r} is not a shareable state key; known: {', '.join(KEYS)}")
        state[key] = value
    return encode(state)


def run_id(state: Mapping[str, Any], key: str = "run") -> int | None:
    """A run id of the state (None when absent or not a whole number)."""
    value = _clean(key, state.get(key))
    return int(value) if value is not None else None
