"""`judge/gating.yaml` loaded and validated: presence and motion minimums, reflection thresholds and the
context vocabulary, each number with its unit and reason.

A threshold that names a measure must name one the catalogue knows, in the catalogue's unit (DataError
naming the entry and the measure otherwise). `version` is a hash of the canonical content.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from evalverse.judge.datafile import load_cached, parse_spec, refuse

GATING_PATH = Path(__file__).with_name("gating.yaml")
WHAT = "judge gating"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Strict):
    measure: str | None = None
    value: float
    unit: str
    why: str = Field(min_length=1)


class Presence(_Strict):
    speech: Threshold
    face: Threshold
    person: Threshold
    music: Threshold


class Motion(_Strict):
    frames: Threshold
    duration: Threshold


class Reflection(_Strict):
    face_share_seen: Threshold
    voice_heard: Threshold
    voice_scarce: Threshold
    voice_clear: Threshold
    picture_changed: Threshold
    high_score: Threshold


class Theme(_Strict):
    context: tuple[StrictStr, ...] = Field(min_length=1)  # whole words in a node's context that name the theme
    prompt: tuple[StrictStr, ...] = Field(min_length=1)  # word prefixes in the prompt that call for it


class Context(_Strict):
    generic_themes: tuple[StrictStr, ...]
    shared_word_letters: int = Field(ge=1)
    why: str = Field(min_length=1)
    themes: dict[str, Theme]


class GatingFile(_Strict):
    version: int
    presence: Presence
    motion: Motion
    reflection: Reflection
    context: Context


@dataclass(frozen=True)
class Gating:
    presence: Presence
    motion: Motion
    reflection: Reflection
    context: Context
    version: str
    path: Path


def load_gating(path: str | Path | None = None) -> Gating:
    """The gating file at `path` (default: the packaged `judge/gating.yaml`), validated."""
    return load_cached(path or GATING_PATH, WHAT, _build)


def _build(raw: dict[str, Any], version: str, path: Path) -> Gating:
    spec = parse_spec(GatingFile, raw, path, WHAT)
    refuse(path, WHAT, _problems(spec))
    return Gating(spec.presence, spec.motion, spec.reflection, spec.context, version, path)


def _problems(spec: GatingFile) -> list[str]:
    from evalverse.operators.catalogue import load_catalogue

    catalogue = load_catalogue()
    out: list[str] = []
    for section in ("presence", "motion", "reflection"):
        for name, t in getattr(spec, section):
            if t.measure is None:
                continue
            if t.measure not in catalogue:
                out.append(f"{section}.{name} names unknown measure {t.measure} (not in the measure catalogue)")
                continue
            m = catalogue.get(t.measure)
            if t.unit != m.unit:
                out.append(f"{section}.{name}: measure {t.measure}: unit {t.unit!r} differs from the catalogue's {m.unit!r}")
            if not m.in_range(t.value):
                out.append(f"{section}.{name}: value {t.value} is outside {t.measure}'s valid range {list(m.range)}")
    unknown = [t for t in spec.context.generic_themes if t not in spec.context.themes]
    if unknown:
        out.append(f"context.generic_themes names themes that are not defined: {unknown}")
    return out
