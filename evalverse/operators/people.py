"""`people` operator: who is on screen, how big, how central, how framed, how much they move.

Backends, in order: `yolo` (ultralytics YOLO11n COCO person boxes, weights pulled into the models
folder) and `mediapipe_pose` (the BlazePose model bundled in PyPI mediapipe 0.10.14; one person, 33
landmarks). Frames are sampled at `fps` (default 4).

Shot size comes from an estimated head height h as a fraction of the frame height (cinematographers
name shot sizes by how much of the body the frame holds; the head is the unit both backends can estimate):
    extreme_close_up h >= 0.6 | close_up 0.3-0.6 | medium 0.12-0.3 | wide 0.04-0.12 | extreme_wide < 0.04
Head height: pose: max(3.2 x eye-to-mouth height, 1.5 x ear-to-ear width); YOLO box: box height / 7.5
when the whole figure is inside the frame (an adult is about 7.5 heads tall), else box width / 2
(a box cut by the frame edge spans about the shoulders, about two heads wide). These are heuristics:
a seated figure reads one size wider, outstretched arms one size closer.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

import numpy as np

from evalverse.config import Settings
from evalverse.errors import UnavailableError
from evalverse.operators.base import Operator, OperatorContext
from evalverse.operators.results import Detail, PerShot, Results
from evalverse.operators.sampling import sample_indices, span_of
from evalverse.operators.signal import shot_spans
from evalverse.registry import Backend, package_file, register

log = logging.getLogger(__name__)

YOLO_FILE = "yolo/yolo11n.pt"
POSE_TFLITE = "modules/pose_landmark/pose_landmark_full.tflite"

ShotSize = Literal["extreme_close_up", "close_up", "medium", "wide", "extreme_wide"]
SHOT_SIZES: tuple[str, ...] = get_args(ShotSize)
# lower bounds of the head-height fraction for each size, closest first
SHOT_SIZE_BOUNDS = ((0.6, "extreme_close_up"), (0.3, "close_up"), (0.12, "medium"), (0.04, "wide"), (0.0, "extreme_wide"))
HEADS_PER_BODY = 7.5
HEADS_PER_SHOULDERS = 2.0
EDGE = 0.005  # a box within this fraction of the frame edge touches it
EXCESS_HEADROOM = 0.3  # space above the head (fraction of frame height) that reads as "subject too low"

class PersonFrame(Detail):
    """The main (largest) person in one sampled frame; only time/person/count when nobody is there."""

    time: float
    person: bool
    count: int  # people detected
    bbox: list[float] | None = None  # x1, y1, x2, y2, normalised, clipped to the frame
    score: float | None = None
    area_fraction: float | None = None
    centrality: float | None = None
    head_height: float | None = None
    shot_size: ShotSize | None = None
    headroom: float | None = None
    head_cut: bool | None = None
    edge_cut: bool | None = None


class PeopleShot(PerShot):
    samples: int
    person_fraction: float | None = None
    shot_size: ShotSize | None = None


class PeopleResults(Results):
    backend: Literal["yolo", "mediapipe_pose"]
    shot_source: str
    sampled_frames: int
    person_fraction: float
    mean_people: float
    max_people: int
    mean_area_fraction: float | None = None
    mean_centrality: float | None = None
    subject_prominence: float
    shot_size: ShotSize | None = None
    shot_size_counts: dict[str, int] = {}
    shot_size_thresholds: dict[str, float] = {}  # lower bound of the head-height fraction per size
    mean_headroom: float | None = None
    head_cut_fraction: float | None = None
    edge_cut_fraction: float | None = None
    excess_headroom_fraction: float | None = None
    subject_motion: float | None = None
    pose_energy: float | None = None
    pose_articulation: float | None = None
    shots: list[PeopleShot] = []
    frames: list[PersonFrame] = []


# BlazePose landmark ids
NOSE, L_EYE, R_EYE, L_EAR, R_EAR, MOUTH_L, MOUTH_R = 0, 2, 5, 7, 8, 9, 10
VISIBLE = 0.5


def _pose_probe(settings: Settings) -> str | None:
    if package_file("mediapipe", POSE_TFLITE) is None:
        return f"mediapipe is installed without its pose model ({POSE_TFLITE}); mediapipe >= 1.0 ships no models"
    return None


@dataclass
class Person:
    """One detected person in one frame, in normalised coordinates (x / width, y / height)."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2, may extend past [0, 1] for the head estimate
    score: float
    head: float  # estimated head height, fraction of frame height
    crown: float  # estimated top of the head (y), fraction of frame height; < 0 means above the frame
    landmarks: np.ndarray | None = None  # (33, 3): x, y (frame-height units for both), visibility

    @property
    def clipped(self) -> tuple[float, float, float, float]:
        x1, y1, x2, y2 = self.box
        return max(x1, 0.0), max(y1, 0.0), min(x2, 1.0), min(y2, 1.0)

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.clipped
        return max(x2 - x1, 0.0) * max(y2 - y1, 0.0)


