"""Calibration artifacts: the learned map from a clip's features to a predicted human score, as validated data.

`evalverse calibrate` (evalverse.calibration) fits one and writes it as JSON; a judge applies it. The artifact
carries everything needed to apply it and to know when it no longer applies:

- the features (catalogue id or judge output, aggregate, transform), each with the unit and kind the catalogue
  gave its measure at training, its imputation value and its standardisation (training mean and SD);
- the model: linear (intercept + one weight per standardised feature; fitted by ridge regression or by
  Bradley-Terry on within-prompt pairs, then put on the score scale) or a small MLP (one tanh layer);
- what it was trained on: the human source and axis, the axis -> dimension mapping, a hash of the training
  data, the clips per source; the catalogue version and the facts of each measure used; the taxonomy version,
  file hash and a hash of the dimension's subtree with its questions; the operators' versions and backends;
  the judge backend it calibrates (and, when its outputs are features, what they depend on); the
  cross-validated figures with their intervals;
  library versions and the creation time.

`check_artifact` refuses (CalibrationMismatch, a DataError) an artifact whose measures left the catalogue or
changed unit, kind or scope, whose dimension changed in the taxonomy (questions added, removed or reworded,
checks changed, the scale changed), whose operators changed version, or (when it reads the evidence judge's
outputs) whose judge checks, coverage rule or weights for the dimension changed, naming each change: a calibration is
never silently applied to evidence that means something else. Changes elsewhere in the catalogue or the
taxonomy do not touch it. `apply` also refuses evidence made by another operator backend than training's.

Where artifacts live: the user's data folder (`<data_dir>/calibration/<dimension>.json`, written by
`evalverse calibrate`) replaces the packaged default (`evalverse/calibration/artifacts/<dimension>.json`,
shipped only when its cross-validated figures justify it).
"""
from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evalverse.errors import DataError
from evalverse.judge.calibration_features import FeatureSpec, JudgeOutputs, feature_row

FORMAT = "evalverse.calibration/1"
PACKAGED_DIR = Path(__file__).resolve().parent.parent / "calibration" / "artifacts"
USER_SUBDIR = "calibration"


