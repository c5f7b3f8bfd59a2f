"""Construct: a sample (`suite sample`) into the benchmark's suite format (evalverse.bench.suite).

Per sampled clip (or shot) and task mode: a prompt from its facts (template or language model, checked), the
mode, for r2v a reference image (the shot's keyframe, cut from the frames decoded for the evidence, copied
next to the suite), the real footage as ground truth (the source file for a clip; for a shot, its time range
cut into a file next to the suite), its attributes as `attr:value` tags, and `source`: the file's sha256,
the time range, the licence (from the folder's licence file), the keyframes' perceptual hashes, the writer,
and the operator and version behind every fact the prompt could state. The suite is loaded back with
`load_suite` before this returns, so `bench run` accepts what was written.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalverse.curation.prompts import facts_for, unsupported
from evalverse.curation.records import ClipView
from evalverse.errors import DataError, InputError

MODES = ("t2v", "r2v", "both")
FACT_FIELDS = ("shot_size", "camera_movement", "n_shots", "mean_shot_s", "person_fraction", "n_identities",
               "face_ratio", "has_audio", "audio_silent", "voiced_s", "n_words", "language", "transcript",
               "music_share", "ambience_share", "lighting_key", "colourfulness", "grayscale", "cct_k", "palette",
               "duration_s")


@dataclass
class BuildSummary:
    suite: str
    cases: int = 0
    modes: dict[str, int] = field(default_factory=dict)
    writer: str = ""
    warnings: list[str] = field(default_factory=list)
    near_duplicates: list[dict[str, Any]] = field(default_factory=list)
    no_licence: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)  # cases whose model prompt was refused
    prompts: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def read_sample(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    path = Path(path).expanduser()
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError as exc:
        raise DataError(f"cannot read sample {path}: {exc.strerror or exc}") from exc
    try:
        header = json.loads(lines[0])["sample"] if lines else None
        items = [json.loads(ln) for ln in lines[1:]]
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path} is not a sample file written by `evalverse suite sample` ({exc})") from exc
    if not isinstance(header, dict) or not items:
        raise DataError(f"{path} is not a sample file written by `evalverse suite sample` (no header or no items)")
    return header, items


def write_sample(path: Path, header: dict[str, Any], chosen: list[Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"sample": header}, ensure_ascii=False) + "\n")
        for c in chosen:
            f.write(json.dumps({"clip": c.clip, "sha256": c.sha256, "shot": c.shot, "attributes": c.attributes},
                               ensure_ascii=False) + "\n")


def cut_clip(src: Path, dst: Path, start: float, end: float) -> None:
    """Copy [start, end) of `src` into `dst` (re-encoded H.264/AAC, so the cut is frame-exact)."""
    from evalverse.media.synthetic import ffmpeg_binary

    cmd = [ffmpeg_binary(), "-y", "-v", "error", "-ss", f"{start:.3f}", "-i", str(src), "-t", f"{end - start:.3f}",
           "-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
           "-pix_fmt", "yuv420p", "-c:a", "aac", str(dst)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not dst.is_file():
        raise InputError(f"could not cut {src.name} [{start:.2f}, {end:.2f}] s: {done.stderr.strip()[-300:]}")


def _tags(attributes: dict[str, Any], unit: str) -> list[str]:
    return [f"unit:{unit}"] + [f"{a}:{v}" for a, v in sorted(attributes.items()) if v is not None]


def _fact_provenance(view: ClipView, shot: dict[str, Any] | None) -> dict[str, str]:
    """{field: "operator version" (or "corrected by who at when")} for the facts a prompt may rest on."""
    out = {}
    fields = dict(view.fields)
    if shot is not None:
        fields |= {k: v for k, v in shot["fields"].items()}
    for name in FACT_FIELDS:
        entry = fields.get(name)
        if entry is None:
            continue
        if entry.get("corrected"):
            out[name] = f"corrected by {entry['corrected']['who']} at {entry['corrected']['at']}"
        else:
            out[name] = f"{entry['operator']} {entry['version']}" + (f" ({entry['status']})" if entry.get("status") else "")
    return out


def _relative(path: Path, base: Path) -> str:
    return os.path.relpath(path.resolve(), base.resolve())


def build_suite(sample_path: str | Path, out: str | Path, views: dict[str, ClipView], writer: Any, *,
                mode: str = "both", name: str | None = None, near_duplicate_bits: int = 10) -> BuildSummary:
    """Write the suite for a sample (views: the annotation after corrections, by clip id)."""
    from evalverse.bench.suite import _default_name, load_suite
    from evalverse.curation.rights import licence_for, near_duplicates

    if mode not in MODES:
        raise InputError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    header, items = read_sample(sample_path)
    out = Path(out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    media = out.with_name(out.stem + "_media")
    media.mkdir(exist_ok=True)
    unit = header.get("unit", "clip")
    modes = ("t2v", "r2v") if mode == "both" else (mode,)
    summary = BuildSummary(suite=str(out), writer=writer.describe())
    lines, dup_input = [], []
    for item in items:
        view = views.get(item["clip"])
        if view is None or view.sha256 != item["sha256"]:
            raise DataError(f"sampled clip {item['clip']} is not in the annotation (or its file changed): sample again")
        shot = None if item.get("shot") is None else next(s for s in view.shots if s["index"] == item["shot"])
        facts = facts_for(view, item.get("shot"))
        base_id = item["clip"] if shot is None else f"{item['clip']}_shot{shot['index']}"
        start, end = (0.0, view.value("duration_s")) if shot is None else (shot["start"], shot["end"])
        src = Path(view.record["path"])
        if shot is None:
            gt = src
        else:
            gt = media / f"{base_id}_gt.mp4"
            cut_clip(src, gt, float(start), float(end))
        key_shots = view.shots if shot is None else [shot]
        keyframes = [s["keyframe"] for s in key_shots if s.get("keyframe")]
        rights = licence_for(src)
        if rights is None:
            summary.no_licence.append(base_id)
            summary.warnings.append(f"{base_id}: no licence for {src.name} (add a row to {src.parent / 'licences.csv'})")
        dup_input.append({"id": base_id, "sha256": view.sha256, "phashes": [k["phash"] for k in keyframes]})
        for m in modes:
            case_id = base_id if len(modes) == 1 else f"{base_id}_{m}"
            reference = None
            if m == "r2v":
                if not keyframes or view.base is None:
                    summary.warnings.append(f"{case_id}: no keyframe to use as the reference; r2v case left out")
                    continue
                reference = media / f"{case_id}_ref.jpg"
                shutil.copyfile(view.base / keyframes[0]["path"], reference)
            written = writer.write(facts, m)
            bad = unsupported(written.prompt, facts)
            if bad:  # the writers never return such a prompt; a guard, not a path
                raise AssertionError(f"{case_id}: prompt states unsupported facts: {[c.describe() for c in bad]}")
            if written.rejected:
                if written.writer.endswith("-> template"):
                    summary.fallbacks.append(case_id)
                summary.warnings += [f"{case_id}: language model prompt refused: {r}" for r in written.rejected]
            attrs = view.attributes if shot is None else shot["attributes"]
            source = {"clip": view.clip, "file": str(src), "sha256": view.sha256, "start_s": start, "end_s": end,
                      "shot": None if shot is None else shot["index"], "unit": unit,
                      "licence": (rights or {}).get("licence"), "licence_source": (rights or {}).get("source"),
                      "licence_file": (rights or {}).get("licence_file"),
                      "attribution": (rights or {}).get("attribution"), "licence_from": (rights or {}).get("from"),
                      "keyframes": [{"path": k["path"], "time_s": k["time_s"], "phash": k["phash"]} for k in keyframes],
                      "reference_keyframe": keyframes[0]["path"] if reference is not None else None,
                      "writer": written.writer, "writer_rejected": written.rejected,
                      "facts": _fact_provenance(view, shot),
                      "corrections": [{"field": c["field"], "shot": c.get("shot"), "who": c["who"],
                                       "at": str(c["corrected_at"])} for c in view.corrected],
                      "annotation": header.get("annotation"), "annotation_key": view.record["annotation_key"]}
            lines.append({"id": case_id, "prompt": written.prompt, "mode": m,
                          "reference": _relative(reference, out.parent) if reference else None,
                          "ground_truth": _relative(gt, out.parent), "tags": _tags(attrs, unit), "source": source})
            summary.modes[m] = summary.modes.get(m, 0) + 1
            summary.prompts[case_id] = written.prompt
    summary.near_duplicates = near_duplicates(dup_input, near_duplicate_bits)
    summary.warnings += [f"near duplicate: {d['a']} and {d['b']} ({d['reason']}, {d['distance']} bits)"
                         for d in summary.near_duplicates]
    suite_name = name or _default_name(out)
    head = {"name": suite_name, "description": f"built by evalverse suite build from {Path(sample_path).name} "
            f"({len(items)} {unit}s, balanced on {', '.join(header.get('balance', []))})", "version": "1",
            "root": ".", "source": f"real footage from {header.get('annotation')}; prompts: {writer.describe()}"}
    with open(out, "w", encoding="utf-8") as f:
        f.write(json.dumps({"suite": head}, ensure_ascii=False) + "\n")
        for line in lines:
            f.write(json.dumps({k: v for k, v in line.items() if v is not None}, ensure_ascii=False) + "\n")
    summary.cases = len(load_suite(out))
    return summary
