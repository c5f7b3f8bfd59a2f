"""Faces at a reduced detector rate: the detector runs every k-th frame and wherever faces change, faces seen
by two detector frames in a row are filled in between, and identity embeddings go only where tracks need them.
A fake detector and mesh read the face's position from the frame itself, so the truth is known per frame."""
from __future__ import annotations

import numpy as np
import pytest

from evalverse.operators import face_tracking as ft
from evalverse.operators.faces import FacesOperator, _dense_pass

P = {**FacesOperator.default_params, "min_face_fraction": 0.0}


def clip(positions: list[tuple[int, int] | None]) -> np.ndarray:
    """Frames whose pixel (0, 0) says where the face is: (1, x, y), or (0, 0, 0) for no face."""
    frames = np.zeros((len(positions), 120, 160, 3), np.uint8)
    for k, pos in enumerate(positions):
        if pos is not None:
            frames[k, 0, 0] = (1, *pos)
    return frames


class Detector:
    def __init__(self):
        self.calls: list[int] = []

    def __call__(self, img, i, t):
        self.calls.append(i)
        on, x, y = (int(v) for v in img[0, 0])
        return [ft.Detection(i, t, np.array([x, y, x + 40, y + 40], float), 0.9)] if on else []


class Mesh:
    """Follows the face when `sees` is true (landmarks spanning its box), else finds nothing."""

    def __init__(self, sees: bool = True):
        self.sees = sees

    def mesh(self, img):
        on, x, y = (int(v) for v in img[0, 0])
        if not (on and self.sees):
            return []
        pts = np.zeros((478, 3))
        pts[:, 0] = np.linspace(x, x + 40, 478)
        pts[:, 1] = np.linspace(y, y + 40, 478)
        return [pts]


def run(frames, shot_starts=(0.0,), mesh=None, fps=25.0):
    times = np.arange(len(frames)) / fps
    det = Detector()
    per_frame, rows, looked = _dense_pass(frames, times, np.arange(len(frames)), list(shot_starts), det,
                                          mesh or Mesh(), P)
    return per_frame, rows, looked, det


