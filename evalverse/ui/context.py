"""What every tab reads: settings, the store, the taxonomy and the leaderboard's frames, loaded once.

Opening never raises: every problem (database unusable, store empty, taxonomy missing) becomes a
message in `warnings` (shown as a banner) or in the frame errors (shown where the data would be), so
the app always starts.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evalverse.config import Settings
from evalverse.errors import DataError, EvalVerseError
from evalverse.ui.failsafe import describe

log = logging.getLogger(__name__)


@dataclass
class LeaderboardData:
    """The frames the tabs show. A frame is None when it could not be read; `errors[name]` says why."""

    frame: pd.DataFrame | None = None  # stage, aspect, dimension, model, machine_win_ratio, human_win_ratio
    models: pd.DataFrame | None = None  # model, organisation, open_source, params_b, audio, multi_shot, reference
    alignment: pd.DataFrame | None = None  # per-dimension SRCC / PLCC with p-values and n
    errors: dict[str, str] = field(default_factory=dict)

    def require_frame(self) -> pd.DataFrame:
        if self.frame is None:
            raise DataError(self.errors.get("frame", "no leaderboard data loaded"))
        if self.frame.empty:
            raise DataError("the leaderboard store holds no win ratios yet (load the seed: `evalverse leaderboard seed`)")
        return self.frame


@dataclass
class AppContext:
    settings: Settings
    store: Any | None = None
    taxonomy: Any | None = None  # evalverse.taxonomy.Taxonomy
    warnings: list[str] = field(default_factory=list)
    data: LeaderboardData = field(default_factory=LeaderboardData)
    _sources: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    share: Any | None = None  # evalverse.ui.shareable.Shareable: the view kept in the link (set by build_app)

    @property
    def dimension_order(self) -> list[str] | None:
        """Dimension names in taxonomy order (None without a taxonomy: frame order is used)."""
        if self.taxonomy is None:
            return None
        return [d.name for d in self.taxonomy.dimensions]

    def reload(self) -> LeaderboardData:
        self.data = read_data(self.store, self.taxonomy)
        self._sources.clear()
        return self.data

    def forget_sources(self) -> None:
        """Drop the cached computed sources (after one was recomputed, e.g. when annotations were finalised),
        so the Leaderboard and Alignment tabs read them afresh."""
        self._sources.clear()

    # ---- leaderboard sources: the paper's seed and computed bench sources ---------------------------
    def sources(self) -> list[dict[str, Any]]:
        """[{source, kind, label}] from the store (the paper's first); empty without a store."""
        if self.store is None:
            return []
        from evalverse.leaderboard.sources import list_sources

        return list_sources(self.store)

    def default_source(self) -> str | None:
        from evalverse.leaderboard.data import SEED_SOURCE

        names = [s["source"] for s in self.sources()]
        return SEED_SOURCE if SEED_SOURCE in names else (names[0] if names else None)

    def source_data(self, source: str | None) -> dict[str, Any]:
        """{frame, alignment, ratings, kind, min_cases} for a source, display names applied; cached per source.
        None (or the paper's source) gives the frames loaded at start."""
        from evalverse.leaderboard.data import SEED_SOURCE

        if source is None or source == SEED_SOURCE or self.store is None:
            return {"frame": self.data.frame, "alignment": self.data.alignment, "ratings": None, "kind": "paper",
                    "min_cases": 0}
        if source not in self._sources:
            from evalverse.leaderboard.sources import alignment_for, source_frame

            frame = source_frame(self.store, source, self.taxonomy)
            self._sources[source] = {
                "frame": display_names(frame, self.taxonomy), "alignment": alignment_for(self.store, source, self.taxonomy),
                "ratings": display_names(self.store.bench.ratings(source), self.taxonomy),
                "kind": frame.attrs.get("kind", "paper"), "min_cases": frame.attrs.get("min_cases", 0)}
        return self._sources[source]


def open_context(settings: Settings, load_seed: bool = True) -> AppContext:
    """Taxonomy, store (the file, else an in-memory fallback) and data; never raises."""
    ctx = AppContext(settings=settings)
    try:
        from evalverse.taxonomy import load_taxonomy

        ctx.taxonomy = load_taxonomy()
    except Exception as exc:  # noqa: BLE001 - a broken taxonomy must not stop the leaderboard
        ctx.warnings.append(f"The taxonomy could not be loaded, so the Taxonomy tab is empty: {describe(exc)}")
    try:
        from evalverse.store import Store

        opened = Store.open_or_memory(settings)
        ctx.store, warning = opened if isinstance(opened, tuple) else (opened, _store_warning(opened))
        if warning:
            ctx.warnings.append(str(warning))
    except Exception as exc:  # noqa: BLE001
        ctx.warnings.append(f"The results database could not be opened; no leaderboard data is shown. {describe(exc)}")
    if ctx.store is not None and load_seed:
        try:
            from evalverse.leaderboard.data import load_seed_if_empty

            load_seed_if_empty(ctx.store)
        except Exception as exc:  # noqa: BLE001
            ctx.warnings.append(f"The leaderboard seed could not be loaded: {describe(exc)}")
    ctx.reload()
    return ctx


def _store_warning(store: Any) -> str | None:
    for name in ("warning", "fallback_reason", "degraded_reason"):
        value = getattr(store, name, None)
        if value:
            return str(value)
    return None


def read_data(store: Any | None, taxonomy: Any | None) -> LeaderboardData:
    data = LeaderboardData()
    if store is None:
        data.errors = {k: "no results database is open" for k in ("frame", "models", "alignment")}
        return data
    from evalverse.leaderboard import data as queries

    for key, fn in (("frame", "leaderboard_frame"), ("models", "models_frame"), ("alignment", "alignment_frame")):
        try:
            value = getattr(queries, fn)(store)
            setattr(data, key, display_names(value, taxonomy) if key != "models" else value)
        except (EvalVerseError, Exception) as exc:  # noqa: BLE001
            if not isinstance(exc, EvalVerseError):
                log.exception("reading %s failed", fn)
            data.errors[key] = describe(exc)
    return data


def display_names(frame: pd.DataFrame | None, taxonomy: Any | None) -> pd.DataFrame | None:
    """Replace taxonomy ids in stage/aspect/dimension columns by their display names (names stay)."""
    if frame is None or taxonomy is None:
        return frame
    names: dict[str, str] = {}
    for stage, aspect, dim in taxonomy.iter_dimensions():
        names.update({stage.id: stage.name, aspect.id: aspect.name, dim.id: dim.name})
    out = frame.copy()
    for col in ("stage", "aspect", "dimension"):
        if col in out.columns:
            out[col] = out[col].map(lambda v: names.get(v, v) if isinstance(v, str) else v)
    return out
