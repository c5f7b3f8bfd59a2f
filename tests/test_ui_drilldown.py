"""Leaderboard drill-down: a clicked cell (model × dimension) of a computed source lists that model's stored
results on the dimension for that suite and judge version, lowest score first, each linking to its stored run in
the Diagnose tab; the paper's Table 3 explains it has no cases; the open drill-down is part of the link."""
from __future__ import annotations

import re
from html import unescape

import pandas as pd
import pytest

from bench_support import write_suite
from evalverse.bench.suite import load_suite
from evalverse.bench.winratios import compute
from evalverse.leaderboard.aggregate import SELECTED_MACHINE
from evalverse.store import Store
from evalverse.ui import diagnose_tab, drilldown, leaderboard_tab, url_state
from evalverse.ui.context import open_context
from test_bench_winratios import _fill, _result

SOURCE = "demo:evidence@1.0"
THUMB = "data:image/jpeg;base64,QUJD"
VQ = "Aesthetics · Visual Quality"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    from evalverse.config import Settings

    tmp = tmp_path_factory.mktemp("ui_drill")
    settings = Settings(data_dir=tmp, db_path=tmp / "ev.duckdb", models_dir=tmp / "models")
    with Store.open(settings.db_path) as store:
        suite = load_suite(write_suite(tmp / "demo.jsonl", 8))
        _fill(store, suite, {"alpha": 4.0, "beta": 3.0, "gamma": 2.0, "delta": 1.0})
        compute(store, "demo", n_boot=100)
        # after the source was computed: an older judge version scored beta's first case lowest of all; the
        # source is judge 1.0, so this result stands behind none of its figures and must not be listed
        old = store.start_run("h-beta-c0", "evidence", "0.9", {}, {"k": 0})
        store.add_dimension_result(old, _result("visual_quality", "scored", 0.5))
        store.finish_run(old)
        store.bench.record_item({"suite": "demo", "model": "beta", "judge": "evidence", "case_id": "c0", "seed": 1,
                                 "path": "/v/beta/c0.mp4", "video_hash": "h-beta-c0", "request_key": "r0",
                                 "judge_version": "0.9", "status": "done", "run_id": old})
        store.put_evidence("h-beta-c0", "shots", "1.0", "p", {"results": {"shots": [
            {"index": 0, "start": 0.0, "end": 1.0, "thumbnail": THUMB}]}})
    context = open_context(settings)
    context.old_run = old
    yield context
    context.store.close()


def _table(ctx, source=SOURCE):
    frame = leaderboard_tab.source_frame(ctx, source)
    stages, aspects, dims = leaderboard_tab._tree(ctx, frame)
    table, *_ = leaderboard_tab.compute(ctx, "Overall", SELECTED_MACHINE, stages, aspects, dims, "All", [], source)
    return frame, table


def _cases(html: str) -> list[tuple[int, float, str]]:
    """(run id, score, link) of each listed case, in the order shown."""
    out = []
    for block in re.findall(r'<div class="ev-case" (.*?)</div></div></div>', html, re.S):
        rid = int(re.search(r'data-open-run="(\d+)"', block).group(1))
        score = float(re.search(r'data-score="([\d.]+)"', block).group(1))
        href = unescape(re.search(r'<a href="([^"]+)" data-run', block).group(1))
        out.append((rid, score, href))
    return out


def test_a_clicked_dimension_cell_names_its_model_and_dimension(ctx):
    frame, table = _table(ctx)
    columns = list(table.columns)
    row = table[table.Model == "beta"].iloc[0].tolist()
    # the row as shown (a table sorted in the browser has other row numbers): the model comes from the row's value
    assert drilldown.clicked_cell(frame, columns, [0, columns.index(VQ)], row) == ("beta", "visual_quality")
    for col in ("Rank", "Model", SELECTED_MACHINE, "Dims"):  # not a dimension's cell: nothing to open
        assert drilldown.clicked_cell(frame, columns, [0, columns.index(col)], row) is None
    problem = pd.DataFrame({"Problem": ["Select at least one dimension."]})
    assert drilldown.clicked_cell(frame, list(problem.columns), [0, 0], ["Select at least one dimension."]) is None
    assert drilldown.clicked_cell(frame, columns, [0, 99], row) is None
    assert drilldown.clicked_cell(frame, columns, [0, columns.index(VQ)], [1, "nobody", *row[2:]]) is None


