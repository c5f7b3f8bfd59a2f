"""Calibration specs (`specs.yaml`): per dimension, the human target, the features, the models, the CV scheme.

`load_spec(dimension)` validates the file's entry against the measure catalogue and the taxonomy and raises
DataError listing every problem (see evalverse.judge.calibration_features.spec_problems).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evalverse.errors import DataError, InputError
from evalverse.judge.calibration_features import FeatureSpec, spec_problems

SPECS_PATH = Path(__file__).with_name("specs.yaml")
Family = Literal["ridge", "bradley_terry", "ridge_signed", "bradley_terry_signed", "mlp", "mlp_pairs"]
FIGURES = ("clip_srcc", "clip_plcc", "within_prompt_accuracy", "within_source_srcc", "source_srcc")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AxisTarget(_Strict):
    sub_dimension: str | None = None


class HumanSpec(_Strict):
    source: str
    axes: dict[str, AxisTarget] = Field(min_length=1)
    scale: tuple[float, float]

    @property
    def default_axis(self) -> str:
        return next(iter(self.axes))


Selectable = Literal["clip_srcc", "clip_plcc", "within_prompt_accuracy", "within_source_srcc"]


class PairsSpec(_Strict):
    """Which human pairs the Bradley-Terry families learn from: clips of one prompt, and/or of one source."""
    within: tuple[Literal["prompt", "source"], ...] = Field(("prompt",), min_length=1)
    reason: str = ""


class AnchorSpec(_Strict):
    """Known-order anchors: each rated clip re-encoded with x264 at rising CRF (constant rate factor, 0-51),
    every copy known to be worse than the clip and than every copy of a lower CRF. No human rates them; they
    teach the Bradley-Terry families that heavier compression is never better, on training prompts' clips only."""
    x264_crf: tuple[int, ...] = Field(min_length=1)
    sources: tuple[str, ...] | None = None  # the rated clips' sources to degrade; None = every rated clip
    reason: str = ""

    @model_validator(mode="after")
    def _rising(self) -> "AnchorSpec":
        crf = self.x264_crf
        if any(not 0 <= c <= 51 for c in crf) or list(crf) != sorted(set(crf)):
            raise ValueError(f"x264_crf must rise strictly within 0-51, got {list(crf)}")
        return self


class CVSpec(_Strict):
    folds: int = Field(5, ge=2)
    repeats: int = Field(1, ge=1)
    inner_folds: int = Field(5, ge=2)
    # one figure, or several averaged (each in [-1, 1] or [0, 1]; a mean keeps every one of them in the choice)
    select_by: Selectable | tuple[Selectable, ...] = "clip_srcc"
    bootstrap: int = Field(1000, ge=10)
    seed: int = 0


class ShipRule(_Strict):
    within_source_srcc_ci_low_above: float | None = None
    within_prompt_accuracy_ci_low_above: float | None = None
    beats_uncalibrated_judge_on: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _known(self) -> "ShipRule":
        unknown = [f for f in self.beats_uncalibrated_judge_on if f not in FIGURES]
        if unknown:
            raise ValueError(f"unknown figure(s) {unknown}; known: {list(FIGURES)}")
        return self


class CalibrationSpec(_Strict):
    dimension: str
    human: HumanSpec
    judge: str | None = None
    features: tuple[FeatureSpec, ...] = Field(min_length=1)
    models: tuple[Family, ...] = ("ridge",)  # the families the calibration is chosen among
    compare: tuple[Family, ...] = ()  # families cross-validated beside them for the report only, never chosen
    pairs: PairsSpec = PairsSpec()
    anchors: AnchorSpec | None = None
    cv: CVSpec = CVSpec()
    ship_when: ShipRule = ShipRule()

    @model_validator(mode="after")
    def _apart(self) -> "CalibrationSpec":
        both = sorted(set(self.models) & set(self.compare))
        if both:
            raise ValueError(f"{both} in both models and compare: a family is either chosen among or only reported")
        return self

    @property
    def families(self) -> tuple[str, ...]:
        """Every family cross-validated: the eligible ones, then those only compared."""
        return (*self.models, *self.compare)

    @property
    def operators(self) -> list[str]:
        """The operators whose measures the features read (shots always runs: others rely on it)."""
        ops = {f.source.split(".", 1)[0] for f in self.features if not f.is_judge}
        return ["shots", *sorted(ops - {"shots"})]

    @property
    def uses_judge(self) -> bool:
        return any(f.is_judge for f in self.features)

    def directions(self, catalogue: Any) -> list[str]:
        """Each feature's direction: its measure's in the catalogue; the judge's outputs (score, answers with
        polarity applied, sub-scores) are higher_is_better by construction."""
        return ["higher_is_better" if f.is_judge else catalogue.get(f.source).direction for f in self.features]

    def with_features(self, features: list[FeatureSpec]) -> "CalibrationSpec":
        return self.model_copy(update={"features": tuple(features)})


def load_specs(path: str | Path | None = None) -> dict[str, CalibrationSpec]:
    return dict(_load(str(path or SPECS_PATH)))


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[tuple[str, CalibrationSpec], ...]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read calibration specs {path}: {exc}") from exc
    entries = raw.get("calibrations")
    if not isinstance(entries, dict) or not entries:
        raise DataError(f"calibration specs {path}: expected a `calibrations:` mapping of dimension -> spec")
    out = []
    for key, entry in entries.items():
        try:
            spec = CalibrationSpec.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise DataError(f"calibration spec {key!r} in {path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        if spec.dimension != key:
            raise DataError(f"calibration spec {key!r} in {path} names dimension {spec.dimension!r}; use one key per dimension")
        out.append((key, spec))
    return tuple(out)


def validate_spec(spec: CalibrationSpec, catalogue: Any = None, taxonomy: Any = None) -> CalibrationSpec:
    """The spec, or DataError naming every feature the catalogue or taxonomy does not support."""
    from evalverse.operators.catalogue import load_catalogue
    from evalverse.taxonomy import load_taxonomy

    tax = taxonomy or load_taxonomy()
    problems = spec_problems(list(spec.features), catalogue or load_catalogue(), tax, spec.dimension)
    try:
        dim = tax.dimension(spec.dimension)
        subs = {s.id for s in dim.sub_dimensions}
        problems += [f"axis {a}: sub-dimension {t.sub_dimension!r} is not in {spec.dimension}"
                     for a, t in spec.human.axes.items() if t.sub_dimension and t.sub_dimension not in subs]
    except KeyError:
        pass  # spec_problems said so
    if spec.uses_judge and spec.judge is None:
        problems.append("judge.* features need `judge:` (the backend whose outputs they read)")
    if problems:
        raise DataError(f"calibration spec for {spec.dimension} does not fit the catalogue/taxonomy:\n  - "
                        + "\n  - ".join(problems))
    return spec


def load_spec(dimension: str, path: str | Path | None = None, catalogue: Any = None, taxonomy: Any = None) -> CalibrationSpec:
    specs = load_specs(path)
    if dimension not in specs:
        raise InputError(f"no calibration spec for dimension {dimension!r}; specs exist for: {', '.join(specs)} "
                         f"(add one to {path or SPECS_PATH})")
    return validate_spec(specs[dimension], catalogue, taxonomy)
