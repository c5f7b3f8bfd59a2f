"""The Annotate tab's answers through its handlers (no server, no browser): for two outputs each of A better /
B better / tie / both bad, with an optional note, is stored as given (in the task's slot terms, with the time
spent) and shown back to reviewers in the terms the annotator saw; for three outputs a strict ranking from the
place dropdowns is stored in slot terms, and a ranking with a repeated output saves nothing."""
from __future__ import annotations

import html
import random

import pytest

from annotate_support import make_clips
from evalverse.humans.roles import issue_token
from evalverse.humans.service import AnnotationService
from evalverse.ui import annotate_tab, review_tab
from evalverse.ui.context import open_context

DIMS = ["visual_quality", "lens", "lighting", "pacing"]


@pytest.fixture
def world(tmp_path, tmp_path_factory):
    from evalverse.config import Settings

    clips, _ = make_clips(tmp_path_factory.getbasetemp() / "annotate_clips")
    ctx = open_context(Settings(data_dir=tmp_path, db_path=tmp_path / "ev.duckdb", models_dir=tmp_path / "models"),
                       load_seed=False)
    tokens = {name: issue_token(ctx.store, name, role).token
              for name, role in (("ann", "annotator"), ("rev", "reviewer"))}
    svc = AnnotationService(ctx.store, ctx.taxonomy, rng=random.Random(5))
    pair = svc.create_task({"case_key": "c1", "prompt": "two outputs", "dimensions": DIMS, "required": 1,
                            "outputs": [{"model": m, "video_path": str(clips[(m, "c1")])} for m in ("alpha", "beta")]})
    yield ctx, tokens, pair, clips
    ctx.store.close()


def _sign_in(ctx, token, uid):
    state, status, *_ = annotate_tab.sign_in(ctx, token)
    assert state and state["uid"] == uid, status
    return state


def test_two_outputs_take_a_better_b_better_tie_or_both_bad_with_a_note(world):
    ctx, tokens, uid, _ = world
    state = _sign_in(ctx, tokens["ann"], uid)
    shown = [d["id"] for d in state["dimensions"]]  # in the taxonomy's order
    assert state["kind"] == "pairwise" and sorted(shown) == sorted(DIMS)
    fields = [(d, 1) for d in shown]
    answers = {"visual_quality": ("left", ""), "lens": ("right", " softer focus "), "lighting": ("tie", "same key light"),
               "pacing": ("both_bad", "<b>both</b> stutter")}
    out = annotate_tab.submit(ctx, state, fields, [v for d in shown for v in answers[d]])
    assert "Saved 4 label(s)" in out[1], out[1]

    task = ctx.store.get_task(uid)
    left, right = task["display_order"]  # the slots shown on the left and on the right
    subs = {s["dimension"]: s for s in ctx.store.task_submissions(task["id"])}
    assert subs["visual_quality"]["ranking"] == [left, right] and subs["lens"]["ranking"] == [right, left]
    assert subs["lighting"]["ranking"] is None and subs["lighting"]["outcome"] == "tie"
    assert subs["pacing"]["ranking"] is None and subs["pacing"]["outcome"] == "both_bad"
    assert {d: s["note"] for d, s in subs.items()} == {"visual_quality": "", "lens": "softer focus",
                                                       "lighting": "same key light", "pacing": "<b>both</b> stutter"}
    assert all(s["seconds"] is not None and s["seconds"] >= 0 for s in subs.values())
    assert {tuple(s["display_order"]) for s in subs.values()} == {(left, right)}

    # the implied pairwise judgments: a is slot 0 (alpha); a tie and a both-bad stay what they are
    judged = ctx.store.human_outcomes(source="app").set_index("dimension")
    a_won_left = "a" if left == 0 else "b"
    assert judged.loc["visual_quality", "winner"] == a_won_left
    assert judged.loc["lens", "winner"] == ("b" if a_won_left == "a" else "a")
    assert judged.loc["lighting", "winner"] == "tie" and judged.loc["pacing", "winner"] == "both_bad"

    # a reviewer sees them in the annotator's terms, the note as text
    rev = review_tab.sign_in(ctx, tokens["rev"])[0]
    labels = html.unescape(review_tab.open_review(ctx, rev, uid)[3])
    for shown in ("A (left) better", "B (right) better", "Tie", "Both bad", "same key light", "<b>both</b> stutter"):
        assert shown in labels
    assert "<b>both</b>" not in review_tab.open_review(ctx, rev, uid)[3]


