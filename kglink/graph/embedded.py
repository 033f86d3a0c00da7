"""The embedded graph store (the default): networkx, persisted in the workspace SQLite.

The graph is kept in two tables beside the records it is built from (docs/graph.md):
`graph_nodes(uid, label, props)` and `graph_edges(uid, type, src, dst, props)`, props as
JSON text, no pickle. `meta.graph_state` holds the workspace's state token at build time;
`load_graph` rebuilds only when the token has moved, and otherwise reads the tables.
`neighbourhood` reads only the k-hop neighbourhood through the src/dst indexes.
"""
from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterable
from itertools import islice
from typing import Any

import networkx as nx
import orjson

from kglink.graph import schema
from kglink.graph.build import GraphNode, GraphRel, iter_graph
from kglink.graph.compact import CompactGraph
from kglink.memory import gc_paused
from kglink.workspace import Workspace

STATE_KEY = "graph_state"
VERSION_KEY = "graph_version"
_BATCH = 5000
_IN_CHUNK = 500     # SQLite's default limit on host parameters is far above this

_TABLES = """
CREATE TABLE IF NOT EXISTS graph_nodes (
    uid TEXT NOT NULL, label TEXT NOT NULL, props TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS graph_edges (
    uid TEXT NOT NULL, type TEXT NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,
    props TEXT NOT NULL);
"""
_INDEXES = {
    "graph_nodes_uid": "CREATE UNIQUE INDEX IF NOT EXISTS graph_nodes_uid ON graph_nodes (uid)",
    "graph_edges_uid": "CREATE UNIQUE INDEX IF NOT EXISTS graph_edges_uid ON graph_edges (uid)",
    "graph_edges_src": "CREATE INDEX IF NOT EXISTS graph_edges_src ON graph_edges (src)",
    "graph_edges_dst": "CREATE INDEX IF NOT EXISTS graph_edges_dst ON graph_edges (dst)",
    "graph_nodes_label": "CREATE INDEX IF NOT EXISTS graph_nodes_label ON graph_nodes (label)",
}
# A rebuild writes millions of rows keyed by hashes, i.e. in random order for every
# B-tree. It drops both tables (deleting millions of indexed rows one by one cost as much
# as writing them), writes the rows into bare tables, and builds each index, the unique
# ones on uid included, in one sorted pass at the end; all in one transaction.
# (Workspaces written before had uid as PRIMARY KEY; the first rebuild gives them these
# tables.)

# How many times this process has rebuilt a graph: lets tests see that a load was a read.
build_count = 0


def _ensure_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(_TABLES + "".join(f"{ddl};\n" for ddl in _INDEXES.values()))


def _dumps(props: dict[str, Any]) -> str:
    """Compact JSON with sorted keys (orjson: about 8 times faster than json.dumps here)."""
    return orjson.dumps(props, option=orjson.OPT_SORT_KEYS).decode()


def _add_node(g: nx.MultiDiGraph, uid: str, label: str, props: dict[str, Any]) -> None:
    g.add_node(uid, **{schema.LABEL_ATTR: label}, **props)


def _add_edge(g: nx.MultiDiGraph, uid: str, rel_type: str, src: str, dst: str,
              props: dict[str, Any]) -> None:
    g.add_edge(src, dst, key=uid, **{schema.TYPE_ATTR: rel_type}, **props)


class _PropsReader:
    """Decodes stored props so that millions of nodes share one copy of each property name
    and of each short value (an agency, a label, a role): decoding JSON makes new strings
    for every row, which at a million records is several gigabytes of duplicates."""

    SHORT = 24

    def __init__(self) -> None:
        self._keys: dict[tuple[str, ...], tuple[str, ...]] = {}

    def __call__(self, raw: str) -> dict[str, Any]:
        d = orjson.loads(raw)
        names = tuple(d)
        keys = self._keys.get(names)
        if keys is None:
            keys = self._keys[names] = tuple(sys.intern(k) for k in names)
        short = self.SHORT
        return dict(zip(keys, [sys.intern(v) if type(v) is str and len(v) < short else v
                               for v in d.values()]))


def is_current(ws: Workspace) -> bool:
    """True when the stored graph was built from the workspace as it is now."""
    return (ws.get_meta(STATE_KEY) == ws.state_token()
            and ws.get_meta(VERSION_KEY) == str(schema.VERSION))


def rebuild(ws: Workspace, graph: nx.MultiDiGraph | None = None) -> None:
    """Rebuild the tables in one transaction (and fill `graph` on the way, if given)."""
    global build_count
    _ensure_schema(ws.conn)
    _rebuild(ws, graph)
    build_count += 1


