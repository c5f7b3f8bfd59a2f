"""The judgments that count, for everything downstream: only finalised ones (qa_status pass: an imported
source that vouches for its ratings, or an app label an auditor accepted) feed the leaderboard's human win
ratios, the alignment figures and calibration.

- `counted_outcomes` / `counted_ratings`: the frames (with provenance) the alignment view and calibration read;
- `human_win_ratios`: per dimension and model, from pairwise outcomes (both_bad counts as a tie), else from
  pointwise scores compared within each case (a dimension's sub-dimension ratings averaged per case and
  model). Rows fit `Store.replace_win_ratios` (human side only).
"""
from __future__ import annotations

import pandas as pd

from evalverse.leaderboard.stats import win_ratio_from_outcomes, win_ratio_from_scores

COLUMNS = ["dimension", "model", "human_win_ratio", "comparisons", "basis"]


def counted_outcomes(store, *, suite: str | None = None, source: str | None = None,
                     dimension: str | None = None) -> pd.DataFrame:
    return store.human_outcomes(suite=suite, source=source, dimension=dimension, counted=True)


def counted_ratings(store, *, suite: str | None = None, source: str | None = None, dimension: str | None = None,
                    sub_dimension: str | None = None) -> pd.DataFrame:
    return store.human_ratings(suite=suite, source=source, dimension=dimension, sub_dimension=sub_dimension, counted=True)


def human_win_ratios(store, *, suite: str | None = None, source: str | None = None) -> pd.DataFrame:
    """DataFrame[dimension, model, human_win_ratio, comparisons, basis] from counted judgments only."""
    rows = []
    outcomes = counted_outcomes(store, suite=suite, source=source)
    outcomes = outcomes[outcomes["model_a"].notna() & outcomes["model_b"].notna() & (outcomes["model_a"] != outcomes["model_b"])]
    for dim, part in outcomes.groupby("dimension"):
        ratio = win_ratio_from_outcomes(part)
        games = pd.concat([part["model_a"], part["model_b"]]).value_counts()
        rows += [{"dimension": dim, "model": m, "human_win_ratio": float(v), "comparisons": int(games.get(m, 0)),
                  "basis": "pairwise"} for m, v in ratio.items()]
    done = {r["dimension"] for r in rows}
    ratings = counted_ratings(store, suite=suite, source=source)
    ratings = ratings[ratings["model"].notna() & ratings["case_key"].notna() & ~ratings["dimension"].isin(done)]
    for dim, part in ratings.groupby("dimension"):
        ratio = win_ratio_from_scores(part.rename(columns={"case_key": "item"}))
        per_model = part.groupby("model")["case_key"].nunique()
        rows += [{"dimension": dim, "model": m, "human_win_ratio": float(v), "comparisons": int(per_model.get(m, 0)),
                  "basis": "pointwise scores within each case"} for m, v in ratio.items() if pd.notna(v)]
    return pd.DataFrame(rows, columns=COLUMNS)
