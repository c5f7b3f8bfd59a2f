"""Pure builders for the Review tab: each annotation's labels in the terms its annotator saw them, the audit
view (reviews, what needs a decision), the decisions recorded so far, the agreement report of
`evalverse humans stats --json` as tables, and the recomputed win ratios after finalising. Text only."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from evalverse.ui.annotate_view import esc, label_text, message, table


def _f(v: Any, digits: int = 3) -> str:
    return "n/a" if v is None else f"{float(v):.{digits}f}"


def _names(dimensions: Iterable[dict[str, Any]]) -> dict[str, str]:
    return {d["id"]: d["name"] for d in dimensions}


def annotations_html(labels: Sequence[dict[str, Any]], dimensions: Sequence[dict[str, Any]],
                     status: Mapping[str, str] | None = None) -> str:
    """One table per annotator (dimension, answer, note, seconds); `status`: annotator -> a line about
    the review (e.g. "your own: you cannot review it")."""
    if not labels:
        return message("No labels on this task yet.")
    names = _names(dimensions)
    by_person: dict[str, list[dict[str, Any]]] = {}
    for lab in labels:
        by_person.setdefault(lab["annotator"], []).append(lab)
    parts = []
    for person, rows in by_person.items():
        line = (status or {}).get(person, "")
        body = table(("Dimension", "Answer", "Note", "Seconds"),
                     [(names.get(r["dimension"], r["dimension"]), label_text(r["ranking"], r["outcome"], r["display_order"]),
                       r["note"] or "", "–" if r["seconds"] is None else f"{float(r['seconds']):.1f}") for r in rows])
        spent = [float(r["seconds"]) for r in rows if r["seconds"] is not None]
        line = "; ".join(x for x in (line, f"{len(rows)} label(s), {sum(spent):.1f} s on the task" if spent else "") if x)
        parts.append(f'<div class="ev-annotation" data-annotator="{esc(person)}"><b>{esc(person)}</b> '
                     f'<span class="ev-ann-meta">{esc(line)}</span>{body}</div>')
    return "".join(parts)


def audit_html(audit: dict[str, Any], dimensions: Sequence[dict[str, Any]]) -> str:
    """Every label with its reviews and, when the auditor must decide on it, why."""
    names = _names(dimensions)
    need = audit["needs_decision"]
    rows = []
    for lab in audit["labels"]:
        reviews = audit.get("reviews_by_label", {}).get(lab["uid"], [])
        rows.append((lab["uid"][:8], lab["annotator"], names.get(lab["dimension"], lab["dimension"]),
                     label_text(lab["ranking"], lab["outcome"], lab["display_order"]), lab["note"] or "",
                     "; ".join(f"{r['reviewer']}: {r['verdict']}" + (f" ({r['reason']})" if r["reason"] else "")
                               for r in reviews) or "not reviewed yet",
                     need.get(lab["uid"], "")))
    head = (message(f"{len(audit['unreviewed'])} label(s) still wait for a review; finalising needs every label reviewed.",
                    "error") if audit["unreviewed"] else
            message(f"{len(need)} label(s) need your decision (accept or reject) before finalising." if need else
                    "Every label is reviewed and none needs a decision: you can finalise.", "info"))
    return head + table(("Label", "Annotator", "Dimension", "Answer", "Note", "Reviews", "Needs a decision because"),
                        rows, elem_id="audit-labels")


WHOLE = "@"  # a choice value "@<annotator>": every label of that annotator on the task


def decision_choices(audit: dict[str, Any], dimensions: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(text, value): first each annotator's whole annotation ("@name"), then the labels that need a decision,
    then the others (an auditor may reject any label)."""
    names = _names(dimensions)
    need = audit["needs_decision"]
    people: dict[str, list[str]] = {}
    for lab in audit["labels"]:
        people.setdefault(lab["annotator"], []).append(lab["uid"])
    whole = [(f"All {len(uids)} label(s) by {person} ({sum(u in need for u in uids)} need a decision)", WHOLE + person)
             for person, uids in people.items()]
    labels = sorted(audit["labels"], key=lambda lab: (lab["uid"] not in need, lab["annotator"], lab["dimension"]))
    return whole + [(f"{lab['annotator']} · {names.get(lab['dimension'], lab['dimension'])} · "
                     f"{label_text(lab['ranking'], lab['outcome'], lab['display_order'])}"
                     + (f" — {need[lab['uid']]}" if lab["uid"] in need else ""), lab["uid"]) for lab in labels]


def expand_choice(audit: dict[str, Any], value: str) -> list[str]:
    """The label uids a decision choice stands for (one label, or a whole annotation)."""
    if value.startswith(WHOLE):
        return [lab["uid"] for lab in audit["labels"] if lab["annotator"] == value[len(WHOLE):]]
    return [value] if any(lab["uid"] == value for lab in audit["labels"]) else []


