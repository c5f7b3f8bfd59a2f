"""SyncNet (Chung & Zisserman 2016, the `syncnet_v2.model` of joonson/syncnet_python, MIT) for learned
lip-sync: architecture with the reference module names so the published state dict loads strictly,
MFCC features computed like python_speech_features, and the ±N-frame offset search.

Inputs as in the reference: 25 fps face crops 224×224 BGR in 0–255, five frames per window; 13 MFCCs
at 100 Hz from 16 kHz int16-scaled audio, 20 MFCC frames per window (4 per video frame).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evalverse.errors import UnavailableError

SYNCNET_WEIGHTS = Path("syncnet") / "syncnet_v2.model"
FPS = 25.0
CROP = 224


def build_syncnet(embed_dim: int = 1024):
    """The SyncNet 'S' network (torch), same layer order and names as the reference implementation."""
    import torch.nn as nn

    class SyncNetS(nn.Module):
        def __init__(self) -> None:
            super().__init__()

            def c2(i, o, k=(3, 3), s=(1, 1), p=(1, 1)):
                return [nn.Conv2d(i, o, kernel_size=k, stride=s, padding=p), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

            def c3(i, o, k, s=(1, 1, 1), p=(0, 1, 1)):
                return [nn.Conv3d(i, o, kernel_size=k, stride=s, padding=p), nn.BatchNorm3d(o), nn.ReLU(inplace=True)]

            self.netcnnaud = nn.Sequential(
                *c2(1, 64), nn.MaxPool2d(kernel_size=(1, 1), stride=(1, 1)),
                *c2(64, 192), nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 2)),
                *c2(192, 384), *c2(384, 256), *c2(256, 256), nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2)),
                *c2(256, 512, k=(5, 4), p=(0, 0)),
            )
            self.netfcaud = nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, embed_dim))
            self.netfclip = nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, embed_dim))
            self.netcnnlip = nn.Sequential(
                *c3(3, 96, (5, 7, 7), s=(1, 2, 2), p=(0, 0, 0)), nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2)),
                *c3(96, 256, (1, 5, 5), s=(1, 2, 2)),
                nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
                *c3(256, 256, (1, 3, 3)), *c3(256, 256, (1, 3, 3)), *c3(256, 256, (1, 3, 3)),
                nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2)),
                *c3(256, 512, (1, 6, 6), p=(0, 0, 0)),
            )

        def forward_aud(self, x):  # (N, 1, 13, 20) -> (N, embed_dim)
            mid = self.netcnnaud(x)
            return self.netfcaud(mid.reshape(mid.shape[0], -1))

        def forward_lip(self, x):  # (N, 3, 5, 224, 224) -> (N, embed_dim)
            mid = self.netcnnlip(x)
            return self.netfclip(mid.reshape(mid.shape[0], -1))

    return SyncNetS()


def load_syncnet(path: Path):
    """SyncNet with the published weights (a state dict saved by torch); strict, so a wrong file fails loudly."""
    if not Path(path).exists():
        raise UnavailableError(
            f"SyncNet weights {path} not found: download syncnet_v2.model (joonson/syncnet_python, "
            f"download_model.sh) on a machine with network and copy it to <models_dir>/{SYNCNET_WEIGHTS}")
    import torch

    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    model = build_syncnet()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise UnavailableError(f"{path} is not a SyncNet v2 state dict: {str(exc).splitlines()[0]}") from exc
    return model.eval()


def mfcc(signal: np.ndarray, rate: int = 16_000, numcep: int = 13, nfilt: int = 26, nfft: int = 512,
         winlen: float = 0.025, winstep: float = 0.01, preemph: float = 0.97, ceplifter: int = 22) -> np.ndarray:
    """MFCCs as python_speech_features.mfcc computes them (rectangular window, log energy in c0): (frames, 13)."""
    from scipy.fft import dct

    x = np.asarray(signal, np.float64)
    x = np.append(x[0], x[1:] - preemph * x[:-1]) if len(x) else x
    flen, fstep = int(round(winlen * rate)), int(round(winstep * rate))
    n = 1 if len(x) <= flen else 1 + int(np.ceil((len(x) - flen) / fstep))
    padded = np.concatenate([x, np.zeros(max((n - 1) * fstep + flen - len(x), 0))])
    idx = np.arange(flen)[None, :] + (np.arange(n) * fstep)[:, None]
    frames = padded[idx]
    pspec = np.abs(np.fft.rfft(frames, nfft)) ** 2 / nfft
    energy = pspec.sum(axis=1)
    energy = np.where(energy == 0, np.finfo(float).eps, energy)
    mel = lambda hz: 2595 * np.log10(1 + hz / 700.0)  # noqa: E731
    imel = lambda m: 700 * (10 ** (m / 2595.0) - 1)  # noqa: E731
    pts = imel(np.linspace(mel(0), mel(rate / 2), nfilt + 2))
    bins = np.floor((nfft + 1) * pts / rate).astype(int)
    fbank = np.zeros((nfilt, nfft // 2 + 1))
    for j in range(nfilt):
        for i in range(bins[j], bins[j + 1]):
            fbank[j, i] = (i - bins[j]) / (bins[j + 1] - bins[j])
        for i in range(bins[j + 1], bins[j + 2]):
            fbank[j, i] = (bins[j + 2] - i) / (bins[j + 2] - bins[j + 1])
    feat = pspec @ fbank.T
    feat = np.log(np.where(feat == 0, np.finfo(float).eps, feat))
    cep = dct(feat, type=2, axis=1, norm="ortho")[:, :numcep]
    lift = 1 + (ceplifter / 2.0) * np.sin(np.pi * np.arange(numcep) / ceplifter)
    cep = cep * lift
    cep[:, 0] = np.log(energy)
    return cep


def face_crops(frames: np.ndarray, times: np.ndarray, box_times: list[float], boxes: list[list[float]],
               duration: float, scale: float = 1.4) -> np.ndarray:
    """25 fps BGR crops (T, 224, 224, 3) around the main face (normalised boxes, nearest in time), enlarged by
    `scale` and squared like the reference pipeline's crops."""
    import cv2

    h, w = frames.shape[1:3]
    grid = np.arange(0.0, duration, 1.0 / FPS)
    bt = np.asarray(box_times, float)
    out = np.empty((len(grid), CROP, CROP, 3), np.uint8)
    for k, t in enumerate(grid):
        img = frames[int(np.argmin(np.abs(times - t)))]
        x1, y1, x2, y2 = boxes[int(np.argmin(np.abs(bt - t)))]
        cx, cy = (x1 + x2) / 2 * w, (y1 + y2) / 2 * h
        half = max((x2 - x1) * w, (y2 - y1) * h) * scale / 2
        pad = int(np.ceil(half)) + 1
        padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(110, 110, 110))
        xa, ya = int(round(cx - half)) + pad, int(round(cy - half)) + pad
        side = max(int(round(2 * half)), 2)
        crop = padded[ya:ya + side, xa:xa + side]
        out[k] = cv2.resize(crop, (CROP, CROP), interpolation=cv2.INTER_AREA)[..., ::-1]  # RGB -> BGR
    return out


