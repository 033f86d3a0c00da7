"""Risk queries and the research pack on both stores, timed, and checked against the truth.

    python benchmarks/queries.py --households 23000            # about 100k person records
    python benchmarks/queries.py --households 235000           # about 1M

Needs a Neo4j (scripts/neo4j-local start, or NEO4J_URI / NEO4J_PASSWORD). The county is
loaded, linked and synced first (not timed here; see load.py, scale.py, neo4j_sync.py).
Query times are for each query on its own, warm (the second of two runs), with the
ratio embedded / Neo4j from the same run; the embedded store's one-off graph load from
the workspace is timed separately, and so are the unconfirmed-link findings (what the
review queue would add) and a whole `risks` run on the embedded store (every query's
findings and the unconfirmed ones, the graph already loaded).
"""
from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _common import command_line, county, extract_dirs, peak_rss_mb, person_records

from kglink.graph.neo4j_store import Neo4jSettings, read_query, sync
from kglink.linkage.run import link
from kglink.loaders.load import load_extracts
from kglink.queries import registry
from kglink.queries.runner import embedded_view, run_neo4j, run_on_view
from kglink.queries.unconfirmed import queued_pairs, unconfirmed_findings
from kglink.reports.profile import build_profile
from kglink.synth.truth import Truth, score
from kglink.workspace import open_workspace


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=23000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--county", type=Path, default=None)
    ap.add_argument("--workspace", type=Path, default=None, help="reuse a loaded and linked workspace")
    ap.add_argument("--embedded-only", action="store_true", help="no Neo4j: the embedded store alone")
    args = ap.parse_args()
    # NEO4J_PASSWORD, else the local server's generated one
    neo = None if args.embedded_only else Neo4jSettings.from_env()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        cdir = county(args.county or Path(tmp) / "county", args.households, args.seed)
        ws_path = args.workspace or Path(tmp) / "ws"
        fresh = not (ws_path / "kglink.sqlite").exists()
        ws = stack.enter_context(open_workspace(ws_path))
        if fresh:
            load_extracts(ws, extract_dirs(cdir))
            link(ws)
        t0 = time.perf_counter()
        rep = sync(ws, neo) if neo is not None else None
        sync_s = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        view = embedded_view(ws)
        load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
        ctx, g = view.ctx, view.g
        print(f"command: {command_line()}")
        print(f"person records: {person_records(cdir)}; graph: {g.number_of_nodes()} nodes, "
              f"{g.number_of_edges()} relationships; embedded graph load {load_s:.1f} s ({load_cpu:.1f} s CPU) "
              f"(peak memory so far {peak_rss_mb():,.0f} MB)"
              + ("" if rep is None else
                 f"; Neo4j sync {sync_s:.1f} s ({'full' if rep.full else 'incremental'}; "
                 f"{rep.nodes_written:,} nodes and {rep.relationships_written:,} relationships "
                 f"written, indexes built afterwards {rep.index_seconds:.1f} s)"))
        # Embedded CPU seconds too: the queries run in this process, single-threaded, and on
        # a shared machine its CPU time says more than its wall time.
        print(f"{'query':34} {'embedded s':>10} {'CPU s':>7} {'neo4j s':>8} {'ratio':>6} {'findings':>9}")
        worst = worst_e = 0.0
        for name, mod in sorted(registry.QUERIES.items()):
            p = mod.Params()
            times_e, times_n, cpu_e = [], [], []
            for _ in range(2):
                t, c = time.perf_counter(), time.process_time()
                rows_e = mod.embedded(view, p, ctx)
                times_e.append(time.perf_counter() - t)
                cpu_e.append(time.process_time() - c)
                t = time.perf_counter()
                if neo is not None:
                    read_query(mod.CYPHER, ctx.cypher_params() | p.model_dump(), neo)
                times_n.append(time.perf_counter() - t if neo is not None else float("nan"))
            worst, worst_e = max(worst, times_n[-1]), max(worst_e, times_e[-1])
            print(f"{name:34} {times_e[-1]:10.3f} {cpu_e[-1]:7.3f} {times_n[-1]:8.3f} {times_e[-1] / times_n[-1]:6.2f} "
                  f"{len(rows_e):9d}")
        print(f"slowest query: embedded {worst_e:.3f} s (target < 10 s at 1M person records), "
              f"Neo4j {worst:.3f} s (target < 2 s)")
        t0, c0 = time.perf_counter(), time.process_time()
        found_e = run_on_view(view, ctx)
        confirmed_s, confirmed_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        extra = unconfirmed_findings(ws, found_e, view=view)
        unconfirmed_s, unconfirmed_cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"embedded risks, graph loaded: every query's findings {confirmed_s:.1f} s ({confirmed_cpu:.1f} s "
              f"CPU), unconfirmed-link findings {unconfirmed_s:.1f} s ({unconfirmed_cpu:.1f} s CPU; "
              f"{len(queued_pairs(ws)):,} queued pairs, {len(extra)} findings); "
              f"together {confirmed_s + unconfirmed_s:.1f} s (target < 60 s at 1M); with the graph load "
              f"{load_s + confirmed_s + unconfirmed_s:.1f} s")
        # The packs' children: young people in findings (read before the graph is let go).
        children = sorted({p.entity_id for f in found_e for p in f.people if p.role in ("child", "subject")
                           and (view.props(p.entity_id).get("dob") or "") > ctx.child_born_after})[:10]
        del view, g          # a 1M graph is gigabytes: do not hold it while Neo4j runs
        gc.collect()
        truth = Truth.read(cdir)
        if neo is None:
            print(f"against the truth: embedded {score(found_e, truth).summary()}")
            _packs(ws, children, found_e, ((None, "embedded"),))
            print(f"peak memory: {peak_rss_mb():,.0f} MB")
            return
        found_n = run_neo4j(ws, neo)
        same = [f.model_dump() for f in found_e] == [f.model_dump() for f in found_n]
        print(f"findings: embedded {len(found_e)}, Neo4j {len(found_n)}, identical: {same}")
        print(f"against the truth: embedded {score(found_e, truth).summary()}; "
              f"Neo4j {score(found_n, truth).summary()}")
        # confirmed-link findings; the packs read them as they would the cache
        _packs(ws, children, found_n, ((None, "embedded"), (neo, "Neo4j")))
        print(f"peak memory: {peak_rss_mb():,.0f} MB")


def _packs(ws: Any, children: list[str], findings: list[Any], stores: tuple[tuple[Any, str], ...]) -> None:
    for store, label in stores:
        times = []
        for uid in children:
            t = time.perf_counter()
            build_profile(ws, uid, "benchmark", findings, store)
            times.append(time.perf_counter() - t)
        print(f"research pack on {label}: median {statistics.median(times):.3f} s, "
              f"max {max(times):.3f} s over {len(times)} children with findings (target < 1 s)")


if __name__ == "__main__":
    main()
