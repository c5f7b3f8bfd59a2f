"""Model weights that ship in no Python package: the manifest (manifest.yaml, data) and `pull`.

Sits just above config/errors: operators and judge backends may ask it where a model lives
(`model_path(settings, "dinov2")`) and whether a weights folder is complete (`folder_problems`); it
imports nothing of theirs. Nothing here downloads unless `pull` is called; `pull` fails fast and
clearly when no hub is reachable.

"Installed" means complete, not merely present: the `check` files exist and are not empty, the weights
named by `weights` are whole (a safetensors file is as long as its own header says; a sharded model's
index names shards that are all there and whole), and a file whose sha256 the manifest knows has it.
An interrupted pull is therefore reported as incomplete, with the command that finishes it.
"""
from __future__ import annotations

import hashlib
import json
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
    weights: str | None = None  # relative to target: the weights file or shard index whose completeness is checked
    sha256: str | None = None  # url: expected digest of the file
    licence: str
    size_mb: float

    def path(self, settings: Settings) -> Path:
        return settings.models_dir / self.target

    def missing(self, settings: Settings) -> list[Path]:
        root = self.path(settings)
        return [root if c == "." else root / c for c in self.check if not (root if c == "." else root / c).exists()]

    def problems(self, settings: Settings) -> list[str]:
        """Why this model is not (completely) installed; empty when it is."""
        root = self.path(settings)
        missing = self.missing(settings)
        if missing:
            return [f"{p} is missing" for p in missing]
        out = [f"{p} is empty" for c in self.check if (p := root if c == "." else root / c).is_file() and p.stat().st_size == 0]
        if self.weights:
            out += weights_problems(root / self.weights)
        if self.kind == "url" and self.sha256 and not out:
            digest = _sha256_cached(root)
            if digest != self.sha256:
                out.append(f"{root} has sha256 {digest}, not the expected {self.sha256} (damaged or a different file)")
        return out

    def installed(self, settings: Settings) -> bool:
        return not self.problems(settings)

    def status(self, settings: Settings) -> Literal["installed", "missing", "incomplete"]:
        if self.installed(settings):
            return "installed"
        root = self.path(settings)
        return "incomplete" if root.exists() and (root.is_file() or any(root.iterdir())) else "missing"

    def fix(self) -> str:
        return f"evalverse models pull {self.name}"

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


# --- completeness -----------------------------------------------------------------------------------

def safetensors_problem(path: Path) -> str | None:
    """None when `path` is a whole safetensors file: 8-byte header length, JSON header, then exactly the
    tensor bytes that header describes (a shorter file was cut off, e.g. by an interrupted download)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else -1
            if n < 0 or 8 + n > size:
                return f"{path.name} is truncated ({size} bytes; its header is incomplete)"
            header = json.loads(f.read(n))
    except OSError as exc:
        return f"{path.name} cannot be read ({exc.strerror or exc})"
    except ValueError:
        return f"{path.name} is not a valid safetensors file (unreadable header)"
    ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)
            and "data_offsets" in v]
    expected = 8 + n + max(ends, default=0)
    if size < expected:
        return f"{path.name} is truncated ({size} of {expected} bytes)"
    if size > expected:
        return f"{path.name} is damaged ({size} bytes where its header describes {expected})"
    return None


def weights_problems(path: Path) -> list[str]:
    """What is wrong with a weights file or a shard index (`*.index.json`) and the shards it names."""
    if not path.is_file():
        return [f"{path} is missing"]
    if path.name.endswith(".index.json"):
        try:
            shards = sorted(set(json.loads(path.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            return [f"{path} is not a readable shard index ({type(exc).__name__})"]
        out = []
        for shard in shards:
            out += weights_problems(path.parent / shard) if (path.parent / shard).is_file() else [
                f"shard {shard} named by {path.name} is missing"]
        return out
    if path.suffix == ".safetensors":
        problem = safetensors_problem(path)
        return [problem] if problem else []
    return [f"{path.name} is empty"] if path.stat().st_size == 0 else []


WEIGHT_FILES = ("model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin")


def folder_problems(folder: Path) -> list[str]:
    """Whether a Hugging Face model folder holds whole weights (the first layout of WEIGHT_FILES present)."""
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return weights_problems(folder / name)
    return [f"no weights in {folder} (none of {', '.join(WEIGHT_FILES)})"]


_DIGESTS: dict[tuple[str, int, int], str] = {}


def _sha256_cached(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def _forget_broken(entry: ModelEntry, dest: Path) -> None:
    """Before pulling a Hugging Face model again, remove the files found broken (and the hub's record of
    them), so that the download fetches them instead of trusting what is on disk."""
    if entry.kind != "hf" or not entry.weights or not dest.is_dir():
        return
    index = dest / entry.weights
    names = [entry.weights]
    if index.name.endswith(".index.json") and index.is_file():
        try:
            names = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            names = [entry.weights]  # an unreadable index is fetched again
    for name in names:
        path = dest / name
        if path.is_file() and weights_problems(path):
            path.unlink()
            (dest / ".cache" / "huggingface" / "download" / f"{name}.metadata").unlink(missing_ok=True)


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
    _forget_broken(entry, dest)  # truncated or damaged files are fetched again, not trusted
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
    problems = entry.problems(settings)
    if problems:
        raise UnavailableError(f"{entry.name} downloaded into {dest}, but it is incomplete: {'; '.join(problems)}; "
                               f"fix: {entry.manual_fix(settings)}")
    return dest
