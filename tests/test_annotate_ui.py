"""The Annotate and Review tabs' handlers and HTML (no server, no browser): tokens refused at every step (missing,
wrong, revoked, wrong role, self-review), blind tasks served under opaque names, labels stored with the time
spent, reviews and audit through the tab, finalising recomputes the suite's leaderboard source (and the app's
cached copy), the agreement report is `humans stats`, and every text is rendered as text."""
from __future__ import annotations

import html
import re
import shutil
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

from annotate_support import MODELS, PAYLOAD_NOTE, SOURCE, build, side_of
from evalverse.humans.report import human_stats
from evalverse.store import Store
from evalverse.ui import annotate_tab, annotate_view, review_tab, review_view, sync_player
from evalverse.ui.context import open_context
from evalverse.ui.media_links import MediaLinks, links_for


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    from evalverse.config import Settings

    root = tmp_path_factory.mktemp("annotate_ui")
    settings = Settings(data_dir=root, db_path=root / "ev.duckdb", models_dir=root / "models")
    with Store.open(settings.db_path) as store:
        world = build(root, store, settings, n_boot=50, clips_root=tmp_path_factory.getbasetemp() / "annotate_clips")
    return world, settings


@pytest.fixture
def app(base, tmp_path):
    """An app context over a fresh copy of the built database."""
    world, settings = base
    db = tmp_path / "ev.duckdb"
    shutil.copyfile(settings.db_path, db)
    ctx = open_context(settings.model_copy(update={"db_path": db, "data_dir": tmp_path}))
    yield ctx, world
    ctx.store.close()


def _fields(state):
    return [(d["id"], 1) for d in state["dimensions"] if d["id"] not in state["done"]]


def _answers(ctx, world, state, winner_for, notes=None):
    values = []
    for dim, _ in _fields(state):
        values += [side_of(ctx.store, world.ui_task, winner_for(dim)), (notes or {}).get(dim, "")]
    return values


def _label(ctx, world, who, winner_for=lambda d: "alpha", notes=None):
    state, *_ = annotate_tab.sign_in(ctx, world.tokens[who])
    assert state["uid"] == world.ui_task
    out = annotate_tab.submit(ctx, state, _fields(state), _answers(ctx, world, state, winner_for, notes))
    assert "Saved" in out[1], out[1]
    return state


def test_tokens_that_cannot_annotate_or_review_get_nothing(app):
    ctx, world = app
    for token, why in ((None, "valid personal access token"), ("", "valid personal access token"),
                       ("evv_abc_wrong", "valid personal access token"), (world.tokens["rev"], "reviewer token cannot annotate")):
        state, status, header, players = annotate_tab.sign_in(ctx, token)
        assert state is None and why in html.unescape(status) and 'data-kind="error"' in status
        assert header == "" and players == ""
    who, status, rbox, abox, sbox, *_ = review_tab.sign_in(ctx, world.tokens["ann1"])
    assert who is None and "annotator token cannot review" in html.unescape(status)
    assert rbox["visible"] is False and abox["visible"] is False and sbox["visible"] is False
    who, status, rbox, abox, sbox, queue, _ = review_tab.sign_in(ctx, world.tokens["rev"])
    assert who["role"] == "reviewer" and rbox["visible"] and not abox["visible"]
    assert [v for _, v in queue["choices"]] == []  # nothing annotated yet


def test_the_task_is_blind_and_its_clips_are_served_under_opaque_names(app):
    ctx, world = app
    state, status, header, players = annotate_tab.sign_in(ctx, world.tokens["ann1"])
    assert "Signed in as ann1" in status and state["kind"] == "pairwise" and state["n"] == 2
    page = header + players
    assert not any(m in page for m in MODELS) and "clips" not in page and "truth_c0" not in page
    assert "&lt;b&gt;pan&lt;/b&gt;" in header and "{" not in header and "$" not in header  # text, template-safe
    urls = re.findall(r'src="([^"]+)"', players)
    assert len(urls) == 3 and all(u.startswith("gradio_api/file=") for u in urls)
    served = [Path(unquote(u.split("=", 1)[1])) for u in urls]
    root = links_for(ctx).root.resolve()
    assert all(p.parent == root and re.fullmatch(r"[0-9a-f]{32}\.mp4", p.name) for p in served)
    order = ctx.store.get_task(world.ui_task)["display_order"]
    originals = [world.clips[(MODELS[slot], "c0")] for slot in order] + [world.truth]
    assert [p.read_bytes() == o.read_bytes() for p, o in zip(served, originals)] == [True] * 3
    # a fresh name per task: the same clip in another task (or a second player) gets another name
    links = MediaLinks(root=links_for(ctx).root)
    assert links.url(originals[0], "t1/0") != links.url(originals[0], "t2/0")
    assert links.url(Path("/nowhere/clip.mp4"), "t1/0") is None


