"""The compact graph read from the tables or from its file beside them (graph/compact_file.py),
timed, on an existing workspace. Prints counts, timings and digests only.

    python benchmarks/compact_file.py WS tables     # load_compact's read of the tables
    python benchmarks/compact_file.py WS file       # the same graph from graph.compact
    python benchmarks/compact_file.py WS write      # the tables read, then the file written
    python benchmarks/compact_file.py WS night      # build (changed-only), then load_compact
    python benchmarks/compact_file.py WS digest     # SHA-256 of every list and array, both ways

`tables`, `file` and `digest` expect the graph tables current (they do not build).
"""
from __future__ import annotations

import argparse
import hashlib
import resource
import time
from collections.abc import Callable
from typing import Any

from kglink.graph import compact_file, embedded
from kglink.graph.compact import CompactGraph
from kglink.workspace import open_workspace

spent: dict[str, list[float]] = {}


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        w, c = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = [time.perf_counter() - w, time.process_time() - c]
    return run


def digest(g: CompactGraph) -> dict[str, str]:
    p = g.parts()
    out = {name: hashlib.sha256("\x1e".join(items).encode()).hexdigest()[:16]   # type: ignore[arg-type]
           for name, items in (("uids", p.uids), ("labels", p.labels), ("node_json", p.node_json),
                               ("edge_types", p.edge_types), ("edge_json", p.edge_json))}
    out |= {name: hashlib.sha256(a.tobytes()).hexdigest()[:16] for name, a in (("src", p.src), ("dst", p.dst))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspace")
    ap.add_argument("what", choices=["tables", "file", "write", "night", "digest"])
    a = ap.parse_args()
    ws = open_workspace(a.workspace, create=False)
    path = ws.path / compact_file.FILE_NAME
    stamp = {"build": ws.get_meta(embedded.BUILD_KEY), "state": ws.get_meta(embedded.STATE_KEY),
             "version": ws.get_meta(embedded.VERSION_KEY)}
    read_tables = timed("read the tables", embedded._read_compact)
    read_file = timed("read the file", compact_file.read)
    if a.what == "tables":
        g = read_tables(ws)
    elif a.what == "file":
        g = read_file(path, stamp)
        assert g is not None, "no file of the tables as they are"
    elif a.what == "write":
        g = read_tables(ws)
        timed("write the file", compact_file.write)(path, stamp, g.parts())
    elif a.what == "night":
        for name in ("_read", "_apply", "_write"):
            setattr(compact_file, name, timed(f"  {name}", getattr(compact_file, name)))
        done = timed("build", embedded.build)(ws)
        print(f"build: changed_only={done.changed_only} nodes written {done.nodes_written} "
              f"deleted {done.nodes_deleted}, relationships written {done.relationships_written} "
              f"deleted {done.relationships_deleted}")
        g = timed("load_compact", embedded.load_compact)(ws)
    else:
        from_tables, from_file = digest(read_tables(ws)), read_file(path, stamp)
        assert from_file is not None, "no file of the tables as they are"
        print("digests equal:", from_tables == digest(from_file), from_tables)
        g = from_file
    for name, (wall, cpu) in spent.items():
        print(f"{name}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"nodes {g.number_of_nodes()}, relationships {g.number_of_edges()}, "
          f"file {path.stat().st_size / 1e6 if path.exists() else 0:.0f} MB, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
