"""The media layer on the 25 shared real clips: every file opens, facts match manifest.csv, cuts match."""
from __future__ import annotations

import csv
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from evalverse.media import decode_video, detect_shots, probe_video
from evalverse.media.synthetic import ffmpeg_binary

TOLERANCE_S = 0.25  # manifest cut times are approximate (written to 0.1 s by eye)


def manifest_rows() -> list[dict]:
    shared = Path(os.environ.get("EVALVERSE_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
    path = shared / "media" / "manifest.csv"  # the same place as conftest's shared_dir
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


ROWS = manifest_rows()
IDS = [r["file"] for r in ROWS]
SPECIAL_DISPLAY = {  # (width, height) a viewer sees where the manifest's coded size differs
    "real_multishot_speech_bbc_documentary.mp4": (1024, 576),  # SAR 16:11
}


def manifest_cuts(shots: str) -> list[float]:
    """Cut times from the manifest's shots column, e.g. '~6 (cuts ~1.2, 3.0, 5.5s)' or '2 (cut ~4.6s)'."""
    m = re.search(r"cuts? ~?([\d.,\s~]+)s", shots)
    return [float(x) for x in re.findall(r"\d+(?:\.\d+)?", m.group(1))] if m else []


def match(found: list[float], truth: list[float], tol: float = TOLERANCE_S) -> tuple[int, int, int]:
    """(true positives, false positives, misses) with one-to-one matching within `tol` seconds."""
    left = list(truth)
    tp = 0
    for t in found:
        near = [x for x in left if abs(x - t) <= tol]
        if near:
            left.remove(min(near, key=lambda x: abs(x - t)))
            tp += 1
    return tp, len(found) - tp, len(left)


def test_manifest_parser():
    assert manifest_cuts("~6 (cuts ~1.2, 3.0, 5.5, 7.5, 9.7s)") == [1.2, 3.0, 5.5, 7.5, 9.7]
    assert manifest_cuts("2 (cut ~4.6s)") == [4.6]
    assert manifest_cuts("4 (fade-in from black; cuts ~11.8, 15.7, 23.0s)") == [11.8, 15.7, 23.0]
    assert manifest_cuts("1 (+ fade to black)") == [] and manifest_cuts("1") == []
    assert match([1.0, 2.0, 5.0], [1.1, 2.3]) == (1, 2, 1)


@pytest.fixture(scope="module")
def media(shared_media: Path) -> Path:
    if not ROWS:
        pytest.skip("manifest.csv not found")
    return shared_media


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_probe_matches_manifest(media, row):
    meta = probe_video(media / row["file"])
    assert meta.duration_s == pytest.approx(float(row["duration_s"]), abs=0.1)
    assert meta.fps == pytest.approx(float(row["fps"]), rel=0.01)
    assert (meta.width, meta.height) == SPECIAL_DISPLAY.get(row["file"], (int(row["width"]), int(row["height"])))
    assert meta.vcodec == row["vcodec"]
    assert meta.has_audio == (row["has_audio"] == "True")
    if meta.has_audio:
        assert meta.acodec == row["acodec"]
        assert meta.audio_sample_rate == int(row["audio_sr"]) and meta.audio_channels == int(row["audio_ch"])
        assert meta.audio_silent is False  # every shared clip with audio has sound in it
    assert meta.size_bytes == int(row["bytes"])
    if meta.has_audio:  # measured apart from the video; the manifest's duration is the container's (the longest)
        assert max(meta.duration_s, meta.audio_duration_s) == pytest.approx(float(row["duration_s"]), abs=0.1)
        assert meta.audio_tracks == 1 and meta.audio_track_choice == "the only audio track"


def test_edge_case_metadata(media):
    fire = probe_video(media / "real_handheld_ambient_fire2.mp4")
    assert fire.rotation == 180 and fire.variable_frame_rate
    bbc = probe_video(media / "real_multishot_speech_bbc_documentary.mp4")
    assert (bbc.coded_width, bbc.coded_height) == (704, 576) and bbc.sample_aspect_ratio == pytest.approx(16 / 11)
    assert probe_video(media / "real_talking_woman_bluebg_retalking4.mp4").variable_frame_rate is False


def _ffmpeg_first_frame(path: Path, w: int, h: int) -> np.ndarray:
    """FFmpeg's own rendering of frame 0 (auto-rotated, scaled to w×h): the reference for display geometry."""
    out = subprocess.run([ffmpeg_binary(), "-loglevel", "error", "-i", str(path), "-frames:v", "1", "-vf", f"scale={w}:{h}",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(h, w, 3)


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_decode_and_cuts(media, row):
    path = media / row["file"]
    video = decode_video(path, n_stills=4)
    meta = video.meta
    n, h, w = video.frames.shape[:3]
    assert max(h, w) <= 640 and n >= 2
    assert w / h == pytest.approx(meta.width / meta.height, rel=0.02)
    assert np.all(np.diff(video.times) > 0) and video.times[0] == 0.0
    assert video.fps <= 30.5
    assert video.times[-1] == pytest.approx(meta.duration_s, abs=0.3)
    assert video.stills.shape[0] == 4 and max(video.stills.shape[1:3]) <= 1920
    # none of the shared clips is damaged: every frame in the stream decodes, no decoder error
    assert meta.decoded_frames == meta.n_frames and not meta.damaged, meta.damage_summary()
    assert (video.audio is not None) == meta.has_audio
    if video.audio is not None:
        assert video.audio.dtype == np.float32 and video.audio.ndim == 1
        assert len(video.audio) / 16_000 == pytest.approx(meta.duration_s, abs=0.3)
        assert np.abs(video.audio).max() > 0.001
    # orientation and aspect agree with FFmpeg's player-side rendering of the first frame
    ref = _ffmpeg_first_frame(path, w, h).astype(int)
    ours = video.frames[0].astype(int)
    assert np.abs(ours - ref).mean() < 12
    if meta.rotation == 180:
        assert np.abs(ours[::-1, ::-1] - ref).mean() > np.abs(ours - ref).mean() + 5

    cuts = [s.start for s in detect_shots(video)[1:]]
    truth = manifest_cuts(row["shots"])
    tp, fp, miss = match(cuts, truth)
    print(f"{row['file']}: found {np.round(cuts, 2).tolist()} truth {truth} tp={tp} fp={fp} miss={miss}")
    assert fp == 0 and miss == 0, (cuts, truth)


TRANSNET_CLIPS = ["real_multishot_silent_bikes.mp4", "real_camera_motion_city_cc0.mpg", "anim_anime_2s_subs_fonts.mkv"]


@pytest.mark.slow
@pytest.mark.parametrize("name", TRANSNET_CLIPS)
def test_transnetv2_cuts(media, name):
    row = next(r for r in ROWS if r["file"] == name)
    video = decode_video(media / name, n_stills=1, with_audio=False)
    cuts = [s.start for s in detect_shots(video, method="transnetv2")[1:]]
    truth = manifest_cuts(row["shots"])
    tp, fp, miss = match(cuts, truth)
    print(f"transnetv2 {name}: found {np.round(cuts, 2).tolist()} truth {truth} tp={tp} fp={fp} miss={miss}")
    assert fp == 0 and miss == 0, (cuts, truth)
