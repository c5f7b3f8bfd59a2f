"""Probe and decode on synthetic clips with planted truth, and every kind of bad input."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import av
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
    from evalverse.media import probe as probe_mod
    from evalverse.media import decode_video, probe_video
    from evalverse.media.synthetic import silent_audio_clip

    clip = silent_audio_clip(tmp_path / "s.mp4").path
    meta = probe_video(clip)

    def no_second_hash(path):
        raise AssertionError("decode_video re-hashed a file the probe already hashed")

    monkeypatch.setattr(probe_mod, "sha256_file", no_second_hash)
    video = decode_video(clip, meta=meta)
    assert video.meta.content_hash == meta.content_hash and video.meta.audio_silent is True
    assert len(video.frames) == meta.n_frames


# --- streams whose header states no duration (issue 13, item 1) ---------------------------------------------

@pytest.fixture(scope="module")
def four_s(clips):
    return cuts_clip(clips / "four_s.mp4", size=(160, 120))  # 100 frames, 4 s, 25 fps


@pytest.mark.parametrize("kind", ["h264", "webm"])
def test_headerless_stream_duration_and_frames_are_measured(clips, four_s, kind):
    from evalverse.media.synthetic import headerless_copy

    raw = headerless_copy(four_s.path, clips / f"headerless_{kind}.mp4", kind)  # named .mp4 whatever it holds
    meta = probe_video(raw.path)
    assert meta.container_duration_s is None  # the header states nothing ...
    assert meta.n_frames == 100 and meta.duration_s == pytest.approx(4.0, abs=0.05)  # ... so it is measured
    assert meta.fps == pytest.approx(25)
    video = decode_video(raw.path, meta=meta)
    assert video.meta.duration_s == pytest.approx(4.0, abs=0.05) and video.meta.decoded_frames == 100


def test_duration_limit_applies_to_the_measured_duration(clips, four_s):
    from evalverse.media.synthetic import headerless_copy

    raw = headerless_copy(four_s.path, clips / "headerless_limit.mp4", "h264")
    _bad(raw.path, "over the limit of 2 s .*EVALVERSE_MAX_DURATION_S", MediaLimits(max_duration_s=2))


def test_memory_budget_uses_the_measured_duration(clips, four_s):
    from evalverse.media.synthetic import headerless_copy

    raw = headerless_copy(four_s.path, clips / "headerless_budget.mp4", "h264")
    budget_mb = 2.0
    from_raw = decode_video(raw.path, max_analysis_mb=budget_mb)  # no meta given: the probe measures first
    from_mp4 = decode_video(four_s.path, max_analysis_mb=budget_mb)
    assert len(from_raw.frames) == len(from_mp4.frames)  # the same thinning as the same content in a container
    assert from_raw.frames.nbytes <= budget_mb * 2**20 * 1.15


def test_budget_holds_when_the_clip_is_longer_than_its_metadata(four_s):
    meta = probe_video(four_s.path)
    lying = meta.model_copy(update={"duration_s": 0.5})  # the budget would allow every frame of 0.5 s
    budget_mb = 2.0
    video = decode_video(four_s.path, meta=lying, max_analysis_mb=budget_mb)
    assert video.frames.nbytes <= budget_mb * 2**20
    assert video.times[-1] > 3.5 and np.all(np.diff(video.times) > 0)  # thinned evenly over the whole clip
    assert len(video.frames) == len(video.times)


# --- the probe reads its container before closing it (item 2) ------------------------------------------------

def test_probe_of_a_damaged_file_gives_one_answer(clips):
    from evalverse.media.synthetic import damaged_copy

    clean = clips / "damage_src.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=5.4", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           str(clean))
    damaged = damaged_copy(clean, clips / "damaged_mid.mp4", seed=0).path
    answers = set()
    for _ in range(200):  # stream attributes read after close() answered differently in up to ~8 % of calls
        try:
            m = probe_video(damaged)
            answers.add(("ok", m.duration_s, m.n_frames))
        except InputError as e:
            answers.add(("refused", str(e)))
    assert len(answers) == 1, answers
    (kind, duration, n_frames), = answers
    assert kind == "ok" and duration == pytest.approx(5.4, abs=0.01) and n_frames == 135


class _AfterClose:
    """Wraps a PyAV container (and the streams and codec contexts reached through it) so that reading any of
    them after `close()` fails the test: FFmpeg has freed that memory by then."""

    def __init__(self, target, closed: list[bool]):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_closed", closed)

    def _check(self, name: str) -> None:
        if self._closed[0]:
            raise AssertionError(f"{type(self._target).__name__}.{name} read after container.close()")

    def _wrap(self, value):
        if isinstance(value, tuple):
            return tuple(self._wrap(v) for v in value)
        if type(value).__module__.startswith("av.") and not isinstance(value, (av.Packet, av.frame.Frame)):
            return _AfterClose(value, self._closed)
        return value

    def __getattr__(self, name: str):
        self._check(name)
        value = getattr(self._target, name)
        if name == "close":
            def close():
                self._closed[0] = True
                value()
            return close
        if name == "demux":
            return lambda streams=(): value([getattr(st, "_target", st) for st in streams])
        return self._wrap(value)

    def __setattr__(self, name: str, value) -> None:
        self._check(name)
        setattr(self._target, name, value)

    def __getitem__(self, key):
        self._check("[]")
        return self._wrap(self._target[key])

    def __iter__(self):
        self._check("iter")
        return iter([self._wrap(v) for v in self._target])

    def __len__(self) -> int:
        self._check("len")
        return len(self._target)

    def __bool__(self) -> bool:
        self._check("bool")
        return bool(self._target)


def test_probe_and_decode_read_nothing_after_closing_the_container(clips, monkeypatch):
    from evalverse.media import decode as decode_mod
    from evalverse.media import probe as probe_mod

    for mod in (probe_mod, decode_mod):
        monkeypatch.setattr(mod, "open_container", lambda path, real=mod.open_container: _AfterClose(real(path), [False]))
    clip = pulse_av_clip(clips / "guarded.mp4").path
    meta = probe_video(clip)
    assert meta.n_frames > 0 and meta.has_audio
    assert decode_video(clip, meta=meta).meta.decoded_frames == meta.n_frames


def test_audio_only_file_says_what_it_found(tmp_path):
    audio = tmp_path / "tone.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=1", "-c:a", "aac", str(audio))
    _bad(audio, r"has no video stream \(found: audio\)")


# --- still images and clips too short to move (item 3) -------------------------------------------------------

@pytest.mark.parametrize("fmt, name", [("png", "still.mp4"), ("mjpeg", "still.webm")])
def test_still_image_renamed_as_video_is_refused_as_a_still(tmp_path, fmt, name):
    path = tmp_path / name
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120", "-frames:v", "1", "-c:v", fmt, "-f", "image2", str(path))
    _bad(path, "is a still image .*not a video")


def test_single_frame_video_is_refused_with_the_minimum(tmp_path):
    path = tmp_path / "one.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120", "-frames:v", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path))
    _bad(path, "has 1 video frame.*at least 2 are needed")


# --- damage is counted and placed (item 4) -------------------------------------------------------------------

def test_damage_is_counted_and_placed(clips):
    from evalverse.media.synthetic import damaged_copy

    clean = clips / "damage_src2.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=5.4", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           str(clean))
    ok = decode_video(clean)
    assert ok.meta.decoded_frames == ok.meta.n_frames == 135 and not ok.meta.damaged
    assert (ok.meta.undecodable_frames, ok.meta.corrupt_frames, ok.meta.decode_errors) == (0, 0, 0)
    assert ok.damaged_spans == [] and ok.meta.damage_summary() is None

    damaged = damaged_copy(clean, clips / "damaged_mid2.mp4", seed=0).path
    meta = probe_video(damaged)
    assert meta.decoded_frames is None  # the probe does not decode every frame: unknown, not 0
    video = decode_video(damaged, meta=meta)
    m = video.meta
    assert m.n_frames == 135 and m.decoded_frames < 135
    assert m.undecodable_frames == 135 - m.decoded_frames and m.decode_errors > 0
    assert len(video.frames) == m.decoded_frames
    spans = video.damaged_spans
    assert spans and sum(s.undecodable for s in spans) == m.undecodable_frames
    assert sum(s.corrupt for s in spans) == m.corrupt_frames
    # the garbage sits in the middle of the file: the damage starts after the first second and ends before the end
    assert 1.0 < spans[0].start < spans[-1].end <= 5.4
    # the frames that did decode are the ones outside the spans
    inside = [any(s.start - 1e-6 <= t < s.end for s in spans) for t in video.times]
    assert sum(inside) <= m.corrupt_frames
    assert "frames could not be decoded" in m.damage_summary()


# --- audio tracks and durations (item 7) ---------------------------------------------------------------------

def _two_tracks(tmp_path: Path, dispositions: tuple[str, str]) -> Path:
    path = tmp_path / f"two_{'_'.join(dispositions)}.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2",
           "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=16000:duration=2",
           "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000:duration=2",
           "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
           "-disposition:a:0", dispositions[0], "-disposition:a:1", dispositions[1], str(path))
    return path


def _dominant_hz(audio: np.ndarray) -> float:
    mid = audio[4000:28000]
    return float(np.argmax(np.abs(np.fft.rfft(mid))) * 16_000 / len(mid))


@pytest.mark.parametrize("dispositions, used, why", [
    (("0", "default"), 1, "marks it as the default"),
    (("0", "0"), 0, "first in the file"),
    (("default", "0"), 0, "marks it as the default"),
])
def test_which_of_two_audio_tracks_is_used_and_why(tmp_path, dispositions, used, why):
    path = _two_tracks(tmp_path, dispositions)
    meta = probe_video(path)
    assert meta.audio_tracks == 2 and meta.audio_track_index == used and why in meta.audio_track_choice
    assert f"track {used + 1} of 2" in meta.audio_track_choice and why in meta.audio_note()
    video = decode_video(path, meta=meta)
    assert _dominant_hz(video.audio) == pytest.approx((300, 1000)[used], abs=10)  # the decoded track is that one


def test_audio_longer_than_the_video_reported_apart(tmp_path):
    path = tmp_path / "long_audio.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2",
           "-f", "lavfi", "-i", "sine=frequency=440:duration=5", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
           str(path))
    meta = probe_video(path)
    assert meta.duration_s == pytest.approx(2.0, abs=0.05)  # the video's length
    assert meta.audio_duration_s == pytest.approx(5.0, abs=0.1)
    assert meta.container_duration_s == pytest.approx(5.0, abs=0.1)
    assert meta.audio_tracks == 1 and meta.audio_track_choice == "the only audio track"
    assert "the audio lasts 5.0" in meta.audio_note()


def test_duration_limit_applies_to_video_and_audio_apart(tmp_path):
    path = tmp_path / "long_audio_limit.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2",
           "-f", "lavfi", "-i", "sine=frequency=440:duration=5", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
           str(path))
    assert probe_video(path, MediaLimits(max_duration_s=6)).duration_s == pytest.approx(2.0, abs=0.05)
    _bad(path, "the audio track lasts .*over the limit of 3 s", MediaLimits(max_duration_s=3))
