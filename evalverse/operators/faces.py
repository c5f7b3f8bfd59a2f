"""Faces: detection, tracks, identity consistency and expression dynamics (incl. the mouth-opening series
that lip-sync uses).

Two passes over the analysis frames:
- dense (every frame up to `mesh_fps`): the 478-point mesh of the main face on every frame (mouth opening,
  eye openness, brow raise: lip-sync needs the full rate) and the faces of every frame. The MediaPipe
  detector runs on every k-th frame (`detect_fps`, 5 by default), on each shot's first and last frame and
  wherever the mesh loses, finds or jumps off a face; a face found by two detector frames in a row is
  filled in between (box interpolated), a face found by one only is not carried.
- identity: ArcFace (insightface backend) or dlib ResNet (mediapipe backend) embeddings of the faces that
  need one: per track (linked by overlap) that the detector saw twice or more, its first detected face,
  then one each `identity_every_s`, at most `max_embeddings` per clip; then tracklets (0.7·cosine +
  0.3·IoU), switches inside tracks, identities by clustering.
"""
from __future__ import annotations

import math
from contextlib import ExitStack
from typing import Any, ClassVar, Literal

import numpy as np

from evalverse.errors import InputError
from evalverse.operators import face_models as fm
from evalverse.operators import face_tracking as ft
from evalverse.operators.base import Operator, OperatorContext
from evalverse.operators.evidence import Evidence
from evalverse.operators.results import Detail, Group, Results, Series
from evalverse.registry import Backend, register


class FaceCount(Detail):
    times: list[float] = []
    counts: list[int] = []


class IdentityMetricInfo(Group):
    name: Literal["euclidean", "cosine"]
    threshold: float


class FaceTrack(Detail):
    id: int
    shot: int | None = None
    start: float
    end: float
    n_detections: int
    n_embeddings: int
    identities: list[int] = []
    area_fraction_mean: float
    center_mean: list[float]  # x, y as fractions of the frame
    consistency_mean: float | None = None
    consistency_min: float | None = None


class FaceIdentity(Detail):
    id: int
    tracks: list[int] = []
    shots: list[int] = []
    screen_time_s: float
    across_shot_similarity: float | None = None


class IdentityConsistency(Group):
    within_track_mean: float | None = None
    within_track_min: float | None = None
    across_shots_mean: float | None = None
    across_shots_min: float | None = None
    n_shots: int


class IdentitySwitch(Detail):
    track: int
    time: float
    distance: float


class FaceBoxes(Detail):
    times: list[float] = []
    boxes: list[list[float]] = []  # normalised x1, y1, x2, y2


class MainFace(Group):
    area_fraction_mean: float | None = None
    area_fraction_min: float | None = None
    area_fraction_max: float | None = None
    center_mean: list[float] | None = None
    center_std: list[float] | None = None
    boxes: FaceBoxes = FaceBoxes()


class ExpressionSeries(Group):
    times: list[float] = []
    values: list[float] = []
    mean: float | None = None
    std: float | None = None
    range: float | None = None
    jumps: int = 0
    jump_times: list[float] = []
    max_jump: float | None = None


class Expression(Group):
    mouth_open: ExpressionSeries = ExpressionSeries()
    eye_open: ExpressionSeries = ExpressionSeries()
    brow_raise: ExpressionSeries = ExpressionSeries()


class FacesResults(Results):
    detector: Literal["mediapipe", "scrfd"]
    embedder: Literal["arcface_w600k_r50", "dlib_resnet_v1"]
    identity_metric: IdentityMetricInfo
    frames_analysed: int
    analysis_fps: float | None = None
    frames_detected: int | None = None  # dense frames the detector ran on (faces in between are filled from them)
    face_count: FaceCount = FaceCount()
    frames_with_face_ratio: float
    mean_faces: float
    max_faces: int
    n_embedded: int
    tracks: list[FaceTrack] = []
    n_tracks: int
    identities: list[FaceIdentity] = []
    n_identities: int
    n_shots_with_faces: int  # shots in which an identity appears
    n_recurring_identities: int  # identities seen in two or more shots
    identity_consistency: IdentityConsistency
    identity_switches: list[IdentitySwitch] = []
    n_identity_switches: int
    main_face: MainFace = MainFace()
    expression: Expression = Expression()
    mouth_open_series: Series = Series()
    notes: list[str] = []


