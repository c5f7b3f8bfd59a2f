"""Explore in headless Debian chromium at 1280×800: diagnose a clip and see the overview (verdict, 18 badges, radar,
weakest three) before any full card; open the Runs tab, reopen the run from the store (no operator runs, nothing is
decoded: counted in the server process), compare it with a second run, and open the copied link in a new page to get
the same view. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import pytest
from browser_support import chromium_browser, open_app, served_app

pytestmark = pytest.mark.browser

RUN_TIMEOUT_MS = 240_000
VIEW = {"width": 1280, "height": 800}
# when the overview first holds badges and when the first card is finished (ms since the observer started)
OBSERVER = """() => {
  window.__ev = {overview: null, card: null};
  const t0 = performance.now();
  new MutationObserver(() => {
    const now = performance.now() - t0;
    if (window.__ev.overview === null && document.querySelectorAll('#diagnose-overview .ev-chip').length === 18)
      window.__ev.overview = now;
    if (window.__ev.card === null && document.querySelector(
        '#diagnose-cards .ev-card:not(.ev-s-pending):not(.ev-s-judging)')) window.__ev.card = now;
  }).observe(document.body, {childList: true, subtree: true});
}"""


@pytest.fixture(scope="module")
def calls():
    """Operator runs and decodes in the server process (the app runs in this one)."""
    return {"operators": 0, "decodes": 0}


@pytest.fixture(scope="module")
def server(tmp_path_factory, calls):
    import evalverse.media
    import evalverse.operators.runner as runner
    from evalverse.config import Settings

    run_one, decode = runner.run_one, evalverse.media.decode_video

    def counted_run(*a, **k):
        calls["operators"] += 1
        return run_one(*a, **k)

    def counted_decode(*a, **k):
        calls["decodes"] += 1
        return decode(*a, **k)

    runner.run_one, evalverse.media.decode_video = counted_run, counted_decode
    root = tmp_path_factory.mktemp("explore")
    settings = Settings(data_dir=root, db_path=root / "ev.duckdb", models_dir=root / "models")
    try:
        with served_app(settings) as (url, _):
            yield url
    finally:
        runner.run_one, evalverse.media.decode_video = run_one, decode


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


def _diagnose(page, clip, prompt: str) -> None:
    clear = page.locator("#diagnose-upload button[aria-label='Clear']")
    if clear.count():  # a clip uploaded before
        clear.first.click()
        page.wait_for_selector("#diagnose-upload input[type=file]", state="attached")
    if clip is not None:
        page.locator("#diagnose-upload input[type=file]").set_input_files(str(clip))
        page.wait_for_function(f"() => document.querySelector('#diagnose-upload').innerText.includes('{clip.stem[:8]}')",
                               timeout=60_000)
    page.locator("#diagnose-prompt textarea").fill(prompt)
    page.click("#diagnose-run")
    # the new run has started (the previous one's "Done in" is gone), then it is done
    page.wait_for_function("() => !document.querySelector('#diagnose-progress').innerText.includes('Done in')",
                           timeout=60_000)
    page.wait_for_function("() => document.querySelector('#diagnose-progress').innerText.includes('Done in')",
                           timeout=RUN_TIMEOUT_MS)


def _in_view(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEW["height"]


def test_overview_runs_reopen_compare_and_a_shared_link(server, browser, calls, artifacts_dir, tmp_path):
    from evalverse.media.synthetic import cuts_clip

    clip = cuts_clip(tmp_path / "explore_clip.mp4", cut_frames=(20, 45), n=70).path
    page = browser.new_page(viewport=VIEW)
    open_app(page, server)
    page.evaluate(OBSERVER)
    _diagnose(page, clip, 'A grey card, cut twice <img src=x onerror="window.__pwned=1">')
    seen = page.evaluate("() => window.__ev")
    # summary first: the overview held all 18 badges before the first card was finished
    assert seen["overview"] is not None and seen["card"] is not None and seen["overview"] <= seen["card"]
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(400)
    overview = page.locator("#diagnose-overview")
    assert overview.locator(".ev-chip").count() == 18
    assert overview.locator(".ev-chip.ev-c-gated").count() >= 1  # silent clip: sound is gated, shown as such
    assert overview.locator(".ev-weakest li").count() >= 1
    # at 1280×800 the verdict is on the first screen, above every card
    assert _in_view(page, "#diagnose-overview .ev-verdict")
    assert overview.bounding_box()["y"] < page.locator("#diagnose-cards .ev-card").first.bounding_box()["y"]
    assert page.locator("#diagnose-radar .js-plotly-plot").count() == 1
    page.screenshot(path=str(artifacts_dir / "explore_overview_1280x800.png"))
    assert "run=1" in page.url and "tab=diagnose" in page.url
    # a badge opens its card: scrolled into view, its chain of thought unfolded
    chip = overview.locator(".ev-chip[data-status='scored']").first
    target = chip.get_attribute("data-card")
    chip.click()
    page.wait_for_timeout(1200)
    assert _in_view(page, f"#{target}") and page.locator(f"#{target} details.ev-thought").get_attribute("open") is not None
    page.screenshot(path=str(artifacts_dir / "explore_card_opened.png"))
    # a second clip (one cut fewer) under another prompt, for the compare
    second = cuts_clip(tmp_path / "explore_other.mp4", cut_frames=(30,), n=60).path
    _diagnose(page, second, "A test card for the compare view")
    assert calls["operators"] > 0 and calls["decodes"] == 2

    # the Runs tab lists both, newest first; reopening the first runs no operator and decodes nothing
    before = dict(calls)
    page.get_by_role("tab", name="Runs").click()
    page.wait_for_function("() => document.querySelectorAll('#runs-table tr[data-open-run]').length === 2")
    ids = [int(x) for x in page.locator("#runs-table tr[data-open-run]").evaluate_all(
        "rows => rows.map(r => r.dataset.openRun)")]
    assert ids == [2, 1]
    # the stored prompt is shown as text: its markup never becomes an element or runs
    assert "onerror=" in page.locator("#runs-table").inner_text() and page.locator("#runs-table img").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    page.locator("#runs-table tr[data-open-run='1'] td").nth(1).click()
    page.wait_for_function("() => (document.querySelector('#run-progress') || {innerText: ''}).innerText.includes('Opened')",
                           timeout=30_000)
    progress = page.locator("#run-progress").inner_text()
    assert "Opened from the store: run 1" in progress and "no operator ran" in progress
    assert page.locator("#run-overview .ev-chip").count() == 18 and page.locator("#run-cards .ev-card").count() == 18
    assert page.locator("#run-evidence #rv-panel-shots img").count() == 3  # keyframes kept with the evidence
    assert calls == before, "reopening a stored run must not run an operator or decode the clip"
    page.screenshot(path=str(artifacts_dir / "explore_run_reopened.png"))

    # compare run 1 (open) with run 2: players side by side, both radars on one chart, per-dimension differences
    page.locator("#runs-table tr[data-open-run='2'] a[data-action='compare']").click()
    page.wait_for_selector("#compare-table", timeout=30_000)
    page.wait_for_timeout(1500)
    assert page.locator("#compare-video-a video").count() == 1 and page.locator("#compare-video-b video").count() == 1
    legend = page.locator("#compare-radar").inner_text()
    assert "A: run #1" in legend and "B: run #2" in legend
    assert page.locator("#compare-table tr[data-dimension]").count() == 18
    setup = page.locator("#compare-setup").inner_text()
    assert "two different clips" in setup and "settings.prompt" in setup
    shots_row = page.locator("#compare-table tr[data-dimension='rhythm']").inner_text()
    assert "shots.n_shots" in shots_row or "shots." in shots_row  # 3 shots against 2: the shot measures differ
    assert calls == before
    page.locator("#compare-box").screenshot(path=str(artifacts_dir / "explore_compare.png"))

    # one dimension across runs (the per-case list the leaderboard drill-down reuses): lowest score first, each with
    # its keyframes, score, verdict line and a link to the full run
    page.locator("#runs-dimension input").fill("Rhythm")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cases-list .ev-case", timeout=30_000)
    cases = page.locator("#cases-list .ev-case")
    assert [int(x) for x in cases.evaluate_all("cs => cs.map(c => c.dataset.openRun)")] == [1, 2]  # 1.0, then unscored
    assert cases.first.locator("img").count() == 3 and cases.nth(1).locator("img").count() == 2  # a keyframe per shot
    assert "1.0 / 5" in cases.first.inner_text() and cases.first.locator("a[href*='run=1']").count() == 1
    page.locator("#runs-list").screenshot(path=str(artifacts_dir / "explore_one_dimension.png"))
    assert calls == before
    url = page.url
    assert "tab=runs" in url and "run=1" in url and "a=1" in url and "b=2" in url and "dimension=rhythm" in url

    # the copied link in a new page: the same view
    other = browser.new_page(viewport=VIEW)
    open_app(other, url)
    other.wait_for_selector("#compare-table", timeout=30_000)
    assert other.url == url  # the restore leaves the link as it was
    assert "Opened from the store: run 1" in other.locator("#run-progress").inner_text()
    assert other.locator("#compare-a input, #compare-a textarea").first.input_value() == "1"
    assert other.locator("#compare-b input, #compare-b textarea").first.input_value() == "2"
    assert other.locator("#cases-list .ev-case").count() == 2  # the filter came back with the link
    assert other.locator("#runs-dimension input").input_value() == "Rhythm"
    assert other.locator("button[role=tab][aria-selected=true]").inner_text().strip() == "Runs"
    assert calls == before
    other.wait_for_timeout(800)
    other.screenshot(path=str(artifacts_dir / "explore_shared_link.png"))
    other.close()
    page.close()
