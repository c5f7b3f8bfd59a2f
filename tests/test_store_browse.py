"""Browsing stored runs through store queries: search and filters, keyset pages newest first, per-run result counts,
benchmark origin when the store has benchmark items, one dimension across runs by score, keyframes of many videos."""
from __future__ import annotations

import pytest

from evalverse.errors import InputError
from evalverse.store import Store


def _run(store: Store, video: str, *, judge: str = "evidence", prompt: str | None = None, scores=(), finish=True,
         path: str | None = None, model: str | None = None, version: str = "1.0") -> int:
    store.upsert_video(video, path or f"/clips/{video}.mp4", {}, model=model)
    rid = store.start_run(video, judge, version, {}, {"n": video}, prompt=prompt, provenance={"p": video})
    for dim, status, score in scores:
        store.add_dimension_result(rid, {"dimension": dim, "status": status, "score": score, "backend": judge,
                                         "rationale": f"{dim} of {video}"})
    if finish:
        store.finish_run(rid)
    return rid


@pytest.fixture
def store():
    s = Store.memory()
    yield s
    s.close()


def test_search_filters_and_counts(store):
    a = _run(store, "aaa1", prompt="A chef plates a dish", scores=[("lens", "scored", 2.0), ("vocal", "gated", None),
                                                                  ("lighting", "scored", 4.0)], model="Veo")
    b = _run(store, "bbb2", judge="openai", prompt="A cat on a sofa", path="/media/cat_100%.mp4",
             scores=[("lens", "not_judged", None)])
    c = _run(store, "ccc3", prompt="a CHEF again", finish=False)
    ids = lambda **kw: [r["id"] for r in store.search_runs(**kw)]  # noqa: E731
    assert ids() == [c, b, a]  # newest first
    assert ids(query="chef") == [c, a]  # case-insensitive, prompt
    assert ids(query="cat_100%") == [b]  # the clip's path
    assert ids(query="e_i") == [] and ids(query="a%d") == []  # % and _ match only themselves (not "media", "a dish")
    assert ids(query="bbb") == [b] and ids(query=f"#{a}") == [a]  # hash prefix; run id
    assert ids(judge="openai") == [b] and ids(status="finished") == [b, a]
    assert ids(model="Veo") == [a] and ids(suite="fetv") == []  # no benchmark items: no run is in a suite
    row = store.search_runs(query="dish")[0]
    assert (row["n_results"], row["n_scored"], row["n_gated"], row["mean_score"]) == (3, 2, 1, 3.0)
    assert row["model"] == "Veo" and row["suite"] is None and row["provenance_hash"]
    facets = store.run_facets()
    assert facets == {"judges": ["evidence", "openai"], "suites": [], "models": ["Veo"]}


def test_pages_are_keyset_and_cover_every_run_once(store):
    made = [_run(store, f"v{i}", prompt="same") for i in range(23)]
    seen, before = [], None
    while True:
        page = store.search_runs(query="same", limit=10, before_id=before)
        seen += [r["id"] for r in page]
        if len(page) < 10:
            break
        before = page[-1]["id"]
    assert seen == made[::-1]
    with pytest.raises(InputError, match="1 to 500"):
        store.search_runs(limit=0)
    with pytest.raises(InputError, match="status"):
        store.search_runs(status="done")


def test_benchmark_origin_shows_and_filters_when_the_store_has_bench_items(store):
    a = _run(store, "x1", scores=[("lens", "scored", 3.0)])
    b = _run(store, "x2", scores=[("lens", "scored", 1.0)])
    for model, run in (("Veo", a), ("Sora", b)):  # what `bench run` records for each clip
        store.bench.record_item({"suite": "fetv25", "model": model, "judge": "evidence", "case_id": "case-01", "seed": 0,
                                 "path": f"/subs/{model}/case-01.mp4", "request_key": "k", "status": "done",
                                 "run_id": run})
    rows = {r["id"]: r for r in store.search_runs()}
    assert (rows[a]["suite"], rows[a]["model"], rows[a]["case_id"]) == ("fetv25", "Veo", "case-01")
    assert [r["id"] for r in store.search_runs(suite="fetv25", model="Sora")] == [b]
    assert store.run_facets()["suites"] == ["fetv25"] and store.run_facets()["models"] == ["Sora", "Veo"]
    page = store.dimension_page("lens", suite="fetv25", model="Veo")
    assert [r["run_id"] for r in page] == [a] and page[0]["case_id"] == "case-01"


def test_one_dimension_across_runs_lowest_score_first(store):
    low = _run(store, "d1", scores=[("lens", "scored", 1.5)])
    high = _run(store, "d2", scores=[("lens", "scored", 4.5)])
    unscored = _run(store, "d3", scores=[("lens", "gated", None)])
    _run(store, "d4", scores=[("lens", "scored", 0.5)], finish=False)  # unfinished runs are left out
    rows = store.dimension_page("lens")
    assert [r["run_id"] for r in rows] == [low, high, unscored]
    assert rows[0]["result"]["rationale"] == "lens of d1" and rows[0]["video_path"] == "/clips/d1.mp4"
    assert [r["run_id"] for r in store.dimension_page("lens", order="score_desc")] == [high, low, unscored]
    assert [r["run_id"] for r in store.dimension_page("lens", limit=1, offset=1)] == [high]
    assert [r["run_id"] for r in store.dimension_page("lens", result_status="gated")] == [unscored]
    newer = _run(store, "d5", scores=[("lens", "scored", 2.0)], version="1.1")  # a leaderboard source is one version
    assert [r["run_id"] for r in store.dimension_page("lens", judge="evidence", judge_version="1.1")] == [newer]
    assert newer not in [r["run_id"] for r in store.dimension_page("lens", judge_version="1.0")]
    with pytest.raises(InputError):
        store.dimension_page("lens", order="best")


def test_keyframes_of_many_videos_come_from_their_newest_shots_evidence(store):
    shot = lambda i, uri: {"index": i, "start": float(i), "end": i + 1.0, "thumbnail": uri}  # noqa: E731
    store.put_evidence("k1", "shots", "1.0", "old", {"results": {"shots": [shot(0, "data:image/jpeg;base64,OLD")]}})
    store.put_evidence("k1", "shots", "1.2", "new", {"results": {"shots": [shot(0, "data:image/jpeg;base64,NEW"),
                                                                           shot(1, "data:image/jpeg;base64,TWO")]}})
    store.put_evidence("k2", "faces", "1.0", "x", {"results": {}})
    frames = store.keyframes_for(["k1", "k2", "k1"])
    assert [f["thumbnail"][-3:] for f in frames["k1"]] == ["NEW", "TWO"] and "k2" not in frames
    assert store.keyframes_for([]) == {}
