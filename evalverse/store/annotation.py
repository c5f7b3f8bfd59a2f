"""Annotation tables (migration 0005): people and role tokens, tasks and their outputs, claims, submissions,
reviews, audits and label views.

`AnnotationRepository` is a mixin of `Store`: it uses only the Store's `_write()` (one transaction),
`_rows()` and `_frame()` helpers. Each write method is one unit of work that re-checks, inside its
transaction, the facts it depends on (a task still open, a slot still free, a label not given twice), so
concurrent annotators cannot overwrite or over-book each other. Who may call what (tokens, roles, no
self-review, no peeking) is decided above, in `evalverse.humans.service`; the store keeps the data honest.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

import duckdb

from evalverse.errors import InputError
from evalverse.store.base import Repository
from evalverse.store.judgment_rows import _now, insert_pairwise, new_uid  # noqa: F401 (new_uid: public here too)
from evalverse.store.serialise import dumps, loads

ANNOTATION_TABLES = (
    "human_sources", "annotators", "annotator_tokens", "annotation_tasks", "annotation_outputs",
    "annotation_assignments", "annotation_submissions", "annotation_reviews", "annotation_audits",
    "annotation_label_views",
)
_TASK_JSON = ("reference", "ground_truth", "dimensions", "display_order")


def first(rel: duckdb.DuckDBPyConnection):
    """The first row of a result, fetched whole (a half-read result would block the connection), or None."""
    rows = rel.fetchall()
    return rows[0] if rows else None


def dicts(con: duckdb.DuckDBPyConnection, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
    rel = con.execute(sql, list(params))
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row)) for row in rel.fetchall()]


def _decode(row: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    for k in keys:
        if k in row and isinstance(row[k], str):
            row[k] = loads(row[k])
    return row


class AnnotationRepository(Repository):
    """People, tokens, tasks, submissions, reviews and audits (see the module docstring)."""

    TABLES = ANNOTATION_TABLES[1:]  # the repository-per-concern convention: the tables it owns

    # ---- people and tokens ---------------------------------------------------------------------
    def add_role_token(self, name: str, role: str, token_id: str, kdf: str, salt: str, token_hash: str) -> int:
        """Create the person `name` if new and give them a token for `role`; returns the person's id."""
        clean = (name or "").strip()
        if not clean:
            raise InputError("a person needs a non-empty name")
        now = _now()
        with self._write() as con:
            person = _ensure_person(con, clean, now)
            con.execute(
                "INSERT INTO annotator_tokens (token_id, annotator_id, role, kdf, salt, token_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", [token_id, person, role, kdf, salt, token_hash, now],
            )
        return person

    def ensure_annotator(self, name: str) -> int:

        """The id of the annotator named `name`, created when new."""
        with self._write() as con:
            return _ensure_person(con, name, _now())

    def token_record(self, token_id: str) -> dict[str, Any] | None:

        """The stored (hashed) token with this id and its annotator, or None."""
        rows = self._rows(
            "SELECT t.token_id, t.annotator_id, a.name, t.role, t.kdf, t.salt, t.token_hash, t.revoked_at "
            "FROM annotator_tokens t JOIN annotators a ON a.id = t.annotator_id WHERE t.token_id = ?", [token_id],
        )
        return rows[0] if rows else None

    def revoke_token(self, token_id: str) -> None:

        """Revoke a token: it no longer authenticates anything."""
        with self._write() as con:
            if not con.execute(
                "UPDATE annotator_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL RETURNING 1",
                [_now(), token_id],
            ).fetchall():
                raise InputError(f"no active token with id {token_id!r}")

    def annotators(self) -> list[dict[str, Any]]:
        """Everyone, with their tokens (id, role, created, revoked; never the hash)."""
        people = self._rows("SELECT id, name, created_at FROM annotators ORDER BY name")
        tokens = self._rows(
            "SELECT annotator_id, token_id, role, created_at, revoked_at FROM annotator_tokens ORDER BY created_at"
        )
        for p in people:
            p["tokens"] = [{k: t[k] for k in ("token_id", "role", "created_at", "revoked_at")}
                           for t in tokens if t["annotator_id"] == p["id"]]
            p["roles"] = sorted({t["role"] for t in p["tokens"] if t["revoked_at"] is None})
        return people

    def annotator_names(self) -> dict[int, str]:

        """Annotator id -> name."""
        return {r["id"]: r["name"] for r in self._rows("SELECT id, name FROM annotators")}

    # ---- tasks ---------------------------------------------------------------------------------
    def add_task(self, task: dict[str, Any], outputs: list[dict[str, Any]]) -> int:
        """Store a task and its outputs (slots 0..k-1); a task whose uid exists already is left as it is
        and its id returned (so re-creating or re-importing is harmless)."""
        with self._write() as con:
            return _insert_task(con, task, outputs, _now())

    def get_task(self, key: int | str) -> dict[str, Any] | None:
        """A task by id or uid, with `outputs` (list, by slot); None when unknown."""
        column = "id" if isinstance(key, int) else "uid"
        rows = self._rows(f"SELECT * FROM annotation_tasks WHERE {column} = ?", [key])  # column: fixed choice
        if not rows:
            return None
        task = _decode(rows[0], _TASK_JSON)
        task["outputs"] = self._rows(
            "SELECT slot, model, video_hash, video_path FROM annotation_outputs WHERE task_id = ? ORDER BY slot",
            [task["id"]],
        )
        return task

    def annotation_tasks(self, suite: str | None = None, open_only: bool = False) -> list[dict[str, Any]]:

        """Annotation tasks (of one suite; only unfinalised ones with `open_only`), oldest first."""
        rows = self._rows(
            "SELECT * FROM annotation_tasks WHERE (? IS NULL OR suite = ?) AND (NOT ? OR finalised_at IS NULL) "
            "ORDER BY id", [suite, suite, open_only],
        )
        outputs = self._rows("SELECT task_id, slot, model, video_hash, video_path FROM annotation_outputs ORDER BY task_id, slot")
        by_task: dict[int, list] = {}
        for o in outputs:
            by_task.setdefault(o.pop("task_id"), []).append(o)
        for r in rows:
            _decode(r, _TASK_JSON)["outputs"] = by_task.get(r["id"], [])
        return rows

    def task_load(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Per open task: who submitted, who holds a live claim, who has seen its labels (for scheduling)."""
        now = now or _now()
        with self._cursor() as con:
            tasks = dicts(con, "SELECT id, suite, required FROM annotation_tasks WHERE finalised_at IS NULL ORDER BY id")
            subs = dicts(con, "SELECT DISTINCT task_id, annotator_id FROM annotation_submissions")
            claims = dicts(con, "SELECT task_id, annotator_id FROM annotation_assignments WHERE expires_at > ?", [now])
            views = dicts(con, "SELECT task_id, annotator_id FROM annotation_label_views")
        load = {t["id"]: {**t, "submitted": set(), "claimed": set(), "viewed": set()} for t in tasks}
        for key, rows in (("submitted", subs), ("claimed", claims), ("viewed", views)):
            for r in rows:
                if r["task_id"] in load:
                    load[r["task_id"]][key].add(r["annotator_id"])
        return list(load.values())

    def claim_task(self, task_id: int, annotator_id: int, ttl_s: float) -> bool:
        """Claim a slot on the task for `ttl_s` seconds; False (nothing written) when it is finalised, full
        (submitted annotators + others' live claims >= required), already done by this person, or its labels
        were seen by them."""
        now = _now()
        with self._write() as con:
            if not _has_room(con, task_id, annotator_id, now):
                return False
            con.execute("DELETE FROM annotation_assignments WHERE task_id = ? AND annotator_id = ?", [task_id, annotator_id])
            con.execute(
                "INSERT INTO annotation_assignments (task_id, annotator_id, assigned_at, expires_at) VALUES (?, ?, ?, ?)",
                [task_id, annotator_id, now, now + timedelta(seconds=float(ttl_s))],
            )
        return True

    def assignment(self, task_id: int, annotator_id: int) -> dict[str, Any] | None:

        """The claim of `annotator_id` on task `task_id`, or None."""
        rows = self._rows("SELECT * FROM annotation_assignments WHERE task_id = ? AND annotator_id = ?", [task_id, annotator_id])
        return rows[0] if rows else None

    # ---- submissions, reviews, audits ----------------------------------------------------------
    def add_submissions(self, task_id: int, annotator_id: int, items: list[dict[str, Any]],
                        judgments: list[dict[str, Any]]) -> list[int]:
        """Store one annotator's labels for some dimensions of a task with the pairwise judgments they imply,
        atomically. Refused when the task is finalised or full, a dimension is already labelled by this
        person, or they have seen the task's labels as a reviewer or auditor."""
        now = _now()
        with self._write() as con:
            task = first(con.execute("SELECT finalised_at FROM annotation_tasks WHERE id = ?", [task_id]))
            if task is None:
                raise InputError(f"no annotation task with id {task_id}")
            if task[0] is not None:
                raise InputError("this task is finalised; it takes no more labels")
            if con.execute("SELECT 1 FROM annotation_label_views WHERE task_id = ? AND annotator_id = ?",
                           [task_id, annotator_id]).fetchall():
                raise InputError("you have seen this task's labels as a reviewer or auditor, so you cannot annotate it")
            done = {r[0] for r in con.execute(
                "SELECT dimension FROM annotation_submissions WHERE task_id = ? AND annotator_id = ?", [task_id, annotator_id]
            ).fetchall()}
            if not done and not _has_room(con, task_id, annotator_id, now):
                raise InputError("this task already has all the independent annotations it needs")
            again = sorted(done & {i["dimension"] for i in items})
            if again:
                raise InputError(f"you already labelled {', '.join(again)} on this task; a label is never overwritten")
            ids = []
            for it in items:
                row = first(con.execute(
                    "INSERT INTO annotation_submissions (uid, task_id, annotator_id, dimension, ranking, outcome, note, "
                    "seconds, display_order, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    [it.get("uid") or new_uid(), task_id, annotator_id, it["dimension"],
                     None if it.get("ranking") is None else dumps(it["ranking"]), it.get("outcome"),
                     it.get("note") or "", it.get("seconds"), dumps(it["display_order"]), it.get("submitted_at") or now],
                ))
                ids.append(int(row[0]))
                for j in (j for j in judgments if j["dimension"] == it["dimension"]):
                    insert_pairwise(con, {**j, "submission_id": row[0], "created_at": now})
        return ids

    def task_submissions(self, task_id: int) -> list[dict[str, Any]]:

        """Every submitted label set of a task, oldest first."""
        rows = self._rows(
            "SELECT s.*, a.name AS annotator FROM annotation_submissions s JOIN annotators a ON a.id = s.annotator_id "
            "WHERE s.task_id = ? ORDER BY s.id", [task_id],
        )
        return [_decode(r, ("ranking", "display_order")) for r in rows]

    def task_reviews(self, task_id: int) -> list[dict[str, Any]]:

        """Every review (pass/fail with reason) of a task's submissions."""
        return self._rows(
            "SELECT r.*, a.name AS reviewer FROM annotation_reviews r JOIN annotation_submissions s ON s.id = r.submission_id "
            "JOIN annotators a ON a.id = r.reviewer_id WHERE s.task_id = ? ORDER BY r.id", [task_id],
        )

    def task_audits(self, task_id: int) -> list[dict[str, Any]]:

        """Every audit decision on a task."""
        return self._rows(
            "SELECT d.*, a.name AS auditor FROM annotation_audits d JOIN annotators a ON a.id = d.auditor_id "
            "WHERE d.task_id = ? ORDER BY d.id", [task_id],
        )

    def record_label_view(self, task_id: int, annotator_id: int, role: str) -> None:

        """Record that an annotator (in `role`) was shown a task's labels (blindness is audited)."""
        with self._write() as con:
            _record_view(con, task_id, annotator_id, role, _now())

    def add_reviews(self, task_id: int, reviewer_id: int, reviews: list[dict[str, Any]]) -> list[int]:
        """Reviews {submission_id, verdict, reason} of one task by one reviewer, atomically; a reviewer
        reviews a submission once."""
        now = _now()
        with self._write() as con:
            if first(con.execute("SELECT finalised_at FROM annotation_tasks WHERE id = ?", [task_id]))[0] is not None:
                raise InputError("this task is finalised; reviews are closed")
            _record_view(con, task_id, reviewer_id, "reviewer", now)
            ids = []
            for r in reviews:
                if con.execute("SELECT 1 FROM annotation_reviews WHERE submission_id = ? AND reviewer_id = ?",
                               [r["submission_id"], reviewer_id]).fetchall():
                    raise InputError(f"you already reviewed submission {r['submission_id']}; a review is never overwritten")
                row = first(con.execute(
                    "INSERT INTO annotation_reviews (uid, submission_id, reviewer_id, verdict, reason, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    [r.get("uid") or new_uid(), r["submission_id"], reviewer_id, r["verdict"], r.get("reason") or "",
                     r.get("created_at") or now],
                ))
                ids.append(int(row[0]))
        return ids

    def finalise_task(self, task_id: int, auditor_id: int, expected_submissions: set[int],
                      decisions: list[dict[str, Any]], status: dict[int, str], reason: str = "") -> None:
        """Write the auditor's decisions, set each submission's judgments to `status[submission_id]`
        ('pass' / 'fail') and close the task, atomically; refused if the task changed meanwhile."""
        now = _now()
        with self._write() as con:
            row = first(con.execute("SELECT finalised_at FROM annotation_tasks WHERE id = ?", [task_id]))
            if row is None or row[0] is not None:
                raise InputError("this task is already finalised" if row else f"no annotation task with id {task_id}")
            have = {r[0] for r in con.execute("SELECT id FROM annotation_submissions WHERE task_id = ?", [task_id]).fetchall()}
            if have != set(expected_submissions):
                raise InputError("the task's labels changed while you audited it; reload it and decide again")
            _record_view(con, task_id, auditor_id, "auditor", now)
            for d in decisions:
                con.execute(
                    "INSERT INTO annotation_audits (uid, task_id, submission_id, auditor_id, decision, reason, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [new_uid(), task_id, d["submission_id"], auditor_id, d["decision"], d.get("reason") or "", now],
                )
            for sub_id, qa in status.items():
                con.execute("UPDATE human_pairwise SET qa_status = ? WHERE submission_id = ?", [qa, sub_id])
            con.execute(
                "INSERT INTO annotation_audits (uid, task_id, submission_id, auditor_id, decision, reason, created_at) "
                "VALUES (?, ?, NULL, ?, 'finalise', ?, ?)", [new_uid(), task_id, auditor_id, reason or "", now],
            )
            con.execute("UPDATE annotation_tasks SET finalised_at = ?, finalised_by = ? WHERE id = ?", [now, auditor_id, task_id])