def test_labels_are_stored_with_time_spent_and_a_revoked_or_wrong_token_saves_nothing(app):
    ctx, world = app
    task_id = ctx.store.get_task(world.ui_task)["id"]
    state, *_ = annotate_tab.sign_in(ctx, world.tokens["ann1"])
    fields = _fields(state)
    values = _answers(ctx, world, state, lambda d: "alpha")
    blank = [None, ""] * len(fields)
    assert "at least one dimension" in annotate_tab.submit(ctx, state, fields, blank)[1]
    assert "a note but no answer" in annotate_tab.submit(ctx, state, fields, [None, "hm"] + blank[2:])[1]
    for bad in ("evv_abc_wrong", world.tokens["ann2"][:-3] + "xyz"):
        out = annotate_tab.submit(ctx, {**state, "token": bad}, fields, values)
        assert "Not saved" in out[1] and "valid personal access token" in out[1]
    ctx.store.revoke_token(world.tokens["ann1"].split("_")[1])
    out = annotate_tab.submit(ctx, state, fields, values)
    assert "Not saved" in out[1] and "valid personal access token" in out[1]
    assert ctx.store.task_submissions(task_id) == []

    state, *_ = annotate_tab.sign_in(ctx, world.tokens["ann2"])
    state["shown_at"] = time.time() - 28.0  # the task was shown 28 s ago
    out = annotate_tab.submit(ctx, state, _fields(state), _answers(ctx, world, state, lambda d: "alpha"))
    assert f"Saved {len(fields)} label(s)" in out[1] and out[0]["uid"] is None  # nothing else waits for ann2
    subs = ctx.store.task_submissions(task_id)
    assert len(subs) == len(fields) and 28.0 <= sum(s["seconds"] for s in subs) < 40.0
    assert {tuple(s["display_order"]) for s in subs} == {tuple(ctx.store.get_task(world.ui_task)["display_order"])}


def test_three_outputs_are_ranked_strictly():
    state = {"kind": "ranking", "n": 3, "dimensions": [{"id": "lens", "name": "Lens"}, {"id": "pacing", "name": "Pacing"}]}
    labels = annotate_tab.collect_labels(state, [("lens", 3), ("pacing", 3)], ["C", "A", "B", " sharp ", None, None, None, ""])
    assert labels == [{"dimension": "lens", "ranking": [2, 0, 1], "note": "sharp"}]
    assert annotate_view.ranking_from_places(["A", "A", "X"], 3) == [0, 0, -1]  # the service refuses it, saying why
    assert annotate_view.label_text([2, 0, 1], None, [1, 2, 0]) == "B > C > A"  # slots back to what was shown
    assert annotate_view.label_text([1, 2, 0], None, [1, 2, 0]) == "A > B > C"
    assert annotate_view.label_text([1, 0], "b", [1, 0]) == "A (left) better"
    assert annotate_view.label_text(None, "both_bad", [0, 1]) == "Both bad"


