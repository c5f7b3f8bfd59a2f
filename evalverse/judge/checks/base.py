"""What every check reads (CheckView), how it says "cannot answer" (NotAnswerable), and the base of the
checks that need code (CodeCheck, a Component of kind "check" in the one registry).

A check answers yes/no ("yes" = the desirable outcome) with a basis citing the numbers, the threshold and
the unit, or raises NotAnswerable with the reason. It reads evidence only through the view, which goes
through the typed accessors (`Evidence`, the measure catalogue): a measure id the catalogue does not know
raises KeyError (a renamed key fails loudly, never reads as "unknown").
"""
from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Mapping

from evalverse.operators.evidence import Evidence
from evalverse.operators.results import Results
from evalverse.registry import Backend, Component


class NotAnswerable(Exception):
    """The evidence a check needs is missing or does not apply; the message says why."""


class NotMeasured(NotAnswerable):
    """The operator ran but did not measure this value (e.g. too few shots for it)."""


@dataclass
class CheckResult:
    answer: bool | None
    basis: str
    operators: list[str] = field(default_factory=list)


@dataclass
class CheckView:
    """One clip's evidence as checks see it: typed records, metadata, the prompt and the reference.

    `used` collects the operators whose evidence a check read (the result's `evidence_used`)."""

    evidence: Evidence
    prompt: str | None = None
    reference: Path | None = None
    used: list[str] = field(default_factory=list)

    @property
    def meta(self) -> Any:
        return self.evidence.meta

    def typed(self, operator: str) -> Results:
        """The operator's typed results; NotAnswerable (with its status and message) when it did not run usefully."""
        rec = self.evidence.record(operator)
        if rec is None:
            raise NotAnswerable(f"the {operator} operator did not run")
        if not rec.usable:
            raise NotAnswerable(f"{operator} evidence is {rec.status}" + (f" ({rec.message})" if rec.message else ""))
        typed = rec.typed()
        if typed is None:  # TRANSITION: an operator without a results model yet
            raise NotAnswerable(f"{operator} evidence is not typed yet")
        if operator not in self.used:
            self.used.append(operator)
        return typed

    def value(self, measure_id: str) -> Any:
        """A measure by catalogue id; NotAnswerable when its source did not run usefully or did not measure it."""
        from evalverse.operators.catalogue import METADATA, load_catalogue

        measure = load_catalogue().get(measure_id)  # KeyError: an id the catalogue does not know
        if measure.operator == METADATA:
            if self.meta is None:
                raise NotAnswerable("no metadata for this clip")
        else:
            self.typed(measure.operator)
        value = self.evidence.value(measure_id)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            raise NotMeasured(f"{measure_id} was not measured")
        return value

    def number(self, measure_id: str) -> float:
        value = self.value(measure_id)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise NotAnswerable(f"{measure_id} is not a number")
        return float(value)

    def cite(self, measure_id: str) -> str:
        """"<measure id> <value> <catalogue unit>" for a basis (NotAnswerable when not measured)."""
        from evalverse.operators.catalogue import load_catalogue

        return f"{measure_id} {with_unit(self.value(measure_id), load_catalogue().get(measure_id).unit)}"

    def backend(self, operator: str) -> str | None:
        """The backend that produced an operator's evidence (thresholds may depend on it)."""
        rec = self.evidence.record(operator)
        return None if rec is None else rec.backend


class Params(dict):
    """A code check's numbers and word lists from checks.yaml: name -> value, with each one's unit."""

    def __init__(self, values: Mapping[str, Any], units: Mapping[str, str | None]) -> None:
        super().__init__(values)
        self.units = dict(units)


class CodeCheck(Component):
    """A check that needs code. Registered by name (= the check id); its numbers live in checks.yaml
    (`code: <id>: params:`), never in code; `reads` names the measures (catalogue ids) or operators it reads."""

    kind: ClassVar[Literal["check"]] = "check"
    backends: ClassVar[tuple[Backend, ...]] = (Backend("python", weights="none (rules on operator evidence)",
                                                       licence="Apache-2.0"),)
    reads: ClassVar[tuple[str, ...]] = ()
    param_names: ClassVar[tuple[str, ...]] = ()  # the params checks.yaml must give it
    required: ClassVar[tuple[str, ...]] = (*Component.required, "reads")

    @classmethod
    @abstractmethod
    def answer(cls, view: CheckView, params: Params) -> tuple[bool, str]:
        """(yes = desirable, basis); raise NotAnswerable when the evidence cannot answer."""


# ---- shared wording ---------------------------------------------------------------------------------

def fmt(x: Any) -> str:
    """A number as a basis cites it: integers whole, large values without decimals, small ones to 3 digits."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        if x == int(x) and abs(x) < 1e6:
            return str(int(x))
        if abs(x) >= 100:
            return f"{x:.0f}"
        if abs(x) >= 1:
            return f"{x:.2f}"
        return f"{x:.3g}"
    return str(x)


def seconds(t: float) -> str:
    return f"{t:.2f} s"


def with_unit(x: Any, unit: str | None) -> str:
    if unit in (None, "", "bool", "category"):
        return fmt(x)
    return f"{fmt(x)} {unit}"
