"""The suite builder end to end on a tiny synthetic library: annotate (cache reused, a corrupt clip reported and
skipped, resumed without recomputing), verify (a person's CSV corrections stored with who and when, and they
win), sample (balanced, one case per source), build (prompts, references, ground truth, licences, near
duplicates; `load_suite` accepts it)."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from evalverse.bench.suite import load_suite
from evalverse.config import Settings
from evalverse.curation.annotate import annotate_folder
from evalverse.curation.construct import build_suite, write_sample
from evalverse.curation.prompts import facts_for, unsupported
from evalverse.curation.records import read_meta
from evalverse.curation.sampling import candidates, sample
from evalverse.curation.verify import export_csv, load_views, read_corrections
from evalverse.curation.vocabulary import load_vocabulary
from evalverse.curation.writers import make_writer
from evalverse.errors import DataError
from evalverse.media.synthetic import colour_cast_clip, cuts_clip, pan_clip
from evalverse.store import Store

OPS = ("shots", "camera", "colour")  # enough for shots, camera and palette; a few seconds per clip


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("curation")
    lib = root / "lib"
    lib.mkdir()
    cuts_clip(lib / "cuts.mp4", cut_frames=(20, 40), n=60)
    pan_clip(lib / "pan.mp4", px_per_frame=4.0, n=40)
    colour_cast_clip(lib / "warm.mp4", n=30)
    shutil.copyfile(lib / "warm.mp4", lib / "warm_copy.mp4")  # the same footage twice: a near duplicate
    (lib / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(3000))
    (lib / "licences.csv").write_text("file,licence,source,licence_file,attribution\n"
                                      "cuts.mp4,CC0-1.0,synthetic,,\nwarm*.mp4,CC-BY-4.0,synthetic,,test\n")
    settings = Settings(data_dir=root, db_path=root / "db.duckdb", models_dir=root / "models")
    out = root / "meta.jsonl"
    events = []
    with Store.open(settings.db_path) as store:
        first = annotate_folder(lib, out, store, settings, operators=OPS, on_clip=events.append)
    return {"root": root, "lib": lib, "settings": settings, "out": out, "first": first, "events": events}


def test_annotate_writes_fields_with_their_operator_and_skips_the_corrupt_clip(library):
    first = library["first"]
    assert first.files == 5 and first.annotated == 4 and first.already_done == 0
    assert [f["file"] for f in first.failed] == ["broken.mp4"] and "broken.mp4" in first.failed[0]["error"]
    assert {e["clip"] for e in library["events"] if e["status"] == "error"} == {"broken"}
    meta = read_meta(library["out"])
    recs = {r["clip"]: r for r in meta.records}
    assert set(recs) == {"cuts", "pan", "warm", "warm_copy"}
    cuts = recs["cuts"]
    assert cuts["fields"]["n_shots"]["value"] == 3 and cuts["fields"]["n_shots"]["operator"] == "shots"
    for entry in cuts["fields"].values():  # a value always names its operator and version; a missing one says why
        assert (entry["version"] and entry["operator"]) if entry.get("status") is None else \
            (entry["value"] is None and entry["why"])
    assert len(cuts["shots"]) == 3 and all((library["out"].parent / s["keyframe"]["path"]).is_file()
                                           for s in cuts["shots"])
    assert cuts["fields"]["face_ratio"]["status"] == "not_run"  # faces was not run: no value claimed


def test_annotating_again_reuses_the_records_and_a_new_file_reuses_the_evidence_cache(library):
    s = library["settings"]
    with Store.open(s.db_path) as store:
        again = annotate_folder(library["lib"], library["out"], store, s, operators=OPS)
        fresh = annotate_folder(library["lib"], library["root"] / "meta2.jsonl", store, s, operators=OPS)
    assert (again.already_done, again.annotated, [f["file"] for f in again.failed]) == (4, 0, ["broken.mp4"])
    assert (fresh.annotated, fresh.from_cache) == (4, 4)
    a = {r["clip"]: r["fields"] for r in read_meta(library["out"]).records}
    b = {r["clip"]: r["fields"] for r in read_meta(library["root"] / "meta2.jsonl").records}
    assert {k: {f: e["value"] for f, e in v.items()} for k, v in a.items()} == \
        {k: {f: e["value"] for f, e in v.items()} for k, v in b.items()}


def test_csv_corrections_are_stored_with_who_and_win_over_the_detected_value(library):
    s = library["settings"]
    vocab = load_vocabulary()
    with Store.open(s.db_path) as store:
        views = load_views(library["out"], store)
        text = export_csv(views.values(), shots=False)
        lines = text.splitlines()
        header = lines[0].split(",")
        col = header.index("shot_size")
        row = next(i for i, ln in enumerate(lines) if ln.startswith("pan,"))
        cells = lines[row].split(",")
        cells[col] = "extreme_wide"
        bad = list(cells)
        bad[col] = "gigantic"
        with pytest.raises(DataError, match="shot_size must be one of"):
            read_corrections("\n".join(lines[:row] + [",".join(bad)] + lines[row + 1:]), views, "ana", "x.csv", vocab)
        assert store.field_corrections() == []  # nothing stored from a file with problems
        edited = "\n".join(lines[:row] + [",".join(cells)] + lines[row + 1:])
        corrections = read_corrections(edited, views, "ana", "edit.csv", vocab)
        assert [(c["clip"], c["field"], c["new_value"]) for c in corrections] == [("pan", "shot_size", "extreme_wide")]
        store.add_field_corrections(corrections)
        stored = store.field_corrections([views["pan"].sha256])
        after = load_views(library["out"], store)
    assert stored[0]["who"] == "ana" and stored[0]["corrected_at"] is not None
    assert after["pan"].attributes["shot_size"] == "extreme_wide"
    assert views["pan"].attributes["shot_size"] != "extreme_wide"


def test_sample_balances_and_never_repeats_a_source_unless_asked(library):
    views = load_views(library["out"])
    cands = candidates(views.values())
    chosen, report = sample(cands, ["multi_shot", "camera"], 3, seed=1)
    assert len({c.sha256 for c in chosen}) == 3 and report["distinct_sources"] == 3
    assert report["attributes"]["multi_shot"]["covered"] == report["attributes"]["multi_shot"]["present"]
    assert sample(cands, ["multi_shot", "camera"], 3, seed=1)[0] == chosen  # same seed, same sample
    with pytest.raises(Exception, match="distinct source clips"):
        sample(candidates(views.values(), "shot"), ["camera"], 5, seed=1)
    shots, _ = sample(candidates(views.values(), "shot"), ["camera"], 5, seed=1, allow_repeat=True)
    assert len(shots) == 5


def test_build_writes_a_suite_bench_accepts_with_licences_and_near_duplicates(library):
    views = load_views(library["out"])
    chosen = [c for c in candidates(views.values()) if c.clip in ("cuts", "pan", "warm", "warm_copy")]
    sample_path = library["root"] / "sample.jsonl"
    write_sample(sample_path, {"annotation": str(library["out"]), "unit": "clip", "balance": ["camera"]}, chosen)
    out = library["root"] / "suite" / "s.jsonl"
    summary = build_suite(sample_path, out, views, make_writer("template", library["settings"]), mode="both",
                          near_duplicate_bits=int(load_vocabulary().threshold("near_duplicate_bits")))
    suite = load_suite(out)
    assert summary.cases == len(suite.cases) == 8 and summary.modes == {"t2v": 4, "r2v": 4}
    for case in suite.cases:
        assert case.prompt and case.ground_truth.is_file() and case.source["sha256"] == views[case.source["clip"]].sha256
        assert not unsupported(case.prompt, facts_for(views[case.source["clip"]]))
        if case.mode == "r2v":
            assert case.reference.is_file()
    assert summary.no_licence == ["pan"] and any("no licence" in w for w in summary.warnings)
    warm = next(c for c in suite.cases if c.id == "warm_t2v")
    assert warm.source["licence"] == "CC-BY-4.0" and warm.source["end_s"] > 0
    assert {(d["a"], d["b"]) for d in summary.near_duplicates} >= {("warm", "warm_copy")}
    line = json.loads(out.read_text().splitlines()[1])
    attrs = views[line["source"]["clip"]].attributes
    assert line["tags"] == ["unit:clip"] + [f"{a}:{v}" for a, v in sorted(attrs.items()) if v is not None]
    assert "camera" in attrs and attrs["camera"] is not None
