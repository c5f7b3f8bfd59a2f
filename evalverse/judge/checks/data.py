"""`judge/checks.yaml` loaded and validated, and the checks it defines answered from evidence.

Validation at load, against the measure catalogue and the registry (DataError naming the check and the
measure): every measure a check names exists in the catalogue, its unit equals the catalogue's, it is a
whole-clip measure of a kind the comparison fits, thresholds lie in the measure's valid range, per-backend
thresholds name backends the operator has, every number has its `why` (every precondition/exemption its
`reason`), and every code check in `code:` is a registered CodeCheck with exactly the params it declares
(numbers with units; a param compared with a measure in that measure's unit). `Checks.check_against(taxonomy)`
adds: every `check` the taxonomy names is a data check, a code check with its entry, or listed under
`unimplemented` with its reason (a registered code check without an entry does not answer).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalverse.errors import DataError
from evalverse.judge.checks.base import (CheckView, CodeCheck, NotAnswerable, NotMeasured, Params, fmt, seconds,
                                         with_unit)
from evalverse.judge.checks.spec import ChecksFile, CodeEntry, Comparison, Coverage, DataCheck
from evalverse.judge.datafile import load_cached, parse_spec, refuse

CHECKS_PATH = Path(__file__).resolve().parents[1] / "checks.yaml"
WHAT = "judge checks"


@dataclass(frozen=True)
class Checks:
    """The validated checks file. `version`: hash of its canonical content (run provenance, cache key)."""

    data: dict[str, DataCheck]
    code: dict[str, CodeEntry]
    unimplemented: dict[str, str]
    coverage: Coverage
    version: str
    path: Path

    def names(self) -> set[str]:
        return set(self.data) | set(self.code) | set(self.unimplemented)

    def params(self, name: str) -> Params:
        entry = self.code[name]
        return Params({k: p.value for k, p in entry.params.items()}, {k: p.unit for k, p in entry.params.items()})

    def check_against(self, taxonomy: Any) -> None:
        """DataError listing the taxonomy's check names that resolve to nothing here."""
        named = {q.check for d in taxonomy.dimensions for s in d.sub_dimensions for q in s.questions if q.check}
        missing = sorted(named - self.names())
        if missing:
            raise DataError(f"taxonomy {getattr(taxonomy, 'version', '')} names checks that {self.path} neither defines, "
                            f"nor implements in code, nor lists as unimplemented with a reason: {', '.join(missing)}")


def load_checks(path: str | Path | None = None) -> Checks:
    """The checks file at `path` (default: the packaged `judge/checks.yaml`), validated."""
    return load_cached(path or CHECKS_PATH, WHAT, _build)


def _build(raw: dict[str, Any], version: str, path: Path) -> Checks:
    spec = parse_spec(ChecksFile, raw, path, WHAT)
    refuse(path, WHAT, validate(spec))
    return Checks(dict(spec.checks), dict(spec.code), dict(spec.unimplemented), spec.coverage, version, path)


def validate(spec: ChecksFile) -> list[str]:
    from evalverse.judge.checks import code_checks
    from evalverse.operators.catalogue import load_catalogue

    catalogue = load_catalogue()
    problems: list[str] = []
    sections = {"checks": set(spec.checks), "code": set(spec.code), "unimplemented": set(spec.unimplemented)}
    names = list(sections)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for cid in sorted(sections[a] & sections[b]):
                problems.append(f"check {cid} is in both `{a}` and `{b}`")
    for cid, check in spec.checks.items():
        problems += [f"check {cid}: {p}" for p in _check_problems(check, catalogue)]
    registered = code_checks()
    for cid, entry in spec.code.items():
        cls = registered.get(cid)
        if cls is None:
            problems.append(f"check {cid} is listed under `code:` but no CodeCheck named {cid!r} is registered")
            continue
        problems += [f"check {cid}: {p}" for p in _code_problems(cls, entry, catalogue)]
    for cid, reason in spec.unimplemented.items():
        if not str(reason).strip():
            problems.append(f"check {cid}: an unimplemented check needs its reason")
    return problems


def _check_problems(check: DataCheck, catalogue: Any) -> list[str]:
    out: list[str] = []
    for role, items in (("requires", check.requires), ("passes_if", check.passes_if), ("test", check.tests)):
        for c in items:
            out += _comparison_problems(c, role, catalogue)
    for mid in check.cite:
        if mid not in catalogue:
            out.append(f"cites unknown measure {mid}")
    for where in check.where:
        out += _where_problems(where)
    return out


