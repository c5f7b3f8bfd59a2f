"""Audio operator on planted signals: BS.1770 loudness, clipping, a dropout, a click track, beeps, content
shares, cut-to-beat alignment, and the skip rules."""
from __future__ import annotations

import json
import shutil
import subprocess
import wave

import numpy as np
import pytest

from evalverse.media.synthetic import pulse_av_clip, silent_audio_clip, tone
from evalverse.operators import audio_dsp as dsp
from evalverse.operators.audio import AudioOperator
from evalverse.operators.base import OperatorSkipped
from operator_clips import audio_only, context, decode, make_video, run_results, shots_record, speech_record

SR = 16_000


def run(video, settings, **evidence):
    out = run_results(AudioOperator, context(video, settings, backend="numpy", **evidence))
    json.dumps(out)
    return out


def click_track(bpm=120.0, seconds=8.0, first=0.25):
    x = np.zeros(int(seconds * SR), np.float32)
    click = (np.hanning(160) * np.sin(2 * np.pi * 3000 * np.arange(160) / SR) * 0.8).astype(np.float32)
    times = np.arange(first, seconds - 0.05, 60.0 / bpm)
    for t in times:
        i = int(round(t * SR))
        x[i:i + 160] += click
    return x, times


def test_k_weighting_matches_bs1770_coefficients_at_48k():
    # ITU-R BS.1770-4, tables 1 and 2 (48 kHz)
    shelf_b, shelf_a = [1.53512485958697, -2.69169618940638, 1.19839281085285], [-1.69065929318241, 0.73248077421585]
    hp_a = [-1.99004745483398, 0.99007225036621]
    sos = dsp.k_weighting_sos(48_000)
    assert np.allclose(sos[0, :3], shelf_b, atol=1e-8) and np.allclose(sos[0, 4:], shelf_a, atol=1e-8)
    assert np.allclose(sos[1, :3], [1, -2, 1]) and np.allclose(sos[1, 4:], hp_a, atol=1e-8)


@pytest.mark.parametrize("dbfs", [0.0, -20.0])
def test_sine_loudness_matches_reference(settings, dbfs):
    # BS.1770: a full-scale 1 kHz sine reads -3.01 LUFS, so a sine at X dBFS peak reads X - 3.01
    x = tone(1000, 5.0, SR, amp=10 ** (dbfs / 20))
    out = run(audio_only(x), settings)
    assert out["loudness_lufs"] == pytest.approx(dbfs - 3.01, abs=1.0)
    assert out["sample_peak_dbfs"] == pytest.approx(dbfs, abs=0.05)
    assert out["clipped_share"] == 0.0


def test_loudness_gating_ignores_silence():
    x = tone(1000, 4.0, SR, amp=0.1)
    padded = np.concatenate([x, np.zeros(8 * SR, np.float32)])
    a, b = dsp.integrated_loudness(x, SR)["lufs"], dsp.integrated_loudness(padded, SR)["lufs"]
    assert b == pytest.approx(a, abs=0.2)  # the absolute gate drops the silent blocks


def test_clipped_sine_has_clipping(settings):
    x = np.clip(tone(440, 3.0, SR, amp=2.0), -1, 1)
    out = run(audio_only(x), settings)
    assert out["clipped_share"] > 0.3 and out["clipped_runs"] > 100
    assert out["true_peak_dbtp"] >= out["sample_peak_dbfs"] - 0.01


def test_one_second_hole_is_one_dropout_at_the_right_time(settings):
    x = tone(440, 6.0, SR, amp=0.5)
    x[2 * SR:3 * SR] = 0.0
    out = run(audio_only(x), settings)
    assert out["n_dropouts"] == 1
    d = out["dropouts"][0]
    assert d["start"] == pytest.approx(2.0, abs=0.03) and d["end"] == pytest.approx(3.0, abs=0.03)
    assert out["silence_share"] == pytest.approx(1 / 6, abs=0.02)
    # a tone that fades out slowly to silence is not a dropout
    y = tone(440, 6.0, SR, amp=0.5) * np.clip(np.linspace(3, -1, 6 * SR), 0, 1).astype(np.float32)
    y[5 * SR:] = 0
    y = np.concatenate([y, tone(440, 1.0, SR, amp=0.5)])
    assert run(audio_only(y), settings)["n_dropouts"] == 0


