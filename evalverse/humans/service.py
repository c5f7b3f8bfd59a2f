"""The annotation API the Annotate and Review tabs (and any client) call. Every action takes a personal
access token and is checked here:

- a token grants only its role's actions (`roles.ACTIONS`); a wrong, missing or revoked token grants none;
- nobody sees others' labels for a task before submitting their own for that dimension; a reviewer or
  auditor who has seen a task's labels can no longer annotate it;
- nobody reviews or audits their own work; a label, a review, an audit decision is never overwritten;
- the auditor resolves fails and disagreements, then finalises: only then do the task's judgments count
  (qa_status pass for accepted labels, fail for rejected ones).

Annotators see the outputs blind (no model names) in the task's stored left-to-right order.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Iterable

from evalverse.errors import AccessError, InputError
from evalverse.humans import scheduling
from evalverse.humans.roles import Principal, authenticate, require
from evalverse.humans.tasks import Label, TaskSpec, applicable_dimensions, guidance, implied_pairwise, new_task_record, to_slots
from evalverse.store.annotation import new_uid
from evalverse.taxonomy import Taxonomy, load_taxonomy

APP_SOURCE = {"id": "app", "format": "app", "mapping": {}, "citation": "annotations made in EvalVerse"}
CLAIM_TTL_S = 2 * 3600  # a claimed task is held this long for its annotator before others may take the slot


@dataclass
class TaskView:
    """What an annotator is shown: no model names, no other labels."""

    uid: str
    case_key: str
    suite: str | None
    prompt: str
    mode: str
    reference: list[str]
    ground_truth: Any
    shown: list[dict[str, Any]]  # left to right: position, video_path, video_hash
    kind: str  # "pairwise" (two outputs: left/right/tie/both_bad) or "ranking"
    dimensions: list[dict[str, Any]]  # id, name, description, sub-dimensions with expert questions
    done: list[str] = field(default_factory=list)  # dimensions this annotator already labelled


class AnnotationService:
    def __init__(self, store, taxonomy: Taxonomy | None = None, *, floor: int = 1, claim_ttl_s: float = CLAIM_TTL_S,
                 rng: random.Random | None = None) -> None:
        self.store = store
        self.taxonomy = taxonomy or load_taxonomy()
        self.floor = floor
        self.claim_ttl_s = claim_ttl_s
        self.rng = rng or random.Random()
        self._app_source = False

    # ---- administration (whoever holds the database) -------------------------------------------
    def create_task(self, spec: TaskSpec | dict, facts: list[Any] | None = None) -> str:
        spec = spec if isinstance(spec, TaskSpec) else TaskSpec.model_validate(spec)
        task, outputs = new_task_record(spec, applicable_dimensions(self.taxonomy, spec, facts), self.rng)
        self.store.add_task(task, outputs)
        return task["uid"]

    # ---- helpers -------------------------------------------------------------------------------
    def _who(self, token: str | None, action: str) -> Principal:
        principal = authenticate(self.store, token)
        require(principal, action)
        return principal

    def _task(self, task_uid: str) -> dict[str, Any]:
        task = self.store.get_task(str(task_uid))
        if task is None:
            raise InputError(f"no annotation task {task_uid!r}")
        return task

    def _view(self, task: dict[str, Any], done: Iterable[str] = ()) -> TaskView:
        outputs = {o["slot"]: o for o in task["outputs"]}
        shown = [{"position": p, "video_path": outputs[s]["video_path"], "video_hash": outputs[s]["video_hash"]}
                 for p, s in enumerate(task["display_order"])]
        return TaskView(
            uid=task["uid"], case_key=task["case_key"], suite=task["suite"], prompt=task["prompt"], mode=task["mode"],
            reference=task["reference"], ground_truth=task["ground_truth"], shown=shown,
            kind="pairwise" if len(shown) == 2 else "ranking",
            dimensions=[guidance(self.taxonomy.dimension(d)) for d in task["dimensions"]], done=sorted(done),
        )

    def whoami(self, token: str | None) -> Principal:
        """The person and role behind a token (AccessError when it is missing, wrong or revoked)."""
        return authenticate(self.store, token)

    def view_for_review(self, token: str, task_uid: str) -> TaskView:
        """The blind task view (prompt, reference, outputs in the shown order) for a reviewer or auditor."""
        me = authenticate(self.store, token)
        require(me, "read_labels")
        return self._view(self._task(task_uid))

    # ---- work queues (counts and names only: labels are read through `labels` / `audit_view`) ---------------
    def _queue(self, suite: str | None) -> list[dict[str, Any]]:
        out = []
        for task in self.store.annotation_tasks(suite=suite, open_only=True):
            subs = self.store.task_submissions(task["id"])
            if not subs:
                continue
            reviews = self.store.task_reviews(task["id"])
            reviewed = {r["submission_id"] for r in reviews}
            people: dict[str, dict[str, Any]] = {}
            for s in subs:
                p = people.setdefault(s["annotator"], {"annotator": s["annotator"], "annotator_id": s["annotator_id"],
                                                       "labels": 0, "reviewed": 0, "reviewers": set()})
                p["labels"] += 1
                p["reviewed"] += s["id"] in reviewed
                p["reviewers"] |= {r["reviewer_id"] for r in reviews if r["submission_id"] == s["id"]}
            out.append({"uid": task["uid"], "suite": task["suite"], "case_key": task["case_key"],
                        "required": task["required"], "annotations": list(people.values()),
                        "unreviewed": sum(s["id"] not in reviewed for s in subs), "labels": len(subs)})
        return out

    def review_queue(self, token: str, suite: str | None = None) -> list[dict[str, Any]]:
        """Open tasks with labels, each annotator's annotation with how many of its labels are reviewed and
        whether it is the caller's own (which they may not review) or already reviewed by them."""
        me = self._who(token, "review")
        rows = self._queue(suite)
        for row in rows:
            for a in row["annotations"]:
                a["own"] = a["annotator_id"] == me.person_id
                a["reviewed_by_me"] = me.person_id in a["reviewers"]
                del a["annotator_id"], a["reviewers"]
        return rows

    def audit_queue(self, token: str, suite: str | None = None) -> list[dict[str, Any]]:
        """Open tasks with labels: how many labels still wait for a review (finalising needs none)."""
        self._who(token, "audit")
        rows = self._queue(suite)
        for row in rows:
            for a in row["annotations"]:
                del a["annotator_id"], a["reviewers"]
        return rows

    # ---- annotators ----------------------------------------------------------------------------
    def task_view(self, token: str, task_uid: str) -> TaskView:
        me = self._who(token, "annotate")
        task = self._task(task_uid)
        mine = [s["dimension"] for s in self.store.task_submissions(task["id"]) if s["annotator_id"] == me.person_id]
        return self._view(task, mine)

    def next_task(self, token: str, suite: str | None = None) -> TaskView | None:
        """The task this annotator should do next (resuming a task they claimed and left unfinished), or None
        when nothing is left for them; claims it so that others do not over-fill it."""
        me = self._who(token, "annotate")
        load = [t for t in self.store.task_load() if suite is None or t["suite"] == suite]
        for t in load:  # resume: a live claim with labels still missing
            if me.person_id in t["claimed"]:
                task = self.store.get_task(t["id"])
                mine = {s["dimension"] for s in self.store.task_submissions(t["id"]) if s["annotator_id"] == me.person_id}
                if set(task["dimensions"]) - mine:
                    return self._view(task, mine)
        open_ = [t for t in load if me.person_id not in t["submitted"] | t["viewed"] | t["claimed"]
                 and len(t["submitted"] | (t["claimed"] - {me.person_id})) < t["required"]]
        if not open_:
            return None
        wanted = {t["id"] for t in open_}
        tasks = {t["id"]: t for t in self.store.annotation_tasks(suite=suite, open_only=True) if t["id"] in wanted}
        open_ = [t for t in open_ if t["id"] in tasks]
        candidates = [scheduling.Candidate(
            key=t["id"], annotations=len(t["submitted"]),
            pairs=tuple(scheduling.pair_key(a["model"], b["model"]) for i, a in enumerate(tasks[t["id"]]["outputs"])
                        for b in tasks[t["id"]]["outputs"][i + 1:])) for t in open_]
        intervals, counts = self._evidence_so_far(suite)
        while candidates:
            choice = scheduling.pick(candidates, intervals, counts, self.floor, self.rng)
            if self.store.claim_task(choice.key, me.person_id, self.claim_ttl_s):
                return self._view(tasks[choice.key])
            candidates = [c for c in candidates if c.key != choice.key]  # taken meanwhile: try the next
        return None

    def _evidence_so_far(self, suite: str | None):
        """Bradley–Terry intervals per dimension and comparisons per model pair, from every app judgment not
        rejected (scheduling uses all the information there is; only finalised ones count for results)."""
        from evalverse.leaderboard.stats import bradley_terry_intervals

        frame = self.store.human_outcomes(source="app", suite=suite)
        frame = frame[(frame["qa_status"] != "fail") & frame["model_a"].notna() & frame["model_b"].notna()]
        intervals = {dim: bradley_terry_intervals(part) for dim, part in frame.groupby("dimension")}
        per_annotation = frame.drop_duplicates(["case_key", "model_a", "model_b", "annotator"])
        return intervals, scheduling.count_pairs(per_annotation.to_dict("records"))

    def submit(self, token: str, task_uid: str, labels: list[Label | dict]) -> list[str]:
        """Store this annotator's labels for one or more dimensions of a task, atomically; returns their uids."""
        me = self._who(token, "annotate")
        task = self._task(task_uid)
        items, judgments = [], []
        seen = set()
        for raw in labels:
            label = raw if isinstance(raw, Label) else Label.model_validate(raw)
            try:
                dim = self.taxonomy.dimension(label.dimension).id
            except KeyError:
                dim = label.dimension
            if dim not in task["dimensions"]:
                raise InputError(f"{label.dimension!r} is not a dimension of this task ({', '.join(task['dimensions'])})")
            if dim in seen:
                raise InputError(f"{dim} is labelled twice in one submission")
            seen.add(dim)
            ranking, outcome = to_slots(label, task["display_order"])
            uid = new_uid()
            items.append({"uid": uid, "dimension": dim, "ranking": ranking, "outcome": outcome, "note": label.note,
                          "seconds": label.seconds, "display_order": task["display_order"]})
            judgments += implied_pairwise(task, me.name, dim, ranking, outcome, uid, label.note, label.seconds)
        if not items:
            raise InputError("nothing to submit: give at least one dimension's label")
        if not self._app_source:
            if not any(s["id"] == "app" for s in self.store.human_sources()):
                self.store.import_human_judgments(APP_SOURCE, [], [])
            self._app_source = True
        self.store.add_submissions(task["id"], me.person_id, items, judgments)
        return [i["uid"] for i in items]

    def labels(self, token: str, task_uid: str) -> list[dict[str, Any]]:
        """The task's labels this caller may see: an annotator only the dimensions they have labelled
        themselves; a reviewer or auditor all of them (and from then on may not annotate this task)."""
        me = authenticate(self.store, token)
        task = self._task(task_uid)
        subs = self.store.task_submissions(task["id"])
        if me.can("read_labels"):
            self.store.record_label_view(task["id"], me.person_id, me.role)
            visible = subs
        elif me.can("annotate"):
            mine = {s["dimension"] for s in subs if s["annotator_id"] == me.person_id}
            visible = [s for s in subs if s["dimension"] in mine]
        else:  # pragma: no cover - every role can do one of the two
            raise AccessError("this token cannot read labels")
        return [_public(s) for s in visible]

    # ---- reviewers -----------------------------------------------------------------------------
    def review(self, token: str, task_uid: str, annotator: str, verdict: str, reason: str = "",
               dimensions: list[str] | None = None) -> list[str]:
        """Mark one annotator's labels on a task (all dimensions, or those named) pass or fail with a reason
        (a fail needs one). Nobody reviews their own work."""
        me = self._who(token, "review")
        if verdict not in ("pass", "fail"):
            raise InputError(f"a review verdict is pass or fail, not {verdict!r}")
        reason = (reason or "").strip()
        if verdict == "fail" and not reason:
            raise InputError("a fail needs a reason the annotator can act on")
        task = self._task(task_uid)
        subs = [s for s in self.store.task_submissions(task["id"]) if s["annotator"] == annotator]
        if dimensions is not None:
            subs = [s for s in subs if s["dimension"] in set(dimensions)]
        if not subs:
            raise InputError(f"{annotator!r} has no labels on this task to review")
        if any(s["annotator_id"] == me.person_id for s in subs):
            raise AccessError("nobody reviews their own work: ask another reviewer")
        rows = [{"uid": new_uid(), "submission_id": s["id"], "verdict": verdict, "reason": reason} for s in subs]
        self.store.add_reviews(task["id"], me.person_id, rows)
        return [r["uid"] for r in rows]

    # ---- auditors ------------------------------------------------------------------------------
    def audit_view(self, token: str, task_uid: str) -> dict[str, Any]:
        """Labels, reviews and what needs the auditor's decision before the task can be finalised."""
        me = self._who(token, "audit")
        task = self._task(task_uid)
        self.store.record_label_view(task["id"], me.person_id, me.role)
        subs, reviews = self.store.task_submissions(task["id"]), self.store.task_reviews(task["id"])
        uid_of_sub = {s["id"]: s["uid"] for s in subs}
        by_label: dict[str, list[dict[str, Any]]] = {s["uid"]: [] for s in subs}
        for r in reviews:
            by_label[uid_of_sub[r["submission_id"]]].append({k: r[k] for k in ("reviewer", "verdict", "reason")})
        return {"task": task, "labels": [_public(s) for s in subs], "reviews": reviews, "reviews_by_label": by_label,
                "needs_decision": _needs_decision(subs, reviews), "unreviewed": _unreviewed(subs, reviews)}

    def finalise(self, token: str, task_uid: str, decisions: dict[str, tuple[str, str]] | None = None,
                 reason: str = "") -> dict[str, str]:
        """Close a task: `decisions` maps a label's uid to (accept | reject, reason) and must cover every
        label with a failed or split review and every label of a dimension the annotators disagree on.
        Returns each label's final status (pass / fail)."""
        me = self._who(token, "audit")
        task = self._task(task_uid)
        subs, reviews = self.store.task_submissions(task["id"]), self.store.task_reviews(task["id"])
        if any(s["annotator_id"] == me.person_id for s in subs) or any(r["reviewer_id"] == me.person_id for r in reviews):
            raise AccessError("nobody audits their own work: this task has your labels or reviews; ask another auditor")
        if not subs:
            raise InputError("this task has no labels to finalise")
        unreviewed = _unreviewed(subs, reviews)
        if unreviewed:
            raise InputError(f"{len(unreviewed)} label(s) have no review yet: " + "; ".join(unreviewed))
        decisions = dict(decisions or {})
        by_uid = {s["uid"]: s for s in subs}
        unknown = sorted(set(decisions) - set(by_uid))
        if unknown:
            raise InputError(f"decisions name labels that are not on this task: {', '.join(unknown)}")
        need = _needs_decision(subs, reviews)
        missing = [f"{uid} ({why})" for uid, why in need.items() if uid not in decisions]
        if missing:
            raise InputError("decide accept or reject for: " + "; ".join(missing))
        failed = {r["submission_id"] for r in reviews if r["verdict"] == "fail"}
        rows, status = [], {}
        for uid, s in by_uid.items():
            if uid in decisions:
                decision, why = decisions[uid]
                if decision not in ("accept", "reject"):
                    raise InputError(f"a decision is accept or reject, not {decision!r}")
                if (decision == "reject" or s["id"] in failed) and not (why or "").strip():
                    raise InputError(f"{uid}: rejecting a label or accepting a failed one needs a reason")
                rows.append({"submission_id": s["id"], "decision": decision, "reason": why})
                status[s["id"]] = "pass" if decision == "accept" else "fail"
            else:
                status[s["id"]] = "pass"
        self.store.finalise_task(task["id"], me.person_id, set(s["id"] for s in subs), rows, status, reason)
        return {s["uid"]: status[s["id"]] for s in subs}


