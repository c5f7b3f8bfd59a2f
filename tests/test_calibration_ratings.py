"""Calibration reads human ratings from the store: the pointwise judgments imported with `evalverse humans import
--format fetv`, of the calibration target's dimension and sub-dimension, each video matched to its file by content
hash; a ratings CSV given with --human is read directly; nothing rated is silently dropped."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from evalverse.calibration import ratings as R
from evalverse.calibration.run import load_human
from evalverse.calibration.spec import load_spec
from evalverse.errors import InputError
from evalverse.humans.importers import read_judgments
from evalverse.store import Store

HEADER = "file,prompt_index,model,rater,static_quality,temporal_quality,alignment\n"


def _rated(folder, n_prompts=4):
    """Tiny 'videos' (distinct bytes: only their hashes matter here) and a FETV-format ratings table."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for p in range(n_prompts):
        for m, model in enumerate(("gt", "cogvideo")):
            name = f"fetv_{p}_{model}.gif"
            (folder / name).write_bytes(bytes([p, m]) * 64)
            for r in range(3):
                lines.append(f"{name},{p},{model},h{r},{1 + (p + m + r) % 5},{1 + (p + r) % 5},3\n")
    (folder / "ratings.csv").write_text(HEADER + "".join(lines))
    return folder / "ratings.csv"


def _import(store, path, **kw):
    batch = read_judgments(path, "fetv", **kw)
    store.import_human_judgments(batch.source, batch.pointwise, batch.pairwise)
    return batch


@pytest.fixture
def spec():
    return load_spec("visual_quality")


def test_store_ratings_are_the_csvs_matched_to_files_by_content_hash(tmp_path, spec):
    csv = _rated(tmp_path / "gifs")
    store = Store.memory()
    _import(store, csv)
    for axis in ("static_quality", "temporal_quality"):
        sub = spec.human.axes[axis].sub_dimension
        table = R.store_clip_ratings(store, "visual_quality", sub, axis, spec.human.scale)
        from_store = R.per_clip(table, axis).set_index("clip")
        direct = R.per_clip(R.fetv_clip_ratings(csv), axis).set_index("clip")
        pd.testing.assert_series_equal(from_store["human"], direct["human"])
        assert (from_store["path"] == direct["path"]).all()
        assert set(from_store["prompt"]) == {f"fetv_{p}" for p in range(4)}  # the case keys: CV groups by them
    assert R.store_clip_sources(store, "visual_quality", spec.human.axes["static_quality"].sub_dimension) == ["fetv:ratings"]


def test_moved_and_renamed_clips_are_found_by_hash_and_a_same_named_impostor_is_not(tmp_path, spec):
    csv = _rated(tmp_path / "gifs")
    store = Store.memory()
    _import(store, csv)
    moved = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "gifs", moved)
    shutil.rmtree(tmp_path / "gifs")
    (moved / "fetv_0_gt.gif").rename(moved / "renamed.gif")
    sub = spec.human.axes["static_quality"].sub_dimension
    with pytest.raises(InputError, match=r"8 rated video\(s\) have no file .* pass --clips FOLDER"):
        R.store_clip_ratings(store, "visual_quality", sub, "static_quality", spec.human.scale)
    table = R.store_clip_ratings(store, "visual_quality", sub, "static_quality", spec.human.scale, folders=[moved])
    assert set(table["path"]) == {str(p) for p in moved.glob("*.gif")}
    (moved / "renamed.gif").write_bytes(b"not the rated clip")
    with pytest.raises(InputError, match=r"1 rated video\(s\) .* first: fetv_0_gt.gif"):
        R.store_clip_ratings(store, "visual_quality", sub, "static_quality", spec.human.scale, folders=[moved])


def test_an_empty_store_says_how_to_import_and_a_csv_is_read_directly(tmp_path, spec):
    store = Store.memory()
    with pytest.raises(InputError, match="evalverse humans import .* --format fetv"):
        load_human(spec, "static_quality", None, store)
    csv = _rated(tmp_path / "gifs")
    direct = load_human(spec, "static_quality", str(csv), store)
    assert direct.source == "csv:ratings.csv" and len(direct.clips) == 8


def test_a_source_id_selects_one_source_and_rating_only_judgments_form_the_long_ceiling(tmp_path, spec):
    csv = _rated(tmp_path / "gifs")
    long = tmp_path / "long.csv"
    rows = [f"v{p}_{m},{p},m{m},h{r},{1 + (p * m + r) % 5},3,3\n" for p in range(10) for m in (1, 2) for r in range(3)]
    long.write_text("video_id,prompt_index,model,rater,static_quality,temporal_quality,alignment\n" + "".join(rows))
    store = Store.memory()
    _import(store, csv)
    _import(store, long, source="fetv:long")
    human = load_human(spec, "static_quality", "fetv:ratings", store)
    assert human.source == "store:fetv:ratings" and len(human.clips) == 8
    assert human.long is not None and human.long["prompt"].nunique() == 10  # the rating-only set, from the store
    assert human.mapping["fetv:ratings"]["static_quality"]["sub_dimension"] == "visual_quality_rendering_quality"
    with pytest.raises(InputError, match="no human judgments .* from source nope"):
        load_human(spec, "static_quality", "nope", store)


def test_calibrate_without_imported_judgments_is_a_one_line_error_naming_the_import(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "EVALVERSE_DATA": str(tmp_path / "data")}
    r = subprocess.run([sys.executable, "-m", "evalverse.cli", "calibrate", "--dimension", "visual_quality"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0, r.stderr
    assert "no human judgments of visual_quality / visual_quality_rendering_quality in the store" in r.stderr
    assert "evalverse humans import" in r.stderr
