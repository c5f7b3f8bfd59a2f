"""The annotation API: tokens and roles, blind tasks with a stored random left/right order, no peeking, no
self-review, review and audit, finalised judgments as the ones that count, agreement on app data, export."""
from __future__ import annotations

import io
import json
import random

import pytest

from evalverse.errors import AccessError, InputError
from evalverse.humans import exchange
from evalverse.humans.report import human_stats
from evalverse.humans.results import human_win_ratios
from evalverse.humans.roles import authenticate, issue_token
from evalverse.humans.service import AnnotationService
from evalverse.store import Store

DIMS = ["visual_quality", "lens", "lighting"]


def _task(case="c1", models=("M1", "M2"), suite="s1", required=2, dims=DIMS):
    return {"case_key": case, "prompt": "a <b>cat</b> & a dog", "suite": suite, "required": required, "dimensions": dims,
            "reference": ["ref.mp4"], "ground_truth": {"camera": "pan"},
            "outputs": [{"model": m, "video_path": f"/clips/{case}/out{i}.mp4"} for i, m in enumerate(models)]}


@pytest.fixture
def world():
    store = Store.memory()
    svc = AnnotationService(store, rng=random.Random(7))
    people = {n: issue_token(store, n, r).token for n, r in
              [("ann1", "annotator"), ("ann2", "annotator"), ("ann3", "annotator"), ("rev", "reviewer"),
               ("rev2", "reviewer"), ("aud", "auditor")]}
    return store, svc, people


def test_tokens_are_hashed_and_only_their_role_may_act(world):
    store, svc, t = world
    row = store._rows("SELECT token_hash, salt, kdf FROM annotator_tokens")[0]
    assert t["ann1"].split("_", 2)[2] not in json.dumps(row) and row["kdf"].startswith("scrypt")
    assert authenticate(store, t["rev"]).role == "reviewer"
    uid = svc.create_task(_task())
    for bad in (None, "", "evv_nope_x", t["ann1"][:-2] + "xx", "Bearer " + t["ann1"]):
        with pytest.raises(AccessError):
            svc.submit(bad, uid, [{"dimension": "lens", "choice": "left"}])
        with pytest.raises(AccessError):
            svc.review(bad, uid, "ann1", "pass")
    with pytest.raises(AccessError, match="reviewer token cannot annotate"):
        svc.submit(t["rev"], uid, [{"dimension": "lens", "choice": "left"}])
    with pytest.raises(AccessError, match="annotator token cannot review"):
        svc.review(t["ann2"], uid, "ann1", "pass")
    with pytest.raises(AccessError, match="cannot audit"):
        svc.finalise(t["rev"], uid)
    assert authenticate(store, t["ann1"]).name == "ann1"  # verified once (scrypt), then cached...
    with pytest.raises(AccessError):
        authenticate(store, t["ann1"][:-1] + ("A" if t["ann1"][-1] != "A" else "B"))  # ...which a wrong secret never hits
    token_id = t["ann1"].split("_")[1]
    store.revoke_token(token_id)
    with pytest.raises(AccessError):
        svc.next_task(t["ann1"])


def test_task_is_blind_with_a_stored_random_order_and_taxonomy_guidance(world):
    store, svc, t = world
    orders = set()
    for i in range(12):
        task = store.get_task(svc.create_task(_task(case=f"c{i}")))
        orders.add(tuple(task["display_order"]))
    assert orders == {(0, 1), (1, 0)}  # randomised per task, and stored
    view = svc.next_task(t["ann1"])
    assert view.kind == "pairwise" and [s["position"] for s in view.shown] == [0, 1]
    assert "model" not in json.dumps(view.shown) and "M1" not in json.dumps(view.shown)
    assert view.prompt == "a <b>cat</b> & a dog"  # stored and returned as plain text, untouched
    assert [d["id"] for d in view.dimensions] == ["lens", "visual_quality", "lighting"]  # taxonomy order
    assert view.dimensions[1]["sub_dimensions"][0]["questions"][0].startswith("Is the image sharp")