def _sample_indices(times: np.ndarray, fps: float, cap: int | None = None) -> list[int]:
    """Frame indices at about `fps` (never more than there are), evenly spread, at most `cap`."""
    n = len(times)
    if n == 0:
        return []
    span = float(times[-1] - times[0]) if n > 1 else 0.0
    want = max(int(math.floor(span * fps)) + 1, 1)
    if cap is not None:
        want = min(want, cap)
    if want >= n:
        return list(range(n))
    return sorted({int(round(x)) for x in np.linspace(0, n - 1, want)})


def _shot_starts(ctx: OperatorContext) -> list[float]:
    """Shot start times from the `shots` evidence (the one shot source); [0.0] when it did not run."""
    return sorted({float(s.start) for s in Evidence(ctx.evidence).shots()} | {0.0})


@register
class FacesOperator(Operator):
    name = "faces"
    version = "1.2.0"
    description = ("Face detection per frame, tracks, distinct identities, identity consistency within tracks and "
                   "across shots, identity switches, face size/position, expression dynamics from a 478-point mesh "
                   "(mouth opening, eye openness, brow raise) and the mouth-opening series for lip-sync.")
    evidence_kind = "faces"
    cost = 1.53  # CPU seconds on talk10, warm, one worker (benchmarks/bench_evidence.py)
    needs = ("frames", "shots")  # shots only split tracks and give cross-shot consistency
    results_model = FacesResults
    default_params: ClassVar[dict[str, Any]] = {
        "mesh_fps": 25.0,  # dense pass rate (mesh every frame; faces detected or filled); lip-sync wants >= 12
        "detect_fps": 5.0,  # detector rate inside the dense pass (~4 ms a frame), more where the mesh sees a change
        "identity_every_s": 1.0,  # one embedding per track per this many seconds (the first one at its start)
        "max_embeddings": 24,  # faces embedded per video (dlib ~40 ms each on CPU)
        "min_confidence": 0.5,
        "min_face_fraction": 0.0005,  # ignore faces smaller than this share of the frame
        "max_gap_s": 0.5,
    }
    backends = (
        Backend(
            name="insightface",
            weights=f"InsightFace buffalo_l (SCRFD det_10g + ArcFace w600k_r50) in <models_dir>/{fm.BUFFALO_DIR}; "
                    "mesh from MediaPipe 0.10.14",
            licence="buffalo_l: non-commercial research only (InsightFace model licence); code MIT",
            modules=("insightface", "onnxruntime"),
            files=(str(fm.BUFFALO_DET), str(fm.BUFFALO_REC)),
            fix="copy buffalo_l (det_10g.onnx, w600k_r50.onnx) into <models_dir>/insightface/models/buffalo_l/",
        ),
        Backend(
            name="mediapipe",
            weights="bundled in PyPI mediapipe==0.10.14 (face detection, 478-point face mesh); identity: dlib ResNet "
                    "+ 5-point predictor from PyPI face_recognition_models==0.3.0",
            licence="mediapipe Apache-2.0; face_recognition_models CC0 (the 68-point model, unused here, "
                    "restricts commercial use); dlib Boost",
            modules=("mediapipe", "dlib"),
            fix="pip install mediapipe==0.10.14 face-recognition-models dlib-bin",
            probe=fm.dlib_problem,
        ),
    )

    @classmethod
    def warm(cls, settings, backend: str) -> None:
        """Load this backend's models now (evalverse.operators.warm), so the first clip finds them loaded."""
        with fm.mediapipe_faces(min_confidence=cls.default_params["min_confidence"]):
            pass
        if backend == "insightface":
            fm.insightface_models(settings.models_dir / fm.BUFFALO_DET, settings.models_dir / fm.BUFFALO_REC,
                                  root=settings.models_dir / "insightface")
        else:
            with fm.dlib_embedder():
                pass

    def run(self, ctx: OperatorContext) -> FacesResults:
        p = {**self.default_params, **ctx.params}
        video = ctx.video
        frames, times = video.frames, np.asarray(video.times, float)
        if frames is None or len(frames) == 0:
            raise InputError("faces: the video has no decoded frames")
        dense_idx = _sample_indices(times, p["mesh_fps"])
        shot_starts = _shot_starts(ctx)
        notes: list[str] = []
        with ExitStack() as stack:
            mp_faces = None
            try:
                mp_faces = stack.enter_context(fm.mediapipe_faces(min_confidence=p["min_confidence"]))
            except Exception as exc:  # mesh and dense counts are then missing; identity may still run
                if ctx.backend == "mediapipe":
                    raise
                notes.append(f"mediapipe unavailable ({exc}): no mesh, SCRFD detection only")
            if ctx.backend == "insightface":
                models = fm.insightface_models(ctx.settings.models_dir / fm.BUFFALO_DET,
                                               ctx.settings.models_dir / fm.BUFFALO_REC,
                                               root=ctx.settings.models_dir / "insightface")
                embedder_name = "arcface_w600k_r50"
            else:
                models = stack.enter_context(fm.dlib_embedder())
                embedder_name = "dlib_resnet_v1"
            metric = models.metric
            detect = (mp_faces.detect if mp_faces is not None
                      else lambda img, i, t: models.detect(img, i, t, embed=False))
            per_frame, mesh_rows, looked = _dense_pass(frames, times, dense_idx, shot_starts, detect, mp_faces, p)
            # identity: embed only the faces that need it, chosen on tracks linked by overlap alone
            draft = ft.build_tracks(per_frame, metric, shot_starts, max_gap_s=p["max_gap_s"])
            chosen = ft.embedding_plan(draft, every_s=p["identity_every_s"], cap=p["max_embeddings"])
            if ctx.backend == "insightface":
                n_embedded = _embed_scrfd(chosen, per_frame, looked, dense_idx, times, frames, models, p)
            else:
                n_embedded = _embed(chosen, frames, models)

        return _summarise(per_frame, [float(times[i]) for i in dense_idx], mesh_rows, metric, shot_starts,
                          (frames.shape[2], frames.shape[1]), p, embedder_name, n_embedded, notes,
                          mesh=mp_faces is not None, n_detected=len(looked))


