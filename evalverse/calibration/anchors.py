"""Known-order anchors for a calibration: degraded copies of the rated clips, each known to be worse.

`make_copies` re-encodes every rated clip (of the spec's sources) with x264 at each CRF of `AnchorSpec`
into `<data_dir>/calibration/anchors/`, named by the clip's content hash and the CRF, so a refit finds them
and the evidence cache (by content hash) decodes nothing twice. `pairing` turns the copies' features into a
`models.Pairing`: for one clip and CRFs c1 < c2 < ..., the chain clip > c1 > c2 > ... gives every ordered
pair (k+1 choose 2 of them for k copies), each tagged with the clip's prompt so cross-validation keeps it on
that prompt's side. Nothing here reads a human score.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalverse.calibration.models import Pairing
from evalverse.calibration.spec import CalibrationSpec
from evalverse.errors import InputError

# even frame sizes for 4:2:0 chroma; the clip's own frame rate and length are kept
SCALE = "scale=trunc(iw/2)*2:trunc(ih/2)*2"


@dataclass
class Ladder:
    clip: str  # the rated clip's path
    prompt: str
    copies: list[tuple[int, str]]  # (crf, path), rising crf


def copy_path(folder: Path, content_hash: str, crf: int) -> Path:
    return folder / f"{content_hash[:24]}-x264-crf{crf:02d}.mp4"


def encode(src: str, dst: Path, crf: int) -> None:
    from evalverse.media.synthetic import ffmpeg_binary

    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".part.mp4")
    cmd = [ffmpeg_binary(), "-y", "-loglevel", "error", "-i", src, "-vf", SCALE, "-an", "-c:v", "libx264",
           "-preset", "medium", "-crf", str(crf), "-pix_fmt", "yuv420p", "-threads", "1", str(tmp)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot make the CRF {crf} anchor of {src}: {done.stderr.strip()[-300:] or 'ffmpeg failed'}")
    tmp.replace(dst)


def make_copies(spec: CalibrationSpec, clips: pd.DataFrame, content_hashes: dict[str, str], settings: Any,
                problems: list[str] | None = None) -> list[Ladder]:
    """The ladders of the spec's anchors (made once, then reused), one per rated clip of the chosen sources. A
    clip ffmpeg cannot re-encode gets no ladder: its reason goes to `problems` when given (the calibration
    says so and goes on), else the InputError is raised."""
    if spec.anchors is None:
        return []
    folder = Path(settings.data_dir) / "calibration" / "anchors"
    wanted = spec.anchors.sources
    ladders = []
    for path, prompt, source in zip(clips["path"], clips["prompt"], clips["source"]):
        if wanted is not None and str(source) not in wanted:
            continue
        copies = []
        try:
            for crf in spec.anchors.x264_crf:
                dst = copy_path(folder, content_hashes[path], crf)
                if not dst.is_file():
                    encode(str(path), dst, crf)
                copies.append((crf, str(dst)))
        except InputError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
            continue
        ladders.append(Ladder(str(path), str(prompt), copies))
    return ladders


def pairing(spec: CalibrationSpec, ladders: list[Ladder], X: pd.DataFrame, X_copies: pd.DataFrame) -> Pairing:
    """`X`: the rated clips' features indexed by path; `X_copies`: the copies' features indexed by path."""
    better, worse, group = [], [], []
    for ladder in ladders:
        chain = [X.loc[ladder.clip].to_numpy(float)] + [X_copies.loc[p].to_numpy(float) for _c, p in ladder.copies]
        for a, b in combinations(range(len(chain)), 2):  # a < b: b is the heavier compression
            better.append(chain[a])
            worse.append(chain[b])
            group.append(ladder.prompt)
    if not better:
        return Pairing(within=tuple(spec.pairs.within))
    return Pairing(tuple(spec.pairs.within), np.vstack(better), np.vstack(worse), np.array(group, dtype=object))


def anchor_accuracy(better: np.ndarray, worse: np.ndarray) -> float:
    """Share of known-order pairs predicted in the known order (a tie counts one half; NaN pairs left out)."""
    b, w = np.asarray(better, float), np.asarray(worse, float)
    ok = ~(np.isnan(b) | np.isnan(w))
    if not ok.any():
        return float("nan")
    d = b[ok] - w[ok]
    return float(np.mean((d > 0) + 0.5 * (d == 0)))
