"""The embedded graph store (the default): networkx, persisted in the workspace SQLite.

The graph is kept in two tables beside the records it is built from (docs/graph.md):
`graph_nodes(uid, label, props, hash)` and `graph_edges(uid, type, src, dst, props, hash)`,
props as JSON text, no pickle, `hash` the item's content hash. `meta.graph_state` holds
the workspace's state token at build time; when the token has moved, `build` brings the
tables up to date, rewriting only the rows whose content hash changed, and otherwise
they are read as they are. `neighbourhood` reads only the k-hop neighbourhood through the
src/dst indexes. `load_compact` reads the whole graph from a file beside the database
when that was made from the tables as they are (graph/compact_file.py).
"""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, TypeVar

import networkx as nx
import numpy as np
import orjson

from kglink.graph import compact_file, schema
from kglink.graph.build import (LINK_KIND_OF_TYPE, BuildContext, GraphItem, GraphNode,
                                GraphRel, Part, flag_uid, iter_graph, iter_nodes, iter_part,
                                iter_relationships, record_uid)
from kglink.graph.compact import CompactGraph
from kglink.graph.compact_file import Changes
from kglink.linkage.entities import Membership, source_key
from kglink.memory import gc_paused
from kglink.parallel import produced_elsewhere, workers
from kglink.workspace import Workspace
from kglink.workspace.store import CACHE_KIB, DB_NAME

STATE_KEY = "graph_state"
VERSION_KEY = "graph_version"
BASIS_KEY = "graph_basis"     # "<newest load id>:<unloads>" the tables were built from
BUILD_KEY = "graph_build"     # a new random id at every build: what the compact file is of
T = TypeVar("T")
_BATCH = 5000
_IN_CHUNK = 500     # SQLite's default limit on host parameters is far above this

_TABLES = """
CREATE TABLE IF NOT EXISTS graph_nodes (
    uid TEXT NOT NULL, label TEXT NOT NULL, props TEXT NOT NULL, hash INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS graph_edges (
    uid TEXT NOT NULL, type TEXT NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,
    props TEXT NOT NULL, hash INTEGER NOT NULL);
"""
# What a build keeps for the next one to find what changed since: the membership of every
# active person and address record it used, and the link rows that dangled (an end not an
# active record: the next build tries them again, an end may have come since).
_KEPT = """
CREATE TABLE IF NOT EXISTS graph_members (
    kind TEXT NOT NULL, key TEXT NOT NULL, entity_id TEXT NOT NULL, probability REAL NOT NULL,
    PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS graph_dangling (
    kind TEXT NOT NULL, agency TEXT NOT NULL, key TEXT NOT NULL,
    PRIMARY KEY (kind, agency, key)) WITHOUT ROWID;
"""
_INDEXES = {
    "graph_nodes_uid": "CREATE UNIQUE INDEX IF NOT EXISTS graph_nodes_uid ON graph_nodes (uid)",
    "graph_edges_uid": "CREATE UNIQUE INDEX IF NOT EXISTS graph_edges_uid ON graph_edges (uid)",
    "graph_edges_src": "CREATE INDEX IF NOT EXISTS graph_edges_src ON graph_edges (src)",
    "graph_edges_dst": "CREATE INDEX IF NOT EXISTS graph_edges_dst ON graph_edges (dst)",
    "graph_nodes_label": "CREATE INDEX IF NOT EXISTS graph_nodes_label ON graph_nodes (label)",
}
# A full build writes millions of rows keyed by hashes, i.e. in random order for every
# B-tree. It drops both tables (deleting millions of indexed rows one by one cost as much
# as writing them), writes the rows into bare tables, and builds each index, the unique
# ones on uid included, in one sorted pass at the end; all in one transaction.
# (Workspaces written before had uid as PRIMARY KEY, and before that no hash column; the
# first build gives them these tables.)
#
# Any later build is incremental, and normally changed-only (`_build_changed`): it makes
# again only the items whose inputs changed since the last build (the records a load
# changed since, the records whose entity membership changed against the copy that build
# kept, their entities old and new, every relationship of those and of the changed events
# and flags, the link rows that dangled) and rewrites those of them whose content hash
# differs. After an unload (it puts older rows back), or on tables from before that copy,
# the whole graph is streamed again instead (iter_graph): each row's content hash (a
# 64-bit BLAKE2b of everything stored in the row) is looked up among the stored ones, and
# only rows not found are written; stored rows the stream did not produce again are
# deleted. A row whose content changed has a new hash, so it is both. Either way the
# result is the same set of rows a full build writes (tests/test_graph_incremental.py).

