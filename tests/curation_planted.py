"""Planted annotation records for the suite builder's tests: fields set by hand (operator "planted"), so a
test says exactly which facts a clip has and which are unknown."""
from __future__ import annotations

from typing import Any

from evalverse.curation.fields import CLIP_FIELDS, SHOT_FIELDS

UNKNOWN = object()  # a field whose operator did not run


def _entry(name: str, value: Any, source: str) -> dict[str, Any]:
    if value is UNKNOWN:
        return {"value": None, "operator": source.split(".")[0], "version": "0", "backend": None, "source": source,
                "status": "unavailable", "why": "planted: not run"}
    return {"value": value, "operator": source.split(".")[0], "version": "0", "backend": "planted", "source": source}


BASE = {"duration_s": 6.2, "fps": 25.0, "width": 640, "height": 360, "has_audio": True, "audio_silent": False,
        "n_shots": 1, "mean_shot_s": 6.2, "shot_length_cv": 0.0, "cuts": [], "shot_size": None,
        "person_fraction": 0.0, "max_people": 0, "subject_prominence": 0.0, "camera_movement": "static",
        "handheld": False, "n_moving_shots": 0, "face_ratio": 0.0, "max_faces": 0, "n_identities": 0,
        "voiced_s": 0.0, "speech_ratio": 0.0, "n_words": 0, "language": None, "language_probability": None,
        "transcript": None, "speech_share": 0.0, "music_share": 0.0, "ambience_share": 0.0, "loudness_lufs": -23.0,
        "lighting_key": "normal", "mean_luma": 110.0, "dynamic_range_stops": 6.0, "clipped_shadows": 0.0,
        "clipped_highlights": 0.0, "contrast_rms": 0.2, "cct_k": 5500.0, "colourfulness": 40.0,
        "saturation_mean": 0.3, "grayscale": False,
        "palette": [{"hex": "#1f3a93", "share": 0.5, "name": "blue"}, {"hex": "#e8e0c0", "share": 0.3, "name": "beige"}]}
SHOT_BASE = {"shot_size": None, "person_fraction": 0.0, "camera_movement": "static", "handheld": False,
             "cct_k": 5500.0, "palette": [{"hex": "#1f3a93", "share": 1.0, "name": "blue"}], "voiced_s": 0.0,
             "music_share": 0.0, "ambience_share": 0.0}


def record(clip: str = "c", sha: str | None = None, shots: list[dict[str, Any]] | None = None,
           **values: Any) -> dict[str, Any]:
    """A record with BASE's fields overridden by `values` (UNKNOWN: the operator did not run) and one shot per
    entry of `shots` (each a dict of SHOT_BASE overrides plus start/end); one whole-clip shot by default."""
    v = BASE | values
    fields = {s.name: _entry(s.name, v[s.name], s.source) for s in CLIP_FIELDS}
    shots = shots if shots is not None else [{"start": 0.0, "end": float(v["duration_s"] or 1.0)}]
    rows = []
    for i, s in enumerate(shots):
        sv = SHOT_BASE | {k: x for k, x in s.items() if k not in ("start", "end")}
        rows.append({"index": i, "start": s["start"], "end": s["end"], "transition": "cut" if i else "start",
                     "fields": {f.name: _entry(f.name, sv[f.name], f.source) for f in SHOT_FIELDS},
                     "keyframe": {"path": f"k/{clip}_{i}.jpg", "time_s": (s["start"] + s["end"]) / 2, "frame": i,
                                  "width": 64, "height": 36, "phash": s.get("phash", f"{i:016x}")}})
    return {"clip": clip, "path": f"/library/{clip}.mp4", "file": f"{clip}.mp4", "sha256": sha or (clip * 64)[:64],
            "size_bytes": 1000, "annotation_key": "k", "annotated_at": "2026-01-01T00:00:00+00:00", "operators": {},
            "fields": fields, "shots": rows}
