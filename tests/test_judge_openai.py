"""The `openai` judge against a real local HTTP server speaking streaming chat completions (SSE)."""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
from fake_openai import Server

from evalverse.judge import JudgeContext, make_judge
from evalverse.judge.protocol import Frame
from evalverse.media.types import VideoMeta
from evalverse.taxonomy import load_taxonomy
from judge_records import record

TAX = load_taxonomy(Path(__file__).parent / "fixtures" / "judge_taxonomy.yaml")

GOOD = ("[vq_sharp] Crisp edges at t=0.00 s; sharpness 412 agrees.\n[vq_noise] No grain.\n[vq_plastic] Textures are natural.\n"
        "[vq_flicker] Steady.\nSelf-reflection: the evidence supports each claim.\n"
        '```json\n{"answers": {"vq_sharp": "yes", "vq_noise": "no", "vq_plastic": 4, "vq_flicker": "yes"}, '
        '"score": 4, "confidence": 0.8}\n```')
REPAIRED = '```json\n{"answers": {"vq_sharp": "yes", "vq_noise": "yes", "vq_plastic": 2, "vq_flicker": "no"}, "score": 2}\n```'
BAD = "[vq_sharp] Looks fine.\nSelf-reflection: ok.\n```json\n{\"answers\": {\"vq_sharp\": \"yes\"}, \"score\": \"four\"}\n```"


def context() -> JudgeContext:
    meta = VideoMeta(path="c.mp4", content_hash="h", size_bytes=1, container="mp4", duration_s=2.0, fps=25.0, n_frames=50,
                     width=64, height=48, coded_width=64, coded_height=48, vcodec="h264", has_audio=False)
    rng = np.random.default_rng(0)
    frames = [Frame(time=t, image=rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)) for t in (0.0, 1.0)]
    ev = {"quality": record("quality", sharpness=412.0)}
    return JudgeContext(taxonomy=TAX, meta=meta, frames=frames, evidence=ev, prompt="a lighthouse")


def run(judge):
    events = list(judge.judge(TAX.dimension("visual_quality"), context()))
    assert events[-1].kind == "done" and events[0].kind == "start"
    return events, events[-1].data["result"]


def judge_for(server, settings, **kw):
    return make_judge("openai", settings, base_url=server.url, model="test-vlm", backoff_s=0.01, timeout_s=5, **kw)