@dataclass
class FrameObs:
    index: int
    time: float
    people: list[Person] = field(default_factory=list)

    @property
    def main(self) -> Person | None:
        return max(self.people, key=lambda p: p.area) if self.people else None


def shot_size(head: float) -> str:
    for bound, name in SHOT_SIZE_BOUNDS:
        if head >= bound:
            return name
    return "extreme_wide"


def centrality(box: tuple[float, float, float, float]) -> float:
    """1 at the frame centre, 0 in a corner (distance of the box centre, normalised coordinates)."""
    x1, y1, x2, y2 = box
    d = np.hypot((x1 + x2) / 2 - 0.5, (y1 + y2) / 2 - 0.5) / np.hypot(0.5, 0.5)
    return float(max(0.0, 1.0 - d))


def person_from_box(box: tuple[float, float, float, float], score: float, aspect: float) -> Person:
    """A person from a detector box in normalised coordinates; aspect = width / height of the frame."""
    x1, y1, x2, y2 = box
    inside = y1 > EDGE and y2 < 1 - EDGE
    head = (y2 - y1) / HEADS_PER_BODY if inside else min((x2 - x1) * aspect / HEADS_PER_SHOULDERS, y2 - y1)
    return Person(box=(x1, y1, x2, y2), score=score, head=float(head), crown=float(y1))


def person_from_landmarks(lm: np.ndarray, aspect: float) -> Person | None:
    """A person from BlazePose landmarks (33, 3: x, y normalised, visibility)."""
    vis = lm[:, 2] >= VISIBLE
    if vis.sum() < 3:
        return None
    xs, ys = lm[vis, 0], lm[vis, 1]
    heads = []
    if lm[[L_EYE, R_EYE, MOUTH_L, MOUTH_R], 2].min() >= VISIBLE:
        heads.append(3.2 * (lm[[MOUTH_L, MOUTH_R], 1].mean() - lm[[L_EYE, R_EYE], 1].mean()))
    if lm[[L_EAR, R_EAR], 2].min() >= VISIBLE:
        heads.append(1.5 * abs(lm[L_EAR, 0] - lm[R_EAR, 0]) * aspect)
    if heads and max(heads) > 0:
        head = float(max(heads))
        eye_y = float(lm[[L_EYE, R_EYE], 1].mean()) if lm[[L_EYE, R_EYE], 2].min() >= VISIBLE else float(lm[NOSE, 1])
        crown = eye_y - 0.5 * head  # the eyes sit about half-way between crown and chin
    else:  # face not visible (turned away): fall back to the box as a detector would see it
        p = person_from_box((float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())), 1.0, aspect)
        head, crown = p.head, p.crown
    box = (float(xs.min()), float(min(ys.min(), crown)), float(xs.max()), float(ys.max()))
    scaled = lm.copy()
    scaled[:, 0] *= aspect  # both coordinates in frame-height units, so distances are isotropic
    return Person(box=box, score=float(lm[vis, 2].mean()), head=head, crown=float(crown), landmarks=scaled)


