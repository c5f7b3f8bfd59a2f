"""The one registry: registration rules and backend availability with reasons and fixes."""
from __future__ import annotations

import pytest

from evalverse.registry import Availability, Backend, Component, Registry, package_file


def _component(backends, name="probe_op"):
    return type(name, (Component,), {"kind": "operator", "name": name, "version": "1", "description": "d", "backends": tuple(backends)})


def test_first_available_backend_is_chosen_and_others_explained(settings):
    (settings.models_dir / "m").mkdir(parents=True)
    (settings.models_dir / "m" / "w.bin").write_bytes(b"x")
    comp = _component([
        Backend("needs_missing_module", "hub", "MIT", modules=("no_such_module_evalverse",), fix="pip install it"),
        Backend("needs_file", "local", "MIT", files=("m/w.bin",)),
        Backend("classical", "none", "Apache-2.0"),
    ])
    av = comp.availability(settings)
    assert av.backend == "needs_file"
    assert "no_such_module_evalverse" in av.reasons["needs_missing_module"][0]
    assert av.fixes["needs_missing_module"] == "pip install it"


def test_prefer_moves_a_backend_first_only_if_it_can_run(settings):
    comp = _component([Backend("a", "none", "MIT"), Backend("b", "none", "MIT"),
                       Backend("c", "x", "MIT", files=("absent.bin",))])
    assert comp.availability(settings, prefer="b").backend == "b"
    assert comp.availability(settings, prefer="c").backend == "a"


def test_nothing_available_explains_every_backend(settings):
    comp = _component([Backend("w", "x", "MIT", files=("w.onnx",), fix="evalverse models pull w"),
                       Backend("p", "x", "MIT", probe=lambda s: "GPU required")])
    av = comp.availability(settings)
    assert isinstance(av, Availability) and not av.available
    text = av.explain()
    assert "w.onnx" in text and "evalverse models pull w" in text and "GPU required" in text


def test_registration_validates_and_rejects_duplicates():
    reg = Registry()
    comp = _component([Backend("a", "none", "MIT")], name="dup")
    reg.register(comp)
    reg.register(comp)  # same class twice is harmless (module re-import)
    with pytest.raises(ValueError, match="already registered"):
        reg.register(_component([], name="dup"))
    with pytest.raises(TypeError, match="version"):
        reg.register(type("Bad", (Component,), {"kind": "operator", "name": "bad", "description": "d"}))
    assert reg.names("operator") == ["dup"] and reg.names("judge") == []
    with pytest.raises(KeyError, match="unknown judge"):
        reg.get("judge", "dup")


def test_package_file_finds_data_without_importing():
    assert package_file("evalverse", "taxonomy/schema.py") is not None
    assert package_file("evalverse", "no/such/file") is None
    assert package_file("no_such_package_evalverse", "x") is None
