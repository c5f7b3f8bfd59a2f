"""About tab: what EvalVerse measures, where the numbers come from, how to cite."""
from __future__ import annotations

import gradio as gr

from evalverse.leaderboard.aggregate import AGGREGATION_RULE  # the rule, stated once
from evalverse.ui.context import AppContext

TITLE = "About"

CITATION = """@article{yang2026evalverse,
  title   = {EvalVerse: Pipeline-Aware and Expert-Calibrated Benchmarking for Professional Cinematic Video Generation},
  author  = {Yang, Songlin and Zhong, Haobin and Zhang, Ruilin and others and Rao, Anyi},
  year    = {2026}
}"""


def about_markdown(ctx: AppContext) -> str:
    tax = ctx.taxonomy
    if tax is not None:
        c = tax.counts()
        shape = (f"{c['stages']} production stages, {c['aspects']} cinematic aspects, {c['dimensions']} dimensions, "
                 f"{c['sub_dimensions']} sub-dimensions and {c['questions']} expert questions")
        stages = " → ".join(s.name for s in tax.stages)
    else:
        shape, stages = "a taxonomy of stages, aspects and dimensions (not loaded here)", "pre-production → production → post-production"
    frame = ctx.data.frame
    data_line = (
        f"The store currently holds {len(frame)} win ratios for {frame['model'].nunique()} models over "
        f"{frame['dimension'].nunique()} dimensions."
        if frame is not None and not frame.empty else "The store holds no win ratios at the moment."
    )
    return f"""
## What EvalVerse measures
EvalVerse judges AI-generated video the way a film crew would: not only whether it follows the prompt
(*is it right?*) but whether it is good cinema (*is it good?*): acting, camera, light, colour, edit rhythm and
sound. Its taxonomy follows the filmmaking workflow ({stages}) with {shape}. Each dimension is judged by a
vision-language model reasoning over expert questions, informed by objective evidence (faces, shots,
camera motion, speech, audio...), and gated so that, for example, sound is only judged when there is sound.

## Where the numbers come from
The leaderboard shows **pairwise win ratios**: for each model and dimension, the share of comparisons
against all other competitors that the model wins. *Machine* ratios come from EvalVerse's judge, *human*
ratios from the expert panel. The seed data is **Table 3 of the EvalVerse paper** (Yang et al., 2026),
“Human-machine alignment: pairwise win ratios” (`leaderboard_data/paper_table3_win_ratios.csv`; its
`SOURCE.md` says how it maps to the printed table); “–” in the paper (a model not run on a dimension,
e.g. no sound) stays missing here, and model facts (open/closed, capabilities) come from
`leaderboard_data/models.yaml`. {data_line} The *Alignment* tab computes the per-dimension
Spearman/Pearson correlations itself from these ratios (the paper's Table 4 is not copied).

## How aggregates are computed
{AGGREGATION_RULE}

## How to cite
```bibtex
{CITATION}
```
"""


def render(ctx: AppContext) -> None:
    gr.Markdown(about_markdown(ctx), elem_id="about-text")
