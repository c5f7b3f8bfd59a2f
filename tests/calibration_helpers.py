"""Test material for calibration: a small synthetic fit turned into a real artifact, and a stand-in Evidence."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from evalverse.calibration.artifacts import build_artifact
from evalverse.calibration.cv import fit_final
from evalverse.calibration.spec import AxisTarget, CalibrationSpec, HumanSpec
from evalverse.judge.calibration_features import FeatureSpec
from evalverse.operators.runner import get_operator

FEATURES = (
    FeatureSpec(source="quality.sharpness", transform="log", offset=1),
    FeatureSpec(source="quality.noise_sigma"),
    FeatureSpec(source="camera.shots.shake_pct_w", aggregate="max"),
    FeatureSpec(source="judge.score"),
)


def spec(features=FEATURES, models=("ridge",)) -> CalibrationSpec:
    return CalibrationSpec(dimension="visual_quality",
                           human=HumanSpec(source="fetv", axes={"static_quality": AxisTarget(
                               sub_dimension="visual_quality_rendering_quality")}, scale=(1, 5)),
                           judge="evidence", features=tuple(features), models=tuple(models))


def synthetic_data(n_prompts: int = 12, n_sources: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = n_prompts * n_sources
    X = pd.DataFrame({"log(quality.sharpness+1)": rng.normal(5, 1, n), "quality.noise_sigma": rng.gamma(2, 1, n),
                      "max(camera.shots.shake_pct_w)": rng.gamma(1, 0.5, n), "judge.score": rng.uniform(2, 4, n)})
    y = np.clip(3 + 0.6 * (X.iloc[:, 0] - 5) - 0.3 * (X.iloc[:, 1] - 2) + rng.normal(0, 0.3, n), 1, 5)
    clips = pd.DataFrame({"clip": [f"c{i}.mp4" for i in range(n)], "prompt": np.repeat([f"p{i}" for i in range(n_prompts)], n_sources),
                          "source": np.tile([f"s{j}" for j in range(n_sources)], n_prompts), "human": y})
    for r in range(3):
        clips[f"rater:h{r}"] = np.clip(np.round(y + rng.normal(0, 0.5, n)), 1, 5)
    return clips, X


def operators_now() -> dict[str, dict[str, Any]]:
    return {name: {"version": get_operator(name).version, "backend": "opencv"} for name in ("quality", "camera")}


def artifact(models=("ridge",), seed: int = 0):
    clips, X = synthetic_data(seed=seed)
    s = spec(models=models)
    final = fit_final(X.to_numpy(float), clips["human"].to_numpy(), clips["prompt"].to_numpy(), clips["source"].to_numpy(),
                      list(s.models), 3, "clip_srcc", seed)
    report = {"rows": [], "cv": {}, "choices": {}, "vs_judge": None, "source_share": {},
              "ship": {"justified": False, "reasons": ["synthetic test data"]}}
    art = build_artifact(s, "static_quality", final, clips, [f"{i:064x}" for i in range(len(clips))], operators_now(),
                         report, judge_version="1.0", created_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
    return art, X, final


class FakeEvidence:
    """Just what feature extraction and `apply` read: value(measure id) and record(operator)."""

    def __init__(self, values: dict[str, Any], backends: dict[str, str] | None = None,
                 versions: dict[str, str] | None = None) -> None:
        self.values = values
        self.backends = backends or {"quality": "opencv", "camera": "opencv"}
        self.versions = versions or {n: f["version"] for n, f in operators_now().items()}

    def value(self, measure_id: str) -> Any:
        return self.values.get(measure_id)

    def record(self, name: str):
        if name not in self.backends:
            return None
        return SimpleNamespace(usable=True, backend=self.backends[name], version=self.versions[name])
