"""The leaderboard drill-down in headless Debian chromium: after a benchmark run (a generated suite, four models),
clicking one model's Visual Quality cell lists its cases with keyframes and scores, lowest first; a case opens its
stored run in the Diagnose tab (no operator runs); the link opens the same drill-down in a new page; a cell of the
paper's Table 3 says that its per-video data is not public. Screenshots are saved as test artifacts."""
from __future__ import annotations

import pytest
from browser_support import chromium_browser, open_app, served_app

from bench_support import write_suite
from evalverse.bench.suite import load_suite
from evalverse.bench.winratios import compute
from evalverse.store import Store
from test_bench_winratios import _fill

pytestmark = pytest.mark.browser

SOURCE = "demo:evidence@1.0"
VQ = "Aesthetics · Visual Quality"
THUMB = ("data:image/jpeg;base64,/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////"
         "////////////////////////////////////////wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAA"
         "AAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==")
VIEW = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def calls():
    return {"operators": 0}


@pytest.fixture(scope="module")
def server(tmp_path_factory, calls):
    import evalverse.operators.runner as runner
    from evalverse.config import Settings

    run_one = runner.run_one

    def counted_run(*a, **k):
        calls["operators"] += 1
        return run_one(*a, **k)

    runner.run_one = counted_run
    root = tmp_path_factory.mktemp("drill")
    settings = Settings(data_dir=root, db_path=root / "ev.duckdb", models_dir=root / "models")
    with Store.open(settings.db_path) as store:
        suite = load_suite(write_suite(root / "demo.jsonl", 8))
        _fill(store, suite, {"alpha": 4.0, "beta": 3.0, "gamma": 2.0, "delta": 1.0})
        for case in suite.cases:  # each of beta's clips has one stored keyframe, as a benchmark run leaves them
            store.put_evidence(f"h-beta-{case.id}", "shots", "1.0", "p", {"results": {"shots": [
                {"index": 0, "start": 0.0, "end": 1.0, "thumbnail": THUMB}]}})
        compute(store, "demo", n_boot=100)
    try:
        with served_app(settings) as (url, _):
            yield url
    finally:
        runner.run_one = run_one


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


def _pick_source(page, text: str) -> None:
    page.locator("#leaderboard-source input").click()
    page.get_by_role("option").filter(has_text=text).first.click()


def _click_cell(page, model: str, header: str) -> None:
    """Click the cell of `model`'s row under the column whose header ends with `header` (gradio's virtual grid)."""
    table = page.locator("#leaderboard-table")
    row = table.locator("[role=row]:visible").filter(has=page.locator("[role=gridcell]", has_text=model)).first
    row.wait_for()
    headers = [h.strip() for h in table.locator("table.header-table th:visible").all_inner_texts()]
    col = next(i for i, h in enumerate(headers) if h.endswith(header))
    row.locator("[role=gridcell]").nth(col).click()


def test_a_cell_lists_its_cases_opens_a_run_and_travels_in_the_link(server, browser, calls, artifacts_dir):
    page = browser.new_page(viewport=VIEW)
    page.set_default_timeout(60_000)
    open_app(page, server)
    page.get_by_role("tab", name="Leaderboard", exact=True).click()
    page.wait_for_selector("#leaderboard-table", state="visible")
    _pick_source(page, "demo")
    page.wait_for_function(  # the computed source's cells (± intervals) are shown
        "() => document.querySelector('#leaderboard-table').innerText.includes('±')")
    _click_cell(page, "beta", VQ)
    page.wait_for_selector("#drill #cases-list .ev-case")
    drill = page.locator("#drill")
    cases = drill.locator(".ev-case")
    assert cases.count() == 8
    scores = [float(x) for x in cases.evaluate_all("cs => cs.map(c => c.querySelector('[data-score]').dataset.score)")]
    assert scores == sorted(scores) and scores[0] == pytest.approx(3.0)  # beta's cases, lowest first
    assert cases.first.locator(".ev-case-strip img").count() == 1
    assert "beta" in drill.locator(".ev-drill-head").inner_text() and "over 8 cases" in drill.inner_text()
    url = page.url
    assert "tab=leaderboard" in url and "drill_model=beta" in url and "drill_dimension=visual_quality" in url
    drill.screenshot(path=str(artifacts_dir / "drilldown_cases.png"))

    # a case opens its stored run in the Diagnose tab, read from the store
    first = int(cases.first.get_attribute("data-open-run"))
    cases.first.locator("a[data-action='open']").click()
    page.wait_for_function(
        "() => (document.querySelector('#diagnose-progress') || {innerText: ''}).innerText.includes('Opened')")
    assert f"run {first}" in page.locator("#diagnose-progress").inner_text()
    assert page.locator("button[role=tab][aria-selected=true]").inner_text().strip() == "Diagnose"
    assert "tab=diagnose" in page.url and f"run={first}" in page.url
    assert calls["operators"] == 0, "opening a stored run must not run an operator"
    page.screenshot(path=str(artifacts_dir / "drilldown_run_opened.png"))

    # the drill-down's link in a new page: the same cases under the same source
    other = browser.new_page(viewport=VIEW)
    other.set_default_timeout(60_000)
    open_app(other, url)
    other.wait_for_selector("#drill #cases-list .ev-case")
    assert other.locator("#drill .ev-case").count() == 8
    assert other.locator("button[role=tab][aria-selected=true]").inner_text().strip() == "Leaderboard"
    other.screenshot(path=str(artifacts_dir / "drilldown_shared_link.png"), full_page=True)

    # the paper's Table 3: a cell explains that the videos behind it are not public
    _pick_source(other, "paper")
    other.locator("#drill-hint").wait_for()
    assert "drill_model" not in other.url  # a new source closes the drill-down in the link too
    _click_cell(other, "Seedance 2.0", "· Lens")
    other.locator("#drill-not-public").wait_for()
    assert other.locator("#drill .ev-case").count() == 0
    other.locator("#drill").screenshot(path=str(artifacts_dir / "drilldown_paper.png"))
    other.close()
    page.close()