def test_the_cell_lists_the_models_cases_of_that_source_lowest_score_first(ctx):
    html = drilldown.drill_html(ctx, SOURCE, "beta", "visual_quality")
    cases = _cases(html)
    assert len(cases) == 8  # one per case of the suite, judge 1.0 only (the 0.9 result, 0.5, is not among them)
    assert ctx.old_run not in [rid for rid, _, _ in cases] and min(s for _, s, _ in cases) == pytest.approx(3.0)
    assert [s for _, s, _ in cases] == sorted(s for _, s, _ in cases)
    assert "machine win ratio 0.67" in html and "over 8 cases" in html  # the figure the cell shows, in words
    assert html.count(f'src="{THUMB}"') == 1  # the keyframe strip of the one clip with stored shots
    for rid, _, href in cases:  # each opens its stored run in the Diagnose tab and keeps this view in the link
        state = url_state.parse(href.lstrip("?"))
        assert state["tab"] == "diagnose" and state["run"] == str(rid)
        assert (state["source"], state["drill_model"], state["drill_dimension"]) == (SOURCE, "beta", "visual_quality")
    rows = {r["run_id"]: r for r in ctx.store.dimension_page("visual_quality", limit=100)}
    assert {rows[rid]["model"] for rid, _, _ in cases} == {"beta"}
    everything = unescape(re.search(r'href="([^"]+)" id="drill-all"', html).group(1))
    listed = url_state.parse(everything.lstrip("?"))
    assert listed["tab"] == "runs" and (listed["suite"], listed["model"], listed["dimension"]) == ("demo", "beta",
                                                                                                   "visual_quality")


def test_a_case_link_reopens_its_run_in_the_diagnose_tab_from_the_store(ctx):
    rid, _, href = _cases(drilldown.drill_html(ctx, SOURCE, "alpha", "visual_quality"))[0]
    values = diagnose_tab.restore(ctx, url_state.parse(href.lstrip("?")))
    shown = " ".join(str(getattr(v, "value", v) if not isinstance(v, dict) else v.get("value")) for v in values)
    assert f"run {rid}" in shown and "Visual Quality" in shown


def test_the_papers_cell_says_it_has_no_cases(ctx):
    frame, table = _table(ctx, "paper_table3")
    columns = list(table.columns)
    lens = next(c for c in columns if c.endswith("· Lens"))
    row = table.iloc[0].tolist()
    model, dimension = drilldown.clicked_cell(frame, columns, [0, columns.index(lens)], row)
    html = drilldown.drill_html(ctx, "paper_table3", model, dimension)
    assert 'id="drill-not-public"' in html and "not public" in html and "cases-list" not in html
    assert "machine win ratio" in html and "evalverse bench run" in html
    assert "no cases to list" in drilldown.hint_html("paper") and "no cases" not in drilldown.hint_html("bench")


def test_nothing_open_gives_the_hint_and_a_bad_source_a_problem_line(ctx):
    assert 'id="drill-hint"' in drilldown.drill_html(ctx, SOURCE, None, None)
    bad = drilldown.drill_html(ctx, "nosuch:judge@1", "beta", "visual_quality")
    assert "nosuch" in bad and "cases-list" not in bad
    # a model with no figure on the dimension (e.g. from an edited link) is said so, and lists nothing
    html = drilldown.drill_html(ctx, SOURCE, "nobody", "visual_quality")
    assert "no win ratio" in html and not _cases(html)


def test_the_open_drill_down_is_kept_in_the_link():
    query = url_state.update("tab=leaderboard", **drilldown.drill_state(SOURCE, "beta", "visual_quality"))
    state = url_state.parse(query)
    assert (state["source"], state["drill_model"], state["drill_dimension"]) == (SOURCE, "beta", "visual_quality")
    closed = url_state.parse(url_state.update(query, **drilldown.drill_state(SOURCE, None, None)))
    assert "drill_model" not in closed and "drill_dimension" not in closed and closed["source"] == SOURCE