def test_gates_decide_which_dimensions_apply():
    from evalverse.judge.gating import Fact, GateFacts

    svc = AnnotationService(Store.memory())
    spec = {**_task(), "dimensions": None}
    # evidence says: one shot, no audio, a person but no face -> multi-shot, sound and face dimensions are gated
    facts = [GateFacts(shots=Fact(1, "1 shot"), audio=Fact(False, "silent"), speech=Fact(False, "no speech"),
                       person=Fact(True, "a person"), face=Fact(False, "no face"), prompt=spec["prompt"], reference=True)] * 2
    dims = svc.store.get_task(svc.create_task(spec, facts))["dimensions"]
    assert {"visual_quality", "action", "lens"} <= set(dims)
    assert not {"logic", "rhythm", "vocal", "soundscape", "expression"} & set(dims)
    # without evidence only the task itself can close a gate: what evidence would decide stays open
    assert "logic" in svc.store.get_task(svc.create_task(spec))["dimensions"]
    with pytest.raises(InputError, match="unknown dimension"):
        svc.create_task({**_task(), "dimensions": ["sharpness"]})


def test_left_right_labels_are_stored_by_slot_with_the_side_shown(world):
    store, svc, t = world
    uid = svc.create_task(_task())
    order = store.get_task(uid)["display_order"]
    svc.submit(t["ann1"], uid, [{"dimension": "lens", "choice": "left", "seconds": 30},
                                {"dimension": "lighting", "choice": "both_bad", "note": "<script>alert(1)</script>"}])
    rows = store.human_outcomes(source="app").set_index("dimension")
    left_model = ["M1", "M2"][order[0]]
    assert rows.loc["lens", "winner"] == ("a" if left_model == "M1" else "b")
    assert rows.loc["lens", "left_side"] == ("a" if order[0] == 0 else "b")
    assert rows.loc["lighting", "winner"] == "both_bad" and rows.loc["lighting", "note"] == "<script>alert(1)</script>"
    assert set(rows["qa_status"]) == {"pending"}
    [sub] = [s for s in store.task_submissions(store.get_task(uid)["id"]) if s["dimension"] == "lens"]
    assert sub["display_order"] == order and sub["seconds"] == 30


def test_a_strict_ranking_of_three_outputs_implies_three_pairs(world):
    store, svc, t = world
    uid = svc.create_task(_task(models=("M1", "M2", "M3"), dims=["lens"]))
    order = store.get_task(uid)["display_order"]
    for bad in ([0, 1], [0, 0, 1], None):
        with pytest.raises(InputError, match="rank all 3 outputs"):
            svc.submit(t["ann1"], uid, [{"dimension": "lens", "ranking": bad}])
    with pytest.raises(InputError, match="strict ranking"):
        svc.submit(t["ann1"], uid, [{"dimension": "lens", "choice": "tie"}])
    svc.submit(t["ann1"], uid, [{"dimension": "lens", "ranking": [2, 0, 1]}])  # rightmost best, then leftmost
    best, middle, worst = (["M1", "M2", "M3"][order[p]] for p in (2, 0, 1))
    wins = {}
    for r in store.human_outcomes().itertuples():
        winner = r.model_a if r.winner == "a" else r.model_b
        wins[winner] = wins.get(winner, 0) + 1
    assert wins == {best: 2, middle: 1}
    assert worst not in wins


def test_nobody_sees_others_labels_before_submitting_their_own(world):
    store, svc, t = world
    uid = svc.create_task(_task())
    svc.submit(t["ann1"], uid, [{"dimension": d, "choice": "left"} for d in DIMS])
    assert svc.labels(t["ann2"], uid) == []  # has labelled nothing yet
    svc.submit(t["ann2"], uid, [{"dimension": "lens", "choice": "right"}])
    seen = svc.labels(t["ann2"], uid)
    assert {(s["annotator"], s["dimension"]) for s in seen} == {("ann1", "lens"), ("ann2", "lens")}
    assert len(svc.labels(t["rev"], uid)) == 4  # a reviewer sees all...
    with pytest.raises(InputError, match="already labelled lens"):
        svc.submit(t["ann2"], uid, [{"dimension": "lens", "choice": "left"}])  # ...and nothing is overwritten
    assert {s["outcome"] for s in svc.labels(t["ann1"], uid) if s["annotator"] == "ann2"} in ({"a"}, {"b"})