# --- backends -------------------------------------------------------------------------------------------

_YOLO_LOCK = threading.Lock()


def load_yolo(path: Path, settings: Settings):
    """An ultralytics YOLO model file, loaded once per process (evalverse.models.loaded), torchvision made
    importable first. An ultralytics model keeps its predictor between calls: predict under `_YOLO_LOCK`."""
    from evalverse.models import loaded

    if not path.exists():
        raise UnavailableError(f"YOLO weights {path} not found; fix: evalverse models pull yolo")

    def load():
        from evalverse.compat.torchvision_cpu import ensure_torchvision

        ensure_torchvision()
        # ultralytics writes a settings file under the home directory and checks online unless told not to
        os.environ.setdefault("YOLO_OFFLINE", "1")
        os.environ.setdefault("YOLO_CONFIG_DIR", str(settings.data_dir / "ultralytics"))
        from evalverse.compat.ultralytics_import import import_yolo

        return import_yolo()(str(path))

    return loaded.shared(f"yolo:{path}", load)


def detect_yolo(frames: np.ndarray, settings: Settings, params: dict[str, Any]) -> list[list[Person]]:
    model = load_yolo(settings.models_dir / YOLO_FILE, settings)
    with _YOLO_LOCK:
        return _yolo_people(model, frames, params)


def _yolo_people(model, frames: np.ndarray, params: dict[str, Any]) -> list[list[Person]]:
    names = getattr(model, "names", {}) or {}
    person_ids = [k for k, v in names.items() if str(v).lower() == "person"] or [0]  # COCO: class 0
    h, w = frames.shape[1:3]
    out: list[list[Person]] = []
    batch = int(params.get("batch", 8))
    for start in range(0, len(frames), batch):
        chunk = [np.ascontiguousarray(f[..., ::-1]) for f in frames[start:start + batch]]  # ultralytics wants BGR
        results = model.predict(chunk, imgsz=int(params["imgsz"]), conf=float(params["conf"]), classes=person_ids,
                                verbose=False, device="cpu")
        for r in results:
            boxes = r.boxes.xyxy.cpu().numpy() if len(r.boxes) else np.zeros((0, 4))
            scores = r.boxes.conf.cpu().numpy() if len(r.boxes) else np.zeros(0)
            people = [person_from_box((b[0] / w, b[1] / h, b[2] / w, b[3] / h), float(s), w / h)
                      for b, s in zip(boxes, scores)]
            out.append(people)
    return out


def _new_pose(confidence: float):
    import mediapipe as mp

    return mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, min_detection_confidence=confidence)


def pose_graph(confidence: float):
    """A BlazePose graph kept loaded between clips (evalverse.models.loaded), lent to one caller at a time."""
    from evalverse.models import loaded

    return loaded.borrowed(("mediapipe_pose", float(confidence)), lambda: _new_pose(float(confidence)))


def detect_pose(frames: np.ndarray, shot_of_frame: list[int], params: dict[str, Any]) -> list[list[Person]]:
    """BlazePose in tracking mode, reset at every shot so a cut does not drag the previous person along."""
    h, w = frames.shape[1:3]
    out: list[list[Person]] = []
    with pose_graph(float(params["pose_confidence"])) as pose:
        current = object()
        for frame, shot in zip(frames, shot_of_frame):
            if shot != current:
                pose.reset()  # a fresh start: nothing tracked from the previous shot or clip
                current = shot
            res = pose.process(np.ascontiguousarray(frame))
            if res.pose_landmarks is None:
                out.append([])
                continue
            lm = np.array([(p.x, p.y, p.visibility) for p in res.pose_landmarks.landmark], dtype=np.float64)
            person = person_from_landmarks(lm, w / h)
            out.append([person] if person is not None else [])
    return out


# --- summaries ------------------------------------------------------------------------------------------

