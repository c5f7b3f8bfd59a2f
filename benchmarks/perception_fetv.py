"""For information: how well each human-trained perception measure alone agrees with people, on the FETV
clips rated for static quality (../shared/media/fetv_rated_gifs, ratings.csv). Nothing is fitted.

    .venv/bin/python benchmarks/perception_fetv.py                  # brisque, niqe (+ facial_expression)
    .venv/bin/python benchmarks/perception_fetv.py --no-expression  # skip faces + facial_expression
    .venv/bin/python benchmarks/perception_fetv.py --json out.json

Per clip: each operator's whole-clip measures; the human score is the mean of the raters' static quality.
Reported per measure, with the sign flipped for lower-is-better measures so that higher = agrees:
clip-level SRCC (all clips), within-source SRCC (clips of one source ranked against each other, averaged over
the five sources: the figure that recognising the source cannot win) and within-prompt pairwise accuracy
(pairs of sources of one prompt with different human means, ordered the same way; a tie in the measure
counts half).

`--niqe-model FILE.npz|FILE.mat` also scores NIQE against another pristine model (e.g. the MATLAB release's
image model) for comparison; it is not part of the operator.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

FETV = REPO.parent / "shared" / "media" / "fetv_rated_gifs"


def human_scores(path: Path) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            d = rows.setdefault(r["file"], {"prompt": r["prompt_index"], "source": r["model"], "scores": []})
            d["scores"].append(float(r["static_quality"]))
    return {k: {**v, "human": float(np.mean(v["scores"]))} for k, v in rows.items()}


def srcc(a, b) -> float | None:
    from scipy.stats import spearmanr

    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return None
    return float(spearmanr(a[ok], b[ok]).statistic)


def agreement(values: dict[str, float], clips: dict[str, dict], sign: float) -> dict:
    names = [n for n in values if values[n] is not None and np.isfinite(values[n])]
    x = [sign * values[n] for n in names]
    y = [clips[n]["human"] for n in names]
    by_source: dict[str, list[str]] = defaultdict(list)
    by_prompt: dict[str, list[str]] = defaultdict(list)
    for n in names:
        by_source[clips[n]["source"]].append(n)
        by_prompt[clips[n]["prompt"]].append(n)
    within = [srcc([sign * values[n] for n in ns], [clips[n]["human"] for n in ns]) for ns in by_source.values()]
    within = [w for w in within if w is not None]
    agree = total = 0
    for ns in by_prompt.values():
        for a, b in combinations(ns, 2):
            dh = clips[a]["human"] - clips[b]["human"]
            if dh == 0:
                continue
            total += 1
            dm = sign * (values[a] - values[b])
            agree += 0.5 if dm == 0 else float(np.sign(dm) == np.sign(dh))  # a tie in the measure: half
    return {"n": len(names), "srcc": srcc(x, y),
            "within_source_srcc": float(np.mean(within)) if within else None,
            "within_source_n": len(within),
            "within_prompt_pair_accuracy": agree / total if total else None, "pairs": total}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folder", type=Path, default=FETV)
    ap.add_argument("--no-expression", action="store_true")
    ap.add_argument("--niqe-model", type=Path, help="another pristine NIQE model (.npz or .mat) to compare")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    import tempfile

    from evalverse.config import Settings
    from evalverse.media import decode_video
    from evalverse.operators import nss
    from evalverse.operators.catalogue import load_catalogue
    from evalverse.operators.runner import run_operators

    clips = human_scores(args.folder / "ratings.csv")
    names = ["brisque", "niqe"] + ([] if args.no_expression else ["facial_expression"])
    other = None
    if args.niqe_model:
        if args.niqe_model.suffix == ".npz":
            z = np.load(args.niqe_model)
            other = (np.ravel(z["mu_pris_param"]), np.asarray(z["cov_pris_param"]))
        else:
            other = nss.pristine_model(str(args.niqe_model))
    cat = load_catalogue()
    measures = [m for m in cat if m.operator in names and m.scope == "clip" and m.kind in ("number", "integer")]
    values: dict[str, dict[str, float | None]] = defaultdict(dict)
    seconds: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), db_path=Path(tmp) / "db.duckdb", models_dir=Path(tmp) / "models")
        for i, (name, info) in enumerate(sorted(clips.items())):
            video = decode_video(args.folder / name, settings)
            recs = run_operators(video, settings, names=names)
            for op in names:
                statuses[op][recs[op].status] += 1
                seconds[op].append(recs[op].seconds)
            for m in measures:
                v = recs[m.operator].value(m.measure)
                values[m.id][name] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
            if other is not None:
                s = [nss.niqe_distance(nss.niqe_features(nss.rgb2gray_u8(st)), *other) for st in video.stills
                     if min(st.shape[:2]) >= nss.NIQE_BLOCK]
                values["niqe(other model).mean"][name] = float(np.mean(s)) if s else None
            print(f"\r{i + 1}/{len(clips)} {name:40s}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    report = {"folder": str(args.folder), "clips": len(clips), "statuses": {k: dict(v) for k, v in statuses.items()},
              "seconds_per_clip": {k: round(float(np.mean(v)), 3) for k, v in seconds.items()}, "measures": {}}
    for mid, vals in values.items():
        direction = cat.get(mid).direction if mid in cat else "lower_is_better"
        sign = -1.0 if direction == "lower_is_better" else 1.0
        report["measures"][mid] = {"direction": direction, **agreement(vals, clips, sign)}
    print(f"{'measure':42s} {'n':>4s} {'SRCC':>7s} {'within-src':>10s} {'prompt-pairs':>12s}")
    for mid, r in report["measures"].items():
        def f(x):
            return "   -" if x is None else f"{x:+.3f}"
        print(f"{mid:42s} {r['n']:4d} {f(r['srcc']):>7s} {f(r['within_source_srcc']):>10s} "
              f"{'-' if r['within_prompt_pair_accuracy'] is None else format(r['within_prompt_pair_accuracy'], '.3f'):>12s}")
    print("statuses:", json.dumps(report["statuses"]), "seconds/clip:", json.dumps(report["seconds_per_clip"]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
