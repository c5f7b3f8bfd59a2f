"""Write suites/fetv25.jsonl from the shared FETV material (run once; the output is committed).

Cases: the 25 prompts rated in ../shared/media/fetv_rated_gifs/ratings.csv; ground truth: the prompt's real
clip (fetv_<index>_gt.gif) where the shared folder has one; tags: FETV's own categories for the prompt
(fetv_data.json, the same line as the prompt index). Paths are relative to the suite's root, which the header
sets to ../../shared/media/fetv_rated_gifs (relative to the suite file); override with --root.

    .venv/bin/python scripts/make_fetv_suite.py [--shared ../shared] [--out suites/fetv25.jsonl]
"""
from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def tags_for(meta: dict) -> list[str]:
    tags = [f"source:{meta.get('source')}"] if meta.get("source") else []
    for axis in ("spatial", "temporal"):
        for value in (meta.get("major content") or {}).get(axis) or []:
            tags.append(f"content:{axis}:{value}")
        for value in (meta.get("attribute control") or {}).get(axis) or []:
            tags.append(f"attribute:{axis}:{value}")
    tags += [f"complexity:{c}" for c in meta.get("prompt complexity") or []]
    return tags


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--out", type=Path, default=REPO / "suites" / "fetv25.jsonl")
    args = ap.parse_args()
    gifs = args.shared / "media" / "fetv_rated_gifs"
    rows = list(csv.DictReader((gifs / "ratings.csv").open(encoding="utf-8")))
    prompts = {int(r["prompt_index"]): r["prompt"] for r in rows}
    meta = [json.loads(line) for line in (args.shared / "data" / "fetv" / "fetv_data.json").open(encoding="utf-8")]
    lines = [json.dumps({"suite": {
        "name": "fetv25", "version": "1", "root": "../../shared/media/fetv_rated_gifs",
        "description": "The 25 FETV prompts with shared human ratings (static quality, temporal quality, alignment) "
                       "for CogVideo, Text2Video-Zero, ModelScope (videofusion) and ZeroScope; ground truth is "
                       "the prompt's real clip.",
        "source": "FETV (Liu et al., NeurIPS 2023 Datasets and Benchmarks), CC-BY 4.0"}})]
    for index in sorted(prompts):
        text = prompts[index]
        info = meta[index]
        if re.sub(r"\s+", " ", info["prompt"]).strip() != re.sub(r"\s+", " ", text).strip():
            raise SystemExit(f"fetv_data.json line {index} holds {info['prompt']!r}, not {text!r}")
        case = {"id": f"fetv_{index}", "prompt": text.strip(), "mode": "t2v"}
        if (gifs / f"fetv_{index}_gt.gif").is_file():
            case["ground_truth"] = f"fetv_{index}_gt.gif"
        case["tags"] = tags_for(info)
        lines.append(json.dumps(case, ensure_ascii=False))
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines) - 1} cases to {args.out}")


if __name__ == "__main__":
    main()
