"""Dimension cards: the verdict and the key evidence first, the chain of thought and the expert questions folded.

A card is built from the taxonomy's dimension and its DimensionResult dict (a fresh one from the pipeline or one
read back from the store: the same card either way). Its verdict line says in one sentence why it scored what it
did: the weakest answered question with its evidence, the gate's reason, or the first line of the judge's text.
Text from the judge is escaped (`markup.esc`), measure ids in it carry the catalogue's description as a tooltip.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from evalverse.ui.markup import card_anchor, esc, first_line, ident, num, operator_title, panel_anchor
from evalverse.ui.measures import basis_html

STATUS_LABEL = {
    "scored": "scored", "gated": "gated", "not_judged": "not judged", "unparsed": "unparsed", "error": "error",
    "pending": "waiting for evidence", "judging": "judging…",
}
KEY_ANSWERS = 4  # answered questions shown on the card itself, the weakest first; the rest are in the fold


# ---- reading a result ---------------------------------------------------------------------------------------

def scored(result: Mapping[str, Any] | None) -> float | None:
    """The result's score when it is scored and finite, else None."""
    if not result or result.get("status") != "scored" or result.get("score") is None:
        return None
    try:
        value = float(result["score"])
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


@lru_cache(maxsize=8)
def _questions(taxonomy: Any) -> dict[str, str]:
    return {q.id: q.text for d in taxonomy.dimensions for s in d.sub_dimensions for q in s.questions}


def question_text(taxonomy: Any | None, question_id: str) -> str:
    if taxonomy is None:
        return str(question_id)
    try:
        return _questions(taxonomy).get(str(question_id), str(question_id))
    except TypeError:  # an unhashable stand-in taxonomy
        return str(question_id)


def say(answer: Any) -> str:
    if answer is None:
        return "not answered"
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    return num(answer, 1)


