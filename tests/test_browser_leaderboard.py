"""The running app in headless Debian chromium: every tab renders its table or figure; screenshots saved.

Starts `app.py` in a subprocess on a free 127.0.0.1 port with a temporary EVALVERSE_DB (no network) and
drives /usr/bin/chromium through the Python `playwright` package (never `playwright install`).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, free_port

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120



@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app")
    port = free_port()
    env = {
        **os.environ,
        "EVALVERSE_DATA": str(tmp),
        "EVALVERSE_DB": str(tmp / "db" / "evalverse.duckdb"),
        "EVALVERSE_MODELS": str(tmp / "models"),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "OMP_NUM_THREADS": "1",
    }
    log = open(tmp / "app.log", "w")
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app exited with {proc.returncode}:\n{(tmp / 'app.log').read_text()[-3000:]}")
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"app did not answer on {url} within {START_TIMEOUT_S}s:\n{(tmp / 'app.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def page(server):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1440, "height": 1000})
        pg.set_default_timeout(60_000)
        pg.goto(server, wait_until="domcontentloaded")
        # Diagnose is the first tab (the main journey); the leaderboard is one click away
        pg.get_by_role("tab", name="Leaderboard", exact=True).click()
        pg.wait_for_selector("#leaderboard-table", state="visible")
        yield pg
        browser.close()


@pytest.fixture(scope="module")
def paper(paper_csv) -> pd.DataFrame:
    return pd.read_csv(paper_csv)


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def _table_text(page) -> str:
    return page.locator("#leaderboard-table").inner_text()


def _wait_text(page, selector: str, wanted: list[str], timeout_s: float = 60) -> str:
    """Wait until the visible text of `selector` contains every string in `wanted`; return that text."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = page.locator(selector).inner_text()
        missing = [w for w in wanted if w not in text]
        if not missing:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} never showed {missing}; it shows:\n{text[:2000]}")
        page.wait_for_timeout(250)


def test_leaderboard_tab(page, paper, artifacts_dir):
    _open_tab(page, "Leaderboard")
    # every model, and the paper's cells ("machine / human"), are visible
    row = paper[(paper.model == "Seedance 2.0") & (paper.dimension == "Character")].iloc[0]
    _wait_text(page, "#leaderboard-table", [*paper["model"].unique(), f"{row.machine_win_ratio:.2f} / {row.human_win_ratio:.2f}"])
    assert not page.locator("#ev-warning").count()
    page.screenshot(path=str(artifacts_dir / "leaderboard.png"), full_page=True)

    # Tick only the two sound dimensions: the Selected score is recomputed and the table re-sorted.
    page.get_by_text("Stages, aspects and dimensions").click()
    boxes = page.locator("#dimension-checkboxes")
    page.get_by_role("button", name="Clear dimensions").click()
    _wait_text(page, "#leaderboard-note", ["Select at least one dimension"])
    for dim in ("Vocal", "Soundscape"):
        boxes.get_by_label(dim, exact=True).check()
    _wait_text(page, "#leaderboard-note", ["2 dimensions selected"], timeout_s=30)
    sound = paper[paper.dimension.isin(["Vocal", "Soundscape"])]
    expected = sound.groupby("model").machine_win_ratio.mean().sort_values(ascending=False).index.tolist()
    text = _wait_text(page, "#leaderboard-table", list(paper["model"].unique()))
    shown = sorted(paper["model"].unique(), key=text.index)  # models in the order the rows show them
    assert shown[: len(expected)] == expected  # re-sorted by the new Selected score; silent models last
    page.screenshot(path=str(artifacts_dir / "leaderboard_sound_only.png"), full_page=True)


def test_radar_tab(page, artifacts_dir):
    _open_tab(page, "Radar")
    plot = page.locator("#radar-plot .js-plotly-plot")
    plot.wait_for()
    assert page.locator("#radar-plot .scatterlayer .trace, #radar-plot g.trace").count() >= 1
    page.screenshot(path=str(artifacts_dir / "radar.png"), full_page=True)
    page.get_by_label("Aspects", exact=True).check()
    page.get_by_text("over 7 aspects").wait_for()
    page.screenshot(path=str(artifacts_dir / "radar_aspects.png"), full_page=True)


def test_alignment_tab(page, paper, artifacts_dir):
    _open_tab(page, "Alignment")
    table = page.locator("#alignment-table")
    table.get_by_text("Lens", exact=True).first.wait_for()
    page.locator("#alignment-plot .js-plotly-plot").wait_for()
    # one subplot title per dimension in the grid
    page.locator("#alignment-plot").get_by_text("Soundscape (r =").wait_for()
    page.screenshot(path=str(artifacts_dir / "alignment.png"), full_page=True)
    # one dimension on its own: the title carries Pearson r computed from the same rows
    page.locator("#alignment-choice input").click()
    page.get_by_role("option", name="Lens", exact=True).click()
    part = paper[paper.dimension == "Lens"]
    r = np.corrcoef(part.human_win_ratio, part.machine_win_ratio)[0, 1]
    page.locator("#alignment-plot").get_by_text(f"Lens: human vs machine win ratio (r = {r:.2f}, n = {len(part)})").wait_for()
    page.screenshot(path=str(artifacts_dir / "alignment_lens.png"), full_page=True)


def test_taxonomy_tab(page, artifacts_dir):
    from evalverse.taxonomy import load_taxonomy

    tax = load_taxonomy()
    _open_tab(page, "Taxonomy")
    page.locator("#taxonomy-overview").get_by_text(f"{tax.counts()['questions']} expert questions").wait_for()
    stage, aspect, dim = next(tax.iter_dimensions())
    page.get_by_text(f"{dim.name} · ", exact=False).first.click()
    question = dim.sub_dimensions[0].questions[0].text
    page.get_by_text(question[:40], exact=False).first.wait_for()
    page.screenshot(path=str(artifacts_dir / "taxonomy.png"), full_page=True)


def test_about_tab(page, artifacts_dir):
    _open_tab(page, "About")
    about = page.locator("#about-text")
    about.get_by_text("Table 3 of the EvalVerse paper", exact=False).wait_for()
    about.get_by_text("How to cite", exact=False).wait_for()
    page.screenshot(path=str(artifacts_dir / "about.png"), full_page=True)
