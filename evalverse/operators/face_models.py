"""Loaders and thin wrappers for the face models: InsightFace buffalo_l (SCRFD + ArcFace), MediaPipe
face detection + 478-point mesh, dlib ResNet identity embeddings from `face_recognition_models`.

Heavy libraries are imported inside the functions so that listing the registry stays fast.
Frames come in as RGB uint8 (the media layer's convention); InsightFace wants BGR, the others RGB.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from evalverse.errors import UnavailableError
from evalverse.models import loaded
from evalverse.operators.face_tracking import Detection, IdentityMetric
from evalverse.registry import package_file

BUFFALO_DIR = Path("insightface") / "models" / "buffalo_l"
BUFFALO_DET = BUFFALO_DIR / "det_10g.onnx"
BUFFALO_REC = BUFFALO_DIR / "w600k_r50.onnx"
DLIB_REC = "models/dlib_face_recognition_resnet_model_v1.dat"
DLIB_SHAPE5 = "models/shape_predictor_5_face_landmarks.dat"

# dlib's documented same-person rule: Euclidean distance below 0.6 (measured here: 0.15–0.26 same, ~0.8 different).
DLIB_METRIC = IdentityMetric("euclidean", 0.6)
# ArcFace (buffalo_l) embeddings: cosine similarity above ~0.35 is the usual same-person rule; not measured
# here (no weights offline), so treat it as a documented default.
ARCFACE_METRIC = IdentityMetric("cosine", 0.65)


def dlib_files() -> tuple[Path, Path] | None:
    """The dlib recogniser and 5-point predictor inside face_recognition_models, located without importing it
    (its __init__ imports pkg_resources)."""
    rec = package_file("face_recognition_models", DLIB_REC)
    shape = package_file("face_recognition_models", DLIB_SHAPE5)
    return (rec, shape) if rec and shape else None


def dlib_problem(_settings=None) -> str | None:
    if dlib_files() is None:
        return "face_recognition_models data files not found (pip install face-recognition-models dlib-bin)"
    return None


# ---- InsightFace ---------------------------------------------------------------------------------------

@dataclass
class InsightFaceModels:
    detector: object  # insightface.model_zoo.SCRFD
    recogniser: object | None  # insightface.model_zoo.ArcFaceONNX
    metric: IdentityMetric = ARCFACE_METRIC

    def detect(self, frame_rgb: np.ndarray, frame: int, time: float, embed: bool) -> list[Detection]:
        bgr = np.ascontiguousarray(frame_rgb[..., ::-1])
        boxes, kpss = self.detector.detect(bgr)
        out = []
        for i in range(boxes.shape[0]):
            kps = kpss[i] if kpss is not None else None
            emb = self.embed(bgr, kps) if embed and kps is not None and self.recogniser is not None else None
            out.append(Detection(frame, time, boxes[i, :4].astype(float), float(boxes[i, 4]), kps, emb))
        return out

    def embed(self, bgr: np.ndarray, kps: np.ndarray) -> np.ndarray:
        from insightface.utils import face_align

        size = int(self.recogniser.input_size[0])
        aligned = face_align.norm_crop(bgr, landmark=np.asarray(kps, np.float32), image_size=size)
        return np.asarray(self.recogniser.get_feat(aligned), float).ravel()


def insightface_models(det_path: Path, rec_path: Path | None, root: Path | None = None) -> InsightFaceModels:
    """`load_insightface`, loaded once per process (ONNX Runtime sessions may run from several threads)."""
    return loaded.shared(("insightface", str(det_path), str(rec_path)),
                         lambda: load_insightface(det_path, rec_path, root=root))


def load_insightface(det_path: Path, rec_path: Path | None, root: Path | None = None,
                     det_size: tuple[int, int] = (640, 640), det_thresh: float = 0.5) -> InsightFaceModels:
    """SCRFD and ArcFace through insightface's own model zoo (shape-based routing, CPU provider)."""
    for p in (det_path, rec_path):
        if p is not None and not Path(p).exists():
            raise UnavailableError(
                f"InsightFace model file {p} not found: put buffalo_l's det_10g.onnx and w600k_r50.onnx in "
                f"<models_dir>/{BUFFALO_DIR} (buffalo_l is for non-commercial research use)"
            )
    from insightface.model_zoo import model_zoo

    kwargs = {"providers": ["CPUExecutionProvider"]}
    if root is not None:
        kwargs["root"] = str(root)
    det = model_zoo.get_model(str(det_path), **kwargs)
    if det is None or getattr(det, "taskname", None) != "detection":
        raise UnavailableError(f"{det_path} is not an SCRFD face detector (insightface routed it to {det!r})")
    det.prepare(-1, input_size=det_size, det_thresh=det_thresh)
    rec = None
    if rec_path is not None:
        rec = model_zoo.get_model(str(rec_path), **kwargs)
        if rec is None or getattr(rec, "taskname", None) != "recognition":
            raise UnavailableError(f"{rec_path} is not an ArcFace recogniser (insightface routed it to {rec!r})")
        rec.prepare(-1)
    return InsightFaceModels(det, rec)


