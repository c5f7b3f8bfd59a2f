"""Cards and the overview (summary first): escaping, gated and not-judged shown as such, score badges, taxonomy
order, the verdict line and key evidence before the folded chain of thought, the weakest three, badge links."""
from __future__ import annotations

import re
from html import escape

import pytest

from evalverse.taxonomy import load_taxonomy
from evalverse.ui import cards, overview, styles

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def _result(dim: str, status: str = "scored", score: float | None = 4.0, **kw) -> dict:
    return {"dimension": dim, "status": status, "score": score, "backend": "evidence", "rationale": "", **kw}


def _answer(qid: str, answer, score, basis: str = "") -> dict:
    return {"question_id": qid, "answer": answer, "answerable": True, "basis": basis, "score": score}


def test_rationale_answers_and_raw_text_are_escaped(tax):
    dim = tax.dimensions[0]
    res = _result(dim.id, "unparsed", None, rationale=XSS, reflection=XSS, raw_text=XSS, gate_reason=XSS,
                  answers=[{"question_id": "q<1>", "answer": True, "basis": XSS}])
    html = cards.dimension_card(dim, res)
    assert "<script>" not in html and "<img src=x" not in html
    # verdict line, chain of thought (rationale + reflection), raw output, the answer's basis in the fold
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == 5
    assert "q&lt;1&gt;" in html
    streamed = cards.dimension_card(dim, None, streaming=XSS, state="judging")
    assert "<script>" not in streamed and "&lt;script&gt;" in streamed


def test_gated_card_is_greyed_with_reason_and_no_score(tax):
    dim = tax.dimension("vocal")
    html = cards.dimension_card(dim, _result(dim.id, "gated", None, gate_reason="the clip has no audible speech"))
    assert 'data-status="gated"' in html and "ev-s-gated" in html
    assert "Not applicable: the clip has no audible speech" in html
    assert "/ 5" not in html and "data-score" not in html
    assert ".ev-card.ev-s-gated" in styles.CSS  # greyed by the stylesheet


@pytest.mark.parametrize("status", ["not_judged", "unparsed", "error"])
def test_unscored_statuses_show_no_score(tax, status):
    badge = cards.score_badge(_result(tax.dimensions[1].id, status, None))
    assert "data-score" not in badge and cards.STATUS_LABEL[status] in badge


def test_a_score_on_an_unscored_status_is_never_shown(tax):
    assert "data-score" not in cards.score_badge(_result("lens", "not_judged", 4.0))
    assert cards.scored(_result("lens", "gated", 3.0)) is None and cards.scored(_result("lens", score=float("nan"))) is None


@pytest.mark.parametrize("score,band", [(1.0, 1), (2.6, 3), (3.49, 3), (4.0, 4), (5.0, 5)])
def test_score_badge_shows_score_and_band(score, band):
    badge = cards.score_badge(_result("x", "scored", score))
    assert f"{score:.1f} / 5" in badge and f"ev-b{band}" in badge
    assert float(re.search(r'data-score="([0-9.]+)"', badge).group(1)) == pytest.approx(score, abs=1e-3)


def test_cards_follow_taxonomy_order_whatever_the_result_order(tax):
    dims = tax.dimensions
    html = cards.cards_html(tax, {d.id: _result(d.id) for d in reversed(dims)})
    assert re.findall(r'data-dimension="([a-z0-9_]+)"', html) == [d.id for d in dims]
    positions = [html.index(f'>{s.name}<') for s in tax.stages]
    assert positions == sorted(positions)
    first_aspect = tax.stages[0].aspects[0]
    assert html.index(f">{first_aspect.name}<") < html.index(f'data-dimension="{first_aspect.dimensions[0].id}"')


def test_cards_subset_and_pending_states(tax):
    chosen = [tax.dimensions[3].id, tax.dimensions[0].id]
    html = cards.cards_html(tax, {chosen[1]: _result(chosen[1])}, dimensions=chosen, judging=chosen[0])
    assert re.findall(r'data-dimension="([a-z0-9_]+)"', html) == [tax.dimensions[0].id, tax.dimensions[3].id]
    assert 'data-status="judging"' in html and 'data-status="scored"' in html


def test_card_links_to_evidence_it_used_with_the_views_prefix(tax):
    dim = tax.dimension("consistency")
    html = cards.dimension_card(dim, _result(dim.id, evidence_used=["faces", "features"]), available_panels=["faces"])
    assert '<a href="#ev-panel-faces"' in html
    assert '#ev-panel-features' not in html and "ev-link-missing" in html  # no panel: named, not linked
    other = cards.dimension_card(dim, _result(dim.id, evidence_used=["faces"]), available_panels=["faces"], prefix="rv")
    assert 'href="#rv-panel-faces"' in other and 'id="rv-card-consistency"' in other


