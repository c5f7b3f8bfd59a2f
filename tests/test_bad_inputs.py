"""The bad-input corpus (issue 13): every odd or broken file gets a clear one-line refusal or a result whose
metadata matches how the file was made. Files are generated here with ffmpeg (no binary fixtures); the big
ones (4K 60 fps, 10-bit HEVC, ProRes) and the full pipeline over the corpus are marked slow.

Also here: the CLI's stderr carries EvalVerse's lines only, the Diagnose UI warns about damage, refuses a
media-folder name that is no file, and passes Gradio the upload size limit.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from evalverse.config import MediaLimits, Settings
from evalverse.errors import InputError
from evalverse.media import decode_video, probe_video
from evalverse.media.synthetic import (
    cuts_clip, damaged_copy, ffmpeg_binary, headerless_copy, rotated_copy, silent_audio_clip,
)

REPO = Path(__file__).resolve().parents[1]
SIZE = "160x120"
VIDEO_2S = ["-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate=25:duration=2"]
H264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]


def ff(*args: str) -> None:
    subprocess.run([ffmpeg_binary(), "-y", "-loglevel", "error", *args], check=True)


def tone(seconds: float, hz: int = 440, extra: str = "") -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency={hz}:duration={seconds}{extra}"]


def plain(d: Path, name: str = "plain.mp4") -> Path:
    path = d / name
    if not path.exists():
        ff(*VIDEO_2S, *H264, str(path))
    return path


def renamed(d: Path, name: str) -> Path:
    """A 2 s clip under an awkward name (made under a plain one: ffmpeg would read a leading dash as an option)."""
    path = d / name
    tmp = d / f"tmp_{abs(hash(name))}.mp4"
    ff(*VIDEO_2S, *H264, str(tmp))
    tmp.rename(path)
    return path


# ---- the corpus: name -> (make(folder) -> path, expected) -----------------------------------------------------
# expected: a regex the one-line refusal must match, or the metadata fields the result must have (floats ± 0.06)

def _text(d: Path) -> Path:
    p = d / "notes.mp4"
    p.write_text("not a video\n" * 100)
    return p


def _empty(d: Path) -> Path:
    p = d / "empty.mp4"
    p.write_bytes(b"")
    return p


def _image(d: Path, codec: str, name: str) -> Path:
    p = d / name
    ff("-f", "lavfi", "-i", f"testsrc2=size={SIZE}", "-frames:v", "1", "-c:v", codec, "-f", "image2", str(p))
    return p


def _one_frame(d: Path) -> Path:
    p = d / "one_frame.mp4"
    ff("-f", "lavfi", "-i", f"testsrc2=size={SIZE}", "-frames:v", "1", *H264, str(p))
    return p


def _audio_only(d: Path) -> Path:
    p = d / "tone.m4a"
    ff(*tone(1), "-c:a", "aac", str(p))
    return p


def _cover_art(d: Path) -> Path:
    cover = _image(d, "png", "cover.png")
    p = d / "song_with_cover.m4a"
    ff(*tone(1), "-i", str(cover), "-map", "0", "-map", "1", "-c:a", "aac", "-c:v", "png",
       "-disposition:v:0", "attached_pic", str(p))
    return p


def _cut(d: Path, faststart: bool) -> Path:
    src = d / ("fast.mp4" if faststart else "moov_last.mp4")
    ff(*VIDEO_2S, *H264, *(["-movflags", "+faststart"] if faststart else []), str(src))
    data = src.read_bytes()
    p = d / ("truncated.mp4" if faststart else "missing_index.mp4")
    p.write_bytes(data[: len(data) // 2])  # faststart: index kept, data half gone; else: index (at the end) gone
    return p


def _garbage(d: Path) -> Path:
    src = d / "for_garbage.mp4"
    ff("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=5.4", *H264, str(src))
    return damaged_copy(src, d / "garbage_mid.mp4", seed=0).path


def _sized(d: Path, size: str, name: str) -> Path:
    p = d / name
    ff("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25", "-frames:v", "3", *H264, str(p))
    return p


def _vfr(d: Path) -> Path:
    p = d / "vfr.mp4"  # 25 frames 0.04 s apart, then 25 frames 0.08 s apart: 1 s + 2 s
    ff("-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate=25", "-frames:v", "50",
       "-vf", "setpts='if(lt(N,25),N*0.04,1+(N-25)*0.08)/TB'", "-fps_mode", "passthrough", *H264, str(p))
    return p


def _surround(d: Path) -> Path:
    p = d / "surround.mp4"
    ff(*VIDEO_2S, *tone(2), *H264, "-c:a", "aac", "-ac", "6", str(p))
    return p


def _subs_and_attachment(d: Path) -> Path:
    srt = d / "subs.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,500\nHello\n")
    font = d / "font.ttf"
    font.write_bytes(b"\0" * 256)
    p = d / "subs_fonts.mkv"
    ff(*VIDEO_2S, *tone(2), "-i", str(srt), "-map", "0", "-map", "1", "-map", "2", *H264, "-c:a", "aac", "-c:s", "srt",
       "-attach", str(font), "-metadata:s:t", "mimetype=application/x-truetype-font", str(p))
    return p


def _two_tracks(d: Path) -> Path:
    p = d / "two_tracks.mkv"
    ff(*VIDEO_2S, *tone(2, 300), *tone(2, 1000), "-map", "0", "-map", "1", "-map", "2", *H264, "-c:a", "aac", str(p))
    return p


def _long_audio(d: Path) -> Path:
    p = d / "long_audio.mp4"
    ff(*VIDEO_2S, *tone(4), *H264, "-c:a", "aac", str(p))
    return p


CLIP_2S = {"duration_s": 2.0, "n_frames": 50, "fps": 25.0, "width": 160, "height": 120, "vcodec": "h264"}
CORPUS: dict[str, tuple[Callable[[Path], Path], Any]] = {
    "empty": (_empty, r"^empty\.mp4: the file is empty"),
    "text": (_text, r"^notes\.mp4: not a readable video file"),
    "png_as_mp4": (lambda d: _image(d, "png", "png_still.mp4"), r"^png_still\.mp4: is a still image \(png\)"),
    "jpeg_as_webm": (lambda d: _image(d, "mjpeg", "jpeg_still.webm"), r"^jpeg_still\.webm: is a still image \(mjpeg\)"),
    "single_frame": (_one_frame, r"^one_frame\.mp4: has 1 video frame.*at least 2 are needed"),
    "audio_only": (_audio_only, r"^tone\.m4a: has no video stream \(found: audio\)"),
    "cover_art_only": (_cover_art, r"^song_with_cover\.m4a: has no video stream \(only cover art\)"),
    "truncated": (lambda d: _cut(d, True), r"^truncated\.mp4: truncated or corrupt"),
    "missing_index": (lambda d: _cut(d, False), r"^missing_index\.mp4: not a readable video file"),
    "garbage_mid_stream": (_garbage, {"duration_s": 5.4, "n_frames": 135, "damaged": True}),
    "raw_h264_named_mp4": (lambda d: headerless_copy(plain(d), d / "raw_h264.mp4", "h264").path,
                           CLIP_2S | {"container": "h264", "container_duration_s": None}),
    "piped_webm": (lambda d: headerless_copy(plain(d), d / "piped.webm", "webm").path,
                   CLIP_2S | {"vcodec": "vp8", "container_duration_s": None}),
    "tiny_16x16": (lambda d: _sized(d, "16x16", "tiny.mp4"), {"width": 16, "height": 16, "n_frames": 3}),
    "huge_4096x2304": (lambda d: _sized(d, "4096x2304", "huge.mp4"),
                       r"^huge\.mp4: resolution 4096x2304 \(9\.4 MP\) is over the limit of 8\.3 MP .*EVALVERSE_MAX_PIXELS"),
    "vfr": (_vfr, {"variable_frame_rate": True, "n_frames": 50, "duration_s": 3.0}),
    "rotated_90": (lambda d: rotated_copy(plain(d), d / "rotated.mp4", 90).path,
                   {"rotation": 270, "width": 120, "height": 160, "coded_width": 160}),
    "surround_5_1": (_surround, CLIP_2S | {"audio_channels": 6, "audio_tracks": 1}),
    "subtitles_and_attachment": (_subs_and_attachment, CLIP_2S | {"has_audio": True, "container": "matroska,webm"}),
    "two_audio_tracks": (_two_tracks, CLIP_2S | {"audio_tracks": 2, "audio_track_index": 0}),
    "audio_longer_than_video": (_long_audio, CLIP_2S | {"audio_duration_s": 4.0, "container_duration_s": 4.0}),
    "silent_audio": (lambda d: silent_audio_clip(d / "silent.mp4", size=(160, 120)).path,
                     {"audio_silent": True, "duration_s": 2.0, "n_frames": 50}),
    "name_with_spaces": (lambda d: renamed(d, "my clip (final) v2.mp4"), CLIP_2S),
    "name_unicode": (lambda d: renamed(d, "ünïcødé 視頻 клип.mp4"), CLIP_2S),
    "name_leading_dash": (lambda d: renamed(d, "-rf --help.mp4"), CLIP_2S),
    "name_with_colon": (lambda d: renamed(d, "concat:take:2.mp4"), CLIP_2S),
}
SLOW_CORPUS: dict[str, tuple[Callable[[Path], Path], Any]] = {
    "uhd_4k_60fps": (lambda d: _encode(d, "uhd60.mp4", "3840x2160", 60, 1, H264),
                     {"width": 3840, "height": 2160, "fps": 60.0, "n_frames": 60, "duration_s": 1.0}),
    "hevc_10bit": (lambda d: _encode(d, "hevc10.mp4", "640x360", 25, 2,
                                     ["-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-preset", "ultrafast", "-tag:v", "hvc1",
                                      "-x265-params", "log-level=error"]),
                   {"vcodec": "hevc", "width": 640, "height": 360, "n_frames": 50, "duration_s": 2.0}),
    "prores": (lambda d: _encode(d, "prores.mov", "640x360", 25, 2, ["-c:v", "prores_ks", "-profile:v", "0"]),
               {"vcodec": "prores", "width": 640, "height": 360, "n_frames": 50, "duration_s": 2.0}),
}


def _encode(d: Path, name: str, size: str, fps: int, seconds: int, codec: list[str]) -> Path:
    p = d / name
    ff("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}", *codec, str(p))
    return p


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bad_inputs")


def check_case(path: Path, expected: Any) -> None:
    """A refusal: one line (an InputError) from the probe and from decode; else the metadata matches."""
    if isinstance(expected, str):
        for step in (probe_video, decode_video):
            with pytest.raises(InputError) as refused:
                step(path)
            message = str(refused.value)
            assert "\n" not in message and re.search(expected, message), message
        return
    meta = probe_video(path)
    video = decode_video(path, meta=meta)
    for field, want in expected.items():
        got = getattr(video.meta, field)
        if isinstance(want, float):
            assert got == pytest.approx(want, abs=0.06), (field, got)
        else:
            assert got == want, (field, got)
    h, w = video.frames.shape[1:3]
    assert len(video.frames) >= 2 and w / h == pytest.approx(video.meta.width / video.meta.height, rel=0.05)
    assert (video.audio is not None) == meta.has_audio
    if not expected.get("damaged"):
        assert not video.meta.damaged, video.meta.damage_summary()


@pytest.mark.parametrize("name", list(CORPUS))
def test_corpus(corpus_dir, name):
    make, expected = CORPUS[name]
    check_case(make(corpus_dir), expected)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOW_CORPUS))
def test_slow_corpus(corpus_dir, name):
    make, expected = SLOW_CORPUS[name]
    check_case(make(corpus_dir), expected)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n, (_, e) in CORPUS.items() if isinstance(e, dict)])
def test_accepted_corpus_through_the_whole_pipeline(corpus_dir, name, settings):
    """Every accepted file runs through evidence and the offline judge; the report's meta is the decoded one."""
    from evalverse.pipeline import diagnose

    make, expected = CORPUS[name]
    report = diagnose(make(corpus_dir), settings, judge="evidence")
    assert report["results"] and report["meta"]["decoded_frames"] is not None
    for field, want in expected.items():
        if field in report["meta"] and not isinstance(want, float):
            assert report["meta"][field] == want, field


