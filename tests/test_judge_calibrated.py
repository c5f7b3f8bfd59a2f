"""The judge uses a calibration: with an artifact installed for a dimension, the run's score is the calibrated
prediction, the rationale names what moved it, the rule-based answers stay, and the artifact's id is part of the
run's provenance and cache key; a stale or unreadable artifact falls back to the judge's own score and says why;
a dimension without one behaves as before."""
from __future__ import annotations

import json

import pytest

from calibration_helpers import FakeEvidence, artifact
from evalverse.judge import calibration_artifact as CA
from evalverse.judge.calibrated import Resolved, calibrate_result, resolve_calibrations
from evalverse.judge.calibration_artifact import predict_row, user_artifact_path, write_artifact
from evalverse.judge.calibration_features import JudgeOutputs, feature_row
from evalverse.judge.types import DimensionResult
from evalverse.media.synthetic import silent_audio_clip
from evalverse.pipeline import diagnose, operators_for
from evalverse.store import Store
from evalverse.taxonomy import load_taxonomy

DIM = "visual_quality"


@pytest.fixture
def clip(tmp_path):
    return silent_audio_clip(tmp_path / "card.mp4", seconds=1.0, size=(640, 480)).path  # textured, SD, sharp


@pytest.fixture(scope="module")
def art():
    return artifact()[0]  # reads quality.sharpness, quality.noise_sigma, max(camera.shots.shake_pct_w), judge.score


def _install(settings, a) -> None:
    write_artifact(a, user_artifact_path(settings.data_dir, DIM))


def _one(report):
    (result,) = report["results"]
    return result


def test_a_dimension_without_calibration_behaves_as_before(clip, settings):
    report = diagnose(clip, settings, dimensions=[DIM])
    result = _one(report)
    assert result["uncalibrated_score"] is None and result["calibration"] is None
    assert not any(k.startswith("calibration.") for k in report["provenance"]["data"])
    assert "camera" not in report["operators"]  # Visual Quality's own questions do not need it


def test_an_installed_calibration_replaces_the_score_names_its_features_and_changes_the_cache_key(clip, settings, art):
    store = Store.memory()
    before = diagnose(clip, settings, dimensions=[DIM], store=store)
    _install(settings, art)
    after = diagnose(clip, settings, dimensions=[DIM], store=store)
    assert not after["cached"] and after["provenance"]["hash"] != before["provenance"]["hash"]
    assert after["provenance"]["data"][f"calibration.{DIM}"] == art.id
    assert "camera" in after["operators"]  # the artifact reads camera evidence: it ran, nothing was imputed for it

    old, new = _one(before), _one(after)
    assert new["uncalibrated_score"] == old["score"]
    cal = new["calibration"]
    assert cal["applied"] and cal["id"] == art.id and cal["imputed"] == []
    lo, hi = load_taxonomy().score_scale
    assert new["score"] == pytest.approx(min(max(cal["unclamped"], lo), hi)) and new["score"] != old["score"]
    assert [a["answer"] for a in new["answers"]] == [a["answer"] for a in old["answers"]]  # the rules stay visible
    assert new["rationale"].startswith(old["rationale"])
    top = cal["contributions"][0]
    assert abs(top["change"]) == max(abs(c["change"]) for c in cal["contributions"])
    assert f"{top['source']} = " in new["rationale"] and f"{top['change']:+.2f}" in new["rationale"]
    assert top["unit"] in new["rationale"] and "Calibrated score" in new["rationale"]

    again = diagnose(clip, settings, dimensions=[DIM], store=store)
    assert again["cached"] and _one(again)["score"] == new["score"]


def test_the_calibrated_score_is_the_artifacts_prediction_from_the_runs_own_evidence(art):
    ev = FakeEvidence({"quality.sharpness": 400.0, "quality.noise_sigma": 1.5, "camera.shots.shake_pct_w": [(0, 0.2)]})
    judged = DimensionResult(dimension=DIM, status="scored", score=4.0, backend="evidence", rationale="rules.")
    out = calibrate_result(judged, Resolved(DIM, CA.PACKAGED_DIR / "x.json", art.id, art), ev)
    expected = predict_row(art, feature_row(art.specs, ev, JudgeOutputs(score=4.0)))
    assert out.score == pytest.approx(expected.score) and out.uncalibrated_score == 4.0
    assert JudgeOutputs.from_result(out.model_dump()).score == 4.0  # a refit reads the judge's own score


