"""Review tab: reviewers mark each annotation (one annotator's labels on a task) pass or fail with a reason,
never their own; auditors see labels and reviews, decide accept or reject where a review failed or the
annotators disagree, and finalise. Finalising recomputes the suite's leaderboard sources (the `bench
winratios` logic, with each source's own settings), so the finalised judgments become its human win ratios
and the alignment figures' data. Agreement and quality per dimension (Krippendorff's alpha, pairwise
agreement, each annotator against the consensus, careless-work flags) are the report of
`evalverse humans stats --json`, for reviewers and auditors only (they would tell an annotator how others
answered). Every action is checked by `AnnotationService` against the signed-in token.
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from evalverse.errors import AccessError, EvalVerseError, InputError
from evalverse.ui import annotate_view as view
from evalverse.ui import review_view, sync_player
from evalverse.ui.annotate_tab import players_for, service_for
from evalverse.ui.context import AppContext
from evalverse.ui.failsafe import describe

TITLE = "Review"
INTRO = (
    "Quality control of the annotations: **reviewers** pass or fail each annotation with a reason (never their own "
    "work); **auditors** resolve failed reviews and disagreements and finalise a task, which makes its judgments "
    "count on the leaderboard (human win ratios of the task's suite) and in the alignment figures. Sign in with a "
    "reviewer or auditor token."
)
STATS_ROUNDS = 1000  # as `evalverse humans stats` (its --bootstrap default)
NO_ANNOTATION = "Pick an annotation first."


def _err(exc: BaseException) -> str:
    return view.message(str(exc) if isinstance(exc, EvalVerseError) else describe(exc), "error")


def _who(who: dict[str, Any] | None) -> dict[str, Any]:
    if not who:
        raise AccessError("sign in with a reviewer or auditor token first")
    return who


def queue_choices(rows: list[dict[str, Any]], role: str) -> list[tuple[str, str]]:
    out = []
    for r in rows:
        people = ", ".join(a["annotator"] + (" (yours)" if a.get("own") else "") for a in r["annotations"])
        out.append((f"{r['case_key']}" + (f" [{r['suite']}]" if r["suite"] else "") +
                    f": {len(r['annotations'])} annotation(s) by {people}; {r['unreviewed']} of {r['labels']} "
                    "label(s) unreviewed", r["uid"]))
    return out


def sign_in(ctx: AppContext, token: str | None):
    """(who, status, reviewer box, auditor box, stats box, review queue, audit queue)."""
    hidden = gr.update(visible=False)
    try:
        svc = service_for(ctx)
        me = svc.whoami((token or "").strip())
        if not me.can("read_labels"):
            raise AccessError(f"{me.name}'s {me.role} token cannot review; that needs a reviewer or auditor token "
                              "(annotators work in the Annotate tab)")
        who = {"token": token.strip(), "name": me.name, "role": me.role}
        reviewer, auditor = me.can("review"), me.can("audit")
        rq = queue_choices(svc.review_queue(who["token"]), "reviewer") if reviewer else []
        aq = queue_choices(svc.audit_queue(who["token"]), "auditor") if auditor else []
        n = len(rq or aq)
        status = view.message(f"Signed in as {me.name} ({me.role}). {n} open task(s) with annotations.", "ok")
        return (who, status, gr.update(visible=reviewer), gr.update(visible=auditor), gr.update(visible=True),
                gr.update(choices=rq, value=None), gr.update(choices=aq, value=None))
    except Exception as exc:  # noqa: BLE001 - shown, nothing else
        return None, _err(exc), hidden, hidden, hidden, gr.update(choices=[], value=None), gr.update(choices=[], value=None)


# ---- reviewers ---------------------------------------------------------------------------------------------------

def open_review(ctx: AppContext, who: dict[str, Any] | None, uid: str | None):
    """(status, task html, players, annotations html, annotation choices)."""
    try:
        who = _who(who)
        if not uid:
            raise InputError("pick a task from the list")
        svc = service_for(ctx)
        task = svc.view_for_review(who["token"], uid)
        labels = svc.labels(who["token"], uid)
        queue = {r["uid"]: r for r in svc.review_queue(who["token"])}
        info = {a["annotator"]: a for a in queue.get(uid, {}).get("annotations", [])}
        status_line = {p: ("your own work: you cannot review it" if a.get("own") else
                           "reviewed by you" if a.get("reviewed_by_me") else
                           f"{a['reviewed']} of {a['labels']} label(s) reviewed") for p, a in info.items()}
        choices = [(f"{p} ({a['labels']} label(s))", p) for p, a in info.items()]
        return ("", view.task_html(task), players_for(ctx, task, "review"),
                review_view.annotations_html(labels, task.dimensions, status_line), gr.update(choices=choices, value=None))
    except Exception as exc:  # noqa: BLE001
        return _err(exc), "", "", "", gr.update(choices=[], value=None)


def send_review(ctx: AppContext, who: dict[str, Any] | None, uid: str | None, annotator: str | None,
                verdict: str | None, reason: str | None):
    """(status, review queue, annotations html, annotation choice, verdict, reason) after storing a pass or fail of one
    annotation; on a refusal only the status changes (what was chosen stays)."""
    try:
        who = _who(who)
        if not uid:
            raise InputError("open a task first")
        if not annotator:
            raise InputError(NO_ANNOTATION)
        if verdict not in ("pass", "fail"):
            raise InputError("choose pass or fail")
        svc = service_for(ctx)
        n = len(svc.review(who["token"], uid, annotator, verdict, reason or ""))
    except Exception as exc:  # noqa: BLE001
        return _err(exc), gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
    queue = queue_choices(svc.review_queue(who["token"]), "reviewer")
    _, _, _, labels, annotations = open_review(ctx, who, uid)
    return (view.message(f"Recorded: {annotator}'s annotation ({n} label(s)) {verdict}ed.", "ok"),
            gr.update(choices=queue, value=uid if any(v == uid for _, v in queue) else None), labels, annotations,
            gr.update(value=None), gr.update(value=""))


# ---- auditors ----------------------------------------------------------------------------------------------------

def open_audit(ctx: AppContext, who: dict[str, Any] | None, uid: str | None):
    """(status, task html, players, audit html, label choices, decisions (reset), decisions html)."""
    try:
        who = _who(who)
        if not uid:
            raise InputError("pick a task from the list")
        svc = service_for(ctx)
        audit = svc.audit_view(who["token"], uid)
        task = svc.view_for_review(who["token"], uid)
        choices = review_view.decision_choices(audit, task.dimensions)
        return ("", view.task_html(task), players_for(ctx, task, "audit"), review_view.audit_html(audit, task.dimensions),
                gr.update(choices=choices, value=None), {},
                review_view.decisions_html({}, choices))
    except Exception as exc:  # noqa: BLE001
        return _err(exc), "", "", "", gr.update(choices=[], value=None), {}, ""


def record_decision(ctx: AppContext, who, uid, decisions: dict | None, label: str | None, decision: str | None,
                    reason: str | None):
    """(status, decisions, decisions html): stage one decision (sent with Finalise)."""
    decisions = dict(decisions or {})
    try:
        who = _who(who)
        if not label:
            raise InputError("pick a label")
        if decision not in ("accept", "reject"):
            raise InputError("choose accept or reject")
        svc = service_for(ctx)
        audit = svc.audit_view(who["token"], uid)
        task = svc.view_for_review(who["token"], uid)
        uids = review_view.expand_choice(audit, label)
        if not uids:
            raise InputError("that label is not on this task; open the task again")
        for u in uids:
            decisions[u] = (decision, (reason or "").strip())
        choices = review_view.decision_choices(audit, task.dimensions)
        left = [u for u in audit["needs_decision"] if u not in decisions]
        note = f"{len(left)} label(s) still need a decision." if left else "Every label that needs a decision has one."
        return (view.message(f"Decision recorded ({decision}, {len(uids)} label(s)). {note}", "ok"), decisions,
                review_view.decisions_html(decisions, choices))
    except Exception as exc:  # noqa: BLE001
        return _err(exc), decisions, gr.update()


def finalise(ctx: AppContext, who, uid, decisions: dict | None):
    """(status, result html, audit queue): finalise, then recompute the suite's leaderboard sources."""
    try:
        who = _who(who)
        if not uid:
            raise InputError("open a task first")
        svc = service_for(ctx)
        task = svc.view_for_review(who["token"], uid)
        status = svc.finalise(who["token"], uid, {k: tuple(v) for k, v in (decisions or {}).items()})
    except Exception as exc:  # noqa: BLE001
        return _err(exc), gr.update(), gr.update()
    accepted = sum(v == "pass" for v in status.values())
    lead = view.message(f"Task {task.case_key} finalised: {accepted} label(s) accepted, {len(status) - accepted} "
                        "rejected. Accepted labels now count.", "ok")
    try:
        refreshed = refresh_sources(ctx, task.suite)
        result = review_view.refreshed_html(refreshed, task.suite, task.dimensions)
    except Exception as exc:  # noqa: BLE001 - the task is finalised; say what could not be recomputed
        result = view.message(f"The leaderboard source could not be recomputed: {describe(exc)}", "error")
    queue = queue_choices(svc.audit_queue(who["token"]), "auditor")
    return lead, result, gr.update(choices=queue, value=None)


