"""Evidence panels read typed records and the measure catalogue: escaping, strict colours and image URIs, labels and
units from measures.yaml, every measure of the operator listed, records that do not fit said so, inline charts."""
from __future__ import annotations

import re

import pytest
from judge_records import record, shots_record

from evalverse.operators.catalogue import load_catalogue
from evalverse.ui import charts, measures, panels

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _dump(rec) -> dict:
    return rec.model_dump(mode="json")


def test_transcript_and_words_are_escaped():
    rec = record("speech", transcript=XSS, words=[{"word": "<b>hi</b>", "start": 0.5, "end": 0.8}], language="<en>")
    html = panels.evidence_html({"speech": _dump(rec)})
    assert "<script>" not in html and "<b>hi</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;hi&lt;/b&gt;" in html and "&lt;en&gt;" in html


def test_operator_message_and_palette_colours_cannot_inject():
    colour = record("colour", palette=[{"hex": "#ff0000", "lab": [50, 60, 40], "share": 0.5},
                                       {"hex": 'red;background:url(javascript:1)"', "lab": [0, 0, 0], "share": 0.5}])
    records = {"faces": {"status": "error", "backend": "mediapipe", "message": XSS, "results": {}},
               "colour": _dump(colour)}
    html = panels.evidence_html(records)
    assert "<script>" not in html and "javascript" not in html
    assert html.count('class="ev-swatch"') == 1  # the invalid colour is dropped, not rendered
    assert 'id="ev-panel-faces"' in html and 'id="ev-panel-colour"' in html


def test_shot_strip_keeps_only_jpeg_data_uris_and_lists_cuts():
    rec = shots_record([1.2, 1.8])
    shots = rec.results["shots"]
    shots[0]["thumbnail"] = "data:image/jpeg;base64,AAAA"
    shots[1]["thumbnail"] = "javascript:alert(1)"
    html = panels.panel_html("shots", _dump(rec) | {"results": rec.results})
    assert html.count("<img ") == 1 and "javascript" not in html
    assert "1.20 s" in html and "shot 1: 1.20–3.00 s" in html


def test_headline_labels_units_and_tooltips_come_from_the_catalogue():
    cat = load_catalogue()
    html = panels.panel_html("quality", _dump(record("quality", sharpness=1921.0)))
    m = cat.get("quality.sharpness")
    span = re.search(r'<span class="ev-measure" data-measure="quality\.sharpness" title="([^"]+)"><b>([^<]+)</b> ([^<]+)',
                     html)
    assert span, "sharpness is a headline measure"
    title, label, value = span.groups()
    assert m.description.split(",")[0] in title and "higher is better" in title
    assert label == "sharpness" and value.strip() == f"1921 {m.unit}"


def test_every_catalogue_measure_of_the_operator_is_listed_in_the_fold():
    cat = load_catalogue()
    html = panels.panel_html("camera", _dump(record("camera")))
    listed = re.findall(r"<td><code>(camera\.[a-z_.]+)</code></td>", html)
    assert listed == [m.id for m in cat.for_operator("camera")]
    assert f"All {len(listed)} measures" in html


def test_an_operator_without_a_special_panel_gets_its_catalogue_headline():
    from evalverse.operators.base import results_model

    fields = {"sig_mos": 3.1, "bak_mos": 3.9, "ovrl_mos": 2.8, "ovrl_worst": 2.1, "p808_mos": 3.0, "n_windows": 3,
              "tiled": False}
    typed = results_model("speech_quality").model_validate(fields)
    html = panels.panel_html("speech_quality", {"status": "ok", "backend": "x", "results": typed.model_dump(mode="json")})
    assert 'data-measure="speech_quality.ovrl_mos"' in html and "2.80" in html


def test_a_record_that_does_not_fit_its_results_model_is_said_so_not_drawn():
    html = panels.panel_html("quality", {"status": "ok", "backend": "opencv", "results": {"sharpness": "sharp", "bogus": 1}})
    assert "cannot be read" in html and "DataError" in html and "ev-measure" not in html
    unknown = panels.panel_html("no_such_op", {"status": "ok", "results": {"x": 1}})
    assert "not a registered operator" in unknown


def test_stored_records_say_where_they_came_from():
    html = panels.panel_html("quality", _dump(record("quality")) | {"stored": True, "cached": True})
    assert "(from the store)" in html


def test_basis_text_marks_catalogue_ids_and_escapes_the_rest():
    html = measures.basis_html("quality.sharpness 12 < 60 and not.a.measure <b>")
    assert html.startswith('<abbr class="ev-mid" title="quality.sharpness: ') and "&lt; 60" in html
    assert "not.a.measure &lt;b&gt;" in html
    assert measures.measures_in("quality.sharpness 1; metadata.fps 8; quality.sharpness") == ["quality.sharpness", "metadata.fps"]


def test_line_chart_scales_points_into_the_box():
    html = charts.line_chart([("a", [0.0, 1.0, 2.0], [0.0, None, 10.0])], width=200, height=100)
    xs = [float(v) for v in re.findall(r'cx="([0-9.]+)"', html)]
    # the gap splits the series: two lone points drawn as circles at x=left and x=right
    assert len(xs) == 2 and xs[0] == pytest.approx(44.0) and xs[1] == pytest.approx(194.0)
    assert charts.line_chart([("a", [], [])]) == '<div class="ev-meta">no data points</div>'


def test_line_chart_clips_a_single_spike_and_says_so():
    xs = [i / 10 for i in range(100)]
    ys = [1.0 + (i % 3) * 0.1 for i in range(100)]
    ys[0] = 500.0
    html = charts.line_chart([("pan", xs, ys)], zero_line=False)
    assert "axis clipped" in html and ">500.00<" not in html
    assert "axis clipped" not in charts.line_chart([("pan", xs[1:], ys[1:])], zero_line=False)


def test_lipsync_and_audio_panels_draw_their_curves():
    lip = panels.panel_html("lipsync", _dump(record("lipsync", offset_ms=120.0, confidence=0.81234,
                                                   envelope={"curve": {"lags_ms": [-100, 0, 100], "corr": [0.1, 0.5, 0.2]}})))
    assert "120 ms" in lip and "0.812" in lip and "<svg" in lip
    audio = panels.panel_html("audio", _dump(record("audio", loudness_lufs=-23.04,
                                                   loudness_series={"times": [0.2, 0.3], "values": [-30, -20]})))
    assert "-23.0 LUFS" in audio and "<polyline" in audio


def test_features_panel_draws_both_similarity_series():
    rec = record("features", to_first={"times": [0.0, 0.5, 1.0], "values": [1.0, 0.9, 0.8]},
                 to_previous={"times": [0.5, 1.0], "values": [0.95, 0.97]}, mean_to_previous_in_shot=0.96)
    html = panels.evidence_html({"features": _dump(rec)})
    assert "could not draw" not in html and "0.960" in html and html.count("<polyline") == 2