def _rebuild(ws: Workspace, graph: nx.MultiDiGraph | None) -> None:
    with ws.transaction() as conn:
        token = ws.state_token()
        conn.execute("DROP TABLE IF EXISTS graph_edges")
        conn.execute("DROP TABLE IF EXISTS graph_nodes")
        for ddl in _TABLES.split(";"):
            if ddl.strip():
                conn.execute(ddl)
        nodes: list[tuple[str, str, str]] = []
        edges: list[tuple[str, str, str, str, str]] = []
        for item in iter_graph(ws):
            if isinstance(item, GraphNode):
                nodes.append((item.uid, item.label, _dumps(item.props)))
                if graph is not None:
                    _add_node(graph, item.uid, item.label, item.props)
                if len(nodes) >= _BATCH:
                    conn.executemany("INSERT INTO graph_nodes VALUES (?,?,?)", nodes)
                    nodes.clear()
            else:
                assert isinstance(item, GraphRel)
                edges.append((item.uid, item.type, item.start, item.end, _dumps(item.props)))
                if graph is not None:
                    _add_edge(graph, item.uid, item.type, item.start, item.end, item.props)
                if len(edges) >= _BATCH:
                    conn.executemany("INSERT INTO graph_edges VALUES (?,?,?,?,?)", edges)
                    edges.clear()
        conn.executemany("INSERT INTO graph_nodes VALUES (?,?,?)", nodes)
        conn.executemany("INSERT INTO graph_edges VALUES (?,?,?,?,?)", edges)
        for ddl in _INDEXES.values():
            conn.execute(ddl)
        ws.set_meta(conn, STATE_KEY, token)
        ws.set_meta(conn, VERSION_KEY, str(schema.VERSION))


def ensure_current(ws: Workspace) -> bool:
    """Rebuild the stored graph if the workspace changed since; True if it did."""
    if is_current(ws):
        return False
    rebuild(ws)
    return True


def load_graph(ws: Workspace) -> nx.MultiDiGraph:
    """The whole graph: rebuilt only if the workspace changed, else read from the tables.

    Nodes are keyed by uid with attribute `label` and their properties; edges are keyed
    by uid with attribute `type` and their properties. `graph.graph["state_token"]` is
    the workspace state it was built from, `graph.graph["rebuilt"]` whether this call built it.
    """
    g = nx.MultiDiGraph()
    with gc_paused():
        if is_current(ws):
            read = _PropsReader()
            for uid, label, props in ws.conn.execute("SELECT uid, label, props FROM graph_nodes"):
                _add_node(g, uid, label, read(props))
            for uid, rel_type, src, dst, props in ws.conn.execute(
                    "SELECT uid, type, src, dst, props FROM graph_edges"):
                _add_edge(g, uid, rel_type, src, dst, read(props))
            rebuilt = False
        else:
            rebuild(ws, g)
            rebuilt = True
    g.graph.update(state_token=ws.get_meta(STATE_KEY), rebuilt=rebuilt)
    return g


def load_compact(ws: Workspace) -> CompactGraph:
    """The whole graph as the risk queries read it (graph/compact.py): arrays, properties
    decoded on first use. Rebuilt first only if the workspace changed."""
    ensure_current(ws)
    with gc_paused():
        return CompactGraph(ws.conn.execute("SELECT uid, label, props FROM graph_nodes"),
                            ws.conn.execute("SELECT uid, type, src, dst, props FROM graph_edges"))


def _hubs(conn: sqlite3.Connection, uids: set[str], max_degree: int) -> set[str]:
    """The nodes among `uids` with more than `max_degree` relationships (either direction)."""
    degree: dict[str, int] = {}
    for chunk in _chunks(sorted(uids)):
        marks = ",".join("?" * len(chunk))
        for col in ("src", "dst"):
            for uid, n in conn.execute(f"SELECT {col}, count(*) FROM graph_edges "
                                       f"WHERE {col} IN ({marks}) GROUP BY {col}", chunk):
                degree[uid] = degree.get(uid, 0) + n
    return {u for u, n in degree.items() if n > max_degree}


def _chunks(items: Iterable[str], size: int = _IN_CHUNK) -> Iterable[list[str]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def neighbourhood(ws: Workspace, uids: Iterable[str], hops: int = 2,
                  max_degree: int | None = None) -> nx.MultiDiGraph:
    """The nodes within `hops` steps of `uids` (either direction) and every edge between them.

    Reads only those rows of the tables, so a one-child profile on a large county does
    not load the whole graph. The tables are rebuilt first if the workspace changed.
    With `max_degree`, a node beyond the start with more relationships than that (a police
    station where thousands of events happened, a school) is included but not stepped through.
    """
    ensure_current(ws)
    conn = ws.conn
    seen: set[str] = set(uids)
    frontier = set(seen)
    edges: dict[str, tuple[str, str, str, str]] = {}
    for hop in range(hops):
        if max_degree is not None and hop:     # the starting nodes are always stepped from
            frontier -= _hubs(conn, frontier, max_degree)
        found: set[str] = set()
        for chunk in _chunks(frontier):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                    f"SELECT uid, type, src, dst, props FROM graph_edges WHERE src IN ({marks}) "
                    f"UNION SELECT uid, type, src, dst, props FROM graph_edges WHERE dst IN ({marks})",
                    chunk + chunk):
                edges[row[0]] = row[1:]
                found.update((row[2], row[3]))
        frontier = found - seen
        seen |= found
        if not frontier:
            break
    # Edges between two nodes both at the last hop were not read from either side yet.
    for chunk in _chunks(frontier):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
                f"SELECT uid, type, src, dst, props FROM graph_edges WHERE src IN ({marks})", chunk):
            if row[3] in seen:
                edges[row[0]] = row[1:]
    g = nx.MultiDiGraph()
    for chunk in _chunks(sorted(seen)):
        marks = ",".join("?" * len(chunk))
        for uid, label, props in conn.execute(
                f"SELECT uid, label, props FROM graph_nodes WHERE uid IN ({marks})", chunk):
            _add_node(g, uid, label, orjson.loads(props))
    for uid, (rel_type, src, dst, props) in edges.items():
        if src in seen and dst in seen:
            _add_edge(g, uid, rel_type, src, dst, orjson.loads(props))
    return g
