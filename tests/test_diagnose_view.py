"""Pure builders of the Diagnose tab: escaping, gated cards, score badges, taxonomy order, evidence panels, radar."""
from __future__ import annotations

import re

import pytest

from evalverse.taxonomy import load_taxonomy
from evalverse.ui import diagnose_view as view

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def _result(dim: str, status: str = "scored", score: float | None = 4.0, **kw) -> dict:
    return {"dimension": dim, "status": status, "score": score, "backend": "evidence", "rationale": "", **kw}


def test_rationale_answers_and_raw_text_are_escaped(tax):
    dim = tax.dimensions[0]
    res = _result(dim.id, "unparsed", None, rationale=XSS, reflection=XSS, raw_text=XSS, gate_reason=XSS,
                  answers=[{"question_id": "q<1>", "answer": True, "basis": XSS}])
    html = view.dimension_card(dim, res)
    assert "<script>" not in html and "<img src=x" not in html
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == 4  # rationale, reflection, raw, basis
    assert "q&lt;1&gt;" in html
    streamed = view.dimension_card(dim, None, streaming=XSS, state="judging")
    assert "<script>" not in streamed and "&lt;script&gt;" in streamed


def test_transcript_and_words_are_escaped():
    res = {"transcript": XSS, "words": [{"word": "<b>hi</b>", "start": 0.5, "end": 0.8}], "n_words": 1, "language": "<en>"}
    html = view.evidence_html({"speech": {"status": "ok", "backend": "x", "results": res}})
    assert "<script>" not in html and "<b>hi</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;hi&lt;/b&gt;" in html and "&lt;en&gt;" in html


def test_operator_message_and_palette_colours_cannot_inject(tax):
    records = {
        "faces": {"status": "error", "backend": "mediapipe", "message": XSS, "results": {}},
        "colour": {"status": "ok", "backend": "opencv", "results": {"palette": [
            {"hex": "#ff0000", "share": 0.5}, {"hex": 'red;background:url(javascript:1)"', "share": 0.5}]}},
    }
    html = view.evidence_html(records)
    assert "<script>" not in html and "javascript" not in html.split("ev-swatch")[-1].split(">")[0]
    assert html.count('class="ev-swatch"') == 1  # the invalid colour is dropped, not rendered
    assert 'id="ev-panel-faces"' in html and 'id="ev-panel-colour"' in html


def test_gated_card_is_greyed_with_reason_and_no_score(tax):
    dim = tax.dimension("vocal")
    html = view.dimension_card(dim, _result(dim.id, "gated", None, gate_reason="the clip has no audible speech"))
    assert 'data-status="gated"' in html and "ev-s-gated" in html
    assert "the clip has no audible speech" in html
    assert "/ 5" not in html and "data-score" not in html
    assert ".ev-card.ev-s-gated" in view.CSS  # greyed by the stylesheet


@pytest.mark.parametrize("status", ["not_judged", "unparsed", "error"])
def test_unscored_statuses_show_no_score(tax, status):
    dim = tax.dimensions[1]
    badge = view.score_badge(_result(dim.id, status, None))
    assert "data-score" not in badge and view.STATUS_LABEL[status] in badge


@pytest.mark.parametrize("score,band", [(1.0, 1), (2.6, 3), (3.49, 3), (4.0, 4), (5.0, 5)])
def test_score_badge_shows_score_and_band(score, band):
    badge = view.score_badge(_result("x", "scored", score))
    assert f"{score:.1f} / 5" in badge and f"ev-b{band}" in badge
    assert float(re.search(r'data-score="([0-9.]+)"', badge).group(1)) == pytest.approx(score, abs=1e-3)


def test_cards_follow_taxonomy_order_whatever_the_result_order(tax):
    dims = tax.dimensions
    results = {d.id: _result(d.id) for d in reversed(dims)}  # finished in reverse order
    html = view.cards_html(tax, results)
    found = re.findall(r'data-dimension="([a-z0-9_]+)"', html)
    assert found == [d.id for d in dims]
    # stage and aspect headings appear in taxonomy order, each before its dimensions
    positions = [html.index(f'>{s.name}<') for s in tax.stages]
    assert positions == sorted(positions)
    first_aspect = tax.stages[0].aspects[0]
    assert html.index(f">{first_aspect.name}<") < html.index(f'data-dimension="{first_aspect.dimensions[0].id}"')


def test_cards_subset_and_pending_states(tax):
    chosen = [tax.dimensions[3].id, tax.dimensions[0].id]
    html = view.cards_html(tax, {chosen[1]: _result(chosen[1])}, dimensions=chosen, judging=chosen[0])
    assert re.findall(r'data-dimension="([a-z0-9_]+)"', html) == [tax.dimensions[0].id, tax.dimensions[3].id]
    assert 'data-status="judging"' in html and 'data-status="scored"' in html