def test_streamed_reply_is_scored_from_answers(settings, monkeypatch):
    monkeypatch.setenv("EVALVERSE_OPENAI_API_KEY", "sk-test-123")
    with Server([GOOD]) as srv:
        events, result = run(judge_for(srv, settings))
    assert result.status == "scored"
    # sharp yes (1), noise no (negative: 1), plastic 4 (0.75) -> 2.75/3; flicker yes (1) -> mean 0.9583
    assert result.score == pytest.approx(1 + 4 * ((2.75 / 3 + 1.0) / 2))
    assert [a.answer for a in result.answers] == [True, False, 4.0, True]
    assert result.answers[0].basis.startswith("Crisp edges")
    rationale = "".join(e.text for e in events if e.kind == "rationale")
    reflection = "".join(e.text for e in events if e.kind == "reflection")
    assert rationale.startswith("[vq_sharp]") and "Self-reflection" not in rationale and "```" not in rationale
    assert reflection.startswith("Self-reflection: the evidence supports")
    assert sum(e.kind == "rationale" for e in events) >= 2  # it streamed in pieces
    score = next(e for e in events if e.kind == "score")
    assert score.data["model_score"] == 4.0 and score.data["source"] == "answers" and score.data["confidence"] == 0.8
    assert result.raw_text == GOOD
    # the request: streaming, model, frames as base64 JPEG image parts, bearer key from the environment
    req = srv.requests[0]
    assert req["stream"] is True and req["model"] == "test-vlm"
    parts = req["messages"][1]["content"]
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 2 and images[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert base64.b64decode(images[0]["image_url"]["url"].split(",", 1)[1])[:2] == b"\xff\xd8"
    assert "[vq_flicker]" in parts[-1]["text"] and req["messages"][0]["role"] == "system"
    assert srv.headers[0]["Authorization"] == "Bearer sk-test-123"


def test_malformed_reply_gets_one_repair_request(settings):
    with Server([BAD, REPAIRED]) as srv:
        events, result = run(judge_for(srv, settings))
    assert len(srv.requests) == 2
    follow = srv.requests[1]["messages"]
    assert follow[-2] == {"role": "assistant", "content": BAD}
    assert "score must be a number" in follow[-1]["content"] and "vq_sharp" in follow[-1]["content"]
    assert any(e.kind == "error" and e.data.get("recoverable") for e in events)
    assert result.status == "scored"
    assert [a.answer for a in result.answers] == [True, True, 2.0, False]
    assert result.rationale.startswith("[vq_sharp] Looks fine.")  # reasoning kept from the first reply
    assert BAD in result.raw_text and REPAIRED in result.raw_text


def test_still_malformed_after_repair_is_unparsed_without_score(settings):
    with Server([BAD, "I cannot comply."]) as srv:
        events, result = run(judge_for(srv, settings))
    assert len(srv.requests) == 2
    assert result.status == "unparsed" and result.score is None and result.answers == []
    assert "I cannot comply." in result.raw_text and BAD in result.raw_text
    assert "[unparsed:" in result.rationale


def test_server_error_is_retried(settings):
    with Server([500, 503, GOOD]) as srv:
        events, result = run(judge_for(srv, settings, retries=3))
    assert len(srv.requests) == 3 and result.status == "scored"


def test_retries_run_out_into_an_error_result(settings):
    with Server([500, 500, 500]) as srv:
        events, result = run(judge_for(srv, settings, retries=2))
    assert len(srv.requests) == 3
    assert result.status == "error" and result.score is None
    assert "gave up after 3 attempts" in result.rationale and "HTTP 500" in result.rationale


def test_client_error_is_not_retried_and_explains(settings):
    with Server([401]) as srv:
        events, result = run(judge_for(srv, settings))
    assert len(srv.requests) == 1
    assert result.status == "error" and "HTTP 401" in result.rationale and "OPENAI_API_KEY" in result.rationale


def test_connection_refused_is_retried_then_reported(settings):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    judge = make_judge("openai", settings, base_url=f"http://127.0.0.1:{port}/v1", retries=1, backoff_s=0.01, timeout_s=2)
    events = list(judge.judge(TAX.dimension("visual_quality"), context()))
    result = events[-1].data["result"]
    assert result.status == "error" and "ConnectError" in result.rationale


def test_settings_carry_endpoint_and_model(settings):
    s = settings.model_copy(update={"judge": settings.judge.model_copy(update={"openai_base_url": "http://h:1/v1",
                                                                               "openai_model": "m1"})})
    judge = make_judge("openai", s)
    assert judge.base_url == "http://h:1/v1" and judge.model == "m1"
    from evalverse.errors import InputError
    with pytest.raises(InputError):
        make_judge("openai", settings, base_url="ftp://x")
    with pytest.raises(InputError, match="unknown judge 'nope'"):
        make_judge("nope", settings)


def test_the_reference_image_is_sent_first_and_labelled(settings, tmp_path):
    from PIL import Image

    from evalverse.taxonomy import TaskMode

    ref = tmp_path / "subject.png"
    Image.fromarray(np.full((40, 30, 3), (200, 30, 30), dtype=np.uint8)).save(ref)
    ctx = context()
    ctx.reference, ctx.mode = ref, TaskMode.r2v
    with Server([GOOD]) as srv:
        result = list(judge_for(srv, settings).judge(TAX.dimension("visual_quality"), ctx))[-1].data["result"]
    assert result.status == "scored"
    parts = srv.requests[0]["messages"][1]["content"]
    labels = [p["text"] for p in parts if p["type"] == "text"]
    assert labels[0].startswith("Reference image (subject.png)") and "not a frame of the video" in labels[0]
    assert labels[1] == "Frame at t=0.00 s:" and labels[2] == "Frame at t=1.00 s:"
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 3  # the reference, then the two frames
    from io import BytesIO

    sent = Image.open(BytesIO(base64.b64decode(images[0]["image_url"]["url"].split(",", 1)[1])))
    assert sent.size == (30, 40) and np.abs(np.asarray(sent, dtype=int)[20, 15] - (200, 30, 30)).max() < 12
    assert "shown before the video frames: 1 picture(s)" in labels[-1] and "subject.png" in labels[-1]


def test_a_reference_video_is_sent_as_labelled_keyframes(settings, tmp_path):
    from evalverse.media.synthetic import cuts_clip
    from evalverse.taxonomy import TaskMode

    ref = cuts_clip(tmp_path / "ref.mp4", cut_frames=(10, 20), n=30, size=(64, 48)).path
    ctx = context()
    ctx.reference, ctx.mode = ref, TaskMode.r2v
    judge = None
    with Server([GOOD, GOOD]) as srv:
        judge = judge_for(srv, settings)
        for dim in ("visual_quality", "visual_quality"):  # decoded once per judge, sent every time
            list(judge.judge(TAX.dimension(dim), ctx))
    for req in srv.requests:
        parts = req["messages"][1]["content"]
        labels = [p["text"] for p in parts if p["type"] == "text"]
        keyframes = [t for t in labels if t.startswith("Reference video (ref.mp4), keyframe")]
        assert len(keyframes) == 3 and "keyframe 1 of 3 at t=" in keyframes[0]
        assert sum(p["type"] == "image_url" for p in parts) == 5
    assert len(judge._reference_cache) == 1


def test_an_unreadable_reference_is_said_not_hidden(settings, tmp_path):
    from evalverse.taxonomy import TaskMode

    ref = tmp_path / "ref.png"
    ref.write_bytes(b"not an image and not a video")
    ctx = context()
    ctx.reference, ctx.mode = ref, TaskMode.r2v
    with Server([GOOD]) as srv:
        events = list(judge_for(srv, settings).judge(TAX.dimension("visual_quality"), ctx))
    result = events[-1].data["result"]
    parts = srv.requests[0]["messages"][1]["content"]
    assert sum(p["type"] == "image_url" for p in parts) == 2  # the frames only
    assert "could not be shown to the model" in parts[-1]["text"] and "Answer null" in parts[-1]["text"]
    assert any(e.kind == "error" and e.data.get("reference") is False for e in events)
    assert "ref.png could not be shown to the model" in result.rationale


def test_a_stream_that_stops_early_is_an_error_not_a_shorter_reply(settings):
    cut = {"text": GOOD[:60], "finish": None, "done": False}
    with Server([cut, cut]) as srv:
        events, result = run(judge_for(srv, settings, retries=0))
    assert result.status == "error" and result.score is None
    assert "ended before the reply was complete" in result.rationale


def test_a_reply_cut_at_the_token_limit_says_so(settings):
    cut = {"text": GOOD[:-40], "finish": "length"}
    with Server([cut, {"text": "still cut", "finish": "length"}]) as srv:
        events, result = run(judge_for(srv, settings, max_tokens=50))
    first_error = next(e for e in events if e.kind == "error")
    assert "cut off at the output limit of 50 tokens" in first_error.text
    assert result.status == "unparsed" and "cut off at the output limit of 50 tokens" in result.rationale


def test_a_non_streamed_json_completion_is_read(settings):
    with Server([{"text": GOOD, "json": True}]) as srv:
        events, result = run(judge_for(srv, settings))
    assert result.status == "scored" and result.raw_text == GOOD


def test_decoding_settings_and_the_served_model_are_recorded(settings):
    with Server([{"text": GOOD, "model": "test-vlm-2025-01-01", "fingerprint": "fp_abc"}]) as srv:
        events, result = run(judge_for(srv, settings, temperature=0.2, seed=7))
    body = srv.requests[0]
    assert body["temperature"] == 0.2 and body["seed"] == 7
    v = result.backend_version
    assert "test-vlm@" in v and "temperature=0.2" in v and "seed=7" in v and "max_tokens=2048" in v
    assert "served=test-vlm-2025-01-01" in v and "fingerprint=fp_abc" in v
    with Server([GOOD]) as srv:
        run(judge_for(srv, settings, seed=None))
    assert "seed" not in srv.requests[0]


def test_reference_pictures_of_images_videos_and_short_videos(tmp_path):
    from PIL import Image

    from evalverse.errors import InputError
    from evalverse.judge.backends.images import reference_pictures
    from evalverse.media.synthetic import cuts_clip

    gif = tmp_path / "anim.gif"
    frames = [Image.fromarray(np.full((20, 20, 3), v, dtype=np.uint8)) for v in (0, 80, 160, 240)]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100)
    shown = reference_pictures(gif)
    assert [s.label.split(",")[0] for s in shown] == ["Reference animated image (anim.gif)"] * 3
    assert "keyframe 1 of 3 at t=0.00 s" in shown[0].label and "keyframe 3 of 3 at t=0.30 s" in shown[2].label
    short = cuts_clip(tmp_path / "short.mp4", cut_frames=(1,), n=2, size=(32, 32)).path
    shown = reference_pictures(short)  # two frames: no repeated keyframe
    times = [s.label.split("at t=")[1] for s in shown]
    assert len(times) == len(set(times)) <= 2 and all(s.kind == "reference" for s in shown)
    with pytest.raises(InputError, match="does not exist"):
        reference_pictures(tmp_path / "nope.png")


def test_a_non_image_reference_is_recognised_even_after_ultralytics_patched_pillow(tmp_path, monkeypatch):
    """Regression (CI): once ultralytics is imported, PIL.Image.open answers a file Pillow cannot identify by
    trying to pip-install and import pi-heif; the reference check must still learn "not an image" and take
    the video path, whatever imported ultralytics first."""
    import sys
    import types

    from PIL import Image

    from evalverse.judge.backends.images import _image_stills

    def patched_open(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'pi_heif'")

    fake = types.ModuleType("ultralytics.utils.patches")
    from evalverse.compat.ultralytics_import import pillow_open

    fake._image_open, fake.image_open = pillow_open(), patched_open  # Pillow's own, even if ultralytics came first
    monkeypatch.setitem(sys.modules, "ultralytics.utils.patches", fake)
    monkeypatch.setattr(Image, "open", patched_open)
    clip = tmp_path / "reference.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    assert _image_stills(clip, 3) is None
