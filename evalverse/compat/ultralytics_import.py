"""Import ultralytics without its process-wide side effects.

Importing `ultralytics` replaces `PIL.Image.open` for the whole process (ultralytics/utils/patches.py,
8.4): when Pillow cannot identify a file, the replacement tries to *pip-install* `pi-heif` at run time and
then imports it. After YOLO has been loaded once, every later "is this file an image?" question anywhere in
EvalVerse (a reference picture for the VLM judge, an upload check) would then fail with
`ModuleNotFoundError: pi_heif` instead of Pillow's `UnidentifiedImageError`, or reach for the network.
`import_yolo()` imports YOLO and puts Pillow's own `Image.open` back; ultralytics reads its inputs as
numpy arrays from us, so it does not need the patch.
"""
from __future__ import annotations

import sys
import threading
from typing import Any

_lock = threading.Lock()


def import_yolo() -> Any:
    """The `ultralytics.YOLO` class, with `PIL.Image.open` left as Pillow defines it."""
    from PIL import Image

    with _lock:
        pillow_open = Image.open
        try:
            from ultralytics import YOLO
        finally:
            patches = sys.modules.get("ultralytics.utils.patches")
            original = getattr(patches, "_image_open", None)  # ultralytics keeps Pillow's own open here
            if patches is not None and Image.open is getattr(patches, "image_open", None) and callable(original):
                Image.open = original  # ultralytics was imported earlier, elsewhere: undo its patch all the same
            elif Image.open is not pillow_open:
                Image.open = pillow_open
    return YOLO


def pillow_open() -> Any:
    """Pillow's own `Image.open`, even when something imported ultralytics the ordinary way (its patched open
    answers a file Pillow cannot identify with a pip install of pi-heif instead of UnidentifiedImageError)."""
    from PIL import Image

    patches = sys.modules.get("ultralytics.utils.patches")
    if patches is not None and Image.open is getattr(patches, "image_open", None):
        original = getattr(patches, "_image_open", None)
        if callable(original):
            return original
    return Image.open