class CalibrationMismatch(DataError):
    """The artifact was trained against other measures, another taxonomy or other operators."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArtifactFeature(_Strict):
    spec: FeatureSpec
    name: str
    unit: str  # the catalogue's unit of the measure at training ("score", "answer 0-1" for judge outputs)
    kind: str  # the catalogue's kind (number, integer, bool) or "judge"
    scope: str  # clip | shot | judge
    direction: str | None = None  # the catalogue's direction at training (judge outputs: higher_is_better)
    impute: float  # value used when missing (training median, after the transform)
    mean: float  # standardisation on the training data
    scale: float = Field(gt=0)

    @model_validator(mode="after")
    def _named(self) -> "ArtifactFeature":
        if self.name != self.spec.name:
            raise ValueError(f"feature name {self.name!r} does not match its spec ({self.spec.name!r})")
        return self


class LinearModel(_Strict):
    kind: Literal["linear"] = "linear"
    fitted_by: Literal["ridge", "bradley_terry", "ridge_signed", "bradley_terry_signed"]  # *_signed: weights sign-constrained by the features' directions
    intercept: float
    weights: list[float]  # score units per training SD of each feature, in feature order
    hyper: dict[str, float] = Field(default_factory=dict)


class MLPModel(_Strict):
    kind: Literal["mlp"] = "mlp"
    fitted_by: Literal["mlp", "mlp_pairs"] = "mlp"  # mlp_pairs: trained on the Bradley-Terry pairs and anchors
    hidden_weights: list[list[float]]  # hidden x features
    hidden_bias: list[float]
    output_weights: list[float]
    output_bias: float
    hyper: dict[str, float] = Field(default_factory=dict)


Model = Annotated[Union[LinearModel, MLPModel], Field(discriminator="kind")]


class Target(_Strict):
    source: str  # human judgments' source (e.g. "fetv")
    axis: str  # the rating axis learned (e.g. "static_quality")
    dimension: str
    sub_dimension: str | None = None
    scale: tuple[float, float]  # the human scale
    mapping: dict[str, Any] = Field(default_factory=dict)  # the axis -> dimension mapping record used


class CalibrationArtifact(_Strict):
    format: Literal["evalverse.calibration/1"] = FORMAT
    id: str
    dimension: str
    target: Target
    scale: tuple[float, float]  # the taxonomy's score scale: predictions are clamped to it
    features: list[ArtifactFeature] = Field(min_length=1)
    model: Model
    training: dict[str, Any]  # n_clips, n_prompts, clips per source, data_hash, spec_hash
    catalogue: dict[str, Any]  # version + {measure id: {unit, kind, scope}}
    taxonomy: dict[str, Any]  # version, file_hash, dimension_hash, score_scale, questions {id: {text, check, polarity}}
    operators: dict[str, dict[str, Any]]  # {name: {version, backend}}
    judge: dict[str, Any] | None = None  # {backend, version, reads_outputs, data}: the judge it calibrates
    cv: dict[str, Any]  # the cross-validated report: rows of figures with CIs (model, judge, features, ceilings), held-out predictions
    library: dict[str, str]
    created_at: datetime
    note: str = ""

    @model_validator(mode="after")
    def _shapes(self) -> "CalibrationArtifact":
        n = len(self.features)
        m = self.model
        if isinstance(m, LinearModel) and len(m.weights) != n:
            raise ValueError(f"{len(m.weights)} weights for {n} features")
        if isinstance(m, MLPModel):
            h = len(m.hidden_bias)
            if len(m.hidden_weights) != h or any(len(r) != n for r in m.hidden_weights) or len(m.output_weights) != h:
                raise ValueError(f"MLP shapes do not fit {n} features and {h} hidden units")
        if not self.scale[0] < self.scale[1]:
            raise ValueError(f"scale {list(self.scale)} must be (low, high) with low < high")
        return self

    @property
    def specs(self) -> list[FeatureSpec]:
        return [f.spec for f in self.features]


class Prediction(BaseModel):
    score: float  # clamped to the scale
    unclamped: float
    contributions: list[tuple[str, float | None, float]]  # (feature, its value or None, score change), largest first
    imputed: list[str]  # features that were missing and counted at their training median
    artifact_id: str


# ---- fingerprints: what an artifact depends on -------------------------------------------------

def measure_facts(catalogue: Any, ids: list[str]) -> dict[str, dict[str, str]]:
    return {i: {"unit": catalogue.get(i).unit, "kind": catalogue.get(i).kind, "scope": catalogue.get(i).scope}
            for i in ids}


def dimension_facts(taxonomy: Any, dimension: str) -> dict[str, Any]:
    """The slice of the taxonomy an artifact for `dimension` depends on."""
    from evalverse.provenance import canonical_hash

    dim = taxonomy.dimension(dimension)
    questions = {q.id: {"text": q.text, "check": q.check, "polarity": q.polarity.value, "answer": q.answer.value}
                 for sub in dim.sub_dimensions for q in sub.questions}
    return {"version": taxonomy.version, "score_scale": list(taxonomy.score_scale),
            "dimension_hash": canonical_hash(dim.model_dump(mode="json")), "questions": questions}


DOC_FIELDS = {"why", "description", "reason"}  # documentation: never changes an answer


def _numbers_only(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _numbers_only(v) for k, v in value.items() if k not in DOC_FIELDS}
    if isinstance(value, (list, tuple)):
        return [_numbers_only(v) for v in value]
    return value


def evidence_judge_facts(taxonomy: Any, dimension: str, checks: Any = None, weights: Any = None) -> dict[str, str]:
    """What the offline evidence judge's outputs for `dimension` depend on beyond the taxonomy slice: the
    checks its questions name (measures, comparisons, thresholds, parameters, code versions; not their
    documentation), the coverage rule and the scoring weights of its questions and sub-dimensions, each as a
    hash. An artifact that reads judge.* features of the evidence judge is refused when one changes."""
    from evalverse.judge.checks import code_checks, load_checks
    from evalverse.judge.scoring import load_weights
    from evalverse.provenance import canonical_hash

    checks = checks or load_checks()
    weights = weights or load_weights()
    dim = taxonomy.dimension(dimension)
    names = sorted({q.check for sub in dim.sub_dimensions for q in sub.questions if q.check})
    code = code_checks()
    used = {}
    for n in names:
        if n in checks.data:
            used[n] = {"data": _numbers_only(checks.data[n].model_dump(mode="json"))}
        elif n in checks.code:
            used[n] = {"code": _numbers_only(checks.code[n].model_dump(mode="json")),
                       "version": getattr(code.get(n), "version", None)}
        else:
            used[n] = {"unimplemented": True}
    qids = {q.id for sub in dim.sub_dimensions for q in sub.questions}
    subs = {sub.id for sub in dim.sub_dimensions}
    w = {"question": weights.default_question, "sub_dimension": weights.default_sub_dimension,
         "questions": {k: v for k, v in weights.questions.items() if k in qids},
         "sub_dimensions": {k: v for k, v in weights.sub_dimensions.items() if k in subs}}
    return {"checks": canonical_hash(used), "coverage": canonical_hash(_numbers_only(checks.coverage.model_dump(mode="json"))),
            "weights": canonical_hash(w)}


def compatibility_problems(artifact: CalibrationArtifact, catalogue: Any, taxonomy: Any,
                           operator_versions: Mapping[str, str] | None = None) -> list[str]:
    """What changed since training, one line each (empty: the artifact applies here)."""
    problems: list[str] = []
    trained = artifact.catalogue.get("measures", {})
    for mid, facts in trained.items():
        if mid not in catalogue:
            problems.append(f"measure {mid} is no longer in the measure catalogue")
            continue
        now = measure_facts(catalogue, [mid])[mid]
        for key in ("unit", "kind", "scope"):
            if facts.get(key) != now[key]:
                problems.append(f"measure {mid}: {key} was {facts.get(key)!r} at training, now {now[key]!r}")
    try:
        current = dimension_facts(taxonomy, artifact.dimension)
    except KeyError:
        return problems + [f"dimension {artifact.dimension} is no longer in the taxonomy"]
    old = artifact.taxonomy
    if list(old.get("score_scale", [])) != current["score_scale"]:
        problems.append(f"the taxonomy's score scale was {old.get('score_scale')}, now {current['score_scale']}")
    if old.get("dimension_hash") != current["dimension_hash"]:
        was, now = old.get("questions", {}), current["questions"]
        added, removed = sorted(now.keys() - was.keys()), sorted(was.keys() - now.keys())
        changed = sorted(q for q in now.keys() & was.keys() if now[q] != was[q])
        bits = ([f"questions added: {', '.join(added)}"] if added else []) + \
               ([f"questions removed: {', '.join(removed)}"] if removed else []) + \
               ([f"questions changed: {', '.join(changed)}"] if changed else [])
        problems.append(f"dimension {artifact.dimension} changed in the taxonomy (version {old.get('version')} -> "
                        f"{current['version']}; {'; '.join(bits) or 'its description or structure'})")
    judge = artifact.judge or {}
    if judge.get("reads_outputs") and judge.get("backend") == "evidence" and judge.get("data"):
        now = evidence_judge_facts(taxonomy, artifact.dimension)
        for key, what in (("checks", "checks its questions name"), ("coverage", "coverage rule"),
                          ("weights", "scoring weights")):
            if judge["data"].get(key) != now[key]:
                problems.append(f"the evidence judge's {what} for {artifact.dimension} changed since training "
                                "(its outputs are features: they would mean something else)")
    if operator_versions is None:
        operator_versions = _registered_versions(list(artifact.operators))
    for name, facts in artifact.operators.items():
        now = operator_versions.get(name)
        if now is None:
            problems.append(f"operator {name} is no longer registered")
        elif str(facts.get("version")) != str(now):
            problems.append(f"operator {name} was version {facts.get('version')} at training, now {now}")
    return problems


def _registered_versions(names: list[str]) -> dict[str, str]:
    from evalverse.operators.runner import get_operator, operator_names

    known = set(operator_names())
    return {n: get_operator(n).version for n in names if n in known}


def check_artifact(artifact: CalibrationArtifact, catalogue: Any = None, taxonomy: Any = None,
                   operator_versions: Mapping[str, str] | None = None) -> CalibrationArtifact:
    """The artifact, or CalibrationMismatch naming everything that changed since it was trained."""
    from evalverse.operators.catalogue import load_catalogue
    from evalverse.taxonomy import load_taxonomy

    problems = compatibility_problems(artifact, catalogue or load_catalogue(), taxonomy or load_taxonomy(),
                                      operator_versions)
    if problems:
        raise CalibrationMismatch(
            f"calibration {artifact.id} (trained {artifact.created_at:%Y-%m-%d}) does not fit this installation: "
            + "; ".join(problems)
            + f". Refit it: evalverse calibrate --dimension {artifact.dimension}")
    return artifact


# ---- reading, writing, finding -----------------------------------------------------------------

def parse_artifact(data: Any, where: str = "calibration artifact") -> CalibrationArtifact:
    try:
        return CalibrationArtifact.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DataError(f"{where} is not a valid calibration artifact: {'.'.join(map(str, first['loc'])) or 'file'}: "
                        f"{first['msg']} ({exc.error_count()} problem(s))") from None


def read_artifact(path: str | Path) -> CalibrationArtifact:
    """Parse an artifact file (DataError when unreadable or malformed; not yet checked against this install)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read calibration artifact {path}: {exc}") from exc
    return parse_artifact(data, f"calibration artifact {path}")