# ---- helpers shared with the import repository (all run inside the caller's transaction) ----------------

def _ensure_person(con, name: str, now: datetime) -> int:
    clean = (name or "").strip()
    if not clean:
        raise InputError("a person needs a non-empty name")
    row = first(con.execute("SELECT id FROM annotators WHERE name = ?", [clean]))
    if row is None:
        row = first(con.execute("INSERT INTO annotators (name, created_at) VALUES (?, ?) RETURNING id", [clean, now]))
    return int(row[0])


def _insert_task(con, task: dict[str, Any], outputs: list[dict[str, Any]], now: datetime) -> int:
    found = first(con.execute("SELECT id FROM annotation_tasks WHERE uid = ?", [task["uid"]]))
    if found:
        return int(found[0])
    row = first(con.execute(
        "INSERT INTO annotation_tasks (uid, suite, case_key, test_case_id, prompt, mode, reference, ground_truth, "
        "dimensions, display_order, required, created_at, finalised_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        [task["uid"], task.get("suite"), task["case_key"], task.get("test_case_id"), task.get("prompt") or "",
         task["mode"], dumps(task.get("reference") or []), dumps(task.get("ground_truth")), dumps(task["dimensions"]),
         dumps(task["display_order"]), int(task["required"]), task.get("created_at") or now, task.get("finalised_at")],
    ))
    for o in outputs:
        con.execute(
            "INSERT INTO annotation_outputs (task_id, slot, model, video_hash, video_path) VALUES (?, ?, ?, ?, ?)",
            [row[0], int(o["slot"]), o["model"], o.get("video_hash"), o.get("video_path")],
        )
    return int(row[0])


def _has_room(con, task_id: int, annotator_id: int, now: datetime) -> bool:
    row = first(con.execute("SELECT required, finalised_at FROM annotation_tasks WHERE id = ?", [task_id]))
    if row is None or row[1] is not None:
        return False
    blocked = first(con.execute(
        "SELECT (SELECT count(*) FROM annotation_submissions WHERE task_id = ? AND annotator_id = ?) + "
        "(SELECT count(*) FROM annotation_label_views WHERE task_id = ? AND annotator_id = ?)",
        [task_id, annotator_id, task_id, annotator_id],
    ))[0]
    if blocked:
        return False
    taken = first(con.execute(
        "SELECT count(*) FROM (SELECT annotator_id FROM annotation_submissions WHERE task_id = ? UNION "
        "SELECT annotator_id FROM annotation_assignments WHERE task_id = ? AND expires_at > ? AND annotator_id <> ?)",
        [task_id, task_id, now, annotator_id],
    ))[0]
    return int(taken) < int(row[0])


def _record_view(con, task_id: int, annotator_id: int, role: str, now: datetime) -> None:
    con.execute(
        "INSERT INTO annotation_label_views (task_id, annotator_id, role, seen_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING", [task_id, annotator_id, role, now],
    )
