"""Shot detection on clips with planted cuts, fades, flashes and motion."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalverse.errors import InputError
from evalverse.media import decode_video, detect_shots
from evalverse.media.shots import find_fades
from evalverse.media.synthetic import cuts_clip, fade_clip, flicker_clip, pan_clip, pulse_av_clip, textured
from evalverse.media.types import DecodedVideo, VideoMeta


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("shots")


def starts(shots) -> list[int]:
    return [s.start_frame for s in shots[1:]]


def assert_tiles(shots, n: int) -> None:
    """Shots are contiguous, cover every frame once, and each keyframe lies inside its shot."""
    assert shots[0].start_frame == 0 and shots[-1].end_frame == n and shots[0].transition == "start"
    for a, b in zip(shots, shots[1:]):
        assert a.end_frame == b.start_frame and a.end == pytest.approx(b.start)
    for i, s in enumerate(shots):
        assert s.index == i and s.start_frame <= s.keyframe < s.end_frame


@pytest.mark.parametrize("cut_frames, n", [((25, 60), 100), ((10, 37, 80), 100), ((12,), 30)])
def test_hard_cuts_found_exactly(clips, cut_frames, n):
    clip = cuts_clip(clips / f"cuts{len(cut_frames)}_{n}.mp4", cut_frames=cut_frames, n=n)
    video = decode_video(clip.path)
    shots = detect_shots(video)
    found = starts(shots)
    assert len(found) == len(cut_frames)
    assert all(abs(f - c) <= 1 for f, c in zip(found, cut_frames))
    assert all(s.transition == "cut" for s in shots[1:])
    assert_tiles(shots, n)
    assert [s.start for s in shots[1:]] == pytest.approx(clip.truth["cut_times"], abs=1 / 25 + 1e-6)


@pytest.mark.parametrize("colour", [0, 255])
def test_fade_through_black_or_white_is_one_boundary(clips, colour):
    clip = fade_clip(clips / f"fade{colour}.mp4", colour=colour, fade_in_start=True, fade_out_end=True)
    video = decode_video(clip.path)
    shots = detect_shots(video)
    assert len(shots) == 2, [s.as_dict() for s in shots]
    assert abs(shots[1].start_frame - clip.truth["boundary_frame"]) <= 1
    assert shots[1].transition == "fade"
    kinds = [f.kind for f in find_fades(video.frames)]
    assert "through" in kinds
    if colour == 0:
        assert kinds[0] == "in" and kinds[-1] == "out"
    # keyframes are real pictures, not the flat colour
    for s in shots:
        assert video.frames[s.keyframe].std() > 20
    assert_tiles(shots, clip.truth["n"])


def test_camera_pan_is_one_shot(clips):
    video = decode_video(pan_clip(clips / "pan.mp4", px_per_frame=8).path)
    assert len(detect_shots(video)) == 1


def test_brightness_flicker_is_one_shot(clips):
    video = decode_video(flicker_clip(clips / "flicker.mp4", amplitude=60).path)
    assert len(detect_shots(video)) == 1


def test_flashes_are_not_cuts(clips):
    video = decode_video(pulse_av_clip(clips / "flash.mp4").path)
    assert len(detect_shots(video)) == 1


def _video(frames: np.ndarray, fps: float = 25.0) -> DecodedVideo:
    n, h, w = frames.shape[:3]
    meta = VideoMeta(path="x.mp4", content_hash="0", size_bytes=1, container="mp4", duration_s=n / fps, fps=fps,
                     n_frames=n, width=w, height=h, coded_width=w, coded_height=h, vcodec="h264", has_audio=False)
    times = np.arange(n) / fps
    return DecodedVideo(meta=meta, frames=frames, times=times, stills=frames[:1], still_times=times[:1], audio=None)


def test_keyframe_is_the_stillest_frame():
    base = textured(60, 80, 1)
    # moving everywhere except frames 30..36, which hold still
    offsets = [i * 3 if i < 30 else 90 if i <= 36 else 90 + (i - 36) * 3 for i in range(50)]
    frames = np.stack([np.roll(base, o, axis=1) for o in offsets])
    shots = detect_shots(_video(frames))
    assert len(shots) == 1 and 30 <= shots[0].keyframe <= 36


def test_cut_between_raw_frames_and_tiny_videos():
    a, b = textured(60, 80, 1), textured(60, 80, 2)
    frames = np.stack([a] * 20 + [b] * 20)
    assert starts(detect_shots(_video(frames))) == [20]
    single = detect_shots(_video(frames[:1]))
    assert len(single) == 1 and single[0].end_frame == 1 and single[0].keyframe == 0


def test_unknown_method_is_an_input_error(clips):
    with pytest.raises(InputError, match="unknown shot detection method"):
        detect_shots(_video(np.zeros((3, 8, 8, 3), np.uint8)), method="magic")
    with pytest.raises(InputError, match="unknown parameter"):
        detect_shots(_video(np.zeros((3, 8, 8, 3), np.uint8)), method="classical", treshold=0.3)


@pytest.mark.slow
def test_transnetv2_finds_planted_cuts_and_fade(clips):
    clip = cuts_clip(clips / "tn_cuts.mp4", cut_frames=(25, 60), n=100)
    video = decode_video(clip.path)
    shots = detect_shots(video, method="transnetv2")
    assert [abs(f - c) <= 1 for f, c in zip(starts(shots), (25, 60))] == [True, True]
    assert_tiles(shots, 100)
    fade = fade_clip(clips / "tn_fade.mp4", fade_in_start=True, fade_out_end=True)
    shots = detect_shots(decode_video(fade.path), method="transnetv2")
    assert len(shots) == 2 and abs(shots[1].start_frame - fade.truth["boundary_frame"]) <= 1


def test_shots_evidence_carries_keyframe_thumbnails_from_the_one_decode(settings):
    """Views draw keyframes from the shots evidence; nothing re-opens the video to make them."""
    from evalverse.operators.runner import run_operators

    frames = np.zeros((40, 90, 160, 3), np.uint8)
    frames[20:] = 200  # one hard cut at frame 20
    rec = run_operators(_video(frames, 10.0), settings, names=["shots"])["shots"]
    shots = rec.typed().shots
    assert len(shots) == 2
    for s in shots:
        assert s.thumbnail.startswith("data:image/jpeg;base64,") and s.start_frame <= s.keyframe < s.end_frame
