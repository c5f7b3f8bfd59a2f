"""One registry for every component that produces a judgment: evidence operators and judge backends.

A component declares its name, version, what it needs, and an ordered list of backends; each backend
declares where its weights come from, its licence, and how to tell whether it can run here. Nothing
heavy is imported to answer "is it available": probes look for modules and files only.
"""
from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Iterable, Iterator, Literal, TypeVar

from evalverse.config import Settings

Kind = Literal["operator", "judge", "check"]


@dataclass(frozen=True)
class Backend:
    """One way to run a component, in order of preference."""

    name: str
    weights: str  # where the weights come from, e.g. "bundled in PyPI mediapipe==0.10.14" or "none (classical)"
    licence: str
    modules: tuple[str, ...] = ()  # Python modules that must be importable
    files: tuple[str, ...] = ()  # paths under Settings.models_dir that must exist
    fix: str = ""  # what to run when it is missing, e.g. "evalverse models pull insightface"
    probe: Callable[[Settings], str | None] | None = None  # extra check: None when fine, else the problem

    def missing(self, settings: Settings) -> list[str]:
        """What stops this backend from running here; empty when it can run."""
        problems = [f"Python package providing `{m}` is not installed" for m in self.modules if not _has_module(m)]
        problems += [
            f"weights file {settings.models_dir / f} not found" for f in self.files if not (settings.models_dir / f).exists()
        ]
        if not problems and self.probe is not None:
            extra = self.probe(settings)
            if extra:
                problems.append(extra)
        return problems


@dataclass(frozen=True)
class Availability:
    component: str
    backend: str | None  # the first backend that can run, or None
    reasons: dict[str, list[str]] = field(default_factory=dict)  # backend name -> what is missing
    fixes: dict[str, str] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.backend is not None

    def explain(self) -> str:
        if self.available:
            return f"{self.component}: using backend {self.backend}"
        parts = [
            f"{name}: {'; '.join(why)}" + (f" (fix: {self.fixes[name]})" if self.fixes.get(name) else "")
            for name, why in self.reasons.items()
        ]
        return f"{self.component}: no backend can run here. " + " | ".join(parts)


class Component:
    """Base of operators and judge backends: metadata as class attributes, checked at registration."""

    kind: ClassVar[Kind]
    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str]
    backends: ClassVar[tuple[Backend, ...]] = ()
    required: ClassVar[tuple[str, ...]] = ("kind", "name", "version", "description")  # checked at registration

    @classmethod
    def availability(cls, settings: Settings, prefer: str | None = None) -> Availability:
        """The first backend (or `prefer`, if given and able) that can run here, with reasons for the others."""
        reasons: dict[str, list[str]] = {}
        fixes: dict[str, str] = {}
        ordered = sorted(cls.backends, key=lambda b: b.name != prefer) if prefer else list(cls.backends)
        for backend in ordered:
            problems = backend.missing(settings)
            if not problems:
                return Availability(cls.name, backend.name, reasons, fixes)
            reasons[backend.name] = problems
            if backend.fix:
                fixes[backend.name] = backend.fix
        return Availability(cls.name, None, reasons, fixes)

    @classmethod
    def backend(cls, name: str) -> Backend:
        for b in cls.backends:
            if b.name == name:
                return b
        raise KeyError(f"{cls.name} has no backend {name!r}; it has {[b.name for b in cls.backends]}")


C = TypeVar("C", bound=type[Component])


class Registry:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], type[Component]] = {}

    def register(self, cls: C) -> C:
        for attr in cls.required:
            if not getattr(cls, attr, None):
                raise TypeError(f"{cls.__name__} must declare `{attr}` to be registered")
        key = (cls.kind, cls.name)
        if key in self._items and self._items[key] is not cls:
            raise ValueError(f"a {cls.kind} named {cls.name!r} is already registered")
        self._items[key] = cls
        return cls

    @contextmanager
    def registered(self, *classes: type[Component]) -> Iterator[None]:
        """Register `classes` for the duration of the block, then remove them (tests' fake components, so
        no other test that asks for "every operator" meets them)."""
        added = [c for c in classes if self._items.get((c.kind, c.name)) is not c]
        for cls in added:
            self.register(cls)
        try:
            yield
        finally:
            for cls in added:
                self._items.pop((cls.kind, cls.name), None)

    def get(self, kind: Kind, name: str) -> type[Component]:
        try:
            return self._items[(kind, name)]
        except KeyError:
            raise KeyError(f"unknown {kind} {name!r}; known: {', '.join(self.names(kind))}") from None

    def names(self, kind: Kind) -> list[str]:
        return [name for (k, name) in self._items if k == kind]

    def all(self, kind: Kind) -> list[type[Component]]:
        return [cls for (k, _), cls in self._items.items() if k == kind]

    def __iter__(self) -> Iterable[type[Component]]:
        return iter(self._items.values())


REGISTRY = Registry()
register = REGISTRY.register


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def package_file(module: str, relative: str) -> Path | None:
    """A data file shipped inside an installed package, located without importing the package."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        candidate = Path(root) / relative
        if candidate.exists():
            return candidate
    return None
