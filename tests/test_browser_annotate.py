"""The Annotate and Review tabs in headless Debian chromium, end to end: two annotators each label the same
two-output task on every dimension its gates leave open, a reviewer passes one annotation and fails the other,
an auditor decides and finalises; the suite's leaderboard source then shows a human win ratio (it rested on
too few cases before) and the agreement figures count the new task. Along the way: synchronised players (a
seek on one player, or on the one control, moves every player), blind outputs (no model name or file path in
the page), prompts and notes rendered as text, and wrong, missing or wrong-role tokens and self-review refused.

The app runs in this process on a free 127.0.0.1 port (as in test_browser_diagnose); screenshots go to
test-artifacts/annotate_*.png.
"""
from __future__ import annotations

import time

import pytest
from annotate_support import MODELS, PAYLOAD_NOTE as PAYLOAD, SOURCE, build, side_of
from browser_support import CHROMIUM, CHROMIUM_ARGS, free_port

pytestmark = pytest.mark.browser

VIDEOS = "#annotate-players video"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from evalverse.config import Settings
    from evalverse.store import Store
    from evalverse.ui.app import build_app, launch_options

    root = tmp_path_factory.mktemp("annotate")
    settings = Settings(data_dir=root, db_path=root / "ev.duckdb", models_dir=root / "models")
    from evalverse.humans.report import human_stats

    with Store.open(settings.db_path) as store:
        world = build(root, store, settings, clips_root=tmp_path_factory.getbasetemp() / "annotate_clips")
        world.stats_before = human_stats(store, source="app")  # the five pre-seeded tasks only
    demo = build_app(settings)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, **launch_options())
    try:
        yield f"http://127.0.0.1:{port}/", demo.evalverse_context, world
    finally:
        demo.close()
        demo.evalverse_context.store.close()


@pytest.fixture(scope="module")
def page(app):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(30_000)
        pg.goto(app[0], wait_until="domcontentloaded")
        yield pg
        browser.close()


def _tab(page, name):
    page.get_by_role("tab", name=name, exact=True).click()


def _sign_in(page, prefix, token):
    page.locator(f"#{prefix}-token input").fill(token or "")
    page.click(f"#{prefix}-signin")


def _wait_text(page, selector, wanted, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while True:
        text = page.locator(selector).inner_text()
        if all(w in text for w in wanted):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} never showed {wanted}; it shows:\n{text[:1500]}")
        page.wait_for_timeout(200)


def _times(page, selector=VIDEOS):
    return page.evaluate(f"() => [...document.querySelectorAll('{selector}')].map(v => v.currentTime)")


def _pick(page, selector, text):
    page.locator(f"{selector} input").click()
    page.get_by_role("option", name=text).first.click()


def _label_all(page, ctx, world, winner_for):
    """Answer every dimension of the shown form: the side of `winner_for(dim)`; returns the dimensions."""
    task = ctx.store.get_task(world.ui_task)
    for dim in task["dimensions"]:
        side = side_of(ctx.store, world.ui_task, winner_for(dim))
        text = "A (left) is better" if side == "left" else "B (right) is better"
        page.locator(f"#annotate-choice-{dim}").get_by_label(text, exact=True).check()
    return task["dimensions"]


def test_tokens_that_cannot_annotate_get_nothing(page, app):
    _, ctx, world = app
    _tab(page, "Annotate")
    for token, why in ((None, "valid personal access token"), ("evv_nope_secret", "valid personal access token"),
                       (world.tokens["rev"], "reviewer token cannot annotate")):
        _sign_in(page, "annotate", token)
        _wait_text(page, "#annotate-status", [why])
        assert page.locator(VIDEOS).count() == 0 and page.locator("#annotate-submit").count() == 0
    _tab(page, "Review")
    _sign_in(page, "review", world.tokens["ann1"])
    _wait_text(page, "#review-status", ["annotator token cannot review"])
    assert not page.locator("#review-queue").is_visible()


