"""`people` and `features` operators: pure geometry and similarity on planted inputs, both backends of each
(tiny random YOLO / DINOv2 models built offline; the real BlazePose model shipped in mediapipe)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from evalverse.media.synthetic import cuts_clip, silent_audio_clip, textured
from evalverse.media.types import DecodedVideo, VideoMeta
from evalverse.operators import features as feat
from evalverse.operators import people as ppl
from evalverse.operators.base import EvidenceRecord, OperatorContext
from evalverse.operators.runner import run_operators
from evalverse.operators.sampling import sample_indices
from operator_clips import run_results, shots_record


def decode(path: Path, settings) -> DecodedVideo:
    from evalverse.media import decode_video

    return decode_video(path, settings)


def frame_shots(bounds: list[tuple[int, int]], times: np.ndarray) -> EvidenceRecord:
    """A shots record from (start_frame, end_frame) bounds on the clip's frame times."""
    step = float(times[1] - times[0])
    return shots_record([(float(times[a]), float(times[b - 1]) + step, a, b) for a, b in bounds])


def memory_video(frames: np.ndarray, fps: float = 8.0) -> DecodedVideo:
    n, h, w = frames.shape[:3]
    meta = VideoMeta(path="mem", content_hash="m" * 64, size_bytes=0, container="raw", duration_s=n / fps, fps=fps,
                     n_frames=n, width=w, height=h, coded_width=w, coded_height=h, vcodec="raw", has_audio=False)
    times = np.arange(n) / fps
    return DecodedVideo(meta=meta, frames=frames, times=times, stills=frames[:1], still_times=times[:1], audio=None)


# --- sampling ---------------------------------------------------------------------------------------------

def test_sample_indices_spacing_and_cap():
    times = np.arange(100) / 25.0
    idx = sample_indices(times, 4.0)
    assert idx[0] == 0 and len(idx) == 16  # 0, 0.25, ..., 3.75 s within 0..3.96 s
    assert np.abs(times[idx] - 0.25 * np.arange(16)).max() <= 0.02 + 1e-9  # the nearest frame to each target
    assert len(sample_indices(times, 4.0, max_frames=5)) == 5
    assert sample_indices(np.zeros(0), 4.0).size == 0


# --- people: geometry -------------------------------------------------------------------------------------

@pytest.mark.parametrize("head,size", [(0.7, "extreme_close_up"), (0.6, "extreme_close_up"), (0.45, "close_up"),
                                       (0.2, "medium"), (0.05, "wide"), (0.039, "extreme_wide")])
def test_shot_size_thresholds(head, size):
    assert ppl.shot_size(head) == size


def test_centrality_and_box_person():
    assert ppl.centrality((0.4, 0.4, 0.6, 0.6)) == pytest.approx(1.0)
    assert ppl.centrality((0.0, 0.0, 0.0, 0.0)) == pytest.approx(0.0)
    # whole figure inside a 16:9 frame, 60% of the height: head = 0.6 / 7.5
    p = ppl.person_from_box((0.45, 0.2, 0.55, 0.8), 0.9, 16 / 9)
    assert p.head == pytest.approx(0.6 / 7.5) and ppl.shot_size(p.head) == "wide"
    # cut by the bottom edge: head = box width (in frame heights) / 2
    p = ppl.person_from_box((0.3, 0.1, 0.7, 1.0), 0.9, 16 / 9)
    assert p.head == pytest.approx(0.4 * 16 / 9 / 2)
    assert p.area == pytest.approx(0.4 * 0.9)


def _landmarks(eye_y: float, mouth_y: float, dx: float = 0.0) -> np.ndarray:
    lm = np.zeros((33, 3))
    lm[:, 2] = 1.0
    lm[:, 0] = np.linspace(0.4, 0.6, 33) + dx
    lm[:, 1] = np.linspace(mouth_y, 0.95, 33)
    lm[[ppl.L_EYE, ppl.R_EYE], 1] = eye_y
    lm[[ppl.MOUTH_L, ppl.MOUTH_R], 1] = mouth_y
    lm[[ppl.L_EAR, ppl.R_EAR], 0] = [0.5, 0.5]  # seen from the side: the ear-to-ear width says nothing
    lm[ppl.L_EAR, 0] += dx
    lm[ppl.R_EAR, 0] += dx
    return lm