def test_a_scored_card_puts_its_weakest_answers_first_and_folds_the_chain_of_thought(tax):
    dim = tax.dimension("lens")
    qs = [q for s in dim.sub_dimensions for q in s.questions]
    res = _result(dim.id, score=3.0, rationale="long chain of thought", reflection="checked",
                  answers=[_answer(qs[0].id, True, 1.0, "quality.sharpness 900 vs minimum 60"),
                           _answer(qs[1].id, False, 0.0, "quality.exposure.clipped_shadows 0.2 vs maximum 0.05"),
                           {"question_id": qs[2].id, "answer": None, "answerable": False, "basis": "needs a VLM"}])
    html = cards.dimension_card(dim, res, taxonomy=tax)
    key = html[html.index('class="ev-key"'):html.index("Chain of thought")]
    assert key.index(escape(qs[1].text)) < key.index(escape(qs[0].text))  # the failed question leads
    assert "1 of 2 answered questions pass, 1 fail" in html
    assert html.index('class="ev-key"') < html.index("<details")  # key evidence before every fold
    assert '<details class="ev-fold ev-thought"><summary>Chain of thought</summary>' in html
    assert "Expert questions: 2 of 3 answered" in html and escape(qs[2].text) in html
    # measure ids in the evidence carry the catalogue's description as a tooltip
    assert re.search(r'<abbr class="ev-mid" title="quality\.exposure\.clipped_shadows: [^"]+">', html)


def test_verdict_line_names_the_weakest_answer_or_the_gate(tax):
    dim = tax.dimension("lens")
    q = dim.sub_dimensions[0].questions[0]
    line = cards.verdict_line(_result("lens", score=2.0, answers=[_answer(q.id, False, 0.0, "quality.sharpness 12")]), tax)
    assert line.startswith(q.text) and "no: quality.sharpness 12" in line
    assert cards.verdict_line(_result("vocal", "gated", None, gate_reason="no audio"), tax) == "Not applicable: no audio"
    vlm = _result("lens", score=3.0, rationale="Gated parts: x\nThe focus breathes in shot 2.\nmore")
    assert cards.verdict_line(vlm, tax) == "The focus breathes in shot 2."


def test_overview_groups_every_dimension_by_stage_and_aspect(tax):
    dims = tax.dimensions
    results = {dims[0].id: _result(dims[0].id, "gated", None, gate_reason="no face"),
               dims[1].id: _result(dims[1].id, "not_judged", None, gate_reason="needs a VLM"),
               dims[2].id: _result(dims[2].id, score=2.0), dims[3].id: _result(dims[3].id, score=4.0)}
    html = overview.overview_html(tax, results, done=True)
    chips = re.findall(r'<a class="ev-chip ([^"]+)" href="#ev-card-([a-z_]+)" data-card="ev-card-\2" '
                       r'data-dimension="\2" data-status="([a-z_]+)"', html)
    assert [c[1] for c in chips] == [d.id for d in dims]  # all 18, taxonomy order, each linking to its card
    status = {c[1]: (c[0], c[2]) for c in chips}
    assert status[dims[0].id] == ("ev-c-gated", "gated") and status[dims[1].id] == ("ev-c-not_judged", "not_judged")
    assert status[dims[2].id][0] == "ev-b2" and status[dims[4].id][1] == "pending"
    for stage in tax.stages:
        assert f'<span class="ev-ov-stage">{stage.name}</span>' in html
    for _, aspect in tax.iter_aspects():
        assert f"{aspect.name}</div>" in html
    # the verdict: the mean of the scored dimensions only (2 and 4), never counting gated ones as zero
    assert 'data-mean="3.000"' in html and "mean of 2 scored dimensions" in html


def test_the_three_weakest_are_the_lowest_scored_judged_dimensions(tax):
    dims = tax.dimensions
    scores = {dims[i].id: s for i, s in enumerate((4.0, 1.5, 3.0, 2.5, 5.0))}
    results = {d: _result(d, score=s) for d, s in scores.items()} | {dims[6].id: _result(dims[6].id, "gated", None)}
    order = [d.id for d in dims]
    assert overview.weakest(results, order) == [dims[1].id, dims[3].id, dims[2].id]
    html = overview.weakest_html(tax, results)
    listed = re.findall(r'<li><a href="#ev-card-([a-z_]+)"', html)
    assert listed == [dims[1].id, dims[3].id, dims[2].id]
    assert overview.weakest({}, order) == []

