"""Neo4j sync throughput: a synthetic county's graph into an empty Neo4j database.

Prints nodes/s, relationships/s and seconds of the full sync, the time of a resync with
nothing changed (it must send 0 rows; with and without verify), and of a resync after
linkage merges a few hundred records. Also the embedded store's build and read for comparison.

It REPLACES the kglink graph in the target database: point it at a database of its own,
e.g. a second local server:

    KGLINK_NEO4J_HOME=/tmp/neo4j-bench KGLINK_NEO4J_PORT=7688 KGLINK_NEO4J_HEAP=4g \\
        KGLINK_NEO4J_PAGECACHE=3g scripts/neo4j-local start
    NEO4J_URI=bolt://127.0.0.1:7688 \\
        python benchmarks/neo4j_sync.py --households 23500      # ~100k person records

About 4.3 person records per household: 235000 households make ~1M.
"""
from __future__ import annotations

import argparse
import functools
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _common import command_line, county, extract_dirs, peak_rss_mb, person_records

from kglink.graph import embedded, sync_state
from kglink.graph.neo4j_store import Neo4jSettings, driver, sync
from kglink.linkage.entities import entity_id_for
from kglink.loaders.load import load_extracts
from kglink.workspace import Workspace, open_workspace


def prepare(ws_dir: Path, county_dir: Path, link: bool) -> tuple[Workspace, float]:
    ws = open_workspace(ws_dir)
    t0 = time.perf_counter()
    if not ws.conn.execute("SELECT 1 FROM loads").fetchone():
        load_extracts(ws, extract_dirs(county_dir))
        if link:
            from kglink.linkage.run import link as run_link
            run_link(ws)
    return ws, time.perf_counter() - t0


def merge_some(ws: Workspace, pairs: int) -> int:
    """Join `pairs` pairs of singleton person records the way linkage would."""
    rows = ws.conn.execute(
        "SELECT agency, key FROM records r WHERE kind = 'person' AND status = 'active' AND NOT "
        "EXISTS (SELECT 1 FROM entity_members m WHERE m.kind = 'person' AND m.agency = r.agency "
        "AND m.record_id = r.key) ORDER BY agency, key LIMIT ?", (2 * pairs,)).fetchall()
    members = []
    for (a1, k1), (a2, k2) in zip(rows[0::2], rows[1::2]):
        eid = entity_id_for("person", [f"{a1}:{k1}", f"{a2}:{k2}"])
        members += [("person", a1, k1, eid, 0.97), ("person", a2, k2, eid, 0.97)]
    with ws.transaction() as c:
        c.executemany("INSERT INTO entity_members VALUES (?,?,?,?,?)", members)
        run = int(ws.get_meta("linkage_run") or 0) + 1
        ws.set_meta(c, "linkage_run", str(run))
    return len(members) // 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--households", type=int, default=23500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--county", type=Path, default=None, help="reuse a generated county here")
    ap.add_argument("--workspace", type=Path, default=None, help="reuse a loaded workspace here")
    ap.add_argument("--link", action="store_true", help="run linkage before syncing")
    ap.add_argument("--batch-size", type=int, default=None, help="rows per write transaction (default: Neo4jSettings.batch_size)")
    ap.add_argument("--merges", type=int, default=200, help="record pairs merged for the incremental resync")
    ap.add_argument("--skip-embedded", action="store_true")
    args = ap.parse_args()
    settings = Neo4jSettings.from_env(batch_size=args.batch_size)
    say = functools.partial(print, flush=True)      # each figure as soon as it is known
    say(f"command: {command_line()}")
    say(f"neo4j: {settings.uri} database {settings.database}; batch {settings.batch_size}")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        cdir = county(args.county or Path(tmp) / "county", args.households, args.seed)
        persons = person_records(cdir)
        ws, prep_s = prepare(args.workspace or Path(tmp) / "ws", cdir, args.link)
        stack.enter_context(ws)
        say(f"person records: {persons:,}; load{' + link' if args.link else ''}: {prep_s:.1f} s")
        with driver(settings).session(database=settings.database) as s:
            s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        sync_state.forget(ws)
        full = sync(ws, settings)
        say(f"graph: {full.nodes:,} nodes, {full.relationships:,} relationships")
        say(f"full sync: {full.seconds:.1f} s; {full.nodes / full.seconds:,.0f} nodes/s, "
            f"{full.relationships / full.seconds:,.0f} relationships/s, "
            f"{(full.nodes + full.relationships) / full.seconds:,.0f} items/s")
        say(f"  of which: Neo4j writing {full.write_seconds:.1f} s (in the background), "
            f"waiting for Neo4j {full.waited_seconds:.1f} s, recording in the workspace "
            f"{full.record_seconds:.1f} s, building indexes afterwards {full.index_seconds:.1f} s; "
            "building the graph about "
            f"{full.seconds - full.waited_seconds - full.record_seconds - full.index_seconds:.1f} s")
        again = sync(ws, settings)
        verified = sync(ws, settings, verify=True)
        say(f"resync, nothing changed: {again.seconds:.2f} s (state token unchanged, nothing "
            f"built); with verify=True (build and compare every item): {verified.seconds:.1f} s; "
            f"rows sent {again.rows_sent} and {verified.rows_sent}")
        merged = merge_some(ws, args.merges)
        incremental = sync(ws, settings)
        say(f"resync after merging {merged} record pairs: {incremental.seconds:.1f} s; "
            f"nodes written {incremental.nodes_written}, deleted {incremental.nodes_deleted}; "
            f"relationships written {incremental.relationships_written}, "
            f"deleted {incremental.relationships_deleted}")
        if not args.skip_embedded:
            t0 = time.perf_counter()
            embedded.rebuild(ws)
            build_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            g = embedded.load_graph(ws)
            read_s = time.perf_counter() - t0
            assert not g.graph["rebuilt"]
            say(f"embedded: build {build_s:.1f} s, read into networkx {read_s:.1f} s")
    say(f"peak memory (this process): {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
