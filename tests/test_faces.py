"""Faces operator: pure tracking/identity/expression functions on hand-made inputs, the InsightFace code path
on tiny ONNX graphs with buffalo_l's signatures, and (slow) the real MediaPipe + dlib models on shared clips."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalverse.media.types import DecodedVideo, VideoMeta
from evalverse.operators import face_models as fm
from evalverse.operators import face_tracking as ft
from evalverse.operators.base import OperatorContext
from evalverse.operators.faces import FacesOperator
from operator_clips import shots_record

TALKING = ["real_talking_man_suit_retalking1.mp4", "real_talking_man_map_retalking2.mp4",
           "real_talking_woman_bluebg_retalking4.mp4", "ai_sadtalker_talking_speech_english.mp4"]


def make_video(frames: np.ndarray, fps: float, audio: np.ndarray | None = None,
               name: str = "synthetic.mp4") -> DecodedVideo:
    n, h, w = frames.shape[:3]
    meta = VideoMeta(path=name, content_hash="0" * 64, size_bytes=0, container="mp4", duration_s=n / fps, fps=fps,
                     n_frames=n, width=w, height=h, coded_width=w, coded_height=h, vcodec="h264",
                     has_audio=audio is not None)
    times = np.arange(n) / fps
    return DecodedVideo(meta=meta, frames=frames, times=times, stills=frames[:1], still_times=times[:1], audio=audio)


# ---- pure functions --------------------------------------------------------------------------------------

def det(frame, box, emb=None, fps=10.0):
    return ft.Detection(frame, frame / fps, np.array(box, float), 0.9, None, None if emb is None else np.array(emb, float))


def test_iou_hand_cases():
    assert ft.iou(np.array([0, 0, 10, 10]), np.array([0, 0, 10, 10])) == pytest.approx(1.0)
    assert ft.iou(np.array([0, 0, 10, 10]), np.array([5, 0, 15, 10])) == pytest.approx(50 / 150)
    assert ft.iou(np.array([0, 0, 10, 10]), np.array([20, 20, 30, 30])) == 0.0


def test_tracks_follow_two_moving_faces_and_split_at_a_cut():
    metric = ft.IdentityMetric("euclidean", 0.6)
    a, b = [0.0, 0.0], [1.0, 1.0]
    frames = [[det(i, [10 + 2 * i, 10, 60 + 2 * i, 60], a if i % 3 == 0 else None),
               det(i, [200, 10 + i, 250, 60 + i], b if i % 3 == 0 else None)] for i in range(10)]
    tracks = ft.build_tracks(frames, metric)
    assert len(tracks) == 2 and all(len(t.detections) == 10 for t in tracks)
    # a shot boundary at 0.5 s closes both tracks even though the boxes continue
    tracks = ft.build_tracks(frames, metric, shot_starts=[0.0, 0.5])
    assert len(tracks) == 4 and sorted(t.shot for t in tracks) == [0, 0, 1, 1]


def test_identity_switch_in_place_is_one_track_two_identities():
    metric = ft.IdentityMetric("euclidean", 0.6)
    frames = [[det(i, [10, 10, 60, 60], [0.0, 0.0] if i < 5 else [1.0, 0.0])] for i in range(10)]
    (track,) = ft.build_tracks(frames, metric)
    switches = ft.identity_switches(track, metric)
    assert len(switches) == 1 and switches[0]["time"] == pytest.approx(0.45)
    runs = ft.split_at_switches(track, metric)
    assert [len(r) for r in runs] == [5, 5]
    assert ft.cluster_identities([ft.centroid(r) for r in runs], metric) == [0, 1]


def test_far_apart_same_identity_links_by_embedding():
    metric = ft.IdentityMetric("euclidean", 0.6)
    frames = [[det(0, [0, 0, 50, 50], [0.0, 0.0])], [det(1, [300, 300, 350, 350], [0.1, 0.0])]]
    assert len(ft.build_tracks(frames, metric)) == 1
    frames = [[det(0, [0, 0, 50, 50], [0.0, 0.0])], [det(1, [300, 300, 350, 350], [0.9, 0.0])]]
    assert len(ft.build_tracks(frames, metric)) == 2


def test_cluster_identities_against_threshold():
    metric = ft.IdentityMetric("euclidean", 0.6)
    embs = [np.array([0.0, 0.0]), np.array([0.2, 0.0]), np.array([1.5, 0.0]), np.array([0.1, 0.1])]
    assert ft.cluster_identities(embs, metric) == [0, 0, 1, 0]
    cos = ft.IdentityMetric("cosine", 0.5)
    assert ft.cluster_identities([np.array([1.0, 0]), np.array([0.9, 0.1]), np.array([0, 1.0])], cos) == [0, 0, 1]


def test_consistency_is_cosine_to_centroid():
    embs = [np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    mean, low = ft.consistency(embs)
    assert mean == pytest.approx(np.sqrt(0.5)) and low == pytest.approx(np.sqrt(0.5))
    assert ft.consistency([np.array([1.0, 0.0])]) is None


def test_expression_measures_on_a_planted_mesh():
    pts = np.zeros((478, 3))
    pts[ft.MESH_FOREHEAD, :2], pts[ft.MESH_CHIN, :2] = (100, 0), (100, 200)
    pts[ft.MESH_UPPER_LIP, :2], pts[ft.MESH_LOWER_LIP, :2] = (100, 150), (100, 170)
    for top, bottom, outer, inner, x in ((*ft.MESH_LEFT_EYE, 60), (*ft.MESH_RIGHT_EYE, 140)):
        pts[outer, :2], pts[inner, :2] = (x - 20, 80), (x + 20, 80)
        pts[top, :2], pts[bottom, :2] = (x, 74), (x, 86)
    pts[ft.MESH_LEFT_BROW, :2], pts[ft.MESH_RIGHT_BROW, :2] = (60, 54), (140, 54)
    m = ft.expression_measures(pts)
    assert m["mouth_open"] == pytest.approx(20 / 200)
    assert m["eye_open"] == pytest.approx(12 / 40)
    assert m["brow_raise"] == pytest.approx(20 / 200)


def test_series_summary_finds_a_planted_jump_only():
    t = np.arange(100) / 25
    v = 0.05 + 0.01 * np.sin(2 * np.pi * 2 * t)
    v[60:] += 0.2  # one pop
    s = ft.series_summary(t, v)
    assert s["jumps"] == 1 and s["jump_times"] == [pytest.approx((t[59] + t[60]) / 2, abs=1e-3)]
    assert s["std"] == pytest.approx(np.std(v)) and s["range"] == pytest.approx(np.ptp(v))
    assert ft.series_summary(t, 0.05 + 0.01 * np.sin(2 * np.pi * 2 * t))["jumps"] == 0


def test_sample_indices_caps_and_spreads():
    from evalverse.operators.faces import _sample_indices

    times = np.arange(250) / 25.0  # 10 s at 25 fps
    idx = _sample_indices(times, 5.0, cap=24)
    assert len(idx) == 24 and idx[0] == 0 and idx[-1] == 249
    assert len(_sample_indices(times, 100.0)) == 250


# ---- InsightFace code path on tiny graphs with buffalo_l's signatures ---------------------------------------

def _tiny_scrfd(path: Path) -> None:
    """A 9-output SCRFD-shaped graph (scores/bboxes/kps at strides 8, 16, 32, two anchors per cell): only
    stride 32 fires, where a 32-px cell of the normalised input ((x - 127.5) / 128) is bright."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "h", "w"])
    nodes = [helper.make_node("ReduceMean", ["input.1"], ["gray"], axes=[1], keepdims=1)]
    inits = [helper.make_tensor("half", TensorProto.FLOAT, [], [0.5]),
             helper.make_tensor("gain", TensorProto.FLOAT, [], [20.0]),
             helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
             helper.make_tensor("on", TensorProto.FLOAT, [], [1.0]),
             helper.make_tensor("col", TensorProto.INT64, [2], [-1, 1]),
             helper.make_tensor("box", TensorProto.FLOAT, [1, 4], [3.0, 3.0, 3.0, 3.0]),
             helper.make_tensor("kp", TensorProto.FLOAT, [1, 10], [-.5, -.5, .5, -.5, 0, 0, -.4, .5, .4, .5])]
    for s in (8, 16, 32):
        nodes += [helper.make_node("AveragePool", ["gray"], [f"p{s}"], kernel_shape=[s, s], strides=[s, s]),
                  helper.make_node("Sub", [f"p{s}", "half"], [f"c{s}"]),
                  helper.make_node("Mul", [f"c{s}", "gain"], [f"l{s}"]),
                  helper.make_node("Sigmoid", [f"l{s}"], [f"g{s}"]),
                  helper.make_node("Mul", [f"g{s}", "on" if s == 32 else "zero"], [f"m{s}"]),
                  helper.make_node("Reshape", [f"m{s}", "col"], [f"f{s}"]),
                  helper.make_node("Concat", [f"f{s}", f"f{s}"], [f"two{s}"], axis=1),  # two anchors per cell
                  helper.make_node("Reshape", [f"two{s}", "col"], [f"score_{s}"]),
                  helper.make_node("Mul", [f"score_{s}", "zero"], [f"z{s}"]),
                  helper.make_node("Add", [f"z{s}", "box"], [f"bbox_{s}"]),
                  helper.make_node("Add", [f"z{s}", "kp"], [f"kps_{s}"])]
    outs = [helper.make_tensor_value_info(f"{kind}_{s}", TensorProto.FLOAT, ["n", width])
            for kind, width in (("score", 1), ("bbox", 4), ("kps", 10)) for s in (8, 16, 32)]
    graph = helper.make_graph(nodes, "scrfd_tiny", [x], outs, inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def _tiny_arcface(path: Path, dim: int = 32) -> None:
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    w = rng.standard_normal((3 * 7 * 7, dim)).astype(np.float32)
    nodes = [helper.make_node("AveragePool", ["data"], ["pooled"], kernel_shape=[16, 16], strides=[16, 16]),
             helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
             helper.make_node("MatMul", ["flat", "W"], ["fc1"])]
    graph = helper.make_graph(nodes, "arcface_tiny",
                              [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 112, 112])],
                              [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["N", dim])],
                              [helper.make_tensor("W", TensorProto.FLOAT, list(w.shape), w.ravel())])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


