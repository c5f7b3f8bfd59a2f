"""The Diagnose tab in headless Debian chromium: upload a clip, watch cards fill in one after another, follow a
card to its evidence panel, download the JSON report. Screenshots and the measured timings go to test-artifacts/.

Drives /usr/bin/chromium through the Python `playwright` package (never `playwright install`); the app runs
in this process on a free 127.0.0.1 port with a temporary database.
"""
from __future__ import annotations

import json
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from browser_support import chromium_browser, open_app, served_app

pytestmark = pytest.mark.browser

CLIP = "real_multishot_silent_bikes.mp4"  # 10 s, six shots, silent: a 10 s clip for the timing
RUN_TIMEOUT_MS = 240_000

# records, at every change of the cards area, how many cards are finished (ms since the observer started)
OBSERVER = """() => {
  window.__evCounts = [];
  const t0 = performance.now();
  const count = () => document.querySelectorAll('#diagnose-cards .ev-card:not(.ev-s-pending):not(.ev-s-judging)').length;
  const obs = new MutationObserver(() => {
    const n = count();
    const last = window.__evCounts[window.__evCounts.length - 1];
    if (!last || last[1] !== n) window.__evCounts.push([performance.now() - t0, n]);
  });
  obs.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""



@contextmanager
def serve(root: Path, warm: bool = False, **settings):
    """The app with its database and models in `root`; yields its URL. `warm`: app.py's warm-up first (the first
    diagnosis is then a warm one, as for a user who presses Diagnose after the warm-up)."""
    from evalverse.config import Settings

    config = Settings(data_dir=root, db_path=root / "ev.duckdb", models_dir=root / "models", **settings)
    with served_app(config, warm=warm) as (url, _):
        yield url


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("browser"), warm=True) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


def test_upload_stream_cards_evidence_and_report(server, browser, shared_media, artifacts_dir, tmp_path):
    clip = shared_media / CLIP
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    open_app(page, server)
    page.wait_for_selector("#diagnose-run")
    t_upload = time.perf_counter()
    page.locator("#diagnose-upload input[type=file]").set_input_files(str(clip))
    page.wait_for_function("() => document.querySelector('#diagnose-upload').innerText.includes('bikes')", timeout=60_000)
    upload_s = time.perf_counter() - t_upload
    page.evaluate(OBSERVER)
    t_click = time.perf_counter()
    page.click("#diagnose-run")
    page.wait_for_selector("#diagnose-cards .ev-card.ev-s-scored, #diagnose-cards .ev-card.ev-s-not_judged, "
                           "#diagnose-cards .ev-card.ev-s-gated", timeout=RUN_TIMEOUT_MS)
    first_card_s = time.perf_counter() - t_click
    page.screenshot(path=str(artifacts_dir / "diagnose_streaming.png"), full_page=False)
    page.wait_for_function("() => document.querySelector('#diagnose-progress').innerText.includes('Done in')",
                           timeout=RUN_TIMEOUT_MS)
    total_s = time.perf_counter() - t_click
    counts = page.evaluate("() => window.__evCounts")
    seen = sorted({n for _, n in counts if n > 0})
    (artifacts_dir / "diagnose_timing.json").write_text(json.dumps({
        "clip": CLIP, "judge": "evidence", "server": "warmed up as app.py does", "upload_s": round(upload_s, 2), "click_to_first_card_s": round(first_card_s, 2),
        "upload_to_first_card_s": round(upload_s + first_card_s, 2), "click_to_done_s": round(total_s, 2),
        "finished_card_counts_seen": seen}, indent=2))
    # cards filled in one after another, not all at once
    assert len(seen) >= 3, f"cards did not appear progressively: {counts}"
    cards = page.locator("#diagnose-cards .ev-card")
    assert cards.count() == 18
    assert page.locator("#diagnose-cards .ev-card.ev-s-gated").count() >= 1  # silent clip: sound gated
    # the evidence: a shot strip with keyframe thumbnails; a card link jumps to its panel
    strip = page.locator("#ev-panel-shots")
    strip.wait_for()
    assert page.locator("#ev-panel-shots img").count() >= 3
    link = page.locator('#diagnose-cards a[href="#ev-panel-camera"]').first
    link.click()
    page.wait_for_timeout(300)
    assert page.locator("#ev-panel-camera").is_visible()
    page.locator("#ev-panel-camera").screenshot(path=str(artifacts_dir / "diagnose_evidence_camera.png"))
    strip.screenshot(path=str(artifacts_dir / "diagnose_evidence_shots.png"))
    page.locator("#diagnose-radar").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "diagnose_done.png"), full_page=True)
    # the JSON report downloads
    with page.expect_download(timeout=30_000) as info:
        page.locator("#diagnose-report a").first.click()
    target = tmp_path / "report.json"
    info.value.save_as(target)
    report = json.loads(target.read_text())
    assert Path(report["video"]).name.endswith(".mp4") and len(report["results"]) == 18
    assert report["evidence"]["shots"]["results"]["n_shots"] >= 3
    page.close()


def test_text_upload_shows_an_error_and_the_page_keeps_working(server, browser, tmp_path, artifacts_dir):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a video\n")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    open_app(page, server)
    page.locator("#diagnose-upload input[type=file]").set_input_files(str(bogus))
    page.wait_for_function("() => document.querySelector('#diagnose-upload').innerText.includes('notes')", timeout=60_000)
    page.click("#diagnose-run")
    page.wait_for_selector("#diagnose-error", timeout=60_000)
    assert "notes.txt" in page.locator("#diagnose-error").inner_text()
    assert page.locator("#diagnose-cards .ev-card").count() == 0  # no placeholders left behind
    page.locator("#diagnose-error").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "diagnose_error.png"))
    page.close()


PAYLOAD = ('[q1] <img src=x onerror="window.__pwned=1"> looks <b>fine</b> <script>window.__pwned=2</script>\n'
           'Self-reflection: <svg onload="window.__pwned=3"></svg> checked.\n```json\n{"answers": {}, "score": 3}\n```')


@pytest.fixture(scope="module")
def markup_judge_server(tmp_path_factory):
    """The app with the `openai` judge pointed at a local fake endpoint whose every reply carries markup."""
    import os

    from fake_openai import Server

    from evalverse.config import JudgeSettings

    os.environ.setdefault("EVALVERSE_OPENAI_API_KEY", "sk-test")
    with Server([], default=PAYLOAD) as endpoint, \
            serve(tmp_path_factory.mktemp("browser-markup"),
                  judge=JudgeSettings(openai_base_url=endpoint.url, openai_model="test-vlm")) as url:
        yield url


def test_markup_in_a_streamed_rationale_is_shown_as_text(markup_judge_server, browser, tmp_path, artifacts_dir):
    """A judge's text is rendered in the cards: markup in it must arrive as text, never run or become elements."""
    from evalverse.media.synthetic import cuts_clip

    clip = cuts_clip(tmp_path / "two_shots.mp4", cut_frames=(20,), n=40).path
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    open_app(page, markup_judge_server)
    page.locator("#diagnose-upload input[type=file]").set_input_files(str(clip))
    page.wait_for_function("() => document.querySelector('#diagnose-upload').innerText.includes('two_shots')",
                           timeout=60_000)
    page.locator("#diagnose-judge input").fill("openai")
    page.keyboard.press("Enter")
    page.click("#diagnose-run")
    page.wait_for_function("() => document.querySelector('#diagnose-progress').innerText.includes('Done in')",
                           timeout=RUN_TIMEOUT_MS)
    cards = page.locator("#diagnose-cards")
    assert "onerror=" in cards.inner_text() and "<script>" in cards.inner_text()  # the payload was rendered, as text
    assert page.evaluate("() => window.__pwned") is None
    assert cards.locator("img, script, svg, b").count() == 0
    page.screenshot(path=str(artifacts_dir / "diagnose_markup_as_text.png"))
    page.close()
