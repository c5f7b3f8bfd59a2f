"""Audio evidence: loudness, peaks and clipping, silences and dropouts, speech/music/ambience shares,
onsets, tempo and beats, and how the edit's cuts sit on the beat.

Everything runs on the media layer's 16 kHz mono downmix. Loudness is ITU-R BS.1770-4 (K-weighting
designed for 16 kHz, 400 ms gated blocks) on that single channel: an approximation of the programme
loudness (no per-channel weighting; energy above 8 kHz is gone). The speech/music/ambience shares are
classical heuristics (modulation, flatness, chroma persistence), not a trained classifier; when the
`speech` evidence carries a voice-activity ratio, that ratio is used for speech instead.
"""
from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from evalverse.operators import audio_dsp as dsp
from evalverse.operators.base import EvidenceRecord, Operator, OperatorContext, OperatorSkipped
from evalverse.operators.results import Detail, Group, Results, Series
from evalverse.operators.signal import cut_times, rnd, series, shot_spans
from evalverse.registry import Backend, register

SILENT_PEAK = 10 ** (-90 / 20)

ContentLabel = Literal["speech", "music", "ambience", "silence"]


class Silence(Detail):
    start: float
    end: float


class Dropout(Detail):
    start: float
    end: float
    duration: float
    level_before_db: float  # frame RMS level (dBFS) just before the signal cut out


class CutToBeat(Group):
    n_cuts: int = 0
    cut_beat_distance_ms: list[float] = []
    aligned_share: float | None = None
    chance_share: float | None = None
    lift: float | None = None
    alignment_score: float | None = None
    tolerance_ms: float | None = None
    reason: str | None = None  # why alignment was not measured


class ContentSeries(Detail):
    times: list[float] = []
    labels: list[ContentLabel] = []


class AudioResults(Results):
    duration_s: float
    loudness_lufs: float | None = None
    loudness_range_lu: float | None = None
    sample_peak_dbfs: float
    true_peak_dbtp: float
    clipped_share: float
    clipped_runs: int
    full_scale_share: float
    silence_share: float
    silences: list[Silence] = []  # the first 100
    dropouts: list[Dropout] = []  # the first 100
    n_dropouts: int
    speech_share: float
    music_share: float
    ambience_share: float
    silent_window_share: float
    content_source: str  # what decided the speech share
    onsets: list[float] = []  # the first 500, seconds
    n_onsets: int
    onset_rate_per_s: float
    tempo_bpm: float | None = None
    tempo_confidence: float
    rhythmic: bool
    beats: list[float] = []  # the first 1000, seconds
    cut_to_beat: CutToBeat
    loudness_series: Series = Series()
    content_series: ContentSeries = ContentSeries()
    shots_source: str


def speech_ratio_from(evidence: dict[str, EvidenceRecord]) -> float | None:
    """The voice-activity share (0–1 of the duration) from the speech evidence, when speech ran."""
    record = evidence.get("speech")
    value = record.value("speech_ratio") if record is not None else None
    return float(value) if isinstance(value, (int, float)) and 0 <= value <= 1 else None