def decisions_html(decisions: Mapping[str, Sequence[str]], choices: Sequence[tuple[str, str]]) -> str:
    if not decisions:
        return message("No decisions recorded yet.")
    text = dict((uid, label) for label, uid in choices)
    return table(("Label", "Decision", "Reason"), [(text.get(uid, uid), d, why) for uid, (d, why) in decisions.items()],
                 elem_id="audit-decisions")


def stats_html(report: dict[str, Any], dimensions: Sequence[dict[str, Any]] = ()) -> str:
    """The `humans stats` report as three tables: agreement per dimension, each annotator against the
    consensus, careless-work flags."""
    names = _names(dimensions)
    rank = {d: i for i, d in enumerate(names)}
    groups = sorted(((s["source"], g) for s in report["sources"] for g in s["groups"]),
                    key=lambda sg: (sg[0], rank.get(sg[1]["dimension"], len(rank)), sg[1]["dimension"] or "",
                                    sg[1]["sub_dimension"] or "", sg[1]["axis"] or ""))
    if not groups:
        return message("No judgments to compare yet" + (" (finalised ones only)." if report.get("counted_only") else "."))
    what = lambda g: names.get(g["dimension"], g["dimension"]) + (f" / {g['sub_dimension']}" if g["sub_dimension"] else "")  # noqa: E731
    rows = [(src, what(g), g["kind"], g["raters"], g["items"], g["judgments"],
             f"{_f(g['alpha']['value'])} [{_f(g['alpha']['ci95'][0])}, {_f(g['alpha']['ci95'][1])}] ({g['alpha']['level']})",
             f"{_f(g['pairwise_agreement']['rate'])} ({g['pairwise_agreement']['rater_pairs']} pairs)")
            for src, g in groups]
    agree = table(("Source", "Dimension", "Kind", "Raters", "Items", "Judgments", "Krippendorff's alpha [95% CI]",
                   "Pairwise agreement"), rows, elem_id="stats-agreement")
    cons = [(src, what(g), c.get("rater"), c.get("n"),
             _f(c.get("agreement", c.get("srcc_vs_others_mean"))))
            for src, g in groups for c in g["consensus"]]
    consensus = table(("Source", "Dimension", "Annotator", "Items", "Agreement with the others' consensus"), cons,
                      elem_id="stats-consensus") if cons else message("No annotator has others to agree with yet.")
    flags = [(src, what(g), f["rater"], f["flag"], f["detail"]) for src, g in groups for f in g["flags"]]
    flagged = table(("Source", "Dimension", "Annotator", "Flag", "Detail"), flags, elem_id="stats-flags") if flags else \
        message("No careless-work flags (always the same side, one constant answer, much faster than the others).", "ok")
    scope = "finalised judgments only" if report.get("counted_only") else "every stored judgment"
    return (f'<div class="ev-ann-meta">{esc(scope)}; alpha intervals from {esc(report["bootstrap_rounds"])} '
            f'bootstrap rounds over items</div>{agree}<h4>Each annotator against the consensus</h4>{consensus}'
            f'<h4>Careless-work flags</h4>{flagged}')


def refreshed_html(refreshed: Sequence[dict[str, Any]], suite: str | None, dimensions: Sequence[dict[str, Any]] = ()) -> str:
    """What finalising changed on the leaderboard: each recomputed source's human win ratios."""
    if not suite:
        return message("This task belongs to no suite, so no leaderboard source was recomputed.")
    if not refreshed:
        return message(f"Suite {suite} has no computed leaderboard source yet: run `evalverse bench winratios --suite ...` "
                       "once its bench runs are done; it will include these judgments.")
    from evalverse.leaderboard.pairwise import min_cases

    names = _names(dimensions)
    rank = {d: i for i, d in enumerate(names)}
    floor = min_cases()
    parts = []
    for src in refreshed:
        rows = [(names.get(r["dimension"], r["dimension"]), r["model"], _f(r["human_win_ratio"], 2),
                 f"[{_f(r.get('human_ci_low'), 2)}, {_f(r.get('human_ci_high'), 2)}]", r.get("human_n_cases"),
                 "yes" if (r.get("human_n_cases") or 0) >= floor else f"no: fewer than {floor} cases")
                for r in sorted(src["win_ratios"], key=lambda r: (rank.get(r["dimension"], len(rank)), r["model"]))]
        parts.append(message(f"Recomputed the leaderboard source {src['source']} "
                             f"({src['human_judgments']['comparisons']} human comparisons).", "ok")
                     + (table(("Dimension", "Model", "Human win ratio", "95% CI", "Cases", "Shown on the leaderboard"), rows,
                              elem_id="refreshed-wins")
                        if rows else message("No human win ratio yet (no finalised comparison on a case both models ran).")))
    return "".join(parts)
