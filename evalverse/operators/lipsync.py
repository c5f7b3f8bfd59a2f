"""Lip-sync: audio-visual offset (ms, positive = audio late) and a confidence, SyncNet-style.

Backends: `syncnet` (learned, needs syncnet_v2.model in the models folder) then `envelope` (classical:
the faces operator's mouth-opening series against the 300–3000 Hz speech envelope, within voiced
segments). Both search ±max_lag_ms and report the best lag with peak-minus-median confidence.
"""
from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from evalverse.operators import lipsync_core as core
from evalverse.operators import syncnet as sn
from evalverse.operators.base import EvidenceRecord, Operator, OperatorContext, OperatorSkipped
from evalverse.operators.faces import FacesResults
from evalverse.operators.results import Detail, Group, Results
from evalverse.operators.speech import SpeechResults
from evalverse.registry import Backend, register

# ITU-R BT.1359: an offset becomes detectable beyond 45 ms with sound early or 125 ms with sound late.
DETECTABLE_EARLY_MS, DETECTABLE_LATE_MS = 45.0, 125.0


class CorrelationCurve(Detail):
    lags_ms: list[float] = []
    corr: list[float] = []  # Pearson correlation at each lag (every second lag of the search)


class EnvelopeSync(Group):
    offset_ms: float | None = None
    confidence: float = 0.0
    peak_corr: float | None = None
    zero_lag_corr: float | None = None
    n_samples: int = 0
    curve: CorrelationCurve = CorrelationCurve()


class DistanceCurve(Detail):
    lags_ms: list[float] = []
    mean_distance: list[float] = []


class SyncnetSync(Group):
    offset_ms: float | None = None
    confidence: float = 0.0
    curve: DistanceCurve = DistanceCurve()


class LipsyncResults(Results):
    method: Literal["envelope", "syncnet"]
    vad: str  # where the voiced segments came from
    voiced_s: float | None = None
    mouth_frames: int
    envelope: EnvelopeSync
    syncnet: SyncnetSync | None = None
    offset_ms: float | None = None
    confidence: float = 0.0
    zero_lag_corr: float | None = None
    detectable: bool | None = None


def _typed(rec: EvidenceRecord | None) -> Any:
    """The record's typed results when it ran usefully, else None."""
    return rec.typed() if rec is not None else None


@register
class LipsyncOperator(Operator):
    name = "lipsync"
    version = "1.1.0"
    description = ("Audio-visual offset of the talking face in ms (positive: audio late) with a SyncNet-style "
                   "confidence (peak minus median over ±500 ms of lags), the correlation at zero lag and whether "
                   "the offset is beyond the ITU-R BT.1359 detectability window.")
    evidence_kind = "lipsync"
    cost = 0.01  # CPU seconds on talk10, warm, one worker (benchmarks/bench_evidence.py)
    needs = ("frames", "audio", "faces", "speech")  # speech only lends its voice-activity segments
    results_model = LipsyncResults
    default_params: ClassVar[dict[str, Any]] = {
        "max_lag_ms": 500.0,
        "grid_hz": 100.0,
        "use_diff": True,  # first differences: on real talking heads the raw series drift and mislead more
        "min_voiced_s": 1.0,
    }
    backends = (
        Backend(
            name="syncnet",
            weights=f"SyncNet v2 (joonson/syncnet_python) at <models_dir>/{sn.SYNCNET_WEIGHTS}",
            licence="MIT",
            modules=("torch",),
            files=(str(sn.SYNCNET_WEIGHTS),),
            fix="copy syncnet_v2.model (joonson/syncnet_python download_model.sh) to <models_dir>/syncnet/",
        ),
        Backend(
            name="envelope",
            weights="none (classical: mouth opening from the faces operator vs. speech-band envelope)",
            licence="n/a",
            modules=("scipy",),
        ),
    )

    def run(self, ctx: OperatorContext) -> LipsyncResults:
        p = {**self.default_params, **ctx.params}
        video = ctx.video
        if video.audio is None or len(video.audio) == 0:
            raise OperatorSkipped("the video has no audio stream")
        record = ctx.evidence.get("faces")
        faces: FacesResults | None = _typed(record)
        if faces is None:
            why = record.message if record is not None and record.message else "the faces operator did not run"
            raise OperatorSkipped(f"no face evidence to compare with the audio ({why})")
        mt, mv = faces.mouth_open_series.times, faces.mouth_open_series.values
        if len(mt) < 8:
            raise OperatorSkipped("no talking face: the mouth was measured in fewer than 8 frames")

        audio = np.asarray(video.audio, np.float32)
        rate = video.audio_rate
        voiced, vad_source = self._voiced(ctx, audio, rate)
        if voiced is not None:
            voiced_s = sum(e - s for s, e in voiced)
            if voiced_s < p["min_voiced_s"]:
                raise OperatorSkipped(f"too little speech to judge lip-sync ({voiced_s:.1f} s voiced)")

        env = core.sync_curve(mt, mv, audio, rate, voiced=voiced, max_lag_ms=p["max_lag_ms"],
                              grid_hz=p["grid_hz"], use_diff=p["use_diff"])
        out: dict[str, Any] = {
            "method": "envelope",
            "vad": vad_source,
            "voiced_s": round(float(sum(e - s for s, e in voiced)), 3) if voiced is not None else None,
            "mouth_frames": len(mt),
            "envelope": {"offset_ms": env.offset_ms, "confidence": env.confidence, "peak_corr": env.peak_corr,
                         "zero_lag_corr": env.zero_lag_corr, "n_samples": env.n_samples,
                         "curve": {"lags_ms": env.lags_ms[::2], "corr": env.corr[::2]}},
        }
        offset, conf = env.offset_ms, env.confidence
        if ctx.backend == "syncnet":
            boxes = faces.main_face.boxes
            model = sn.load_syncnet(ctx.settings.models_dir / sn.SYNCNET_WEIGHTS)
            crops = sn.face_crops(video.frames, np.asarray(video.times, float), boxes.times, boxes.boxes,
                                  duration=len(audio) / rate)
            s_off, s_conf, lags, dists = sn.syncnet_offset(model, crops, audio, rate, p["max_lag_ms"])
            out["method"] = "syncnet"
            out["syncnet"] = {"offset_ms": s_off, "confidence": round(s_conf, 4),
                              "curve": {"lags_ms": lags, "mean_distance": [round(d, 4) for d in dists]}}
            offset, conf = s_off, s_conf
        if offset is None:
            return LipsyncResults.model_validate(out | {
                "partial": True, "message": "the face and the speech overlap too little to estimate an offset",
                "offset_ms": None, "confidence": 0.0, "zero_lag_corr": env.zero_lag_corr})
        return LipsyncResults.model_validate(out | {
            "offset_ms": offset,
            "confidence": round(float(conf), 4),
            "zero_lag_corr": env.zero_lag_corr,
            "detectable": bool(offset < -DETECTABLE_EARLY_MS or offset > DETECTABLE_LATE_MS),
        })

    @staticmethod
    def _voiced(ctx: OperatorContext, audio: np.ndarray, rate: int) -> tuple[list[tuple[float, float]] | None, str]:
        speech: SpeechResults | None = _typed(ctx.evidence.get("speech"))
        if speech is not None:
            return [tuple(s) for s in speech.vad_segments], "speech evidence"
        try:
            from evalverse.operators.speech_models import voice_activity

            segs, source = voice_activity(audio, rate)
            return segs, source
        except Exception:  # no VAD here: correlate over the whole clip
            return None, "none"
