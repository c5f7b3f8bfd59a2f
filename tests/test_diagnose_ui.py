"""The Diagnose tab's streaming handler on synthetic clips: progressive cards, errors as messages, media-folder
confinement, the run cache, and concurrent users kept apart (no server, no browser)."""
from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import pytest

from evalverse.config import Settings
from evalverse.media.hashing import sha256_file
from evalverse.media.synthetic import cuts_clip
from evalverse.operators.runner import resolve_order
from evalverse.pipeline import operators_for
from evalverse.ui.markup import OPERATOR_TITLES
from evalverse.ui import diagnose_session as session
from evalverse.ui.context import open_context
from evalverse.ui.diagnose_tab import make_handler

PROGRESS, OVERVIEW, CARDS, EVIDENCE, RADAR, REPORT, LINK = range(7)  # the handler's outputs
FINISHED = re.compile(r'data-status="(scored|gated|not_judged|unparsed|error)"')


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    root = tmp_path_factory.mktemp("diagnose")
    media = root / "media"
    media.mkdir()
    settings = Settings(data_dir=root, db_path=root / "db" / "ev.duckdb", models_dir=root / "models", media_dir=media)
    context = open_context(settings)
    yield context
    context.store.close()


@pytest.fixture(scope="module")
def clips(ctx):
    media = ctx.settings.media_dir
    (media / "sub").mkdir(exist_ok=True)
    one = cuts_clip(media / "one_cut.mp4", cut_frames=(20,), n=50).path
    two = cuts_clip(media / "sub" / "two_cuts.mp4", cut_frames=(15, 35), n=50).path
    return one, two


def _run(ctx, **kwargs) -> list[tuple]:
    return list(make_handler(ctx)(**kwargs))


def _finished(cards) -> int:
    return len(FINISHED.findall(cards)) if isinstance(cards, str) else -1


def final_progress(outs) -> str:
    return [o[0] for o in outs if isinstance(o[0], str)][-1]


def test_cards_appear_progressively_in_taxonomy_layout(ctx, clips):
    outs = _run(ctx, video=str(clips[0]), use_cache=False)
    assert len(outs) > 5
    counts = [_finished(o[CARDS]) for o in outs if isinstance(o[CARDS], str)]
    done = [c for c in counts if c > 0]
    # cards finish one at a time, never several in one jump: 1, 2, 3, ... 18 (an update may repeat a count
    # while the next dimension waits for its evidence)
    n_dims = len(ctx.taxonomy.dimensions)
    steps = [c for i, c in enumerate(done) if i == 0 or c != done[i - 1]]
    assert steps == list(range(1, n_dims + 1))
    # the operator stage streams first, and a dimension is judged as soon as its evidence is ready:
    # the first card is finished while the last operator in the run order has not reported yet
    last = OPERATOR_TITLES[resolve_order(operators_for(ctx.taxonomy.dimensions))[-1]]
    first_card = next(i for i, o in enumerate(outs) if _finished(o[CARDS]) > 0)
    assert first_card > 3 and "Shots" in outs[first_card - 1][0]
    assert last not in outs[first_card][0]
    assert last in final_progress(outs)
    final = outs[-1]
    assert "Done in" in final[0]
    assert 'id="ev-panel-shots"' in final[EVIDENCE] and "shot 1:" in final[EVIDENCE] and "data:image/jpeg;base64," in final[EVIDENCE]
    report = json.loads(Path(final[REPORT]).read_text())
    assert report["content_hash"] == sha256_file(clips[0])
    assert len(report["results"]) == n_dims and report["run_id"] is not None
    assert report["evidence"]["shots"]["results"]["n_shots"] == 2  # the planted cut
    assert final[RADAR] is not None and len(final[RADAR].data[0].theta) == n_dims + 1  # the radar


