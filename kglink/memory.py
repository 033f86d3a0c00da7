"""Memory helpers shared by linkage and the graph stores."""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (for the whole process) meanwhile.

    Loading extracts, linking, building or syncing a graph: each keeps millions of objects
    alive until it ends, and every full collection walks all of them to find nothing (at
    100k persons a third of the CPU of building and hashing the graph, 7 % of a load).
    It runs again afterwards, also after an error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
