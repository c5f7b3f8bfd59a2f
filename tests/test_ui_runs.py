"""The Runs tab without a browser: the link state, the runs table and per-case list (escaped, real links), the compare
view (what differs, ranked by the catalogue's ranges), and which stored clips can be played."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from judge_records import record

from evalverse.taxonomy import load_taxonomy
from evalverse.ui import compare_view, runs_list, url_state

XSS = '<script>alert(1)</script>'


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def test_link_state_reads_only_known_keys_and_whole_number_ids():
    state = url_state.parse("?tab=runs&run=12&a=%233&b=x1&evil=<script>&q=" + "y" * 500)
    assert state == {"tab": "runs", "run": "12", "a": "3", "q": "y" * url_state.MAX_VALUE}
    assert url_state.encode({"b": 4, "tab": "runs", "q": "a b&c", "judge": None}) == "tab=runs&q=a+b%26c&b=4"
    assert url_state.update("tab=runs&run=3", run=None, a=1) == "tab=runs&a=1"
    assert url_state.run_id(state) == 12 and url_state.run_id(state, "b") is None
    with pytest.raises(KeyError):
        url_state.update("", colour="red")


def _row(rid: int, **kw) -> dict:
    return {"id": rid, "video_hash": "f" * 64, "video_path": f"/clips/c{rid}.mp4", "judge_backend": "evidence",
            "judge_version": "1.0", "prompt": XSS, "started_at": None, "status": "interrupted", "n_results": 3,
            "n_scored": 1, "mean_score": 2.5, "provenance_hash": "abc123", **kw}


def test_runs_table_escapes_links_to_each_run_and_keeps_the_filters():
    html = runs_list.runs_table_html([_row(7), _row(5, suite="fetv", model="<b>M</b>", case_id="c1")], open_id=5,
                                     show_origin=True, base={"q": "chef", "judge": "evidence"})
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;M&lt;/b&gt;" in html
    assert 'href="?tab=runs&amp;q=chef&amp;judge=evidence&amp;run=7"' in html
    assert re.findall(r'<tr data-open-run="(\d+)"', html) == ["7", "5"]
    assert 'class="ev-st ev-st-interrupted"' in html and "<th>Suite</th>" in html
    # compare: the open run (5) is A, the clicked one B; the open run has no compare link to itself
    assert 'href="?tab=runs&amp;q=chef&amp;judge=evidence&amp;a=5&amp;b=7"' in html
    assert html.count('data-action="compare"') == 1
    assert "No stored run matches" in runs_list.runs_table_html([])


def test_per_case_list_shows_keyframes_score_verdict_and_a_link(tax):
    res = {"dimension": "lens", "status": "scored", "score": 2.0, "backend": "evidence", "rationale": "",
           "answers": [{"question_id": "lens_focus_q5", "answer": False, "score": 0.0, "basis": "quality.sharpness 12"}]}
    rows = [{"run_id": 9, "video_hash": "h9", "video_path": "/c/nine.mp4", "judge_backend": "evidence",
             "judge_version": "1.0", "result": res, "model": "Veo", "suite": "fetv", "case_id": "c-3"}]
    frames = {"h9": [{"index": 0, "start": 0.0, "thumbnail": "data:image/jpeg;base64,QUJD"},
                     {"index": 1, "start": 2.0, "thumbnail": "javascript:alert(1)"}]}
    html = runs_list.cases_html(rows, frames, tax, "lens")
    assert html.count("<img ") == 1 and "javascript" not in html
    assert '2.0 / 5' in html and 'href="?tab=runs&amp;run=9"' in html and "Veo · fetv · c-3" in html
    assert "quality.sharpness" in html and "Lens: lowest score first" in html


def test_measure_differences_are_ranked_on_the_catalogues_footing(tax):
    # a bounded measure (share of pixels, range 0-1) moved by 0.5; an unbounded one (sharpness) by 10 %
    a = {"quality.exposure.clipped_shadows": 0.0, "quality.sharpness": 1000.0, "quality.noise_sigma": 1.0}
    b = {"quality.exposure.clipped_shadows": 0.5, "quality.sharpness": 900.0, "quality.noise_sigma": 1.0}
    assert compare_view.difference("quality.exposure.clipped_shadows", 0.0, 0.5) == pytest.approx(0.5)
    assert compare_view.difference("quality.sharpness", 1000.0, 900.0) == pytest.approx(0.1)
    assert compare_view.difference("camera.dominant", "pan_left", "static") == 1.0
    top = compare_view.measure_differences(tax.dimension("lens"), None, None, a, b)
    assert [t[0] for t in top] == ["quality.exposure.clipped_shadows", "quality.sharpness"]  # equal noise not listed


def _report(run_id: int, sharpness: float, score: float, judge: str = "evidence", prov: str = "p1") -> dict:
    rec = record("quality", sharpness=sharpness).model_dump(mode="json")
    return {"run_id": run_id, "video": f"/c/{run_id}.mp4", "content_hash": "same", "judge": judge,
            "judge_version": "1.0", "prompt": "p", "provenance": {"hash": prov, "judge": {"backend": judge}},
            "meta": {}, "evidence": {"quality": rec},
            "results": [{"dimension": "visual_quality", "status": "scored", "score": score, "backend": judge,
                         "answers": [{"question_id": "visual_quality_rendering_quality_q1", "answer": score > 3,
                                      "basis": f"quality.sharpness {sharpness}"}]}]}


def test_compare_view_names_scores_changes_and_what_differs(tax):
    html = compare_view.compare_html(tax, _report(1, 1900.0, 4.0), _report(2, 40.0, 2.0, judge="openai", prov="p2"))
    assert "the same clip (same content hash)" in html and "different judges" in html and "provenance differs in: judge.backend" in html
    row = re.search(r'<tr data-dimension="visual_quality">(.*?)</tr>', html).group(1)
    assert "4.0 / 5" in row and "2.0 / 5" in row and ">-2.0<" in row
    assert "<code>quality.sharpness</code> 1900 Laplacian variance at 720 px → 40 Laplacian variance at 720 px (higher is better)" in row
    assert "A yes, B no" in row
    assert len(re.findall(r"<tr data-dimension=", html)) == len(tax.dimensions)


def test_only_existing_files_in_served_folders_are_played(tmp_path):
    from evalverse.config import Settings
    from evalverse.ui.context import AppContext
    from evalverse.ui.runs_tab import playable

    media = tmp_path / "media"
    media.mkdir()
    clip = media / "a.mp4"
    clip.write_bytes(b"x")
    ctx = AppContext(settings=Settings(data_dir=tmp_path, db_path=tmp_path / "x.duckdb", models_dir=tmp_path / "m",
                                       media_dir=media))
    assert playable(str(clip), ctx) == (str(clip.resolve()), "")
    assert playable(str(media / "gone.mp4"), ctx)[1] == "the file is no longer at its stored path"
    assert playable(None, ctx)[0] is None
    elsewhere = Path("/etc/hostname")
    if elsewhere.is_file() and not str(Path(tempfile.gettempdir())) in str(elsewhere):
        assert "outside the folders this app serves" in playable(str(elsewhere), ctx)[1]
    note = compare_view.player_note("/x/<b>.mp4", False, "the file is no longer at its stored path")
    assert "&lt;b&gt;" in note and "no longer" in note
