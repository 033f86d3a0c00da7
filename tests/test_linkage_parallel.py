"""Comparing pairs over several processes gives exactly what one process gives."""
from __future__ import annotations

import os

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


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_mapped_chunks_come_back_in_order_and_a_failed_child_is_done_again_here(processes: int) -> None:
    here = os.getpid()

    def work(i: int) -> list:
        if os.getpid() != here and i == 4:
            raise RuntimeError("a child dies")
        return [i, os.getpid() != here, {"row": "x" * 70_000}]     # more than a pipe holds
    out = parallel.map_chunks(10, work, processes)
    assert [v[0] for v in out] == list(range(10))
    assert out[0][1] is False and out[4][1] is False               # done here
    assert any(v[1] for v in out) is (processes > 1)               # the rest in children
    assert all(v[2] == {"row": "x" * 70_000} for v in out)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)                                 # no child left behind


def test_an_error_in_mapped_work_is_raised_here() -> None:
    def work(i: int) -> int:
        if i == 3:
            raise ValueError("bad chunk")
        return i
    with pytest.raises(ValueError, match="bad chunk"):
        parallel.map_chunks(6, work, 2)
    assert parallel.map_chunks(0, work, 2) == []


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