# How many times this process has built a graph: lets tests see that a load was a read.
build_count = 0


@dataclass
class GraphBuild:
    """What one build of the tables did."""
    full: bool                      # everything (re)written
    nodes: int = 0                  # in the graph now
    relationships: int = 0
    nodes_written: int = 0          # added or changed
    relationships_written: int = 0
    nodes_deleted: int = 0          # gone or changed (a changed row is deleted and written)
    relationships_deleted: int = 0
    changed_only: bool = False      # only the items whose inputs changed were made again
    items_made: int = 0             # how many items this build made (all of them, unless
                                    # changed_only)
    changes: Changes | None = None  # what a changed-only build deleted and wrote


# The last build this process made (for the nightly run's summary and the benchmarks).
last_build: GraphBuild | None = None


def _ensure_schema(conn: sqlite3.Connection) -> None:
    """The graph tables and indexes, one statement at a time inside the caller's
    transaction (executescript would commit whatever transaction is open first)."""
    for ddl in (_TABLES + _KEPT).split(";"):
        if ddl.strip():
            conn.execute(ddl)
    for ddl in _INDEXES.values():
        conn.execute(ddl)


def _basis(ws: Workspace) -> str:
    """What the graph is built from, as far as a changed-only build needs to know."""
    newest = ws.conn.execute("SELECT COALESCE(MAX(load_id), 0) FROM loads").fetchone()[0]
    unloads = ws.conn.execute("SELECT COUNT(*) FROM unloads").fetchone()[0]
    return f"{newest}:{unloads}"


def _dumps(props: dict[str, Any]) -> bytes:
    """Compact JSON with sorted keys (orjson: about 8 times faster than json.dumps here)."""
    return orjson.dumps(props, option=orjson.OPT_SORT_KEYS)


def _content_key(parts: tuple[str, ...], props: bytes) -> int:
    """The row's content hash: every column of it, as a signed 64-bit SQLite integer.
    (Hashing the JSON the row stores costs about a quarter of hashing the item's repr.)"""
    h = hashlib.blake2b(props, digest_size=8)
    h.update("\x1f".join(parts).encode())
    return int.from_bytes(h.digest(), "big", signed=True)


def _row(parts: tuple[str, ...], props: dict[str, Any]) -> tuple[Any, ...]:
    """The stored row of an item: its columns, its props as JSON text, its content hash."""
    raw = _dumps(props)
    return (*parts, raw.decode(), _content_key(parts, raw))


def _item_row(item: GraphItem) -> tuple[str, tuple[Any, ...]]:
    """The table an item goes to, and its row there."""
    if type(item) is GraphNode:
        return "graph_nodes", _row((item.uid, item.label), item.props)
    assert isinstance(item, GraphRel)
    return "graph_edges", _row((item.uid, item.type, item.start, item.end), item.props)


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


def _can_update(ws: Workspace) -> bool:
    """The stored tables can be brought up to date row by row: built by this builder
    version, with content hashes."""
    if ws.get_meta(STATE_KEY) is None or ws.get_meta(VERSION_KEY) != str(schema.VERSION):
        return False
    return all("hash" in {r[1] for r in ws.conn.execute(f"PRAGMA table_info({t})")}
               for t in ("graph_nodes", "graph_edges"))


