"""Colour operator: grayscale clips, complementary harmony, palette recovery, colourfulness by hand."""
from __future__ import annotations

import colorsys
import json

import numpy as np
import pytest

from evalverse.media.synthetic import colour_cast_clip, textured
from evalverse.operators.colour import ColourOperator, colourfulness, harmony, hue_histogram, palette
from operator_clips import context, decode, make_video, run_results, shots_record


def run(video, settings, **evidence):
    out = run_results(ColourOperator, context(video, settings, **evidence))
    json.dumps(out)
    return out


def hsv_img(hues_deg, h=120, w=160, s=0.9, v=0.9):
    """Vertical stripes of the given hues (equal widths)."""
    img = np.zeros((h, w, 3), np.uint8)
    edges = np.linspace(0, w, len(hues_deg) + 1).astype(int)
    for hue, a, b in zip(hues_deg, edges[:-1], edges[1:]):
        img[:, a:b] = np.round(np.array(colorsys.hsv_to_rgb(hue / 360, s, v)) * 255)
    return img


def test_grayscale_clip_is_flagged(tmp_path, settings):
    colour_cast_clip(tmp_path / "g.mp4", cast=(1.0, 1.0, 1.0))
    out = run(decode(tmp_path / "g.mp4", settings), settings)
    assert out["grayscale"] is True
    assert out["colourfulness"] < 2.0
    assert out["harmony"]["template"] is None
    colour = run(make_video(np.stack([textured(120, 160, seed=1)] * 4)), settings)
    assert colour["grayscale"] is False and colour["colourfulness"] > 10


def test_complementary_image_fits_the_complementary_template(settings):
    img = hsv_img([30, 210])  # orange and azure: 180° apart
    out = run(make_video(np.stack([img] * 3)), settings)["harmony"]
    assert out["template"] == "I"
    assert out["score"] > 0.95
    assert abs(((out["rotation_deg"] - 30 + 90) % 180) - 90) <= 10  # a sector on 30° (or 210°)
    # three hues 120° apart fit no narrow template: the complementary score drops
    triad = harmony(hue_histogram(hsv_img([0, 120, 240]))[0])
    assert triad["scores"]["I"] < 0.5 and triad["score"] < out["score"]


def test_palette_recovers_three_known_colours(settings):
    colours = np.array([[200, 30, 30], [30, 160, 60], [240, 240, 240]], np.uint8)
    shares = [0.5, 0.3, 0.2]
    img = np.zeros((100, 200, 3), np.uint8)
    edges = np.cumsum([0] + [int(s * 200) for s in shares])
    for c, a, b in zip(colours, edges[:-1], edges[1:]):
        img[:, a:b] = c
    pal = run(make_video(np.stack([img] * 3)), settings)["palette"]
    assert len(pal) == 3
    for (c, share), got in zip(zip(colours, shares), pal):
        rgb = np.array([int(got["hex"][i:i + 2], 16) for i in (1, 3, 5)])
        assert np.abs(rgb - c).max() <= 3
        assert got["share"] == pytest.approx(share, abs=0.02)


def test_colourfulness_matches_hand_computation():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 30, 3)).astype(np.uint8)
    f = img.reshape(-1, 3).astype(float)
    rg, yb = f[:, 0] - f[:, 1], (f[:, 0] + f[:, 1]) / 2 - f[:, 2]
    expected = np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    assert colourfulness(img) == pytest.approx(expected, rel=1e-9)
    assert colourfulness(np.full((4, 4, 3), 128, np.uint8)) == 0.0


def test_palette_consistency_across_shots(settings):
    red, blue = hsv_img([0]), hsv_img([230])
    same = np.stack([red] * 10 + [red] * 10)
    diff = np.stack([red] * 10 + [blue] * 10)
    rec = shots_record([(0, 0.4, 0, 10), (0.4, 0.8, 10, 20)])
    s_same = run(make_video(same), settings, shots=rec)["palette_consistency"]
    s_diff = run(make_video(diff), settings, shots=rec)["palette_consistency"]
    assert s_same["score"] > 0.95 and s_diff["score"] < 0.2
    single = run(make_video(same), settings)["palette_consistency"]
    assert single["score"] is None  # one shot: nothing to compare


def test_contrast_and_saturation_order(settings):
    flat = np.full((60, 80, 3), 128, np.uint8)
    checker = ((np.indices((60, 80)) // 8).sum(axis=0) % 2 * 255).astype(np.uint8)[..., None].repeat(3, axis=2)
    a = run(make_video(np.stack([flat] * 2)), settings)
    b = run(make_video(np.stack([checker] * 2)), settings)
    assert a["contrast_rms"] == 0.0 and b["contrast_rms"] == pytest.approx(0.5, abs=0.01)
    vivid = run(make_video(np.stack([hsv_img([0], s=1.0)] * 2)), settings)
    assert vivid["saturation_mean"] == pytest.approx(1.0, abs=0.01) and a["saturation_mean"] == 0.0
    assert len(palette(flat.reshape(-1, 3))) == 1


def test_colour_cast_is_the_share_weighted_mean_palette_colour(tmp_path, settings):
    neutral = run(make_video(np.stack([np.full((60, 80, 3), 128, np.uint8)] * 3)), settings)
    assert neutral["cast"]["chroma"] < 1.0
    warm = run(make_video(np.stack([np.full((60, 80, 3), (200, 140, 60), np.uint8)] * 3)), settings)
    (only,) = warm["palette"]
    assert warm["cast"]["a"] == pytest.approx(only["lab"][1], abs=1e-3)
    assert warm["cast"]["b"] == pytest.approx(only["lab"][2], abs=1e-3) and warm["cast"]["b"] > 30  # orange: yellow lean
    assert warm["cast"]["chroma"] == pytest.approx(np.hypot(only["lab"][1], only["lab"][2]), abs=1e-3)


def test_colourfulness_cv_is_the_variation_of_the_series(settings):
    grey, vivid = np.full((60, 80, 3), 128, np.uint8), hsv_img([0], h=60, w=80)
    steady = run(make_video(np.stack([vivid] * 8)), settings)
    assert steady["colourfulness_cv"] == pytest.approx(0.0, abs=1e-6)
    mixed = run(make_video(np.stack([vivid, grey] * 4)), settings)
    vals = np.array(mixed["colourfulness_series"]["values"])
    assert mixed["colourfulness_cv"] == pytest.approx(vals.std() / vals.mean(), rel=1e-3) and mixed["colourfulness_cv"] > 0.5
    assert run(make_video(np.stack([vivid] * 2)), settings)["colourfulness_cv"] is None  # under three samples
