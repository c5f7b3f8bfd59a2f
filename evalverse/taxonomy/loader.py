"""Load and validate the taxonomy file; a malformed file raises DataError naming the problem."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from evalverse.errors import DataError
from evalverse.taxonomy.schema import Taxonomy

DEFAULT_PATH = Path(__file__).with_name("taxonomy.yaml")


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy at `path` (default: the packaged file). The default is parsed once per process."""
    if path is None or Path(path) == DEFAULT_PATH:
        return _load_default()
    return _parse(Path(path))


@lru_cache(maxsize=1)
def _load_default() -> Taxonomy:
    return _parse(DEFAULT_PATH)


def _parse(path: Path) -> Taxonomy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"cannot read taxonomy file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"taxonomy file {path} is not valid YAML: {exc}") from exc
    try:
        return Taxonomy.model_validate(raw)
    except ValidationError as exc:
        raise DataError(f"taxonomy file {path} is invalid:\n{exc}") from exc