@pytest.fixture
def tiny_buffalo(settings):
    folder = settings.models_dir / fm.BUFFALO_DIR
    folder.mkdir(parents=True)
    _tiny_scrfd(settings.models_dir / fm.BUFFALO_DET)
    _tiny_arcface(settings.models_dir / fm.BUFFALO_REC)
    return settings


def _square_image(h=960, w=1280, x=640, y=384, side=128) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[y:y + side, x:x + side] = 255
    return img


def test_insightface_backend_is_chosen_when_buffalo_files_exist(settings, tiny_buffalo):
    assert FacesOperator.availability(settings).backend == "insightface"


def test_insightface_backend_reports_missing_files(settings):
    avail = FacesOperator.availability(settings, prefer="insightface")
    assert "insightface" in avail.reasons
    assert any("det_10g.onnx" in r for r in avail.reasons["insightface"])
    with pytest.raises(Exception, match="det_10g.onnx"):
        fm.load_insightface(settings.models_dir / fm.BUFFALO_DET, settings.models_dir / fm.BUFFALO_REC)


def test_insightface_detect_and_embed_through_model_zoo(tiny_buffalo):
    s = tiny_buffalo
    models = fm.load_insightface(s.models_dir / fm.BUFFALO_DET, s.models_dir / fm.BUFFALO_REC,
                                 root=s.models_dir / "insightface")
    assert type(models.detector).__name__ == "SCRFD" and type(models.recogniser).__name__ == "ArcFaceONNX"
    img = _square_image()  # 1280x960: letterboxed to 640x480 inside SCRFD, boxes scaled back
    dets = models.detect(img, 0, 0.0, embed=True)
    assert len(dets) == 1
    cx, cy = dets[0].center
    assert abs(cx - 704) <= 70 and abs(cy - 448) <= 70  # square centre, within one stride-32 cell (64 px here)
    assert dets[0].kps.shape == (5, 2) and dets[0].embedding.shape == (32,)
    again = models.detect(img.copy(), 1, 0.1, embed=True)[0].embedding
    np.testing.assert_allclose(again, dets[0].embedding, rtol=1e-5)
    other = models.detect(_square_image(x=200, y=100), 0, 0.0, embed=True)
    assert len(other) == 1
    assert not np.allclose(other[0].embedding, dets[0].embedding)  # a different crop, a different embedding
    assert models.detect(np.zeros((480, 640, 3), np.uint8), 0, 0.0, embed=True) == []


