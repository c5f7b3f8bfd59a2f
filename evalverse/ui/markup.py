"""The few rules every HTML builder of the UI follows: text is escaped, numbers are formatted, ids are sanitised.

Every piece of text that comes from a model, an operator, a transcript, the store or the user goes through
`esc` (html.escape, quotes included), so nothing a model writes can become markup; numbers go through `num`;
anything placed in an id, a class or an anchor goes through `ident`. No gradio here, no I/O.
"""
from __future__ import annotations

import html
import math
import re
from typing import Any

# Display names of the evidence operators (the registry's names are ids); an operator not named here shows
# its id with underscores as spaces.
OPERATOR_TITLES = {
    "shots": "Shots", "faces": "Faces", "people": "People", "features": "Visual consistency", "speech": "Transcript",
    "lipsync": "Lip-sync", "camera": "Camera motion", "quality": "Image quality", "colour": "Colour palette",
    "audio": "Audio loudness", "brisque": "BRISQUE quality", "niqe": "NIQE naturalness",
    "facial_expression": "Facial expression", "speech_quality": "Speech quality", "metadata": "File metadata",
}


def esc(value: Any) -> str:
    """Text for HTML: always escaped, quotes included."""
    return html.escape("" if value is None else str(value), quote=True)


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def num(value: Any, digits: int = 2, unit: str = "") -> str:
    """A number for display ("–" when missing or not finite; booleans as yes/no)."""
    if isinstance(value, bool) or value is None:
        return "–" if value is None else ("yes" if value else "no")
    v = _finite(value)
    return "–" if v is None else f"{v:.{digits}f}{unit}"


def smart(value: Any) -> str:
    """A measured value with as many digits as its size calls for (1921, 0.806, 0.0035); text as given."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return num(value)
    v = _finite(value)
    if v is None:
        return "–"
    if v == int(v):
        return f"{int(v)}"
    a = abs(v)
    digits = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3 if a >= 0.01 else 4
    return f"{v:.{digits}f}"


def ident(value: Any) -> str:
    """An id/anchor/class fragment: only [a-z0-9_-] survive."""
    return re.sub(r"[^a-z0-9_-]", "", str(value).lower())[:64]


def panel_anchor(operator: str, prefix: str = "ev") -> str:
    """The id of an operator's evidence panel; `prefix` keeps two views on one page apart."""
    return f"{ident(prefix)}-panel-{ident(operator)}"


def card_anchor(dimension: str, prefix: str = "ev") -> str:
    """The id of a dimension's card."""
    return f"{ident(prefix)}-card-{ident(dimension)}"


def operator_title(operator: str) -> str:
    return OPERATOR_TITLES.get(operator, str(operator).replace("_", " "))


def humanise(path: str) -> str:
    """A measure path as a label: `exposure.clipped_shadows` -> "exposure: clipped shadows"."""
    parts = [p.replace("_", " ") for p in str(path).split(".")]
    return ": ".join(parts) if len(parts) > 1 else parts[0]


def first_line(text: Any, limit: int = 180) -> str:
    """The first non-empty line of a text, cut to `limit` characters (an ellipsis marks the cut)."""
    for line in str(text or "").splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""
