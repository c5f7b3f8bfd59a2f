"""Human ratings for calibration: one long table, one row per (clip, rater, axis).

Columns: clip (a key: the file name for rated clips, source/video id for rating-only data), path (the video file,
or None), prompt (a string id: clips of one prompt are never split between training and test), source (the
generator or "ground-truth"), rater, axis, score.

TRANSITION: until human judgments live in the store (the humans room: `evalverse humans import --format fetv`,
its axis -> dimension mapping as data in evalverse/humans/mappings/fetv.yaml), `fetv_clip_ratings` reads the
FETV ratings CSV directly. A store-backed reader returning the same table (from the store's pointwise
judgments of the mapped dimension) will replace it; nothing downstream reads the CSV.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalverse.errors import DataError, InputError

COLUMNS = ["clip", "path", "prompt", "source", "rater", "axis", "score"]
FETV_AXES = ("static_quality", "temporal_quality", "alignment")
FETV_CLIPS_FOLDER = "fetv_rated_gifs"
SHARED_MEDIA = Path("..") / "shared" / "media"
SHARED_LONG = Path("..") / "shared" / "data" / "fetv" / "fetv_ratings_long.csv"


def _read_csv(path: Path, needed: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read ratings {path}: {exc}") from exc
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataError(f"ratings {path}: missing column(s) {', '.join(missing)} (FETV format: {', '.join(needed)})")
    return df


def _melt(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    long = df.melt(id_vars=["clip", "path", "prompt", "source", "rater"], value_vars=list(FETV_AXES),
                   var_name="axis", value_name="score")
    bad = long[~long["score"].between(1, 5)]
    if len(bad):
        row = bad.iloc[0]
        raise DataError(f"ratings {path}: {len(bad)} score(s) outside 1-5, first: clip {row['clip']}, rater "
                        f"{row['rater']}, {row['axis']} = {row['score']}")
    long["score"] = long["score"].astype(float)
    return long[COLUMNS].reset_index(drop=True)


def fetv_clip_ratings(csv_path: str | Path) -> pd.DataFrame:
    """FETV's rated clips (`ratings.csv` beside the GIFs: file, prompt_index, model, rater, axes...)."""
    path = Path(csv_path)
    df = _read_csv(path, ["file", "prompt_index", "model", "rater", *FETV_AXES])
    df = df.assign(clip=df["file"].astype(str), path=[str(path.parent / f) for f in df["file"]],
                   prompt=df["prompt_index"].astype(str), source=df["model"].astype(str))
    return _melt(df, path)


def fetv_long_ratings(csv_path: str | Path) -> pd.DataFrame:
    """FETV's ratings of its whole prompt set (no videos): rater statistics and the human ceiling."""
    path = Path(csv_path)
    df = _read_csv(path, ["prompt_index", "model", "rater", *FETV_AXES])
    df = df.assign(clip=df["prompt_index"].astype(str) + "/" + df["model"].astype(str), path=None,
                   prompt=df["prompt_index"].astype(str), source=df["model"].astype(str))
    return _melt(df, path)


def resolve_fetv_csv(human: str, media_dir: Path | None) -> Path:
    """`--human`: a ratings CSV path, or "fetv" = <media dir>/fetv_rated_gifs/ratings.csv (EVALVERSE_MEDIA_DIR,
    else ../shared/media)."""
    if human != "fetv":
        path = Path(human).expanduser()
        if not path.is_file():
            raise InputError(f"--human {human}: no such ratings file (give a FETV-format ratings.csv or 'fetv')")
        return path
    roots = [r for r in (media_dir, SHARED_MEDIA) if r is not None]
    for root in roots:
        path = Path(root) / FETV_CLIPS_FOLDER / "ratings.csv"
        if path.is_file():
            return path
    raise InputError(f"no FETV ratings found under {', '.join(str(r) for r in roots)} "
                     f"(expected {FETV_CLIPS_FOLDER}/ratings.csv); pass --human path/to/ratings.csv")


def resolve_long_csv(long: str | None) -> Path | None:
    """`--long`: FETV's full rating file for the ceiling on all its prompts (default ../shared/data/fetv/...)."""
    if long:
        path = Path(long).expanduser()
        if not path.is_file():
            raise InputError(f"--long {long}: no such file")
        return path
    return SHARED_LONG if SHARED_LONG.is_file() else None


def per_clip(ratings: pd.DataFrame, axis: str) -> pd.DataFrame:
    """One row per clip for one axis: clip, path, prompt, source, human (mean over raters), n_raters, and one
    column per rater (`rater:<name>`), for the leave-one-rater-out ceiling."""
    part = ratings[ratings["axis"] == axis]
    if part.empty:
        known = sorted(ratings["axis"].unique())
        raise InputError(f"no ratings on axis {axis!r}; axes in this source: {', '.join(known)}")
    wide = part.pivot_table(index="clip", columns="rater", values="score", aggfunc="mean")
    wide.columns = [f"rater:{c}" for c in wide.columns]
    info = part.groupby("clip", sort=True)[["path", "prompt", "source"]].first()
    out = info.join(wide)
    raters = [c for c in out.columns if c.startswith("rater:")]
    out["human"] = out[raters].mean(axis=1)
    out["n_raters"] = out[raters].notna().sum(axis=1)
    return out.reset_index()