def motion(obs: list[FrameObs], shot_ids: list[int]) -> dict[str, float | None]:
    """Movement of the main person between consecutive samples in the same shot, in head heights per second:
    box-centre motion for any backend, and landmark motion (raw and with the mean translation removed) for pose."""
    centre, energy, articulation = [], [], []
    for (a, sa), (b, sb) in zip(zip(obs, shot_ids), zip(obs[1:], shot_ids[1:])):
        pa, pb = a.main, b.main
        dt = b.time - a.time
        if pa is None or pb is None or sa != sb or dt <= 0:
            continue
        scale = max((pa.head + pb.head) / 2, 1e-3)
        ca = np.array([(pa.clipped[0] + pa.clipped[2]) / 2, (pa.clipped[1] + pa.clipped[3]) / 2])
        cb = np.array([(pb.clipped[0] + pb.clipped[2]) / 2, (pb.clipped[1] + pb.clipped[3]) / 2])
        centre.append(float(np.linalg.norm(cb - ca)) / scale / dt)
        if pa.landmarks is not None and pb.landmarks is not None:
            both = (pa.landmarks[:, 2] >= VISIBLE) & (pb.landmarks[:, 2] >= VISIBLE)
            if both.sum() >= 4:
                d = pb.landmarks[both, :2] - pa.landmarks[both, :2]
                energy.append(float(np.linalg.norm(d, axis=1).mean()) / scale / dt)
                articulation.append(float(np.linalg.norm(d - d.mean(axis=0), axis=1).mean()) / scale / dt)

    def mean(v: list[float]) -> float | None:
        return round(float(np.mean(v)), 4) if v else None

    return {"subject_motion": mean(centre), "pose_energy": mean(energy), "pose_articulation": mean(articulation)}


def summarise(obs: list[FrameObs], spans, shot_ids: list[int]) -> dict[str, Any]:
    n = len(obs)
    with_person = [o for o in obs if o.main is not None]
    frames_out = []
    prominence = []
    sizes: list[str] = []
    head_cut = edge_cut = excess = 0
    headrooms = []
    for o in obs:
        p = o.main
        if p is None:
            frames_out.append({"time": round(o.time, 3), "person": False, "count": 0})
            prominence.append(0.0)
            continue
        box = p.clipped
        area, cen, size = p.area, centrality(box), shot_size(p.head)
        sizes.append(size)
        headroom = max(p.crown, 0.0)
        headrooms.append(headroom)
        # pose estimates the crown, so it can see it above the frame; a detector box can only touch the top edge
        cut_top = p.crown < -0.02 if p.landmarks is not None else box[1] <= EDGE
        is_head_cut = bool(cut_top and size != "extreme_close_up")  # a tight close-up crops the forehead on purpose
        is_edge_cut = bool(box[0] <= EDGE or box[2] >= 1 - EDGE)
        is_excess = bool(headroom > EXCESS_HEADROOM and size in ("close_up", "medium"))
        head_cut += is_head_cut
        edge_cut += is_edge_cut
        excess += is_excess
        prominence.append(float(np.sqrt(area) * (0.5 + 0.5 * cen)))
        frames_out.append({
            "time": round(o.time, 3), "person": True, "count": len(o.people),
            "bbox": [round(v, 4) for v in box], "score": round(p.score, 3), "area_fraction": round(area, 4),
            "centrality": round(cen, 4), "head_height": round(p.head, 4), "shot_size": size,
            "headroom": round(headroom, 4), "head_cut": is_head_cut, "edge_cut": is_edge_cut,
        })
    per_shot = []
    for k, s in enumerate(spans):
        members = [o for o, sid in zip(obs, shot_ids) if sid == k]
        shot_sizes = [shot_size(o.main.head) for o in members if o.main is not None]
        per_shot.append({
            "index": s.index, "start": round(s.start, 3), "end": round(s.end, 3), "samples": len(members),
            "person_fraction": round(sum(o.main is not None for o in members) / len(members), 4) if members else None,
            "shot_size": Counter(shot_sizes).most_common(1)[0][0] if shot_sizes else None,
        })
    m = len(with_person)
    areas = [o.main.area for o in with_person]
    cens = [centrality(o.main.clipped) for o in with_person]
    return {
        "sampled_frames": n,
        "person_fraction": round(m / n, 4) if n else 0.0,
        "mean_people": round(float(np.mean([len(o.people) for o in obs])), 4) if n else 0.0,
        "max_people": max((len(o.people) for o in obs), default=0),
        "mean_area_fraction": round(float(np.mean(areas)), 4) if m else None,
        "mean_centrality": round(float(np.mean(cens)), 4) if m else None,
        # sqrt(area) so a subject twice as tall counts twice, weighted by how central it sits; 0 for empty frames
        "subject_prominence": round(float(np.mean(prominence)), 4) if n else 0.0,
        "shot_size": Counter(sizes).most_common(1)[0][0] if sizes else None,
        "shot_size_counts": {k: sizes.count(k) for k in SHOT_SIZES if k in sizes},
        "shot_size_thresholds": {name: bound for bound, name in SHOT_SIZE_BOUNDS},
        "mean_headroom": round(float(np.mean(headrooms)), 4) if headrooms else None,
        "head_cut_fraction": round(head_cut / m, 4) if m else None,
        "edge_cut_fraction": round(edge_cut / m, 4) if m else None,
        "excess_headroom_fraction": round(excess / m, 4) if m else None,
        **motion(obs, shot_ids),
        "shots": per_shot,
        "frames": frames_out,
    }