class _Stored:
    """The content hashes of one table's rows before this build (sorted, with their
    rowids, 16 bytes a row), and which of them the new stream produced again."""

    def __init__(self, conn: sqlite3.Connection, table: str) -> None:
        rows = np.fromiter(conn.execute(f"SELECT hash, rowid FROM {table}"),
                           dtype=[("hash", np.int64), ("rowid", np.int64)])
        rows.sort(order="hash")
        self.hashes, self.rowids = rows["hash"], rows["rowid"]
        self.seen = np.zeros(len(rows), dtype=bool)

    def known(self, keys: np.ndarray) -> np.ndarray:
        """Which of `keys` are stored already (and mark them seen)."""
        if not len(self.hashes):
            return np.zeros(len(keys), dtype=bool)
        at = np.minimum(np.searchsorted(self.hashes, keys), len(self.hashes) - 1)
        found = self.hashes[at] == keys
        self.seen[at[found]] = True
        return found

    def gone(self) -> list[int]:
        """Rowids of the stored rows the stream did not produce again, in order."""
        return sorted(self.rowids[~self.seen].tolist())


class _Writer:
    """Rows of one table, written in batches: all of them (a full build, `stored` None),
    or only those whose content hash is not among the stored ones."""

    def __init__(self, conn: sqlite3.Connection, table: str, width: int,
                 stored: _Stored | None) -> None:
        self.conn, self.stored, self.count, self.written = conn, stored, 0, 0
        self.sql = f"INSERT INTO {table} VALUES ({','.join('?' * width)})"
        self.pending: list[tuple[Any, ...]] = []

    def add(self, row: tuple[Any, ...]) -> None:
        """A row as `_row` makes it (its content hash last)."""
        self.pending.append(row)
        if len(self.pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        rows, self.pending = self.pending, []
        self.count += len(rows)
        if self.stored is not None and rows:
            known = self.stored.known(np.fromiter((r[-1] for r in rows), np.int64, len(rows)))
            rows = [r for r, k in zip(rows, known.tolist()) if not k]
        self.conn.executemany(self.sql, rows)
        self.written += len(rows)


def build(ws: Workspace, *, full: bool = False) -> GraphBuild:
    """Bring the tables up to date in one transaction: only the items whose inputs changed
    are made again and only changed rows written, unless `full` or the stored tables
    cannot be updated row by row (never built, another builder version, no content hashes;
    after an unload the whole graph is streamed again, changed rows still written alone)."""
    global build_count, last_build
    # A forked child reads what is committed: not when this is part of a caller's
    # transaction (a build inside one lands with it or not at all, the tables included).
    apart = not ws.conn.in_transaction and workers() > 1
    since, made = ws.get_meta(BUILD_KEY), secrets.token_hex(8)
    with gc_paused(), ws.transaction() as conn:
        _ensure_schema(conn)
        if full or not _can_update(ws):
            done = _build_full(ws, conn, apart)
        elif (kept := ws.get_meta(BASIS_KEY)) is not None and _same_unloads(kept, _basis(ws)):
            done = _build_changed(ws, conn, int(kept.split(":")[0]))
        else:
            done = _build_streamed(ws, conn)
        ws.set_meta(conn, STATE_KEY, ws.state_token())
        ws.set_meta(conn, VERSION_KEY, str(schema.VERSION))
        ws.set_meta(conn, BASIS_KEY, _basis(ws))
        ws.set_meta(conn, BUILD_KEY, made)
    if done.changes is not None:
        done.changes.since, done.changes.made = since, made
    build_count += 1
    last_build = done
    return done


def _same_unloads(kept: str, now: str) -> bool:
    return kept.split(":")[1] == now.split(":")[1]


def rebuild(ws: Workspace) -> GraphBuild:
    """Rebuild the tables from nothing in one transaction."""
    return build(ws, full=True)


def _node_rows(ws: Workspace) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """The graph's nodes in `iter_graph` order, as (table, a batch of its rows), then the
    memberships the build keeps for the next one."""
    ctx = BuildContext(ws)
    yield from _batched("graph_nodes", (_item_row(node)[1] for node in iter_nodes(ws, ctx)), _BATCH)
    members = ((kind, k, m.entity_id, m.probability)
               for kind, memberships in (("person", ctx.people), ("address", ctx.addresses))
               for k, m in memberships.items())
    yield from _batched("graph_members", members, _BATCH * 4)


def _edge_rows(ws: Workspace) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """The graph's relationships in `iter_graph` order, as (table, a batch of its rows),
    then the link rows that dangled. Made without the nodes (`iter_relationships`)."""
    ctx = BuildContext(ws)
    yield from _batched("graph_edges", (_item_row(rel)[1] for rel in iter_relationships(ws, ctx)), _BATCH)
    yield "graph_dangling", ctx.dangling


def _batched(table: str, rows: Iterable[tuple[Any, ...]], size: int
             ) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    return ((table, batch) for batch in _chunks(rows, size))


def _reader(ws: Workspace) -> Workspace:
    """The workspace on a read-only connection of its own (for a forked child: a
    connection must never be used by two processes)."""
    conn = sqlite3.connect(f"{(ws.path / DB_NAME).resolve().as_uri()}?mode=ro", uri=True,
                           isolation_level=None)
    conn.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
    return Workspace(ws.path, conn)


_INSERT = {"graph_nodes": "INSERT INTO graph_nodes VALUES (?,?,?,?)",
           "graph_edges": "INSERT INTO graph_edges VALUES (?,?,?,?,?,?)",
           "graph_members": "INSERT INTO graph_members VALUES (?,?,?,?)",
           "graph_dangling": "INSERT INTO graph_dangling VALUES (?,?,?)"}


def _build_full(ws: Workspace, conn: sqlite3.Connection, apart: bool) -> GraphBuild:
    """Write every row into bare tables, then index them. With `apart`, the rows are made
    in two forked children, the nodes in one and the relationships in the other
    (`parallel.produced_elsewhere`), while this process writes them: at 1M records making
    the rows took three times as long as writing them, so a single maker kept the writer
    waiting."""
    conn.execute("DROP TABLE IF EXISTS graph_edges")
    conn.execute("DROP TABLE IF EXISTS graph_nodes")
    for ddl in _TABLES.split(";"):
        if ddl.strip():
            conn.execute(ddl)
    conn.execute("DELETE FROM graph_members")
    conn.execute("DELETE FROM graph_dangling")
    # Nodes and relationships go to tables of their own and are made apart (the
    # relationships need only a few fields of what the nodes are made from), each table's
    # rows in `iter_graph` order: with `apart`, in two forked children at once.
    batches = (produced_elsewhere(lambda: _node_rows(_reader(ws)), lambda: _edge_rows(_reader(ws))) if apart
               else chain(_node_rows(ws), _edge_rows(ws)))
    count = dict.fromkeys(_INSERT, 0)
    for table, rows in batches:
        conn.executemany(_INSERT[table], rows)
        count[table] += len(rows)
    for ddl in _INDEXES.values():
        conn.execute(ddl)
    nodes, edges = count["graph_nodes"], count["graph_edges"]
    return GraphBuild(True, nodes, edges, nodes, edges, items_made=nodes + edges)


def _build_streamed(ws: Workspace, conn: sqlite3.Connection) -> GraphBuild:
    """Stream the whole graph and write the rows whose hash is not stored (after an
    unload); delete the stored rows the stream did not produce again."""
    stored = {t: _Stored(conn, t) for t in ("graph_nodes", "graph_edges")}
    into = {t: f"temp.{t}_new" for t in stored}
    for table, staging in into.items():   # changed rows wait here until the stale go
        conn.execute(f"DROP TABLE IF EXISTS {staging}")
        conn.execute(f"CREATE TEMP TABLE {table}_new AS SELECT * FROM {table} WHERE 0")
    writers = {t: _Writer(conn, into[t], 4 if t == "graph_nodes" else 6, stored[t])
               for t in stored}
    ctx = BuildContext(ws)
    for item in iter_graph(ws, ctx=ctx):
        table, row = _item_row(item)
        writers[table].add(row)
    for writer in writers.values():
        writer.flush()
    nodes, edges = writers["graph_nodes"], writers["graph_edges"]
    done = GraphBuild(False, nodes.count, edges.count, nodes.written, edges.written,
                      items_made=nodes.count + edges.count)
    # Stale rows go first, so that no new row can take the rowid of one still to go.
    gone = {t: s.gone() for t, s in stored.items()}
    for table, staging in into.items():
        conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", ((r,) for r in gone[table]))
        conn.execute(f"INSERT INTO {table} SELECT * FROM {staging}")
        conn.execute(f"DROP TABLE {staging}")
    done.nodes_deleted, done.relationships_deleted = len(gone["graph_nodes"]), len(gone["graph_edges"])
    conn.execute("DELETE FROM graph_members")
    for kind, memberships in (("person", ctx.people), ("address", ctx.addresses)):
        conn.executemany(_INSERT["graph_members"],
                         ((kind, k, m.entity_id, m.probability) for k, m in memberships.items()))
    conn.execute("DELETE FROM graph_dangling")
    conn.executemany(_INSERT["graph_dangling"], ctx.dangling)
    return done


def _changed_records(conn: sqlite3.Connection, since: int) -> dict[str, set[tuple[str, str]]]:
    """(agency, key) of every record a load changed, added or withdrew after load `since`."""
    out: dict[str, set[tuple[str, str]]] = {}
    for kind, agency, key in conn.execute(
            "SELECT kind, agency, key FROM records WHERE changed_load > ?", (since,)):
        out.setdefault(kind, set()).add((agency, key))
    return out


def _link_row(conn: sqlite3.Connection, kind: str, source: str) -> tuple[str, str] | None:
    """The link row a relationship's `source` (`build.link_source`: agency, file, key)
    names: the file and the key are told apart by the file the record was read from."""
    agency, _, rest = source.partition(":")
    at = rest.find(":")
    while at >= 0:
        key = rest[at + 1:]
        row = conn.execute("SELECT source_file FROM records WHERE kind = ? AND agency = ? "
                           "AND key = ?", (kind, agency, key)).fetchone()
        if row is not None and row[0] == rest[:at]:
            return agency, key
        at = rest.find(":", at + 1)
    return None


def _stored_rows(conn: sqlite3.Connection, uids: Iterable[str]) -> dict[str, int]:
    """uid -> content hash of these nodes, those stored."""
    out: dict[str, int] = {}
    for chunk in _chunks(sorted(uids)):
        marks = ",".join("?" * len(chunk))
        out.update(conn.execute(f"SELECT uid, hash FROM graph_nodes WHERE uid IN ({marks})", chunk))
    return out


def _touching(conn: sqlite3.Connection, uids: Iterable[str]) -> dict[str, tuple[str, int, str]]:
    """uid -> (type, content hash, props) of every stored relationship touching these nodes."""
    out: dict[str, tuple[str, int, str]] = {}
    for chunk in _chunks(sorted(uids)):
        marks = ",".join("?" * len(chunk))
        for uid, rel_type, h, props in conn.execute(
                f"SELECT uid, type, hash, props FROM graph_edges WHERE src IN ({marks}) "
                f"UNION SELECT uid, type, hash, props FROM graph_edges WHERE dst IN ({marks})",
                chunk + chunk):
            out[uid] = (rel_type, h, props)
    return out


def _build_changed(ws: Workspace, conn: sqlite3.Connection, since: int) -> GraphBuild:
    """Make again only the items whose inputs changed since the build made after load
    `since`, and write those whose content changed: the same rows a full build writes."""
    changed = _changed_records(conn, since)
    ctx = BuildContext(ws)
    now = {"person": ctx.people, "address": ctx.addresses}
    kept: dict[str, dict[str, Membership]] = {"person": {}, "address": {}}
    for kind, key, eid, p in conn.execute("SELECT kind, key, entity_id, probability FROM graph_members"):
        kept[kind][key] = Membership(eid, p)
    # Records whose membership changed, or which changed themselves.
    moved = {kind: {k for k, m in now[kind].items() if kept[kind].get(k) != m}
             | {k for k in kept[kind] if k not in now[kind]} for kind in now}
    touched: dict[str, set[str]] = {kind: moved[kind] | {source_key(a, k) for a, k in changed.get(kind, ())}
                                    for kind in now}
    # The link rows that changed: their ends old and new (their key holds their ends).
    events: set[str] = {record_uid("Event", source_key(a, k)) for a, k in changed.get("event", ())}
    reached: set[str] = set()     # the events of changed link rows (not made again)
    flags: set[str] = set()
    ends = {"person_id": "person", "other_person_id": "person", "address_id": "address"}
    for kind in LINK_KIND_OF_TYPE.values():
        for agency, key in changed.get(kind, ()):
            source_file, data = conn.execute(
                "SELECT source_file, data FROM records WHERE kind = ? AND agency = ? AND key = ?",
                (kind, agency, key)).fetchone()
            d = orjson.loads(data)
            for name, end_kind in ends.items():
                if d.get(name) is not None:
                    touched[end_kind].add(source_key(agency, d[name]))
            if d.get("event_id") is not None:
                reached.add(record_uid("Event", source_key(agency, d["event_id"])))
            if kind == "flag":    # the flag's node, as it is and as it was before
                files = {source_file} | {f for (f,) in conn.execute(
                    "SELECT source_file FROM superseded WHERE kind = 'flag' AND agency = ? "
                    "AND key = ? AND load_id > ?", (agency, key, since))}
                flags |= {flag_uid(f"{agency}:{f}:{key}") for f in files}
    entities = {kind: {kept[kind][k].entity_id for k in touched[kind] if k in kept[kind]}
                | {now[kind][k].entity_id for k in touched[kind] if k in now[kind]} for kind in now}
    members: dict[str, dict[str, list[tuple[str, str]]]] = {kind: {} for kind in now}
    for kind, memberships in now.items():
        wanted, into = entities[kind], members[kind]
        for k, m in memberships.items():
            if m.entity_id in wanted:
                into.setdefault(m.entity_id, []).append(tuple(k.split(":", 1)))  # type: ignore[arg-type]
    records = {kind: {record_uid(label, source_key(a, k)) for a, k in changed.get(kind, ())}
               for kind, label in (("person", "PersonRecord"), ("address", "AddressRecord"))}
    node_uids = entities["person"] | entities["address"] | records["person"] | records["address"] \
        | events | flags
    old_nodes = _stored_rows(conn, node_uids)
    old_edges = _touching(conn, node_uids | reached)
    # Every relationship touching those is made again from its link row (RESOLVED_AS from
    # the records of the entities made again), and every link row that changed or dangled.
    links: dict[str, set[tuple[str, str]]] = {kind: set(changed.get(kind, ()))
                                               for kind in LINK_KIND_OF_TYPE.values()}
    for kind, agency, key in conn.execute("SELECT kind, agency, key FROM graph_dangling"):
        links[kind].add((agency, key))
    for rel_type, _, props in old_edges.values():
        kind = LINK_KIND_OF_TYPE.get(rel_type)
        if kind is not None and (row := _link_row(conn, kind, orjson.loads(props)["source"])):
            links[kind].add(row)

    def stored_dob(eid: str) -> str | None:
        row = conn.execute("SELECT props FROM graph_nodes WHERE uid = ?", (eid,)).fetchone()
        return orjson.loads(row[0]).get("dob") if row is not None else None

    ctx.dangling.clear()
    part = Part({k: changed.get(k, set()) for k in ("person", "address", "event", "flag")},
                members, links, stored_dob)
    new_nodes: dict[str, tuple[Any, ...]] = {}
    new_edges: dict[str, tuple[Any, ...]] = {}
    for item in iter_part(ws, part, ctx):
        table, row = _item_row(item)
        (new_nodes if table == "graph_nodes" else new_edges)[item.uid] = row
    made = len(new_nodes) + len(new_edges)
    # Write only what differs from what is stored.
    gone_nodes = [u for u, h in old_nodes.items() if u not in new_nodes or new_nodes[u][-1] != h]
    gone_edges = [u for u, (_, h, _) in old_edges.items()
                  if u not in new_edges or new_edges[u][-1] != h]
    put_nodes = [r for u, r in new_nodes.items() if old_nodes.get(u) != r[-1]]
    put_edges = [r for u, r in new_edges.items() if u not in old_edges or old_edges[u][1] != r[-1]]
    conn.executemany("DELETE FROM graph_nodes WHERE uid = ?", ((u,) for u in gone_nodes))
    conn.executemany("DELETE FROM graph_edges WHERE uid = ?", ((u,) for u in gone_edges))
    conn.executemany("INSERT INTO graph_nodes VALUES (?,?,?,?)", put_nodes)
    conn.executemany("INSERT INTO graph_edges VALUES (?,?,?,?,?,?)", put_edges)
    # What the next build compares with.
    for kind in now:
        conn.executemany("DELETE FROM graph_members WHERE kind = ? AND key = ?",
                         ((kind, k) for k in moved[kind]))
        conn.executemany("INSERT INTO graph_members VALUES (?,?,?,?)",
                         ((kind, k, now[kind][k].entity_id, now[kind][k].probability)
                          for k in moved[kind] if k in now[kind]))
    conn.executemany("DELETE FROM graph_dangling WHERE kind = ? AND agency = ? AND key = ?",
                     ((kind, a, k) for kind, rows in links.items() for a, k in rows))
    conn.executemany("INSERT INTO graph_dangling VALUES (?,?,?)", ctx.dangling)
    count = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
             for t in ("graph_nodes", "graph_edges")}
    changes = Changes(node_uids | reached, gone_nodes, gone_edges, [r[:3] for r in put_nodes],
                      [r[:5] for r in put_edges])
    return GraphBuild(False, count["graph_nodes"], count["graph_edges"], len(put_nodes),
                      len(put_edges), len(gone_nodes), len(gone_edges), changed_only=True,
                      items_made=made, changes=changes)