# ---- damage reaches the report and the UI --------------------------------------------------------------------

def test_damage_is_in_the_report_also_when_served_from_the_cache(corpus_dir, settings):
    from evalverse.pipeline import diagnose
    from evalverse.store import Store

    path = _garbage(corpus_dir)
    store = Store.memory()
    first = diagnose(path, settings, dimensions="visual_quality", store=store)
    meta = first["meta"]
    assert meta["n_frames"] == 135 and 0 < meta["decoded_frames"] < 135
    assert meta["undecodable_frames"] == 135 - meta["decoded_frames"] and meta["decode_errors"] > 0
    assert meta["damaged_spans"] and all(1.0 < s["start"] < s["end"] <= 5.4 for s in meta["damaged_spans"])
    again = diagnose(path, settings, dimensions="visual_quality", store=store)
    assert again["cached"]
    assert {k: again["meta"][k] for k in ("undecodable_frames", "damaged_spans")} == \
        {k: meta[k] for k in ("undecodable_frames", "damaged_spans")}


def test_diagnose_ui_warns_about_damage(corpus_dir, settings):
    from evalverse.taxonomy import load_taxonomy
    from evalverse.ui import diagnose_session as session

    path = _garbage(corpus_dir)
    ups = list(session.run_diagnosis(path, settings, None, load_taxonomy(), dimensions=["visual_quality"]))
    assert ups[-1].done and ups[-1].error is None
    warned = [u.progress for u in ups if 'id="diagnose-file-warning"' in u.progress]
    assert warned and "frames could not be decoded" in warned[-1] and "less reliable" in warned[-1]
    assert 'id="diagnose-file-warning"' in ups[-1].progress  # still shown when it is done
    clean = list(session.run_diagnosis(plain(corpus_dir), settings, None, load_taxonomy(), dimensions=["visual_quality"]))
    assert not any("diagnose-file-warning" in u.progress for u in clean)