# ---- MediaPipe -----------------------------------------------------------------------------------------

class MediapipeFaces:
    """Legacy `mp.solutions` face detection (full range) and face mesh with iris refinement (478 points)."""

    def __init__(self, min_confidence: float = 0.5, max_mesh_faces: int = 1, mesh: bool = True):
        try:
            import mediapipe as mp
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise UnavailableError(f"mediapipe cannot be imported ({exc}); install mediapipe==0.10.14") from exc
        self._detector = mp.solutions.face_detection.FaceDetection(model_selection=1,
                                                                    min_detection_confidence=min_confidence)
        self._mesh = (mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=max_mesh_faces,
                                                       refine_landmarks=True, min_detection_confidence=min_confidence,
                                                       min_tracking_confidence=0.5) if mesh else None)

    def detect(self, frame_rgb: np.ndarray, frame: int, time: float) -> list[Detection]:
        h, w = frame_rgb.shape[:2]
        res = self._detector.process(np.ascontiguousarray(frame_rgb))
        out = []
        for det in res.detections or []:
            bb = det.location_data.relative_bounding_box
            x1, y1 = max(bb.xmin, 0.0) * w, max(bb.ymin, 0.0) * h
            x2, y2 = min(bb.xmin + bb.width, 1.0) * w, min(bb.ymin + bb.height, 1.0) * h
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            out.append(Detection(frame, time, np.array([x1, y1, x2, y2], float), float(det.score[0])))
        return out

    def mesh(self, frame_rgb: np.ndarray) -> list[np.ndarray]:
        """Each face's landmarks as (478, 3) pixel coordinates (z in the same scale as x)."""
        if self._mesh is None:
            return []
        h, w = frame_rgb.shape[:2]
        res = self._mesh.process(np.ascontiguousarray(frame_rgb))
        out = []
        for face in res.multi_face_landmarks or []:
            pts = np.array([(p.x * w, p.y * h, p.z * w) for p in face.landmark], float)
            out.append(pts)
        return out

    def reset(self) -> None:
        """Forget the mesh's tracking state (the next frame is treated as the first of a new clip)."""
        if self._mesh is not None:
            self._mesh.reset()

    def close(self) -> None:
        self._detector.close()
        if self._mesh is not None:
            self._mesh.close()


@contextmanager
def mediapipe_faces(min_confidence: float = 0.5, mesh: bool = True) -> Iterator[MediapipeFaces]:
    """MediaPipe face detection + mesh kept loaded across clips: one caller at a time per instance (the
    graphs carry stream state), reset on lending so every clip starts as on a fresh graph."""
    with loaded.borrowed(("mediapipe_faces", float(min_confidence), bool(mesh)),
                         lambda: MediapipeFaces(min_confidence=min_confidence, mesh=mesh)) as faces:
        faces.reset()
        yield faces


def dlib_embedder():
    """The dlib recogniser kept loaded across clips, lent to one caller at a time (a dlib network keeps
    working buffers, so two threads must not share one)."""
    return loaded.borrowed("dlib_resnet_v1", DlibEmbedder)


# ---- dlib ----------------------------------------------------------------------------------------------

class DlibEmbedder:
    """128-d dlib ResNet face descriptors, aligned with the 5-point shape predictor (CC0 weights)."""

    metric = DLIB_METRIC

    def __init__(self) -> None:
        files = dlib_files()
        if files is None:
            raise UnavailableError(dlib_problem() or "dlib weights missing")
        try:
            import dlib
        except ImportError as exc:  # pragma: no cover
            raise UnavailableError(f"dlib cannot be imported ({exc}); pip install dlib-bin") from exc
        rec, shape = files
        self._dlib = dlib
        self._rec = dlib.face_recognition_model_v1(str(rec))
        self._shape = dlib.shape_predictor(str(shape))

    def embed(self, frame_rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
        img = np.ascontiguousarray(frame_rgb, dtype=np.uint8)
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        shape = self._shape(img, self._dlib.rectangle(x1, y1, x2, y2))
        return np.asarray(self._rec.compute_face_descriptor(img, shape), float)
