"""Models loaded once per process and kept loaded ("warm") for every later clip: the app's second diagnosis
and a batch run's second video pay no loading.

Two kinds of model, two ways in, both safe when the scheduler runs operators side by side and when two
diagnoses run at once in the app:

- `shared(key, load)`: one instance for everyone, for models whose calls keep no state between them and
  may run from several threads (CTranslate2 Whisper, ONNX Runtime sessions). Loaded once, under a per-key
  lock, so two threads asking at once do not load it twice.
- `borrowed(key, load)`: a pool, for models that hold per-call or per-stream state (a MediaPipe graph in
  tracking mode, a dlib network's buffers). A caller gets an idle instance, or a new one when all are in
  use, and hands it back afterwards; at most `keep` idle instances stay. An instance whose use raised is
  closed, never handed to the next caller.

It sits beside the model manifest, below media and operators, so both may keep models here (TransNetV2
for shots, the face, pose and speech models for operators).

`loads()` counts the loads per key (the benchmark reports them: a warm run loads nothing); `release()`
closes and forgets everything (tests; freeing memory).
"""
from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterator, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_key_locks: dict[Hashable, threading.Lock] = {}
_shared: dict[Hashable, Any] = {}
_pools: dict[Hashable, list[Any]] = {}
_loads: Counter = Counter()


def _key_lock(key: Hashable) -> threading.Lock:
    with _lock:
        return _key_locks.setdefault(key, threading.Lock())


def shared(key: Hashable, load: Callable[[], T]) -> T:
    """The one instance for `key`, loaded by `load()` on first use. A load that raises is not cached (the
    next call tries again: a model copied in meanwhile is then found)."""
    try:
        return _shared[key]
    except KeyError:
        pass
    with _key_lock(key):
        if key not in _shared:
            _shared[key] = load()
            with _lock:
                _loads[key] += 1
        return _shared[key]


@contextmanager
def borrowed(key: Hashable, load: Callable[[], T], keep: int = 2) -> Iterator[T]:
    """An instance for `key` that nobody else uses until the block ends; reused by later callers."""
    with _lock:
        pool = _pools.setdefault(key, [])
        model = pool.pop() if pool else None
    if model is None:
        model = load()
        with _lock:
            _loads[key] += 1
    try:
        yield model
    except BaseException:
        _close(model)  # its state is unknown after a failure
        raise
    with _lock:
        pool = _pools.setdefault(key, [])
        if len(pool) < keep:
            pool.append(model)
            model = None
    if model is not None:
        _close(model)


def loads() -> dict[str, int]:
    """How many times each model was loaded in this process ({key as text: count})."""
    with _lock:
        return {str(k): v for k, v in _loads.items()}


def release() -> None:
    """Close and forget every kept model (the next use loads again)."""
    with _lock:
        models = list(_shared.values()) + [m for pool in _pools.values() for m in pool]
        _shared.clear()
        _pools.clear()
        _loads.clear()
    for m in models:
        _close(m)


def _close(model: Any) -> None:
    close = getattr(model, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # noqa: BLE001 - closing a broken model must not hide the original error
            pass