def _public(sub: dict[str, Any]) -> dict[str, Any]:
    keys = ("uid", "annotator", "dimension", "ranking", "outcome", "note", "seconds", "display_order", "submitted_at")
    return {k: sub[k] for k in keys}


def _unreviewed(subs: list[dict], reviews: list[dict]) -> list[str]:
    reviewed = {r["submission_id"] for r in reviews}
    return [f"{s['uid']} ({s['annotator']}, {s['dimension']})" for s in subs if s["id"] not in reviewed]


def _needs_decision(subs: list[dict], reviews: list[dict]) -> dict[str, str]:
    """label uid -> why the auditor must decide: a failed review (or split reviews), or annotators who
    disagree on the dimension."""
    need: dict[str, str] = {}
    verdicts: dict[int, set[str]] = {}
    for r in reviews:
        verdicts.setdefault(r["submission_id"], set()).add(r["verdict"])
    for s in subs:
        v = verdicts.get(s["id"], set())
        if "fail" in v:
            need[s["uid"]] = "reviewers split" if "pass" in v else "failed review"
    by_dim: dict[str, list[dict]] = {}
    for s in subs:
        by_dim.setdefault(s["dimension"], []).append(s)
    for dim, group in by_dim.items():
        answers = {(tuple(s["ranking"]) if s["ranking"] is not None else None, s["outcome"]) for s in group}
        if len(answers) > 1:
            for s in group:
                need.setdefault(s["uid"], f"annotators disagree on {dim}")
    return need
