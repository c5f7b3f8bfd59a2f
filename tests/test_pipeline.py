"""Pipeline and `evalverse diagnose`: synthetic clips with planted truth (fast), shared media (slow)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from evalverse.errors import InputError
from evalverse.media.synthetic import cuts_clip, silent_audio_clip
from evalverse.pipeline import diagnose, diagnose_stream
from evalverse.store import Store

DIMS = "visual_quality,rhythm,soundscape,logic"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return {"silent": silent_audio_clip(d / "silent.mp4", seconds=2.0).path,
            "cuts": cuts_clip(d / "cuts.mp4", cut_frames=(25, 60), n=100).path}


def test_events_gating_store_and_cache(settings, clips):
    store = Store.memory()
    events = list(diagnose_stream(clips["silent"], settings, dimensions=DIMS, store=store, prompt="a grey card"))
    types = [e["type"] for e in events]
    assert types[:3] == ["start", "probe", "decode"] and types[-1] == "report"
    assert types.index("shots") < types.index("dimension_done")
    assert types.count("operator_done") == types.count("operator_start") >= 3
    json.dumps(events)  # every event is plain JSON
    report = events[-1]["report"]
    res = {r["dimension"]: r for r in report["results"]}
    assert list(res) == DIMS.split(",")
    # planted truth: digitally silent audio, one shot
    assert res["soundscape"]["status"] == "gated" and "silent" in res["soundscape"]["gate_reason"]
    for dim in ("rhythm", "logic"):
        assert res[dim]["status"] == "gated" and res[dim]["gate_reason"].startswith("a single shot: 1 shot(s)")
    # planted truth: a flat grey card is soft (no detail at all) and otherwise clean: visual quality is scored
    # from the objective checks, and the softness costs it points
    vq = res["visual_quality"]
    answers = {a["question_id"]: a for a in vq["answers"]}
    sharp = answers["visual_quality_rendering_quality_q1"]
    assert sharp["answer"] is False and "vs minimum" in sharp["basis"]
    assert vq["status"] == "scored" and 1.0 <= vq["score"] < 5.0
    assert all(a["answer"] is True for q, a in answers.items() if a["answer"] is not None and q != sharp["question_id"])
    # stored as a run with per-dimension results
    assert report["run_id"] is not None and not report["cached"]
    # stored in the order they finished (each as soon as its evidence was ready); every one is there
    assert sorted(r["dimension"] for r in store.run_results(report["run_id"])) == sorted(DIMS.split(","))
    # the same clip with the same settings returns the stored run at once
    again = list(diagnose_stream(clips["silent"], settings, dimensions=DIMS, store=store, prompt="a grey card"))
    assert [e["type"] for e in again][:3] == ["start", "probe", "cached"]
    assert not {"decode", "operator_start", "judge"} & {e["type"] for e in again}  # nothing recomputed
    assert again[-1]["report"]["cached"] and again[-1]["report"]["run_id"] == report["run_id"]
    assert again[-1]["report"]["results"] == report["results"]
    # a different prompt is a different run
    other = diagnose(clips["silent"], settings, dimensions=DIMS, store=store, prompt="a black card")
    assert not other["cached"] and other["run_id"] != report["run_id"]


def test_multi_shot_clip_is_not_gated_for_multi_shot(settings, clips):
    report = diagnose(clips["cuts"], settings, dimensions="rhythm,logic")
    res = {r["dimension"]: r for r in report["results"]}
    for r in res.values():
        assert r["status"] != "gated", r["gate_reason"]
    rhythm = res["rhythm"]
    # planted cuts at 1.0 s and 2.4 s: shots of 1.0, 1.4, 1.6 s
    assert "3 shots" in rhythm["rationale"]


def test_bad_input_is_a_clear_error(settings, clips, tmp_path):
    with pytest.raises(InputError, match="unknown dimension 'nope'"):
        diagnose(clips["silent"], settings, dimensions="nope")
    with pytest.raises(InputError, match="unknown judge 'x'"):
        diagnose(clips["silent"], settings, judge="x")
    with pytest.raises(InputError, match="unknown mode"):
        diagnose(clips["silent"], settings, mode="v2v")
    with pytest.raises(InputError, match="reference .* does not exist"):
        diagnose(clips["silent"], settings, reference=tmp_path / "missing.png")


def test_cli_diagnose_json_and_errors(settings, clips, tmp_path, monkeypatch, capsys):
    from evalverse import cli

    monkeypatch.setenv("EVALVERSE_DATA", str(tmp_path))
    monkeypatch.setattr("sys.argv", ["evalverse", "diagnose", str(clips["silent"]), "--dimensions", "soundscape,logic",
                                     "--json", "--db", str(tmp_path / "x.duckdb")])
    cli.main()
    report = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in report["results"]] == ["gated", "gated"]
    monkeypatch.setattr("sys.argv", ["evalverse", "diagnose", str(clips["silent"]), "--dimensions", "nope"])
    with pytest.raises(SystemExit) as failed:
        cli.main()
    assert failed.value.code == 2 and "unknown dimension 'nope'" in capsys.readouterr().err


# ---- shared media (slow) ----------------------------------------------------------------------------

def _manifest(shared_media: Path) -> dict[str, dict]:
    with open(shared_media / "manifest.csv", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


@pytest.mark.slow
def test_shared_media_gates_and_scores(settings, shared_media):
    """Silent clips gate sound; single-shot clips gate multi-shot; every result is a score in range or a
    reason; rationales cite numbers."""
    rows = _manifest(shared_media)
    picks = ["real_multishot_silent_bikes.mp4", "ai_cogvideox_kitten.mp4", "real_talking_man_suit_retalking1.mp4"]
    for name in picks:
        report = diagnose(shared_media / name, settings, dimensions="visual_quality,chromaticity,logic,rhythm,vocal,soundscape")
        res = {r["dimension"]: r for r in report["results"]}
        if rows[name]["has_audio"] == "False":
            assert res["vocal"]["status"] == "gated" and res["soundscape"]["status"] == "gated", name
        if rows[name]["shots"] == "1":
            assert res["logic"]["status"] == "gated" and res["rhythm"]["status"] == "gated", name
        for r in res.values():
            if r["status"] == "scored":
                assert 1.0 <= r["score"] <= 5.0 and any(ch.isdigit() for ch in r["rationale"])
            else:
                assert r["score"] is None and (r["gate_reason"] or r["status"] == "error")
