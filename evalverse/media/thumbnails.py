"""Small JPEG thumbnails of decoded frames, as data URIs: shown in the app and kept with the shots evidence,
so no view ever re-opens the video file to draw a keyframe."""
from __future__ import annotations

import base64

import numpy as np


def jpeg_data_uri(frame: np.ndarray, width: int = 160, quality: int = 80) -> str | None:
    """An RGB frame (H, W, 3 uint8) resized to `width` px wide (aspect kept) as a `data:image/jpeg;base64,` URI."""
    import cv2

    h, w = frame.shape[:2]
    if not h or not w:
        return None
    size = (width, max(1, int(round(width * h / w))))
    small = cv2.resize(np.ascontiguousarray(frame), size, interpolation=cv2.INTER_AREA if w > width else cv2.INTER_LINEAR)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else None
