"""Evidence operators. Importing this package registers every operator (their modules' @register
decorators run); heavy libraries load only when an operator runs.

Run them with `evalverse.operators.runner.run_operators` (or `iter_operators` for progress events).
"""
from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)

# One module per operator, in the order `evalverse evidence` runs them (dependencies are resolved anyway).
OPERATOR_MODULES = (
    "shots",
    "faces",
    "people",
    "features",
    "speech",
    "lipsync",
    "camera",
    "quality",
    "colour",
    "audio",
)

MISSING_MODULES: list[str] = []  # operator modules this installation lacks (reported by `evalverse models doctor`)


def _register_all() -> None:
    for name in OPERATOR_MODULES:
        full = f"{__name__}.{name}"
        try:
            importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:  # a missing dependency inside the module is a real error
                raise
            MISSING_MODULES.append(name)
            log.warning("operator module %s is missing; its operator is not registered", full)


_register_all()