def _dense_pass(frames, times, dense_idx, shot_starts, detect, mp_faces, p):
    """The mesh on every dense frame; the detector on every k-th frame (`detect_fps`), on each shot's first
    and last frame, wherever the mesh loses, finds or jumps off a face, and between two detector frames
    whose faces do not all pair up (halving the gap until they do or it is one frame); faces found by two
    detector frames in a row are filled in between (ft.fill_between). Returns the per-frame faces, the
    mesh measures and the dense positions the detector saw."""
    h, w = frames.shape[1:3]
    min_area = p["min_face_fraction"] * w * h
    n = len(dense_idx)
    span = float(times[dense_idx[-1]] - times[dense_idx[0]]) if n > 1 else 0.0
    dense_fps = (n - 1) / span if span > 0 else 1.0
    every = max(1, int(round(dense_fps / max(float(p["detect_fps"]), 1e-6))))
    shot = [ft.shot_of(float(times[i]), shot_starts) for i in dense_idx]
    per_frame: list[list[ft.Detection] | None] = [None] * n
    mesh_rows: list[tuple[float, dict[str, float]]] = []
    looked: list[int] = []
    mesh_prev = None
    for pos, i in enumerate(dense_idx):
        img, t = frames[i], float(times[i])
        mesh_box = None
        if mp_faces is not None:
            meshes = mp_faces.mesh(img)
            if meshes:
                mesh_rows.append((t, ft.expression_measures(meshes[0])))
                mesh_box = ft.landmarks_box(meshes[0])
        edge = pos == 0 or pos == n - 1 or shot[pos] != shot[pos - 1] or shot[pos] != shot[min(pos + 1, n - 1)]
        changed = (mesh_box is None) != (mesh_prev is None) or (
            mesh_box is not None and mesh_prev is not None and ft.iou(mesh_box, mesh_prev) < 0.3)
        if mp_faces is None or edge or changed or pos - looked[-1] >= every:
            per_frame[pos] = [d for d in detect(img, i, t) if d.area >= min_area]
            looked.append(pos)
        mesh_prev = mesh_box

    def look(pos: int) -> None:
        i = int(dense_idx[pos])
        per_frame[pos] = [d for d in detect(frames[i], i, float(times[i])) if d.area >= min_area]
        looked.append(pos)

    # where a face comes, goes or moves too far between two looks, look half-way until it is pinned down
    # (to the frame): the detector runs densely only where the faces change
    pending = list(zip(looked, looked[1:]))
    while pending:
        a, b = pending.pop()
        if b - a > 1 and shot[a] == shot[b] and ft.match_faces(per_frame[a], per_frame[b])[1]:
            m = (a + b) // 2
            look(m)
            pending += [(a, m), (m, b)]
    looked.sort()
    for a, b in zip(looked, looked[1:]):
        if b - a > 1 and shot[a] == shot[b]:
            between = [(int(dense_idx[k]), float(times[dense_idx[k]])) for k in range(a + 1, b)]
            per_frame[a + 1:b] = ft.fill_between(per_frame[a], per_frame[b], between)
    return [d if d is not None else [] for d in per_frame], mesh_rows, looked