def test_person_from_landmarks_head_and_crown():
    p = ppl.person_from_landmarks(_landmarks(0.3, 0.35), aspect=1.0)
    assert p.head == pytest.approx(3.2 * 0.05)
    assert p.crown == pytest.approx(0.3 - 0.5 * 0.16)
    assert p.box[1] == pytest.approx(p.crown)
    cut = ppl.person_from_landmarks(_landmarks(0.02, 0.1), aspect=1.0)  # eyes near the top: crown above it
    assert cut.crown < 0
    obs = [ppl.FrameObs(0, 0.0, [cut])]
    assert ppl.summarise(obs, [_span(0, 1)], [0])["head_cut_fraction"] == 1.0


def _span(a: int, b: int):
    from evalverse.operators.signal import Span

    return Span(0, a, b, 0.0, 1.0, "start")


def test_motion_and_pose_energy_exact():
    """The whole body moves 0.01 frame heights right per sample at 4 samples/s; head = 0.16."""
    obs = [ppl.FrameObs(i, i * 0.25, [ppl.person_from_landmarks(_landmarks(0.3, 0.35, dx=0.01 * i), 1.0)])
           for i in range(5)]
    m = ppl.motion(obs, [0] * 5)
    assert m["pose_energy"] == pytest.approx(0.01 / 0.16 / 0.25, rel=1e-3)
    assert m["subject_motion"] == pytest.approx(0.01 / 0.16 / 0.25, rel=1e-3)
    assert m["pose_articulation"] == pytest.approx(0.0, abs=1e-9)  # pure translation: no articulation
    # a cut between samples 2 and 3: that pair is not counted, the value is unchanged
    assert ppl.motion(obs, [0, 0, 0, 1, 1])["pose_energy"] == pytest.approx(m["pose_energy"])


def test_summary_on_planted_frames():
    person = ppl.person_from_box((0.4, 0.2, 0.6, 0.8), 0.9, 1.0)
    obs = [ppl.FrameObs(i, i * 0.25, [person] if i % 2 == 0 else []) for i in range(4)]
    out = ppl.summarise(obs, [_span(0, 4)], [0] * 4)
    assert out["person_fraction"] == 0.5
    assert out["mean_area_fraction"] == pytest.approx(0.12, abs=1e-4)
    expected = np.mean([np.sqrt(0.12) * (0.5 + 0.5 * ppl.centrality(person.clipped)), 0.0] * 2)
    assert out["subject_prominence"] == pytest.approx(expected, abs=1e-4)
    assert out["shot_size"] == "wide" and out["shots"][0]["shot_size"] == "wide"
    assert out["head_cut_fraction"] == 0.0 and out["mean_headroom"] == pytest.approx(0.2)


# --- people: backends ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def yolo_models_dir(tmp_path_factory) -> Path:
    if importlib.util.find_spec("ultralytics") is None:  # no importorskip: torchvision must not load before compat
        pytest.skip("ultralytics is not installed")
    from evalverse.compat.torchvision_cpu import ensure_torchvision

    ensure_torchvision()
    root = tmp_path_factory.mktemp("models")
    import os

    os.environ.setdefault("YOLO_CONFIG_DIR", str(root / "ultralytics"))
    from evalverse.compat.ultralytics_import import import_yolo

    YOLO = import_yolo()

    import torch

    torch.manual_seed(0)
    (root / "yolo").mkdir()
    YOLO("yolo11n.yaml").save(str(root / ppl.YOLO_FILE))
    return root


def test_yolo_backend_boxes_match_direct_predict(yolo_models_dir, settings):
    """A random YOLO11n: the operator's boxes are the model's own boxes (RGB->BGR, normalised to the frame)."""
    settings = settings.model_copy(update={"models_dir": yolo_models_dir})
    frames = np.stack([textured(120, 160, seed) for seed in (1, 1, 2, 2)])
    video = memory_video(frames, fps=4.0)
    params = {"people": {"conf": 0.0001, "imgsz": 160}}
    rec = run_operators(video, settings, names=["people"], params=params)["people"]
    assert rec.status == "ok", rec.message
    assert rec.backend == "yolo"
    model = ppl.load_yolo(yolo_models_dir / ppl.YOLO_FILE, settings)
    direct = model.predict([np.ascontiguousarray(f[..., ::-1]) for f in frames], imgsz=160, conf=0.0001,
                           classes=[0], verbose=False)
    assert sum(len(r.boxes) for r in direct) > 0  # the comparison below is not vacuous
    for frame_out, r in zip(rec.results["frames"], direct):
        assert frame_out["count"] == len(r.boxes)
        if len(r.boxes):
            boxes = r.boxes.xyxy.numpy() / [160, 120, 160, 120]
            clipped = np.clip(boxes, 0, 1)
            areas = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
            assert frame_out["bbox"] == pytest.approx(clipped[np.argmax(areas)].tolist(), abs=1e-3)
    assert 0.0 <= rec.results["person_fraction"] <= 1.0


