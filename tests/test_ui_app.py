"""The Gradio app object: tabs exist, handlers answer, bad states become messages (no server, no network)."""
from __future__ import annotations

import os
import stat

import gradio as gr
import pandas as pd
import pytest

from evalverse.config import Settings
from evalverse.leaderboard.aggregate import SELECTED_MACHINE
from evalverse.ui import leaderboard_tab, radar_tab
from evalverse.ui.app import TABS, build_app
from evalverse.ui.context import AppContext, LeaderboardData, open_context

EXPECTED_TABS = ["Diagnose", "Runs", "Leaderboard", "Radar", "Alignment", "Annotate", "Review", "Taxonomy", "Suite",
                 "About"]


def _tabs(demo: gr.Blocks) -> list[str]:
    return [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]


def _texts(demo: gr.Blocks) -> str:
    return "\n".join(str(getattr(b, "value", "")) for b in demo.blocks.values() if isinstance(b, (gr.Markdown, gr.HTML)))


def _component(demo: gr.Blocks, elem_id: str):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


@pytest.fixture(scope="module")
def paper(paper_csv) -> pd.DataFrame:
    return pd.read_csv(paper_csv)


@pytest.fixture
def ctx(settings, paper) -> AppContext:
    """A context holding the paper's table directly (no store), with the real taxonomy."""
    from evalverse.taxonomy import load_taxonomy

    return AppContext(settings=settings, taxonomy=load_taxonomy(), data=LeaderboardData(frame=paper))


def test_app_with_temp_db_has_all_tabs_and_data(settings):
    demo = build_app(settings)
    ctx = demo.evalverse_context
    try:
        assert _tabs(demo) == EXPECTED_TABS
        assert ctx.warnings == []
        assert settings.db_path.exists()  # the store was created in the temp folder
        frame = ctx.data.frame
        assert frame is not None and len(frame) > 0  # the seed was loaded into the empty store
        table = _component(demo, "leaderboard-table").value
        assert set(frame["model"]) == {row[table["headers"].index("Model")] for row in table["data"]}
        assert _component(demo, "radar-plot").value is not None
        assert _component(demo, "alignment-plot").value is not None
    finally:
        ctx.store.close()


def test_tab_modules_follow_the_contract():
    for tab in TABS:
        assert isinstance(tab.TITLE, str) and callable(tab.render)


def test_extra_tab_is_one_module(ctx):
    import types

    extra = types.ModuleType("evalverse.ui.diagnose_tab")
    extra.TITLE = "Diagnose"
    extra.render = lambda c: gr.Markdown("diagnose here")
    demo = build_app(ctx, tabs=(*TABS, extra))
    assert _tabs(demo)[-1] == "Diagnose"


def test_a_failing_tab_shows_its_error(ctx):
    import types

    broken = types.ModuleType("evalverse.ui.broken_tab")
    broken.TITLE = "Broken"

    def render(c):
        raise RuntimeError("tab exploded")

    broken.render = render
    demo = build_app(ctx, tabs=(broken, *TABS))
    assert _tabs(demo) == ["Broken", *EXPECTED_TABS]
    assert "tab exploded" in _texts(demo)


def test_unusable_db_dir_gives_banner_and_app_starts(tmp_path):
    if os.geteuid() == 0:
        # root ignores permission bits; a regular file where the folder should be is unusable for anyone
        (tmp_path / "ro").write_text("a file, not a folder")
        db = tmp_path / "ro" / "evalverse.duckdb"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
        db = ro / "sub" / "evalverse.duckdb"
    s = Settings(data_dir=tmp_path, db_path=db, models_dir=tmp_path / "m")
    demo = build_app(s)
    ctx = demo.evalverse_context
    try:
        assert _tabs(demo) == EXPECTED_TABS
        assert ctx.warnings and "memory" in ctx.warnings[0].lower()
        banner = _component(demo, "ev-banner")
        assert banner.visible and "memory" in banner.value.lower()
        assert ctx.data.frame is not None and len(ctx.data.frame) > 0  # seed loaded into the in-memory store
    finally:
        ctx.store.close()


def test_empty_store_and_missing_taxonomy_are_messages(settings, monkeypatch):
    import evalverse.taxonomy

    def missing(*a, **k):
        from evalverse.errors import DataError

        raise DataError("cannot read taxonomy file /nowhere/taxonomy.yaml")

    monkeypatch.setattr(evalverse.taxonomy, "load_taxonomy", missing)
    ctx = open_context(settings, load_seed=False)
    try:
        demo = build_app(ctx)
        assert _tabs(demo) == EXPECTED_TABS
        text = _texts(demo)
        assert "taxonomy could not be loaded" in text.lower()
        assert "No leaderboard data" in text
        assert any("taxonomy" in w for w in ctx.warnings)
    finally:
        ctx.store.close()


def test_leaderboard_handler_selection_resorts(ctx, paper):
    dims = list(dict.fromkeys(paper["dimension"]))
    stages = list(dict.fromkeys(paper["stage"]))
    aspects = list(dict.fromkeys(paper["aspect"]))
    table, note, html, choices, sort_by = leaderboard_tab.compute(
        ctx, "Overall", SELECTED_MACHINE, stages, aspects, ["Vocal", "Soundscape"], "All", []
    )
    sound = paper[paper.dimension.isin(["Vocal", "Soundscape"])]
    best = sound.groupby("model").machine_win_ratio.mean().idxmax()
    assert table["Model"].iloc[0] == best
    assert table.set_index("Model").loc["Hailuo 2.3", "Dims"] == "0/2"  # kept, but last and unscored
    assert table["Model"].iloc[-1] in set(paper.model) - set(sound.model)
    assert "2 dimensions" in note and "<table" in html
    # per-aspect level offers its aggregates as sort keys, and sorting by one works
    table, *_ , choices, sort_by = leaderboard_tab.compute(
        ctx, "Per aspect", "Lighting (M)", stages, aspects, dims, "All", []
    )
    assert "Acting (H)" in choices and sort_by == SELECTED_MACHINE  # 'Lighting' is a dimension, not an aspect
    table, *_ = leaderboard_tab.compute(ctx, "Per aspect", "Acting (H)", stages, aspects, dims, "All", [])
    acting = table["Acting (H)"].tolist()
    assert acting == sorted(acting, reverse=True)
    # nothing ticked -> a message in place of the table, not an exception
    df_update, note, *_ = leaderboard_tab.update_table(ctx, "Overall", SELECTED_MACHINE, stages, aspects, [], "All", [])
    assert "Select at least one dimension" in note


def test_radar_handler_failsafe(ctx):
    fig = radar_tab.radar_figure(ctx, [], "Dimensions", "Machine (EvalVerse)")
    assert "Pick at least one model" in fig.layout.meta["error"]
    fig = radar_tab.radar_figure(ctx, ["LTX2"], "Aspects", "Human (experts)")
    assert len(fig.data) == 1 and len(fig.data[0].theta) == 8
