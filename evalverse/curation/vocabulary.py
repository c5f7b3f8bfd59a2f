"""The suite builder's vocabulary (`vocabulary.yaml`), validated: attributes and their values, the thresholds
that derive them (each naming a catalogue measure with the catalogue's unit and a reason), the template's
phrases, the words that claim each value, always-unsupported words, colour names and language names.

Its `version` is a content hash (comments and layout aside); it is part of every annotation's provenance.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalverse.judge.datafile import load_cached, parse_spec, refuse
from evalverse.judge.gating_data import Threshold  # the same shape as the gates' thresholds: value, unit, why

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.yaml")
WHAT = "suite-builder vocabulary"
HEX = re.compile(r"^#[0-9a-f]{6}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueSpec(_Strict):
    phrase: str
    claims: tuple[str, ...] = ()

    @field_validator("claims")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"claim pattern {pattern!r} is not a valid regular expression: {exc}") from None
        return value


class AttributeSpec(_Strict):
    description: str = Field(min_length=1)
    open: bool = False  # values beyond the listed ones are allowed (language codes)
    values: dict[str, ValueSpec] = Field(min_length=1)


class VocabularyFile(_Strict):
    version: int
    thresholds: dict[str, Threshold]
    attributes: dict[str, AttributeSpec]
    unsupported: tuple[str, ...] = ()
    colour_names: dict[str, str]
    languages: dict[str, str]


REQUIRED_THRESHOLDS = ("cut_rhythm_fast_s", "cut_rhythm_slow_s", "muted_below", "vivid_from", "warm_below_k",
                       "cool_above_k", "ambience_share", "short_clip_s", "long_clip_s", "near_duplicate_bits")
REQUIRED_ATTRIBUTES = ("shot_size", "camera", "multi_shot", "cut_rhythm", "people", "faces", "sound", "language",
                       "lighting_key", "colour", "colour_temperature", "duration")


def _word(pattern: str) -> re.Pattern:
    return re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class Vocabulary:
    spec: VocabularyFile
    version: str
    path: Path

    def threshold(self, name: str) -> float:
        return self.spec.thresholds[name].value

    @property
    def attributes(self) -> dict[str, AttributeSpec]:
        return self.spec.attributes

    def values(self, attribute: str) -> list[str]:
        return list(self.spec.attributes[attribute].values)

    def phrase(self, attribute: str, value: str) -> str:
        spec = self.spec.attributes[attribute].values.get(value)
        return spec.phrase if spec is not None else ""

    @cached_property
    def claim_patterns(self) -> list[tuple[str, str, re.Pattern]]:
        """(attribute, value, compiled pattern) for every claim word, longest patterns first (so "extreme
        close-up" is read before "close-up")."""
        out = [(a, v, p) for a, spec in self.spec.attributes.items() for v, vs in spec.values.items() for p in vs.claims]
        out.sort(key=lambda t: -len(t[2]))
        return [(a, v, _word(p)) for a, v, p in out]

    @cached_property
    def unsupported_patterns(self) -> list[tuple[str, re.Pattern]]:
        return [(p, _word(p)) for p in self.spec.unsupported]

    @cached_property
    def language_patterns(self) -> list[tuple[str, re.Pattern]]:
        return [(code, _word(re.escape(name))) for code, name in self.spec.languages.items()]

    def language_name(self, code: str | None) -> str | None:
        return None if not code else self.spec.languages.get(code)


def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    return load_cached(path or VOCABULARY_PATH, WHAT, _build)


def _build(raw: dict[str, Any], version: str, path: Path) -> Vocabulary:
    spec = parse_spec(VocabularyFile, raw, path, WHAT)
    refuse(path, WHAT, _problems(spec))
    return Vocabulary(spec, version, path)


def _problems(spec: VocabularyFile) -> list[str]:
    from evalverse.operators.catalogue import load_catalogue

    catalogue = load_catalogue()
    out: list[str] = []
    out += [f"thresholds.{name} is missing" for name in REQUIRED_THRESHOLDS if name not in spec.thresholds]
    out += [f"attributes.{name} is missing" for name in REQUIRED_ATTRIBUTES if name not in spec.attributes]
    for name, t in spec.thresholds.items():
        if t.measure is None:
            continue
        if t.measure not in catalogue:
            out.append(f"thresholds.{name} names unknown measure {t.measure} (not in the measure catalogue)")
            continue
        m = catalogue.get(t.measure)
        if t.unit != m.unit:
            out.append(f"thresholds.{name}: measure {t.measure}: unit {t.unit!r} differs from the catalogue's {m.unit!r}")
        if not m.in_range(t.value):
            out.append(f"thresholds.{name}: value {t.value} is outside {t.measure}'s valid range {list(m.range or ())}")
    for pattern in spec.unsupported:
        try:
            re.compile(pattern)
        except re.error as exc:
            out.append(f"unsupported: {pattern!r} is not a valid regular expression: {exc}")
    out += [f"colour_names.{name}: {value!r} is not a #rrggbb colour" for name, value in spec.colour_names.items()
            if not HEX.match(value)]
    if spec.thresholds.get("cut_rhythm_fast_s") and spec.thresholds.get("cut_rhythm_slow_s") and \
            spec.thresholds["cut_rhythm_fast_s"].value >= spec.thresholds["cut_rhythm_slow_s"].value:
        out.append("thresholds: cut_rhythm_fast_s must be below cut_rhythm_slow_s")
    return out