def test_a_reviewer_who_saw_labels_cannot_then_annotate_that_task():
    store = Store.memory()
    svc = AnnotationService(store, rng=random.Random(1))
    both_ann = issue_token(store, "carol", "annotator").token
    both_rev = issue_token(store, "carol", "reviewer").token
    other = issue_token(store, "dave", "annotator").token
    uid = svc.create_task(_task())
    svc.submit(other, uid, [{"dimension": "lens", "choice": "left"}])
    svc.labels(both_rev, uid)
    with pytest.raises(InputError, match="seen this task's labels"):
        svc.submit(both_ann, uid, [{"dimension": "lens", "choice": "left"}])
    assert svc.next_task(both_ann) is None


def test_nobody_reviews_or_audits_their_own_work():
    store = Store.memory()
    svc = AnnotationService(store)
    ann = issue_token(store, "erin", "annotator").token
    rev = issue_token(store, "erin", "reviewer").token
    aud = issue_token(store, "erin", "auditor").token
    uid = svc.create_task(_task())
    svc.submit(ann, uid, [{"dimension": "lens", "choice": "left"}])
    with pytest.raises(AccessError, match="own work"):
        svc.review(rev, uid, "erin", "pass")
    other_rev = issue_token(store, "frank", "reviewer").token
    svc.review(other_rev, uid, "erin", "pass")
    with pytest.raises(AccessError, match="own work"):
        svc.finalise(aud, uid)


def test_review_audit_finalise_and_only_finalised_judgments_count(world):
    store, svc, t = world
    uid = svc.create_task(_task())
    svc.submit(t["ann1"], uid, [{"dimension": d, "choice": "left"} for d in DIMS])
    assert svc.next_task(t["ann1"]) is None  # never the same annotator twice on a task
    view = svc.next_task(t["ann2"])
    assert view.uid == uid
    svc.submit(t["ann2"], uid, [{"dimension": "visual_quality", "choice": "left"}, {"dimension": "lens", "choice": "right"},
                                {"dimension": "lighting", "choice": "left"}])
    assert svc.next_task(t["ann3"]) is None  # it had its 2 independent annotations
    assert human_win_ratios(store, suite="s1").empty  # nothing finalised yet
    with pytest.raises(InputError, match="a fail needs a reason"):
        svc.review(t["rev"], uid, "ann2", "fail")
    svc.review(t["rev"], uid, "ann1", "pass")
    with pytest.raises(InputError, match="no review yet"):
        svc.finalise(t["aud"], uid)
    svc.review(t["rev"], uid, "ann2", "fail", "lens: the left clip is the soft one", dimensions=["lens"])
    svc.review(t["rev"], uid, "ann2", "pass", dimensions=["visual_quality", "lighting"])
    audit = svc.audit_view(t["aud"], uid)
    labels = {(l["annotator"], l["dimension"]): l["uid"] for l in audit["labels"]}
    assert set(audit["needs_decision"]) == {labels["ann1", "lens"], labels["ann2", "lens"]}
    with pytest.raises(InputError, match="decide accept or reject"):
        svc.finalise(t["aud"], uid, {labels["ann2", "lens"]: ("reject", "reviewer was right")})
    with pytest.raises(InputError, match="needs a reason"):
        svc.finalise(t["aud"], uid, {labels["ann2", "lens"]: ("reject", ""), labels["ann1", "lens"]: ("accept", "")})
    status = svc.finalise(t["aud"], uid, {labels["ann2", "lens"]: ("reject", "reviewer was right"),
                                          labels["ann1", "lens"]: ("accept", "")})
    assert status[labels["ann2", "lens"]] == "fail" and list(status.values()).count("pass") == 5
    with pytest.raises(InputError, match="finalised"):
        svc.submit(t["ann3"], uid, [{"dimension": "lens", "choice": "left"}])
    counted = store.human_outcomes(counted=True)
    assert len(counted) == 5 and not ((counted["annotator"] == "ann2") & (counted["dimension"] == "lens")).any()
    ratios = human_win_ratios(store, suite="s1").set_index(["dimension", "model"])["human_win_ratio"]
    order = store.get_task(uid)["display_order"]
    left = ["M1", "M2"][order[0]]
    assert ratios[("lens", left)] == 1.0 and ratios[("visual_quality", left)] == 1.0
    assert sorted(a["decision"] for a in store.task_audits(store.get_task(uid)["id"])) == ["accept", "finalise", "reject"]


