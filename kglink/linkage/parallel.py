"""Numpy work in chunks over the machine's cores, by fork.

Comparing millions of candidate pairs is numpy and rapidfuzz over a table that does not
change meanwhile, so a forked child can read the table as it is (copy-on-write, nothing
to serialise) and write its chunks of the result into memory shared with the parent. The
first chunk is computed in the parent alone, so the caches it fills on the table (value
codes, distinct values) are there before the children are made and are shared with them.
A child that fails has its chunks computed again in the parent: the result never depends
on how the work was split.

`KGLINK_WORKERS` sets the number of processes (1: no fork). Without fork (not Linux or
macOS) everything runs in this process.
"""
from __future__ import annotations

import mmap
import os
from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike


def workers() -> int:
    """Processes to use: KGLINK_WORKERS, else the cores this process may run on."""
    env = os.environ.get("KGLINK_WORKERS", "").strip()
    if env:
        return max(1, int(env))
    if not hasattr(os, "fork"):
        return 1
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def shared_array(shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """A zeroed array in anonymous shared memory: what a forked child writes, the parent sees."""
    count = int(np.prod(shape))
    buf = mmap.mmap(-1, max(1, count * np.dtype(dtype).itemsize))
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


def run_chunks(n_chunks: int, work: Callable[[int], None], processes: int | None = None) -> None:
    """Call work(i) for every i in range(n_chunks), each exactly once in effect.

    Chunk 0 runs here first; the rest are dealt round-robin over `processes` processes,
    this one included. `work` must write its result only into shared memory.
    """
    if n_chunks <= 0:
        return
    work(0)
    rest = list(range(1, n_chunks))
    n_proc = min(processes or workers(), len(rest))
    if n_proc <= 1:
        for i in rest:
            work(i)
        return
    children: dict[int, list[int]] = {}
    failed: list[int] = []
    try:
        for k in range(1, n_proc):
            mine = rest[k::n_proc]
            pid = os.fork()
            if pid == 0:                       # the child: its chunks, then gone
                code = 1
                try:
                    for i in mine:
                        work(i)
                    code = 0
                finally:
                    os._exit(code)
            children[pid] = mine
        for i in rest[0::n_proc]:
            work(i)
    finally:
        for pid, mine in children.items():
            _, status = os.waitpid(pid, 0)
            if status != 0:
                failed += mine
    for i in failed:
        work(i)
