"""The service's work queues for the Review tab: counts and names only (labels are read through `labels` /
`audit_view`, which record the view), own work marked, role-checked; the blind view for reviewers."""
from __future__ import annotations

import json
import random

import pytest

from evalverse.errors import AccessError
from evalverse.humans.roles import issue_token
from evalverse.humans.service import AnnotationService
from evalverse.store import Store


@pytest.fixture
def world():
    store = Store.memory()
    svc = AnnotationService(store, rng=random.Random(5))
    t = {f"{n}:{r}": issue_token(store, n, r).token for n, r in
         [("ann1", "annotator"), ("ann2", "annotator"), ("ann1", "reviewer"), ("rev", "reviewer"), ("aud", "auditor")]}
    uid = svc.create_task({"case_key": "c1", "prompt": "p", "suite": "s", "required": 2, "dimensions": ["lens", "pacing"],
                           "outputs": [{"model": "M1", "video_path": "/x/a.mp4"}, {"model": "M2", "video_path": "/x/b.mp4"}]})
    return store, svc, t, uid


def test_queues_list_annotations_without_labels_and_mark_own_work(world):
    store, svc, t, uid = world
    assert svc.review_queue(t["rev:reviewer"]) == []  # no labels yet: nothing to review
    for who in ("ann1:annotator", "ann2:annotator"):
        svc.next_task(t[who])
        svc.submit(t[who], uid, [{"dimension": "lens", "choice": "left"}, {"dimension": "pacing", "choice": "tie"}])
    [row] = svc.review_queue(t["ann1:reviewer"])
    assert row["uid"] == uid and row["labels"] == 4 and row["unreviewed"] == 4
    assert {a["annotator"]: a["own"] for a in row["annotations"]} == {"ann1": True, "ann2": False}
    assert "left" not in json.dumps(row) and "tie" not in json.dumps(row)  # no labels in a queue
    assert store.task_load()[0]["viewed"] == set()  # listing is not seeing labels
    svc.review(t["rev:reviewer"], uid, "ann2", "pass")
    [row] = svc.review_queue(t["rev:reviewer"])
    assert {a["annotator"]: (a["reviewed"], a["reviewed_by_me"]) for a in row["annotations"]} == {"ann1": (0, False),
                                                                                                 "ann2": (2, True)}
    [audit] = svc.audit_queue(t["aud:auditor"])
    assert audit["unreviewed"] == 2 and "own" not in audit["annotations"][0]
    with pytest.raises(AccessError, match="cannot review"):
        svc.review_queue(t["aud:auditor"])
    with pytest.raises(AccessError, match="cannot audit"):
        svc.audit_queue(t["rev:reviewer"])
    with pytest.raises(AccessError):
        svc.review_queue("evv_nope_x")


def test_the_reviewers_view_is_blind_and_annotators_cannot_open_it(world):
    store, svc, t, uid = world
    view = svc.view_for_review(t["rev:reviewer"], uid)
    assert "M1" not in json.dumps(view.shown) and "model" not in json.dumps(view.shown)
    assert [s["position"] for s in view.shown] == [0, 1]  # paths stay server-side: the tabs serve opaque copies
    assert svc.whoami(t["aud:auditor"]).role == "auditor"
    with pytest.raises(AccessError, match="cannot read labels"):
        svc.view_for_review(t["ann1:annotator"], uid)
    audit = svc.audit_view(t["aud:auditor"], uid)
    assert audit["reviews_by_label"] == {}
