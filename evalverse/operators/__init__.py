"""Evidence operators. Importing this package registers every operator (their modules' @register
decorators run); heavy libraries load only when an operator runs.

Run them with `evalverse.operators.runner.run_operators` (or `iter_operators` for progress events).
"""
from __future__ import annotations

# One module per operator, in the order `evalverse evidence` runs them (dependencies are resolved anyway).
from evalverse.operators import (  # noqa: F401  (imported for their @register side effect)
    shots,
    faces,
    people,
    features,
    speech,
    lipsync,
    camera,
    quality,
    colour,
    audio,
)