def answered(result: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The answered questions, weakest first (by the answer's score on [0, 1]; unscored ones last)."""
    rows = [a for a in (result or {}).get("answers") or [] if isinstance(a, Mapping) and a.get("answer") is not None]
    return sorted(rows, key=lambda a: (a.get("score") is None, a.get("score") if a.get("score") is not None else 0.0))


def _judge_line(result: Mapping[str, Any]) -> str:
    """The first line of the judge's own text that is not the list of gated parts."""
    for line in str(result.get("rationale") or result.get("raw_text") or "").splitlines():
        if line.strip() and not line.startswith("Gated parts:"):
            return first_line(line)
    return ""


def verdict_line(result: Mapping[str, Any] | None, taxonomy: Any | None = None) -> str:
    """One line of plain text: why this dimension got its verdict (escape it before use)."""
    if not result:
        return ""
    status = result.get("status")
    if status == "gated":
        return f"Not applicable: {result.get('gate_reason') or 'gated'}"
    if status == "not_judged":
        return f"Not judged: {result.get('gate_reason') or _judge_line(result) or 'too few questions answerable'}"
    if status in ("unparsed", "error"):
        return f"{STATUS_LABEL[status].capitalize()}: {_judge_line(result) or 'no score given'}"
    rows = answered(result)
    if rows:
        worst = rows[0]
        text = question_text(taxonomy, worst.get("question_id"))
        if worst.get("score") is not None and float(worst["score"]) >= 1.0:
            return first_line(f"all {len(rows)} answered questions pass, e.g. {text} {say(worst.get('answer'))}: "
                              f"{worst.get('basis') or ''}", 240)
        return first_line(f"{text} {say(worst.get('answer'))}: {worst.get('basis') or ''}", 240)
    return _judge_line(result)


# ---- pieces -------------------------------------------------------------------------------------------------

def score_badge(result: Mapping[str, Any] | None, state: str | None = None, scale: Sequence[float] = (1.0, 5.0)) -> str:
    """The badge of a card: the score out of the scale maximum when scored, else the status (never a score)."""
    status = (result or {}).get("status") or state or "pending"
    score = scored(result)
    if score is not None:
        band = int(min(5, max(1, round(score))))
        return f'<span class="ev-badge ev-b{band}" data-score="{score:.3f}">{score:.1f} / {num(scale[1], 0)}</span>'
    return f'<span class="ev-badge ev-b-none">{esc(STATUS_LABEL.get(status, status))}</span>'


def _answer_item(a: Mapping[str, Any], taxonomy: Any | None) -> str:
    mark = {True: "✓", False: "✗"}.get(None if a.get("score") is None else float(a["score"]) >= 0.5, "·")
    return (f'<li><span class="ev-mark">{mark}</span> <span class="ev-q">{esc(question_text(taxonomy, a.get("question_id")))}</span> '
            f'<b>{esc(say(a.get("answer")))}</b>: {basis_html(a.get("basis"))} '
            f'<code class="ev-qid">{esc(a.get("question_id"))}</code></li>')


def key_evidence(result: Mapping[str, Any], taxonomy: Any | None = None, limit: int = KEY_ANSWERS) -> str:
    rows = answered(result)[:limit]
    if not rows:
        return ""
    return f'<ul class="ev-key">{"".join(_answer_item(a, taxonomy) for a in rows)}</ul>'


def answers_fold(result: Mapping[str, Any], taxonomy: Any | None = None) -> str:
    answers = [a for a in result.get("answers") or [] if isinstance(a, Mapping)]
    if not answers:
        return ""
    n = sum(a.get("answer") is not None for a in answers)
    items = "".join(_answer_item(a, taxonomy) if a.get("answer") is not None else
                    f'<li><span class="ev-mark">·</span> <span class="ev-q">{esc(question_text(taxonomy, a.get("question_id")))}</span> '
                    f'<i>not answered</i>: {basis_html(a.get("basis"))} <code class="ev-qid">{esc(a.get("question_id"))}</code></li>'
                    for a in answers)
    return (f'<details class="ev-fold"><summary>Expert questions: {n} of {len(answers)} answered</summary>'
            f'<ul class="ev-answers">{items}</ul></details>')


def thought_fold(result: Mapping[str, Any]) -> str:
    rationale = (result.get("rationale") or "").strip()
    reflection = (result.get("reflection") or "").strip()
    parts = []
    if rationale or reflection:
        body = esc(rationale) + (("\n\n" if rationale else "") + esc(reflection) if reflection else "")
        parts.append(f'<details class="ev-fold ev-thought"><summary>Chain of thought</summary>'
                     f'<pre class="ev-rationale">{body}</pre></details>')
    if result.get("status") == "unparsed" and result.get("raw_text"):
        parts.append(f'<details class="ev-fold"><summary>Raw model output</summary>'
                     f'<pre class="ev-rationale">{esc(result["raw_text"])}</pre></details>')
    return "".join(parts)


def evidence_links(dim: Any, result: Mapping[str, Any] | None, available: set[str], prefix: str = "ev") -> str:
    """Links to the panels the judge cited (evidence_used), else to the kinds the taxonomy names for it."""
    used = list((result or {}).get("evidence_used") or []) or [k for k in dim.evidence if k != "metadata"]
    links = []
    for op in dict.fromkeys(used):
        title = esc(operator_title(op))
        if op in available:
            links.append(f'<a href="#{panel_anchor(op, prefix)}" class="ev-link" data-operator="{ident(op)}">{title}</a>')
        else:
            links.append(f'<span class="ev-link-missing" title="no evidence panel">{title}</span>')
    return f'<div class="ev-links">Evidence: {" ".join(links)}</div>' if links else ""


# ---- cards --------------------------------------------------------------------------------------------------

def dimension_card(dim: Any, result: Mapping[str, Any] | None = None, streaming: str = "", state: str = "pending",
                   scale: Sequence[float] = (1.0, 5.0), available_panels: Iterable[str] = (), taxonomy: Any | None = None,
                   prefix: str = "ev") -> str:
    """One dimension: name, badge, verdict line, key evidence, evidence links; chain of thought and questions folded."""
    status = (result or {}).get("status") or state
    parts = [
        f'<div class="ev-card ev-s-{ident(status)}" id="{card_anchor(dim.id, prefix)}" '
        f'data-dimension="{ident(dim.id)}" data-status="{ident(status)}">',
        f'<div class="ev-card-head"><span class="ev-card-name" title="{esc(dim.description)}">{esc(dim.name)}</span>'
        f'{score_badge(result, state, scale)}</div>',
    ]
    if result is None:
        if streaming:
            parts.append(f'<pre class="ev-rationale ev-streaming">{esc(streaming)}</pre>')
        elif state == "pending":
            needs = ", ".join(operator_title(k) for k in dim.evidence if k != "metadata") or "the judge"
            parts.append(f'<div class="ev-gate">waiting for: {esc(needs)}</div>')
    else:
        rows = answered(result) if status == "scored" else []
        if rows:  # the answers themselves follow, weakest first: the line only counts them
            fails = sum(1 for a in rows if a.get("score") is not None and float(a["score"]) < 0.5)
            parts.append(f'<div class="ev-verdict-line">{len(rows) - fails} of {len(rows)} answered questions pass'
                         f'{f", {fails} fail" if fails else ""}:</div>' + key_evidence(result, taxonomy))
        else:
            verdict = verdict_line(result, taxonomy)
            cls = "ev-gate" if status in ("gated", "not_judged") else "ev-verdict-line"
            parts.append(f'<div class="{cls}">{basis_html(verdict)}</div>' if verdict else "")
        parts.append(thought_fold(result) + answers_fold(result, taxonomy))
    links = evidence_links(dim, result, set(available_panels), prefix)
    if links:
        parts.append(links)
    parts.append("</div>")
    return "".join(parts)


def cards_html(taxonomy: Any, results: Mapping[str, Mapping[str, Any]], streaming: Mapping[str, str] | None = None,
               dimensions: Sequence[str] | None = None, judging: str | None = None,
               available_panels: Iterable[str] = (), prefix: str = "ev") -> str:
    """All cards of the run, grouped stage → aspect → dimension in taxonomy order."""
    streaming = streaming or {}
    wanted = set(dimensions) if dimensions else None
    scale = tuple(taxonomy.score_scale)
    panels = tuple(available_panels)
    out = ['<div class="ev-cards">']
    for stage in taxonomy.stages:
        stage_html = []
        for aspect in stage.aspects:
            cards = [
                dimension_card(d, results.get(d.id), streaming.get(d.id, ""),
                               "judging" if d.id == judging else "pending", scale, panels, taxonomy, prefix)
                for d in aspect.dimensions if wanted is None or d.id in wanted
            ]
            if cards:
                stage_html.append(f'<div class="ev-aspect">{esc(aspect.name)}</div><div class="ev-grid">{"".join(cards)}</div>')
        if stage_html:
            out.append(f'<div class="ev-stage">{esc(stage.name)}</div>' + "".join(stage_html))
    out.append("</div>")
    return "".join(out)


def summary_line(results: Mapping[str, Mapping[str, Any]], total: int) -> str:
    """Plain text: how many dimensions are done and with which statuses."""
    counts: dict[str, int] = {}
    for r in results.values():
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    bits = ", ".join(f"{n} {STATUS_LABEL.get(k, k)}" for k, n in counts.items())
    return f"{len(results)} of {total} dimensions done" + (f" ({bits})" if bits else "")