def test_a_steady_face_is_detected_at_about_5_fps_and_filled_exactly_in_between():
    frames = clip([(20 + k // 2, 30) for k in range(100)])  # drifts right, half a pixel a frame
    per_frame, rows, looked, det = run(frames)
    assert len(det.calls) <= 100 / 5 + 2 and looked[0] == 0 and looked[-1] == 99
    assert [len(d) for d in per_frame] == [1] * 100 and len(rows) == 100  # mesh on every frame
    for k, dets in enumerate(per_frame):  # the filled box is the linear interpolation of the detected ones
        assert dets[0].box[0] == pytest.approx(20 + k // 2, abs=1.0)
    assert sum(d[0].tracked for d in per_frame) == 100 - len(looked)


def test_a_face_the_mesh_cannot_follow_is_still_pinned_to_the_frame_it_comes_and_goes():
    truth = [None] * 13 + [(50, 40)] * 49 + [None] * 38  # on screen from frame 13 to 61
    per_frame, _, looked, det = run(clip(truth), mesh=Mesh(sees=False))
    assert [len(d) for d in per_frame] == [int(p is not None) for p in truth]
    assert len(det.calls) < 40  # halving the gaps where the face changed, not every frame


def test_a_face_that_moves_further_than_its_size_between_looks_is_followed_by_looking_in_between():
    truth = [(5 + 12 * k, 40) if k < 9 else (5 + 12 * 8, 40) for k in range(30)]  # 12 px a frame, 40 px face
    per_frame, _, _, det = run(clip(truth), mesh=Mesh(sees=False))
    tracks = ft.build_tracks(per_frame, ft.IdentityMetric("euclidean", 0.6))
    assert [len(d) for d in per_frame] == [1] * 30 and len(tracks) == 1


def test_faces_are_not_filled_across_a_cut_and_each_shot_is_looked_at_on_both_ends():
    truth = [(20, 20)] * 50 + [(100, 60)] * 50
    per_frame, _, looked, _ = run(clip(truth), shot_starts=(0.0, 2.0))
    assert {0, 49, 50, 99} <= set(looked)
    tracks = ft.build_tracks(per_frame, ft.IdentityMetric("euclidean", 0.6), shot_starts=[0.0, 2.0])
    assert [(t.shot, len(t.detections)) for t in tracks] == [(0, 50), (1, 50)]


def test_fill_between_pairs_faces_by_overlap_and_drops_the_unpaired():
    a = [ft.Detection(0, 0.0, np.array([0, 0, 10, 10], float), 0.9),
         ft.Detection(0, 0.0, np.array([50, 50, 60, 60], float), 0.8)]
    b = [ft.Detection(4, 0.4, np.array([4, 0, 14, 10], float), 0.7)]
    matched, unpaired = ft.match_faces(a, b)
    assert len(matched) == 1 and unpaired == 1
    rows = ft.fill_between(a, b, [(1, 0.1), (2, 0.2), (3, 0.3)])
    assert [len(r) for r in rows] == [1, 1, 1] and all(r[0].tracked for r in rows)
    assert rows[1][0].box.tolist() == [2, 0, 12, 10] and rows[1][0].score == 0.7


def test_embedding_plan_one_per_second_per_track_first_ones_first_and_no_blips():
    def track(tid, t0, t1, step=0.2):
        dets = [ft.Detection(k, t, np.zeros(4), 0.9) for k, t in enumerate(np.arange(t0, t1 + 1e-9, step))]
        return ft.Track(tid, dets)

    long, short, blip = track(0, 0.0, 4.0), track(1, 1.0, 2.0), track(2, 3.0, 3.0)
    plan = ft.embedding_plan([long, short, blip], every_s=1.0, cap=24)
    assert sorted(round(d.time, 3) for d in plan if d in long.detections) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert sorted(round(d.time, 3) for d in plan if d in short.detections) == [1.0, 2.0]
    assert not any(d in blip.detections for d in plan)  # seen once: no identity
    capped = ft.embedding_plan([long, short], every_s=1.0, cap=3)
    assert [round(d.time, 3) for d in capped] == [0.0, 1.0, 1.0]  # each track's first, then the longer one's second
    filled = track(3, 0.0, 1.0)
    for d in filled.detections[1:-1]:
        d.tracked = True
    assert [d.time for d in ft.embedding_plan([filled])] == [0.0, 1.0]  # filled faces are never embedded


# ---- against every-frame detection on shared clips (slow) --------------------------------------------------

def _same_face(a, b, interval_s: float) -> bool:
    """Two track rows are the same face: same shot, starts and ends within one detector interval, centres
    within half a face of each other (the face's side taken as the root of its area fraction)."""
    half_face = 0.5 * max(a.area_fraction_mean, b.area_fraction_mean) ** 0.5
    return (a.shot == b.shot and abs(a.start - b.start) <= interval_s + 1e-6 and abs(a.end - b.end) <= interval_s + 1e-6
            and float(np.hypot(*(np.subtract(a.center_mean, b.center_mean)))) <= half_face)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["real_talking_man_suit_retalking1.mp4", "real_multishot_speech_bbc_documentary.mp4",
                                  "ai_cogvideox_face_closeup.mp4"])
def test_on_shared_clips_detecting_at_5_fps_keeps_every_face_that_every_frame_detection_sees(name, shared_media, settings):
    """The trade stated for the reduced detector rate: the mesh (and so the mouth series lip-sync reads) is the
    same, every face seen on more frames than one detector interval holds is found with the same span and place,
    and nothing is found that every-frame detection does not see; only faces seen on fewer frames may go."""
    from evalverse.media.decode import decode_video
    from evalverse.operators.base import OperatorContext

    video = decode_video(shared_media / name, settings)
    reduced = FacesOperator().run(OperatorContext(video=video, settings=settings, backend="mediapipe"))
    every = FacesOperator().run(OperatorContext(video=video, settings=settings, backend="mediapipe",
                                                params={"detect_fps": FacesOperator.default_params["mesh_fps"]}))
    assert every.frames_detected == every.frames_analysed == reduced.frames_analysed
    assert reduced.frames_detected < every.frames_detected  # the detector really ran less
    assert reduced.mouth_open_series == every.mouth_open_series and reduced.expression == every.expression
    interval_s = 1.0 / FacesOperator.default_params["detect_fps"]
    per_interval = round(FacesOperator.default_params["mesh_fps"] * interval_s)  # frames between two looks
    lasting = lambda tracks: [t for t in tracks if t.n_detections > per_interval]  # noqa: E731
    for t in lasting(every.tracks):
        assert any(_same_face(t, r, interval_s) for r in reduced.tracks), (t, reduced.tracks)
    for r in lasting(reduced.tracks):
        assert any(_same_face(r, t, interval_s) for t in every.tracks), (r, every.tracks)
    assert reduced.n_identities <= every.n_identities