def test_yolo_missing_weights_falls_back_to_pose(settings):
    from evalverse.operators.people import People

    avail = People.availability(settings)
    assert avail.backend == "mediapipe_pose"
    assert "evalverse models pull yolo" in avail.fixes["yolo"]


@pytest.mark.slow
def test_pose_backend_on_a_real_talking_head(shared_media, settings):
    pytest.importorskip("mediapipe")
    video = decode(shared_media / "real_talking_man_suit_retalking1.mp4", settings)
    rec = run_operators(video, settings, names=["people"])["people"]
    assert rec.status == "ok" and rec.backend == "mediapipe_pose", rec.message
    r = rec.results
    assert r["person_fraction"] > 0.9  # one man, frontal, the whole clip
    assert r["shot_size"] in ("close_up", "medium")  # head and shoulders, suit visible
    assert r["mean_centrality"] > 0.7
    assert r["pose_energy"] is not None and r["pose_energy"] < 0.5  # a seated talking head barely moves


@pytest.mark.slow
def test_pose_backend_on_people_walking(shared_media, settings):
    pytest.importorskip("mediapipe")
    video = decode(shared_media / "ai_videoscore_example_people_walking.mp4", settings)
    rec = run_operators(video, settings, names=["people"])["people"]
    assert rec.status == "ok", rec.message
    r = rec.results
    assert r["person_fraction"] > 0.2
    assert r["shot_size"] in ("wide", "extreme_wide")  # small full figures
    talking = run_operators(decode(shared_media / "real_talking_man_suit_retalking1.mp4", settings), settings,
                            names=["people"])["people"].results
    assert r["pose_energy"] > 5 * talking["pose_energy"]  # walking moves far more than talking


# --- features: classical -------------------------------------------------------------------------------------

def test_ssim_matches_scikit_image():
    metrics = pytest.importorskip("skimage.metrics")
    a = textured(64, 80, 3).mean(axis=2)
    b = np.clip(a + np.random.default_rng(0).normal(0, 12, a.shape), 0, 255)
    ref = metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                        data_range=255)
    assert feat.ssim(a, b) == pytest.approx(ref, abs=0.02)
    assert feat.ssim(a, a) == pytest.approx(1.0)


def test_abrupt_change_rule():
    drops = np.array([0.02, 0.03, 0.02, 0.5, 0.025, 0.03])
    assert feat.abrupt_changes(drops, 6.0, 0.25).tolist() == [False, False, False, True, False, False]
    assert not feat.abrupt_changes(np.full(5, 0.3), 6.0, 0.25).any()  # uniformly low: nothing stands out


@pytest.fixture(scope="module")
def cuts_video(tmp_path_factory):
    from evalverse.config import Settings

    tmp = tmp_path_factory.mktemp("cuts")
    syn = cuts_clip(tmp / "cuts.mp4")
    return decode(syn.path, Settings(data_dir=tmp, db_path=tmp / "db", models_dir=tmp / "m")), syn.truth


def _ctx(video, settings, backend, **evidence):
    from evalverse.operators.features import Features

    return OperatorContext(video=video, settings=settings, backend=backend, params=dict(Features.default_params),
                           evidence=evidence)


def test_classical_similarity_drops_exactly_at_cuts(cuts_video, settings):
    from evalverse.operators.features import Features

    video, truth = cuts_video
    out = run_results(Features, _ctx(video, settings, "classical"))  # no shots evidence: the clip is one "shot"
    t = np.array(out["to_previous"]["times"])
    v = np.array(out["to_previous"]["values"])
    prev_t = np.array(out["to_first"]["times"])[:-1]
    straddles = np.array([any(a < c <= b + 1e-6 for c in truth["cut_times"]) for a, b in zip(prev_t, t)])
    assert straddles.sum() == len(truth["cut_times"])
    assert v[straddles].max() < 0.6 < 0.75 < v[~straddles].min()
    # without shot boundaries the cuts are abrupt changes inside the one shot, found at the cut times
    flagged = sorted(c["time"] for c in out["abrupt_changes"])
    assert flagged == pytest.approx(sorted(t[straddles].tolist()))
    assert out["n_abrupt_changes"] == len(truth["cut_times"]) and all("from" in c for c in out["abrupt_changes"])


