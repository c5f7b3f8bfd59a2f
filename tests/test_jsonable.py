"""One JSON conversion for every layer: lenient for events and operator results, strict for the store."""
from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from pathlib import Path

import numpy as np
import pytest

from evalverse.jsonable import to_plain
from evalverse.media.types import Shot
from evalverse.store.serialise import dumps


class Colour(Enum):
    red = "red"


def test_numpy_nonfinite_and_nested_values_become_plain_json():
    value = {"a": np.arange(3), "b": np.float32(1.5), "c": float("nan"), 1: (np.int64(2), {np.inf}),
             "shot": Shot(0, 0.0, 1.0, 0, 25), "p": Path("/x"), "e": Colour.red, "t": datetime(2026, 1, 2)}
    out = to_plain(value)
    assert out["a"] == [0, 1, 2] and out["b"] == 1.5 and out["c"] is None and out["1"] == [2, [None]]
    assert out["shot"]["end_frame"] == 25 and out["p"] == "/x" and out["e"] == "red" and out["t"].startswith("2026-01-02")
    json.dumps(out, allow_nan=False)


def test_unknown_types_are_strings_for_events_but_errors_for_the_store():
    assert to_plain({"x": object}) == {"x": str(object)}
    with pytest.raises(TypeError, match="cannot store"):
        dumps({"x": object})
