"""Provenance: a content hash of everything that can change a verdict, carried by every run and result.

A run's provenance names the data the judge read (taxonomy, checks and thresholds, gating data, scoring
weights, measure catalogue, calibration: each by a hash of its content), every operator that ran (version,
chosen backend, effective parameters), the judge (backend and version, its options minus secrets) and the
run's own settings (dimensions, frames shown, prompt, mode, reference file hash). Its hash is part of the run
cache key, so changing any one threshold makes the next diagnosis of the same clip recompute, and each stored
dimension result names the hash it was made with, so a figure can be traced back and reproduced.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from evalverse.jsonable import to_plain


def canonical_hash(value: Any, length: int = 16) -> str:
    """sha256 of the canonical JSON of `value` (sorted keys, no whitespace), shortened to `length` hex digits."""
    text = json.dumps(to_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def file_hash(path: Any, length: int = 16) -> str:
    from pathlib import Path

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:length]


def data_versions() -> dict[str, str]:
    """Content hashes of the data files a verdict depends on (the judge's and the measure catalogue) and of
    what the decoder hands the operators (evalverse.media.decode.decode_facts)."""
    from evalverse.judge.scoring import WEIGHTS_PATH
    from evalverse.operators.catalogue import load_catalogue
    from evalverse.taxonomy.loader import DEFAULT_PATH

    from evalverse.media.decode import decode_facts

    out = {"taxonomy": file_hash(DEFAULT_PATH), "weights": file_hash(WEIGHTS_PATH), "catalogue": load_catalogue().version,
           "decode": canonical_hash(decode_facts())}
    try:  # TRANSITION: the judge's checks/gating data files are being moved to data; their hashes join here
        from evalverse.judge.provenance import judge_data_versions
    except ImportError:
        return out
    return out | judge_data_versions()


def run_provenance(*, data: dict[str, str], operators: dict[str, dict[str, Any]], judge: dict[str, Any],
                   settings: dict[str, Any]) -> dict[str, Any]:
    """The provenance record of one run (its identity is `provenance_hash` of it)."""
    return {"data": dict(sorted(data.items())), "operators": operators, "judge": judge, "settings": settings}


def provenance_hash(provenance: dict[str, Any]) -> str:
    """The full sha256 of the record's canonical JSON: the same value the store files a run under
    (evalverse.store.provenance_hash), so a result, its run and the report name one hash."""
    return canonical_hash(provenance, length=64)
