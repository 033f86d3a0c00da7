"""Comparing pairs over several processes gives exactly what one process gives."""
from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st_

from kglink import parallel
from kglink.linkage.blocking import candidate_pairs
from kglink.linkage.entities import entity_map
from kglink.linkage.prepare import address_table, person_table
from kglink.linkage.registry import chunk_bounds, comparison_vectors, comparisons_for
from kglink.linkage.settings import default_settings

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


@pytest.mark.parametrize("processes", [1, 2, 3, 8])
def test_every_chunk_is_done_once_whatever_the_processes(processes: int) -> None:
    out = parallel.shared_array((11, 2), np.int64)
    here = os.getpid()

    def work(i: int) -> None:
        out[i] = (i * i, os.getpid() != here)
    parallel.run_chunks(11, work, processes)
    assert out[:, 0].tolist() == [i * i for i in range(11)]
    assert out[0, 1] == 0                                  # chunk 0 always runs here
    assert bool(out[:, 1].any()) is (processes > 1)        # the others in children


def test_chunks_of_a_failing_child_are_done_again_here() -> None:
    out = parallel.shared_array((9,), np.int64)
    here = os.getpid()

    def work(i: int) -> None:
        if os.getpid() != here:
            raise RuntimeError("a child dies")
        out[i] = i + 1
    parallel.run_chunks(9, work, 2)
    assert out.tolist() == list(range(1, 10))


def test_an_error_here_still_waits_for_the_children() -> None:
    here = os.getpid()

    def work(i: int) -> None:
        if os.getpid() == here and i > 0:
            raise ValueError("parent fails")
    with pytest.raises(ValueError):
        parallel.run_chunks(5, work, 2)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)                         # no child left behind


def _square_here_or_there(context: list, items: list) -> list:
    """Pool work: each item squared, with where it was done; context may ask a worker to die."""
    here = context[0] == os.getpid()
    if context[1] == "die" and not here:
        os._exit(3)
    if context[1] == "raise":
        raise ValueError("bad batch")
    return [[x * x, here, "x" * context[2]] for x in items]


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_a_pool_answers_every_batch_in_order_however_many_are_in_flight(workers: int) -> None:
    here = os.getpid()
    with parallel.Pool(_square_here_or_there, workers) as pool:
        batches = [list(range(k, k + 200)) for k in range(0, 2_000, 200)]
        # Three batches in flight at once, each answer more than a pipe holds (~2 MB).
        tickets = [pool.submit([here, "", 10_000], b) for b in batches[:3]]
        out = []
        for b in batches[3:]:
            tickets.append(pool.submit([here, "", 10_000], b))
            out += pool.result(tickets.pop(0))
        for t in tickets:
            out += pool.result(t)
    assert [v[0] for v in out] == [x * x for x in range(2_000)]
    assert all(v[2] == "x" * 10_000 for v in out)
    assert any(not v[1] for v in out) is (workers > 0)     # workers did some of it
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)                         # no worker left behind


def test_a_worker_that_dies_has_its_share_done_here() -> None:
    here = os.getpid()
    with parallel.Pool(_square_here_or_there, 2) as pool:
        first = pool.result(pool.submit([here, "die", 0], list(range(30))))
        ticket = pool.submit([here, "", 0], list(range(30)))
        assert ticket.parts == []                          # nothing sent to the dead
        after = pool.result(ticket)
    assert [v[0] for v in first] == [v[0] for v in after] == [x * x for x in range(30)]
    assert all(v[1] for v in first)                        # all done here in the end
    assert all(v[1] for v in after)                        # the dead workers get nothing
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_an_error_in_pool_work_is_raised_here_and_unread_answers_do_not_hang_the_close() -> None:
    here = os.getpid()
    with pytest.raises(ValueError, match="bad batch"):
        with parallel.Pool(_square_here_or_there, 2) as pool:
            ticket = pool.submit([here, "raise", 0], list(range(50)))
            pool.submit([here, "", 0], list(range(50)))      # never collected
            pool.result(ticket)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@pytest.mark.parametrize("when", ["in its own share", "reading an answer"])
