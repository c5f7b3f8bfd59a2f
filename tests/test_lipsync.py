"""Lip-sync: exact offsets on a planted syllable envelope, SyncNet architecture/loading/offset search with random
weights at the published shapes, and (slow) the full faces → speech → lipsync chain on real talking heads."""
from __future__ import annotations

import numpy as np
import pytest

from evalverse.operators import syncnet as sn
from evalverse.operators.base import EvidenceRecord, OperatorContext, OperatorSkipped
from evalverse.operators.lipsync import LipsyncOperator, LipsyncResults
from evalverse.operators.lipsync_core import estimate_offset, speech_envelope, sync_curve
from operator_clips import faces_record, make_video, speech_record

RATE = 16_000



def syllables(duration: float, seed: int, rate: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """A speech-like envelope: raised-sine syllables of 120–250 ms with random gaps and loudness."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, duration, 1 / rate)
    env = np.zeros_like(t)
    s = 0.3
    while s < duration - 0.4:
        d, a = rng.uniform(0.12, 0.25), rng.uniform(0.4, 1.0)
        m = (t >= s) & (t < s + d)
        env[m] += a * np.sin(np.pi * (t[m] - s) / d) ** 2
        s += d + rng.uniform(0.05, 0.35)
    return t, env


def planted(offset_s: float, duration: float = 8.0, seed: int = 3, fps: float = 25.0):
    """Mouth opening sampled at `fps` and noise-excited audio whose loudness follows the same envelope,
    delayed by `offset_s` (positive: audio late)."""
    t, env = syllables(duration, seed)
    mt = np.arange(0, duration, 1 / fps)
    mv = 0.02 + 0.1 * np.interp(mt, t, env)
    at = np.arange(int(duration * RATE)) / RATE
    rng = np.random.default_rng(seed + 1)
    audio = 0.3 * rng.standard_normal(len(at)) * np.interp(at - offset_s, t, env, left=0, right=0)
    audio += 0.002 * rng.standard_normal(len(at))
    return mt, mv, audio.astype(np.float32)


@pytest.mark.parametrize("offset_ms", [120, -200, 0, 330])
@pytest.mark.parametrize("use_diff", [False, True])
def test_planted_offset_is_recovered(offset_ms, use_diff):
    mt, mv, audio = planted(offset_ms / 1000)
    est, conf = estimate_offset(mt, mv, audio, RATE, use_diff=use_diff)
    assert est == pytest.approx(offset_ms, abs=40)
    assert conf > 0.3


def test_unrelated_signals_have_low_confidence():
    mt, mv, _ = planted(0.0, seed=3)
    _, _, audio = planted(0.0, seed=11)  # another utterance
    _, conf_other = estimate_offset(mt, mv, audio, RATE)
    _, conf_same = estimate_offset(*planted(0.0, seed=3), RATE)
    assert conf_other < conf_same / 2


def test_voiced_restriction_and_short_overlap():
    mt, mv, audio = planted(0.12)
    est = sync_curve(mt, mv, audio, RATE, voiced=[(0.5, 7.5)])
    assert est.offset_ms == pytest.approx(120, abs=40)
    assert est.lags_ms[0] == -500 and est.lags_ms[-1] == 500
    short = sync_curve(mt[:10], mv[:10], audio, RATE)  # 0.4 s of face: not enough overlap
    assert short.offset_ms is None and short.confidence == 0.0


def test_speech_envelope_is_band_limited_rms():
    t = np.arange(RATE) / RATE
    low = np.sin(2 * np.pi * 100 * t).astype(np.float32)  # below the 300 Hz band edge
    mid = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    grid = np.arange(0.1, 0.9, 0.01)
    assert np.nanmean(speech_envelope(mid, RATE, grid)) == pytest.approx(1 / np.sqrt(2), rel=0.05)
    assert np.nanmean(speech_envelope(low, RATE, grid)) < 0.1


def test_operator_skips_without_face_or_speech(settings):
    frames = np.zeros((50, 32, 32, 3), np.uint8)
    op = LipsyncOperator()

    def run(video, **evidence):
        return op.run(OperatorContext(video=video, settings=settings, backend="envelope", evidence=evidence))

    with pytest.raises(OperatorSkipped, match="audio"):
        run(make_video(frames, 25.0))
    mt, mv, audio = planted(0.0, duration=2.0)
    with pytest.raises(OperatorSkipped, match="did not run"):
        run(make_video(frames, 25.0, audio))
    failed = EvidenceRecord(operator="faces", version="1", status="unavailable", message="mediapipe missing")
    with pytest.raises(OperatorSkipped, match="mediapipe missing"):
        run(make_video(frames, 25.0, audio), faces=failed)
    with pytest.raises(OperatorSkipped, match="mouth"):
        run(make_video(frames, 25.0, audio), faces=faces_record())
    silent = make_video(frames, 25.0, np.zeros(2 * RATE, np.float32))
    with pytest.raises(OperatorSkipped, match="speech"):
        run(silent, faces=faces_record(mt, mv))


def test_operator_reports_planted_offset_from_evidence(settings):
    mt, mv, audio = planted(-0.2)
    frames = np.zeros((len(mt), 32, 32, 3), np.uint8)
    speech = speech_record(vad_segments=[[0.2, 7.8]], voiced_s=7.6, speech_ratio=0.95)
    res = LipsyncOperator().run(OperatorContext(video=make_video(frames, 25.0, audio), settings=settings, backend="envelope",
                                                evidence={"faces": faces_record(mt, mv), "speech": speech}))
    assert isinstance(res, LipsyncResults)
    assert res.offset_ms == pytest.approx(-200, abs=40) and res.confidence > 0.3
    assert res.detectable is True and res.vad == "speech evidence" and res.method == "envelope"
    assert res.voiced_s == pytest.approx(7.6) and res.envelope.peak_corr > res.envelope.zero_lag_corr


# ---- SyncNet ---------------------------------------------------------------------------------------------

def test_syncnet_has_the_published_layout():
    model = sn.build_syncnet()
    state = model.state_dict()
    # shapes of the reference syncnet_v2.model (joonson/syncnet_python SyncNetModel.S)
    assert state["netcnnaud.0.weight"].shape == (64, 1, 3, 3)
    assert state["netcnnaud.18.weight"].shape == (512, 256, 5, 4)
    assert state["netcnnlip.0.weight"].shape == (96, 3, 5, 7, 7)
    assert state["netcnnlip.18.weight"].shape == (512, 256, 1, 6, 6)
    assert state["netfcaud.3.weight"].shape == (1024, 512) and state["netfclip.3.weight"].shape == (1024, 512)
    import torch

    model.eval()
    with torch.no_grad():
        assert model.forward_aud(torch.zeros(2, 1, 13, 20)).shape == (2, 1024)
        assert model.forward_lip(torch.zeros(1, 3, 5, 224, 224)).shape == (1, 1024)


def test_mfcc_matches_the_reference_definition():
    """Hand check of python_speech_features' MFCC on a pure tone: 100 frames/s, 13 coefficients, c0 = log energy."""
    t = np.arange(RATE) / RATE
    x = 1000 * np.sin(2 * np.pi * 440 * t)
    cc = sn.mfcc(x, RATE)
    assert cc.shape == (99, 13)  # 1 + ceil((16000 - 400) / 160)
    pre = np.append(x[0], x[1:] - 0.97 * x[:-1])
    frame = pre[160 * 50:160 * 50 + 400]
    energy = (np.abs(np.fft.rfft(frame, 512)) ** 2 / 512).sum()
    assert cc[50, 0] == pytest.approx(np.log(energy), rel=1e-9)


def test_syncnet_loads_strictly_and_searches_offsets(settings):
    import torch

    torch.manual_seed(0)
    path = settings.models_dir / sn.SYNCNET_WEIGHTS
    path.parent.mkdir(parents=True)
    torch.save(sn.build_syncnet().state_dict(), path)
    assert LipsyncOperator.availability(settings).backend == "syncnet"
    model = sn.load_syncnet(path)
    crops = np.random.default_rng(0).integers(0, 255, (16, 224, 224, 3), dtype=np.uint8)
    audio = np.random.default_rng(1).standard_normal(int(16 / 25 * RATE)).astype(np.float32) * 0.1
    offset, conf, lags, dists = sn.syncnet_offset(model, crops, audio, RATE, max_lag_ms=120)
    assert lags == [-120.0, -80.0, -40.0, 0.0, 40.0, 80.0, 120.0] and len(dists) == 7
    assert offset in lags and conf >= 0 and offset == lags[int(np.argmin(dists))]
    bad = settings.models_dir / "syncnet" / "bad.model"
    torch.save({"netcnnaud.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(Exception, match="not a SyncNet"):
        sn.load_syncnet(bad)


def test_face_crops_follow_the_box():
    frames = np.zeros((10, 100, 200, 3), np.uint8)
    frames[:, 40:60, 90:110] = (255, 0, 0)  # red square, RGB
    crops = sn.face_crops(frames, np.arange(10) / 25, [0.0], [[0.45, 0.4, 0.55, 0.6]], duration=0.4, scale=1.0)
    assert crops.shape == (10, 224, 224, 3)
    assert crops[0, 112, 112, 2] == 255 and crops[0, 112, 112, 0] == 0  # BGR order, square fills the centre


# ---- real talking heads (slow) ---------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("clip", ["real_talking_man_suit_retalking1.mp4", "real_talking_man_map_retalking2.mp4"])
def test_real_talking_head_is_near_sync(clip, shared_media, settings):
    from evalverse.media.decode import decode_video
    from evalverse.operators.faces import FacesOperator
    from evalverse.operators.runner import run_one
    from evalverse.operators.speech import SpeechOperator

    video = decode_video(shared_media / clip, settings)
    ev = {}
    for cls in (FacesOperator, SpeechOperator):
        ev[cls.name] = run_one(cls, video, settings, dict(cls.default_params), ev)
        assert ev[cls.name].status == "ok", ev[cls.name].message
    res = LipsyncOperator().run(OperatorContext(video=video, settings=settings, backend="envelope", evidence=ev,
                                                params=dict(LipsyncOperator.default_params)))
    assert abs(res.offset_ms) < 200 and res.confidence > 0
