"""A one-line progress bar with ETA for terminals (the CLI passes `enabled=stream.isatty()`; quiet otherwise)."""
from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 24


def clock(seconds: float | None) -> str:
    """'1:02:03', '4:05' or '?' (unknown)."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def eta(done: int, total: int, elapsed: float) -> float | None:
    """Seconds left at the rate so far (None before the first item)."""
    if done <= 0 or elapsed <= 0:
        return None
    return (total - done) * elapsed / done


def bar_line(done: int, total: int, elapsed: float, failed: int = 0, cached: int = 0, label: str = "") -> str:
    frac = done / total if total else 1.0
    filled = int(round(WIDTH * frac))
    rate = f"{60 * done / elapsed:.1f} clips/min" if done and elapsed > 0 else "-- clips/min"
    extra = "".join([f"  {cached} cached" if cached else "", f"  {failed} failed" if failed else ""])
    return (f"{label}[{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}  {rate}{extra}  "
            f"elapsed {clock(elapsed)}  ETA {clock(eta(done, total, elapsed))}")


class Progress:
    def __init__(self, total: int, label: str = "", stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total, self.label = total, label
        self.done = self.failed = self.cached = 0
        self.started = time.perf_counter()
        self._drawn = False
        if self.enabled and total:
            self._draw()

    def update(self, failed: bool = False, cached: bool = False) -> None:
        self.done += 1
        self.failed += int(failed)
        self.cached += int(cached)
        if self.enabled:
            self._draw()

    def _draw(self) -> None:
        line = bar_line(self.done, self.total, time.perf_counter() - self.started, self.failed, self.cached, self.label)
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