def test_annotators_label_blind_with_synchronised_players(page, app, artifacts_dir):
    _, ctx, world = app
    _tab(page, "Annotate")
    _sign_in(page, "annotate", world.tokens["ann1"])
    _wait_text(page, "#annotate-status", ["Signed in as ann1", "Task c0"])
    page.wait_for_function("() => [...document.querySelectorAll('#annotate-players video')].length === 3 && "
                           "[...document.querySelectorAll('#annotate-players video')].every(v => v.readyState >= 1)")
    # blind: neither model names nor the clips' real paths appear anywhere on the tab
    html = page.locator("#annotate-players").inner_html() + page.locator("#annotate-task").inner_html()
    assert not any(m in html for m in MODELS) and str(world.clips[("alpha", "c0")].parent) not in html
    assert "clips" not in html and "truth_c0" not in html
    # the prompt is text: its tags and template syntax are shown, never interpreted
    _wait_text(page, "#annotate-task", ["<b>pan</b>", "{{value}}", "${1+1}"])
    # gates decided from the stored evidence: silent single-shot clips have no sound or multi-shot dimensions
    assert page.locator("#annotate-choice-visual_quality").count() == 1
    for gated in ("vocal", "soundscape", "logic", "rhythm"):
        assert page.locator(f"#annotate-choice-{gated}").count() == 0

    # synchronised: seeking one player moves the others (outputs and the real clip) ...
    page.evaluate("() => { document.querySelectorAll('#annotate-players video')[1].currentTime = 1.3; }")
    page.wait_for_function("() => [...document.querySelectorAll('#annotate-players video')]"
                           ".every(v => Math.abs(v.currentTime - 1.3) < 0.05)", timeout=10_000)
    # ... and so does the one control (0.25 of the longest clip, 3.0 s); the 2.0 s real clip follows as well
    page.locator("#annotate-players .ev-sync-seek").fill("250")
    page.wait_for_function("() => [...document.querySelectorAll('#annotate-players video')]"
                           ".every(v => Math.abs(v.currentTime - 0.75) < 0.05)", timeout=10_000)
    assert [round(t, 2) for t in _times(page)] == [0.75, 0.75, 0.75]
    page.click("#annotate-players [data-ev=play]")
    page.wait_for_timeout(600)
    page.click("#annotate-players [data-ev=pause]")
    played = _times(page)
    assert min(played) > 0.8 and max(played) - min(played) < 0.25  # they played together
    page.screenshot(path=str(artifacts_dir / "annotate_task.png"), full_page=False)

    dims = _label_all(page, ctx, world, lambda d: "alpha")
    page.locator("#annotate-note-lens textarea").fill(PAYLOAD)
    page.locator("#annotate-choice-grounding").scroll_into_view_if_needed()
    page.wait_for_function("() => Math.abs(document.querySelector('#annotate-players').getBoundingClientRect().top) < 2",
                           timeout=5_000)  # the players stay in view while the annotator scrolls through the dimensions
    page.screenshot(path=str(artifacts_dir / "annotate_scrolled.png"), full_page=False)
    page.screenshot(path=str(artifacts_dir / "annotate_form.png"), full_page=True)
    page.click("#annotate-submit")
    _wait_text(page, "#annotate-status", [f"Saved {len(dims)} label(s) on task c0", "No task is waiting"])
    assert len(dims) >= 3

    # the second annotator gets the same task, and sees nothing of the first one's labels
    _sign_in(page, "annotate", world.tokens["ann2"])
    _wait_text(page, "#annotate-status", ["Signed in as ann2", "Task c0"])
    assert "fine" not in page.locator("body").inner_text()
    _label_all(page, ctx, world, lambda d: "beta" if d == "lens" else "alpha")  # disagrees on lens
    page.click("#annotate-submit")
    _wait_text(page, "#annotate-status", [f"Saved {len(dims)} label(s)"])

    subs = ctx.store.task_submissions(ctx.store.get_task(world.ui_task)["id"])
    assert len(subs) == 2 * len(dims) and all(s["seconds"] is not None and s["seconds"] > 0 for s in subs)
    assert {tuple(s["display_order"]) for s in subs} == {tuple(ctx.store.get_task(world.ui_task)["display_order"])}


