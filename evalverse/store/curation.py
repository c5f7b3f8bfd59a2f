"""Suite-builder verification (migration 0007): people's corrections of annotated fields and attributes.

`CurationRepository` is a mixin of `Store`. A correction names the clip by content hash (so it follows the
file wherever it is annotated again), the shot (or none for the whole clip), the field, the value the person
saw and the value they gave, who and when. Nothing is updated in place: the newest correction of a field
wins when the annotation is read (`evalverse.curation.records.view`), the older ones are its history.
"""
from __future__ import annotations

from typing import Any, Iterable

from evalverse.errors import InputError
from evalverse.store.base import Repository, utc_now
from evalverse.store.serialise import dumps, loads

CORRECTION_COLUMNS = ("clip_sha256", "clip", "shot", "field", "old_value", "new_value", "who", "corrected_at",
                      "source", "note")


class CurationRepository(Repository):
    TABLES = ("curation_corrections",)

    def add_field_corrections(self, corrections: Iterable[dict[str, Any]]) -> int:
        """Store corrections in one transaction (all or none); each needs clip_sha256, clip, field, new_value and
        who (shot, old_value, corrected_at (default now), source, note optional). Returns how many."""
        rows = []
        now = utc_now()
        for c in corrections:
            missing = [k for k in ("clip_sha256", "clip", "field", "who") if not str(c.get(k) or "").strip()]
            if missing or "new_value" not in c:
                raise InputError(f"a correction needs {', '.join(missing or ['new_value'])}")
            rows.append([c["clip_sha256"], c["clip"], None if c.get("shot") is None else int(c["shot"]), c["field"],
                         dumps(c.get("old_value")), dumps(c["new_value"]), c["who"].strip(),
                         c.get("corrected_at") or now, c.get("source", ""), c.get("note", "")])
        if not rows:
            return 0
        with self._write() as con:
            con.executemany(
                "INSERT INTO curation_corrections (clip_sha256, clip, shot, field, old_value, new_value, who, "
                "corrected_at, source, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def field_corrections(self, clip_sha256s: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Every correction (of these clips), oldest first, values decoded from JSON."""
        sql = f"SELECT id, {', '.join(CORRECTION_COLUMNS)} FROM curation_corrections"
        params: list[Any] = []
        if clip_sha256s is not None:
            wanted = sorted(set(clip_sha256s))
            if not wanted:
                return []
            sql += f" WHERE clip_sha256 IN ({', '.join('?' for _ in wanted)})"
            params = wanted
        rows = self._rows(sql + " ORDER BY corrected_at, id", params)
        for r in rows:
            r["old_value"], r["new_value"] = loads(r["old_value"]), loads(r["new_value"])
        return rows
