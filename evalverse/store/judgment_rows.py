"""Rows of the human-judgment tables: their columns and the bulk insert that imports and the annotation
workflow share (no repository; used inside their transactions)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pandas as pd


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_uid() -> str:
    return uuid.uuid4().hex


PAIRWISE_COLUMNS = (
    "test_case_id", "dimension", "model_a", "model_b", "video_a", "video_b", "winner", "annotator", "qa_status",
    "created_at", "uid", "source", "suite", "case_key", "sub_dimension", "axis", "submission_id", "left_side",
    "seconds", "note",
)
POINTWISE_COLUMNS = (
    "test_case_id", "dimension", "model", "video_hash", "score", "annotator", "qa_status", "created_at", "uid",
    "source", "suite", "case_key", "sub_dimension", "axis", "video_name", "scale_min", "scale_max", "seconds", "note",
)


_TYPES = {
    "test_case_id": "BIGINT", "submission_id": "BIGINT", "score": "DOUBLE", "scale_min": "DOUBLE",
    "scale_max": "DOUBLE", "seconds": "DOUBLE", "created_at": "TIMESTAMP",
}


def bulk_insert(con, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Insert many judgment rows in one statement (a registered frame; columns cast to the table's types)."""
    if not rows:
        return
    now = _now()
    frame = pd.DataFrame([{**{c: r.get(c) for c in columns}, "uid": r.get("uid") or new_uid(),
                           "qa_status": r.get("qa_status") or "pending", "created_at": r.get("created_at") or now}
                          for r in rows], columns=list(columns)).astype(object)
    frame = frame.where(frame.notna(), None)
    select = ", ".join(f"CAST({c} AS {_TYPES.get(c, 'VARCHAR')})" for c in columns)
    con.register("incoming_rows", frame)
    try:  # table and column names are fixed tuples of this module, never input
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM incoming_rows")
    finally:
        con.unregister("incoming_rows")


def insert_pairwise(con, row: dict[str, Any]) -> None:
    """One pairwise judgment row (a fresh uid, pending QA and now, unless given)."""
    values = {**row, "uid": row.get("uid") or new_uid(), "qa_status": row.get("qa_status") or "pending",
              "created_at": row.get("created_at") or _now()}
    con.execute(
        f"INSERT INTO human_pairwise ({', '.join(PAIRWISE_COLUMNS)}) VALUES ({', '.join('?' * len(PAIRWISE_COLUMNS))})",
        [values.get(c) for c in PAIRWISE_COLUMNS],
    )
