"""Clips for blind annotation, served under opaque names: a file's path (a submission folder, a bench run's
clip) usually names the model, so the page never sees it. Each (task, output) gets a hard link (a copy when
the link cannot be made, e.g. across file systems) named `<random>.<ext>` in a private folder, which the tab
registers with Gradio's file serving (`gr.set_static_paths`); the browser gets a relative
`gradio_api/file=...` URL of that link. Names are random per task, so the same clip in two tasks has two
names. The folder is removed when the process exits.

No gradio import here: the tab registers `root`.
"""
from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from evalverse.media.formats import VIDEO_SUFFIXES

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")
PLAYABLE = (".mp4", ".webm", ".m4v", ".mov", ".ogv")  # what a browser's <video> can usually play


def kind_of(path: str | Path) -> str:
    """"video" (a <video> can play it), "image" (an <img>: stills and animated GIF), or "other"."""
    suffix = Path(path).suffix.lower()
    if suffix in PLAYABLE:
        return "video"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    return "video" if suffix in VIDEO_SUFFIXES else "other"


class MediaLinks:
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="evalverse-media-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self._names: dict[tuple[str, str], Path] = {}
        self._lock = threading.Lock()
        if root is None:
            atexit.register(shutil.rmtree, self.root, True)

    def url(self, path: str | Path | None, key: str) -> str | None:
        """The opaque URL of `path` for `key` (task uid and position), or None when the file is missing."""
        if not path:
            return None
        src = Path(path).expanduser()
        if not src.is_file():
            return None
        k = (key, str(src.resolve()))
        with self._lock:
            dst = self._names.get(k)
            if dst is None or not dst.exists():
                dst = self.root / f"{secrets.token_hex(16)}{src.suffix.lower()}"
                try:
                    os.link(src.resolve(), dst)
                except OSError:
                    shutil.copyfile(src, dst)
                self._names[k] = dst
        return "gradio_api/file=" + quote(str(dst.resolve()))


def links_for(ctx: Any) -> MediaLinks:
    """The app's one MediaLinks (made on first use and kept on the context)."""
    links = getattr(ctx, "_media_links", None)
    if links is None:
        links = MediaLinks()
        setattr(ctx, "_media_links", links)
    return links