# ---- media folder and uploads (item 8) -----------------------------------------------------------------------

def test_media_folder_names_that_are_no_file_get_a_clear_message(tmp_path):
    from evalverse.ui.diagnose_session import resolve_media_file

    media = tmp_path / "media"
    (media / "sub").mkdir(parents=True)
    fifo = media / "pipe.mp4"
    os.mkfifo(fifo)
    cases = {".": "media folder itself", "./": "media folder itself", "sub": "is a folder", "sub/.": "is a folder",
             "pipe.mp4": "not a regular file", "a\0b.mp4": "not in the media folder", "  ": "no media file chosen"}
    for name, message in cases.items():
        with pytest.raises(InputError, match=message):
            resolve_media_file(media, name)


def test_symlink_out_of_the_media_folder_is_refused(tmp_path):
    from evalverse.ui.diagnose_session import list_media, resolve_media_file

    media = tmp_path / "media"
    media.mkdir()
    outside = plain(tmp_path, "outside.mp4")
    (media / "link.mp4").symlink_to(outside)
    (media / "inside.mp4").symlink_to(plain(media, "real.mp4"))
    assert list_media(media) == ["inside.mp4", "real.mp4"]
    with pytest.raises(InputError, match="points outside the media folder"):
        resolve_media_file(media, "link.mp4")


