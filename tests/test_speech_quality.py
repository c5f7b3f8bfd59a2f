"""DNSMOS speech quality: clean speech above the same speech in noise, clear skips, the window plan."""
from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from evalverse.operators import speech_quality as sq
from evalverse.operators.base import EvidenceRecord, OperatorSkipped
from operator_clips import audio_only, context

needs_models = pytest.mark.skipif(sq.package_file(*sq.P835_MODEL) is None or shutil.which("espeak-ng") is None,
                                  reason="needs speechmos's DNSMOS models and espeak-ng")


def espeak(tmp_path: Path, text: str) -> np.ndarray:
    """espeak-ng speech at 16 kHz in [-1, 1]."""
    from scipy.signal import resample_poly

    wav = tmp_path / "s.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
    with wave.open(str(wav)) as w:
        sr, x = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), np.int16) / 32768.0
    return resample_poly(x, sq.RATE, sr).astype(np.float32)


def speech_record(voiced_s: float) -> EvidenceRecord:
    from evalverse.operators.speech import SpeechResults

    results = SpeechResults(vad_model="test", duration_s=10.0, n_words=0, no_speech=voiced_s == 0, voiced_s=voiced_s,
                            speech_ratio=voiced_s / 10.0)
    return EvidenceRecord(operator="speech", version="test", results=results.model_dump(mode="json"))


def run(audio, settings, **evidence):
    return sq.SpeechQualityOperator().run(context(audio_only(audio), settings, backend="dnsmos", **evidence))


def test_window_plan():
    n = int(sq.WINDOW_S * sq.RATE)
    assert sq.windows(n // 2, 12) == [0]
    assert sq.windows(2 * n, 12) == [0, n]
    assert sq.windows(2 * n + n // 2 + 10, 12) == [0, n, n + n // 2 + 10]  # a long tail gets its own window
    many = sq.windows(100 * n, 12)
    assert len(many) == 12 and many[0] == 0 and many[-1] == 99 * n


@pytest.mark.slow
@needs_models
def test_clean_speech_rates_above_the_same_speech_in_noise(tmp_path, settings):
    x = espeak(tmp_path, "The camera pans slowly across the valley while the light changes. "
                         "A second shot holds still on the house, and then the music returns.")
    noisy = np.clip(x + np.random.default_rng(0).normal(0, 0.05, len(x)), -1, 1).astype(np.float32)
    clean, bad = run(x, settings, speech=speech_record(4.0)), run(noisy, settings, speech=speech_record(4.0))
    assert clean.bak_mos > bad.bak_mos + 1.0 and clean.ovrl_mos > bad.ovrl_mos + 0.5
    assert clean.p808_mos > bad.p808_mos
    assert clean.n_windows == 1 and clean.tiled == (len(x) < int(sq.WINDOW_S * sq.RATE))
    assert len(clean.ovrl_series.values) == 1


def test_no_speech_silence_and_no_audio_are_skipped(settings):
    tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(sq.RATE * 3) / sq.RATE)).astype(np.float32)
    with pytest.raises(OperatorSkipped, match="DNSMOS rates speech; the speech evidence found 0.0 s of voice"):
        run(tone, settings, speech=speech_record(0.0))
    with pytest.raises(OperatorSkipped, match="silent"):
        run(np.zeros(sq.RATE * 3, np.float32), settings)


def test_registry_and_taxonomy(settings):
    from evalverse.taxonomy import load_taxonomy

    op = sq.SpeechQualityOperator
    assert op.informs(load_taxonomy()) == ["vocal"]
    assert "PyPI speechmos" in op.backends[0].weights and op.backends[0].licence == "MIT"


@pytest.mark.slow
def test_log_mel_is_the_reference_librosa_features():
    """The P.808 input equals librosa's melspectrogram + power_to_db as the reference calls it (librosa 0.9's
    reflected frame padding; librosa's first call compiles numba code for about a minute, hence slow)."""
    librosa = pytest.importorskip("librosa")
    x = np.random.default_rng(1).normal(0, 0.1, 144_000).astype(np.float32)
    x[:50_000] *= 0.01
    mel = librosa.feature.melspectrogram(y=x, sr=16_000, n_fft=321, hop_length=160, n_mels=120, pad_mode="reflect")
    ref = ((librosa.power_to_db(mel, ref=np.max) + 40) / 40).T
    np.testing.assert_allclose(sq.log_mel(x), ref, atol=1e-5)
    np.testing.assert_allclose(sq.mel_filters(), librosa.filters.mel(sr=16_000, n_fft=321, n_mels=120), atol=1e-7)
