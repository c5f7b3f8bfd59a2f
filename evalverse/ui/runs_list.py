"""Lists of stored runs as HTML: the Runs table (one row per run) and the per-case list (one dimension across runs,
sorted by score, each with its keyframe strip, score, verdict line and a link to the full run).

The per-case list is what the Leaderboard's drill-down shows for a model and a dimension: give `cases_html` the
rows of `Store.dimension_page(dimension, suite=..., model=...)` and `Store.keyframes_for(...)`. Every link is
a real address (`?tab=runs&run=ID`), so it works in a new page; inside the app, `ROW_CLICK_JS` turns a click
into an event instead of a page load. Everything from the store is escaped.
"""
from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any, Mapping, Sequence

from evalverse.ui import url_state
from evalverse.ui.cards import score_badge, verdict_line
from evalverse.ui.markup import esc, ident, num
from evalverse.ui.measures import basis_html

JPEG_URI = re.compile(r"^data:image/jpeg;base64,[A-Za-z0-9+/=]+$")


def clip_name(row: Mapping[str, Any]) -> str:
    path = row.get("video_path")
    return PurePath(str(path)).name if path else f"{str(row.get('video_hash') or '?')[:12]}…"


def when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else str(value or "–")


def link(**state: Any) -> str:
    return "?" + url_state.encode(state)


def _status(status: str) -> str:
    return f'<span class="ev-st ev-st-{ident(status)}">{esc(status)}</span>'


def runs_table_html(rows: Sequence[Mapping[str, Any]], open_id: int | None = None, show_origin: bool = False,
                    base: Mapping[str, Any] | None = None) -> str:
    """The Runs table. `show_origin`: suite, model and case columns (a store with benchmark runs); `base`: the
    current view state, which each row's links keep (filters), changing only the run."""
    if not rows:
        return '<div class="ev-meta" id="runs-empty">No stored run matches.</div>'
    base = dict(base or {})
    head = ("<tr><th>Run</th><th>Clip</th><th>Prompt</th><th>Judge</th><th>When</th><th>Status</th><th>Results</th>"
            "<th>Provenance</th>" + ("<th>Suite</th><th>Model</th><th>Case</th>" if show_origin else "") + "<th></th></tr>")
    body = []
    for r in rows:
        rid = int(r["id"])
        mean = r.get("mean_score")
        results = (f'{r.get("n_scored", 0)} scored of {r.get("n_results", 0)}'
                   + (f' · mean {num(mean, 1)}' if mean is not None else ""))
        prov = str(r.get("provenance_hash") or "")
        origin = "".join(f"<td>{esc(r.get(k) or '–')}</td>" for k in ("suite", "model", "case_id")) if show_origin else ""
        compare = (f' <a class="ev-pick" href="{esc(link(**base | {"tab": "runs", "a": open_id, "b": rid}))}" '
                   f'data-run="{rid}" data-action="compare" title="compare the open run (A) with this one (B); '
                   f'with no run open, this one becomes A">compare</a>' if rid != open_id else "")
        body.append(
            f'<tr data-open-run="{rid}" class="{"ev-open" if rid == open_id else ""}">'
            f'<td><a href="{esc(link(**base | {"tab": "runs", "run": rid}))}" data-run="{rid}" data-action="open">#{rid}</a></td>'
            f'<td title="{esc(r.get("video_path") or r.get("video_hash"))}">{esc(clip_name(r))}</td>'
            f'<td class="ev-prompt" title="{esc(r.get("prompt") or "")}">{esc(r.get("prompt") or "–")}</td>'
            f'<td>{esc(r.get("judge_backend"))} <span class="ev-meta">{esc(r.get("judge_version"))}</span></td>'
            f'<td>{esc(when(r.get("started_at")))}</td><td>{_status(str(r.get("status")))}</td><td>{esc(results)}</td>'
            f'<td><code title="{esc(prov)}">{esc(prov[:12] or "–")}</code></td>{origin}<td>{compare}</td></tr>')
    return f'<table class="ev-runs" id="runs-table">{head}{"".join(body)}</table>'


def strip_html(frames: Sequence[Mapping[str, Any]]) -> str:
    imgs = [f'<img src="{f["thumbnail"]}" alt="shot {esc(f.get("index"))} keyframe" title="shot {esc(f.get("index"))} '
            f'at {num(f.get("start"), 1)} s">' for f in frames if JPEG_URI.match(str(f.get("thumbnail") or ""))]
    return f'<div class="ev-case-strip">{"".join(imgs) or "<span class=ev-meta>no keyframes stored</span>"}</div>'


def cases_html(rows: Sequence[Mapping[str, Any]], keyframes: Mapping[str, Sequence[Mapping[str, Any]]],
               taxonomy: Any, dimension: str, base: Mapping[str, Any] | None = None, run_tab: str = "runs") -> str:
    """One dimension across runs: keyframe strip, score, verdict line, clip and origin, a link to the full run
    (opened in the tab `run_tab`: the Runs tab, or "diagnose" for the Diagnose tab's view of a stored run)."""
    try:
        name = taxonomy.dimension(dimension).name
    except (KeyError, AttributeError):
        name = dimension
    if not rows:
        return f'<div class="ev-meta" id="cases-empty">No stored result for {esc(name)} matches.</div>'
    scale = tuple(getattr(taxonomy, "score_scale", (1.0, 5.0)))
    base = dict(base or {})
    items = []
    for r in rows:
        res = r.get("result") or {}
        rid = int(r["run_id"])
        origin = " · ".join(esc(v) for v in (r.get("model"), r.get("suite"), r.get("case_id")) if v)
        items.append(
            f'<div class="ev-case" data-open-run="{rid}" data-dimension="{ident(dimension)}">'
            f'{strip_html(keyframes.get(r.get("video_hash"), ()))}'
            f'<div class="ev-case-body">{score_badge(res, scale=scale)} '
            f'<a href="{esc(link(**base | {"tab": run_tab, "run": rid}))}" data-run="{rid}" data-action="open"><b>run #{rid}</b></a> '
            f'{esc(clip_name(r))}{(" · " + origin) if origin else ""} '
            f'<span class="ev-meta">{esc(r.get("judge_backend"))} {esc(r.get("judge_version"))}</span>'
            f'<div>{basis_html(verdict_line(res, taxonomy))}</div></div></div>')
    return f'<div class="ev-cases" id="cases-list"><div class="ev-meta">{esc(name)}: lowest score first</div>{"".join(items)}</div>'


# Turns clicks on a run's link or row into a `click` event of the list component (data: run, action) instead of
# loading the page; given to the list's gr.HTML as js_on_load.
ROW_CLICK_JS = """
element.addEventListener('click', (e) => {
  const a = e.target.closest('[data-action]');
  const row = e.target.closest('[data-open-run]');
  if (!a && !row) return;
  if (e.ctrlKey || e.metaKey || e.shiftKey || e.button === 1) return;
  e.preventDefault();
  if (a) trigger('click', {run: a.dataset.run, action: a.dataset.action});
  else trigger('click', {run: row.dataset.openRun, action: 'open'});
});
"""
