"""The packaged taxonomy matches the paper's tree and the evidence contract; bad files fail clearly; CLI works."""
from __future__ import annotations

import copy
import csv
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evalverse.commands.taxonomy import app as taxonomy_app
from evalverse.errors import DataError
from evalverse.taxonomy import Gate, Polarity, load_taxonomy
from evalverse.taxonomy.loader import DEFAULT_PATH

BRIEF_EVIDENCE_KINDS = {
    "metadata", "shots", "faces", "people", "features", "speech", "lipsync", "camera", "quality", "colour", "audio",
    "nr_quality", "facial_expression", "speech_quality",  # issue 9: human-trained perception
}
CHECK_PATTERN = re.compile(r"^[a-z]+\.[a-z0-9_]+$")


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def _questions(tax):
    for _, _, dim in tax.iter_dimensions():
        for sub in dim.sub_dimensions:
            for q in sub.questions:
                yield dim, sub, q


def _raw() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data, encoding="utf-8")
    return path


# ---- the packaged tree ------------------------------------------------------------------------------

def test_packaged_file_loads_with_paper_counts(tax):
    counts = tax.counts()
    assert (counts["stages"], counts["aspects"], counts["dimensions"], counts["sub_dimensions"]) == (3, 7, 18, 44)
    assert 180 <= counts["questions"] <= 215
    assert tuple(tax.score_scale) == (1.0, 5.0)
    assert "EvalVerse" in tax.source and "section 3" in tax.source


def test_evidence_kinds_are_exactly_the_briefs(tax):
    assert {k.id for k in tax.evidence_kinds} == BRIEF_EVIDENCE_KINDS


def test_stage_and_aspect_names(tax):
    assert [(s.id, s.name) for s in tax.stages] == [
        ("pre_production", "Pre-Production"), ("production", "Production"), ("post_production", "Post-Production")]
    assert [a.name for _, a in tax.iter_aspects()] == [
        "Visual Concept Design", "Acting", "Cinematography", "Aesthetics", "Affectivity", "Multi-Shot", "Sound Design"]


def test_dimensions_match_paper_win_ratio_table(tax, paper_csv):
    path = paper_csv
    with path.open(newline="", encoding="utf-8") as fh:
        paper = {(r["stage"], r["aspect"], r["dimension"]) for r in csv.DictReader(fh)}
    ours = {(s.name, a.name, d.name) for s, a, d in tax.iter_dimensions()}
    assert ours == paper


def test_every_dimension_is_found_by_id_and_name(tax):
    for dim in tax.dimensions:
        assert tax.dimension(dim.id) is dim
        assert tax.dimension(dim.name.upper()) is dim
    with pytest.raises(KeyError):
        tax.dimension("no_such_dimension")


def test_sub_dimension_and_question_ids_follow_convention(tax):
    for dim in tax.dimensions:
        for sub in dim.sub_dimensions:
            assert sub.id.startswith(dim.id + "_"), sub.id
            assert [q.id for q in sub.questions] == [f"{sub.id}_q{i}" for i in range(1, len(sub.questions) + 1)]
            assert 3 <= len(sub.questions) <= 6, sub.id


def test_paper_sub_dimensions_present(tax):
    names = {d.id: {s.name for s in d.sub_dimensions} for d in tax.dimensions}
    assert names["character"] == {"Identifiability", "Costume Rationality"}
    assert names["lens"] == {"Depth of Field", "Focal Length", "Focus", "Exposure"}
    assert names["vocal"] == {"Acoustic Quality", "Lip-Sync", "Narrative Sound Design"}
    assert names["expression"] == {"Accuracy", "Facial Tension", "Expression Diversity", "Continuity"}
    assert names["pacing"] == {"Movement Rationality"}


def test_every_referenced_evidence_kind_exists(tax):
    kinds = {k.id for k in tax.evidence_kinds}
    for dim, _, q in _questions(tax):
        assert set(dim.evidence) <= kinds
        assert set(q.evidence) <= kinds
        # a question's evidence is also listed on its dimension, so the judge fetches it for that dimension
        assert set(q.evidence) <= set(dim.evidence), (q.id, q.evidence, dim.evidence)


def test_gates_follow_the_paper(tax):
    by_id = {d.id: d for d in tax.dimensions}
    for dim_id in ("vocal", "soundscape"):
        assert Gate.needs_audio in by_id[dim_id].gates
        assert [m.value for m in by_id[dim_id].modes] == ["av"]
    for dim_id in ("logic", "rhythm"):
        assert Gate.needs_multi_shot in by_id[dim_id].gates
        assert [m.value for m in by_id[dim_id].modes] == ["multi_shot"]
    assert Gate.needs_face in by_id["expression"].gates
    assert Gate.needs_person in by_id["action"].gates
    assert Gate.needs_person in by_id["consistency"].gates
    lip = next(s for s in by_id["vocal"].sub_dimensions if s.name == "Lip-Sync")
    assert {Gate.needs_speech, Gate.needs_face} <= set(lip.gates)
    music = next(s for s in by_id["soundscape"].sub_dimensions if s.name == "Musical Score Alignment")
    assert Gate.needs_audio in music.gates
    for dim_id, sub_name in [("action", "Action-Emotion Synergy"), ("progression", "Intensity Layering"),
                             ("chromaticity", "Emotive Power"), ("expression", "Expression Diversity")]:
        sub = next(s for s in by_id[dim_id].sub_dimensions if s.name == sub_name)
        assert Gate.context_dependent in sub.gates and sub.context


