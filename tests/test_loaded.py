"""Warm models: loaded once per process, shared or lent one caller at a time, safe from several threads."""
from __future__ import annotations

import threading
import time

import pytest

from evalverse.models import loaded


@pytest.fixture(autouse=True)
def fresh():
    loaded.release()
    yield
    loaded.release()


def test_shared_model_loads_once_even_when_threads_ask_together():
    calls = []

    def load():
        calls.append(1)
        time.sleep(0.05)  # long enough for the other threads to arrive while loading
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(loaded.shared("m", load))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(g) for g in got}) == 1
    assert loaded.loads() == {"m": 1}
    assert loaded.shared("m", load) is got[0] and len(calls) == 1  # later callers: no load


def test_a_failed_load_is_not_kept():
    def broken():
        raise RuntimeError("no weights")

    with pytest.raises(RuntimeError):
        loaded.shared("m", broken)
    assert loaded.shared("m", lambda: "ok") == "ok"


class Graph:
    made = 0

    def __init__(self):
        Graph.made += 1
        self.closed = False

    def close(self):
        self.closed = True


def test_borrowed_models_are_never_used_by_two_callers_at_once_and_are_reused():
    Graph.made = 0
    inside = threading.Barrier(2)
    seen = []

    def work():
        with loaded.borrowed("g", Graph) as g:
            seen.append(g)
            inside.wait(timeout=5)  # both callers hold a model at the same time

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0] is not seen[1] and Graph.made == 2
    with loaded.borrowed("g", Graph) as again:  # afterwards: an idle one is lent, nothing loads
        assert again in seen and Graph.made == 2


def test_a_model_whose_use_failed_is_closed_not_lent_again():
    with pytest.raises(ValueError):
        with loaded.borrowed("g", Graph) as g:
            raise ValueError("mid-clip failure")
    assert g.closed
    with loaded.borrowed("g", Graph) as other:
        assert other is not g


def test_idle_models_beyond_keep_are_closed():
    with loaded.borrowed("g", Graph, keep=1) as a:
        with loaded.borrowed("g", Graph, keep=1) as b:
            pass
    assert not b.closed and a.closed  # b went back first and is kept; a found the pool full