def _embed(chosen: list[ft.Detection], frames: np.ndarray, models) -> int:
    """dlib identity embeddings for the chosen detector-frame faces; returns how many were embedded."""
    for d in chosen:
        d.embedding = models.embed(frames[d.frame], d.box)
    return len(chosen)


def _embed_scrfd(chosen, per_frame, looked, dense_idx, times, frames, models, p) -> int:
    """ArcFace aligns on SCRFD's key points, so SCRFD runs on the frames of the chosen faces and, to find
    faces MediaPipe missed, on detector frames spread one per `identity_every_s` (at most `max_embeddings`
    frames in all); its faces give their embeddings to the overlapping faces there and join the frame's
    faces where nothing overlaps. Returns how many faces got an embedding."""
    pos_of = {int(dense_idx[k]): k for k in looked}
    frames_wanted = [pos_of[d.frame] for d in chosen if d.frame in pos_of]
    last = None
    for k in looked:
        t = float(times[dense_idx[k]])
        if last is None or t - last >= p["identity_every_s"] - 1e-6:
            frames_wanted.append(k)
            last = t
    n = 0
    for k in list(dict.fromkeys(frames_wanted))[: int(p["max_embeddings"])]:
        i = int(dense_idx[k])
        found = [f for f in models.detect(frames[i], i, float(times[i]), embed=True)
                 if f.area >= p["min_face_fraction"] * frames.shape[1] * frames.shape[2]]
        per_frame[k] = _attach(per_frame[k], found)
        n += sum(d.embedding is not None for d in per_frame[k])
    return n


def _attach(dense: list[ft.Detection], found: list[ft.Detection]) -> list[ft.Detection]:
    """Give dense (MediaPipe) detections the embeddings of overlapping SCRFD detections; keep SCRFD-only faces."""
    used = set()
    for d in dense:
        best = max(((ft.iou(d.box, f.box), j) for j, f in enumerate(found) if j not in used), default=(0.0, -1))
        if best[0] >= 0.3:
            used.add(best[1])
            d.embedding, d.kps = found[best[1]].embedding, found[best[1]].kps
    return dense + [f for j, f in enumerate(found) if j not in used]


