"""Model weights that ship in no Python package: the manifest (manifest.yaml, data) and `pull`.

Sits just above config/errors: operators and judge backends may ask it where a model lives
(`model_path(settings, "dinov2")`); it imports nothing of theirs. Nothing here downloads unless
`pull` is called; `pull` fails fast and clearly when no hub is reachable.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from evalverse.config import Settings
from evalverse.errors import DataError, InputError, UnavailableError

MANIFEST = Path(__file__).with_name("manifest.yaml")
CHUNK = 1 << 20


class ModelEntry(BaseModel):
    name: str
    title: str
    used_by: list[str] = Field(default_factory=list)
    kind: Literal["hf", "url", "zip"]
    source: str  # Hugging Face repo id (hf) or a URL (url, zip)
    target: str  # relative to Settings.models_dir: a folder (hf, zip) or a file (url)
    check: list[str] = Field(default_factory=lambda: ["."])  # relative to target; "." = the target itself
    files: list[str] | None = None  # hf: only these files (allow_patterns)
    sha256: str | None = None  # url: expected digest of the file
    licence: str
    size_mb: float

    def path(self, settings: Settings) -> Path:
        return settings.models_dir / self.target

    def missing(self, settings: Settings) -> list[Path]:
        root = self.path(settings)
        return [root if c == "." else root / c for c in self.check if not (root if c == "." else root / c).exists()]

    def installed(self, settings: Settings) -> bool:
        return not self.missing(settings)

    def manual_fix(self, settings: Settings) -> str:
        """How to install it by hand on a machine without network here."""
        dest = self.path(settings)
        if self.kind == "hf":
            pattern = " ".join(self.files or [])
            return (f"on a machine with network: `hf download {self.source} {pattern} --local-dir {self.target}`"
                    .replace("  ", " ") + f", then copy that folder to {dest}")
        if self.kind == "zip":
            return f"download {self.source}, unzip it into {dest} (so that {', '.join(self.check)} are inside)"
        return f"download {self.source} to {dest}"


@lru_cache(maxsize=1)
def load_manifest(path: Path = MANIFEST) -> tuple[ModelEntry, ...]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return tuple(ModelEntry.model_validate(m) for m in raw["models"])
    except Exception as exc:  # noqa: BLE001 - any malformation becomes one DataError naming the file
        raise DataError(f"model manifest {path} is malformed: {exc}") from exc


def get_entry(name: str) -> ModelEntry:
    for entry in load_manifest():
        if entry.name == name:
            return entry
    raise InputError(f"unknown model {name!r}; known: {', '.join(e.name for e in load_manifest())}")


def model_path(settings: Settings, name: str) -> Path:
    """Where model `name` lives (or will live once pulled)."""
    return get_entry(name).path(settings)


# --- pulling --------------------------------------------------------------------------------------------

def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc).strip()
    first = text.splitlines()[0].rstrip(". ") if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _offline_error(entry: ModelEntry, settings: Settings, reason: str) -> UnavailableError:
    return UnavailableError(f"could not download {entry.name} from {entry.source} ({reason}). "
                            f"Fix: run `evalverse models pull {entry.name}` where the source is reachable, or "
                            f"{entry.manual_fix(settings)}")


def _download(url: str, dest: Path, timeout: float, sha256: str | None) -> None:
    """Stream `url` into `dest` atomically (a .part file renamed at the end); check the digest if given."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - manifest URLs
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
        if sha256 and digest.hexdigest() != sha256:
            raise UnavailableError(f"{url} downloaded, but its sha256 {digest.hexdigest()} is not the expected {sha256}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _extract(zip_path: Path, dest: Path) -> None:
    """Unzip into `dest`; a zip holding one top folder has that folder's content moved up."""
    staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for member in zf.namelist():  # refuse paths that would escape the folder
                if Path(member).is_absolute() or ".." in Path(member).parts:
                    raise UnavailableError(f"{zip_path.name} contains an unsafe path {member!r}")
            zf.extractall(staging)
        entries = [p for p in staging.iterdir() if not p.name.startswith("__MACOSX")]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        dest.mkdir(parents=True, exist_ok=True)
        for item in root.iterdir():
            target = dest / item.name
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            shutil.move(str(item), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _pull_hf(entry: ModelEntry, dest: Path, timeout: float, endpoint: str | None) -> None:
    try:
        import huggingface_hub
        from huggingface_hub import constants as hf_constants
    except ImportError:
        raise UnavailableError("the package huggingface_hub is not installed (it comes with transformers)") from None
    if hf_constants.HF_HUB_OFFLINE:
        raise UnavailableError("HF_HUB_OFFLINE=1 is set, so the Hugging Face hub is not contacted; "
                               f"run `HF_HUB_OFFLINE=0 evalverse models pull {entry.name}`")
    huggingface_hub.snapshot_download(entry.source, local_dir=str(dest), allow_patterns=entry.files,
                                      etag_timeout=timeout, endpoint=endpoint, max_workers=2)


def pull(name: str | ModelEntry, settings: Settings, timeout: float = 20.0, endpoint: str | None = None,
         force: bool = False) -> Path:
    """Download one model into the models folder and return its path. Already installed: nothing to do
    unless `force`. Raises UnavailableError (what failed, and the manual fix) when the source is unreachable."""
    entry = name if isinstance(name, ModelEntry) else get_entry(name)
    dest = entry.path(settings)
    if entry.installed(settings) and not force:
        return dest
    try:
        settings.models_dir.mkdir(parents=True, exist_ok=True)
        if entry.kind == "url":
            _download(entry.source, dest, timeout, entry.sha256)
        elif entry.kind == "zip":
            dest.parent.mkdir(parents=True, exist_ok=True)
            archive = dest.parent / f".{dest.name}.zip"
            try:
                _download(entry.source, archive, timeout, entry.sha256)
                _extract(archive, dest)
            finally:
                archive.unlink(missing_ok=True)
        else:
            _pull_hf(entry, dest, timeout, endpoint)
    except UnavailableError as exc:
        raise _offline_error(entry, settings, str(exc).rstrip(". ")) from None
    except Exception as exc:  # noqa: BLE001 - URL, socket, zip and hub client errors (offline, 404) have many types
        raise _offline_error(entry, settings, _one_line(exc)) from None
    missing = entry.missing(settings)
    if missing:
        raise UnavailableError(f"{entry.name} downloaded into {dest}, but {', '.join(map(str, missing))} "
                               f"is still missing; fix: {entry.manual_fix(settings)}")
    return dest