def test_three_outputs_are_ranked_strictly_in_the_tab(world):
    ctx, tokens, pair, clips = world
    svc = AnnotationService(ctx.store, ctx.taxonomy, rng=random.Random(9))
    outputs = [{"model": "alpha", "video_path": str(clips[("alpha", "c2")])},
               {"model": "beta", "video_path": str(clips[("beta", "c2")])},
               {"model": "gamma", "video_path": str(clips[("alpha", "c3")])}]
    uid = svc.create_task({"case_key": "c2", "prompt": "three outputs", "dimensions": ["lens", "lighting"],
                           "required": 1, "outputs": outputs})
    state, status, header, players = annotate_tab.sign_in(ctx, tokens["ann"])
    while state["uid"] != uid:  # the scheduler may offer the pair first: label it and go on
        fields = [(d["id"], 1) for d in state["dimensions"]]
        state = annotate_tab.submit(ctx, state, fields, ["tie", ""] * len(fields))[0]
    assert state["kind"] == "ranking" and state["n"] == 3
    fields = [("lens", 3), ("lighting", 3)]
    refused = annotate_tab.submit(ctx, state, fields, ["A", "A", "C", "", "B", "C", "A", ""])
    assert "Not saved" in refused[1] and "each once" in html.unescape(refused[1])
    task = ctx.store.get_task(uid)
    assert ctx.store.task_submissions(task["id"]) == []
    out = annotate_tab.submit(ctx, state, fields, ["C", "A", "B", "crisp", "B", "C", "A", ""])
    assert "Saved 2 label(s)" in out[1], out[1]
    order = task["display_order"]  # display position -> slot
    subs = {s["dimension"]: s for s in ctx.store.task_submissions(task["id"])}
    assert subs["lens"]["ranking"] == [order[2], order[0], order[1]] and subs["lens"]["note"] == "crisp"
    assert subs["lighting"]["ranking"] == [order[1], order[2], order[0]]
    assert len(ctx.store.human_outcomes(source="app").query("case_key == 'c2' and dimension == 'lens'")) == 3


def test_the_review_tab_flags_an_annotator_who_always_picks_the_left_output(world):
    ctx, tokens, _, clips = world
    svc = AnnotationService(ctx.store, ctx.taxonomy, rng=random.Random(3))
    for i in range(12):
        svc.create_task({"case_key": f"s{i}", "prompt": f"case {i}", "dimensions": ["lens"], "required": 2,
                         "outputs": [{"model": m, "video_path": str(clips[(m, f"c{i % 6}")])} for m in ("alpha", "beta")]})
    careful = issue_token(ctx.store, "careful", "annotator").token
    for token, sides in ((tokens["ann"], ["left"]), (careful, ["left", "right"])):  # careful alternates
        state, n = annotate_tab.sign_in(ctx, token)[0], 0
        while state and state.get("uid"):
            fields = [(d["id"], 1) for d in state["dimensions"] if d["id"] not in state["done"]]
            state = annotate_tab.submit(ctx, state, fields, [sides[n % len(sides)], ""] * len(fields))[0]
            n += 1
    rev = review_tab.sign_in(ctx, tokens["rev"])[0]
    stats, report = review_tab.show_stats(ctx, rev, False)
    flags = stats[stats.index('id="stats-flags"'):]
    row = next(r for r in flags.split("<tr>") if "<td>ann</td>" in r)
    assert "side_bias" in row and "left output in 13 of 13" in row  # 12 tasks here and the pair of the fixture
    assert "<td>careful</td><td>side_bias" not in flags
    assert '"flag": "side_bias"' in report
