"""The measure catalogue as the UI shows it: a measure's label, unit, direction and description (its tooltip),
and measure ids inside a judge's evidence text marked up with them.

Labels, units and tooltips come from `evalverse/operators/measures.yaml` (through `load_catalogue`), never from
strings written here. A catalogue that cannot be loaded leaves the ids as labels and the units out; the panels
still draw. Everything returned is escaped HTML.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable

from evalverse.ui.markup import esc, humanise, smart

DIRECTION_WORDS = {"higher_is_better": "higher is better", "lower_is_better": "lower is better",
                   "target_band": "best inside its target band", "neutral": "neither better nor worse"}
DIRECTION_ARROWS = {"higher_is_better": "↑", "lower_is_better": "↓", "target_band": "↔", "neutral": ""}
# a dotted measure id as the judge's checks write it in an answer's basis ("quality.exposure.clipped_shadows 0.09")
_MEASURE_ID = re.compile(r"\b([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)\b")
UNITLESS = frozenset({"bool", "category", "ratio"})


@lru_cache(maxsize=1)
def catalogue() -> Any | None:
    """The measure catalogue, or None when it cannot be loaded here (labels then fall back to the ids)."""
    try:
        from evalverse.operators.catalogue import load_catalogue

        return load_catalogue()
    except Exception:  # noqa: BLE001 - a broken catalogue must not stop the panels; start-up reports it
        return None


def measure(measure_id: str) -> Any | None:
    cat = catalogue()
    return cat.measures.get(measure_id) if cat is not None else None


def label(measure_id: str) -> str:
    """The measure's path inside its operator, as words (`exposure: clipped shadows`)."""
    m = measure(measure_id)
    return humanise(m.measure if m is not None else measure_id.split(".", 1)[-1])


def unit(measure_id: str) -> str:
    m = measure(measure_id)
    return "" if m is None or m.unit in UNITLESS else m.unit


def tooltip(measure_id: str) -> str:
    """Plain text: id, description, unit, direction, valid range (escape it before use)."""
    m = measure(measure_id)
    if m is None:
        return measure_id
    bits = [f"{m.id}: {m.description.rstrip('.')}", f"unit: {m.unit}", DIRECTION_WORDS.get(m.direction, m.direction)]
    if m.target is not None:
        bits.append(f"target band {smart(m.target[0])} to {smart(m.target[1])}")
    if m.range is not None:
        lo, hi = m.range
        bits.append(f"range {'−∞' if lo is None else smart(lo)} to {'∞' if hi is None else smart(hi)}")
    return "; ".join(bits)


def value_text(measure_id: str, value: Any) -> str:
    """A value with its catalogue unit, as plain text (`0.0928 share of pixels`, `yes`, `zoom_in`)."""
    if isinstance(value, list):  # a per-shot measure: [(shot, value)]
        shown = ", ".join(f"{i}: {smart(v)}" for i, v in value[:6]) + (" …" if len(value) > 6 else "")
        return f"per shot {shown}" if shown else "–"
    text = smart(value)
    u = unit(measure_id)
    return f"{text} {u}" if u and text != "–" else text


def value_html(measure_id: str, value: Any) -> str:
    """`<b>label</b> value unit`, the description as its tooltip."""
    m = measure(measure_id)
    arrow = DIRECTION_ARROWS.get(m.direction, "") if m is not None else ""
    return (f'<span class="ev-measure" data-measure="{esc(measure_id)}" title="{esc(tooltip(measure_id))}">'
            f'<b>{esc(label(measure_id))}</b> {esc(value_text(measure_id, value))}'
            f'{f" <small>{arrow}</small>" if arrow else ""}</span>')


def values_html(pairs: Iterable[tuple[str, Any]]) -> str:
    """A line of measures (ids with values), the missing ones left out."""
    items = [value_html(mid, v) for mid, v in pairs if v is not None]
    return '<div class="ev-kv">' + " · ".join(items) + "</div>" if items else ""


def basis_html(text: Any) -> str:
    """A judge's evidence text with every catalogue measure id marked (tooltip: its description); escaped."""
    text = "" if text is None else str(text)
    cat = catalogue()
    out, last = [], 0
    for match in _MEASURE_ID.finditer(text):
        mid = match.group(1)
        if cat is None or mid not in cat:
            continue
        out.append(esc(text[last:match.start()]))
        out.append(f'<abbr class="ev-mid" title="{esc(tooltip(mid))}">{esc(mid)}</abbr>')
        last = match.end()
    out.append(esc(text[last:]))
    return "".join(out)


def measures_in(text: Any) -> list[str]:
    """The catalogue measure ids a text names, in order, once each."""
    cat = catalogue()
    found = [m.group(1) for m in _MEASURE_ID.finditer(str(text or ""))]
    return list(dict.fromkeys(mid for mid in found if cat is not None and mid in cat))
