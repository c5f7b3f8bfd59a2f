"""Taxonomy tab: browse stages → aspects → dimensions → sub-dimensions and their expert questions,
read from the taxonomy file itself (nothing here repeats it)."""
from __future__ import annotations

import gradio as gr

from evalverse.ui.context import AppContext

TITLE = "Taxonomy"


def _list(values) -> str:
    return ", ".join(f"`{getattr(v, 'value', v)}`" for v in values) if values else "—"


def question_line(q) -> str:
    bits = [f"{q.answer.value.replace('_', '/')}"]
    if q.polarity.value == "negative":
        bits.append("“yes” is bad")
    if q.evidence:
        bits.append(f"evidence: {_list(q.evidence)}")
    if q.check:
        bits.append(f"check: `{q.check}`")
    if q.gates:
        bits.append(f"gates: {_list(q.gates)}")
    if q.context:
        bits.append(f"when: {q.context}")
    return f"- {q.text} <small>({'; '.join(bits)})</small>"


def dimension_markdown(dim) -> str:
    """One dimension as Markdown: what it is, when it applies, its sub-dimensions and questions."""
    lines = [
        dim.description,
        "",
        f"**Task modes:** {_list(dim.modes)} · **Gates:** {_list(dim.gates)} · **Evidence:** {_list(dim.evidence)}",
    ]
    if dim.context:
        lines.append(f"\n**Judged when:** {dim.context}")
    for sub in dim.sub_dimensions:
        lines += ["", f"#### {sub.name}", sub.description]
        if sub.gates or sub.context:
            lines.append(f"\n*Gates:* {_list(sub.gates)}" + (f" · *when:* {sub.context}" if sub.context else ""))
        lines.append("")
        lines += [question_line(q) for q in sub.questions]
    return "\n".join(lines)


def overview_markdown(taxonomy) -> str:
    c = taxonomy.counts()
    return (
        f"EvalVerse taxonomy **v{taxonomy.version}**: {c['stages']} stages, {c['aspects']} aspects, "
        f"{c['dimensions']} dimensions, {c['sub_dimensions']} sub-dimensions, {c['questions']} expert questions. "
        f"Scores use a {taxonomy.score_scale[0]:g}–{taxonomy.score_scale[1]:g} scale. *Gates* say when a node is "
        "judged at all (e.g. only with audio); *evidence* names the objective operators that inform it.\n\n"
        f"<small>Source: {taxonomy.source}</small>"
    )


def render(ctx: AppContext) -> None:
    tax = ctx.taxonomy
    if tax is None:
        gr.Markdown("⚠️ **The taxonomy could not be loaded**, so there is nothing to browse. See the banner above.",
                    elem_id="taxonomy-problem")
        return
    gr.Markdown(overview_markdown(tax), elem_id="taxonomy-overview")
    for i, stage in enumerate(tax.stages):
        with gr.Accordion(f"Stage: {stage.name}", open=i == 0, elem_classes=["ev-stage"]):
            gr.Markdown(stage.description)
            for aspect in stage.aspects:
                gr.Markdown(f"### {aspect.name}\n{aspect.description}")
                for dim in aspect.dimensions:
                    subs = len(dim.sub_dimensions)
                    qs = sum(len(s.questions) for s in dim.sub_dimensions)
                    with gr.Accordion(f"{dim.name} · {subs} sub-dimensions · {qs} questions", open=False,
                                      elem_classes=["ev-dimension"]):
                        gr.Markdown(dimension_markdown(dim))
    with gr.Accordion("Evidence kinds", open=False):
        gr.Markdown("\n".join(f"- **{k.name}** (`{k.id}`): {k.description}" for k in tax.evidence_kinds))