def test_gradio_is_given_the_upload_size_limit(settings):
    from evalverse.ui.app import launch_options

    limited = settings.model_copy(update={"limits": MediaLimits(max_file_mb=12.5)})
    assert launch_options(limited)["max_file_size"] == 12_500_000


@pytest.mark.slow
def test_an_upload_over_the_limit_is_refused_before_it_is_stored(tmp_path):
    import httpx

    from browser_support import free_port
    from evalverse.ui.app import build_app, launch_options

    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "ev.duckdb", models_dir=tmp_path / "models",
                        limits=MediaLimits(max_file_mb=0.01))  # 10 kB
    demo = build_app(settings)
    port = free_port()
    try:
        demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                    **launch_options(settings))
        url = f"http://127.0.0.1:{port}/gradio_api/upload"
        small = httpx.post(url, files={"files": ("small.mp4", b"x" * 1000)})
        big = httpx.post(url, files={"files": ("big.mp4", b"x" * 50_000)})
    finally:
        demo.close()
        demo.evalverse_context.store.close()
    assert small.status_code == 200 and big.status_code == 413
    stored = Path(small.json()[0])  # gradio keeps uploads as <temp dir>/<hash>/<name>
    assert stored.read_bytes() == b"x" * 1000
    assert not list(stored.parents[1].rglob("big.mp4"))