def test_stats_on_app_votes_flag_a_side_biased_annotator():
    store = Store.memory()
    svc = AnnotationService(store, rng=random.Random(3))
    t = {n: issue_token(store, n, "annotator").token for n in ("fair", "fair2", "lefty")}
    rng = random.Random(5)
    for i in range(24):
        uid = svc.create_task(_task(case=f"c{i}", dims=["lens"], required=3))
        order = store.get_task(uid)["display_order"]
        truth = "left" if order[0] == 0 else "right"  # M1 is better: honest annotators follow it, mostly
        for name in ("fair", "fair2"):
            pick = truth if rng.random() < 0.85 else ("right" if truth == "left" else "left")
            svc.submit(t[name], uid, [{"dimension": "lens", "choice": pick, "seconds": rng.uniform(40, 60)}])
        svc.submit(t["lefty"], uid, [{"dimension": "lens", "choice": "left", "seconds": rng.uniform(2, 4)}])
    report = human_stats(store, n_boot=50)
    [src] = report["sources"]
    [group] = src["groups"]
    assert src["source"] == "app" and group["kind"] == "pairwise" and group["raters"] == 3 and group["items"] == 24
    flags = {(f["rater"], f["flag"]) for f in group["flags"]}
    assert ("lefty", "side_bias") in flags and ("lefty", "fast") in flags
    assert not any(r in ("fair", "fair2") for r, _ in flags)
    by = {c["rater"]: c["agreement"] for c in group["consensus"]}
    assert by["fair"] > by["lefty"]


def test_export_import_round_trips_everything(world, tmp_path):
    store, svc, t = world
    uid = svc.create_task(_task())
    svc.next_task(t["ann1"])
    svc.submit(t["ann1"], uid, [{"dimension": d, "choice": "right", "seconds": 12.5, "note": "soft edges"} for d in DIMS])
    svc.submit(t["ann2"], uid, [{"dimension": d, "choice": "right"} for d in DIMS])
    svc.review(t["rev"], uid, "ann1", "pass")
    svc.review(t["rev"], uid, "ann2", "pass")
    svc.finalise(t["aud"], uid)
    svc.create_task(_task(case="open"))
    store.add_pairwise("lens", "A", "B", "tie", "legacy")  # a judgment made without the app
    first = io.StringIO()
    exchange.export_jsonl(store, first)
    path = tmp_path / "h.jsonl"
    path.write_text(first.getvalue())
    other = Store.memory()
    counts = exchange.import_jsonl(other, path)
    assert counts["submission"]["added"] == 6 and counts["review"]["added"] == 6 and counts["pairwise"]["added"] == 7
    second = io.StringIO()
    exchange.export_jsonl(other, second)
    strip = lambda text: [line for line in text.splitlines() if '"type": "header"' not in line]  # noqa: E731
    assert strip(second.getvalue()) == strip(first.getvalue())
    again = exchange.import_jsonl(other, path)
    assert all(c["added"] == 0 for c in again.values())
    assert human_win_ratios(other).equals(human_win_ratios(store))


def test_import_refuses_a_bad_export_whole(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type": "header", "format": "evalverse-humans", "version": 1}\n'
                    '{"type": "pairwise", "uid": "x", "dimension": "lens", "winner": "maybe", "annotator": "a", "qa_status": "pass"}\n'
                    '{"type": "pointwise", "uid": "y", "dimension": "lens", "annotator": "a", "qa_status": "pass"}\n'
                    'not json\n')
    store = Store.memory()
    with pytest.raises(Exception) as err:
        exchange.import_jsonl(store, path)
    text = str(err.value)
    assert "line 2, winner: 'maybe'" in text and "line 3, score: missing" in text and "line 4, json" in text
    assert store.counts()["human_pairwise"] == 0
