"""Calibration features, specs and artifacts: what a feature reads, what a spec may name, and an artifact that
round-trips, predicts with its contributions, and is refused when the catalogue, taxonomy or operators changed."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import yaml

from evalverse.calibration.spec import load_spec, load_specs, validate_spec
from evalverse.errors import DataError
from evalverse.judge import calibration_artifact as CA
from evalverse.judge.calibration_features import FeatureSpec, JudgeOutputs, feature_row, spec_problems
from evalverse.operators.catalogue import Catalogue, load_catalogue
from evalverse.taxonomy import load_taxonomy
from evalverse.taxonomy.loader import DEFAULT_PATH
from calibration_helpers import FEATURES, FakeEvidence, artifact, spec

VALUES = {"quality.sharpness": 99.0, "quality.noise_sigma": 1.5, "camera.shots.shake_pct_w": [(0, 0.2), (1, 0.6), (2, None)]}


# ---- features ----------------------------------------------------------------------------------------

def test_a_feature_reads_its_measure_aggregates_shots_and_transforms():
    judge = JudgeOutputs(score=3.5, answers={"visual_quality_rendering_quality_q1": 1.0})
    row = feature_row(list(FEATURES) + [FeatureSpec(source="judge.answer.visual_quality_rendering_quality_q1")],
                      FakeEvidence(VALUES), judge)
    assert row == {"log(quality.sharpness+1)": pytest.approx(math.log(100.0)), "quality.noise_sigma": 1.5,
                   "max(camera.shots.shake_pct_w)": 0.6, "judge.score": 3.5,
                   "judge.answer.visual_quality_rendering_quality_q1": 1.0}
    assert feature_row(list(FEATURES), FakeEvidence({}), None) == {f.name: None for f in FEATURES}


def test_judge_outputs_read_the_uncalibrated_score_when_a_calibration_replaced_it():
    result = {"score": 4.4, "uncalibrated_score": 2.9, "answers": [{"question_id": "q", "score": 0.0}]}
    assert JudgeOutputs.from_result(result).score == 2.9
    assert JudgeOutputs.from_result({"score": 3.1}).score == 3.1


@pytest.mark.parametrize("feature,problem", [
    (FeatureSpec(source="metadata.width"), "source proxy"),
    (FeatureSpec(source="quality.no_such_measure"), "not in the measure catalogue"),
    (FeatureSpec(source="camera.shots.shake_pct_w"), "per shot"),
    (FeatureSpec(source="quality.sharpness", aggregate="mean"), "one value per clip"),
    (FeatureSpec(source="quality.sharpness", transform="log"), "give an offset"),
    (FeatureSpec(source="quality.exposure.key"), "a category"),
    (FeatureSpec(source="judge.answer.visual_quality_physics_q1"), "has no check"),
    (FeatureSpec(source="judge.answer.lens_q1"), "not one of visual_quality's questions"),
])
def test_spec_refuses_features_the_catalogue_or_taxonomy_cannot_support(feature, problem):
    problems = spec_problems([feature], load_catalogue(), load_taxonomy(), "visual_quality")
    assert len(problems) == 1 and problem in problems[0]


def test_bad_feature_definitions_fail_when_written():
    for bad in ({"source": "judge.bogus"}, {"source": "judge.score.x"}, {"source": "judge.score", "aggregate": "max"},
                {"source": "quality.sharpness", "offset": 2}):
        with pytest.raises(ValueError):
            FeatureSpec.model_validate(bad)


def test_the_packaged_specs_fit_the_catalogue_and_taxonomy():
    specs = load_specs()
    assert "visual_quality" in specs
    s = load_spec("visual_quality")
    assert not any(f.source.startswith("metadata.") for f in s.features)
    assert s.operators[0] == "shots" and "quality" in s.operators


def test_a_spec_naming_a_measure_that_is_not_there_yet_is_refused_with_its_name():
    # Longer than every id in today's catalogue, so it is absent by construction, whatever measures are added later
    # (a real name like "brisque.mean" once stood here, until BRISQUE arrived and the test went stale).
    ids = [m.id for m in load_catalogue()]
    absent = "quality.not_yet_" + "x" * max(map(len, ids))
    assert absent not in load_catalogue()
    future = spec(features=[*FEATURES, FeatureSpec(source=absent)])
    with pytest.raises(DataError, match=re.escape(absent)):
        validate_spec(future)


def test_the_packaged_spec_reads_the_human_trained_perception_measures():
    s = load_spec("visual_quality")
    assert {"brisque.mean", "niqe.mean"} <= {f.source for f in s.features}
    assert {"brisque", "niqe"} <= set(s.operators)


# ---- artifacts ---------------------------------------------------------------------------------------

def test_artifact_round_trips_and_predicts_the_same(tmp_path):
    art, X, final = artifact()
    path = CA.write_artifact(art, tmp_path / "a.json")
    back = CA.load_artifact(path)
    assert back == art and back.id == art.id and back.id.startswith("visual_quality-static_quality-")
    rows = [{k: float(v) for k, v in r.items()} for _, r in X.iterrows()]
    got = np.array([CA.predict_row(back, r).unclamped for r in rows])
    np.testing.assert_allclose(got, final.fitted, atol=1e-9)
    data = json.loads(path.read_text())
    assert {"features", "model", "training", "catalogue", "taxonomy", "operators", "cv", "library", "created_at"} <= set(data)
    f0 = data["features"][0]
    assert f0["spec"]["source"] == "quality.sharpness" and f0["unit"] == load_catalogue().get("quality.sharpness").unit
    assert data["catalogue"]["version"] == load_catalogue().version and data["training"]["data_hash"]


def test_the_same_fit_on_the_same_data_gets_the_same_id_and_other_data_another():
    assert artifact()[0].id == artifact()[0].id
    assert artifact(seed=1)[0].id != artifact()[0].id


def test_prediction_is_clamped_names_its_contributions_and_reports_imputation():
    art, _, _ = artifact()
    row = {"log(quality.sharpness+1)": 50.0, "quality.noise_sigma": None, "max(camera.shots.shake_pct_w)": 0.1,
           "judge.score": 3.0}
    p = CA.predict_row(art, row)
    assert p.score == 5.0 and p.unclamped > 5.0
    assert p.imputed == ["quality.noise_sigma"]
    assert p.contributions[0][0] == "log(quality.sharpness+1)" and p.contributions[0][2] > 0
    baseline = art.model.intercept + sum(w * (f.impute - f.mean) / f.scale * 0 for w, f in zip(art.model.weights, art.features))
    assert sum(c for _, _, c in p.contributions) == pytest.approx(p.unclamped - baseline)


def test_the_mlp_artifact_round_trips_too(tmp_path):
    art, X, final = artifact(models=("mlp",))
    assert art.model.kind == "mlp"
    back = CA.load_artifact(CA.write_artifact(art, tmp_path / "m.json"))
    got = [CA.predict_row(back, {k: float(v) for k, v in r.items()}).unclamped for _, r in X.iterrows()]
    np.testing.assert_allclose(got, final.fitted, atol=1e-9)


def test_apply_reads_evidence_and_refuses_evidence_from_another_backend():
    art, _, _ = artifact()
    p = CA.apply(art, FakeEvidence(VALUES), JudgeOutputs(score=3.0))
    assert 1.0 <= p.score <= 5.0 and p.artifact_id == art.id
    with pytest.raises(CA.CalibrationMismatch, match="camera ran with backend raft"):
        CA.apply(art, FakeEvidence(VALUES, backends={"quality": "opencv", "camera": "raft"}))


def test_an_artifact_is_refused_when_a_measure_left_the_catalogue():
    art, _, _ = artifact()
    cat = load_catalogue()
    smaller = Catalogue({k: v for k, v in cat.measures.items() if k != "quality.noise_sigma"}, cat.version, cat.path)
    with pytest.raises(CA.CalibrationMismatch, match="measure quality.noise_sigma is no longer in the measure catalogue"):
        CA.check_artifact(art, catalogue=smaller)


def test_an_artifact_is_refused_when_a_measure_changed_unit(tmp_path):
    art, _, _ = artifact()
    from evalverse.operators.catalogue import CATALOGUE_PATH

    raw = yaml.safe_load(CATALOGUE_PATH.read_text())
    raw["measures"]["quality"]["noise_sigma"]["unit"] = "16-bit levels"
    path = tmp_path / "measures.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(CA.CalibrationMismatch, match="quality.noise_sigma: unit was '8-bit levels' at training, now '16-bit levels'"):
        CA.check_artifact(art, catalogue=load_catalogue(path))


def test_an_artifact_is_refused_when_its_dimension_changed_in_the_taxonomy(tmp_path):
    art, _, _ = artifact()
    raw = yaml.safe_load(DEFAULT_PATH.read_text())
    for stage in raw["stages"]:
        for aspect in stage["aspects"]:
            for dim in aspect["dimensions"]:
                if dim["id"] == "visual_quality":
                    dim["sub_dimensions"][0]["questions"][0]["check"] = None
                if dim["id"] == "lens":
                    dim["description"] += " (edited)"  # another dimension's edit does not matter
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(CA.CalibrationMismatch, match="questions changed: visual_quality_rendering_quality_q1"):
        CA.check_artifact(art, taxonomy=load_taxonomy(path))


def test_an_artifact_is_accepted_when_only_unrelated_parts_changed(tmp_path):
    art, _, _ = artifact()
    raw = yaml.safe_load(DEFAULT_PATH.read_text())
    raw["stages"][0]["description"] += " (edited)"
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert CA.check_artifact(art, taxonomy=load_taxonomy(path)) is art


def test_an_artifact_is_refused_when_an_operator_changed_version():
    art, _, _ = artifact()
    with pytest.raises(CA.CalibrationMismatch, match="operator quality was version .* at training, now 9.9"):
        CA.check_artifact(art, operator_versions={"quality": "9.9", "camera": art.operators["camera"]["version"]})


def test_a_malformed_artifact_file_is_a_data_error(tmp_path):
    art, _, _ = artifact()
    data = json.loads(art.model_dump_json())
    data["model"]["weights"] = data["model"]["weights"][:-1]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match="weights for"):
        CA.read_artifact(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(DataError, match="cannot read calibration artifact"):
        CA.read_artifact(tmp_path / "junk.json")


def test_the_users_artifact_replaces_the_packaged_default(tmp_path):
    art, _, _ = artifact()
    assert CA.find_artifact_path("visual_quality", tmp_path) == (
        CA.PACKAGED_DIR / "visual_quality.json" if (CA.PACKAGED_DIR / "visual_quality.json").is_file() else None)
    CA.write_artifact(art, CA.user_artifact_path(tmp_path, "visual_quality"))
    assert CA.find_artifact_path("visual_quality", tmp_path) == tmp_path / "calibration" / "visual_quality.json"
