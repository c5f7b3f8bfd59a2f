"""Test suites as data: a JSONL file, one case a line, validated completely before anything runs.

    {"id": "fetv_21", "prompt": "a fire is burning", "mode": "t2v", "ground_truth": "fetv_21_gt.gif", "tags": ["MSRVTT"]}

Fields: `id` (letters, digits, `_ . -`; unique), `prompt`, `mode` (`t2v` or `r2v`; default t2v), `reference`
(path, required for r2v), `ground_truth` (path to a real clip of the prompt), `tags` (strings; a tag
`dimension:<id>` must name a taxonomy dimension), `source` (optional object: where a built case came from,
e.g. the source file's sha256, the time range used, its licence; kept as given, never needed to run).
Unknown fields are rejected.

An optional first line describes the suite instead of a case:

    {"suite": {"name": "fetv25", "description": "...", "root": "../../shared/media/fetv_rated_gifs"}}

Relative paths of a case resolve against the suite's root: the folder of the suite file, or the header's
`root` (itself relative to the suite file). `root=` (CLI `--root`, env `EVALVERSE_SUITE_ROOT`) overrides
both, so a suite that points at material outside the repository works wherever that material lives.

Every problem (bad JSON, unknown field or mode, duplicate id, missing file, an id that reads as another
case's seed) is listed in one DataError with its line number; nothing is run from a suite with problems.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evalverse.errors import DataError

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")  # used in source names "<suite>:<judge>@<version>"
SEED_SUFFIX = re.compile(r"^(?P<case>.+)-(?P<seed>\d+)$")
MODES = ("t2v", "r2v")
DIMENSION_TAG = "dimension:"
MAX_SHOWN = 50


class CaseSpec(BaseModel):
    """One line of a suite as written (paths still relative)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=120)
    prompt: str = Field(min_length=1)
    mode: str = "t2v"
    reference: str | None = None
    ground_truth: str | None = None
    tags: list[str] = Field(default_factory=list)
    source: dict[str, Any] | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(f"id {value!r} may hold only letters, digits, '_', '.', '-' and must start with a letter or digit")
        return value

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt is blank")
        return value.strip()


class SuiteHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str = ""
    version: str = "1"
    root: str | None = None
    source: str = ""  # where the prompts come from, with its licence

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not NAME_PATTERN.match(value):
            raise ValueError(f"suite name {value!r} must be lower-case letters, digits, '_', '.', '-'")
        return value


@dataclass(frozen=True)
class Case:
    id: str
    prompt: str
    mode: Literal["t2v", "r2v"]
    reference: Path | None = None
    ground_truth: Path | None = None
    tags: tuple[str, ...] = ()
    line: int = 0
    source: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    def as_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "prompt": self.prompt, "mode": self.mode,
               "reference": str(self.reference) if self.reference else None,
               "ground_truth": str(self.ground_truth) if self.ground_truth else None, "tags": list(self.tags)}
        return out | ({"source": self.source} if self.source is not None else {})


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    root: Path
    cases: tuple[Case, ...]
    description: str = ""
    version: str = "1"
    source: str = ""
    sha256: str = ""
    _index: dict[str, Case] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({c.id: c for c in self.cases})

    def case(self, case_id: str) -> Case:
        return self._index[case_id]

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._index

    def __len__(self) -> int:
        return len(self.cases)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.cases]


def split_seed(stem: str, ids: set[str] | dict[str, Any]) -> tuple[str, int] | None:
    """(case id, seed) for a submission file stem: `<id>` is seed 0, `<id>-<n>` seed n; None when no case matches.
    An exact id wins over a seed reading (the suite forbids ids where both readings exist)."""
    if stem in ids:
        return stem, 0
    m = SEED_SUFFIX.match(stem)
    if m and m.group("case") in ids:
        return m.group("case"), int(m.group("seed"))
    return None


def _resolve(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())