def test_checks_are_well_formed_and_backed_by_listed_evidence(tax):
    kinds = {k.id for k in tax.evidence_kinds}
    names = set()
    for _, _, q in _questions(tax):
        if q.check is None:
            continue
        assert CHECK_PATTERN.match(q.check), q.check
        prefix = q.check.split(".", 1)[0]
        assert prefix in kinds, q.check
        assert prefix in q.evidence, (q.id, q.check, q.evidence)
        # a passing check means the good outcome, so the question must read "yes = good"
        assert q.polarity is Polarity.positive, q.id
        names.add(q.check)
    assert 30 <= len(names) <= 45, sorted(names)


def test_checks_that_need_a_face_or_reference_are_gated(tax):
    for dim, sub, q in _questions(tax):
        gates = set(dim.gates) | set(sub.gates) | set(q.gates)
        if q.check and q.check.startswith(("faces.", "lipsync.")):
            assert Gate.needs_face in gates, q.id
        if q.check and "reference" in q.check:
            assert Gate.needs_reference in gates, q.id
        if q.check and q.check.startswith("people."):
            assert Gate.needs_person in gates, q.id
        if q.check and "across_shots" in q.check:
            assert Gate.needs_multi_shot in gates, q.id


# ---- malformed files ------------------------------------------------------------------------------

def test_duplicate_id_is_a_data_error(tmp_path):
    data = _raw()
    dims = data["stages"][0]["aspects"][0]["dimensions"]
    dims[1]["sub_dimensions"][0]["id"] = dims[0]["sub_dimensions"][0]["id"]
    with pytest.raises(DataError, match=r"duplicate node id 'character_identifiability'"):
        load_taxonomy(_write(tmp_path, data))


def test_duplicate_question_id_is_a_data_error(tmp_path):
    data = _raw()
    qs = data["stages"][0]["aspects"][0]["dimensions"][0]["sub_dimensions"][0]["questions"]
    qs[1]["id"] = qs[0]["id"]
    with pytest.raises(DataError, match=r"duplicate question id"):
        load_taxonomy(_write(tmp_path, data))


def test_unknown_evidence_kind_is_a_data_error(tmp_path):
    data = _raw()
    data["stages"][1]["aspects"][1]["dimensions"][1]["evidence"] = ["quality", "telepathy"]
    with pytest.raises(DataError, match=r"unknown evidence kind 'telepathy'"):
        load_taxonomy(_write(tmp_path, data))


def test_context_dependent_without_context_is_a_data_error(tmp_path):
    data = _raw()
    sub = data["stages"][0]["aspects"][0]["dimensions"][0]["sub_dimensions"][1]
    sub["gates"] = ["context_dependent"]
    sub.pop("context", None)
    with pytest.raises(DataError, match=r"context_dependent but says no `context`"):
        load_taxonomy(_write(tmp_path, data))


def test_unknown_gate_and_extra_field_are_data_errors(tmp_path):
    data = _raw()
    bad = copy.deepcopy(data)
    bad["stages"][0]["aspects"][0]["dimensions"][0]["gates"] = ["needs_magic"]
    with pytest.raises(DataError, match=r"invalid"):
        load_taxonomy(_write(tmp_path, bad))
    bad = copy.deepcopy(data)
    bad["stages"][0]["colour"] = "red"
    with pytest.raises(DataError, match=r"colour"):
        load_taxonomy(_write(tmp_path, bad))


@pytest.mark.parametrize("text", ["stages: [\n  - id: x\n", "", "- just\n- a list\n"])
def test_bad_or_empty_yaml_is_a_data_error(tmp_path, text):
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=str(path).replace("\\", "\\\\")):
        load_taxonomy(path)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"cannot read taxonomy file"):
        load_taxonomy(tmp_path / "nope.yaml")


# ---- CLI ------------------------------------------------------------------------------------------

def test_cli_json_has_counts_and_tree(tax):
    result = CliRunner().invoke(taxonomy_app, ["--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["counts"] == tax.counts()
    dims = [d["name"] for s in payload["taxonomy"]["stages"] for a in s["aspects"] for d in a["dimensions"]]
    assert dims == [d.name for d in tax.dimensions]


def test_cli_tree_is_readable(tax):
    result = CliRunner().invoke(taxonomy_app, ["--questions"])
    assert result.exit_code == 0, result.output
    assert f"{tax.counts()['questions']} questions" in result.output.splitlines()[0]
    assert "  Cinematography [cinematography]" in result.output
    assert "vocal_lip_sync_q1" in result.output


def test_cli_validate_good_and_bad(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(taxonomy_app, ["validate", str(DEFAULT_PATH), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["counts"]["dimensions"] == 18
    data = _raw()
    data["evidence_kinds"] = data["evidence_kinds"][1:]  # drop metadata, still referenced by dimensions
    bad = runner.invoke(taxonomy_app, ["validate", str(_write(tmp_path, data))])
    assert bad.exit_code != 0
    assert isinstance(bad.exception, DataError)
    assert "unknown evidence kind 'metadata'" in str(bad.exception)


def test_cli_entry_point_reports_bad_file_in_one_line(tmp_path):
    import subprocess
    import sys

    path = _write(tmp_path, "stages: [\n")
    proc = subprocess.run([sys.executable, "-m", "evalverse.cli", "taxonomy", "validate", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: taxonomy file") and "Traceback" not in proc.stderr