def test_review_audit_finalise_update_leaderboard_and_agreement(page, app, artifacts_dir):
    from evalverse.bench.winratios import enough
    from evalverse.humans.report import human_stats
    from evalverse.leaderboard.aggregate import format_ci

    url, ctx, world = app
    before = {(r.dimension, r.model): r for r in ctx.store.bench.win_ratio_table(SOURCE).itertuples()}
    assert before[("visual_quality", "alpha")].human_n_cases == 5 and not enough(5)
    stats_before = world.stats_before

    _tab(page, "Review")
    # a person who annotated the task cannot review their own annotation, even with a reviewer token
    _sign_in(page, "review", world.tokens["ann1:reviewer"])
    _wait_text(page, "#review-status", ["Signed in as ann1 (reviewer)"])
    _pick(page, "#review-queue", "c0")
    page.click("#review-open")
    _wait_text(page, "#review-labels", ["ann1", "ann2", "your own work"])
    _pick(page, "#review-annotation", "ann1")
    page.locator("#review-verdict").get_by_label("Pass", exact=True).check()
    page.click("#review-submit")
    _wait_text(page, "#review-status", ["nobody reviews their own work"])
    assert ctx.store.task_reviews(ctx.store.get_task(world.ui_task)["id"]) == []

    _sign_in(page, "review", world.tokens["rev"])
    _wait_text(page, "#review-status", ["Signed in as rev (reviewer)"])
    _pick(page, "#review-queue", "c0")
    page.click("#review-open")
    _wait_text(page, "#review-labels", ["ann1", "ann2", "A (left) better"])
    assert page.evaluate("() => window.__pwned") is None  # the note is text...
    assert "onerror=" in page.locator("#review-labels").inner_text()  # ...shown as written
    assert page.locator("#review-players video").count() == 3
    _pick(page, "#review-annotation", "ann1")
    page.locator("#review-verdict").get_by_label("Pass", exact=True).check()
    page.click("#review-submit")
    _wait_text(page, "#review-status", ["ann1's annotation", "passed"])
    _pick(page, "#review-annotation", "ann2")
    page.locator("#review-verdict").get_by_label("Fail", exact=True).check()
    page.click("#review-submit")
    _wait_text(page, "#review-status", ["a fail needs a reason"])
    page.locator("#review-reason textarea").fill("Lens: B is the softer clip; please look again at the focus.")
    page.click("#review-submit")
    _wait_text(page, "#review-status", ["ann2's annotation", "failed"])
    page.screenshot(path=str(artifacts_dir / "annotate_review.png"), full_page=True)

    # agreement figures: what `humans stats --json` says, now with the new task
    page.click("#stats-show")
    _wait_text(page, "#stats-html", ["Krippendorff", "Visual Quality"])
    now = human_stats(ctx.store, source="app")
    group = next(g for g in now["sources"][0]["groups"] if g["dimension"] == "visual_quality")
    old = next(g for g in stats_before["sources"][0]["groups"] if g["dimension"] == "visual_quality")
    assert group["items"] == old["items"] + 1
    row = page.locator("#stats-agreement tr", has_text="Visual Quality").inner_text()
    assert f"{group['alpha']['value']:.3f}" in row and f"{group['pairwise_agreement']['rate']:.3f}" in row
    assert str(group["items"]) in row
    lens = next(g for g in now["sources"][0]["groups"] if g["dimension"] == "lens")
    consensus = page.locator("#stats-consensus").inner_text()
    assert all(c["rater"] in consensus for c in lens["consensus"])

    _sign_in(page, "review", world.tokens["aud"])
    _wait_text(page, "#review-status", ["Signed in as aud (auditor)"])
    _pick(page, "#audit-queue", "c0")
    page.click("#audit-open")
    _wait_text(page, "#audit-view", ["need your decision", "failed review", "annotators disagree on lens"])
    page.click("#audit-finalise")
    _wait_text(page, "#review-status", ["decide accept or reject"])  # nothing decided yet: refused
    _pick(page, "#audit-label", "label(s) by ann2")
    page.locator("#audit-decision").get_by_label("Reject", exact=True).check()
    page.locator("#audit-reason textarea").fill("careless on lens, as the reviewer found")
    page.click("#audit-record")
    _wait_text(page, "#review-status", ["Decision recorded (reject"])
    _pick(page, "#audit-label", "ann1 · Lens")
    page.locator("#audit-decision").get_by_label("Accept", exact=True).check()
    page.locator("#audit-reason textarea").fill("A is visibly sharper")
    page.click("#audit-record")
    _wait_text(page, "#review-status", ["Every label that needs a decision has one"])
    page.click("#audit-finalise")
    _wait_text(page, "#review-status", ["Task c0 finalised"])
    _wait_text(page, "#audit-result", ["Recomputed the leaderboard source demo:evidence@1.0"])
    page.screenshot(path=str(artifacts_dir / "annotate_audit.png"), full_page=True)

    after = {(r.dimension, r.model): r for r in ctx.store.bench.win_ratio_table(SOURCE).itertuples()}
    vq = after[("visual_quality", "alpha")]
    assert vq.human_n_cases == 6 and enough(6)
    # the leaderboard tab shows it (a fresh page reads the recomputed source)
    page.goto(url, wait_until="domcontentloaded")
    _tab(page, "Leaderboard")
    page.wait_for_selector("#leaderboard-table", state="visible")
    _pick(page, "#leaderboard-source", SOURCE)
    _wait_text(page, "#leaderboard-note", ["2 models"])
    page.get_by_text("Stages, aspects and dimensions").click()
    page.get_by_role("button", name="Clear dimensions").click()
    _wait_text(page, "#leaderboard-note", ["Select at least one dimension"])
    page.locator("#dimension-checkboxes").get_by_label("Visual Quality", exact=True).check()
    machine = format_ci(vq.machine_win_ratio, vq.machine_ci_low, vq.machine_ci_high)
    cell = f"{machine} / {format_ci(vq.human_win_ratio, vq.human_ci_low, vq.human_ci_high)}"
    text = _wait_text(page, "#leaderboard-table", [cell, "alpha"])
    assert "too few (n=5)" not in text
    _pick(page, "#interval-dimension", "Visual Quality")
    page.locator("#interval-plot .js-plotly-plot").wait_for()
    page.screenshot(path=str(artifacts_dir / "annotate_leaderboard.png"), full_page=True)
    # and the counted agreement figures include the finalised task: ann2's rejected labels do not count
    counted = human_stats(ctx.store, source="app", counted=True)
    cg = next(g for g in counted["sources"][0]["groups"] if g["dimension"] == "visual_quality")
    assert cg["items"] == old["items"] + 1 and cg["judgments"] == old["judgments"] + 1