@register
class People(Operator):
    name = "people"
    version = "1.1"
    description = ("Person detection or pose on frames sampled at 4 fps: presence, prominence, shot size, headroom "
                   "and cut-off framing, subject motion and pose energy.")
    evidence_kind = "people"
    cost = 0.64  # CPU seconds on talk10, warm, one worker (benchmarks/bench_evidence.py)
    needs = ("frames", "shots")
    results_model = PeopleResults
    default_params: ClassVar[dict[str, Any]] = {"fps": 4.0, "max_frames": 120, "imgsz": 640, "conf": 0.35,
                                                "pose_confidence": 0.5}
    backends = (
        Backend("yolo", weights="Ultralytics YOLO11n (COCO), github.com/ultralytics/assets releases", licence="AGPL-3.0",
                modules=("ultralytics", "torch", "torchvision"), files=(YOLO_FILE,), fix="evalverse models pull yolo"),
        Backend("mediapipe_pose", weights="BlazePose full, bundled in PyPI mediapipe==0.10.14", licence="Apache-2.0",
                modules=("mediapipe",), probe=_pose_probe,
                fix="pip install --no-deps mediapipe==0.10.14 (see requirements/no-deps.txt)"),
    )

    @classmethod
    def warm(cls, settings: Settings, backend: str) -> None:
        """Load this backend's model now (evalverse.operators.warm)."""
        if backend == "yolo":
            load_yolo(settings.models_dir / YOLO_FILE, settings)
        else:
            with pose_graph(cls.default_params["pose_confidence"]):
                pass

    def run(self, ctx: OperatorContext) -> PeopleResults:
        video, p = ctx.video, ctx.params
        idx = sample_indices(video.times, float(p["fps"]), int(p["max_frames"]))
        spans, shot_source = shot_spans(video, ctx.evidence)
        shot_ids = [span_of(int(i), spans) for i in idx]
        frames = video.frames[idx]
        if ctx.backend == "yolo":
            detections = detect_yolo(frames, ctx.settings, p)
        elif ctx.backend == "mediapipe_pose":
            detections = detect_pose(frames, shot_ids, p)
        else:
            raise UnavailableError(f"people has no backend {ctx.backend!r}")
        obs = [FrameObs(int(i), float(video.times[i]), people) for i, people in zip(idx, detections)]
        return PeopleResults.model_validate({"backend": ctx.backend, "shot_source": shot_source,
                                             **summarise(obs, spans, shot_ids)})