@register
class AudioOperator(Operator):
    name: ClassVar[str] = "audio"
    version: ClassVar[str] = "1.2.0"
    description: ClassVar[str] = (
        "Sound: BS.1770 loudness (LUFS, LRA) on the 16 kHz mono downmix, sample/true-ish peak and clipping, "
        "silences and dropouts with times, heuristic speech/music/ambience shares, onsets (spectral flux), "
        "tempo and beats (autocorrelation + dynamic programming), cut-to-beat alignment against chance."
    )
    evidence_kind: ClassVar[str] = "audio"
    cost = 0.02  # CPU seconds on talk10, warm, one worker (benchmarks/bench_evidence.py)
    needs: ClassVar[tuple[str, ...]] = ("audio", "shots", "speech")  # speech: its voice-activity ratio decides speech_share
    results_model = AudioResults
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend(name="numpy", weights="none (classical signal processing)", licence="Apache-2.0",
                modules=("scipy",), fix="pip install scipy"),
    )
    default_params: ClassVar[dict[str, Any]] = {
        "silence_db": -50.0,  # frame RMS below this (dBFS) is silence
        "clip_level": 0.995,  # |sample| at or above this counts as clipped
        "beat_tolerance_s": 0.08,  # a cut within this of a beat is "on the beat"
        "min_tempo_confidence": 0.1,  # below: the audio is not rhythmic enough to report beats
    }

    def run(self, ctx: OperatorContext) -> AudioResults:
        p = {**self.default_params, **ctx.params}
        video = ctx.video
        x = video.audio
        if x is None or len(x) == 0:
            raise OperatorSkipped("the video has no audio stream")
        x = np.asarray(x, dtype=np.float32)
        if video.meta.audio_silent or float(np.max(np.abs(x))) < SILENT_PEAK:
            raise OperatorSkipped("digitally silent: the audio stream has no sample above -90 dBFS")
        rate = int(video.audio_rate)
        duration = len(x) / rate

        loud = dsp.integrated_loudness(x, rate)
        peak = dsp.peaks(x, float(p["clip_level"]))
        levels = dsp.frame_levels(x, rate)
        quiet = dsp.silences(levels, float(p["silence_db"]))

        feats = dsp.content_features(x, rate)
        labels = dsp.classify_windows(feats, float(p["silence_db"]))
        shares = self._shares(labels, quiet["silence_share"], speech_ratio_from(ctx.evidence))

        env, env_t = dsp.onset_envelope(x, rate)
        onsets = dsp.pick_onsets(env, env_t)
        # tempo and beats on a 10 ms envelope (pairs of 5 ms values summed)
        m = len(env) // 2 * 2
        env10, t10 = env[:m].reshape(-1, 2).sum(axis=1), env_t[:m].reshape(-1, 2).mean(axis=1)
        bpm, conf = dsp.estimate_tempo(env10, float(t10[1] - t10[0]) if len(t10) > 1 else 0.01)
        rhythmic = bool(bpm is not None and conf >= float(p["min_tempo_confidence"]) and len(onsets) >= 4)
        beats = dsp.track_beats(env10, t10, bpm) if rhythmic else np.zeros(0)
        spans, source = shot_spans(video, ctx.evidence)
        align = dsp.cut_beat_alignment(cut_times(spans), beats, duration, float(p["beat_tolerance_s"]))

        mom = loud["momentary"]
        results = {
            "duration_s": duration,
            "loudness_lufs": loud["lufs"],
            "loudness_range_lu": loud["lra"],
            **peak,
            "silence_share": quiet["silence_share"],
            "silences": quiet["silences"][:100],
            "dropouts": quiet["dropouts"][:100],
            "n_dropouts": len(quiet["dropouts"]),
            **shares,
            "onsets": onsets[:500].tolist(),
            "n_onsets": int(len(onsets)),
            "onset_rate_per_s": float(len(onsets) / duration) if duration else 0.0,
            "tempo_bpm": bpm if rhythmic else None,
            "tempo_confidence": conf,
            "rhythmic": rhythmic,
            "beats": beats[:1000].tolist(),
            "cut_to_beat": align,
            "loudness_series": series(0.2 + 0.1 * np.arange(len(mom)), mom, 1),
            "content_series": {"times": [float(t) for t in feats["start"][:200]], "labels": labels[:200]},
            "shots_source": source,
        }
        return AudioResults.model_validate(rnd(results, 3))

    @staticmethod
    def _shares(labels: list[str], silence_share: float, vad_ratio: float | None) -> dict[str, Any]:
        counts = {k: labels.count(k) for k in ("speech", "music", "ambience", "silence")}
        total = max(len(labels), 1)
        shares = {f"{k}_share": counts[k] / total for k in ("speech", "music", "ambience")}
        shares["silent_window_share"] = counts["silence"] / total  # the four shares sum to 1
        source = "heuristic"
        if vad_ratio is not None:
            # voice activity decides speech; the rest of the non-silent time keeps the heuristic's music/ambience split
            rest = max(0.0, 1.0 - vad_ratio - silence_share)
            other = counts["music"] + counts["ambience"]
            shares = {"speech_share": vad_ratio,
                      "music_share": rest * counts["music"] / other if other else 0.0,
                      "ambience_share": rest * counts["ambience"] / other if other else rest,
                      "silent_window_share": min(silence_share, 1.0 - vad_ratio)}
            source = "speech evidence (voice activity) + heuristic"
        return {**shares, "content_source": source}
