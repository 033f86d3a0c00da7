"""Work in chunks over the machine's cores, by fork, in two shapes.

`run_chunks`: numpy work whose children write into memory shared with the parent.
Comparing millions of candidate pairs is numpy and rapidfuzz over a table that does not
change meanwhile, so a forked child can read the table as it is (copy-on-write, nothing
to serialise) and write its chunks of the result into memory shared with the parent. The
first chunk is computed in the parent alone, so the caches it fills on the table (value
codes, distinct values) are there before the children are made and are shared with them.
A child that fails has its chunks computed again in the parent: the result never depends
on how the work was split.

`map_chunks`: work whose chunks each return a value made of JSON types (the load's
validated rows, say); a child sends its chunks' values back through a pipe as one JSON
document (orjson), and the parent keeps them in chunk order. As above, a child that fails
has its chunks done again in the parent, where an error in the work is raised.

`KGLINK_WORKERS` sets the number of processes (1: no fork). Without fork (not Linux or
macOS) everything runs in this process.
"""
from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
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


def map_chunks(n_chunks: int, work: Callable[[int], Any], processes: int | None = None) -> list[Any]:
    """[work(i) for i in range(n_chunks)], the chunks dealt round-robin over `processes`
    processes, this one included (it takes chunk 0, n, 2n...).

    `work` returns JSON types only (dicts with str keys, lists, str, int within 64 bits,
    float, bool, None): a child's values come back as orjson reads them, so a tuple comes
    back a list. A child that fails, or whose values cannot be sent, has its chunks done
    again here, so an error in `work` is raised in this process.
    """
    n_proc = min(processes or workers(), n_chunks)
    if n_proc <= 1:
        return [work(i) for i in range(n_chunks)]
    results: list[Any] = [None] * n_chunks
    children: dict[int, tuple[int, list[int]]] = {}    # pid -> (pipe to read, its chunks)
    failed: list[int] = []
    try:
        for k in range(1, n_proc):
            mine = list(range(k, n_chunks, n_proc))
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:                       # the child: its chunks, sent, then gone
                code = 1
                try:
                    os.close(read_end)
                    payload = orjson.dumps([work(i) for i in mine])
                    with os.fdopen(write_end, "wb") as out:
                        out.write(payload)
                    code = 0
                finally:
                    os._exit(code)
            os.close(write_end)
            children[pid] = (read_end, mine)
        for i in range(0, n_chunks, n_proc):
            results[i] = work(i)
    finally:
        for pid, (read_end, mine) in children.items():
            # Read to the end before waiting: a child blocks on a full pipe until then.
            with os.fdopen(read_end, "rb") as fh:
                payload = fh.read()
            _, status = os.waitpid(pid, 0)
            values = _sent(payload, len(mine)) if status == 0 else None
            if values is None:
                failed += mine
                continue
            for i, value in zip(mine, values):
                results[i] = value
    for i in failed:
        results[i] = work(i)
    return results


def _sent(payload: bytes, expected: int) -> list[Any] | None:
    """A child's values as sent, or None if they did not all arrive."""
    try:
        values = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return values if isinstance(values, list) and len(values) == expected else None
