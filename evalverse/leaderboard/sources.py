"""Leaderboard sources: the paper's Table 3 (a seed) and every computed bench source (`<suite>:<judge>@<version>`),
read as frames the UI and CLI share. Bench sources carry intervals and case counts; a figure over fewer cases
than `pairwise.min_cases()` is "too few" and is masked (NaN) wherever a number would be shown or aggregated.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from evalverse.leaderboard.data import SEED_SOURCE, leaderboard_frame
from evalverse.leaderboard.pairwise import min_cases
from evalverse.leaderboard.stats import alignment_table
from evalverse.taxonomy import Taxonomy

CI_COLUMNS = ["machine_ci_low", "machine_ci_high", "human_ci_low", "human_ci_high", "n_cases", "n_pairs", "n_excluded",
              "human_n_cases"]
PAPER_LABEL = "Paper Table 3 (EvalVerse paper)"


def list_sources(store: Any) -> list[dict[str, Any]]:
    """[{source, kind ('paper' | 'bench'), label}], the paper's first."""
    bench = {s["source"]: s for s in store.bench.sources()}
    out = []
    for name in store.win_ratio_sources():
        if name in bench:
            s = bench[name]
            n = len(s["summary"].get("models", []))
            out.append({"source": name, "kind": "bench", "label": f"{name} ({n} models, {s['summary'].get('cases', 0)} cases)"})
        else:
            out.append({"source": name, "kind": "paper", "label": PAPER_LABEL if name == SEED_SOURCE else name})
    return sorted(out, key=lambda s: (s["kind"] != "paper", s["source"]))


def source_frame(store: Any, source: str, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """leaderboard_frame(source) plus the interval columns and `machine_enough` / `human_enough` flags; for a
    bench source, a win ratio over too few cases is set to NaN (its value stays in `*_raw`)."""
    frame = leaderboard_frame(store, source, taxonomy)
    extra = store.bench.win_ratio_table(source)
    if frame.empty:
        return frame.assign(**{c: pd.Series(dtype=float) for c in CI_COLUMNS})
    extra = extra.rename(columns={"dimension": "dimension_id"}).drop(columns=["source", "machine_win_ratio", "human_win_ratio"])
    out = frame.merge(extra, on=["dimension_id", "model"], how="left")
    bench = store.bench.source(source) is not None
    need = min_cases(1 - store.bench.source(source)["settings"].get("ci", 0.95)) if bench else 0
    for side, count in (("machine", "n_cases"), ("human", "human_n_cases")):
        out[f"{side}_win_ratio_raw"] = out[f"{side}_win_ratio"]
        enough = (out[count].fillna(0) >= need) if bench else pd.Series(True, index=out.index)
        out[f"{side}_enough"] = enough & out[f"{side}_win_ratio"].notna()
        if bench:
            for col in (f"{side}_win_ratio", f"{side}_ci_low", f"{side}_ci_high"):
                out[col] = out[col].where(enough)
    out.attrs.update({"source": source, "kind": "bench" if bench else "paper", "min_cases": need})
    return out


def alignment_for(store: Any, source: str, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Per dimension, SRCC/PLCC of machine vs human win ratios across the models with both figures (for a
    bench source: both over enough cases). Columns as `alignment_table`, plus dimension_id."""
    frame = source_frame(store, source, taxonomy)
    cols = ["dimension", "n_models", "srcc", "p_srcc", "plcc", "p_plcc", "dimension_id"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    table = alignment_table(frame.rename(columns={"machine_win_ratio": "machine", "human_win_ratio": "human"})[
        ["dimension", "model", "machine", "human"]])
    ids = frame.drop_duplicates("dimension").set_index("dimension")["dimension_id"]
    table["dimension_id"] = table["dimension"].map(ids)
    return table[cols]
