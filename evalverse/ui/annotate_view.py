"""Pure builders for the Annotate and Review tabs: the task header (prompt as text), the taxonomy guidance per
dimension, the answer choices, labels in the terms the annotator saw them, messages. No gradio here.

Every text that comes from people or files (prompts, notes, names, reasons) goes through `esc`: HTML-escaped,
and the characters of a template (`$`, `{`, `}`) written as entities too, so the HTML component's template
engine never reads a prompt as code.
"""
from __future__ import annotations

import html
from typing import Any, Iterable, Sequence

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PLACES = ("Best", "2nd", "3rd") + tuple(f"{n}th" for n in range(4, 27))
PAIR_CHOICES = (("A (left) is better", "left"), ("B (right) is better", "right"), ("Tie", "tie"), ("Both bad", "both_bad"))
OUTCOME_TEXT = {"tie": "Tie", "both_bad": "Both bad"}
_TEMPLATE = str.maketrans({"$": "&#36;", "{": "&#123;", "}": "&#125;", "`": "&#96;"})

CSS = """
.ev-ann-task { border: 1px solid #e3e6ee; border-radius: 8px; padding: 10px 14px; background: #fff; }
.ev-ann-prompt { white-space: pre-wrap; font-size: 15px; margin: 4px 0 6px; }
.ev-ann-meta { font-size: 12px; color: #55607a; }
.ev-ann-dim h4 { margin: 2px 0; } .ev-ann-dim p { margin: 2px 0 4px; color: #3d4457; }
.ev-ann-dim details { font-size: 13px; } .ev-ann-dim li { margin: 1px 0; }
.ev-msg { border-radius: 6px; padding: 8px 12px; margin: 4px 0; }
.ev-msg-ok { background: #eaf7ee; border: 1px solid #7cc08e; color: #1d4d2b; }
.ev-msg-error { background: #fdeeee; border: 1px solid #e08b8b; color: #6b1616; }
.ev-msg-info { background: #f1f4fb; border: 1px solid #b8c3e3; color: #27324d; }
.ev-table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
.ev-table th, .ev-table td { border: 1px solid #dde1ea; padding: 3px 8px; text-align: left; vertical-align: top; }
.ev-table th { background: #f4f6fa; } .ev-note { white-space: pre-wrap; }
"""


def esc(value: Any) -> str:
    """Text for HTML (and for the HTML component's template): always escaped, quotes included."""
    return html.escape("" if value is None else str(value), quote=True).translate(_TEMPLATE)


def letter(position: int) -> str:
    return LETTERS[position]


def output_label(position: int, n: int) -> str:
    """"A (left)", "B (right)" for two outputs; "A", "B", "C" ... (left to right) for more."""
    if n == 2:
        return f"{letter(position)} ({'left' if position == 0 else 'right'})"
    return letter(position)


def message(text: str, kind: str = "info") -> str:
    """A one-paragraph notice: kind ok / error / info."""
    return f'<div class="ev-msg ev-msg-{esc(kind)}" data-kind="{esc(kind)}">{esc(text)}</div>'


def task_html(view: Any, *, heading: str = "The task", extra: Sequence[str] = ()) -> str:
    """Prompt (as text), suite and case, mode, how many outputs; `extra`: more lines of text."""
    n = len(view.shown)
    bits = [f"suite {view.suite}" if view.suite else None, f"case {view.case_key}", f"mode {view.mode}",
            f"{n} outputs, shown in an order drawn at random for this task"]
    prompt = view.prompt or "(no prompt: judge the clips on their own)"
    lines = "".join(f'<div class="ev-ann-meta">{esc(x)}</div>' for x in extra)
    return (f'<div class="ev-ann-task" id="ev-task-{esc(view.uid)}"><b>{esc(heading)}</b>'
            f'<div class="ev-ann-prompt" data-role="prompt">{esc(prompt)}</div>'
            f'<div class="ev-ann-meta">{esc(" · ".join(b for b in bits if b))}</div>{lines}</div>')


def guidance_html(dim: dict[str, Any]) -> str:
    """A dimension's name and description, and its expert questions (folded) as guidance."""
    subs = dim.get("sub_dimensions") or []
    n_q = sum(len(s.get("questions") or []) for s in subs)
    items = "".join(
        f"<li><b>{esc(s['name'])}</b>: {esc(s.get('description'))}<ul>"
        + "".join(f"<li>{esc(q)}</li>" for q in s.get("questions") or []) + "</ul></li>" for s in subs)
    folded = (f"<details><summary>Expert questions to guide you ({n_q})</summary><ul>{items}</ul></details>"
              if subs else "")
    return (f'<div class="ev-ann-dim" data-dimension="{esc(dim["id"])}"><h4>{esc(dim["name"])}</h4>'
            f'<p>{esc(dim.get("description"))}</p>{folded}</div>')


def label_text(ranking: Sequence[int] | None, outcome: str | None, display_order: Sequence[int]) -> str:
    """A stored label (slot terms) in the terms its annotator saw: "A (left) better", "Tie", "B > A > C"."""
    if outcome in OUTCOME_TEXT:
        return OUTCOME_TEXT[outcome]
    if ranking is None:
        return "–"
    n = len(display_order)
    positions = [list(display_order).index(slot) for slot in ranking]
    if n == 2:
        return f"{output_label(positions[0], 2)} better"
    return " > ".join(letter(p) for p in positions)


def ranking_from_places(values: Iterable[str | None], n: int) -> list[int] | None:
    """Display positions best first from the place dropdowns ("A", "B", ...); None when one is empty (the
    service says what is wrong with an incomplete or repeated ranking)."""
    vals = list(values)
    if not any(vals):
        return None
    return [LETTERS.index(v) if v in LETTERS[:n] else -1 for v in vals]


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, cls: str = "ev-table", elem_id: str = "") -> str:
    """An HTML table of text cells (all escaped)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    ident = f' id="{esc(elem_id)}"' if elem_id else ""
    return f'<table class="{esc(cls)}"{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
