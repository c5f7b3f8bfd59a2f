"""Evidence operators. Importing this package registers every operator (their modules' @register
decorators run); heavy libraries load only when an operator runs.

Run them with `evalverse.operators.runner.run_operators` (or `iter_operators` for progress events).
"""
from __future__ import annotations

# One module per operator, in the order they run (dependencies are resolved anyway): cheap classical ones
# first, so the Diagnose tab's first dimensions (pacing, colour, quality) are judged within a second or two
# while faces and speech are still being computed.
from evalverse.operators import (  # noqa: F401  (imported for their @register side effect)
    shots,
    camera,
    colour,
    quality,
    nr_quality,
    features,
    people,
    faces,
    facial_expression,
    speech,
    speech_quality,
    lipsync,
    audio,
)
