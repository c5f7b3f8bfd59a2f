"""Two stored runs side by side: what differs in how they were made, and per dimension the two scores and verdicts
with what differs in their evidence (the measures that differ most, by catalogue id with units, and the expert
questions answered differently). Pure: it takes the two runs' stored reports (`replay.stored_report`).

How different two values of a measure are is put on one footing so measures can be ranked: a numeric measure
with a bounded catalogue range by |a − b| / (range width), an unbounded one by |a − b| / max(|a|, |b|), a bool
or category by 1 when they differ. Per-shot measures are left out (the shots need not correspond).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from evalverse.ui.cards import question_text, say, score_badge, scored, verdict_line
from evalverse.ui.markup import esc, ident
from evalverse.ui.measures import DIRECTION_WORDS, catalogue, measures_in, tooltip, value_text
from evalverse.ui.runs_list import clip_name

TOP_MEASURES = 3
MIN_DIFFERENCE = 0.01  # normalised differences below this are measurement noise, not shown


def _values(report: Mapping[str, Any]) -> dict[str, Any]:
    """Every whole-clip catalogue measure of a report's evidence and metadata: {measure id: value}."""
    from evalverse.ui.panels import measure_value, typed_results

    cat = catalogue()
    if cat is None:
        return {}
    out: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    for op, record in (report.get("evidence") or {}).items():
        typed, _ = typed_results(op, record)
        if typed is not None:
            sources[op] = typed
    try:
        from evalverse.media.types import VideoMeta

        sources["metadata"] = VideoMeta.model_validate(dict(report.get("meta") or {}))
    except ValueError:
        pass
    for m in cat:
        if m.scope == "clip" and m.operator in sources:
            value = measure_value(sources[m.operator], m.measure)
            if value is not None and not isinstance(value, list):
                out[m.id] = value
    return out


def difference(measure_id: str, a: Any, b: Any) -> float:
    """How different two values of a measure are, on [0, 1] (see the module docstring)."""
    if isinstance(a, (bool, str)) or isinstance(b, (bool, str)):
        return 0.0 if a == b else 1.0
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return 0.0
    if not (math.isfinite(x) and math.isfinite(y)) or x == y:
        return 0.0
    m = catalogue().measures.get(measure_id) if catalogue() is not None else None
    if m is not None and m.range is not None and None not in m.range and m.range[1] > m.range[0]:
        return min(1.0, abs(x - y) / (m.range[1] - m.range[0]))
    return min(1.0, abs(x - y) / max(abs(x), abs(y)))


def _relevant(dim: Any, results: Sequence[Mapping[str, Any] | None]) -> list[str]:
    """Measure ids behind a dimension: those its answers cite (either run), then its evidence kinds' operators'."""
    cited = [mid for r in results if r for a in r.get("answers") or [] for mid in measures_in(a.get("basis"))]
    cat = catalogue()
    kinds = set(dim.evidence)
    ops = {op for op in kinds} | set(_operators_of(kinds))
    rest = [m.id for m in cat if m.scope == "clip" and m.operator in ops] if cat is not None else []
    return list(dict.fromkeys(cited + rest))


def _operators_of(kinds: set[str]) -> list[str]:
    from evalverse.operators.runner import get_operator, operator_names

    return [n for n in operator_names() if getattr(get_operator(n), "evidence_kind", None) in kinds]


def measure_differences(dim: Any, ra: Mapping[str, Any] | None, rb: Mapping[str, Any] | None,
                        va: Mapping[str, Any], vb: Mapping[str, Any], top: int = TOP_MEASURES) -> list[tuple[str, Any, Any, float]]:
    """The measures behind `dim` that differ most between the two runs: (id, a, b, difference), largest first."""
    rows = []
    for mid in _relevant(dim, (ra, rb)):
        if mid in va and mid in vb:
            d = difference(mid, va[mid], vb[mid])
            if d >= MIN_DIFFERENCE:
                rows.append((mid, va[mid], vb[mid], d))
    return sorted(rows, key=lambda r: -r[3])[:top]


def answer_differences(ra: Mapping[str, Any] | None, rb: Mapping[str, Any] | None, taxonomy: Any) -> list[str]:
    """Plain-text lines for the questions the two runs answered differently."""
    a = {x.get("question_id"): x.get("answer") for x in (ra or {}).get("answers") or []}
    b = {x.get("question_id"): x.get("answer") for x in (rb or {}).get("answers") or []}
    return [f"{question_text(taxonomy, q)} A {say(a.get(q))}, B {say(b.get(q))}"
            for q in dict.fromkeys(list(a) + list(b)) if a.get(q) != b.get(q)]


def _side(report: Mapping[str, Any]) -> str:
    return (f'run #{esc(report.get("run_id"))} · {esc(clip_name({"video_path": report.get("video"), "video_hash": report.get("content_hash")}))} · '
            f'{esc(report.get("judge"))} {esc(report.get("judge_version"))}')


