"""Keep the app alive when a figure or table cannot be built: the user sees the reason in place of it.

A known user-facing error (`EvalVerseError`) shows its own message; anything else shows its type and
message and is logged with the traceback, so a bad figure never takes the page down.
"""
from __future__ import annotations

import functools
import logging
from typing import Callable, ParamSpec

import pandas as pd
import plotly.graph_objects as go

from evalverse.errors import EvalVerseError
from evalverse.leaderboard.figures import error_figure

log = logging.getLogger(__name__)
P = ParamSpec("P")


def describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, EvalVerseError) else f"{type(exc).__name__}: {exc}"


def failsafe_figure(build: Callable[P, go.Figure]) -> Callable[P, go.Figure]:
    """Wrap a figure builder: on any exception return `error_figure(message)` instead."""

    @functools.wraps(build)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> go.Figure:
        try:
            return build(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the whole point is to catch everything here
            if not isinstance(exc, EvalVerseError):
                log.exception("figure %s failed", getattr(build, "__name__", build))
            return error_figure(describe(exc))

    return wrapped


def failsafe_table(build: Callable[P, pd.DataFrame]) -> Callable[P, tuple[pd.DataFrame, str]]:
    """Wrap a table builder: returns (table, "") or (empty frame with a 'Problem' column, message)."""

    @functools.wraps(build)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> tuple[pd.DataFrame, str]:
        try:
            return build(*args, **kwargs), ""
        except Exception as exc:  # noqa: BLE001
            if not isinstance(exc, EvalVerseError):
                log.exception("table %s failed", getattr(build, "__name__", build))
            message = describe(exc)
            return pd.DataFrame({"Problem": [message]}), message

    return wrapped
