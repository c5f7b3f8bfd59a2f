"""Build the five FETV submission folders (symlinks into ../shared/media/fetv_rated_gifs) for suites/fetv25.jsonl.

Each source becomes one model, named as in the shared ratings.csv so human judgments imported from it line
up: cogvideo, text2video-zero, damo-text2video (files *_videofusion.gif), zeroscope, ground-truth (*_gt.gif).

    .venv/bin/python scripts/fetv_submissions.py OUT_DIR [--shared ../shared] [--limit N]
    # then, per model:  evalverse bench run --suite suites/fetv25.jsonl --model cogvideo --videos OUT_DIR/cogvideo
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = {"cogvideo": "cogvideo", "text2video-zero": "text2video-zero", "damo-text2video": "videofusion",
           "zeroscope": "zeroscope", "ground-truth": "gt"}


def build(out: Path, shared: Path, limit: int | None = None) -> dict[str, int]:
    gifs = shared / "media" / "fetv_rated_gifs"
    indices = sorted({int(m.group(1)) for p in gifs.glob("fetv_*_*.gif") if (m := re.match(r"fetv_(\d+)_", p.name))})
    indices = indices[:limit] if limit else indices
    counts = {}
    for model, suffix in SOURCES.items():
        folder = out / model
        folder.mkdir(parents=True, exist_ok=True)
        n = 0
        for i in indices:
            src = gifs / f"fetv_{i}_{suffix}.gif"
            link = folder / f"fetv_{i}.gif"
            if src.is_file() and not link.exists():
                link.symlink_to(src.resolve())
            n += src.is_file()
        counts[model] = n
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--limit", type=int, default=None, help="only the first N prompts")
    args = ap.parse_args()
    for model, n in build(args.out, args.shared, args.limit).items():
        print(f"{args.out / model}: {n} clip(s)")


if __name__ == "__main__":
    main()
