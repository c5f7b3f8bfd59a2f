"""Reward API: dense per-dimension vectors with provenance, batched, the same as the pipeline; the /reward endpoint."""
from __future__ import annotations

import base64

import pytest

from bench_support import DIMS, make_clips
from evalverse import reward
from evalverse.pipeline import diagnose
from evalverse.store import Store

DIM_LIST = [*DIMS.split(","), "vocal"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return make_clips(tmp_path_factory.mktemp("reward"), 2, 2)


def test_vectors_match_the_pipeline_and_bad_items_stay_in_their_entry(settings, clips, tmp_path):
    out = reward.score([clips[0], tmp_path / "missing.mp4", clips[1]], prompts=["warm", "none", "cool"],
                       dimensions=DIM_LIST, settings=settings)
    assert [o["index"] for o in out] == [0, 1, 2]
    assert out[1]["error"].startswith(str(tmp_path / "missing.mp4")) and out[1]["vector"] == [None, None, None]
    with Store.memory() as store:
        report = diagnose(clips[0], settings, prompt="warm", dimensions=DIM_LIST, store=store)
    truth = {r["dimension"]: r for r in report["results"]}
    first = out[0]
    assert first["dimensions"] == DIM_LIST and len(first["vector"]) == 3
    for dim, value, mask in zip(DIM_LIST, first["vector"], first["mask"]):
        score = truth[dim]["score"]
        assert (value is None) == (score is None) and mask == int(score is not None)
        if score is not None:
            assert value == pytest.approx((score - 1) / 4)
    assert first["status"]["vocal"] == "gated" and first["vector"][2] is None  # a silent clip has no voice
    scored = [v for v in first["vector"] if v is not None]
    assert first["overall"] == pytest.approx(sum(scored) / len(scored)) and first["n_scored"] == len(scored)
    prov = first["provenance"]
    assert prov["judge"]["backend"] == "evidence" and prov["judge"]["version"] and prov["operators"]["quality"]["version"]
    assert prov["data"]["taxonomy"] and prov["data"]["weights"] and prov["data"]["checks"] and prov["run_id"] is not None
    assert prov["hash"] == report["provenance"]["hash"]  # the same diagnosis, the same provenance


def test_a_scorer_caches_between_calls(settings, clips):
    with reward.Scorer(settings) as scorer:
        a = scorer.score(clips, prompts="p", dimensions=DIMS)
        b = scorer.score(clips, prompts="p", dimensions=DIMS)
    assert not any(r["cached"] for r in a) and all(r["cached"] for r in b)
    assert [r["vector"] for r in a] == [r["vector"] for r in b]


def test_reward_request_json(settings, clips, tmp_path):
    from evalverse.ui.context import AppContext
    from evalverse.ui.reward_api import handle

    media = tmp_path / "media"
    media.mkdir()
    (media / "clip.mp4").write_bytes(clips[1].read_bytes())
    with Store.memory() as store:
        ctx = AppContext(settings=settings.model_copy(update={"media_dir": media}), store=store)
        scorers = {}
        body = base64.b64encode(clips[0].read_bytes()).decode()
        out = handle(ctx, {"videos": [{"base64": body, "name": "mine.mp4"}, "clip.mp4"], "prompts": "p",
                           "dimensions": DIMS.split(",")}, scorers)
        assert [r["video"] for r in out["results"]][0] == "mine.mp4" and len(out["results"]) == 2
        assert all(r["error"] is None and len(r["vector"]) == 2 for r in out["results"])
        assert "refused" in handle(ctx, {"videos": ["../../etc/passwd"]}, scorers)["error"]
        assert "unknown request field" in handle(ctx, {"videos": ["clip.mp4"], "weights": 1}, scorers)["error"]
        assert "base64" in handle(ctx, {"videos": [{"base64": "%%%", "name": "a.mp4"}]}, scorers)["error"]
        assert "unknown dimension" in handle(ctx, {"videos": ["clip.mp4"], "dimensions": ["nope"]}, scorers)["error"]
        for s in scorers.values():
            s.close()


@pytest.mark.slow
def test_reward_endpoint_through_gradio_client(tmp_path, clips):
    from gradio_client import Client

    from browser_support import free_port
    from evalverse.config import Settings
    from evalverse.ui.app import build_app

    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "ev.duckdb", models_dir=tmp_path / "models")
    demo = build_app(settings)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        body = base64.b64encode(clips[0].read_bytes()).decode()
        out = client.predict({"videos": [{"base64": body, "name": "a.mp4"}], "dimensions": DIMS.split(",")},
                             api_name="/reward")
        assert out["results"][0]["error"] is None and len(out["results"][0]["vector"]) == 2
        assert "error" in client.predict({"videos": []}, api_name="/reward")
    finally:
        demo.close()
        demo.evalverse_context.store.close()
