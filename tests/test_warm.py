"""Warm-up: the app loads every operator's models in the background once the page is served, so the first
diagnosis is a warm one; a model that cannot load never stops it."""
from __future__ import annotations

import pytest

from evalverse.models import loaded
from evalverse.operators import warm
from evalverse.operators.runner import get_operator, run_operators


def test_a_failing_warm_hook_is_skipped_and_the_rest_still_warms(settings, monkeypatch):
    shots = get_operator("shots")

    def broken(cls, settings, backend):
        raise RuntimeError("weights gone")

    monkeypatch.setattr(shots, "warm", classmethod(broken))
    seconds = warm.warm_up(settings, names=["shots", "colour"])
    assert "shots" not in seconds and "tiny clip" in seconds


def test_the_tiny_clip_runs_through_the_cheap_operators(settings):
    records = run_operators(warm.tiny_clip(), settings, ["shots", "colour", "audio"], store=None, use_cache=False)
    assert all(r.status in ("ok", "skipped", "partial") for r in records.values()), {n: r.message for n, r in records.items()}


@pytest.mark.slow
def test_after_warm_up_a_clip_loads_no_model(settings):
    loaded.release()
    warm.warm_up(settings)
    before = loaded.loads()
    assert before, "warm-up loaded nothing"
    run_operators(warm.tiny_clip(), settings, store=None, use_cache=False)
    assert loaded.loads() == before


@pytest.mark.slow
def test_two_diagnoses_at_once_get_the_answers_one_alone_gets(shared_media, settings):
    """Kept models are lent one caller at a time (MediaPipe graphs, dlib) or safe to share (CTranslate2): two
    clips analysed side by side in threads, as two Diagnose sessions in the app would, change nothing."""
    import threading

    from evalverse.media.decode import decode_video

    video = decode_video(shared_media / "real_talking_man_suit_retalking1.mp4", settings)
    names = ["faces", "people", "speech"]

    def results():
        recs = run_operators(video, settings, names, store=None, use_cache=False, workers=1)
        return {n: recs[n].results for n in names}

    alone = results()
    together: list[dict] = []
    threads = [threading.Thread(target=lambda: together.append(results())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(together) == 2 and all(r == alone for r in together)


def test_the_apps_warm_up_diagnoses_a_tiny_clip_and_stores_nothing_of_it(settings, monkeypatch):
    """app.py's warm-up runs the whole diagnosis path once (judge, cards, radar) on an in-memory store: the
    user's database gets no run from it."""
    from evalverse.store import Store
    from evalverse.taxonomy import load_taxonomy
    from evalverse.ui import diagnose_session

    monkeypatch.setattr(warm, "warm_up", lambda s, names=None: {})  # the models part is tested above
    seen = []
    real = diagnose_session.run_diagnosis

    def spy(*args, **kwargs):
        for up in real(*args, **kwargs):
            seen.append(up)
            yield up

    monkeypatch.setattr(diagnose_session, "run_diagnosis", spy)
    with Store.open(settings.db_path):
        pass
    seconds = diagnose_session.warm_up(settings, load_taxonomy())
    assert "tiny diagnosis" in seconds and seen and seen[-1].done and seen[-1].run_id is not None
    with Store.open(settings.db_path) as store:
        assert store.list_runs(limit=5) == []