def _comparison_problems(c: Comparison, role: str, catalogue: Any) -> list[str]:
    if c.measure not in catalogue:
        return [f"names unknown measure {c.measure} (not in the measure catalogue)"]
    m = catalogue.get(c.measure)
    out = []
    if c.unit != m.unit:
        out.append(f"measure {c.measure}: unit {c.unit!r} differs from the catalogue's {m.unit!r}")
    if role == "test" and not (c.why or "").strip():
        out.append(f"measure {c.measure}: the threshold has no `why` (its source or reasoning)")
    if role != "test" and not (c.reason or "").strip():
        out.append(f"measure {c.measure}: a {role} entry needs a `reason` (what the basis says)")
    if m.scope != "clip":
        out.append(f"measure {c.measure} is per shot: a data check compares whole-clip measures (use a code check)")
    if c.compare == "measured":
        return out
    boolean = c.compare in ("is_true", "is_false")
    if m.kind == "bool" and not boolean:
        out.append(f"measure {c.measure} is yes/no: compare with is_true or is_false")
    if m.kind in ("number", "integer") and boolean:
        out.append(f"measure {c.measure} is a number: compare it with a threshold")
    if m.kind == "category":
        out.append(f"measure {c.measure} is a category: a data check cannot compare it (use a code check)")
    for t in c.thresholds():
        if not m.in_range(t):
            out.append(f"measure {c.measure}: threshold {fmt(t)} is outside its valid range {list(m.range)}")
    if isinstance(c.threshold, dict):
        out += _backend_problems(c, m.operator)
    return out


def _backend_problems(c: Comparison, operator: str) -> list[str]:
    from evalverse.registry import REGISTRY

    try:
        backends = {b.name for b in REGISTRY.get("operator", operator).backends}
    except KeyError:
        return [f"measure {c.measure}: per-backend thresholds need an operator with backends, not {operator}"]
    unknown = sorted(set(c.threshold) - backends)  # type: ignore[arg-type]
    missing = sorted(backends - set(c.threshold))  # type: ignore[arg-type]
    out = [f"measure {c.measure}: thresholds for backends {operator} does not have: {unknown}"] if unknown else []
    if missing:
        out.append(f"measure {c.measure}: no threshold for {operator}'s backend(s) {missing}")
    return out


def _where_problems(where: str) -> list[str]:
    """`where` names a list of times, or of rows with a `time` or `start`, in an operator's results model."""
    from evalverse.operators.base import results_model
    from evalverse.operators.results import _list_item, _model_class, _unwrap
    from pydantic import BaseModel

    op, _, path = where.partition(".")
    try:
        model: Any = results_model(op)
    except KeyError:
        return [f"where: {where}: no operator {op!r}"]
    if model is None:
        return [f"where: {where}: {op} has no results model"]
    item: Any = None
    for part in path.split("."):
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return [f"where: {where}: {getattr(model, '__name__', model)} has no field {part!r}"]
        item = _list_item(field.annotation)
        model = _model_class(item, BaseModel) if item is not None else _unwrap(field.annotation)
    rows = isinstance(model, type) and issubclass(model, BaseModel) and bool({"time", "start"} & set(model.model_fields))
    if not (rows or _unwrap(item) is float):
        return [f"where: {where} is not a list of times or of rows with a time or start"]
    return []


def _code_problems(cls: type[CodeCheck], entry: CodeEntry, catalogue: Any) -> list[str]:
    from evalverse.operators.catalogue import METADATA, measure_sources

    out = []
    declared, given = set(cls.param_names), set(entry.params)
    if declared - given:
        out.append(f"params {sorted(declared - given)} are missing (the code reads them)")
    if given - declared:
        out.append(f"params {sorted(given - declared)} are not read by the code")
    for name, p in entry.params.items():
        if isinstance(p.value, (int, float)) and not isinstance(p.value, bool) and not p.unit:
            out.append(f"param {name}: a number needs its unit")
        if p.measure is not None:
            if p.measure not in catalogue:
                out.append(f"param {name} names unknown measure {p.measure}")
            elif p.unit != catalogue.get(p.measure).unit:
                out.append(f"param {name}: unit {p.unit!r} differs from the catalogue's {catalogue.get(p.measure).unit!r} "
                           f"for {p.measure}")
    sources = set(measure_sources()) | {METADATA}
    for read in cls.reads:
        if read not in catalogue and read not in sources:
            out.append(f"reads {read}, which is neither a catalogue measure nor an operator")
    return out


