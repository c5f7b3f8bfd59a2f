"""The leaderboard UI with a computed source: a source picker, ± intervals in the table, too few cases shown
as such, error bars in the plots (handlers and figures, no server)."""
from __future__ import annotations

import json

import pytest

from bench_support import write_suite
from evalverse.bench.suite import load_suite
from evalverse.bench.winratios import compute
from evalverse.leaderboard.aggregate import SELECTED_MACHINE, format_ci
from evalverse.leaderboard.figures import ci_plot
from evalverse.store import Store
from evalverse.ui import alignment_tab, leaderboard_tab
from evalverse.ui.app import build_app
from evalverse.ui.context import open_context
from test_bench_winratios import MODELS, _fill

SOURCE = "demo:evidence@1.0"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    from evalverse.config import Settings

    tmp_path = tmp_path_factory.mktemp("ui_bench")
    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "ev.duckdb", models_dir=tmp_path / "models")
    with Store.open(settings.db_path) as store:
        suite = load_suite(write_suite(tmp_path / "demo.jsonl", 8))
        tests = _fill(store, suite, {"alpha": 4.0, "beta": 3.0, "gamma": 2.0, "delta": 1.0})
        for case in suite.cases[:3]:  # humans rated only three cases: too few for a human figure
            for model, q in zip(MODELS, (3.0, 4.0, 2.0, 1.0)):
                store.add_pointwise("visual_quality", model, q, "r1", qa_status="pass", test_case_id=tests[case.id])
        compute(store, "demo", n_boot=200)
    context = open_context(settings)  # loads the paper's seed beside the computed source
    yield context
    context.store.close()


def test_sources_are_listed_paper_first(ctx):
    kinds = [(s["source"], s["kind"]) for s in ctx.sources()]
    assert kinds[0] == ("paper_table3", "paper") and (SOURCE, "bench") in kinds
    assert ctx.default_source() == "paper_table3"


def test_table_shows_intervals_and_too_few(ctx):
    stages, aspects, dims = leaderboard_tab._tree(ctx, leaderboard_tab.source_frame(ctx, SOURCE))
    assert dims == ["Visual Quality"]  # soundscape was gated everywhere: no figure at all
    table, note, html, *_ = leaderboard_tab.compute(ctx, "Overall", SELECTED_MACHINE, stages, aspects, dims, "All", [],
                                                    SOURCE)
    cells = dict(zip(table["Model"], table["Aesthetics · Visual Quality"]))
    assert cells["alpha"].startswith("1.00 ±0.00 / too few (n=3)")
    assert cells["beta"].startswith("0.67 ±") and list(table["Model"]) == list(MODELS)
    assert table.loc[table.Model == "alpha", SELECTED_MACHINE].iloc[0] == 1.0
    assert table["Selected (H)"].isna().all()  # too few human cases: left out, not a number
    assert "too few (n=3)" in html


def test_interval_and_rating_plots_have_error_bars(ctx):
    fig = leaderboard_tab.interval_figure(ctx, SOURCE, "Visual Quality")
    machine = fig.data[0]
    assert list(machine.y)[-1] == "alpha" and machine.error_x.array is not None and len(machine.x) == 4
    assert "error" not in (fig.layout.meta or {})
    bt = leaderboard_tab.rating_figure(ctx, SOURCE, "overall")
    assert [y.split(" ")[0] for y in bt.data[0].y][-1] == "alpha" and bt.data[0].error_x.arrayminus is not None
    paper = leaderboard_tab.interval_figure(ctx, "paper_table3", "Lens")
    assert "no intervals" in paper.layout.meta["error"]


def test_alignment_tab_reads_the_chosen_source(ctx):
    table = alignment_tab.alignment_table(ctx, SOURCE)
    assert table.iloc[0]["n"] == 0  # human figures rest on 3 cases: none counts
    fig = alignment_tab.alignment_figure(ctx, "Visual Quality", SOURCE)
    assert "n = 0" in fig.layout.title.text


def test_format_ci_and_ci_plot_need_intervals():
    assert format_ci(0.5, 0.4, 0.7) == "0.50 ±0.15" and format_ci(None, None, None) == "–"
    assert format_ci(0.5, 0.1, 0.9, n_cases=2, enough=False) == "too few (n=2)"
    import pandas as pd

    plain = pd.DataFrame({"stage": ["s"], "aspect": ["a"], "dimension": ["d"], "model": ["m"],
                          "machine_win_ratio": [0.5], "human_win_ratio": [0.5]})
    with pytest.raises(Exception, match="no intervals"):
        ci_plot(plain, "d")


def test_app_builds_with_the_source_picker(ctx):
    demo = build_app(ctx)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"leaderboard-source", "alignment-source", "interval-plot", "rating-plot"} <= ids
    config = demo.get_config_file()
    assert any(d.get("api_name") == "reward" for d in config["dependencies"]), json.dumps(config["dependencies"])[:500]
