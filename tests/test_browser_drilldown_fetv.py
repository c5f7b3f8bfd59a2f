"""Issue 15's acceptance on real material: after a benchmark run on the shared FETV suite (two of its sources,
diagnosed for Visual Quality by `evalverse bench run`), clicking one model's Visual Quality cell in the
Leaderboard lists that model's 25 cases, each with its keyframes and score, lowest first. Headless Debian
chromium; screenshot saved as a test artifact."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from browser_support import chromium_browser, open_app, served_app

from test_browser_drilldown import VIEW, VQ, _click_cell, _pick_source

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
MODELS = ("cogvideo", "zeroscope")


def _cli(*args: str, env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-m", "evalverse", *args], capture_output=True, text=True, env=env,
                          timeout=1200, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_dir):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from fetv_submissions import build
    finally:
        sys.path.remove(str(REPO / "scripts"))
    from evalverse.config import Settings

    root = tmp_path_factory.mktemp("fetv_drill")
    build(root / "subs", shared_dir)
    db = root / "ev.duckdb"
    env = {**os.environ, "EVALVERSE_DATA": str(root), "EVALVERSE_DB": str(db)}
    suite, gifs = REPO / "suites" / "fetv25.jsonl", shared_dir / "media" / "fetv_rated_gifs"
    for model in MODELS:
        summary = _cli("bench", "run", "--suite", str(suite), "--root", str(gifs), "--model", model,
                       "--videos", str(root / "subs" / model), "--dimensions", "visual_quality", "--json", env=env)
        assert summary["done"] == 25, summary
    source = _cli("bench", "winratios", "--suite", str(suite), "--root", str(gifs), "--json", env=env)["source"]
    settings = Settings(data_dir=root, db_path=db, models_dir=root / "models")
    with served_app(settings) as (url, _):
        yield url, source


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


def test_a_visual_quality_cell_of_a_fetv_run_lists_its_cases_with_keyframes_and_scores(server, browser, artifacts_dir):
    url, source = server
    page = browser.new_page(viewport=VIEW)
    page.set_default_timeout(60_000)
    open_app(page, url)
    page.get_by_role("tab", name="Leaderboard", exact=True).click()
    page.wait_for_selector("#leaderboard-table", state="visible")
    _pick_source(page, source.split(":")[0])
    page.wait_for_function("() => document.querySelector('#leaderboard-table').innerText.includes('±')")
    _click_cell(page, "cogvideo", VQ)
    page.wait_for_selector("#drill #cases-list .ev-case")
    cases = page.locator("#drill .ev-case")
    assert cases.count() == 25
    scores = [float(x) for x in cases.evaluate_all("cs => cs.map(c => c.querySelector('[data-score]').dataset.score)")]
    assert scores == sorted(scores) and all(1.0 <= s <= 5.0 for s in scores)
    strips = cases.evaluate_all("cs => cs.map(c => c.querySelectorAll('.ev-case-strip img').length)")
    assert all(n >= 1 for n in strips), strips  # every case shows its keyframes, taken by the shots operator
    assert "cogvideo" in page.locator("#drill .ev-drill-head").inner_text()
    page.locator("#drill").screenshot(path=str(artifacts_dir / "drilldown_fetv_cogvideo_vq.png"))
    page.close()
