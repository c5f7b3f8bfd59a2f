"""Test helpers for the classical operators: DecodedVideo objects built from planted frames/audio, or
decoded from synthetic files (through the media layer's `decode_video` when it exists)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from evalverse.config import Settings
from evalverse.media.types import DecodedVideo, Shot, VideoMeta
from evalverse.operators.base import EvidenceRecord, Operator, OperatorContext
from evalverse.operators.faces import FacesResults
from evalverse.operators.runner import validate_results
from evalverse.operators.shots import ShotsResults
from evalverse.operators.speech import SpeechResults


def make_video(frames: np.ndarray, fps: float = 25.0, audio: np.ndarray | None = None,
               stills: np.ndarray | None = None) -> DecodedVideo:
    frames = np.asarray(frames, dtype=np.uint8)
    n, h, w = frames.shape[:3]
    times = np.arange(n) / fps
    duration = n / fps if n else (len(audio) / 16_000 if audio is not None else 0.0)
    if audio is not None and not n:
        duration = len(audio) / 16_000
    meta = VideoMeta(path="synthetic", content_hash="0" * 64, size_bytes=0, container="raw", duration_s=duration,
                     fps=fps, n_frames=n, width=w, height=h, coded_width=w, coded_height=h, vcodec="rawvideo",
                     has_audio=audio is not None,
                     audio_silent=(bool(np.max(np.abs(audio)) < 10 ** (-90 / 20)) if audio is not None and len(audio) else None))
    if stills is None:
        idx = np.linspace(0, max(n - 1, 0), min(n, 4)).astype(int) if n else np.zeros(0, int)
        stills = frames[idx]
        still_times = times[idx]
    else:
        still_times = np.linspace(0, duration, len(stills))
    return DecodedVideo(meta=meta, frames=frames, times=times, stills=np.asarray(stills, np.uint8),
                        still_times=still_times, audio=None if audio is None else np.asarray(audio, np.float32))


def audio_only(audio: np.ndarray, seconds: float | None = None, fps: float = 25.0) -> DecodedVideo:
    """A video with a small black picture and the given 16 kHz audio."""
    seconds = seconds if seconds is not None else len(audio) / 16_000
    n = max(int(seconds * fps), 2)
    return make_video(np.zeros((n, 16, 16, 3), np.uint8), fps=fps, audio=audio)


def shots_record(spans: list[tuple[float, float, int, int]]) -> EvidenceRecord:
    """A `shots` evidence record like the shots operator's: [(start_s, end_s, start_frame, end_frame), ...]."""
    shots = [Shot(i, a, b, sf, ef, "start" if i == 0 else "cut").as_dict() for i, (a, b, sf, ef) in enumerate(spans)]
    results = ShotsResults(method="test", shots=shots, n_shots=len(shots), cuts=[s["start"] for s in shots[1:]])
    return EvidenceRecord(operator="shots", version="test", results=results.model_dump(mode="json"))


def context(video: DecodedVideo, settings: Settings, backend: str = "opencv", **evidence: EvidenceRecord) -> OperatorContext:
    return OperatorContext(video=video, settings=settings, backend=backend, evidence=dict(evidence))


def run_results(op: type[Operator], ctx: OperatorContext) -> dict[str, Any]:
    """Run an operator directly and return its results as stored: checked against its results model, as JSON."""
    out = op().run(ctx)
    assert isinstance(out, op.results_model), f"{op.name}.run returned {type(out).__name__}, not its results model"
    return validate_results(op, out).model_dump(mode="json")


def decode(path: Path, settings: Settings) -> DecodedVideo:
    """Decode with the media layer when it is there; else every frame and 16 kHz mono audio via PyAV."""
    try:
        from evalverse.media import decode_video  # type: ignore[attr-defined]
    except ImportError:
        decode_video = None
    if decode_video is not None:
        return decode_video(path, settings)
    return _decode_pyav(Path(path))


def _decode_pyav(path: Path) -> DecodedVideo:
    import av

    frames, times, audio = [], [], []
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        for f in c.decode(vs):
            frames.append(f.to_ndarray(format="rgb24"))
            times.append(float(f.time))
    with av.open(str(path)) as c:
        if c.streams.audio:
            res = av.AudioResampler(format="flt", layout="mono", rate=16_000)
            for f in c.decode(c.streams.audio[0]):
                for r in res.resample(f):
                    audio.append(r.to_ndarray().ravel())
            for r in res.resample(None):
                audio.append(r.to_ndarray().ravel())
    fr = np.stack(frames)
    fps = (len(times) - 1) / max(times[-1] - times[0], 1e-9) if len(times) > 1 else 25.0
    v = make_video(fr, fps=fps, audio=np.concatenate(audio) if audio else None)
    v.times = np.asarray(times) - times[0]
    return v


def speech_record(**fields: Any) -> EvidenceRecord:
    """A valid `speech` evidence record: an utterance-free result unless `fields` say otherwise
    (e.g. vad_segments=[[0.2, 7.8]], speech_ratio=0.4)."""
    results = SpeechResults.model_validate({"vad_model": "test", "duration_s": 8.0, "n_words": 0, "no_speech": False,
                                            "voiced_s": 0.0, "speech_ratio": 0.0, **fields})
    return EvidenceRecord(operator="speech", version="test", results=results.model_dump(mode="json"))


def faces_record(mouth_times: list[float] = (), mouth_values: list[float] = (), **fields: Any) -> EvidenceRecord:
    """A valid `faces` evidence record whose main face's mouth opening is the given series (no tracks)."""
    mouth = {"times": [float(t) for t in mouth_times], "values": [float(v) for v in mouth_values]}
    results = FacesResults.model_validate({
        "detector": "mediapipe", "embedder": "dlib_resnet_v1", "identity_metric": {"name": "euclidean", "threshold": 0.6},
        "frames_analysed": len(mouth["times"]), "frames_with_face_ratio": 1.0 if mouth["times"] else 0.0,
        "mean_faces": 1.0 if mouth["times"] else 0.0, "max_faces": 1 if mouth["times"] else 0, "n_embedded": 0,
        "n_tracks": 0, "n_identities": 0, "n_shots_with_faces": 0, "n_recurring_identities": 0,
        "identity_consistency": {"n_shots": 1}, "n_identity_switches": 0,
        "expression": {"mouth_open": mouth}, "mouth_open_series": mouth, **fields})
    return EvidenceRecord(operator="faces", version="test", results=results.model_dump(mode="json"))
