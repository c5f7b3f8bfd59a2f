"""Fake operators of one test module, registered only while that module's tests run (REGISTRY.registered), so
other modules that ask for "every operator" (warm-up, the pipeline's default set) never meet them.

    fake = FakeOperators()
    _fakes_registered = fake.fixture()     # an autouse, module-scoped fixture

    @fake
    class MyFake(Operator): ...
"""
from __future__ import annotations

import pytest

from evalverse.registry import REGISTRY


class FakeOperators:
    def __init__(self) -> None:
        self.classes: list[type] = []

    def __call__(self, cls: type) -> type:
        self.classes.append(cls)
        return cls

    def fixture(self):
        @pytest.fixture(autouse=True, scope="module")
        def _fakes_registered():
            with REGISTRY.registered(*self.classes):
                yield

        return _fakes_registered
