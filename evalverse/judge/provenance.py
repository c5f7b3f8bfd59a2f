"""Content hashes of the judge's data files, for every run's provenance and cache key.

`judge_data_versions()` -> {"taxonomy", "checks", "gating", "weights"}: each a hash of the file's
canonical content (`evalverse.provenance.canonical_hash` of the parsed data), so a changed threshold,
reason, word list, weight or question changes it while comments and layout do not. The measure catalogue's
hash is the catalogue's own (`load_catalogue().version`). Loading validates each file: a broken one raises
DataError here, before any run starts.
"""
from __future__ import annotations

from pathlib import Path


def judge_data_versions(taxonomy: str | Path | None = None, checks: str | Path | None = None,
                        gating: str | Path | None = None, weights: str | Path | None = None) -> dict[str, str]:
    """{name: content hash} of the taxonomy, checks, gating and weights files (default: the packaged ones)."""
    from evalverse.judge.checks import load_checks
    from evalverse.judge.gating_data import load_gating
    from evalverse.judge.scoring import load_weights
    from evalverse.provenance import canonical_hash
    from evalverse.taxonomy import load_taxonomy

    return {
        "taxonomy": canonical_hash(load_taxonomy(taxonomy).model_dump(mode="json")),
        "checks": load_checks(checks).version,
        "gating": load_gating(gating).version,
        "weights": load_weights(weights).digest,
    }