def test_an_interrupt_while_collecting_lets_the_workers_go(
        when: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while this process does its share of the last batch, or reads its answer:
    the close must not wait forever for a worker blocked writing an answer (~10 MB, more
    than a pipe holds) that no one will read."""
    here = os.getpid()

    def work(context: list, items: list) -> list:
        if os.getpid() == here and when == "in its own share":
            raise KeyboardInterrupt
        return _square_here_or_there(context, items)

    def hung(*_: object) -> None:
        raise TimeoutError("the pool's close hung")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        with pytest.raises(KeyboardInterrupt):
            with parallel.Pool(work, 1) as pool:
                ticket = pool.submit([here, "", 10_000], list(range(2_000)))
                if when == "reading an answer":     # patched here only, not in the worker
                    real, calls = parallel._read_exactly, []

                    def cut(fd: int, n: int) -> bytes | None:
                        calls.append(n)
                        if len(calls) == 2:         # the answer's body, after its length
                            raise KeyboardInterrupt
                        return real(fd, n)
                    monkeypatch.setattr(parallel, "_read_exactly", cut)
                pool.result(ticket)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)                         # no worker left behind


def test_workers_can_be_set_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KGLINK_WORKERS", "3")
    assert parallel.workers() == 3
    monkeypatch.setenv("KGLINK_WORKERS", "1")
    assert parallel.workers() == 1


@pytest.mark.parametrize("kind", ["address", "person"])
def test_comparison_vectors_are_the_same_in_one_process_or_several(county_ws, kind: str) -> None:  # type: ignore[no-untyped-def]
    st = default_settings(kind)

    def table():  # type: ignore[no-untyped-def]  # a fresh table: no caches from another run
        if kind == "address":
            return address_table(county_ws)
        return person_table(county_ws, entity_map(county_ws, "address"), st.crowded_address_people)
    left, right, _ = candidate_pairs(table(), st)
    comps = comparisons_for(kind, st.comparisons)
    one = comparison_vectors(table(), comps, left, right, chunk=1_000, processes=1)
    several = comparison_vectors(table(), comps, left, right, chunk=1_000, processes=3, warm=300)
    assert len(left) > 5_000 and np.array_equal(one, several)


@given(st_.integers(0, 5_000), st_.integers(1, 2_000), st_.integers(1, 8), st_.integers(1, 500))
def test_chunk_bounds_cover_every_pair_once(n: int, chunk: int, procs: int, warm: int) -> None:
    b = chunk_bounds(n, chunk, procs, warm)
    assert b[0] == 0 and b[-1] == n
    assert all(x < y for x, y in zip(b, b[1:]))                 # no empty or overlapping chunk
    sizes = [y - x for x, y in zip(b, b[1:])]
    assert all(s <= max(chunk, warm) for s in sizes)
    if procs > 1 and n > 2 * warm:
        assert sizes[0] == warm and len(sizes) - 1 >= min(procs, -(-(n - warm) // chunk))


def test_a_stream_made_elsewhere_arrives_whole_and_in_order() -> None:
    here = os.getpid()

    def produce():  # type: ignore[no-untyped-def]
        for i in range(2000):
            yield i, "x" * (i % 700), os.getpid() != here
    got = list(parallel.produced_elsewhere(produce))
    assert [(i, s) for i, s, _ in got] == [(i, "x" * (i % 700)) for i in range(2000)]
    assert all(elsewhere for _, _, elsewhere in got)          # made in the child


def test_an_error_making_a_stream_elsewhere_is_raised_here() -> None:
    def produce():  # type: ignore[no-untyped-def]
        yield 1
        raise MemoryError("made up")
    got = []
    with pytest.raises(MemoryError):
        for item in parallel.produced_elsewhere(produce):
            got.append(item)
    assert got == [1]


def test_a_child_gone_mid_stream_is_an_error_here() -> None:
    def produce():  # type: ignore[no-untyped-def]
        yield 1
        os._exit(0)                     # gone without an end: the stream is cut short
    with pytest.raises(ChildProcessError):
        list(parallel.produced_elsewhere(produce))


def test_a_stream_left_unread_lets_its_child_go() -> None:
    def produce():  # type: ignore[no-untyped-def]
        while True:
            yield "y" * 100_000              # far more than a pipe holds
    stream = parallel.produced_elsewhere(produce)
    assert len(next(stream)) == 100_000
    stream.close()                           # kills and waits for the child; no hang
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)           # no child of this test is left behind


def test_streams_made_in_two_children_arrive_whole_each_in_its_order() -> None:
    here = os.getpid()

    def produce(name: str, n: int):  # type: ignore[no-untyped-def]
        def make():  # type: ignore[no-untyped-def]
            for i in range(n):
                yield name, i, "z" * (i % 900), os.getpid()
        return make
    got = list(parallel.produced_elsewhere(produce("a", 3000), produce("b", 1000)))
    for name, n in (("a", 3000), ("b", 1000)):
        mine = [(i, s) for who, i, s, _ in got if who == name]
        assert mine == [(i, "z" * (i % 900)) for i in range(n)]
    makers = {who: {pid for w, _, _, pid in got if w == who} for who in "ab"}
    assert len(makers["a"]) == len(makers["b"]) == 1 and makers["a"] != makers["b"]
    assert here not in makers["a"] | makers["b"]                 # each made in a child of its own


def test_an_error_in_one_of_two_streams_is_raised_and_the_other_child_goes() -> None:
    def endless():  # type: ignore[no-untyped-def]
        while True:
            yield "y" * 100_000              # far more than a pipe holds: it waits on us

    def failing():  # type: ignore[no-untyped-def]
        yield "first"
        raise MemoryError("made up")
    with pytest.raises(MemoryError):
        list(parallel.produced_elsewhere(endless, failing))
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)           # neither child is left behind
