"""`evalverse models list | pull | doctor` and the model manifest. Nothing here reaches the network:
downloads go to file:// URLs or to a closed localhost port."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalverse.errors import UnavailableError
from evalverse.models import ModelEntry, get_entry, load_manifest, pull
from evalverse.operators.base import Operator
from evalverse.operators.results import Results
from evalverse.registry import REGISTRY, Backend
from fake_operators import FakeOperators

DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused at once


def entry(**kw) -> ModelEntry:
    base = dict(name="t", title="test", kind="url", source=f"{DEAD}/x.bin", target="t/x.bin", licence="MIT", size_mb=1)
    return ModelEntry(**{**base, **kw})


def test_manifest_lists_the_design_models_with_licence_and_size():
    entries = load_manifest()
    names = [e.name for e in entries]
    assert len(names) == len(set(names))
    for required in ("insightface", "yolo", "dinov2", "whisper", "qwen2.5-vl-3b", "qwen2-vl-2b", "syncnet"):
        e = get_entry(required)
        assert e.licence and e.size_mb > 0 and e.source and e.used_by
    assert get_entry("yolo").licence == "AGPL-3.0" and get_entry("dinov2").licence == "Apache-2.0"
    assert get_entry("dinov2").source == "facebook/dinov2-small"
    from evalverse.config import JudgeSettings

    # the judge finds its VLM as a folder named Settings.judge.vlm_model under models_dir: pull puts it there
    assert JudgeSettings().vlm_model == get_entry("qwen2.5-vl-3b").target


def test_every_registered_weights_file_has_a_manifest_entry():
    """Operators and judge backends name files under models_dir; `pull` must be able to put each one there."""
    import importlib

    import evalverse.operators  # noqa: F401

    try:
        importlib.import_module("evalverse.judge.backends.transformers_vlm")
    except ModuleNotFoundError:
        pass
    targets = [Path(e.target) for e in load_manifest()]
    for cls in REGISTRY:
        if cls.name.startswith("_"):  # fake components registered by other test modules
            continue
        for backend in cls.backends:
            for f in backend.files:
                path = Path(f)
                assert any(path == t or t in path.parents for t in targets), f"{cls.name}/{backend.name}: {f}"


def test_pull_unreachable_url_fails_fast_and_cleanly(settings):
    start = time.perf_counter()
    with pytest.raises(UnavailableError) as err:
        pull(entry(), settings, timeout=2)
    assert time.perf_counter() - start < 5
    msg = str(err.value)
    assert "could not download t" in msg and "Connection refused" in msg and "\n" not in msg
    assert f"download {DEAD}/x.bin to {settings.models_dir / 't/x.bin'}" in msg  # the manual fix
    assert not (settings.models_dir / "t").exists() or not any((settings.models_dir / "t").iterdir())


def test_pull_url_checks_the_digest(tmp_path, settings):
    src = tmp_path / "weights.bin"
    src.write_bytes(b"weights" * 1000)
    good = hashlib.sha256(src.read_bytes()).hexdigest()
    path = pull(entry(source=src.as_uri(), sha256=good), settings)
    assert path == settings.models_dir / "t/x.bin" and path.read_bytes() == src.read_bytes()
    assert pull(entry(source=f"{DEAD}/never-asked", sha256=good), settings) == path  # installed: no download
    path.unlink()
    with pytest.raises(UnavailableError, match="sha256"):
        pull(entry(source=src.as_uri(), sha256="0" * 64), settings)
    assert not path.exists() and not list(path.parent.glob("*.part"))


def test_pull_zip_flattens_a_single_top_folder(tmp_path, settings):
    archive = tmp_path / "buffalo.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("buffalo_l/det_10g.onnx", b"det")
        zf.writestr("buffalo_l/w600k_r50.onnx", b"rec")
    e = entry(kind="zip", source=archive.as_uri(), target="insightface/models/buffalo_l",
              check=["det_10g.onnx", "w600k_r50.onnx"])
    path = pull(e, settings)
    assert (path / "det_10g.onnx").read_bytes() == b"det" and e.installed(settings)
    assert not list(path.parent.glob(".*zip"))


def test_pull_zip_missing_expected_files_is_reported(tmp_path, settings):
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", b"x")
    with pytest.raises(UnavailableError, match="still missing"):
        pull(entry(kind="zip", source=archive.as_uri(), target="z", check=["model.onnx"]), settings)


def test_pull_hf_refuses_while_offline_mode_is_set(settings):
    from huggingface_hub import constants

    if not constants.HF_HUB_OFFLINE:
        pytest.skip("HF_HUB_OFFLINE is not set in this process")
    with pytest.raises(UnavailableError, match="HF_HUB_OFFLINE=1 is set"):
        pull("dinov2", settings)


def test_cli_pull_hf_unreachable_endpoint_exits_2_with_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": DEAD, "EVALVERSE_DATA": str(tmp_path),
           "EVALVERSE_MODELS": str(tmp_path / "models"), "HF_HOME": str(tmp_path / "hf"), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "evalverse.cli", "models", "pull", "dinov2", "--timeout", "3"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert time.perf_counter() - start < 30
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "could not download dinov2" in errors[0] and "hf download facebook/dinov2-small" in errors[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "models" / "dinov2-small" / "model.safetensors").exists()


def test_cli_list_and_unknown_name(monkeypatch, tmp_path):
    from evalverse.cli import app
    from evalverse.errors import InputError

    monkeypatch.setenv("EVALVERSE_MODELS", str(tmp_path / "m"))
    (tmp_path / "m" / "yolo").mkdir(parents=True)
    (tmp_path / "m" / "yolo" / "yolo11n.pt").write_bytes(b"x")
    res = CliRunner().invoke(app, ["models", "list", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert rows["yolo"]["installed"] and not rows["dinov2"]["installed"]
    assert rows["dinov2"]["target"] == str(tmp_path / "m" / "dinov2-small")
    res = CliRunner().invoke(app, ["models", "pull", "nope"])
    assert isinstance(res.exception, InputError) and "unknown model 'nope'" in str(res.exception)


def _never(settings) -> str:
    return "needs a thing that is never here"


_fake = FakeOperators()
_fakes_registered = _fake.fixture()


@_fake
class _McMissing(Operator):
    name = "_mc_missing"
    version = "1"
    description = "test: never available"
    evidence_kind = "features"
    results_model = Results
    backends = (Backend("only", "nowhere", "MIT", probe=_never, fix="do the thing"),)

    def run(self, ctx):  # pragma: no cover
        return {}


def test_doctor_reports_backends_and_fixes(monkeypatch, tmp_path):
    from evalverse.cli import app

    monkeypatch.setenv("EVALVERSE_MODELS", str(tmp_path / "m"))
    res = CliRunner().invoke(app, ["models", "doctor", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    comps = {(c["kind"], c["name"]): c for c in report["components"]}
    people = comps[("operator", "people")]
    assert people["backend"] == "mediapipe_pose"  # no YOLO weights in an empty models folder
    yolo = next(b for b in people["backends"] if b["name"] == "yolo")
    assert yolo["missing"] and yolo["fix"] == "evalverse models pull yolo" and yolo["licence"] == "AGPL-3.0"
    assert comps[("operator", "features")]["backend"] == "classical"
    missing = comps[("operator", "_mc_missing")]
    assert not missing["available"] and "needs a thing that is never here (fix: do the thing)" in missing["explain"]
    assert {m["name"] for m in report["models"]} >= {"yolo", "dinov2"}
    text = CliRunner().invoke(app, ["models", "doctor"]).output
    assert "NOT AVAILABLE" in text and "people" in text


# --- an interrupted pull is incomplete, not installed -----------------------------------------------------

def fake_qwen_folder(root: Path) -> Path:
    """A Qwen-style folder as a finished pull leaves it: configs, a shard index and the two shards it names
    (real safetensors files, a few tensors each)."""
    import numpy as np
    from safetensors.numpy import save_file

    root.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "preprocessor_config.json", "tokenizer_config.json"):
        (root / name).write_text("{}")
    shards = {"model-00001-of-00002.safetensors": ["a.weight", "b.weight"],
              "model-00002-of-00002.safetensors": ["c.weight", "d.bias"]}
    for shard, names in shards.items():
        save_file({n: np.arange(256 * (i + 1), dtype=np.float32) for i, n in enumerate(names)}, str(root / shard))
    (root / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {"total_size": 0}, "weight_map": {n: shard for shard, names in shards.items() for n in names}}))
    return root


def test_a_half_pulled_model_is_incomplete_with_the_fix(settings):
    from evalverse.models import weights_problems

    e = get_entry("qwen2.5-vl-3b")
    root = fake_qwen_folder(e.path(settings))
    assert e.installed(settings) and e.problems(settings) == [] and e.status(settings) == "installed"
    shard2 = root / "model-00002-of-00002.safetensors"
    whole = shard2.read_bytes()
    shard2.unlink()  # the pull stopped before the second shard
    assert not e.installed(settings) and e.status(settings) == "incomplete"
    assert e.problems(settings) == ["shard model-00002-of-00002.safetensors named by model.safetensors.index.json is missing"]
    assert e.fix() == "evalverse models pull qwen2.5-vl-3b"
    shard2.write_bytes(whole[: len(whole) - 100])  # ... or in the middle of it
    assert e.problems(settings) == [f"model-00002-of-00002.safetensors is truncated ({len(whole) - 100} of {len(whole)} bytes)"]
    shard2.write_bytes(whole[:5])
    assert "model-00002-of-00002.safetensors is truncated" in e.problems(settings)[0]
    shard2.write_bytes(whole + b"x")
    assert "is damaged" in e.problems(settings)[0]
    shard2.write_bytes(whole)
    assert e.installed(settings)
    (root / "model.safetensors.index.json").write_text("{\"weight_map\": ")
    assert "not a readable shard index" in e.problems(settings)[0]
    (root / "model.safetensors.index.json").unlink()
    assert e.problems(settings)[0].endswith("model.safetensors.index.json is missing")
    (root / "config.json").write_text("")
    assert any(p.endswith("config.json is empty") for p in e.problems(settings))
    assert weights_problems(root / "nope.bin") == [f"{root / 'nope.bin'} is missing"]


def test_doctor_and_list_report_an_interrupted_pull(monkeypatch, tmp_path):
    from evalverse.cli import app

    monkeypatch.setenv("EVALVERSE_MODELS", str(tmp_path / "m"))
    root = fake_qwen_folder(tmp_path / "m" / "Qwen2.5-VL-3B-Instruct")
    (root / "model-00001-of-00002.safetensors").unlink()
    res = CliRunner().invoke(app, ["models", "doctor", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    row = next(m for m in report["models"] if m["name"] == "qwen2.5-vl-3b")
    assert row["status"] == "incomplete" and not row["installed"] and row["fix"] == "evalverse models pull qwen2.5-vl-3b"
    assert "model-00001-of-00002.safetensors" in row["problems"][0]
    judge = next(c for c in report["components"] if (c["kind"], c["name"]) == ("judge", "transformers"))
    assert not judge["available"] and "incomplete" in judge["explain"] and "evalverse models pull qwen2.5-vl-3b" in judge["explain"]
    assert next(m for m in report["models"] if m["name"] == "dinov2")["status"] == "missing"
    text = CliRunner().invoke(app, ["models", "doctor"]).output
    assert "qwen2.5-vl-3b  incomplete" in text
    assert "shard model-00001-of-00002.safetensors named by model.safetensors.index.json is missing " \
           "(fix: evalverse models pull qwen2.5-vl-3b)" in text
    listed = {r["name"]: r for r in json.loads(CliRunner().invoke(app, ["models", "list", "--json"]).output)}
    assert listed["qwen2.5-vl-3b"]["status"] == "incomplete"


def test_a_known_digest_is_checked_on_the_installed_file(tmp_path, settings):
    src = tmp_path / "weights.bin"
    src.write_bytes(b"weights" * 1000)
    good = hashlib.sha256(src.read_bytes()).hexdigest()
    e = entry(source=src.as_uri(), sha256=good)
    path = pull(e, settings)
    assert e.installed(settings)
    path.write_bytes(b"weights" * 999)  # damaged after the download (a copy cut short)
    assert e.status(settings) == "incomplete" and "not the expected" in e.problems(settings)[0]
    assert pull(e, settings) == path and e.installed(settings)  # pull replaces it


def test_pull_fetches_the_broken_shard_again(settings, monkeypatch):
    import huggingface_hub
    from huggingface_hub import constants

    e = get_entry("qwen2.5-vl-3b")
    root = fake_qwen_folder(e.path(settings))
    shard = root / "model-00002-of-00002.safetensors"
    whole = shard.read_bytes()
    shard.write_bytes(whole[:-10])
    meta = root / ".cache" / "huggingface" / "download" / f"{shard.name}.metadata"
    meta.parent.mkdir(parents=True)
    meta.write_text("commit\netag\n0\n")  # the hub's record that this file was already downloaded
    calls = []

    def fake_download(repo, local_dir, **kw):  # a hub that fills in what is not there
        calls.append(repo)
        assert not shard.exists() and not meta.exists()  # the broken file was not trusted
        (Path(local_dir) / shard.name).write_bytes(whole)

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    assert pull(e, settings) == root and calls == ["Qwen/Qwen2.5-VL-3B-Instruct"] and e.installed(settings)


def test_cli_doctor_in_a_fresh_process_lists_the_judges(tmp_path):
    """In a new process nothing else has imported the judge backends: the doctor must still list them."""
    fake_qwen_folder(tmp_path / "models" / "Qwen2.5-VL-3B-Instruct")
    (tmp_path / "models" / "Qwen2.5-VL-3B-Instruct" / "model-00002-of-00002.safetensors").unlink()
    env = {**os.environ, "EVALVERSE_DATA": str(tmp_path), "EVALVERSE_MODELS": str(tmp_path / "models"),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "evalverse.cli", "models", "doctor", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    comps = {(c["kind"], c["name"]): c for c in json.loads(proc.stdout)["components"]}
    assert {("judge", "evidence"), ("judge", "openai"), ("judge", "transformers")} <= set(comps)
    vlm = comps[("judge", "transformers")]
    assert not vlm["available"] and "model-00002-of-00002.safetensors" in vlm["explain"]
