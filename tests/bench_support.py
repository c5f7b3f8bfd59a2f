"""Small suites and submissions of synthetic clips for the bench tests (made once per session, in tmp)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from evalverse.media.synthetic import colour_cast_clip, cuts_clip, flicker_clip, pan_clip

DIMS = "visual_quality,chromaticity"  # operators quality, colour, features: about a second per clip


def write_suite(path: Path, n: int, prefix: str = "c", header: dict | None = None) -> Path:
    lines = [json.dumps({"suite": header})] if header else []
    lines += [json.dumps({"id": f"{prefix}{i}", "prompt": f"test prompt number {i}", "mode": "t2v"}) for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def make_clips(folder: Path, n: int, kind: int) -> list[Path]:
    """n distinct small clips; `kind` picks a family so different 'models' differ in quality."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"clip{kind}_{i}.mp4"
        if not p.exists():
            if kind == 0:
                cuts_clip(p, cut_frames=(), n=20 + i)
            elif kind == 1:
                flicker_clip(p, amplitude=20.0 + 10 * i, n=20)
            elif kind == 2:
                colour_cast_clip(p, cast=(1.0, 0.9 - 0.05 * i, 0.7), n=20)
            else:
                pan_clip(p, px_per_frame=2.0 + i, n=20)
        out.append(p)
    return out


def submission(folder: Path, clips: list[Path], prefix: str = "c") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, clip in enumerate(clips):
        shutil.copyfile(clip, folder / f"{prefix}{i}.mp4")
    return folder