def test_card_links_to_evidence_it_used(tax):
    dim = tax.dimension("consistency")
    res = _result(dim.id, evidence_used=["faces", "features"])
    html = view.dimension_card(dim, res, available_panels=["faces"])
    assert '<a href="#ev-panel-faces"' in html
    assert '#ev-panel-features' not in html and "ev-link-missing" in html  # no panel: named, not linked
    # without evidence_used, the taxonomy's evidence kinds are named
    html2 = view.dimension_card(dim, _result(dim.id), available_panels=list(dim.evidence))
    for kind in dim.evidence:
        if kind != "metadata":
            assert f'href="#ev-panel-{kind}"' in html2


def test_shot_strip_keeps_only_jpeg_data_uris_and_lists_cuts():
    res = {"shots": [{"index": 0, "start": 0, "end": 1.2, "transition": "start", "thumbnail": "data:image/jpeg;base64,AAAA"},
                     {"index": 1, "start": 1.2, "end": 3.0, "transition": "cut", "thumbnail": "javascript:alert(1)"}],
           "n_shots": 2, "cuts": [1.2]}
    html = view.shots_panel(res)
    assert html.count("<img ") == 1 and "javascript" not in html
    assert "1.20 s" in html and "shot 1: 1.20–3.00 s" in html


def test_line_chart_scales_points_into_the_box():
    html = view.line_chart([("a", [0.0, 1.0, 2.0], [0.0, None, 10.0])], width=200, height=100)
    xs = [float(v) for v in re.findall(r'cx="([0-9.]+)"', html)]
    # the gap splits the series: two lone points drawn as circles at x=left and x=right
    assert len(xs) == 2 and xs[0] == pytest.approx(44.0) and xs[1] == pytest.approx(194.0)
    assert view.line_chart([("a", [], [])]) == '<div class="ev-meta">no data points</div>'


def test_lipsync_and_audio_panels_show_numbers():
    lip = view.lipsync_panel({"offset_ms": 120.0, "confidence": 0.81234, "detectable": True, "method": "envelope",
                              "envelope": {"curve": {"lags_ms": [-100, 0, 100], "corr": [0.1, 0.5, 0.2]}}})
    assert "120 ms" in lip and "0.812" in lip and "<svg" in lip
    audio = view.audio_panel({"loudness_lufs": -23.04, "loudness_series": {"times": [0.2, 0.3], "values": [-30, -20]}})
    assert "-23.0 LUFS" in audio and "<polyline" in audio


def test_radar_scales_scores_and_leaves_gaps(tax):
    dims = tax.dimensions
    results = {dims[0].id: _result(dims[0].id, score=5.0), dims[1].id: _result(dims[1].id, score=1.0),
               dims[2].id: _result(dims[2].id, score=3.0), dims[3].id: _result(dims[3].id, "gated", None)}
    fig = view.clip_radar(tax, results, compare={dims[0].name: 0.7}, compare_name="Veo")
    clip = fig.data[0]
    assert len(clip.theta) == len(dims) + 1 and list(clip.theta[:len(dims)]) == [d.name for d in dims]
    assert list(clip.r[:4]) == [1.0, 0.0, 0.5, None]
    assert all(v is None for v in clip.r[4:len(dims)])
    assert clip.connectgaps is False
    other = fig.data[1]
    assert other.r[0] == 0.7 and "win ratio" in other.name and other.r[1] is None
    assert view.score_to_unit(4.0) == 0.75


def test_features_panel_reads_the_operator_layout():
    res = {"backend": "classical", "similarity": "0.5 x HSV histogram intersection + 0.5 x SSIM of grey frames",
           "to_first": {"times": [0.0, 0.5, 1.0], "values": [1.0, 0.9, 0.8]},
           "to_previous": {"times": [0.5, 1.0], "values": [0.95, 0.97]}, "mean_to_previous_in_shot": 0.96,
           "abrupt_changes": [{"time": 0.5}]}
    html = view.evidence_html({"features": {"status": "ok", "backend": "classical", "results": res}})
    assert "could not draw" not in html and "0.960" in html and html.count("<polyline") == 2


def test_line_chart_clips_a_single_spike_and_says_so():
    xs = [i / 10 for i in range(100)]
    ys = [1.0 + (i % 3) * 0.1 for i in range(100)]
    ys[0] = 500.0
    html = view.line_chart([("pan", xs, ys)], zero_line=False)
    assert "axis clipped" in html and ">500.00<" not in html
    assert "axis clipped" not in view.line_chart([("pan", xs[1:], ys[1:])], zero_line=False)
