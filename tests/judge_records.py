"""Valid typed evidence records for the judge's tests.

`record("quality", sharpness=50.0, flicker={"detected": True})` starts from a complete, plausible results
dict for the operator, deep-merges the overrides, validates it against the operator's results model (so a
test cannot plant a key no operator reports) and returns the EvidenceRecord the runner would store.
`shots_record([2.0, 0.3, 3.7])` builds the shots evidence for those shot lengths; `meta(...)` a VideoMeta.
"""
from __future__ import annotations

import copy
from typing import Any

from evalverse.media.types import VideoMeta
from evalverse.operators.base import EvidenceRecord, results_model
from evalverse.operators.evidence import Evidence

BACKENDS = {"quality": "opencv", "shots": "classical", "faces": "mediapipe", "people": "mediapipe_pose",
            "features": "classical", "speech": "faster_whisper_base", "lipsync": "envelope", "camera": "opencv",
            "colour": "opencv", "audio": "numpy"}

DEFAULTS: dict[str, dict[str, Any]] = {
    "quality": {
        "sharpness": 400.0, "sharpness_cv": 0.1, "noise_sigma": 1.0, "blockiness": 1.0, "n_stills": 3,
        "exposure": {"mean_luma": 110.0, "median_luma": 105.0, "p1_luma": 10.0, "p99_luma": 240.0, "dynamic_range": 230.0,
                     "dynamic_range_stops": 4.6, "clipped_shadows": 0.0, "clipped_highlights": 0.0, "key": "normal"},
        "flicker": {"flicker_index": 0.001, "detected": False, "luma_jump_max": 2.0},
        "colour_temperature": {"cct_k": 5600.0, "std_k_within_shots": 40.0, "std_mired_within_shots": 2.0,
                               "max_drift_k": 60.0},
        "shots_source": "shots",
    },
    "shots": {"method": "classical", "n_shots": 1, "shots": [], "cuts": [], "transitions": []},
    "faces": {
        "detector": "mediapipe", "embedder": "dlib_resnet_v1", "identity_metric": {"name": "euclidean", "threshold": 0.6},
        "frames_analysed": 100, "frames_with_face_ratio": 1.0, "mean_faces": 1.0, "max_faces": 1, "n_embedded": 10,
        "n_tracks": 1, "n_identities": 1, "n_shots_with_faces": 1, "n_recurring_identities": 0,
        "identity_consistency": {"within_track_mean": 0.95, "n_shots": 1}, "n_identity_switches": 0,
        "expression": {"mouth_open": {"range": 0.1}, "brow_raise": {"range": 0.05}},
    },
    "people": {"backend": "mediapipe_pose", "shot_source": "shots", "sampled_frames": 16, "person_fraction": 1.0,
               "mean_people": 1.0, "max_people": 1, "mean_area_fraction": 0.3, "mean_centrality": 0.9,
               "subject_prominence": 0.5, "shot_size": "medium", "head_cut_fraction": 0.0},
    "features": {"backend": "classical", "shot_source": "shots", "sampled_frames": 16, "mean_to_previous_in_shot": 0.95,
                 "min_to_previous_in_shot": 0.9, "first_to_last": 0.8},
    "speech": {"vad_model": "silero", "duration_s": 4.0, "n_words": 8, "no_speech": False, "voiced_s": 3.0,
               "speech_ratio": 0.75, "language": "en", "language_probability": 0.99, "speaking_rate_wpm": 160.0},
    "lipsync": {"method": "envelope", "vad": "speech", "mouth_frames": 100,
                "envelope": {"offset_ms": 20.0, "confidence": 0.3, "peak_corr": 0.5, "zero_lag_corr": 0.4},
                "offset_ms": 20.0, "confidence": 0.3, "zero_lag_corr": 0.4, "detectable": False},
    "camera": {"shots": [{"index": 0, "start": 0.0, "end": 4.0, "label": "static", "handheld": False}], "n_shots": 1,
               "n_static_shots": 1, "n_moving_shots": 0, "n_handheld_shots": 0, "dominant": "static",
               "labels": ["static"], "shake_pct_w": 0.02, "smoothness": 1.0, "handheld": False, "shots_source": "shots"},
    "colour": {"harmony": {"template": "i", "score": 0.9}, "colourfulness": 30.0, "saturation_mean": 0.3,
               "contrast_rms": 0.2, "chroma_p95": 40.0, "grayscale": False, "saturated_share": 0.5,
               "cast": {"a": 1.0, "b": 2.0, "chroma": 2.2}, "colourfulness_cv": 0.05,
               "palette_consistency": {}, "shots_source": "shots"},
    "audio": {"duration_s": 4.0, "loudness_lufs": -20.0, "sample_peak_dbfs": -3.0, "true_peak_dbtp": -2.5,
              "clipped_share": 0.0, "clipped_runs": 0, "full_scale_share": 0.0, "silence_share": 0.0, "n_dropouts": 0,
              "speech_share": 0.5, "music_share": 0.0, "ambience_share": 0.5, "silent_window_share": 0.0,
              "content_source": "heuristic", "n_onsets": 10, "onset_rate_per_s": 2.5, "tempo_confidence": 0.0,
              "rhythmic": False, "cut_to_beat": {"reason": "one shot"}, "shots_source": "shots"},
}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def record(op: str, status: str = "ok", message: str | None = None, backend: str | None = None, **fields: Any
           ) -> EvidenceRecord:
    """A valid record of operator `op`; a status other than ok/partial carries no results."""
    if status not in ("ok", "partial"):
        return EvidenceRecord(operator=op, version="test", backend=backend or BACKENDS.get(op), status=status,
                              message=message)
    typed = results_model(op).model_validate(merge(DEFAULTS[op], fields))
    return EvidenceRecord(operator=op, version="test", backend=backend or BACKENDS.get(op), status=status,
                          message=message, results=typed.model_dump(mode="json"))


def shots_record(lengths: list[float], fps: float = 25.0) -> EvidenceRecord:
    """Shots evidence for consecutive shots of these lengths (seconds), with the operator's summary stats."""
    shots, t = [], 0.0
    for i, length in enumerate(lengths):
        shots.append({"index": i, "start": t, "end": t + length, "start_frame": round(t * fps),
                      "end_frame": round((t + length) * fps), "transition": "start" if i == 0 else "cut"})
        t += length
    mean = sum(lengths) / len(lengths)
    cv = (sum((x - mean) ** 2 for x in lengths) / len(lengths)) ** 0.5 / mean
    return record("shots", shots=shots, n_shots=len(lengths), cuts=[s["start"] for s in shots[1:]],
                  transitions=["cut"] * (len(lengths) - 1), mean_shot_s=mean, min_shot_s=min(lengths), shot_length_cv=cv)


def meta(**kw: Any) -> VideoMeta:
    base = dict(path="x.mp4", content_hash="h", size_bytes=1, container="mp4", duration_s=4.0, fps=25.0, n_frames=100,
                width=1280, height=720, coded_width=1280, coded_height=720, vcodec="h264", has_audio=False)
    return VideoMeta(**(base | kw))


def evidence(*records: EvidenceRecord, m: VideoMeta | None = None) -> Evidence:
    return Evidence({r.operator: r for r in records}, meta=m)
