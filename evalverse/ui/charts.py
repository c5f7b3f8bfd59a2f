"""Small inline SVG charts for the evidence panels (no script, no I/O): a line chart of time series and a
timeline of spans. Labels go through `esc`, colours come from a fixed palette, coordinates are numbers."""
from __future__ import annotations

import math
from typing import Any, Sequence

from evalverse.ui.markup import esc, num

SERIES_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")


def series(obj: Any) -> tuple[list[float], list[float | None]]:
    """(times, values) of a results `Series` (or a {times, values} dict); non-finite values become gaps."""
    if obj is None:
        return [], []
    t = list(getattr(obj, "times", None) or (obj.get("times") if isinstance(obj, dict) else None) or [])
    v = list(getattr(obj, "values", None) or (obj.get("values") if isinstance(obj, dict) else None) or [])
    out_t, out_v = [], []
    for ti, vi in zip(t, v):
        try:
            ti = float(ti)
        except (TypeError, ValueError):
            continue
        out_t.append(ti)
        ok = isinstance(vi, (int, float)) and not isinstance(vi, bool) and math.isfinite(float(vi))
        out_v.append(float(vi) if ok else None)
    return out_t, out_v


def line_chart(series: Sequence[tuple[str, Sequence[float], Sequence[float | None]]], width: int = 560, height: int = 140,
               y_label: str = "", x_max: float | None = None, zero_line: bool = True,
               x_labels: tuple[str, str] | None = None, min_span: float = 0.0) -> str:
    """A small inline SVG line chart (no script): polylines split at gaps, axes with min/max labels."""
    pts = [(x, y) for _, xs, ys in series for x, y in zip(xs, ys) if y is not None]
    if not pts:
        return '<div class="ev-meta">no data points</div>'
    x0 = 0.0
    x1 = max(x_max or 0.0, max(p[0] for p in pts), 1e-6)
    ys = sorted(p[1] for p in pts)
    # robust range (2nd-98th percentile) once there are enough points; outliers are drawn at the edge
    k = len(ys) // 50 if len(ys) >= 50 else 0
    y0, y1 = ys[k], ys[len(ys) - 1 - k]
    clipped = ys[0] < y0 or ys[-1] > y1
    if zero_line:
        y0, y1 = min(y0, 0.0), max(y1, 0.0)
    if y1 - y0 < min_span:  # so that measurement noise on a flat signal is not blown up to full height
        mid = (y0 + y1) / 2
        y0, y1 = mid - min_span / 2, mid + min_span / 2
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 1, y1 + 1
    pad_l, pad_b, pad_t = 44, 18, 6
    w, h = width - pad_l - 6, height - pad_b - pad_t

    def sx(x: float) -> float:
        return pad_l + (x - x0) / (x1 - x0) * w

    def sy(y: float) -> float:
        return pad_t + (1 - (min(max(y, y0), y1) - y0) / (y1 - y0)) * h

    svg = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" class="ev-chart">',
           f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="#fafbfc" stroke="#ddd"/>']
    if zero_line and y0 < 0 < y1:
        svg.append(f'<line x1="{pad_l}" x2="{pad_l + w}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" stroke="#bbb" stroke-dasharray="3 3"/>')
    legend = []
    for i, (name, xs, ys) in enumerate(series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        run: list[str] = []
        for x, y in list(zip(xs, ys)) + [(None, None)]:
            if y is None or x is None:
                if len(run) > 1:
                    svg.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{" ".join(run)}"/>')
                elif len(run) == 1:
                    cx, cy = run[0].split(",")
                    svg.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{colour}"/>')
                run = []
            else:
                run.append(f"{sx(x):.1f},{sy(y):.1f}")
        legend.append(f'<span style="color:{colour}">■</span> {esc(name)}')
    svg.append(f'<text x="{pad_l - 4}" y="{pad_t + 9}" font-size="10" text-anchor="end">{num(y1, 2)}</text>')
    svg.append(f'<text x="{pad_l - 4}" y="{pad_t + h}" font-size="10" text-anchor="end">{num(y0, 2)}</text>')
    left, right = x_labels or ("0 s", f"{num(x1, 1)} s")
    svg.append(f'<text x="{pad_l}" y="{height - 4}" font-size="10">{esc(left)}</text>')
    svg.append(f'<text x="{pad_l + w}" y="{height - 4}" font-size="10" text-anchor="end">{esc(right)}</text>')
    svg.append("</svg>")
    label = f' <span class="ev-meta">({esc(y_label)})</span>' if y_label else ""
    if clipped:
        label += ' <span class="ev-meta">[axis clipped to the 2nd–98th percentile]</span>'
    return f'<div class="ev-meta">{" ".join(legend)}{label}</div>' + "".join(svg)
