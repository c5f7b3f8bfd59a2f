"""Human ratings for calibration: one long table, one row per (clip, rater, axis).

Columns: clip (a key: the file name for rated clips, source/video id for rating-only data), path (the video file,
or None), prompt (a string id: clips of one prompt are never split between training and test), source (the
generator or "ground-truth"), rater, axis, score.

Two ways in:
- the store (the default): the human pointwise judgments imported with `evalverse humans import FILE --format
  fetv|pointwise` whose dimension and sub-dimension (set at import by the axis -> dimension mapping, data in
  evalverse/humans/mappings/) are the calibration target's; each rated video is matched to a file by its content
  hash (`store_clip_ratings`), and judgments of videos without a file form the rating-only set for the human
  ceiling (`store_rating_only`);
- a FETV-format ratings CSV read directly (`fetv_clip_ratings`): what `evalverse calibrate --human ratings.csv`
  means, for a file not imported.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from evalverse.errors import DataError, InputError

COLUMNS = ["clip", "path", "prompt", "source", "rater", "axis", "score"]
FETV_AXES = ("static_quality", "temporal_quality", "alignment")
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


def resolve_fetv_csv_path(human: str) -> Path | None:
    """`--human`: the ratings CSV it names, or None when it names no file (then it is a store source id)."""
    path = Path(human).expanduser()
    if path.is_file():
        return path
    if path.suffix.lower() in (".csv", ".tsv") or "/" in human:
        raise InputError(f"--human {human}: no such ratings file (give a FETV-format ratings.csv, or a source id in the "
                         "store: `evalverse humans stats` lists them)")
    return None


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


# ---- the store ---------------------------------------------------------------------------------------------

def _rescale(scores: pd.Series, lo: pd.Series, hi: pd.Series, scale: tuple[float, float]) -> pd.Series:
    """Scores from each judgment's own scale onto the calibration's (the same scale: unchanged)."""
    a, b = scale
    lo = lo.fillna(a).astype(float)
    hi = hi.fillna(b).astype(float)
    return a + (scores.astype(float) - lo) / (hi - lo) * (b - a)


def _store_rows(store: Any, dimension: str, sub_dimension: str | None, source: str | None) -> pd.DataFrame:
    rows = store.human_ratings(source=source, dimension=dimension, sub_dimension=sub_dimension, counted=True)
    if sub_dimension is not None:
        rows = rows[rows["sub_dimension"] == sub_dimension]
    return rows


def _no_judgments(store: Any, dimension: str, sub_dimension: str | None, source: str | None) -> InputError:
    where = f"{dimension}" + (f" / {sub_dimension}" if sub_dimension else "")
    known = [s["id"] for s in store.human_sources()]
    hint = (f"the store's sources: {', '.join(known)}" if known else "the store holds no human judgments")
    return InputError(f"no human judgments of {where}{' from source ' + source if source else ''} in the store "
                      f"({hint}); import them: evalverse humans import ../shared/media/fetv_rated_gifs/ratings.csv "
                      "--format fetv (or pass --human ratings.csv to read a file directly)")


class _Locator:
    """Finds the file of a content hash: the path the store knows for it, the file named by the judgment
    beside the imported ratings file, or any file in the extra folders; every candidate's hash is checked."""

    def __init__(self, store: Any, folders: list[Path]) -> None:
        from evalverse.media.hashing import sha256_file

        self._hash = sha256_file
        self.store = store
        self.sources = {s["id"]: s for s in store.human_sources()}
        self.folders = [Path(f) for f in folders]
        self._seen: dict[str, str] = {}
        self._scanned: dict[str, Path] | None = None

    def _digest(self, path: Path) -> str | None:
        key = str(path.resolve())
        if key not in self._seen:
            try:
                self._seen[key] = self._hash(path)
            except OSError:
                return None
        return self._seen[key]

    def find(self, video_hash: str, name: str | None, source: str) -> Path | None:
        candidates: list[Path] = []
        known = (self.store.get_video(video_hash) or {}).get("path")
        if known:
            candidates.append(Path(known))
        src_path = (self.sources.get(source) or {}).get("path")
        if name and src_path:
            candidates.append(Path(src_path).parent / name)
        candidates += [f / name for f in self.folders if name]
        for c in candidates:
            if c.is_file() and self._digest(c) == video_hash:
                return c
        if self.folders:  # renamed files: hash every file of the folders once
            if self._scanned is None:
                self._scanned = {}
                for folder in self.folders:
                    for f in sorted(folder.iterdir()) if folder.is_dir() else []:
                        if f.is_file() and f.suffix.lower() not in (".csv", ".json", ".txt", ".md"):
                            digest = self._digest(f)
                            if digest:
                                self._scanned.setdefault(digest, f)
            return self._scanned.get(video_hash)
        return None