def _summarise(per_frame, dense_times, mesh_rows, metric: ft.IdentityMetric, shot_starts, size, p,
               embedder_name, n_embedded, notes, mesh: bool, n_detected: int) -> FacesResults:
    w, h = size
    counts = [len(d) for d in per_frame]
    tracks = ft.build_tracks(per_frame, metric, shot_starts, max_gap_s=p["max_gap_s"])

    # identities: cluster runs of one identity (tracks split at switches), then map back to tracks and shots
    runs, run_track = [], []
    switches = []
    for tr in tracks:
        switches += ft.identity_switches(tr, metric)
        for r in ft.split_at_switches(tr, metric):
            runs.append(ft.centroid(r))
            run_track.append(tr.id)
    labels = ft.cluster_identities(runs, metric)
    track_ids: dict[int, set[int]] = {}
    for lab, tid in zip(labels, run_track):
        track_ids.setdefault(tid, set()).add(lab)

    identities = []
    across = []
    for lab in sorted(set(labels)):
        members = [tr for tr in tracks if lab in track_ids.get(tr.id, set())]
        shots = sorted({tr.shot for tr in members if tr.shot is not None})
        screen = sum(tr.end - tr.start for tr in members)
        shot_centroids = []
        for s in shots:
            embs = [e for tr in members if tr.shot == s for _, e in tr.embeddings]
            if embs:
                shot_centroids.append(ft.centroid(embs))
        sims = [ft.cosine(a, b) for i, a in enumerate(shot_centroids) for b in shot_centroids[i + 1:]]
        if sims:
            across.append(float(np.mean(sims)))
        identities.append({"id": lab, "tracks": [tr.id for tr in members], "shots": shots,
                           "screen_time_s": round(screen, 3),
                           "across_shot_similarity": float(np.mean(sims)) if sims else None})

    track_rows, within_mean, within_min = [], [], []
    for tr in tracks:
        embs = [e for _, e in tr.embeddings]
        cons = ft.consistency(embs)
        if cons:
            within_mean.append(cons[0])
            within_min.append(cons[1])
        areas = [d.area / (w * h) for d in tr.detections]
        centers = np.array([d.center for d in tr.detections]) / np.array([w, h])
        track_rows.append({
            "id": tr.id, "shot": tr.shot, "start": round(tr.start, 3), "end": round(tr.end, 3),
            "n_detections": len(tr.detections), "n_embeddings": len(embs),
            "identities": sorted(track_ids.get(tr.id, set())),
            "area_fraction_mean": float(np.mean(areas)),
            "center_mean": [float(x) for x in centers.mean(axis=0)],
            "consistency_mean": cons[0] if cons else None, "consistency_min": cons[1] if cons else None,
        })

    # main face (largest) per frame: size, position, box series for learned lip-sync
    main_t, main_area, main_center, main_boxes = [], [], [], []
    for t, dets in zip(dense_times, per_frame):
        if dets:
            d = max(dets, key=lambda d: d.area)
            main_t.append(round(t, 3))
            main_area.append(d.area / (w * h))
            main_center.append((d.center[0] / w, d.center[1] / h))
            main_boxes.append([round(float(d.box[0]) / w, 4), round(float(d.box[1]) / h, 4),
                               round(float(d.box[2]) / w, 4), round(float(d.box[3]) / h, 4)])
    mc = np.array(main_center) if main_center else np.zeros((0, 2))

    mesh_t = [t for t, _ in mesh_rows]
    expression = {
        key: ft.series_summary(mesh_t, [m[key] for _, m in mesh_rows])
        for key in ("mouth_open", "eye_open", "brow_raise")
    }
    n = len(counts)
    span = dense_times[-1] - dense_times[0] if n > 1 else 0.0
    with_face = sum(c > 0 for c in counts)
    return FacesResults.model_validate({
        "detector": "mediapipe" if mesh else "scrfd",
        "embedder": embedder_name,
        "identity_metric": {"name": metric.name, "threshold": metric.threshold},
        "frames_analysed": n,
        "analysis_fps": round((n - 1) / span, 3) if span > 0 else None,
        "frames_detected": n_detected,
        "face_count": {"times": [round(t, 3) for t in dense_times], "counts": counts},
        "frames_with_face_ratio": with_face / n if n else 0.0,
        "mean_faces": float(np.mean(counts)) if n else 0.0,
        "max_faces": int(max(counts)) if n else 0,
        "n_embedded": n_embedded,
        "tracks": track_rows,
        "n_tracks": len(tracks),
        "identities": identities,
        "n_identities": len(identities),
        "n_shots_with_faces": len({s for i in identities for s in i["shots"]}),
        "n_recurring_identities": sum(len(i["shots"]) >= 2 for i in identities),
        "identity_consistency": {
            "within_track_mean": float(np.mean(within_mean)) if within_mean else None,
            "within_track_min": float(np.min(within_min)) if within_min else None,
            "across_shots_mean": float(np.mean(across)) if across else None,
            "across_shots_min": float(np.min(across)) if across else None,
            "n_shots": len(shot_starts),
        },
        "identity_switches": switches,
        "n_identity_switches": len(switches),
        "main_face": {
            "area_fraction_mean": float(np.mean(main_area)) if main_area else None,
            "area_fraction_min": float(np.min(main_area)) if main_area else None,
            "area_fraction_max": float(np.max(main_area)) if main_area else None,
            "center_mean": [float(x) for x in mc.mean(axis=0)] if len(mc) else None,
            "center_std": [float(x) for x in mc.std(axis=0)] if len(mc) else None,
            "boxes": {"times": main_t, "boxes": main_boxes},  # normalised x1, y1, x2, y2
        },
        "expression": expression,
        "mouth_open_series": {"times": expression["mouth_open"]["times"], "values": expression["mouth_open"]["values"]},
        "notes": notes,
    })
