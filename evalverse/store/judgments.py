"""Human judgments with their provenance (migration 0005): import sources, idempotent bulk import, the
frames statistics and calibration read, and the JSONL exchange of everything human (dump and load).

`JudgmentRepository` is a mixin of `Store` (it uses `_write()`, `_rows()`, `_frame()`). Bulk writes are
one transaction each: a file is imported whole or not at all. Rows are identified by `uid` (a hash of
their natural key for imported files, a random id for the app), so importing the same data twice adds
nothing, and a changed value under the same key is updated and counted as such.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd

from evalverse.errors import InputError
from evalverse.store.base import Repository
from evalverse.store.judgment_rows import PAIRWISE_COLUMNS, POINTWISE_COLUMNS, bulk_insert
from evalverse.store.annotation import (
    _ensure_person, _insert_task, _record_view, dicts, first,
)
from evalverse.store.serialise import dumps, loads

_COMPARE = {
    "human_pointwise": ("score", "qa_status", "model", "dimension", "sub_dimension", "scale_min", "scale_max"),
    "human_pairwise": ("winner", "qa_status", "model_a", "model_b", "dimension", "sub_dimension", "left_side"),
}



def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _upsert(con, table: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> dict[str, int]:
    """Insert rows whose uid is new; update the compared fields of rows whose uid exists with other values."""
    counts = {"added": 0, "unchanged": 0, "updated": 0}
    if not rows:
        return counts
    fields = _COMPARE[table]
    uids = [r["uid"] for r in rows]
    con.register("incoming_uids", pd.DataFrame({"uid": uids}))
    try:
        existing = {r["uid"]: r for r in dicts(
            con, f"SELECT uid, {', '.join(fields)} FROM {table} WHERE uid IN (SELECT uid FROM incoming_uids)")}
    finally:
        con.unregister("incoming_uids")
    fresh: dict[str, dict[str, Any]] = {}
    for r in rows:
        old = existing.get(r["uid"])
        if old is None:
            fresh.setdefault(r["uid"], r)
            continue
        changed = [f for f in fields if f in r and not _same(old[f], r[f])]
        if not changed:
            counts["unchanged"] += 1
            continue
        sets = ", ".join(f"{f} = ?" for f in changed)  # field names come from _COMPARE, never from input
        con.execute(f"UPDATE {table} SET {sets} WHERE uid = ?", [r[f] for f in changed] + [r["uid"]])
        counts["updated"] += 1
    bulk_insert(con, table, columns, list(fresh.values()))
    counts["added"] = len(fresh)
    return counts


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return a is not None and b is not None and float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return a == b


class JudgmentRepository(Repository):
    """Sources, bulk judgment import, provenance-rich frames, exchange dump/load."""

    TABLES = ("human_sources",)  # human_pairwise / human_pointwise belong to the human-judgment repository

    # ---- sources and bulk import ---------------------------------------------------------------
    def import_human_judgments(self, source: dict[str, Any], pointwise: list[dict[str, Any]],
                               pairwise: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
        """Record `source` (a human_sources row) and upsert its judgments by uid, all in one transaction.
        Returns {"pointwise": {added, unchanged, updated}, "pairwise": {...}}."""
        with self._write() as con:
            _upsert_source(con, source, _now())
            return {
                "pointwise": _upsert(con, "human_pointwise", pointwise, POINTWISE_COLUMNS),
                "pairwise": _upsert(con, "human_pairwise", pairwise, PAIRWISE_COLUMNS),
            }

    def human_sources(self) -> list[dict[str, Any]]:

        """Every imported human-judgment source with its file hash, mapping and scale."""
        rows = self._rows(
            "SELECT s.*, (SELECT count(*) FROM human_pointwise p WHERE p.source = s.id) AS pointwise, "
            "(SELECT count(*) FROM human_pairwise q WHERE q.source = s.id) AS pairwise FROM human_sources s ORDER BY id"
        )
        for r in rows:
            r["mapping"] = loads(r["mapping"])
        return rows

    # ---- frames for statistics, win ratios and calibration -------------------------------------
    def human_ratings(self, *, source: str | None = None, dimension: str | None = None,
                      sub_dimension: str | None = None, suite: str | None = None, counted: bool = False) -> pd.DataFrame:
        """Pointwise ratings with provenance; `unit` is the video's content hash, else its name. `counted`
        keeps only the judgments that count (qa_status pass)."""
        return self._frame(
            "SELECT id, uid, source, suite, case_key, test_case_id, dimension, sub_dimension, axis, model, video_hash, "
            "video_name, coalesce(video_hash, video_name) AS unit, score, scale_min, scale_max, annotator, qa_status, "
            "seconds, note, created_at FROM human_pointwise WHERE (? IS NULL OR source = ?) AND (? IS NULL OR dimension = ?) "
            "AND (? IS NULL OR sub_dimension = ?) AND (? IS NULL OR suite = ?) AND (NOT ? OR qa_status = 'pass') ORDER BY id",
            [source, source, dimension, dimension, sub_dimension, sub_dimension, suite, suite, counted],
        )

    def human_outcomes(self, *, source: str | None = None, dimension: str | None = None,
                       sub_dimension: str | None = None, suite: str | None = None, counted: bool = False) -> pd.DataFrame:
        """Pairwise outcomes with provenance (see `human_ratings`)."""
        return self._frame(
            "SELECT id, uid, source, suite, case_key, test_case_id, dimension, sub_dimension, axis, model_a, model_b, "
            "video_a, video_b, winner, annotator, qa_status, submission_id, left_side, seconds, note, created_at "
            "FROM human_pairwise WHERE (? IS NULL OR source = ?) AND (? IS NULL OR dimension = ?) "
            "AND (? IS NULL OR sub_dimension = ?) AND (? IS NULL OR suite = ?) AND (NOT ? OR qa_status = 'pass') ORDER BY id",
            [source, source, dimension, dimension, sub_dimension, sub_dimension, suite, suite, counted],
        )

    def submission_times(self, suite: str | None = None) -> pd.DataFrame:
        """Per submitted (task, annotator): seconds spent (the sum reported per dimension, else first claim to
        last submission), for the careless-work check."""
        return self._frame(
            "SELECT s.task_id, a.name AS annotator, coalesce(sum(s.seconds), "
            "date_diff('millisecond', min(g.assigned_at), max(s.submitted_at)) / 1000.0) AS seconds "
            "FROM annotation_submissions s JOIN annotators a ON a.id = s.annotator_id "
            "JOIN annotation_tasks t ON t.id = s.task_id "
            "LEFT JOIN annotation_assignments g ON g.task_id = s.task_id AND g.annotator_id = s.annotator_id "
            "WHERE (? IS NULL OR t.suite = ?) GROUP BY s.task_id, a.name ORDER BY s.task_id, a.name",
            [suite, suite],
        )

    def submission_index(self) -> pd.DataFrame:
        """id → task_id of every app submission (to join judgments with their task)."""
        return self._frame("SELECT id, task_id FROM annotation_submissions ORDER BY id")

    # ---- exchange ------------------------------------------------------------------------------
    def dump_humans(self) -> dict[str, list[dict[str, Any]]]:
        """Everything human, with references by uid and person name instead of local ids (no token hashes:
        credentials never leave the store)."""
        names = {r["id"]: r["name"] for r in self._rows("SELECT id, name FROM annotators")}
        tasks = {r["id"]: r["uid"] for r in self._rows("SELECT id, uid FROM annotation_tasks")}
        subs = {r["id"]: r["uid"] for r in self._rows("SELECT id, uid FROM annotation_submissions")}
        out: dict[str, list[dict[str, Any]]] = {}
        out["source"] = [{**r, "mapping": loads(r["mapping"])} for r in self._rows("SELECT * FROM human_sources ORDER BY id")]
        out["annotator"] = self._rows("SELECT name, created_at FROM annotators ORDER BY id")
        task_rows = self.annotation_tasks()
        out["task"] = [{**{k: v for k, v in t.items() if k not in ("id", "finalised_by")},
                        "finalised_by": names.get(t["finalised_by"])} for t in task_rows]
        out["assignment"] = [
            {"task": tasks[r["task_id"]], "annotator": names[r["annotator_id"]], "assigned_at": r["assigned_at"],
             "expires_at": r["expires_at"]} for r in self._rows("SELECT * FROM annotation_assignments ORDER BY task_id, assigned_at")]
        out["submission"] = [
            {**{k: r[k] for k in ("uid", "dimension", "outcome", "note", "seconds", "submitted_at")},
             "task": tasks[r["task_id"]], "annotator": names[r["annotator_id"]], "ranking": loads(r["ranking"]),
             "display_order": loads(r["display_order"])}
            for r in self._rows("SELECT * FROM annotation_submissions ORDER BY id")]
        out["review"] = [
            {**{k: r[k] for k in ("uid", "verdict", "reason", "created_at")}, "submission": subs[r["submission_id"]],
             "reviewer": names[r["reviewer_id"]]} for r in self._rows("SELECT * FROM annotation_reviews ORDER BY id")]
        out["audit"] = [
            {**{k: r[k] for k in ("uid", "decision", "reason", "created_at")}, "task": tasks[r["task_id"]],
             "submission": subs.get(r["submission_id"]), "auditor": names[r["auditor_id"]]}
            for r in self._rows("SELECT * FROM annotation_audits ORDER BY id")]
        out["view"] = [
            {"task": tasks[r["task_id"]], "annotator": names[r["annotator_id"]], "role": r["role"], "seen_at": r["seen_at"]}
            for r in self._rows("SELECT * FROM annotation_label_views ORDER BY seen_at, task_id")]
        pw = self._rows(f"SELECT {', '.join(PAIRWISE_COLUMNS)} FROM human_pairwise ORDER BY id")
        out["pairwise"] = [{**{k: v for k, v in r.items() if k != "submission_id"},
                            "submission": subs.get(r["submission_id"])} for r in pw]
        out["pointwise"] = self._rows(f"SELECT {', '.join(POINTWISE_COLUMNS)} FROM human_pointwise ORDER BY id")
        return out

    def load_humans(self, bundle: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, int]]:
        """Load a `dump_humans()`-shaped bundle in one transaction; what exists (same uid) is kept, finalised
        state and QA status are brought up to date. Returns per kind {added, unchanged, updated}."""
        now = _now()
        report: dict[str, dict[str, int]] = {}
        with self._write() as con:
            def count(kind: str, what: str) -> None:
                report.setdefault(kind, {"added": 0, "unchanged": 0, "updated": 0})[what] += 1

            people: dict[str, int] = {}

            def person(name: str, created_at: datetime | None = None) -> int:
                if name not in people:
                    people[name] = _ensure_person(con, name, created_at or now)
                return people[name]

            for s in bundle.get("source", []):
                known = con.execute("SELECT 1 FROM human_sources WHERE id = ?", [s["id"]]).fetchall()
                _upsert_source(con, s, now)
                count("source", "unchanged" if known else "added")
            for a in bundle.get("annotator", []):
                known = con.execute("SELECT 1 FROM annotators WHERE name = ?", [a["name"]]).fetchall()
                person(a["name"], a.get("created_at"))
                count("annotator", "unchanged" if known else "added")
            task_ids: dict[str, int] = {}
            for t in bundle.get("task", []):
                row = first(con.execute("SELECT id, finalised_at FROM annotation_tasks WHERE uid = ?", [t["uid"]]))
                if row is None:
                    task_ids[t["uid"]] = _insert_task(con, {**t, "finalised_at": None}, t["outputs"], now)
                    count("task", "added")
                else:
                    task_ids[t["uid"]] = int(row[0])
                    if row[1] is None and t.get("finalised_at"):
                        count("task", "updated")
                    else:
                        count("task", "unchanged")
                if t.get("finalised_at"):
                    con.execute("UPDATE annotation_tasks SET finalised_at = ?, finalised_by = ? WHERE id = ? AND finalised_at IS NULL",
                                [t["finalised_at"], person(t["finalised_by"]) if t.get("finalised_by") else None,
                                 task_ids[t["uid"]]])

            def task_id(uid: str) -> int:
                if uid not in task_ids:
                    row = first(con.execute("SELECT id FROM annotation_tasks WHERE uid = ?", [uid]))
                    if row is None:
                        raise InputError(f"a record refers to task {uid}, which is neither in the file nor in the store")
                    task_ids[uid] = int(row[0])
                return task_ids[uid]

            for g in bundle.get("assignment", []):
                added = con.execute(
                    "INSERT INTO annotation_assignments (task_id, annotator_id, assigned_at, expires_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING RETURNING 1",
                    [task_id(g["task"]), person(g["annotator"]), g["assigned_at"], g["expires_at"]]).fetchall()
                count("assignment", "added" if added else "unchanged")
            sub_ids: dict[str, int] = {}
            for s in bundle.get("submission", []):
                row = first(con.execute("SELECT id FROM annotation_submissions WHERE uid = ?", [s["uid"]]))
                if row is None:
                    row = first(con.execute(
                        "INSERT INTO annotation_submissions (uid, task_id, annotator_id, dimension, ranking, outcome, note, "
                        "seconds, display_order, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        [s["uid"], task_id(s["task"]), person(s["annotator"]), s["dimension"],
                         None if s.get("ranking") is None else dumps(s["ranking"]), s.get("outcome"), s.get("note") or "",
                         s.get("seconds"), dumps(s["display_order"]), s["submitted_at"]]))
                    count("submission", "added")
                else:
                    count("submission", "unchanged")
                sub_ids[s["uid"]] = int(row[0])

            def submission_id(uid: str | None) -> int | None:
                if uid is None:
                    return None
                if uid not in sub_ids:
                    row = first(con.execute("SELECT id FROM annotation_submissions WHERE uid = ?", [uid]))
                    if row is None:
                        raise InputError(f"a record refers to submission {uid}, which is neither in the file nor in the store")
                    sub_ids[uid] = int(row[0])
                return sub_ids[uid]

            for r in bundle.get("review", []):
                added = con.execute(
                    "INSERT INTO annotation_reviews (uid, submission_id, reviewer_id, verdict, reason, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
                    [r["uid"], submission_id(r["submission"]), person(r["reviewer"]), r["verdict"], r.get("reason") or "",
                     r["created_at"]]).fetchall()
                count("review", "added" if added else "unchanged")
            for a in bundle.get("audit", []):
                added = con.execute(
                    "INSERT INTO annotation_audits (uid, task_id, submission_id, auditor_id, decision, reason, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
                    [a["uid"], task_id(a["task"]), submission_id(a.get("submission")), person(a["auditor"]), a["decision"],
                     a.get("reason") or "", a["created_at"]]).fetchall()
                count("audit", "added" if added else "unchanged")
            for v in bundle.get("view", []):
                before = first(con.execute("SELECT count(*) FROM annotation_label_views"))[0]
                _record_view(con, task_id(v["task"]), person(v["annotator"]), v["role"], v["seen_at"])
                after = first(con.execute("SELECT count(*) FROM annotation_label_views"))[0]
                count("view", "added" if after > before else "unchanged")
            pairwise = [{**{k: v for k, v in p.items() if k != "submission"},
                         "submission_id": submission_id(p.get("submission"))} for p in bundle.get("pairwise", [])]
            report["pairwise"] = _upsert(con, "human_pairwise", pairwise, PAIRWISE_COLUMNS)
            report["pointwise"] = _upsert(con, "human_pointwise", bundle.get("pointwise", []), POINTWISE_COLUMNS)
        return report


def _upsert_source(con, s: dict[str, Any], now: datetime) -> None:
    if not s.get("id"):
        raise InputError("a judgment source needs an id")
    con.execute(
        "INSERT INTO human_sources (id, format, path, file_sha256, mapping, scale_min, scale_max, citation, licence, "
        "imported_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "format = excluded.format, path = excluded.path, file_sha256 = excluded.file_sha256, mapping = excluded.mapping, "
        "scale_min = excluded.scale_min, scale_max = excluded.scale_max, citation = excluded.citation, "
        "licence = excluded.licence, updated_at = excluded.updated_at",
        [s["id"], s["format"], s.get("path"), s.get("file_sha256"), dumps(s.get("mapping") or {}), s.get("scale_min"),
         s.get("scale_max"), s.get("citation") or "", s.get("licence") or "", s.get("imported_at") or now,
         s.get("updated_at") or now],
    )
