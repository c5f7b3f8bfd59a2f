"""The components of one run's view, built the same way wherever a run is shown (Diagnose, Runs): progress, the
overview beside the radar, the cards, the report file, the evidence panels. Element ids are `<name>-progress`,
`<name>-overview`, `<name>-radar`, `<name>-cards`, `<name>-report`, `<name>-evidence`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from evalverse.ui.overview import OPEN_CARD_JS

EVIDENCE_PLACEHOLDER = '<div class="ev-meta">Evidence panels appear here once the operators have run.</div>'


@dataclass
class RunArea:
    progress: Any
    overview: Any
    radar: Any
    cards: Any
    report: Any
    evidence: Any

    @property
    def outputs(self) -> list[Any]:
        """In the order of `run_view.Update`: progress, overview, cards, evidence, radar, report."""
        return [self.progress, self.overview, self.cards, self.evidence, self.radar, self.report]


def build(name: str, progress: str = "", evidence_heading: bool = False) -> RunArea:
    """The components, in page order, inside the current Blocks context."""
    prog = gr.HTML(progress, elem_id=f"{name}-progress")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            overview = gr.HTML("", elem_id=f"{name}-overview", js_on_load=OPEN_CARD_JS)
        with gr.Column(scale=2, min_width=300):
            radar = gr.Plot(show_label=False, elem_id=f"{name}-radar")
    cards = gr.HTML("", elem_id=f"{name}-cards", js_on_load=OPEN_CARD_JS)
    report = gr.File(label="JSON report", interactive=False, elem_id=f"{name}-report")
    if evidence_heading:
        gr.Markdown("### Evidence")
    evidence = gr.HTML(EVIDENCE_PLACEHOLDER if evidence_heading else "", elem_id=f"{name}-evidence")
    return RunArea(prog, overview, radar, cards, report, evidence)