def load_suite(path: str | Path, root: str | Path | None = None, dimension_ids: set[str] | None = None) -> Suite:
    """Read and validate a suite; DataError lists every problem (with line numbers) and nothing is returned.
    `dimension_ids` (default: the taxonomy's) checks `dimension:<id>` tags."""
    import hashlib

    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read suite {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"suite {path} is not UTF-8 text: {exc}") from exc
    if dimension_ids is None:
        from evalverse.taxonomy import load_taxonomy

        dimension_ids = {d.id for d in load_taxonomy().dimensions}
    problems: list[str] = []
    header = SuiteHeader()
    specs: list[tuple[int, CaseSpec]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"line {number}: a case must be a JSON object, not {type(obj).__name__}")
            continue
        if "suite" in obj:
            if specs or number != _first_line(text):
                problems.append(f"line {number}: the suite header must be the first line")
            elif set(obj) != {"suite"} or not isinstance(obj["suite"], dict):
                problems.append(f"line {number}: the header line is {{\"suite\": {{...}}}} and nothing else")
            else:
                try:
                    header = SuiteHeader.model_validate(obj["suite"])
                except ValidationError as exc:
                    problems.append(f"line {number}: suite header: {_errors(exc)}")
            continue
        try:
            specs.append((number, CaseSpec.model_validate(obj)))
        except ValidationError as exc:
            problems.append(f"line {number} ({obj.get('id', '?')}): {_errors(exc)}")
    base = Path(root).expanduser() if root else _resolve(path.parent, header.root) or path.parent
    if header.root and not root and not base.is_dir():
        problems.append(f"suite root {base} (header root {header.root!r}) is not a folder; pass --root or set EVALVERSE_SUITE_ROOT")
    elif root and not base.is_dir():
        problems.append(f"root override {base} is not a folder")
    first: dict[str, int] = {}
    cases: list[Case] = []
    for number, spec in specs:
        where = f"line {number} ({spec.id})"
        if spec.id in first:
            problems.append(f"{where}: duplicate id, first on line {first[spec.id]}")
            continue
        first[spec.id] = number
        if spec.mode not in MODES:
            problems.append(f"{where}: unknown mode {spec.mode!r}; choose one of {', '.join(MODES)}")
        if spec.mode == "r2v" and not spec.reference:
            problems.append(f"{where}: mode r2v needs a `reference`")
        files = {}
        for key in ("reference", "ground_truth"):
            p = _resolve(base, getattr(spec, key))
            if p is not None and not p.is_file():
                problems.append(f"{where}: {key} {getattr(spec, key)!r} not found (looked for {p})")
            files[key] = p.resolve() if p is not None and p.exists() else p
        for tag in spec.tags:
            if tag.startswith(DIMENSION_TAG) and tag[len(DIMENSION_TAG):] not in dimension_ids:
                problems.append(f"{where}: tag {tag!r} names no taxonomy dimension")
        cases.append(Case(spec.id, spec.prompt, spec.mode if spec.mode in MODES else "t2v",  # type: ignore[arg-type]
                          files["reference"], files["ground_truth"], tuple(spec.tags), number, spec.source))
    ids = set(first)
    for case in cases:
        m = SEED_SUFFIX.match(case.id)
        if m and m.group("case") in ids:
            problems.append(f"line {case.line} ({case.id}): ambiguous id: a file {case.id}.mp4 could also be seed "
                            f"{int(m.group('seed'))} of case {m.group('case')!r}; rename one of them")
    if not cases and not problems:
        problems.append("no cases")
    if problems:
        shown = problems[:MAX_SHOWN] + ([f"... and {len(problems) - MAX_SHOWN} more"] if len(problems) > MAX_SHOWN else [])
        raise DataError(f"{len(problems)} problem(s) in suite {path} (nothing was run):\n  " + "\n  ".join(shown))
    name = header.name or _default_name(path)
    return Suite(name=name, path=path.resolve(), root=base.resolve(), cases=tuple(cases), description=header.description,
                 version=header.version, source=header.source, sha256=hashlib.sha256(raw).hexdigest())


def _first_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            return number
    return 0


def _default_name(path: Path) -> str:
    name = re.sub(r"[^a-z0-9_.-]+", "-", path.stem.lower()).strip("-.") or "suite"
    return name if NAME_PATTERN.match(name) else f"s-{name}"