def test_classical_with_shots_evidence(cuts_video, settings):
    from evalverse.operators.features import Features

    video, truth = cuts_video
    bounds = list(zip([0, *truth["cut_frames"]], [*truth["cut_frames"], truth["n"]]))
    out = run_results(Features, _ctx(video, settings, "classical", shots=frame_shots(bounds, video.times)))
    assert out["shot_source"] == "shots evidence"
    assert out["abrupt_changes"] == []  # the drops sit on shot boundaries
    assert [s["index"] for s in out["shots"]] == [0, 1, 2]
    inside = out["min_to_previous_in_shot"]
    m = np.array(out["cross_shot"]["matrix"])
    assert m.shape == (3, 3) and np.allclose(np.diag(m), 1.0) and np.allclose(m, m.T)
    assert out["cross_shot"]["n_shots"] == 3 and out["n_abrupt_changes"] == 0
    assert m[~np.eye(3, dtype=bool)].max() < 0.6 < inside


def test_classical_static_clip_is_self_similar(tmp_path, settings):
    syn = silent_audio_clip(tmp_path / "static.mp4", seconds=2.0)
    rec = run_operators(decode(syn.path, settings), settings, names=["features"], prefer={"features": "classical"})
    r = rec["features"].results
    assert rec["features"].backend == "classical"
    assert min(r["to_first"]["values"]) > 0.98 and min(r["to_previous"]["values"]) > 0.98
    assert r["abrupt_changes"] == [] and r["first_to_last"] > 0.98


# --- features: DINOv2 -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dino_models_dir(tmp_path_factory) -> Path:
    if importlib.util.find_spec("transformers") is None:
        pytest.skip("transformers is not installed")
    from evalverse.compat.torchvision_cpu import ensure_torchvision

    ensure_torchvision()
    import torch
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("models")
    folder = root / feat.DINO_DIR
    cfg = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                       image_size=56, patch_size=14)
    Dinov2Model(cfg).save_pretrained(folder)
    BitImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 56, "width": 56}, do_center_crop=True,
                      image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]).save_pretrained(folder)
    return root


def test_dinov2_backend_is_chosen_and_matches_the_model(dino_models_dir, cuts_video, settings):
    import torch

    settings = settings.model_copy(update={"models_dir": dino_models_dir})
    video, truth = cuts_video
    rec = run_operators(video, settings, names=["features"])["features"]
    assert rec.status == "ok", rec.message
    assert rec.backend == "dinov2"
    r = rec.results
    assert r["sampled_frames"] == len(r["to_first"]["values"]) and r["to_first"]["values"][0] == pytest.approx(1.0)
    # the similarities are cosines of the model's layer-normed CLS tokens of the sampled frames
    processor, model = feat.load_dinov2(dino_models_dir / feat.DINO_DIR)
    idx = sample_indices(video.times, 4.0, 160)
    frames = video.frames[idx]
    with torch.inference_mode():
        cls = model(**processor(images=list(frames), return_tensors="pt")).last_hidden_state[:, 0]
    ref = torch.nn.functional.normalize(cls, dim=-1).numpy()
    assert feat.dinov2_embeddings(frames, dino_models_dir / feat.DINO_DIR) == pytest.approx(ref, abs=1e-5)
    assert r["to_first"]["times"] == pytest.approx(video.times[idx].tolist(), abs=1e-3)
    assert r["to_first"]["values"] == pytest.approx((ref @ ref[0]).tolist(), abs=1e-3)
    assert r["to_previous"]["values"] == pytest.approx(np.sum(ref[1:] * ref[:-1], axis=1).tolist(), abs=1e-3)


def test_dinov2_static_clip_is_self_similar(dino_models_dir, tmp_path, settings):
    settings = settings.model_copy(update={"models_dir": dino_models_dir})
    syn = silent_audio_clip(tmp_path / "static.mp4", seconds=2.0)
    r = run_operators(decode(syn.path, settings), settings, names=["features"])["features"].results
    assert r["backend"] == "dinov2"
    assert min(r["to_previous"]["values"]) > 0.99 and r["abrupt_changes"] == []