def test_same_clip_again_comes_from_the_cache_with_evidence(ctx, clips):
    _run(ctx, video=str(clips[0]))  # make sure one finished run exists
    outs = _run(ctx, video=str(clips[0]))
    final = outs[-1]
    assert "Served from the cache" in final[0] and "(from cache)" in final[0]
    assert not any("Evidence 1/" in o[0] for o in outs)  # nothing was recomputed
    assert json.loads(Path(final[REPORT]).read_text())["cached"] is True
    assert 'id="ev-panel-shots"' in final[EVIDENCE]


def test_text_file_upload_is_a_clear_error_and_the_handler_keeps_working(ctx, clips, tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not a video\n" * 20)
    outs = _run(ctx, video=str(bogus))
    assert not isinstance(outs[-1][REPORT], str)  # no report for a refused file
    assert 'id="diagnose-error"' in outs[-1][0] and "notes.txt" in outs[-1][0] and "video" in outs[-1][0]
    assert "Traceback" not in outs[-1][0]
    assert outs[-1][CARDS] == ""  # the pending placeholders are cleared
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(clips[0].read_bytes()[:3000])
    assert 'id="diagnose-error"' in _run(ctx, video=str(corrupt))[-1][0]
    assert "Done in" in _run(ctx, video=str(clips[1]))[-1][0]  # and the next one still works


def test_no_input_and_unknown_sample_are_messages(ctx):
    assert "choose a video first" in _run(ctx)[-1][0]
    assert "unknown sample" in _run(ctx, sample="nope.mp4")[-1][0]


def test_media_folder_lists_videos_and_resolves_strictly_inside(ctx, clips, tmp_path):
    media = ctx.settings.media_dir
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"x")
    (media / "escape.mp4").symlink_to(outside)
    (media / "readme.txt").write_text("not listed")
    try:
        listed = session.list_media(media)
        assert "one_cut.mp4" in listed and "sub/two_cuts.mp4" in listed
        assert "escape.mp4" not in listed and "readme.txt" not in listed
        assert session.resolve_media_file(media, "sub/two_cuts.mp4") == clips[1].resolve()
        for bad in ("../secret.mp4", "sub/../../secret.mp4", str(outside), "/etc/passwd", "escape.mp4", "", "C:\\x.mp4"):
            with pytest.raises(session.InputError):
                session.resolve_media_file(media, bad)
        out = _run(ctx, media_file="../secret.mp4")[-1][0]
        assert 'id="diagnose-error"' in out and "refused" in out
    finally:
        (media / "escape.mp4").unlink()
    with pytest.raises(session.InputError, match="EVALVERSE_MEDIA_DIR"):
        session.resolve_media_file(None, "one_cut.mp4")


def test_unavailable_judge_says_why(ctx, clips):
    choices = session.judge_choices(ctx.settings)
    assert {"evidence"} <= {c.name for c in choices}
    assert all(c.why for c in choices)
    blocked = [c for c in choices if not c.available]
    if not blocked:
        pytest.skip("every judge backend can run here")
    out = _run(ctx, video=str(clips[0]), judge=blocked[0].name)[-1][0]
    assert "cannot run here" in out and 'id="diagnose-error"' in out


def test_two_concurrent_diagnoses_keep_their_own_results(ctx, clips):
    results: dict[int, list] = {}

    def work(i: int) -> None:
        results[i] = _run(ctx, video=str(clips[i]), use_cache=False)

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for i, planted_shots in ((0, 2), (1, 3)):
        final = results[i][-1]
        report = json.loads(Path(final[REPORT]).read_text())
        assert report["content_hash"] == sha256_file(clips[i])
        assert report["evidence"]["shots"]["results"]["n_shots"] == planted_shots
        assert final[EVIDENCE].count('class="ev-shot"') == planted_shots
    # each call wrote into its own folder
    assert Path(results[0][-1][REPORT]).parent != Path(results[1][-1][REPORT]).parent


def test_samples_have_licences_beside_them():
    samples = session.list_samples()
    assert len(samples) >= 3
    licences = (session.SAMPLES_DIR / "LICENSES.md").read_text()
    total = sum(os.path.getsize(p) for _, p in samples)
    assert total < 12e6
    for name, _ in samples:
        assert f"`{name}`" in licences
