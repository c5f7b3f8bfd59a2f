"""Operator runner: dependency order, backend choice, failure isolation, timing and the evidence cache.

Uses fake operators registered under names starting with `_rt_` and a DecodedVideo built in memory.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from evalverse.errors import InputError, UnavailableError
from evalverse.media.types import DecodedVideo, VideoMeta
from evalverse.operators.base import Operator, OperatorContext, OperatorSkipped
from evalverse.operators.runner import params_key, plain, resolve_order, run_operators, iter_operators
from evalverse.operators.results import Results
from evalverse.registry import REGISTRY, Backend
from fake_operators import FakeOperators

CALLS: list[str] = []


def make_video(n: int = 8, audio: bool = True, content_hash: str = "h" * 64) -> DecodedVideo:
    frames = np.zeros((n, 24, 32, 3), np.uint8)
    times = np.arange(n) / 4.0
    meta = VideoMeta(path="mem.mp4", content_hash=content_hash, size_bytes=1, container="mp4", duration_s=n / 4,
                     fps=4.0, n_frames=n, width=32, height=24, coded_width=32, coded_height=24, vcodec="h264",
                     has_audio=audio)
    return DecodedVideo(meta=meta, frames=frames, times=times, stills=frames[:1], still_times=times[:1],
                        audio=np.zeros(16000, np.float32) if audio else None)


def _always(settings) -> None:
    return None


def _never(settings) -> str:
    return "the thing is missing"


class Nothing(Results):
    pass


class RootResults(Results):
    n: int
    arr: list[int] = []
    bad: float | None = None


class ChildResults(Results):
    double: int
    backend: str


class UsedResults(Results):
    used: str


class SamplesResults(Results):
    samples: int


class XResults(Results):
    x: int


class _Base(Operator):
    version = "1"
    description = "test operator"
    evidence_kind = "features"
    results_model = Nothing
    backends = (Backend("fast", "none", "none", probe=_always),)


_fake = FakeOperators()
_fakes_registered = _fake.fixture()


@_fake
class RtRoot(_Base):
    name = "_rt_root"
    default_params = {"k": 2}
    results_model = RootResults
    cost = 5.0

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        CALLS.append(self.name)
        time.sleep(0.02)
        return {"n": int(len(ctx.video.frames)) * ctx.params["k"], "arr": np.arange(3), "bad": float("nan")}

@_fake
class RtChild(_Base):
    name = "_rt_child"
    needs = ("frames", "_rt_root")
    results_model = ChildResults

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        CALLS.append(self.name)
        return {"double": (ctx.evidence["_rt_root"].value("n") or 0) * 2, "backend": ctx.backend}

@_fake
class RtBoom(_Base):
    name = "_rt_boom"

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        CALLS.append(self.name)
        raise ZeroDivisionError("division by zero\nsecond line")

@_fake
class RtNoWeights(_Base):
    name = "_rt_noweights"
    backends = (Backend("big", "hub", "MIT", probe=_never, fix="evalverse models pull big"),
                Backend("tiny", "hub", "MIT", files=("tiny/never.bin",), fix="evalverse models pull tiny"))

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        CALLS.append(self.name)
        return {}

@_fake
class RtFallback(_Base):
    name = "_rt_fallback"
    results_model = UsedResults
    backends = (Backend("big", "hub", "MIT", probe=_never), Backend("small", "none", "none"))

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        return {"used": ctx.backend}

@_fake
class RtExpected(_Base):
    name = "_rt_expected"

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        if ctx.params.get("skip"):
            raise OperatorSkipped("the audio is digitally silent")
        if ctx.params.get("input"):
            raise InputError("clip too short for this")
        raise UnavailableError("model file x missing; fix: evalverse models pull x")

@_fake
class RtAudio(_Base):
    name = "_rt_audio"
    needs = ("audio",)
    results_model = SamplesResults

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        return {"samples": int(len(ctx.video.audio))}

@_fake
class RtPartial(_Base):
    name = "_rt_partial"
    results_model = XResults

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        return {"partial": True, "message": "only half", "x": 1}

@_fake
class RtSkips(_Base):
    name = "_rt_skips"

    def run(self, ctx: OperatorContext) -> dict[str, Any]:
        return {"skipped": True, "message": "audio is digitally silent"}

@_fake
class RtCycleA(_Base):
    name = "_rt_cycle_a"
    needs = ("_rt_cycle_b",)

    def run(self, ctx):  # pragma: no cover - never runs
        return {}

@_fake
class RtCycleB(_Base):
    name = "_rt_cycle_b"
    needs = ("_rt_cycle_a",)

    def run(self, ctx):  # pragma: no cover - never runs
        return {}


class DictStore:
    """The cache protocol the runner expects from the DuckDB store, in memory."""

    def __init__(self) -> None:
        self.rows: dict[tuple, dict] = {}

    def get_evidence(self, video_hash, operator, version, params_key):
        return self.rows.get((video_hash, operator, version, params_key))

    def put_evidence(self, video_hash, operator, version, params_key, record):
        self.rows[(video_hash, operator, version, params_key)] = record


def test_dependencies_run_first_and_results_flow(settings):
    assert resolve_order(["_rt_child"]) == ["_rt_root", "_rt_child"]
    CALLS.clear()
    records = run_operators(make_video(n=8), settings, names=["_rt_child"])
    assert list(records) == ["_rt_root", "_rt_child"]
    assert CALLS == ["_rt_root", "_rt_child"]
    assert records["_rt_root"].results["n"] == 16  # default param k=2 applied
    assert records["_rt_child"].typed() == ChildResults(double=32, backend="fast")
    assert records["_rt_root"].backend == "fast" and records["_rt_root"].status == "ok"
    assert records["_rt_root"].seconds >= 0.02
    # results are plain JSON: numpy arrays become lists, NaN becomes None
    assert records["_rt_root"].results["arr"] == [0, 1, 2] and records["_rt_root"].results["bad"] is None
    records["_rt_root"].model_dump_json()


def test_params_override_defaults(settings):
    records = run_operators(make_video(n=5), settings, names=["_rt_root"], params={"_rt_root": {"k": 10}})
    assert records["_rt_root"].results["n"] == 50
    assert records["_rt_root"].params == {"k": 10}


def test_failures_are_isolated(settings):
    CALLS.clear()
    records = run_operators(make_video(), settings, names=["_rt_boom", "_rt_noweights", "_rt_root"])
    boom = records["_rt_boom"]
    assert boom.status == "error" and "ZeroDivisionError: division by zero" in boom.message
    assert "\n" not in boom.message
    nw = records["_rt_noweights"]
    assert nw.status == "unavailable" and nw.backend is None
    assert "the thing is missing" in nw.message and "evalverse models pull tiny" in nw.message
    assert "_rt_noweights" not in CALLS
    assert records["_rt_root"].status == "ok"


def test_first_available_backend_is_chosen(settings):
    assert run_operators(make_video(), settings, names=["_rt_fallback"])["_rt_fallback"].value("used") == "small"


def test_expected_errors_keep_their_message(settings):
    rec = run_operators(make_video(), settings, names=["_rt_expected"])["_rt_expected"]
    assert rec.status == "unavailable" and rec.message == "model file x missing; fix: evalverse models pull x"
    rec = run_operators(make_video(), settings, names=["_rt_expected"], params={"_rt_expected": {"input": 1}})["_rt_expected"]
    assert rec.status == "error" and rec.message == "clip too short for this"
    rec = run_operators(make_video(), settings, names=["_rt_expected"], params={"_rt_expected": {"skip": 1}})["_rt_expected"]
    assert rec.status == "skipped" and rec.message == "the audio is digitally silent"


def test_missing_audio_skips_and_partial_is_reported(settings):
    rec = run_operators(make_video(audio=False), settings, names=["_rt_audio"])["_rt_audio"]
    assert rec.status == "skipped" and "no audio" in rec.message
    assert run_operators(make_video(), settings, names=["_rt_audio"])["_rt_audio"].value("samples") == 16000
    rec = run_operators(make_video(), settings, names=["_rt_partial"])["_rt_partial"]
    assert rec.status == "partial" and rec.message == "only half"


def test_operator_reporting_skipped_is_recorded_as_skipped(settings):
    # regression: results {"skipped": True} were recorded with status "ok"
    rec = run_operators(make_video(), settings, names=["_rt_skips"])["_rt_skips"]
    assert rec.status == "skipped" and rec.message == "audio is digitally silent"


def test_cycles_and_unknown_names_are_input_errors():
    with pytest.raises(InputError, match="cycle"):
        resolve_order(["_rt_cycle_a"])
    with pytest.raises(InputError, match="unknown operator"):
        resolve_order(["_rt_nope"])


def test_cache_hits_on_second_run_and_no_cache_recomputes(settings):
    store = DictStore()
    video = make_video()
    CALLS.clear()
    first = run_operators(video, settings, names=["_rt_child", "_rt_boom"], store=store)
    assert not any(r.cached for r in first.values())
    assert len(store.rows) == 2  # the error is not cached
    CALLS.clear()
    second = run_operators(video, settings, names=["_rt_child", "_rt_boom"], store=store)
    assert CALLS == ["_rt_boom"]  # only the failed one ran again
    assert second["_rt_root"].cached and second["_rt_child"].cached
    assert second["_rt_child"].results == first["_rt_child"].results
    CALLS.clear()
    third = run_operators(video, settings, names=["_rt_child"], store=store, use_cache=False)
    assert CALLS == ["_rt_root", "_rt_child"] and not third["_rt_child"].cached
    # different params or a different video miss the cache; so does the child when its upstream params change
    CALLS.clear()
    run_operators(video, settings, names=["_rt_child"], store=store, params={"_rt_root": {"k": 3}})
    assert CALLS == ["_rt_root", "_rt_child"]
    CALLS.clear()
    run_operators(make_video(content_hash="g" * 64), settings, names=["_rt_root"], store=store)
    assert CALLS == ["_rt_root"]


def test_broken_store_does_not_stop_the_run(settings):
    class Broken:
        def get_evidence(self, *a):
            raise RuntimeError("db locked")

        def put_evidence(self, *a):
            raise RuntimeError("db locked")

    rec = run_operators(make_video(), settings, names=["_rt_root"], store=Broken())["_rt_root"]
    assert rec.status == "ok" and rec.results["n"] == 16


def test_events_stream_in_order(settings):
    events = list(iter_operators(make_video(), settings, names=["_rt_child"]))
    assert [(e["kind"], e["operator"]) for e in events] == [
        ("operator_start", "_rt_root"), ("operator_done", "_rt_root"),
        ("operator_start", "_rt_child"), ("operator_done", "_rt_child")]
    assert events[0]["record"] is None and events[1]["record"].status == "ok"
    assert all(e["total"] == 2 for e in events)
    seen: list[str] = []
    run_operators(make_video(), settings, names=["_rt_root"], on_event=lambda e: seen.append(e["kind"]))
    assert seen == ["operator_start", "operator_done"]


def test_params_key_is_stable_and_sensitive():
    a = params_key({"b": 1, "a": [1, 2]}, "x")
    assert a == params_key({"a": [1, 2], "b": 1}, "x")
    assert a != params_key({"a": [1, 2], "b": 1}, "y")
    assert a != params_key({"a": [1, 2], "b": 2}, "x")
    assert a != params_key({"a": [1, 2], "b": 1}, "x", {"up": "k"})


def test_plain_converts_numpy():
    out = plain({"a": np.float32(1.5), "b": np.array([[1, 2]]), "c": (np.int64(3), float("inf")), "d": np.bool_(True)})
    assert out == {"a": 1.5, "b": [[1, 2]], "c": [3, None], "d": True}


# --- the real store and the `evalverse evidence` command ------------------------------------------------------

def test_runner_caches_in_the_duckdb_store(settings):
    from evalverse.store import Store

    with Store.memory() as store:
        CALLS.clear()
        first = run_operators(make_video(), settings, names=["_rt_child"], store=store)
        second = run_operators(make_video(), settings, names=["_rt_child"], store=store)
        assert CALLS == ["_rt_root", "_rt_child"]  # the second run came from the store
        assert second["_rt_child"].cached and second["_rt_child"].results == first["_rt_child"].results
        assert second["_rt_root"].results["bad"] is None


def _cli(args, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "EVALVERSE_DATA": str(tmp_path), "EVALVERSE_MODELS": str(tmp_path / "models"),
           "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "YOLO_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "evalverse.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_collect_evidence_shots_and_cache(tmp_path, settings):
    from evalverse.commands.evidence import collect_evidence
    from evalverse.media.synthetic import cuts_clip
    from evalverse.store import Store

    syn = cuts_clip(tmp_path / "cuts.mp4", cut_frames=(30,), n=60)
    with Store.memory() as store:
        out = collect_evidence(syn.path, settings, ["features"], store=store)
        assert out["video"]["duration_s"] == pytest.approx(2.4, abs=0.05)
        assert list(out["operators"]) == ["shots", "features"]  # shots always runs, and first
        assert [round(s["start"], 2) for s in out["shots"]] == [0.0, 1.2]  # the planted cut: frame 30 at 25 fps
        assert out["shots"][-1]["end"] == pytest.approx(2.4, abs=0.05)
        feats = out["operators"]["features"]
        assert feats["status"] == "ok" and not feats["cached"] and feats["results"]["shot_source"] == "shots evidence"
        again = collect_evidence(syn.path, settings, ["features"], store=store)
        assert again["operators"]["features"]["cached"] and again["operators"]["shots"]["cached"]
        assert again["operators"]["features"]["results"] == feats["results"]
        fresh = collect_evidence(syn.path, settings, ["features"], store=store, use_cache=False)
        assert not fresh["operators"]["features"]["cached"]
        with pytest.raises(InputError, match="unknown operator"):
            collect_evidence(syn.path, settings, ["nope"], store=store)


def test_evidence_command_prints_json(tmp_path):
    import json

    from evalverse.media.synthetic import cuts_clip

    syn = cuts_clip(tmp_path / "cuts.mp4", cut_frames=(30,), n=60)
    proc = _cli(["evidence", str(syn.path), "--json", "--operators", "shots", "--db", str(tmp_path / "ev.duckdb")],
                tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"video", "shots", "operators"}
    assert out["operators"]["shots"]["results"]["cuts"] == [1.2] and len(out["shots"]) == 2
    assert (tmp_path / "ev.duckdb").exists()


def test_evidence_command_bad_file_and_bad_operator(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00not a video" * 100)
    proc = _cli(["evidence", str(bad), "--json", "--db", str(tmp_path / "db.duckdb")], tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.mp4" in errors[0] and "Traceback" not in proc.stderr
    proc = _cli(["evidence", str(tmp_path / "missing.mp4"), "--db", str(tmp_path / "db.duckdb")], tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_downstream_cache_depends_on_upstream_success(settings):
    """A child computed while its dependency failed is not served from the cache once the dependency works."""
    store = DictStore()
    video = make_video()
    run_operators(video, settings, names=["_rt_child"], store=store, params={"_rt_root": {"k": None}})  # root fails
    assert sum(1 for k in store.rows if k[1] == "_rt_root") == 0
    assert sum(1 for k in store.rows if k[1] == "_rt_child") == 1  # the child ran on without it, and was cached
    CALLS.clear()
    rec = run_operators(video, settings, names=["_rt_child"], store=store)
    assert CALLS == ["_rt_root", "_rt_child"] and not rec["_rt_child"].cached
    assert rec["_rt_child"].results["double"] == 32


def test_results_that_do_not_fit_the_model_are_an_error_naming_the_field(settings):
    """A renamed or unexpected key fails at its source, not silently downstream."""
    class RtRenamed(_Base):
        name = "_rt_renamed"
        results_model = XResults

        def run(self, ctx):
            return {"x": 1, "x_renamed": 2}

    with REGISTRY.registered(RtRenamed):
        rec = run_operators(make_video(), settings, names=["_rt_renamed"])["_rt_renamed"]
    assert rec.status == "error" and "x_renamed" in rec.message and "XResults" in rec.message


def test_cached_record_that_no_longer_fits_the_model_is_recomputed(settings):
    store = DictStore()
    video = make_video()
    run_operators(video, settings, names=["_rt_root"], store=store)
    (key,) = [k for k in store.rows if k[1] == "_rt_root"]
    store.rows[key] = store.rows[key] | {"results": {"old_name": 3}}  # written by an older operator version
    CALLS.clear()
    rec = run_operators(video, settings, names=["_rt_root"], store=store)["_rt_root"]
    assert CALLS == ["_rt_root"] and not rec.cached and rec.value("n") == 16


def test_ready_operators_run_cheapest_first():
    """Declared cost, not import order, decides: _rt_root (cost 5) waits behind the cheaper independent ones."""
    order = resolve_order(["_rt_root", "_rt_fallback", "_rt_audio"])
    assert order == ["_rt_fallback", "_rt_audio", "_rt_root"]
    assert resolve_order(["_rt_child", "_rt_fallback"]) == ["_rt_fallback", "_rt_root", "_rt_child"]


def test_a_modules_fake_operators_leave_the_registry_when_its_tests_end():
    """Fakes registered by a test module stay out of "every operator" for other modules (warm-up, the
    pipeline's default set): REGISTRY.registered removes what it added, and only that."""
    before = set(REGISTRY.names("operator"))

    class RtTemporary(_Base):
        name = "_rt_temporary"

    with REGISTRY.registered(RtTemporary, *_fake.classes):
        assert "_rt_temporary" in REGISTRY.names("operator")
    assert set(REGISTRY.names("operator")) == before


def test_a_decoder_change_misses_the_evidence_cache_and_changes_the_run_provenance(settings, monkeypatch):
    """Bug: evidence cached before a change to decoding (which frames are kept, their size) was read as
    current, since the key named only the operators' versions and params. The decoder's facts
    (evalverse.media.decode.decode_facts: DECODE_VERSION, decode settings, PyAV) are now in every key."""
    from evalverse.calibration.dataset import evidence_key
    from evalverse.calibration.spec import load_spec
    from evalverse.media import decode as D
    from evalverse.provenance import data_versions

    store = DictStore()
    video = make_video()
    run_operators(video, settings, names=["_rt_root"], store=store)
    before_data, before_cal = data_versions(), evidence_key(load_spec("visual_quality"), settings)[0]
    CALLS.clear()
    run_operators(video, settings, names=["_rt_root"], store=store)
    assert CALLS == []  # same decoder: a hit
    changed = {**D.decode_facts(), "version": D.DECODE_VERSION + "-next"}
    monkeypatch.setattr(D, "decode_facts", lambda: changed)
    run_operators(video, settings, names=["_rt_root"], store=store)
    assert CALLS == ["_rt_root"]  # another decoder: recomputed
    assert data_versions()["decode"] != before_data["decode"]  # so the run's provenance hash changes too
    assert evidence_key(load_spec("visual_quality"), settings)[0] != before_cal  # and the calibration's cache key


def test_decode_facts_name_the_pipelines_decode_settings():
    from evalverse.media.decode import DECODE_VERSION, decode_facts

    facts = decode_facts()
    assert facts["version"] == DECODE_VERSION and facts["analysis_long_side"] == 640 and facts["n_stills"] == 8
    assert {"max_fps", "max_analysis_mb", "still_long_side", "audio_rate", "pyav"} <= set(facts)