def test_click_track_tempo_and_beats(settings):
    x, clicks = click_track(120.0)
    out = run(audio_only(x), settings)
    assert out["rhythmic"] is True
    assert out["tempo_bpm"] == pytest.approx(120.0, abs=2.0)
    beats = np.array(out["beats"])
    assert len(beats) >= len(clicks) - 2
    nearest = np.abs(beats[:, None] - clicks[None]).min(axis=1)
    assert nearest.max() < 0.020


def test_other_tempo(settings):
    x, _ = click_track(90.0, seconds=10.0)
    assert run(audio_only(x), settings)["tempo_bpm"] == pytest.approx(90.0, abs=2.0)


def test_pulse_clip_onsets_at_beeps(tmp_path, settings):
    truth = pulse_av_clip(tmp_path / "p.mp4", offset_s=0.2, n_pulses=5).truth
    out = run(decode(tmp_path / "p.mp4", settings), settings)
    expected = np.array(truth["pulse_times"]) + truth["offset_s"]
    onsets = np.array(out["onsets"])
    assert len(onsets) == len(expected)
    assert np.abs(onsets - expected).max() < 0.03


def test_no_audio_and_digital_silence_are_skipped(tmp_path, settings):
    with pytest.raises(OperatorSkipped, match="no audio"):
        run(make_video(np.zeros((10, 16, 16, 3), np.uint8)), settings)
    silent_audio_clip(tmp_path / "s.mp4")
    with pytest.raises(OperatorSkipped, match="digitally silent"):
        run(decode(tmp_path / "s.mp4", settings), settings)
    from evalverse.operators.runner import run_one

    record = run_one(AudioOperator, audio_only(np.zeros(SR, np.float32)), settings, {}, {})
    assert record.status == "skipped" and "digitally silent" in record.message


def test_content_shares_tone_noise(settings):
    t = np.arange(8 * SR) / SR
    chord = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)).astype(np.float32)
    noise = (0.1 * np.random.default_rng(0).standard_normal(8 * SR)).astype(np.float32)
    m = run(audio_only(chord), settings)
    n = run(audio_only(noise), settings)
    assert m["music_share"] > 0.8 and n["ambience_share"] > 0.8
    assert m["content_source"] == "heuristic"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_content_shares_speech(tmp_path, settings):
    from scipy.signal import resample_poly

    wav = tmp_path / "s.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "The quick brown fox jumps over the lazy dog. Holidays are a time "
                    "of celebrating with loved ones, and we should all remember to call our families often."], check=True)
    with wave.open(str(wav)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16) / 32768.0
    out = run(audio_only(resample_poly(x, SR, rate).astype(np.float32)), settings)
    assert out["speech_share"] > 0.6 and out["music_share"] < 0.2


def test_voice_activity_from_speech_evidence_overrides_heuristic(settings):
    t = np.arange(8 * SR) / SR
    chord = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    out = run(audio_only(chord), settings, speech=speech_record(voiced_s=3.2, speech_ratio=0.4))
    assert out["speech_share"] == 0.4 and out["music_share"] == pytest.approx(0.6, abs=0.01)
    assert out["content_source"].startswith("speech evidence")


def test_cuts_on_the_beat_versus_off_the_beat(settings):
    x, clicks = click_track(120.0, seconds=8.0)
    n = 200  # 8 s at 25 fps
    on = shots_record([(0, 2.25, 0, 56), (2.25, 4.75, 56, 119), (4.75, 8.0, 119, n)])
    off = shots_record([(0, 2.5, 0, 62), (2.5, 4.5, 62, 112), (4.5, 8.0, 112, n)])
    a = run(audio_only(x, seconds=8.0), settings, shots=on)["cut_to_beat"]
    b = run(audio_only(x, seconds=8.0), settings, shots=off)["cut_to_beat"]
    assert a["n_cuts"] == 2 and a["aligned_share"] == 1.0 and a["alignment_score"] > 0.5
    assert b["aligned_share"] == 0.0 and b["alignment_score"] < 0
    assert a["chance_share"] == pytest.approx(0.16 / 0.5, abs=0.03)  # ±80 ms around a beat every 0.5 s
    single = run(audio_only(x, seconds=8.0), settings)["cut_to_beat"]
    assert single["n_cuts"] == 0


def test_audio_waits_for_speech_so_voice_activity_decides_the_speech_share():
    """Regression: audio did not list speech among its needs, so in a real run it never saw the speech evidence
    and its speech share was always the heuristic's (which hears birdsong as speech)."""
    from evalverse.operators.runner import resolve_order

    order = resolve_order(["audio"])
    assert "speech" in order and order.index("speech") < order.index("audio")