def provenance_changes(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "", depth: int = 2) -> list[str]:
    """The provenance keys whose values differ, as dotted paths (`settings.prompt`, `operators.quality`)."""
    out = []
    for key in sorted(set(a) | set(b)):
        if key == "hash" and not prefix:
            continue
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        if depth > 1 and isinstance(x, Mapping) and isinstance(y, Mapping):
            out += provenance_changes(x, y, f"{prefix}{key}.", depth - 1) or [f"{prefix}{key}"]
        else:
            out.append(f"{prefix}{key}")
    return out


def setup_html(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """How the two runs were made: same clip or not, same judge, same provenance."""
    facts = []
    same_clip = a.get("content_hash") == b.get("content_hash")
    facts.append("the same clip (same content hash)" if same_clip else "two different clips")
    same_judge = (a.get("judge"), a.get("judge_version")) == (b.get("judge"), b.get("judge_version"))
    facts.append("the same judge and version" if same_judge else
                 f"different judges ({a.get('judge')} {a.get('judge_version')} / {b.get('judge')} {b.get('judge_version')})")
    pa, pb = (a.get("provenance") or {}), (b.get("provenance") or {})
    if pa.get("hash") and pa.get("hash") == pb.get("hash"):
        facts.append("identical provenance (every threshold, weight and operator version)")
    else:
        changed = provenance_changes(pa, pb)
        facts.append("provenance differs in: " + (", ".join(changed[:8]) if changed else "its hash only")
                     + (f" and {len(changed) - 8} more" if len(changed) > 8 else ""))
    if (a.get("prompt") or "") != (b.get("prompt") or ""):
        facts.append("different prompts")
    return (f'<div class="ev-note" id="compare-setup"><b>A</b> {_side(a)}<br><b>B</b> {_side(b)}<br>'
            f'{esc("; ".join(facts))}.</div>')


def _diff_cell(dim: Any, ra, rb, va, vb, taxonomy) -> str:
    items = []
    for mid, x, y, _ in measure_differences(dim, ra, rb, va, vb):
        m = catalogue().measures.get(mid) if catalogue() is not None else None
        direction = f" ({DIRECTION_WORDS.get(m.direction)})" if m is not None and m.direction != "neutral" else ""
        items.append(f'<li title="{esc(tooltip(mid))}"><code>{esc(mid)}</code> {esc(value_text(mid, x))} → '
                     f'{esc(value_text(mid, y))}{esc(direction)}</li>')
    for line in answer_differences(ra, rb, taxonomy)[:3]:
        items.append(f"<li>{esc(line)}</li>")
    return f'<ul class="ev-diff">{"".join(items)}</ul>' if items else '<span class="ev-meta">no measured difference</span>'


def by_dimension(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """A report's DimensionResult dicts by dimension id."""
    return {r["dimension"]: r for r in report["results"]} if "results" in report else {}


def compare_html(taxonomy: Any, a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """The setup line and a row per taxonomy dimension: A and B (score badge, verdict), Δ score, what differs."""
    ra, rb = by_dimension(a), by_dimension(b)
    va, vb = _values(a), _values(b)
    scale = tuple(taxonomy.score_scale)
    rows = []
    for stage, aspect, dim in taxonomy.iter_dimensions():
        x, y = ra.get(dim.id), rb.get(dim.id)
        sx, sy = scored(x), scored(y)
        if sx is not None and sy is not None:
            delta = sy - sx
            cls = "ev-delta-up" if delta > 0 else "ev-delta-down" if delta < 0 else ""
            change = f'<span class="{cls}">{delta:+.1f}</span>'
        else:
            change = '<span class="ev-meta">–</span>'
        rows.append(
            f'<tr data-dimension="{ident(dim.id)}"><td><b>{esc(dim.name)}</b><div class="ev-meta">{esc(aspect.name)}</div></td>'
            f'<td class="ev-a">{score_badge(x, scale=scale)} <div class="ev-meta">{esc(verdict_line(x, taxonomy))}</div></td>'
            f'<td class="ev-b">{score_badge(y, scale=scale)} <div class="ev-meta">{esc(verdict_line(y, taxonomy))}</div></td>'
            f'<td>{change}</td><td>{_diff_cell(dim, x, y, va, vb, taxonomy)}</td></tr>')
    return (setup_html(a, b) + '<table class="ev-compare" id="compare-table"><colgroup><col style="width:12%">'
            '<col style="width:27%"><col style="width:27%"><col style="width:6%"><col style="width:28%"></colgroup>'
            '<tr><th>Dimension</th><th>A</th><th>B</th><th>B − A</th><th>What differs in the evidence</th></tr>'
            f'{"".join(rows)}</table>')


def player_note(path: str | None, playable: bool, reason: str = "") -> str:
    """Under a player: the stored path, or why the clip cannot be shown."""
    if playable:
        return f'<div class="ev-path">{esc(path)}</div>'
    return f'<div class="ev-missing">The clip is not shown: {esc(reason)}<br><span class="ev-meta">{esc(path or "no path stored")}</span></div>'

