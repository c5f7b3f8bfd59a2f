"""Speech quality as listeners rate it: Microsoft's DNSMOS, shipped in PyPI `speechmos` (MIT).

DNSMOS P.835 (Reddy, Gopal & Cutler, ICASSP 2022) predicts from 9.01 s of 16 kHz audio the three ITU-T P.835
opinion scores people give noisy, processed speech: SIG (the speech signal itself), BAK (background
intrusiveness) and OVRL (overall), each 1-5; DNSMOS P.808 adds one overall MOS. Both networks were trained on
crowdsourced P.835 / P.808 ratings. `speechmos` ships the ONNX models (`dnsmos_models/sig_bak_ovr.onnx`,
`model_v8.onnx`); this module runs them with onnxruntime, with the P.808 input (log-mel spectrogram) computed
in numpy the way the reference's librosa 0.9 call computes it (`log_mel`, checked against librosa in
`tests/test_speech_quality.py`), because speechmos's own scorer imports librosa, whose numba functions
compile for about a minute on first use. The polynomials mapping the P.835 network's outputs to MOS are the
reference's (`POLY`, from speechmos 0.0.1.1 `dnsmos.py`, MIT, Microsoft).

Windows: the models take exactly 9.01 s. The reference script slides that window in 1 s hops; here the
windows do not overlap (one per 9 s of audio, at most `max_windows`, spread evenly), which scores every part
of a clip once at a ninth of the cost. A clip shorter than 9.01 s is tiled to that length, as the reference
script does. DNSMOS rates speech: with the speech evidence reporting no voiced audio, the operator skips.
Shots are not used: a 9 s window is longer than most shots.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from evalverse.errors import UnavailableError
from evalverse.operators.base import Operator, OperatorContext, OperatorSkipped
from evalverse.operators.results import Results, Series
from evalverse.registry import Backend, package_file, register

P835_MODEL = ("speechmos", "dnsmos_models/sig_bak_ovr.onnx")
P808_MODEL = ("speechmos", "dnsmos_models/model_v8.onnx")
RATE = 16_000
WINDOW_S = 9.01  # the models' input length


class SpeechQualityResults(Results):
    sig_mos: float
    bak_mos: float
    ovrl_mos: float
    p808_mos: float
    ovrl_worst: float  # lowest overall MOS of any window
    n_windows: int
    tiled: bool  # the clip was shorter than one window and was repeated to fill it
    ovrl_series: Series = Series()  # overall MOS per window, at the window's centre


# DNSMOS P.835 (non-personalised) output -> MOS polynomials, highest power first (speechmos 0.0.1.1 dnsmos.py)
POLY = {
    "sig": (-0.08397278, 1.22083953, 0.0052439),
    "bak": (-0.13166888, 1.60915514, -0.39604546),
    "ovrl": (-0.06766283, 1.11546468, 0.04602535),
}
N_FFT, HOP, N_MELS = 321, 160, 120  # the P.808 model's features


def mel_filters(sr: int = RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) Slaney-scale, Slaney-normalised triangular filters (librosa.filters.mel's defaults)."""
    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        lin = f / (200.0 / 3)
        return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), lin)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))

    fft_f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]