# ---- the CLI's stderr (item 13) and odd names on the command line --------------------------------------------

OWN_LINE = re.compile(r"^(\[\d+/\d+\] \w+ \.\.\.|(warning|note|error): .+)$")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(REPO), "EVALVERSE_DATA": str(cwd)}
    for key in ("GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL"):  # the CLI must silence them itself
        env.pop(key, None)
    return subprocess.run([sys.executable, "-m", "evalverse.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def test_cli_stderr_carries_evalverse_lines_only(tmp_path):
    """mediapipe (the people operator) prints TensorFlow Lite and absl lines on stderr when it loads."""
    clip = cuts_clip(tmp_path / "small.mp4", cut_frames=(10,), n=25, size=(160, 120)).path
    quiet = _cli("evidence", str(clip), "--operators", "people", "--db", str(tmp_path / "e.duckdb"), cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    lines = quiet.stderr.splitlines()
    assert lines and [line for line in lines if not OWN_LINE.match(line)] == []
    assert "small.mp4: 1.00 s" in quiet.stdout


@pytest.mark.slow
def test_cli_verbose_shows_other_libraries_output(tmp_path):
    clip = cuts_clip(tmp_path / "small.mp4", cut_frames=(10,), n=25, size=(160, 120)).path
    loud = _cli("--verbose", "evidence", str(clip), "--operators", "people", "--db", str(tmp_path / "e.duckdb"),
                "--json", cwd=tmp_path)
    assert loud.returncode == 0
    people = json.loads(loud.stdout)["operators"]["people"]
    if not (people["status"] == "ok" and str(people["backend"]).startswith("mediapipe")):
        pytest.skip(f"mediapipe did not run here ({people['status']}: {people.get('message')})")
    assert [line for line in loud.stderr.splitlines() if not OWN_LINE.match(line)]


def test_cli_takes_a_file_name_with_a_leading_dash(tmp_path):
    clip = renamed(tmp_path, "-clip.mp4")
    out = _cli("evidence", "--operators", "shots", "--json", "--db", str(tmp_path / "e.duckdb"), "--", clip.name,
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["video"]["n_frames"] == 50


def test_cli_refusal_is_one_line_with_exit_2(corpus_dir):
    out = _cli("evidence", str(_image(corpus_dir, "png", "cli_still.mp4")), "--db", str(corpus_dir / "e.duckdb"),
               cwd=corpus_dir)
    assert out.returncode == 2
    assert out.stderr.splitlines() == ["error: cli_still.mp4: is a still image (png), not a video; at least 2 frames "
                                       "are needed"]