def ensure_current(ws: Workspace) -> bool:
    """Bring the stored graph up to date if the workspace changed since; True if it did."""
    if is_current(ws):
        return False
    build(ws)
    return True


def load_graph(ws: Workspace) -> nx.MultiDiGraph:
    """The whole graph: built (`build`) only if the workspace changed, else read from the tables.

    Nodes are keyed by uid with attribute `label` and their properties; edges are keyed
    by uid with attribute `type` and their properties. `graph.graph["state_token"]` is
    the workspace state it was built from, `graph.graph["rebuilt"]` whether this call built it.
    """
    g = nx.MultiDiGraph()
    with gc_paused():
        rebuilt = ensure_current(ws)
        read = _PropsReader()
        for uid, label, props in ws.conn.execute("SELECT uid, label, props FROM graph_nodes"):
            _add_node(g, uid, label, read(props))
        for uid, rel_type, src, dst, props in ws.conn.execute(
                "SELECT uid, type, src, dst, props FROM graph_edges"):
            _add_edge(g, uid, rel_type, src, dst, read(props))
    g.graph.update(state_token=ws.get_meta(STATE_KEY), rebuilt=rebuilt)
    return g


def load_compact(ws: Workspace) -> CompactGraph:
    """The whole graph as the risk queries read it (graph/compact.py): arrays, properties
    decoded on first use. Brought up to date first only if the workspace changed.

    Read from the file beside the database (graph/compact_file.py) when it was made from
    the tables as they are: a few big reads rather than millions of rows. Else, after a
    changed-only build in this process, the file of the tables before it is brought up to
    date from what that build deleted and wrote; else the tables are read, and the file
    written from what was read."""
    ensure_current(ws)
    path = ws.path / compact_file.FILE_NAME
    stamp = {"build": ws.get_meta(BUILD_KEY), "state": ws.get_meta(STATE_KEY),
             "version": ws.get_meta(VERSION_KEY)}
    with gc_paused():
        if stamp["build"] is None:      # built by an older kglink: no file is of these tables
            return _read_compact(ws)
        changes = last_build.changes if last_build is not None else None
        graph = compact_file.read(path, stamp) or (
            compact_file.updated(path, stamp, changes) if changes is not None else None)
        if graph is None:
            graph = _read_compact(ws)
            compact_file.write(path, stamp, graph.parts())
        return graph


def _read_compact(ws: Workspace) -> CompactGraph:
    """The graph read from the tables, row by row in rowid order (the file's order too)."""
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


def _chunks(items: Iterable[T], size: int = _IN_CHUNK) -> Iterator[list[T]]:
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