def load_artifact(path: str | Path, catalogue: Any = None, taxonomy: Any = None,
                  operator_versions: Mapping[str, str] | None = None) -> CalibrationArtifact:
    """Read and check an artifact: refused with CalibrationMismatch when it no longer applies."""
    return check_artifact(read_artifact(path), catalogue, taxonomy, operator_versions)


def write_artifact(artifact: CalibrationArtifact, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(artifact.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def user_artifact_path(data_dir: str | Path, dimension: str) -> Path:
    return Path(data_dir) / USER_SUBDIR / f"{dimension}.json"


def find_artifact_path(dimension: str, data_dir: str | Path | None = None) -> Path | None:
    """The artifact that applies to `dimension`: the user's (data folder) over the packaged default; None."""
    candidates = ([user_artifact_path(data_dir, dimension)] if data_dir is not None else []) + \
                 [PACKAGED_DIR / f"{dimension}.json"]
    return next((p for p in candidates if p.is_file()), None)


# ---- applying ------------------------------------------------------------------------------------

def _forward(model: LinearModel | MLPModel, z: list[float]) -> float:
    if isinstance(model, LinearModel):
        return model.intercept + sum(w * x for w, x in zip(model.weights, z))
    hidden = [math.tanh(b + sum(w * x for w, x in zip(row, z)))
              for row, b in zip(model.hidden_weights, model.hidden_bias)]
    return model.output_bias + sum(w * h for w, h in zip(model.output_weights, hidden))


def predict_row(artifact: CalibrationArtifact, row: Mapping[str, float | None]) -> Prediction:
    """The calibrated score for one clip's feature row ({feature name: transformed value or None})."""
    z, imputed = [], []
    for f in artifact.features:
        value = row.get(f.name)
        if value is None or not math.isfinite(value):
            imputed.append(f.name)
            value = f.impute
        z.append((value - f.mean) / f.scale)
    raw = _forward(artifact.model, z)
    contributions = []
    for i, f in enumerate(artifact.features):
        zero = list(z)
        zero[i] = 0.0  # the feature at its training mean
        contributions.append((f.name, row.get(f.name), raw - _forward(artifact.model, zero)))
    contributions.sort(key=lambda c: -abs(c[2]))
    lo, hi = artifact.scale
    return Prediction(score=min(max(raw, lo), hi), unclamped=raw, contributions=contributions, imputed=imputed,
                      artifact_id=artifact.id)


def backend_problems(artifact: CalibrationArtifact, evidence: Any) -> list[str]:
    """Operators whose evidence here was made by another backend or version than the training evidence."""
    problems = []
    for name, facts in artifact.operators.items():
        rec = evidence.record(name) if hasattr(evidence, "record") else None
        if rec is None or not rec.usable:
            continue  # missing evidence is imputed, and reported as such
        if facts.get("backend") is not None and rec.backend != facts.get("backend"):
            problems.append(f"{name} ran with backend {rec.backend}, training evidence used {facts['backend']}")
        if str(rec.version) != str(facts.get("version")):
            problems.append(f"{name} evidence is version {rec.version}, training used {facts.get('version')}")
    return problems


def apply(artifact: CalibrationArtifact, evidence: Any, judge: JudgeOutputs | None = None) -> Prediction:
    """Predict one clip from its Evidence (and the judge's outputs when judge features are used)."""
    problems = backend_problems(artifact, evidence)
    if problems:
        raise CalibrationMismatch(f"calibration {artifact.id} does not apply to this evidence: " + "; ".join(problems))
    return predict_row(artifact, feature_row(artifact.specs, evidence, judge))