def test_a_stale_artifact_falls_back_to_the_judges_score_and_says_why(clip, settings, art):
    plain = diagnose(clip, settings, dimensions=[DIM])
    stale = art.model_copy(update={"operators": {**art.operators, "quality": {"version": "0.0.1", "backend": "opencv"}}})
    _install(settings, stale)
    report = diagnose(clip, settings, dimensions=[DIM])
    result = _one(report)
    assert result["score"] == _one(plain)["score"] == result["uncalibrated_score"]
    assert result["calibration"]["applied"] is False
    assert "operator quality was version 0.0.1 at training" in result["calibration"]["reason"]
    assert f"Calibration {art.id} not applied" in result["rationale"] and "uncalibrated" in result["rationale"]
    assert report["provenance"]["data"][f"calibration.{DIM}"] == f"refused:{art.id}"
    assert report["provenance"]["hash"] != plain["provenance"]["hash"]
    assert "camera" not in report["operators"]  # a refused artifact reads nothing


def test_evidence_from_another_operator_backend_falls_back_at_apply_time(art):
    ev = FakeEvidence({"quality.sharpness": 400.0}, backends={"quality": "torch", "camera": "opencv"})
    judged = DimensionResult(dimension=DIM, status="scored", score=4.0, backend="evidence")
    out = calibrate_result(judged, Resolved(DIM, CA.PACKAGED_DIR / "x.json", art.id, art), ev)
    assert out.score == 4.0 and not out.calibration["applied"] and "backend torch" in out.calibration["reason"]


def test_an_unscored_result_is_never_given_a_calibrated_score(art):
    judged = DimensionResult(dimension=DIM, status="not_judged", backend="evidence")
    assert calibrate_result(judged, Resolved(DIM, CA.PACKAGED_DIR / "x.json", art.id, art), FakeEvidence({})) == judged


def test_the_user_folder_wins_over_the_packaged_default_and_other_backends_are_left_alone(tmp_path, monkeypatch, art):
    packaged = tmp_path / "packaged"
    monkeypatch.setattr(CA, "PACKAGED_DIR", packaged)
    other = art.model_copy(update={"id": "visual_quality-static_quality-packaged"})
    write_artifact(other, packaged / f"{DIM}.json")
    data = tmp_path / "data"
    assert resolve_calibrations([DIM], "evidence", data)[DIM].artifact_id == other.id
    write_artifact(art, user_artifact_path(data, DIM))
    (resolved,) = resolve_calibrations([DIM], "evidence", data).values()
    assert resolved.usable and resolved.artifact_id == art.id
    assert resolve_calibrations([DIM], "openai", data) == {}  # it calibrates the evidence judge's outputs only
    dim = load_taxonomy().dimension(DIM)
    assert "camera" in operators_for([dim], {DIM: resolved}) and "camera" not in operators_for([dim])


def test_an_unreadable_artifact_is_refused_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(CA, "PACKAGED_DIR", tmp_path / "none")
    path = user_artifact_path(tmp_path, DIM)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format": "evalverse.calibration/1", "id": "x"}))
    (resolved,) = resolve_calibrations([DIM], "evidence", tmp_path).values()
    assert not resolved.usable and "not a valid calibration artifact" in resolved.problem
    assert resolved.provenance.startswith("refused:")


def test_a_changed_evidence_judge_check_refuses_an_artifact_that_reads_its_outputs(art, tmp_path, monkeypatch):
    import yaml

    from evalverse.judge.checks import data as checks_data

    assert art.judge["reads_outputs"] and art.judge["data"]
    checks = tmp_path / "checks.yaml"
    raw = yaml.safe_load(checks_data.CHECKS_PATH.read_text(encoding="utf-8"))
    raw["checks"]["quality.sharpness_adequate"]["all"][0]["threshold"] = 61.0
    checks.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    problems = CA.compatibility_problems(art, _catalogue(), load_taxonomy())
    assert problems == []
    monkeypatch.setattr(checks_data, "CHECKS_PATH", checks)
    problems = CA.compatibility_problems(art, _catalogue(), load_taxonomy())
    assert any("evidence judge's checks its questions name for visual_quality changed" in p for p in problems)


def _catalogue():
    from evalverse.operators.catalogue import load_catalogue

    return load_catalogue()
