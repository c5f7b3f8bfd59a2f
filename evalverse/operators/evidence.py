"""One clip's evidence: the operators' records plus the probe's metadata, read through the measure catalogue.

`Evidence` is a dict of operator name -> EvidenceRecord (the pipeline fills it as operators finish) with the
accessors every reader uses, so none re-implements "is it usable", "where is that number" or "which shots":

- `evidence.typed("faces")`: the faces results model, or None when faces did not run or failed;
- `evidence.value("quality.exposure.clipped_shadows")` / `evidence.value("metadata.fps")`: one measure by
  its catalogue id (KeyError for an id the catalogue does not know: a typo fails loudly, never as "unknown");
- `evidence.shots()`: the clip's shot list, whose one source is the `shots` operator's record.
"""
from __future__ import annotations

from typing import Any, Iterable

from evalverse.media.types import Shot, VideoMeta
from evalverse.operators.base import EvidenceRecord
from evalverse.operators.results import Results, resolve


class Evidence(dict):
    """{operator name: EvidenceRecord} for one clip, with typed accessors. `meta`: the probe's VideoMeta."""

    def __init__(self, records: dict[str, EvidenceRecord] | Iterable[tuple[str, EvidenceRecord]] = (),
                 meta: VideoMeta | None = None) -> None:
        super().__init__(records)
        self.meta = meta

    def record(self, operator: str) -> EvidenceRecord | None:
        return self.get(operator)

    def status(self, operator: str) -> str | None:
        rec = self.get(operator)
        return None if rec is None else rec.status

    def usable(self, operator: str) -> bool:
        rec = self.get(operator)
        return rec is not None and rec.usable

    def typed(self, operator: str) -> Results | None:
        rec = self.get(operator)
        return None if rec is None else rec.typed()

    def value(self, measure_id: str) -> Any:
        """A measure by catalogue id; None when its operator did not run usefully or did not measure it."""
        from evalverse.operators.catalogue import METADATA, load_catalogue

        measure = load_catalogue().get(measure_id)
        if measure.operator == METADATA:
            return None if self.meta is None else resolve(self.meta, measure.measure)
        typed = self.typed(measure.operator)
        return None if typed is None else resolve(typed, measure.measure)

    def shots(self) -> list[Shot]:
        """The clip's shots from the `shots` operator ([] until it has run, or when it failed)."""
        typed = self.typed("shots")
        if typed is None:
            return []
        return [Shot(index=s.index, start=s.start, end=s.end, start_frame=s.start_frame, end_frame=s.end_frame,
                     transition=s.transition, keyframe=s.keyframe) for s in typed.shots]  # type: ignore[attr-defined]
