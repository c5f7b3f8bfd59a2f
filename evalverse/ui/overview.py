"""Summary first: the verdict over all dimensions, the 18 dimensions as score badges grouped by stage and aspect,
and the three weakest judged dimensions with a one-line reason each. Each badge links to its card (the view's
script opens and highlights it; without script the link still scrolls there).

The verdict's number is the plain mean of the scored dimensions (gated and not-judged ones are left out, never
counted as zero) and says so; it is a summary, not a calibrated overall score.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from evalverse.ui.cards import STATUS_LABEL, scored, verdict_line
from evalverse.ui.markup import card_anchor, esc, ident, num
from evalverse.ui.measures import basis_html

WEAKEST = 3
SHORT_STATUS = {"gated": "gated", "not_judged": "not judged", "unparsed": "unparsed", "error": "error",
                "pending": "…", "judging": "judging"}


def weakest(results: Mapping[str, Mapping[str, Any]], order: Sequence[str], k: int = WEAKEST) -> list[str]:
    """The k lowest-scored dimensions (ties in taxonomy order); only scored ones count."""
    rank = {d: i for i, d in enumerate(order)}
    judged = [d for d in order if scored(results.get(d)) is not None]
    return sorted(judged, key=lambda d: (scored(results[d]), rank[d]))[:k]


def verdict_html(results: Mapping[str, Mapping[str, Any]], total: int, scale: Sequence[float], done: bool) -> str:
    scores = [s for s in (scored(r) for r in results.values()) if s is not None]
    counts: dict[str, int] = {}
    for r in results.values():
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    rest = " · ".join(f"{n} {STATUS_LABEL.get(k, k)}" for k, n in counts.items() if k != "scored")
    if scores:
        mean = sum(scores) / len(scores)
        band = int(min(5, max(1, round(mean))))
        head = (f'<span class="ev-badge ev-b{band}" data-mean="{mean:.3f}">{mean:.1f} / {num(scale[1], 0)}</span> '
                f'mean of {len(scores)} scored dimension{"s" if len(scores) != 1 else ""}')
    else:
        head = '<span class="ev-badge ev-b-none">no score</span> no dimension could be scored'
    state = "" if done else f' <span class="ev-meta">({len(results)} of {total} done)</span>'
    return (f'<div class="ev-verdict" data-done="{str(done).lower()}"><b>Verdict</b> {head}'
            f'{" · " + esc(rest) if rest else ""}{state}'
            f'<div class="ev-meta">Unweighted mean over the scored dimensions; gated and not-judged ones are left out, '
            f'not counted as zero.</div></div>')


def _chip(dim: Any, result: Mapping[str, Any] | None, state: str, prefix: str, taxonomy: Any) -> str:
    status = (result or {}).get("status") or state
    score = scored(result)
    if score is not None:
        band = int(min(5, max(1, round(score))))
        cls, shown = f"ev-b{band}", f"{score:.1f}"
    else:
        cls, shown = f"ev-c-{ident(status)}", SHORT_STATUS.get(status, status)
    tip = f"{dim.name}: {verdict_line(result, taxonomy) or STATUS_LABEL.get(status, status)}"
    target = card_anchor(dim.id, prefix)
    return (f'<a class="ev-chip {cls}" href="#{target}" data-card="{target}" data-dimension="{ident(dim.id)}" '
            f'data-status="{ident(status)}" title="{esc(tip)}">{esc(dim.name)} <b>{esc(shown)}</b></a>')


def badge_grid(taxonomy: Any, results: Mapping[str, Mapping[str, Any]], dimensions: Sequence[str] | None = None,
               judging: str | None = None, prefix: str = "ev") -> str:
    """A row per aspect (its stage named on the first), a badge per dimension."""
    wanted = set(dimensions) if dimensions else None
    rows = []
    for stage in taxonomy.stages:
        aspects = [(a, [d for d in a.dimensions if wanted is None or d.id in wanted]) for a in stage.aspects]
        for i, (aspect, dims) in enumerate([(a, ds) for a, ds in aspects if ds]):
            chips = "".join(_chip(d, results.get(d.id), "judging" if d.id == judging else "pending", prefix, taxonomy)
                            for d in dims)
            stage_name = f'<span class="ev-ov-stage">{esc(stage.name)}</span>' if i == 0 else ""
            rows.append(f'<div class="ev-ov-row{" ev-ov-first" if i == 0 else ""}"><div class="ev-ov-label">{stage_name}'
                        f'{esc(aspect.name)}</div><div class="ev-ov-chips">{chips}</div></div>')
    return f'<div class="ev-ov-grid">{"".join(rows)}</div>'


def weakest_html(taxonomy: Any, results: Mapping[str, Mapping[str, Any]], prefix: str = "ev") -> str:
    order = [d.id for d in taxonomy.dimensions]
    names = {d.id: d.name for d in taxonomy.dimensions}
    picked = weakest(results, order)
    if not picked:
        return '<div class="ev-weakest ev-meta">No dimension scored yet: the weakest appear here.</div>'
    items = "".join(
        f'<li><a href="#{card_anchor(d, prefix)}" data-card="{card_anchor(d, prefix)}"><b>{esc(names[d])}</b></a> '
        f'<span class="ev-badge ev-b{int(min(5, max(1, round(scored(results[d])))))}">{scored(results[d]):.1f}</span> '
        f'<span class="ev-reason" title="{esc(verdict_line(results[d], taxonomy))}">'
        f'{basis_html(verdict_line(results[d], taxonomy))}</span></li>'
        for d in picked)
    return f'<div class="ev-weakest"><b>Weakest judged</b><ol>{items}</ol></div>'


def overview_html(taxonomy: Any, results: Mapping[str, Mapping[str, Any]], dimensions: Sequence[str] | None = None,
                  judging: str | None = None, done: bool = False, prefix: str = "ev", heading: str = "") -> str:
    """The compact overview of one run (updated as dimensions finish; `done` once the report is in)."""
    total = len(dimensions) if dimensions else len(taxonomy.dimensions)
    head = f'<div class="ev-ov-heading">{esc(heading)}</div>' if heading else ""
    return (f'<div class="ev-overview" id="{ident(prefix)}-overview">{head}'
            f'{verdict_html(results, total, tuple(taxonomy.score_scale), done)}'
            f'{badge_grid(taxonomy, results, dimensions, judging, prefix)}{weakest_html(taxonomy, results, prefix)}</div>')


# In-page links of the run views (a badge or a weakest-list entry to its card, a card to its evidence panel): scroll
# there instead of following the link, since the page's <base href> would make "#id" load the app afresh. A card
# opened this way is highlighted and its chain of thought unfolded. Given to the views' gr.HTML as js_on_load.
OPEN_CARD_JS = """
element.addEventListener('click', (e) => {
  const a = e.target.closest('a[href^="#"]');
  if (!a) return;
  const target = document.getElementById(a.dataset.card || a.getAttribute('href').slice(1));
  if (!target) return;
  e.preventDefault();
  if (a.dataset.card) {
    target.querySelectorAll('details.ev-thought').forEach((d) => { d.open = true; });
    target.classList.add('ev-flash');
    setTimeout(() => target.classList.remove('ev-flash'), 1600);
  }
  target.scrollIntoView({behavior: 'instant', block: 'start'});
});
"""