def test_review_and_audit_in_the_tab_then_the_source_and_agreement_update(app):
    ctx, world = app
    _label(ctx, world, "ann1", notes={"lens": PAYLOAD_NOTE})
    _label(ctx, world, "ann2", lambda d: "beta" if d == "lens" else "alpha")
    task_id = ctx.store.get_task(world.ui_task)["id"]
    before = ctx.source_data(SOURCE)["frame"].set_index(["dimension_id", "model"])  # cached by the app
    assert before.loc[("visual_quality", "alpha"), "human_n_cases"] == 5 and not before.loc[("visual_quality", "alpha"), "human_enough"]

    me = {"token": world.tokens["ann1:reviewer"], "name": "ann1", "role": "reviewer"}
    *_, labels, choices = review_tab.open_review(ctx, me, world.ui_task)
    assert "your own work: you cannot review it" in html.unescape(labels)
    assert "nobody reviews their own work" in html.unescape(review_tab.send_review(ctx, me, world.ui_task, "ann1", "pass", "")[0])
    for bad in ({"token": "evv_abc_wrong"}, {"token": world.tokens["ann2"]}, None):
        assert 'data-kind="error"' in review_tab.send_review(ctx, bad, world.ui_task, "ann2", "pass", "")[0]
    assert ctx.store.task_reviews(task_id) == []

    rev = review_tab.sign_in(ctx, world.tokens["rev"])[0]
    status, _, _, labels, _ = review_tab.open_review(ctx, rev, world.ui_task)
    assert "&lt;img src=x onerror=" in labels and "<img" not in labels  # the note, as text
    assert "Recorded" in review_tab.send_review(ctx, rev, world.ui_task, "ann1", "pass", "")[0]
    assert "a fail needs a reason" in review_tab.send_review(ctx, rev, world.ui_task, "ann2", "fail", " ")[0]
    assert "failed" in review_tab.send_review(ctx, rev, world.ui_task, "ann2", "fail", "lens: look again")[0]

    stats, report = review_tab.show_stats(ctx, rev, False)
    vq = next(g for g in human_stats(ctx.store, source="app")["sources"][0]["groups"] if g["dimension"] == "visual_quality")
    row = re.search(r"<tr><td>app</td><td>Visual Quality</td>.*?</tr>", stats).group(0)
    assert f"{vq['alpha']['value']:.3f}" in row and f"{vq['pairwise_agreement']['rate']:.3f}" in row
    assert '"counted_only": false' in report
    assert 'data-kind="error"' in review_tab.show_stats(ctx, {"token": world.tokens["ann1"]}, False)[0]

    aud = review_tab.sign_in(ctx, world.tokens["aud"])[0]
    status, _, _, audit, label_choices, decisions, _ = review_tab.open_audit(ctx, aud, world.ui_task)
    assert "annotators disagree on lens" in audit and "failed review" in audit
    assert "decide accept or reject" in html.unescape(review_tab.finalise(ctx, aud, world.ui_task, {})[0])
    status, decisions, _ = review_tab.record_decision(ctx, aud, world.ui_task, decisions, "@ann2", "reject", "careless")
    lens = next(v for text, v in label_choices["choices"] if text.startswith("ann1 · Lens"))
    status, decisions, _ = review_tab.record_decision(ctx, aud, world.ui_task, decisions, lens, "accept", "")
    assert "Every label that needs a decision has one" in status
    status, result, _ = review_tab.finalise(ctx, aud, world.ui_task, decisions)
    assert "finalised" in status and "Recomputed the leaderboard source demo:evidence@1.0" in result

    after = ctx.source_data(SOURCE)["frame"].set_index(["dimension_id", "model"])  # not the stale cached copy
    stored = ctx.store.bench.win_ratio_table(SOURCE).set_index(["dimension", "model"])
    assert after.loc[("visual_quality", "alpha"), "human_n_cases"] == 6
    assert after.loc[("visual_quality", "alpha"), "human_win_ratio"] == stored.loc[("visual_quality", "alpha"), "human_win_ratio"]
    alignment = ctx.source_data(SOURCE)["alignment"].set_index("dimension_id")
    assert alignment.loc["visual_quality", "n_models"] == 2  # both models now have a human figure to correlate
    counted = human_stats(ctx.store, source="app", counted=True)["sources"][0]["groups"]
    assert next(g for g in counted if g["dimension"] == "lens")["judgments"] == 5 * 2 + 1  # ann2's were rejected


def test_builders_render_every_text_as_text():
    evil = '<script>alert(1)</script> ${x} {{value}} `y`'
    dim = {"id": "lens", "name": evil, "description": evil,
           "sub_dimensions": [{"id": "s", "name": evil, "description": evil, "questions": [evil]}]}
    for out in (annotate_view.guidance_html(dim), annotate_view.message(evil), annotate_view.table([evil], [[evil]]),
                sync_player.players_html([{"label": evil, "url": "u?a=1&b=2", "kind": "video"},
                                          {"label": evil, "url": None, "kind": "video"}]),
                review_view.annotations_html([{"uid": "u", "annotator": evil, "dimension": "lens", "ranking": None,
                                               "outcome": "tie", "note": evil, "seconds": 3.0, "display_order": [0, 1]}],
                                             [dim])):
        assert "<script>" not in out and "${" not in out and "{{" not in out and "`" not in out, out
    players = sync_player.players_html([{"label": "A (left)", "url": None, "kind": "video"},
                                        {"label": "B (right)", "url": "v.mp4", "kind": "video"}],
                                       [{"label": "Real clip of the prompt", "url": "g.gif", "kind": "image"}])
    assert "the file is not on the server" in players and players.count('class="ev-sync-video"') == 1
    assert "not synchronised" in players and 'src="g.gif"' in players
