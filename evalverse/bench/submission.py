"""A model's submission: a folder of `<case id>.<ext>` (`<case id>-<n>.<ext>` for seed n) plus an optional
`model.yaml` (name, organisation, open_source, params_b, audio, multi_shot, reference, notes; unknown fields
are rejected). Scanning never raises for a file problem: missing cases and extra files are listed, and the
run goes on with the rest (an unreadable video is found when the pipeline probes it, and recorded as such).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from evalverse.bench.suite import Case, Suite, split_seed
from evalverse.errors import DataError, InputError
from evalverse.leaderboard.data import SeedModel
from evalverse.media.formats import VIDEO_SUFFIXES

MODEL_FILE = "model.yaml"


class SubmissionModel(SeedModel):
    """model.yaml: the leaderboard's model fields; `name` may be left out (the --model name is used)."""

    name: str | None = None  # type: ignore[assignment]


@dataclass(frozen=True)
class WorkItem:
    """One clip to diagnose: a case of a suite (or a free-standing clip for the reward API) and its file."""

    case_id: str
    seed: int
    path: Path
    prompt: str | None
    mode: str = "t2v"
    reference: Path | None = None

    @property
    def key(self) -> str:
        return f"{self.case_id}#{self.seed}"


@dataclass
class Submission:
    model: str
    folder: Path
    items: list[WorkItem]
    missing: list[str] = field(default_factory=list)  # case ids without any file
    extra: list[str] = field(default_factory=list)  # file names that belong to no case (or are no video)
    duplicates: list[str] = field(default_factory=list)  # same case and seed under two extensions
    info: SubmissionModel | None = None

    def problems(self) -> list[str]:
        out = []
        if self.missing:
            out.append(f"missing {len(self.missing)} case(s): {', '.join(self.missing)}")
        if self.extra:
            out.append(f"{len(self.extra)} extra file(s) ignored: {', '.join(self.extra)}")
        if self.duplicates:
            out.append(f"{len(self.duplicates)} duplicate file(s) ignored: {', '.join(self.duplicates)}")
        return out


def read_model_file(path: Path, model: str) -> SubmissionModel:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise DataError(f"{path} must be a mapping of model fields (name, organisation, open_source, ...)")
    try:
        info = SubmissionModel.model_validate(raw)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise DataError(f"{path}: {detail}") from None
    if info.name is not None and info.name != model:
        raise DataError(f"{path} names the model {info.name!r} but the run is for --model {model!r}; make them agree")
    return info.model_copy(update={"name": model})


def scan_submission(folder: str | Path, suite: Suite, model: str) -> Submission:
    """Match the folder's files to the suite's cases. InputError only when the folder itself is unusable."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise InputError(f"submission folder {folder} does not exist or is not a folder")
    if not model.strip():
        raise InputError("--model must not be empty")
    ids = {c.id: c for c in suite.cases}
    found: dict[tuple[str, int], Path] = {}
    sub = Submission(model=model, folder=folder, items=[])
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name == MODEL_FILE or path.name.startswith("."):
            continue
        if path.is_dir():
            sub.extra.append(path.name + "/")
            continue
        match = split_seed(path.stem, ids) if path.suffix.lower() in VIDEO_SUFFIXES else None
        if match is None:
            sub.extra.append(path.name)
        elif match in found:
            sub.duplicates.append(f"{path.name} (same case and seed as {found[match].name})")
        else:
            found[match] = path
    for (case_id, seed), path in sorted(found.items(), key=lambda kv: (suite.ids.index(kv[0][0]), kv[0][1])):
        sub.items.append(_item(ids[case_id], seed, path))
    sub.missing = [c for c in suite.ids if not any(k[0] == c for k in found)]
    model_file = folder / MODEL_FILE
    if model_file.exists():
        sub.info = read_model_file(model_file, model)
    return sub


def _item(case: Case, seed: int, path: Path) -> WorkItem:
    return WorkItem(case_id=case.id, seed=seed, path=path.absolute(), prompt=case.prompt, mode=case.mode,
                    reference=case.reference)


def describe(sub: Submission) -> dict[str, Any]:
    return {"model": sub.model, "folder": str(sub.folder), "files": len(sub.items), "missing": sub.missing,
            "extra": sub.extra, "duplicates": sub.duplicates}