# ---- answering a data check ------------------------------------------------------------------------

def answer(check: DataCheck, view: CheckView) -> tuple[bool, str]:
    """(yes/no, basis) for a data check; NotAnswerable when a precondition fails or a value is missing."""
    for c in check.requires:
        try:
            value = view.value(c.measure)
        except NotMeasured as exc:  # (an operator that did not run says so itself)
            raise NotAnswerable(f"{c.reason} ({exc})") from None
        if c.compare != "measured" and not holds(c, value, view):
            raise NotAnswerable(f"{c.reason} ({c.measure} = {with_unit(value, c.unit)})")
    for c in check.passes_if:
        value = view.value(c.measure)
        if holds(c, value, view):
            return True, f"{c.reason} ({c.measure} = {with_unit(value, c.unit)})" + _cited(check, view)
    parts, results = [], []
    for c in check.tests:
        value = view.value(c.measure)
        ok = holds(c, value, view)
        results.append(ok)
        parts.append(describe(c, value, view))
    ok = all(results) if check.all else any(results)
    head = "; ".join(parts) if len(parts) == 1 or check.all else "either suffices: " + "; ".join(parts)
    return ok, head + _where(check, view) + _cited(check, view)


def threshold_for(c: Comparison, view: CheckView) -> Any:
    if not isinstance(c.threshold, dict):
        return c.threshold
    op = _operator_of(c)
    backend = view.backend(op)
    if backend not in c.threshold:
        raise NotAnswerable(f"no threshold for {op}'s backend {backend!r} ({c.measure})")
    return c.threshold[backend]


def holds(c: Comparison, value: Any, view: CheckView) -> bool:
    if c.compare == "is_true":
        return value is True
    if c.compare == "is_false":
        return value is False
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NotAnswerable(f"{c.measure} is not a number")
    t = threshold_for(c, view)
    return {">=": lambda: value >= t, "<=": lambda: value <= t, ">": lambda: value > t, "<": lambda: value < t,
            "between": lambda: t[0] <= value <= t[1]}[c.compare]()


WORDS = {">=": "minimum", "<=": "maximum", ">": "must exceed", "<": "must stay below"}


def describe(c: Comparison, value: Any, view: CheckView) -> str:
    if c.compare in ("is_true", "is_false"):
        return f"{c.measure}: {fmt(value)} (wanted: {'yes' if c.compare == 'is_true' else 'no'})"
    t = threshold_for(c, view)
    backend = f" for the {view.backend(_operator_of(c))} backend" if isinstance(c.threshold, dict) else ""
    if c.compare == "between":
        return f"{c.measure} {with_unit(value, c.unit)} vs band {fmt(t[0])} to {fmt(t[1])}{backend}"
    return f"{c.measure} {with_unit(value, c.unit)} vs {WORDS[c.compare]} {fmt(t)}{backend}"


def _operator_of(c: Comparison) -> str:
    from evalverse.operators.catalogue import load_catalogue

    return load_catalogue().get(c.measure).operator


def _cited(check: DataCheck, view: CheckView) -> str:
    out = []
    for mid in check.cite:
        try:
            out.append(view.cite(mid))
        except NotAnswerable:  # a number that was not measured is simply not quoted
            continue
    return f" ({'; '.join(out)})" if out else ""


def _where(check: DataCheck, view: CheckView) -> str:
    times: list[float] = []
    for where in check.where:
        op, _, path = where.partition(".")
        node: Any = view.typed(op)
        for part in path.split("."):
            node = getattr(node, part, None) if node is not None else None
        for row in node or []:
            t = row if isinstance(row, (int, float)) else getattr(row, "time", None)
            t = getattr(row, "start", None) if t is None else t
            if isinstance(t, (int, float)) and not isinstance(t, bool):
                times.append(float(t))
    times.sort()
    if not times:
        return ""
    return f" at {', '.join(seconds(t) for t in times[:5])}" + (f" and {len(times) - 5} more" if len(times) > 5 else "")