def syncnet_offset(model, crops_bgr: np.ndarray, audio: np.ndarray, rate: int = 16_000, max_lag_ms: float = 500.0,
                   batch: int = 16) -> tuple[float | None, float, list[float], list[float]]:
    """Offset (ms, positive = audio late), confidence (median minus minimum mean distance) and the distance curve."""
    import torch

    cc = mfcc(np.asarray(audio, np.float64) * 32768.0, rate).T  # (13, frames at 100 Hz), int16 scale
    n = min(len(crops_bgr), cc.shape[1] // 4) - 5
    if n < 1:
        return None, 0.0, [], []
    vshift = int(round(max_lag_ms / 1000 * FPS))
    im = torch.from_numpy(np.ascontiguousarray(crops_bgr.transpose(3, 0, 1, 2))).float()  # (3, T, H, W)
    ccs = torch.from_numpy(cc).float()
    lip, aud = [], []
    with torch.no_grad():
        for i in range(0, n, batch):
            idx = range(i, min(n, i + batch))
            lip.append(model.forward_lip(torch.stack([im[:, v:v + 5] for v in idx])))
            aud.append(model.forward_aud(torch.stack([ccs[None, :, v * 4:v * 4 + 20] for v in idx])))
    lip_f, aud_f = torch.cat(lip), torch.cat(aud)
    padded = torch.nn.functional.pad(aud_f, (0, 0, vshift, vshift))
    win = 2 * vshift + 1
    dists = torch.stack([torch.nn.functional.pairwise_distance(lip_f[[i]].repeat(win, 1), padded[i:i + win])
                         for i in range(len(lip_f))], 1)  # (win, n)
    mdist = dists.mean(dim=1)
    j = int(torch.argmin(mdist))
    conf = float(torch.median(mdist) - mdist[j])
    lags = [(k - vshift) * 1000.0 / FPS for k in range(win)]
    # audio for video frame i sits at padded index i + j, i.e. at audio frame i + (j - vshift): positive = audio late
    return lags[j], conf, lags, [float(x) for x in mdist]
