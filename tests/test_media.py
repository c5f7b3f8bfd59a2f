"""Probe and decode on synthetic clips with planted truth, and every kind of bad input."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest

from evalverse.config import MediaLimits
from evalverse.errors import InputError
from evalverse.media import decode_video, probe_video
from evalverse.media.probe import is_vfr
from evalverse.media.synthetic import (
    cuts_clip, ffmpeg_binary, pulse_av_clip, rotated_copy, silent_audio_clip, textured, write_video,
)


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_binary(), "-y", "-loglevel", "error", *args], check=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def cuts(clips):
    return cuts_clip(clips / "cuts.mp4")


def quadrants(h: int = 120, w: int = 160) -> np.ndarray:
    """An image whose orientation is unambiguous: four differently coloured quadrants."""
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2, : w // 2] = (230, 30, 30)
    img[: h // 2, w // 2:] = (30, 230, 30)
    img[h // 2:, : w // 2] = (30, 30, 230)
    img[h // 2:, w // 2:] = (230, 230, 230)
    return img


# --- probe ------------------------------------------------------------------------------------------------

def test_probe_reports_planted_facts(cuts):
    meta = probe_video(cuts.path)
    assert meta.duration_s == pytest.approx(100 / 25, abs=0.05)
    assert meta.fps == pytest.approx(25)
    assert meta.n_frames == 100
    assert (meta.width, meta.height) == (320, 240) == (meta.coded_width, meta.coded_height)
    assert meta.vcodec == "h264" and meta.rotation == 0 and meta.sample_aspect_ratio == 1.0
    assert not meta.variable_frame_rate
    assert meta.has_audio is False and meta.audio_silent is None and meta.acodec is None
    data = cuts.path.read_bytes()
    assert meta.size_bytes == len(data)
    assert meta.content_hash == hashlib.sha256(data).hexdigest()


def test_vfr_flag_from_intervals():
    assert not is_vfr(np.arange(50) / 25)
    assert is_vfr(np.cumsum(np.r_[0, np.full(20, 0.04), np.full(20, 0.08)]))
    assert not is_vfr(np.array([0.0, 0.04]))


# --- decode -----------------------------------------------------------------------------------------------

def test_decode_frames_times_and_stills(cuts):
    video = decode_video(cuts.path, n_stills=4)
    assert video.frames.shape == (100, 240, 320, 3) and video.frames.dtype == np.uint8
    np.testing.assert_allclose(video.times, np.arange(100) / 25, atol=1e-6)
    assert video.fps == pytest.approx(25)
    assert video.audio is None
    # stills at the middles of four equal parts: 0.5, 1.5, 2.5, 3.5 s
    assert video.stills.shape == (4, 240, 320, 3)
    np.testing.assert_allclose(video.still_times, [0.5, 1.5, 2.5, 3.5], atol=1 / 25 + 1e-6)
    # the pixels are the planted ones (within H.264 loss): shot 0 at frame 0, shot 1 at frame 25
    assert np.abs(video.frames[0].astype(int) - textured(240, 320, 0)).mean() < 6
    assert np.abs(video.frames[25].astype(int) - textured(240, 320, 1)).mean() < 6
    assert np.abs(video.frames[25].astype(int) - textured(240, 320, 0)).mean() > 20


def test_decode_resizes_to_analysis_long_side(cuts):
    video = decode_video(cuts.path, analysis_long_side=160, n_stills=2)
    assert video.frames.shape[1:] == (120, 160, 3)
    assert video.stills.shape[1:] == (240, 320, 3)  # stills stay full size (under the 1920 cap)


def test_decode_subsamples_above_max_fps(clips):
    clip = cuts_clip(clips / "fifty.mp4", cut_frames=(50,), n=100, fps=50.0)
    video = decode_video(clip.path, max_fps=25)
    assert len(video.frames) == 50
    np.testing.assert_allclose(np.diff(video.times), 0.04, atol=1e-6)
    assert video.meta.n_frames == 100  # the source count is still reported


def test_decode_memory_budget_thins_frames(cuts):
    budget_mb = 2.0  # 320x240x3 = 230 kB a frame: about 9 frames over 4 s
    video = decode_video(cuts.path, max_analysis_mb=budget_mb)
    assert video.frames.nbytes <= budget_mb * 2**20 * 1.15
    assert 5 <= len(video.frames) < 20
    assert np.all(np.diff(video.times) > 0)


@pytest.mark.parametrize("ccw", [90, 180, 270])
def test_rotation_display_matrix_applied(clips, ccw):
    img = quadrants()
    src = write_video(clips / f"upright{ccw}.mp4", [img] * 10, 25, (160, 120))
    clip = rotated_copy(src, clips / f"rot{ccw}.mp4", ccw)
    meta = probe_video(clip.path)
    assert meta.rotation == clip.truth["rotation_cw"] == (-ccw) % 360
    assert (meta.width, meta.height) == ((120, 160) if ccw in (90, 270) else (160, 120))
    video = decode_video(clip.path, n_stills=1)
    expected = np.rot90(img, k=ccw // 90)  # counter-clockwise turn, as the display matrix asks
    assert video.frames.shape[1:] == expected.shape
    assert np.abs(video.frames[0].astype(int) - expected).mean() < 8
    assert np.abs(video.stills[0].astype(int) - expected).mean() < 8
    # FFmpeg's own auto-rotation agrees
    ref = subprocess.run([ffmpeg_binary(), "-loglevel", "error", "-i", str(clip.path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    ref = np.frombuffer(ref, np.uint8).reshape(expected.shape)
    assert np.abs(video.frames[0].astype(int) - ref).mean() < 8


def test_anamorphic_pixels_are_stretched(clips):
    img = quadrants(288, 352)
    path = write_video(clips / "anamorphic.mp4", [img] * 10, 25, (352, 288), extra=["-vf", "setsar=16/11"])
    meta = probe_video(path)
    assert meta.sample_aspect_ratio == pytest.approx(16 / 11)
    assert (meta.coded_width, meta.coded_height) == (352, 288)
    assert (meta.width, meta.height) == (512, 288)
    video = decode_video(path, n_stills=1)
    assert video.frames.shape[1:] == (288, 512, 3)
    # the quadrant border sits at the middle of the stretched width
    row = video.frames[0, 60].astype(int)
    assert row[200, 0] > 150 and row[312, 1] > 150


def test_silent_audio_is_flagged(clips):
    clip = silent_audio_clip(clips / "silent.mp4")
    meta = probe_video(clip.path)
    assert meta.has_audio and meta.audio_silent is True and meta.acodec == "aac"
    video = decode_video(clip.path)
    assert video.meta.audio_silent is True
    assert video.audio is not None and video.audio.dtype == np.float32
    assert len(video.audio) == pytest.approx(2.0 * 16_000, abs=0.05 * 16_000)
    assert np.abs(video.audio).max() == 0.0


def test_audio_is_16k_mono_and_aligned_to_video(clips):
    clip = pulse_av_clip(clips / "pulse.mp4", offset_s=0.2)
    meta = probe_video(clip.path)
    assert meta.has_audio and meta.audio_silent is False
    video = decode_video(clip.path)
    assert video.audio_rate == 16_000 and video.audio.ndim == 1
    env = np.abs(video.audio) > 0.1
    onsets = np.flatnonzero(env[1:] & ~env[:-1]) + 1
    first = onsets[0] / 16_000
    assert first == pytest.approx(0.2, abs=0.03)  # beep planted 0.2 s after the first flash (frame 0)
    assert video.frames[0].mean() > 200  # and the flash is at t = 0


def test_surround_audio_downmixed_and_resampled(clips):
    wav = clips / "six.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2", "-ac", "6", str(wav))
    img = textured(120, 160, 4)
    path = clips / "surround.mp4"
    write_video(clips / "six_video.mp4", [img] * 50, 25, (160, 120))
    ffmpeg("-i", str(clips / "six_video.mp4"), "-i", str(wav), "-c:v", "copy", "-c:a", "aac", "-ac", "6", str(path))
    meta = probe_video(path)
    assert meta.audio_channels == 6 and meta.audio_sample_rate == 48000
    video = decode_video(path)
    assert video.audio.ndim == 1 and len(video.audio) == pytest.approx(32_000, abs=1600)
    mid = video.audio[8000:24000]
    spectrum = np.abs(np.fft.rfft(mid))
    assert np.argmax(spectrum) * 16_000 / len(mid) == pytest.approx(440, abs=5)


def test_no_audio_stream_gives_none(cuts):
    assert decode_video(cuts.path).audio is None


# --- bad input --------------------------------------------------------------------------------------------

def _bad(path: Path, match: str, limits: MediaLimits | None = None) -> None:
    with pytest.raises(InputError, match=match):
        probe_video(path, limits)
    with pytest.raises(InputError, match=match):
        decode_video(path, limits)


def test_missing_and_empty_files(tmp_path):
    _bad(tmp_path / "nope.mp4", "not found")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    _bad(empty, "empty")


def test_text_file_renamed_mp4(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are not the frames you are looking for\n" * 50)
    _bad(fake, "not a readable video")


def test_truncated_mp4(tmp_path, cuts):
    data = cuts.path.read_bytes()  # index (moov) at the end: cutting the tail loses it
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    _bad(cut, "not a readable video|corrupt|truncated")


def test_truncated_faststart_mp4(tmp_path, cuts):
    fast = tmp_path / "fast.mp4"
    ffmpeg("-i", str(cuts.path), "-c", "copy", "-movflags", "+faststart", str(fast))
    data = fast.read_bytes()  # index at the front: the header promises 4 s, the bytes hold ~2 s
    cut = tmp_path / "fastcut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    _bad(cut, "truncated")


def test_audio_only_file(tmp_path):
    audio = tmp_path / "tone.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=1", "-c:a", "aac", str(audio))
    _bad(audio, "has no video stream")


@pytest.mark.parametrize("limits, env", [
    (MediaLimits(max_file_mb=0.001), "EVALVERSE_MAX_FILE_MB"),
    (MediaLimits(max_duration_s=1), "EVALVERSE_MAX_DURATION_S"),
    (MediaLimits(max_pixels=1000), "EVALVERSE_MAX_PIXELS"),
])
def test_over_limit_refused_with_the_knob_to_raise_it(cuts, limits, env):
    _bad(cuts.path, env, limits)



def test_decode_with_the_probe_meta_does_not_hash_the_file_again(tmp_path, monkeypatch):
    from evalverse.media import decode as decode_mod
    from evalverse.media import decode_video, probe_video
    from evalverse.media.synthetic import silent_audio_clip

    clip = silent_audio_clip(tmp_path / "s.mp4").path
    meta = probe_video(clip)

    def no_second_hash(path):
        raise AssertionError("decode_video re-hashed a file the probe already hashed")

    monkeypatch.setattr(decode_mod, "sha256_file", no_second_hash)
    video = decode_video(clip, meta=meta)
    assert video.meta.content_hash == meta.content_hash and video.meta.audio_silent is True
    assert len(video.frames) == meta.n_frames
