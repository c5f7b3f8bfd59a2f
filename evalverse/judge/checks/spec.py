"""The shape of `judge/checks.yaml` (pydantic, unknown keys rejected). Semantics are in `data.py`.

    checks:                       # checks that compare measures with thresholds: no code
      <check id>:
        description: what a "yes" means
        requires:                 # preconditions; one that fails (or whose value is missing) makes the check
                                  # unanswerable, saying `reason`; compare `measured`: the value must exist
          - {measure: shots.n_shots, compare: ">=", threshold: 2, unit: shots, reason: "a single shot: no edit to judge"}
        passes_if:                # exemptions; one that holds answers "yes", saying `reason`
          - {measure: colour.grayscale, compare: is_true, unit: bool, reason: "black and white by design"}
        all: [ <comparison>, ... ]  # every comparison must hold (or `any:` - one suffices)
        cite: [<measure id>, ...]   # further numbers the basis quotes
        where: [<listing>, ...]     # e.g. faces.identity_switches: the basis names the times of its rows
    code:                         # checks that need code (registered CodeCheck components)
      <check id>: {params: {<name>: {value: 12.0, unit: CIELAB chroma, why: "..."}}}
    unimplemented:                # taxonomy checks no evidence can answer yet, with the reason
      <check id>: "reason"

A comparison: {measure, compare (>=, <=, >, <, between, is_true, is_false), threshold (a number, [lo, hi]
for between, or per backend {dinov2: 0.85, classical: 0.75}), unit (the catalogue's unit of the measure),
why (the source or reasoning of the number)}.
"""
from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Compare = Literal[">=", "<=", ">", "<", "between", "is_true", "is_false", "measured"]
Number = float
Band = tuple[float, float]
Threshold = Union[Number, Band, dict[str, Union[Number, Band]], None]
CHECK_ID = r"^[a-z]+\.[a-z0-9_]+$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Comparison(_Strict):
    measure: str
    compare: Compare
    threshold: Threshold = None
    unit: str
    why: str | None = None  # the number's source or reasoning (required in all/any)
    reason: str | None = None  # what the basis says when a precondition fails or an exemption holds

    @model_validator(mode="after")
    def _threshold_fits_compare(self) -> "Comparison":
        t = self.threshold
        if self.compare in ("is_true", "is_false", "measured"):
            if t is not None:
                raise ValueError(f"{self.compare} takes no threshold")
            return self
        if t is None:
            raise ValueError(f"compare {self.compare!r} needs a threshold")
        values = list(t.values()) if isinstance(t, dict) else [t]
        for v in values:
            band = isinstance(v, tuple)
            if band != (self.compare == "between"):
                raise ValueError("`between` takes [lo, hi]; the other comparisons take one number")
            if band and v[0] > v[1]:
                raise ValueError(f"band {list(v)} has its low end above its high end")
        return self

    def thresholds(self) -> list[float]:
        t = self.threshold
        values = list(t.values()) if isinstance(t, dict) else [] if t is None else [t]
        return [x for v in values for x in (v if isinstance(v, tuple) else (v,))]


class DataCheck(_Strict):
    description: str = Field(min_length=1)
    requires: tuple[Comparison, ...] = ()
    passes_if: tuple[Comparison, ...] = ()
    all: tuple[Comparison, ...] = ()
    any: tuple[Comparison, ...] = ()
    cite: tuple[str, ...] = ()
    where: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_rule(self) -> "DataCheck":
        if bool(self.all) == bool(self.any):
            raise ValueError("give exactly one of `all:` or `any:` (a list of comparisons)")
        if any(c.compare == "measured" for c in (*self.passes_if, *self.tests)):
            raise ValueError("`measured` is a precondition only (under `requires:`)")
        return self

    @property
    def tests(self) -> tuple[Comparison, ...]:
        return self.all or self.any


class Param(_Strict):
    value: Any
    unit: str | None = None  # required for numbers
    measure: str | None = None  # the catalogue measure the value is compared with: units must agree
    why: str = Field(min_length=1)


class CodeEntry(_Strict):
    params: dict[str, Param] = {}


class Coverage(_Strict):
    """When the evidence judge may score a dimension: at least `min_answered` answered questions and at
    least `min_share` of the asked ones."""

    min_answered: int = Field(ge=1)
    min_share: float = Field(ge=0, le=1)
    why: str = Field(min_length=1)


class ChecksFile(_Strict):
    version: int
    coverage: Coverage
    checks: dict[str, DataCheck] = {}
    code: dict[str, CodeEntry] = {}
    unimplemented: dict[str, str] = {}

    @field_validator("checks", "code", "unimplemented", mode="before")
    @classmethod
    def _empty(cls, v: Any) -> Any:
        return {} if v is None else v  # an empty section in YAML

    @field_validator("checks", "code", "unimplemented")
    @classmethod
    def _ids(cls, v: dict[str, Any]) -> dict[str, Any]:
        import re

        bad = [k for k in v if not re.match(CHECK_ID, k)]
        if bad:
            raise ValueError(f"check ids must look like <evidence kind>.<name>: {bad}")
        return v
