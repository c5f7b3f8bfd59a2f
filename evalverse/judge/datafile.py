"""Reading the judge's data files (checks, gating): YAML in, a content hash out, clear errors.

Each file's `version` is a hash of its canonical content (the parsed YAML as sorted, compact JSON), so a
changed threshold, reason or word list changes it while comments and layout do not. The parsed file is
cached by the hash of its raw text: editing a file (even a temporary copy a test writes) is seen by the next
load without restarting the process.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from evalverse.errors import DataError
from evalverse.provenance import canonical_hash

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
_CACHE: dict[tuple[str, str], Any] = {}


def load_cached(path: str | Path, what: str, build: Callable[[dict[str, Any], str, Path], T]) -> T:
    """`build(raw, version, path)` for the file at `path`, reusing the result while its text is unchanged."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read the {what} file {path}: {exc}") from exc
    key = (str(path.resolve()), hashlib.sha256(text.encode()).hexdigest())
    if key not in _CACHE:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DataError(f"the {what} file {path} is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise DataError(f"the {what} file {path} must be a mapping at the top level")
        _CACHE[key] = build(raw, canonical_hash(raw), path)
    return _CACHE[key]


def parse_spec(model: type[M], raw: dict[str, Any], path: Path, what: str) -> M:
    """`raw` as `model`; one DataError listing every schema problem, each located by its path in the file."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        refuse(path, what, [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()])
        raise AssertionError("unreachable") from exc


def refuse(path: Path, what: str, problems: list[str]) -> None:
    """Raise one DataError listing every problem, when there are any."""
    if problems:
        raise DataError(f"the {what} file {path} is invalid:\n  - " + "\n  - ".join(problems))
