"""Where a run is: one status line, a note (served from the cache, opened from the store), an error, warnings
about the file, and per operator its backend, time and status. Once the run is done the operator table folds
away, so the overview below it is on the first screen."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from evalverse.ui.markup import esc, num, operator_title


def operators_table(operators: Mapping[str, Mapping[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{esc(operator_title(name))}</td><td>{esc(op.get('backend') or '–')}</td>"
        f"<td>{num(op.get('seconds'), 2, ' s')}</td><td>{esc(op.get('status'))}"
        f"{' (stored)' if op.get('stored') else ' (cached)' if op.get('cached') else ''}</td>"
        f"<td>{esc(op.get('message') or '')}</td></tr>"
        for name, op in operators.items()
    )
    if not rows:
        return ""
    return ("<table><tr><th>Evidence</th><th>Backend</th><th>Time</th><th>Status</th><th>Note</th></tr>"
            f"{rows}</table>")


def progress_html(stage: str, operators: Mapping[str, Mapping[str, Any]], note: str = "", error: str = "",
                  elapsed: float | None = None, folded: bool = False, prefix: str = "diagnose") -> str:
    """A status line, then the note and error, then the operator table (in a fold when `folded`)."""
    head = f"<b>{esc(stage)}</b>" + (f" · {elapsed:.1f} s" if elapsed is not None else "")
    parts = [f'<div class="ev-progress" id="{esc(prefix)}-progress-inner">{head}']
    if error:
        parts.append(f'<div class="ev-error" id="{esc(prefix)}-error">{esc(error)}</div>')
    if note:
        parts.append(f'<div class="ev-note">{esc(note)}</div>')
    table = operators_table(operators)
    if table and folded:
        ran = sum(1 for op in operators.values() if not op.get("cached") and not op.get("stored"))
        parts.append(f'<details class="ev-fold"><summary>Evidence operators: {len(operators)} '
                     f'({ran} ran in this session)</summary>{table}</details>')
    else:
        parts.append(table)
    parts.append("</div>")
    return "".join(parts)


def error_html(message: str, prefix: str = "diagnose") -> str:
    return f'<div class="ev-error" id="{esc(prefix)}-error">{esc(message)}</div>'


def warnings_html(warnings: Sequence[str], prefix: str = "diagnose") -> str:
    """Warnings about the file itself (damage found while decoding, which audio track is analysed)."""
    items = "".join(f'<div class="ev-file-warning">⚠️ {esc(w)}</div>' for w in warnings)
    return f'<div id="{esc(prefix)}-file-warning">{items}</div>' if items else ""
