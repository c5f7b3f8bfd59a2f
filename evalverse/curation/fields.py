"""Annotation fields: what `suite annotate` writes per clip and per shot, read from the evidence through the
measure catalogue and the typed results (never from raw JSON), each with the operator, version and backend
that produced it.

A field is `{"value": v, "operator": "people", "version": "1.1", "backend": "mediapipe_pose", "source":
"people.shot_size"}`; when its operator did not run usefully the value is null and `status` / `why` say why
(so "no person was seen" and "the person detector did not run" never look alike). `source` is a catalogue
measure id, or a typed results path for what is not a scalar measure (the transcript, the palette, the
language), or for derived per-shot values the results it was computed from (voice activity, content series).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from evalverse import __version__
from evalverse.operators.evidence import Evidence

METADATA_VERSION = f"probe {__version__}"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    source: str  # "operator.path": a catalogue measure id or a typed results path
    description: str

    @property
    def operator(self) -> str:
        return self.source.split(".", 1)[0]

    @property
    def path(self) -> str:
        return self.source.split(".", 1)[1]


CLIP_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("duration_s", "metadata.duration_s", "duration"),
    FieldSpec("fps", "metadata.fps", "frame rate"),
    FieldSpec("width", "metadata.width", "display width"),
    FieldSpec("height", "metadata.height", "display height"),
    FieldSpec("has_audio", "metadata.has_audio", "an audio stream exists"),
    FieldSpec("audio_silent", "metadata.audio_silent", "the audio is digitally silent"),
    FieldSpec("n_shots", "shots.n_shots", "number of shots"),
    FieldSpec("mean_shot_s", "shots.mean_shot_s", "mean shot length (cut rhythm)"),
    FieldSpec("shot_length_cv", "shots.shot_length_cv", "variation of shot lengths (cut rhythm)"),
    FieldSpec("cuts", "shots.cuts", "cut times"),
    FieldSpec("shot_size", "people.shot_size", "shot size of the main person"),
    FieldSpec("person_fraction", "people.person_fraction", "share of frames with a person"),
    FieldSpec("max_people", "people.max_people", "most people in one frame"),
    FieldSpec("subject_prominence", "people.subject_prominence", "how prominent the main person is"),
    FieldSpec("camera_movement", "camera.dominant", "camera movement of the longest shot"),
    FieldSpec("handheld", "camera.handheld", "some shot reads as hand-held"),
    FieldSpec("n_moving_shots", "camera.n_moving_shots", "shots with camera movement"),
    FieldSpec("face_ratio", "faces.frames_with_face_ratio", "share of frames with a face"),
    FieldSpec("max_faces", "faces.max_faces", "most faces in one frame"),
    FieldSpec("n_identities", "faces.n_identities", "distinct face identities"),
    FieldSpec("voiced_s", "speech.voiced_s", "seconds of voice activity"),
    FieldSpec("speech_ratio", "speech.speech_ratio", "share of the clip that is speech"),
    FieldSpec("n_words", "speech.n_words", "transcribed words"),
    FieldSpec("language", "speech.language", "spoken language (ISO 639-1)"),
    FieldSpec("language_probability", "speech.language_probability", "confidence of the language"),
    FieldSpec("transcript", "speech.transcript", "what is said"),
    FieldSpec("speech_share", "audio.speech_share", "share of the track that is speech"),
    FieldSpec("music_share", "audio.music_share", "share of the track that is music"),
    FieldSpec("ambience_share", "audio.ambience_share", "share of the track that is ambience"),
    FieldSpec("loudness_lufs", "audio.loudness_lufs", "integrated loudness"),
    FieldSpec("lighting_key", "quality.exposure.key", "tonal key (low, normal, high)"),
    FieldSpec("mean_luma", "quality.exposure.mean_luma", "exposure: mean luma"),
    FieldSpec("dynamic_range_stops", "quality.exposure.dynamic_range_stops", "exposure: tonal range"),
    FieldSpec("clipped_shadows", "quality.exposure.clipped_shadows", "exposure: crushed blacks"),
    FieldSpec("clipped_highlights", "quality.exposure.clipped_highlights", "exposure: blown highlights"),
    FieldSpec("contrast_rms", "colour.contrast_rms", "RMS contrast"),
    FieldSpec("cct_k", "quality.colour_temperature.cct_k", "colour temperature"),
    FieldSpec("colourfulness", "colour.colourfulness", "colourfulness"),
    FieldSpec("saturation_mean", "colour.saturation_mean", "mean saturation"),
    FieldSpec("grayscale", "colour.grayscale", "black and white"),
    FieldSpec("palette", "colour.palette", "dominant colours with their shares"),
)

SHOT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("shot_size", "people.shots.shot_size", "shot size of the main person in the shot"),
    FieldSpec("person_fraction", "people.shots.person_fraction", "share of the shot's frames with a person"),
    FieldSpec("camera_movement", "camera.shots.label", "camera movement in the shot"),
    FieldSpec("handheld", "camera.shots.handheld", "the shot reads as hand-held"),
    FieldSpec("cct_k", "quality.colour_temperature.shots.cct_k", "colour temperature of the shot"),
    FieldSpec("palette", "colour.shots.palette", "dominant colours of the shot"),
    FieldSpec("voiced_s", "speech.vad_segments", "seconds of voice activity inside the shot"),
    FieldSpec("music_share", "audio.content_series", "share of the shot's audio windows labelled music"),
    FieldSpec("ambience_share", "audio.content_series", "share of the shot's audio windows labelled ambience"),
)

OPERATORS = ("shots", "camera", "colour", "quality", "people", "faces", "speech", "audio")  # what annotate runs


def _provenance(evidence: Evidence, operator: str) -> dict[str, Any]:
    if operator == "metadata":
        return {"operator": "metadata", "version": METADATA_VERSION, "backend": "ffprobe"}
    rec = evidence.record(operator)
    if rec is None:
        return {"operator": operator, "version": None, "backend": None, "status": "not_run",
                "why": f"the {operator} operator was not run"}
    out = {"operator": operator, "version": rec.version, "backend": rec.backend}
    if not rec.usable:
        out |= {"status": rec.status, "why": rec.message or rec.status}
    return out


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _palette(entries: Any, name_of: Callable[[str], str]) -> list[dict[str, Any]] | None:
    if entries is None:
        return None
    return [{"hex": p["hex"], "share": p["share"], "name": name_of(p["hex"])} for p in _plain(entries)]


def clip_fields(evidence: Evidence, name_of: Callable[[str], str]) -> dict[str, dict[str, Any]]:
    """Every clip field, read from `evidence` (its records and the probe's meta)."""
    from evalverse.operators.catalogue import load_catalogue
    from evalverse.operators.results import resolve

    catalogue = load_catalogue()
    out: dict[str, dict[str, Any]] = {}
    for spec in CLIP_FIELDS:
        prov = _provenance(evidence, spec.operator)
        if spec.source in catalogue:
            value = evidence.value(spec.source)
        else:
            typed = evidence.meta if spec.operator == "metadata" else evidence.typed(spec.operator)
            value = None if typed is None else _plain(resolve(typed, spec.path))
        if spec.name == "palette":
            value = _palette(value, name_of)
        if spec.name in ("transcript",) and isinstance(value, str):
            value = value.strip() or None
        out[spec.name] = {"value": value, **prov, "source": spec.source}
    return out


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def shot_rows(evidence: Evidence, name_of: Callable[[str], str]) -> list[dict[str, Any]]:
    """One row per shot of the shots evidence: index, start, end and every shot field."""
    from evalverse.operators.results import resolve

    shots = evidence.shots()
    by_field: dict[str, dict[int, Any]] = {}
    for spec in SHOT_FIELDS:
        typed = evidence.typed(spec.operator)
        if typed is None or spec.operator in ("speech", "audio"):
            continue
        by_field[spec.name] = {int(i): _plain(v) for i, v in resolve(typed, spec.path)}
    speech, audio = evidence.typed("speech"), evidence.typed("audio")
    rows = []
    for shot in shots:
        fields: dict[str, dict[str, Any]] = {}
        for spec in SHOT_FIELDS:
            prov = _provenance(evidence, spec.operator)
            if spec.operator == "speech":
                value = None if speech is None else round(sum(_overlap(s, e, shot.start, shot.end)
                                                              for s, e in speech.vad_segments), 3)  # type: ignore[attr-defined]
            elif spec.operator == "audio":
                value = None if audio is None else _window_share(audio.content_series, shot.start, shot.end,  # type: ignore[attr-defined]
                                                                 "music" if spec.name == "music_share" else "ambience")
            else:
                value = by_field.get(spec.name, {}).get(shot.index) if spec.name in by_field else None
            if spec.name == "palette":
                value = _palette(value, name_of)
            fields[spec.name] = {"value": value, **prov, "source": spec.source}
        rows.append({"index": shot.index, "start": round(shot.start, 3), "end": round(shot.end, 3),
                     "transition": shot.transition, "fields": fields})
    return rows


def _window_share(series: Any, start: float, end: float, label: str) -> float | None:
    """Share of the content series' windows centred inside [start, end) that carry `label` (None: no window).
    The series' times are window starts; the windows are `audio_dsp.content_features`' (2 s long)."""
    import inspect

    from evalverse.operators.audio_dsp import content_features

    half = float(inspect.signature(content_features).parameters["window_s"].default) / 2
    inside = [lab for t, lab in zip(series.times, series.labels) if start <= t + half < end]
    return round(sum(lab == label for lab in inside) / len(inside), 4) if inside else None


def field_value(fields: dict[str, dict[str, Any]], name: str) -> Any:
    entry = fields.get(name)
    return None if entry is None else entry.get("value")


def field_known(fields: dict[str, dict[str, Any]], name: str) -> bool:
    """The field's operator ran usefully (a null value then means "measured: none", not "unknown")."""
    entry = fields.get(name)
    return entry is not None and "status" not in entry