def log_mel(x: np.ndarray) -> np.ndarray:
    """(frames, 120) features of the P.808 model: power mel spectrogram (periodic Hann, centred frames with
    reflected edges), dB relative to its maximum with an 80 dB floor, then (dB + 40) / 40."""
    x = np.asarray(x, dtype=np.float64)
    padded = np.pad(x, N_FFT // 2, mode="reflect")
    n = 1 + (len(padded) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    power = np.abs(np.fft.rfft(padded[idx] * window, axis=1)) ** 2  # (frames, bins)
    mel = power @ mel_filters().T
    db = 10.0 * np.log10(np.maximum(mel, 1e-10))
    db -= 10.0 * np.log10(max(float(mel.max()), 1e-10))
    db = np.maximum(db, db.max() - 80.0)
    return ((db + 40.0) / 40.0).astype(np.float32)


class Dnsmos:
    """The shipped P.835 and P.808 ONNX models: one 9.01 s window of 16 kHz audio -> (sig, bak, ovrl, p808) MOS."""

    def __init__(self, p835: str, p808: str) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1  # the scheduler counts this operator as one core
        self.p835 = ort.InferenceSession(p835, sess_options=opts, providers=["CPUExecutionProvider"])
        self.p808 = ort.InferenceSession(p808, sess_options=opts, providers=["CPUExecutionProvider"])

    def __call__(self, seg: np.ndarray) -> tuple[float, float, float, float]:
        seg = np.asarray(seg, dtype=np.float32)
        raw = self.p835.run(None, {"input_1": seg[None, :]})[0][0]
        p808 = float(self.p808.run(None, {"input_1": log_mel(seg[:-HOP])[None]})[0][0][0])
        sig, bak, ovrl = (float(np.polyval(POLY[k], float(v))) for k, v in zip(("sig", "bak", "ovrl"), raw))
        return sig, bak, ovrl, p808


def scorer() -> Dnsmos:
    """The DNSMOS models shipped in speechmos, loaded once per process and kept (evalverse.models.loaded;
    onnxruntime sessions are thread-safe, so one instance serves every thread)."""
    from evalverse.models import loaded

    primary, p808 = package_file(*P835_MODEL), package_file(*P808_MODEL)
    if primary is None or p808 is None:
        raise UnavailableError("speechmos is installed without its DNSMOS models "
                               "(pip install --no-deps speechmos==0.0.1.1)")
    return loaded.shared(f"dnsmos:{primary}", lambda: Dnsmos(str(primary), str(p808)))


def windows(n_samples: int, max_windows: int, rate: int = RATE) -> list[int]:
    """Start samples of non-overlapping WINDOW_S windows covering the audio, thinned evenly to `max_windows`."""
    length = int(WINDOW_S * rate)
    if n_samples <= length:
        return [0]
    starts = list(range(0, n_samples - length + 1, length))
    if n_samples - (starts[-1] + length) > length // 2:  # a long unscored tail gets a window ending at the end
        starts.append(n_samples - length)
    if len(starts) > max_windows:
        starts = [starts[i] for i in np.unique(np.linspace(0, len(starts) - 1, max_windows).round().astype(int))]
    return starts


def _voiced_seconds(record) -> float | None:
    """Voiced seconds per the speech evidence; None when it did not run usefully."""
    if record is None or not record.usable:
        return None
    return float(record.typed().voiced_s)  # type: ignore[union-attr]


def _probe(settings) -> str | None:
    if package_file(*P835_MODEL) is None or package_file(*P808_MODEL) is None:
        return "speechmos is installed without dnsmos_models/sig_bak_ovr.onnx and model_v8.onnx"
    return None


@register
class SpeechQualityOperator(Operator):
    name: ClassVar[str] = "speech_quality"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "Speech quality as listeners rate it: DNSMOS P.835 SIG (speech), BAK (background), OVRL (overall) and "
        "DNSMOS P.808 MOS, 1-5, from Microsoft's models trained on crowdsourced ratings; per 9 s window and clip.")
    evidence_kind: ClassVar[str] = "speech_quality"
    needs: ClassVar[tuple[str, ...]] = ("audio", "speech")
    results_model = SpeechQualityResults
    cost: ClassVar[float] = 0.4  # s per 10 s of 720p: one window, 0.29-0.34 s CPU (2026-12-01), after speech
    threads: ClassVar[int] = 1  # onnxruntime sessions limited to one thread
    default_params: ClassVar[dict[str, Any]] = {
        "max_windows": 12,  # about 2 minutes of audio scored in full; longer clips are sampled evenly
        "min_voiced_s": 1.0,  # less speech than this (per the speech evidence): nothing for DNSMOS to rate
    }
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend(name="dnsmos", weights="DNSMOS P.835 sig_bak_ovr.onnx + P.808 model_v8.onnx (Microsoft, trained on "
                "crowdsourced P.835/P.808 ratings), bundled in PyPI speechmos==0.0.1.1", licence="MIT",
                modules=("onnxruntime",), probe=_probe, fix="pip install --no-deps speechmos==0.0.1.1"),
    )

    @classmethod
    def warm(cls, settings, backend: str) -> None:
        """Load the DNSMOS sessions now (evalverse.operators.warm)."""
        scorer()

    def run(self, ctx: OperatorContext) -> SpeechQualityResults:
        p = {**self.default_params, **ctx.params}
        audio = ctx.video.audio
        if audio is None or len(audio) == 0:
            raise OperatorSkipped("the video has no audio stream")
        if ctx.video.audio_rate != RATE:
            raise UnavailableError(f"DNSMOS needs {RATE} Hz audio; the decoder gave {ctx.video.audio_rate} Hz")
        if float(np.max(np.abs(audio))) < 10 ** (-80 / 20):
            raise OperatorSkipped("the audio is silent (peak below -80 dBFS)")
        voiced = _voiced_seconds(ctx.evidence.get("speech"))
        if voiced is not None and voiced < float(p["min_voiced_s"]):
            raise OperatorSkipped(f"DNSMOS rates speech; the speech evidence found {voiced:.1f} s of voice")
        x = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
        length = int(WINDOW_S * RATE)
        model = scorer()
        rows = []
        for start in windows(len(x), int(p["max_windows"])):
            seg = x[start:start + length]
            tiled = len(seg) < length
            if tiled:
                seg = np.tile(seg, int(np.ceil(length / max(len(seg), 1))))[:length]
            centre = (start + min(length, len(x) - start) / 2) / RATE
            rows.append((centre, *model(seg)))
        a = np.array([r[1:] for r in rows])
        return SpeechQualityResults(
            sig_mos=round(float(a[:, 0].mean()), 4), bak_mos=round(float(a[:, 1].mean()), 4),
            ovrl_mos=round(float(a[:, 2].mean()), 4), p808_mos=round(float(a[:, 3].mean()), 4),
            ovrl_worst=round(float(a[:, 2].min()), 4), n_windows=len(rows), tiled=len(x) < length,
            ovrl_series=Series(times=[round(r[0], 3) for r in rows], values=[round(r[3], 4) for r in rows]),
        )
