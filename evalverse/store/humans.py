"""Human judgments: side-by-side (pairwise) and single-clip (pointwise) ratings, each with a QA status;
readers see only judgments that passed QA unless they ask for all."""
from __future__ import annotations

from typing import Literal

import pandas as pd

from evalverse.errors import InputError
from evalverse.store.base import Repository, utc_now

QaStatus = Literal["pass", "fail", "pending"]
_QA = ("pass", "fail", "pending")
_WINNERS = ("a", "b", "tie", "both_bad")  # both_bad: migration 0005


def _check_qa(status: str) -> None:
    if status not in _QA:
        raise InputError(f"QA status must be one of {_QA}, not {status!r}")


class HumansRepository(Repository):
    TABLES = ("human_pairwise", "human_pointwise")

    def add_pairwise(
        self,
        dimension: str,
        model_a: str,
        model_b: str,
        winner: str,
        annotator: str,
        *,
        qa_status: QaStatus = "pending",
        test_case_id: int | None = None,
        video_a: str | None = None,
        video_b: str | None = None,
    ) -> int:
        """One side-by-side judgment: `winner` is 'a', 'b', 'tie' or 'both_bad'. Returns its id."""
        if winner not in _WINNERS:
            raise InputError(f"winner must be one of {_WINNERS}, not {winner!r}")
        _check_qa(qa_status)
        if model_a == model_b:
            raise InputError(f"a pairwise judgment needs two different models; got {model_a!r} twice")
        with self._write() as con:
            row = con.execute(
                "INSERT INTO human_pairwise (test_case_id, dimension, model_a, model_b, video_a, video_b, winner, "
                "annotator, qa_status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [test_case_id, dimension, model_a, model_b, video_a, video_b, winner, annotator, qa_status, utc_now()],
            ).fetchone()
        return int(row[0])

    def add_pointwise(
        self,
        dimension: str,
        model: str,
        score: float,
        annotator: str,
        *,
        qa_status: QaStatus = "pending",
        test_case_id: int | None = None,
        video_hash: str | None = None,
    ) -> int:
        _check_qa(qa_status)
        try:
            value = float(score)
        except (TypeError, ValueError):
            raise InputError(f"a pointwise score must be a number, not {score!r}") from None
        if value != value:
            raise InputError("a pointwise score must be a number, not NaN")
        with self._write() as con:
            row = con.execute(
                "INSERT INTO human_pointwise (test_case_id, dimension, model, video_hash, score, annotator, qa_status, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [test_case_id, dimension, model, video_hash, value, annotator, qa_status, utc_now()],
            ).fetchone()
        return int(row[0])

    def set_qa_status(self, kind: Literal["pairwise", "pointwise"], judgment_id: int, status: QaStatus) -> None:
        _check_qa(status)
        table = {"pairwise": "human_pairwise", "pointwise": "human_pointwise"}.get(kind)
        if table is None:
            raise InputError(f"kind must be 'pairwise' or 'pointwise', not {kind!r}")
        with self._write() as con:  # table name comes from the fixed mapping above, never from input
            if not con.execute(f"UPDATE {table} SET qa_status = ? WHERE id = ? RETURNING id", [status, judgment_id]).fetchall():
                raise InputError(f"no {kind} judgment with id {judgment_id}")

    def pairwise_judgments(self, dimension: str | None = None, qa_status: QaStatus | None = "pass") -> pd.DataFrame:
        """Pairwise judgments (by default only those that passed QA), oldest first."""
        return self._frame(
            "SELECT id, test_case_id, dimension, model_a, model_b, video_a, video_b, winner, annotator, qa_status "
            "FROM human_pairwise WHERE (? IS NULL OR dimension = ?) AND (? IS NULL OR qa_status = ?) ORDER BY id",
            [dimension, dimension, qa_status, qa_status],
        )

    def pointwise_judgments(self, dimension: str | None = None, qa_status: QaStatus | None = "pass") -> pd.DataFrame:
        return self._frame(
            "SELECT id, test_case_id, dimension, model, video_hash, score, annotator, qa_status "
            "FROM human_pointwise WHERE (? IS NULL OR dimension = ?) AND (? IS NULL OR qa_status = ?) ORDER BY id",
            [dimension, dimension, qa_status, qa_status],
        )