def test_faces_operator_runs_on_the_insightface_path(tiny_buffalo):
    frames = np.stack([_square_image(480, 640, 320, 192, 64) for _ in range(20)])
    video = make_video(frames, fps=10.0)
    res = FacesOperator().run(OperatorContext(video=video, settings=tiny_buffalo, backend="insightface"))
    assert res.embedder == "arcface_w600k_r50" and res.n_embedded >= 1
    assert res.n_identities == 1 and res.n_identity_switches == 0
    assert res.n_shots_with_faces == 1 and res.n_recurring_identities == 0  # no shots evidence: one shot


def test_mediapipe_finds_no_face_in_a_texture(settings):
    from evalverse.media.synthetic import textured

    frames = np.stack([textured(240, 320, 1) for _ in range(10)])
    res = FacesOperator().run(OperatorContext(video=make_video(frames, 10.0), settings=settings, backend="mediapipe"))
    assert res.frames_with_face_ratio == 0.0 and res.n_identities == 0 and res.mouth_open_series.values == []
    assert res.expression.mouth_open.range is None  # no mesh, no expression measure


# ---- real models on shared clips (slow) -----------------------------------------------------------------

def _decode(path: Path, settings):
    from evalverse.media.decode import decode_video

    return decode_video(path, settings)


@pytest.mark.slow
@pytest.mark.parametrize("clip", TALKING)
def test_talking_heads_one_identity_and_moving_mouth(clip, shared_media, settings):
    video = _decode(shared_media / clip, settings)
    res = FacesOperator().run(OperatorContext(video=video, settings=settings, backend="mediapipe"))
    assert res.frames_with_face_ratio >= 0.9
    assert res.n_identities == 1, res.identities
    assert res.n_identity_switches == 0
    assert res.identity_consistency.within_track_min > 0.9
    mouth = res.expression.mouth_open
    assert mouth.std > 0.015 and mouth.range > 0.06  # speech opens and closes the mouth
    assert len(res.mouth_open_series.times) >= 0.9 * res.frames_analysed
    assert 0.02 < res.main_face.area_fraction_mean < 0.6