def refresh_sources(ctx: AppContext, suite: str | None) -> list[dict[str, Any]]:
    """Recompute the suite's stored leaderboard sources and drop the app's cached copies of them."""
    if not suite:
        return []
    from evalverse.bench.winratios import refresh_suite

    refreshed = refresh_suite(ctx.store, suite)
    ctx.forget_sources()
    return refreshed


# ---- agreement ---------------------------------------------------------------------------------------------------

def show_stats(ctx: AppContext, who, counted: bool):
    """(stats html, report json) for reviewers and auditors: `human_stats` of the app's judgments."""
    try:
        who = _who(who)
        svc = service_for(ctx)
        me = svc.whoami(who["token"])
        if not me.can("read_labels"):
            raise AccessError("agreement figures are for reviewers and auditors")
        from evalverse.humans.report import human_stats

        report = human_stats(ctx.store, source="app", counted=bool(counted), n_boot=STATS_ROUNDS)
        dims = [{"id": d.id, "name": d.name} for d in ctx.taxonomy.dimensions] if ctx.taxonomy else []
        import json

        return review_view.stats_html(report, dims), json.dumps(report, indent=1, ensure_ascii=False)
    except Exception as exc:  # noqa: BLE001
        return _err(exc), ""


def render(ctx: AppContext) -> None:
    gr.Markdown(INTRO)
    with gr.Row(equal_height=True):
        token = gr.Textbox(label="Personal access token", type="password", placeholder="evv_...", scale=4,
                           elem_id="review-token")
        go = gr.Button("Sign in", variant="primary", scale=1, elem_id="review-signin")
    who = gr.State(None)
    status = gr.HTML("", elem_id="review-status", css_template=view.CSS)
    with gr.Group(visible=False) as reviewer_box:
        gr.Markdown("### Review annotations")
        with gr.Row(equal_height=True):
            queue = gr.Dropdown([], label="Tasks with annotations", scale=4, elem_id="review-queue")
            open_btn = gr.Button("Open", scale=1, elem_id="review-open")
        r_task = gr.HTML("", elem_id="review-task", css_template=view.CSS)
        r_players = gr.HTML("", elem_id="review-players", js_on_load=sync_player.SYNC_JS, css_template=sync_player.CSS)
        r_labels = gr.HTML("", elem_id="review-labels", css_template=view.CSS)
        with gr.Row():
            annotation = gr.Dropdown([], label="Annotation", elem_id="review-annotation")
            verdict = gr.Radio([("Pass", "pass"), ("Fail", "fail")], label="Verdict", elem_id="review-verdict")
        reason = gr.Textbox(label="Reason (a fail needs one the annotator can act on)", elem_id="review-reason")
        send = gr.Button("Submit review", variant="primary", elem_id="review-submit")
    with gr.Group(visible=False) as auditor_box:
        gr.Markdown("### Audit and finalise")
        with gr.Row(equal_height=True):
            a_queue = gr.Dropdown([], label="Tasks with annotations", scale=4, elem_id="audit-queue")
            a_open = gr.Button("Open", scale=1, elem_id="audit-open")
        a_task = gr.HTML("", elem_id="audit-task", css_template=view.CSS)
        a_players = gr.HTML("", elem_id="audit-players", js_on_load=sync_player.SYNC_JS, css_template=sync_player.CSS)
        a_view = gr.HTML("", elem_id="audit-view", css_template=view.CSS)
        decisions = gr.State({})
        with gr.Row():
            label = gr.Dropdown([], label="Label", scale=3, elem_id="audit-label")
            decision = gr.Radio([("Accept", "accept"), ("Reject", "reject")], label="Decision", elem_id="audit-decision")
        d_reason = gr.Textbox(label="Reason (needed to reject, or to accept a label a reviewer failed)",
                              elem_id="audit-reason")
        record = gr.Button("Record decision", elem_id="audit-record")
        d_html = gr.HTML("", elem_id="audit-decisions-box", css_template=view.CSS)
        fin = gr.Button("Finalise task", variant="primary", elem_id="audit-finalise")
        result = gr.HTML("", elem_id="audit-result", css_template=view.CSS)
    with gr.Group(visible=False) as stats_box:
        gr.Markdown("### Agreement and quality (as `evalverse humans stats --json`)")
        with gr.Row(equal_height=True):
            counted = gr.Checkbox(False, label="Finalised judgments only", elem_id="stats-counted")
            stats_btn = gr.Button("Show agreement", elem_id="stats-show")
        stats = gr.HTML("", elem_id="stats-html", css_template=view.CSS)
        with gr.Accordion("The report as JSON", open=False):
            stats_json = gr.Code("", language="json", elem_id="stats-json")

    outs = [who, status, reviewer_box, auditor_box, stats_box, queue, a_queue]
    go.click(lambda t: sign_in(ctx, t), token, outs)
    token.submit(lambda t: sign_in(ctx, t), token, outs)
    open_btn.click(lambda w, u: open_review(ctx, w, u), [who, queue], [status, r_task, r_players, r_labels, annotation])
    send.click(lambda w, u, a, v, r: send_review(ctx, w, u, a, v, r), [who, queue, annotation, verdict, reason],
               [status, queue, r_labels, annotation, verdict, reason])
    a_open.click(lambda w, u: open_audit(ctx, w, u), [who, a_queue],
                 [status, a_task, a_players, a_view, label, decisions, d_html])
    record.click(lambda w, u, d, lab, dec, r: record_decision(ctx, w, u, d, lab, dec, r),
                 [who, a_queue, decisions, label, decision, d_reason], [status, decisions, d_html])
    fin.click(lambda w, u, d: finalise(ctx, w, u, d), [who, a_queue, decisions], [status, result, a_queue])
    stats_btn.click(lambda w, c: show_stats(ctx, w, c), [who, counted], [stats, stats_json])
