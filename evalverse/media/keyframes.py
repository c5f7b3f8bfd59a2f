"""Shot keyframes as image files and perceptual hashes, from the frames decoded once for the evidence.

- `keyframe_images(video, shots)`: each shot's keyframe (the `shots` operator's choice) as JPEG bytes at the
  analysis resolution, with its time and perceptual hash; the suite builder writes them as reference images.
- `phash(frame)`: the DCT perceptual hash (Zauner 2010, "Implementation and Benchmarking of Perceptual Image
  Hash Functions"; the pHash library's image hash): luma resized to 32x32, 2-D DCT, the 8x8 lowest
  frequencies, one bit per coefficient above their median (the DC term left out of the median) -> 64 bits,
  written as 16 hex digits. Re-encoding, rescaling and mild grading move few bits; other pictures about half.
- `hamming(a, b)`: bits that differ between two hashes.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

HASH_BITS = 64


def phash(frame: np.ndarray) -> str:
    """64-bit DCT perceptual hash of an RGB (H, W, 3) or grey (H, W) uint8 image, as 16 hex digits."""
    import cv2

    img = np.asarray(frame)
    if img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2GRAY)
    if img.size == 0:
        raise ValueError("phash of an empty image")
    small = cv2.resize(img.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:8, :8].ravel()
    median = float(np.median(low[1:]))
    bits = low > median
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two hex hashes of the same length."""
    if len(a) != len(b):
        raise ValueError(f"hashes of different lengths: {a!r}, {b!r}")
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def jpeg_bytes(frame: np.ndarray, quality: int = 92) -> bytes:
    """An RGB frame as JPEG bytes (no resizing)."""
    import cv2

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("the frame could not be encoded as JPEG")
    return buf.tobytes()


def keyframe_images(video: Any, shots: Iterable[dict[str, Any]], quality: int = 92) -> list[dict[str, Any]]:
    """[{shot, frame, time_s, width, height, phash, jpeg}] for every shot with a keyframe inside the decoded
    frames (`shots`: the shots operator's rows, as in the evidence report)."""
    frames, times = video.frames, video.times
    out = []
    for shot in shots:
        k = shot.get("keyframe")
        if k is None or not 0 <= int(k) < len(frames):
            continue
        frame = frames[int(k)]
        out.append({"shot": int(shot["index"]), "frame": int(k), "time_s": round(float(times[int(k)]), 3),
                    "width": int(frame.shape[1]), "height": int(frame.shape[0]), "phash": phash(frame),
                    "jpeg": jpeg_bytes(frame, quality)})
    return out