@pytest.mark.slow
def test_two_people_across_a_cut_are_two_identities(shared_media, settings):
    a = _decode(shared_media / "real_talking_man_suit_retalking1.mp4", settings)
    b = _decode(shared_media / "real_talking_woman_bluebg_retalking4.mp4", settings)
    assert a.frames.shape[1:] == b.frames.shape[1:]
    n = 50
    frames = np.concatenate([a.frames[:n], b.frames[:n]])
    shots = shots_record([(0.0, n / 25, 0, n), (n / 25, 2 * n / 25, n, 2 * n)])
    res = FacesOperator().run(OperatorContext(video=make_video(frames, 25.0), settings=settings, backend="mediapipe",
                                              evidence={"shots": shots}))
    assert res.n_identities == 2 and res.n_identity_switches == 0 and res.n_tracks == 2
    assert res.identity_consistency.n_shots == 2
    assert res.n_shots_with_faces == 2 and res.n_recurring_identities == 0  # two people, one per shot
    # without shot information the face that changes in place is flagged as a switch, still two people
    res = FacesOperator().run(OperatorContext(video=make_video(frames, 25.0), settings=settings, backend="mediapipe"))
    assert res.n_identities == 2
    assert res.n_identity_switches + res.n_tracks == 2


@pytest.mark.slow
def test_dlib_distances_same_and_different_people(shared_media, settings):
    a = _decode(shared_media / "real_talking_man_suit_retalking1.mp4", settings)
    b = _decode(shared_media / "real_talking_woman_bluebg_retalking4.mp4", settings)
    mp_faces, emb = fm.MediapipeFaces(mesh=False), fm.DlibEmbedder()
    vecs = []
    for video, i in ((a, 0), (a, 60), (b, 0)):
        (d,) = mp_faces.detect(video.frames[i], i, 0.0)
        vecs.append(emb.embed(video.frames[i], d.box))
    same, diff = np.linalg.norm(vecs[0] - vecs[1]), np.linalg.norm(vecs[0] - vecs[2])
    assert same < 0.45 and diff > 0.6
