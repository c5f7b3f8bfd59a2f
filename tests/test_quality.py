"""Quality operator on planted defects: flicker, blur, noise, 8×8 blocks, colour casts, over-exposure."""
from __future__ import annotations

import json

import numpy as np
import pytest

from evalverse.media.synthetic import colour_cast_clip, flicker_clip, textured
from evalverse.operators.quality import QualityOperator, blockiness, fade_pairs, mccamy_cct, noise_sigma, sharpness
from evalverse.operators.signal import srgb_to_linear
from operator_clips import context, decode, make_video, shots_record

H, W = 480, 640


def run(video, settings, **evidence):
    out = QualityOperator().run(context(video, settings, **evidence))
    json.dumps(out)
    return out


def static_frames(n=25, seed=3):
    return np.repeat(textured(240, 320, seed=seed)[None], n, axis=0)


def test_flicker_clip_flickers_and_static_does_not(tmp_path, settings):
    flicker_clip(tmp_path / "f.mp4", amplitude=40.0, period_frames=4, n=50)
    fl = run(decode(tmp_path / "f.mp4", settings), settings)["flicker"]
    st = run(make_video(static_frames()), settings)["flicker"]
    assert fl["detected"] is True and st["detected"] is False
    assert fl["flicker_index"] > 20 * max(st["flicker_index"], 1e-4)
    # a ±20-level square wave around its running median: high-pass RMS near 20 levels (codec softens it)
    assert 12 < fl["highpass_luma_rms"] < 25
    assert fl["luma_jump_mean"] > 15 and st["luma_jump_mean"] < 0.5
    assert fl["vbench_temporal_flickering"] < st["vbench_temporal_flickering"]
    assert st["vbench_temporal_flickering"] > 0.99


def test_cuts_and_fades_are_not_flicker(settings):
    dark, bright = static_frames(20, seed=1) // 3, static_frames(20, seed=2)
    frames = np.concatenate([dark, bright])
    rec = shots_record([(0, 0.8, 0, 20), (0.8, 1.6, 20, 40)])
    assert run(make_video(frames), settings, shots=rec)["flicker"]["detected"] is False
    # without shot evidence the cut does show up as a luma jump: the evidence is what removes it
    assert run(make_video(frames), settings)["flicker"]["luma_jump_max"] > 10
    base = textured(240, 320, seed=4).astype(np.float32)
    fade = np.stack([(base * (1 - i / 30)).astype(np.uint8) for i in range(30)])
    out = run(make_video(fade), settings)["flicker"]
    assert out["detected"] is False
    assert fade_pairs(np.linspace(200, 0, 30)).all()


def test_blur_lowers_sharpness(settings):
    import cv2

    img = textured(H, W, seed=5)
    blurred = cv2.GaussianBlur(img, (0, 0), 2.0)
    assert sharpness(blurred) < 0.5 * sharpness(img)
    a = run(make_video(np.stack([img] * 5)), settings)["sharpness"]
    b = run(make_video(np.stack([blurred] * 5)), settings)["sharpness"]
    assert b < a


@pytest.mark.parametrize("sigma", [5.0, 10.0, 20.0])
def test_noise_estimate_matches_planted_sigma(sigma):
    rng = np.random.default_rng(0)
    img = textured(H, W, seed=6).astype(np.float32)
    noisy = np.clip(img + rng.normal(0, sigma, img.shape[:2])[..., None], 0, 255).astype(np.uint8)
    est = noise_sigma(noisy)
    assert est == pytest.approx(sigma, rel=0.30)
    assert noise_sigma(img.astype(np.uint8)) < 0.3 * sigma


def test_jpeg_blocks_raise_blockiness(settings):
    import cv2

    img = textured(H, W, seed=7)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 5])
    jpeg = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    assert blockiness(img) == pytest.approx(1.0, abs=0.1)
    assert blockiness(jpeg) > 1.5
    # a pure 8×8 mosaic: every step sits on a block boundary
    mosaic = cv2.resize(cv2.resize(img, (W // 8, H // 8), interpolation=cv2.INTER_AREA), (W, H),
                        interpolation=cv2.INTER_NEAREST)
    assert blockiness(mosaic) > 10
    assert run(make_video(np.stack([jpeg] * 3)), settings)["blockiness"] > run(make_video(np.stack([img] * 3)), settings)["blockiness"]


def test_colour_temperature_warm_below_blue_and_grey_near_d65(tmp_path, settings):
    colour_cast_clip(tmp_path / "warm.mp4", cast=(1.0, 0.85, 0.6))
    colour_cast_clip(tmp_path / "blue.mp4", cast=(0.6, 0.85, 1.0))
    warm = run(decode(tmp_path / "warm.mp4", settings), settings)["colour_temperature"]
    blue = run(decode(tmp_path / "blue.mp4", settings), settings)["colour_temperature"]
    assert warm["cct_k"] < 4500 < 8000 < blue["cct_k"]
    assert warm["std_k_within_shots"] < 50  # a static cast is stable
    # sRGB white is D65: McCamy gives ~6500 K
    assert mccamy_cct(srgb_to_linear(np.array([0.5, 0.5, 0.5]))) == pytest.approx(6504, abs=60)
    # the sRGB blue primary lies below McCamy's epicentre: very cold, not the cubic's wrapped-round warm value
    assert mccamy_cct(np.array([0.0, 0.0, 1.0])) >= 20000
    # CIE illuminant A (x 0.4476, y 0.4074) is 2856 K; McCamy is within a few kelvin of it
    X, Y, Z = 0.4476 / 0.4074, 1.0, (1 - 0.4476 - 0.4074) / 0.4074
    rgb = np.linalg.solve(np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]), [X, Y, Z])
    assert mccamy_cct(rgb) == pytest.approx(2856, abs=15)


def test_over_exposed_frame_clips_highlights(settings):
    img = textured(240, 320, seed=8).astype(np.float32)
    over = np.clip(img * 2.5, 0, 255).astype(np.uint8)
    out = run(make_video(np.stack([over] * 5)), settings)["exposure"]
    ref = run(make_video(np.stack([img.astype(np.uint8)] * 5)), settings)["exposure"]
    assert out["clipped_highlights"] > 0.3 and ref["clipped_highlights"] < 0.01
    assert out["key"] == "high" or out["mean_luma"] > ref["mean_luma"] + 60
    dark = (img * 0.08).astype(np.uint8)
    low = run(make_video(np.stack([dark] * 5)), settings)["exposure"]
    assert low["key"] == "low" and low["clipped_shadows"] > ref["clipped_shadows"]
    assert ref["dynamic_range"] > low["dynamic_range"]


def test_colour_temperature_drift_is_measured(settings):
    grey = textured(120, 160, seed=9).mean(axis=2, keepdims=True).repeat(3, axis=2).astype(np.float32)
    frames = np.stack([np.clip(grey * np.array([1.0 - 0.4 * k / 29, 0.9, 0.6 + 0.4 * k / 29]), 0, 255).astype(np.uint8)
                       for k in range(30)])
    ct = run(make_video(frames), settings)["colour_temperature"]
    assert ct["max_drift_k"] > 2000  # warm to cool across the shot
    assert ct["series"]["values"][0] < ct["series"]["values"][-1]
