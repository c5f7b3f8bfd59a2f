"""`bench winratios` from stored results: a leaderboard source with intervals, ratings, human win ratios on
the same pairing, and machine-vs-human alignment for that source (results and judgments inserted here)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from bench_support import write_suite
from evalverse.bench.suite import load_suite
from evalverse.bench.winratios import compute
from evalverse.cli import app
from evalverse.store import Store

MODELS = ("alpha", "beta", "gamma", "delta")
N_CASES = 8


def _result(dim, status, score):
    return {"dimension": dim, "status": status, "score": score, "backend": "evidence", "backend_version": "1.0"}


def _fill(store, suite, quality: dict[str, float], judge_version="1.0"):
    """Per model a fixed quality; visual_quality scored on every case (quality + a case effect), soundscape gated."""
    tests = store.bench.register_suite(suite)
    for m_i, model in enumerate(MODELS):
        for c_i, case in enumerate(suite.cases):
            h = f"h-{model}-{case.id}"
            run = store.start_run(h, "evidence", judge_version, {}, {"k": 1})
            store.add_dimension_result(run, _result("visual_quality", "scored", quality[model] + 0.1 * c_i))
            store.add_dimension_result(run, _result("soundscape", "gated", None))
            store.finish_run(run)
            store.upsert_video(h, f"/v/{model}/{case.id}.mp4", {}, model=model, test_case_id=tests[case.id])
            store.bench.record_item({"suite": suite.name, "model": model, "judge": "evidence", "case_id": case.id,
                                     "seed": 0, "path": f"/v/{model}/{case.id}.mp4", "video_hash": h,
                                     "request_key": "r", "judge_version": judge_version, "status": "done", "run_id": run})
    return tests


@pytest.fixture
def filled(tmp_path):
    db = tmp_path / "ev.duckdb"
    suite_path = write_suite(tmp_path / "demo.jsonl", N_CASES)
    suite = load_suite(suite_path)
    with Store.open(db) as store:
        tests = _fill(store, suite, {"alpha": 4.0, "beta": 3.0, "gamma": 2.0, "delta": 1.0})
    return db, suite_path, suite, tests


def test_source_holds_win_ratios_with_intervals_and_ratings(filled):
    db, _, suite, _ = filled
    with Store.open(db) as store:
        out = compute(store, suite.name, n_boot=300)
        assert out["source"] == "demo:evidence@1.0"
        wins = {(r["dimension"], r["model"]): r for r in out["win_ratios"]}
        # a strict order on every case: alpha beats all three, delta none
        assert wins[("visual_quality", "alpha")]["machine_win_ratio"] == 1.0
        assert wins[("visual_quality", "delta")]["machine_win_ratio"] == 0.0
        assert wins[("visual_quality", "beta")]["machine_win_ratio"] == pytest.approx(2 / 3)
        assert all(r["n_cases"] == N_CASES and r["n_excluded"] == 0 for r in wins.values())
        assert ("soundscape", "alpha") not in wins  # gated everywhere: no figure, only counted
        assert out["summary"]["excluded_by_reason"] == {"gated": N_CASES * 6}
        assert out["summary"]["unjudged_dimensions"] == ["soundscape"]
        bt = [r for r in out["bradley_terry"] if r["dimension"] == "visual_quality"]
        assert [r["model"] for r in bt] == list(MODELS) and [r["rank_ub"] for r in bt] == [1, 2, 3, 4]
        stored = store.bench.win_ratio_table("demo:evidence@1.0").set_index("model")
        assert stored.loc["alpha", "machine_ci_high"] == 1.0 and stored.loc["beta", "n_cases"] == N_CASES
        assert "demo:evidence@1.0" in store.win_ratio_sources() and "paper_table3" not in store.win_ratio_sources()
        assert len(store.bench.ratings("demo:evidence@1.0")) == 8  # 4 models × (visual_quality, overall)


def test_human_win_ratios_on_the_same_pairing_and_alignment_cli(filled):
    db, suite_path, suite, tests = filled
    human_rank = {"alpha": 3.0, "beta": 4.0, "gamma": 2.0, "delta": 1.0}  # humans swap alpha and beta
    with Store.open(db) as store:
        for case in suite.cases:
            for model, q in human_rank.items():
                for rater in ("r1", "r2"):
                    store.add_pointwise("visual_quality", model, q, rater, qa_status="pass", test_case_id=tests[case.id])
            store.add_pointwise("visual_quality", "outsider", 5.0, "r1", qa_status="pass", test_case_id=tests[case.id])
        store.add_pointwise("visual_quality", "alpha", 5.0, "r9", qa_status="fail", test_case_id=tests[suite.cases[0].id])
    runner = CliRunner()
    res = runner.invoke(app, ["bench", "winratios", "--suite", str(suite_path), "--db", str(db), "--n-boot", "200", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    rows = {r["model"]: r for r in out["win_ratios"] if r["dimension"] == "visual_quality"}
    assert rows["beta"]["human_win_ratio"] == 1.0 and rows["alpha"]["human_win_ratio"] == pytest.approx(2 / 3)
    assert rows["alpha"]["human_n_cases"] == N_CASES and "outsider" not in rows  # not a submitted model
    assert out["summary"]["human_judgments"]["pointwise"] == N_CASES * 9  # the QA-failed one is left out
    res = runner.invoke(app, ["leaderboard", "alignment", "--source", out["source"], "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    align = {r["dimension"]: r for r in json.loads(res.stdout)}
    vq = align["Visual Quality"]
    machine = [1.0, 2 / 3, 1 / 3, 0.0]  # alpha, beta, gamma, delta
    human = [2 / 3, 1.0, 1 / 3, 0.0]
    assert vq["n_models"] == 4 and vq["srcc"] == pytest.approx(0.8)
    assert vq["plcc"] == pytest.approx(np.corrcoef(machine, human)[0, 1])


def test_too_few_cases_are_masked_for_display_and_alignment(tmp_path):
    suite = load_suite(write_suite(tmp_path / "tiny.jsonl", 3))
    with Store.open(tmp_path / "ev.duckdb") as store:
        _fill(store, suite, {"alpha": 4.0, "beta": 3.0, "gamma": 2.0, "delta": 1.0})
        compute(store, "tiny", n_boot=50)
        from evalverse.leaderboard.sources import alignment_for, list_sources, source_frame

        frame = source_frame(store, "tiny:evidence@1.0")
        assert frame["machine_win_ratio"].isna().all() and frame["machine_win_ratio_raw"].notna().all()
        assert not frame["machine_enough"].any() and frame.attrs["min_cases"] == 6
        assert alignment_for(store, "tiny:evidence@1.0")["n_models"].tolist() == [0]
        assert [s["kind"] for s in list_sources(store)] == ["bench"]


def test_mixed_judge_versions_must_be_chosen(tmp_path):
    suite = load_suite(write_suite(tmp_path / "v.jsonl", 2))
    with Store.open(tmp_path / "ev.duckdb") as store:
        _fill(store, suite, dict.fromkeys(MODELS, 1.0), judge_version="1.0")
        store.bench.record_item({"suite": "v", "model": "alpha", "judge": "evidence", "case_id": "c0", "seed": 1,
                                 "path": "/x", "video_hash": "h-alpha-c0", "request_key": "r", "judge_version": "2.0",
                                 "status": "done", "run_id": 1})
        from evalverse.errors import InputError

        with pytest.raises(InputError, match="--judge-version"):
            compute(store, "v", n_boot=10)
        assert compute(store, "v", judge_version="1.0", n_boot=10)["source"] == "v:evidence@1.0"