def store_clip_ratings(store: Any, dimension: str, sub_dimension: str | None, axis: str,
                       scale: tuple[float, float], source: str | None = None,
                       folders: list[Path] | None = None) -> pd.DataFrame:
    """The store's counted pointwise judgments of `dimension` / `sub_dimension` whose video has a content hash,
    each matched to its file by that hash, as the long table (`axis` names the column the spec calls it).
    InputError when there are none, or when rated videos have no file here (nothing is silently dropped)."""
    rows = _store_rows(store, dimension, sub_dimension, source)
    rows = rows[rows["video_hash"].notna()]
    if rows.empty:
        raise _no_judgments(store, dimension, sub_dimension, source)
    locate = _Locator(store, folders or [])
    paths: dict[str, str | None] = {}
    for h, name, src in rows[["video_hash", "video_name", "source"]].drop_duplicates("video_hash").itertuples(index=False):
        found = locate.find(h, name, src)
        paths[h] = str(found) if found is not None else None
    missing = [(h, n) for h, n in rows[["video_hash", "video_name"]].drop_duplicates("video_hash").itertuples(index=False)
               if paths[h] is None]
    if missing:
        looked = ", ".join(str(f) for f in (folders or [])) or "the store's video paths and the imported file's folder"
        raise InputError(f"{len(missing)} rated video(s) have no file with their content hash here (looked in {looked}), "
                         f"first: {missing[0][1]} (sha256 {missing[0][0][:12]}...); pass --clips FOLDER")
    names = rows.groupby("video_hash")["video_name"].first()
    dup = names[names.duplicated(keep=False)].index
    clip = {h: (f"{n} [{h[:8]}]" if h in dup else str(n)) for h, n in names.items()}
    out = pd.DataFrame({
        "clip": rows["video_hash"].map(clip), "path": rows["video_hash"].map(paths),
        "prompt": rows["case_key"].fillna(rows["video_hash"]).astype(str),
        "source": rows["model"].fillna("unknown").astype(str), "rater": rows["annotator"].astype(str), "axis": axis,
        "score": _rescale(rows["score"], rows["scale_min"], rows["scale_max"], scale)})
    return out[COLUMNS].reset_index(drop=True)


def store_clip_sources(store: Any, dimension: str, sub_dimension: str | None, source: str | None = None) -> list[str]:
    """The store source ids whose judgments `store_clip_ratings` reads (those of videos with a content hash)."""
    rows = _store_rows(store, dimension, sub_dimension, source)
    return sorted(rows.loc[rows["video_hash"].notna(), "source"].unique())


def store_rating_only(store: Any, dimension: str, sub_dimension: str | None, axis: str,
                      scale: tuple[float, float]) -> pd.DataFrame | None:
    """The store's counted judgments of the target whose video has no content hash (rating-only data such as
    FETV's whole prompt set): the human ceiling over more prompts. None when there are none."""
    rows = _store_rows(store, dimension, sub_dimension, None)
    rows = rows[rows["video_hash"].isna()]
    if rows.empty:
        return None
    out = pd.DataFrame({
        "clip": rows["source"].astype(str) + "/" + rows["video_name"].astype(str), "path": None,
        "prompt": rows["case_key"].fillna(rows["video_name"]).astype(str),
        "source": rows["model"].fillna("unknown").astype(str), "rater": rows["annotator"].astype(str), "axis": axis,
        "score": _rescale(rows["score"], rows["scale_min"], rows["scale_max"], scale)})
    return out[COLUMNS].reset_index(drop=True)
