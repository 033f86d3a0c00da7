"""The stored graph as the risk queries read it: adjacency in arrays, properties decoded
only when a query looks at them.

A networkx MultiDiGraph keeps a dict per node, per neighbour and per relationship, and
reading one from the workspace decodes every property of millions of rows; the queries
start from indexes (queries/view.py) and so look at a small part of the graph. Here a
node is a number: its uid, label and property JSON sit in lists, relationships in
arrays sorted by start and by end node (compressed sparse rows, built with numpy), and
the JSON of a node or relationship is decoded on first use and kept.

Both hold the same graph: `props` and the relationship data equal networkx's (label or
type included under schema.LABEL_ATTR / TYPE_ATTR). networkx stays for the research
pack's subgraphs read from the tables or Neo4j: `neighbourhood` copies one from the graph
in memory, the same as graph/embedded.py's `neighbourhood` reads from the tables, and
`around` reads the same subgraph in place (graph/neighbourhood.py), as the nightly packs do.
"""
from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import orjson

from kglink.graph import schema

if TYPE_CHECKING:
    from kglink.graph.neighbourhood import Neighbourhood

Edge = tuple[str, dict[str, Any]]


@dataclass
class Parts:
    """What a CompactGraph is made of, each list in stored order (rowid order in the tables):
    what graph/compact_file.py keeps on disk and reads back."""
    uids: list[str]
    labels: list[str]
    node_json: list[str | None]
    edge_types: list[str]
    edge_json: list[str]
    src: np.ndarray             # start node number of each relationship (int64)
    dst: np.ndarray             # end node number


class CompactGraph:
    def __init__(self, nodes: Iterator[tuple[str, str, str]],
                 edges: Iterator[tuple[str, str, str, str, str]]) -> None:
        """`nodes`: (uid, label, props JSON); `edges`: (uid, type, start uid, end uid, props JSON)."""
        uids: list[str] = []
        labels: list[str] = []
        node_json: list[str | None] = []
        for uid, label, props in nodes:
            uids.append(uid)
            labels.append(sys.intern(label))
            node_json.append(props)
        index = {u: i for i, u in enumerate(uids)}
        edge_types: list[str] = []
        edge_json: list[str] = []
        src, dst = array("q"), array("q")     # 8 bytes a number, not a Python int each
        for _uid, rel_type, start, end, props in edges:   # the uid is in the JSON too
            edge_types.append(sys.intern(rel_type))
            src.append(index[start])
            dst.append(index[end])
            edge_json.append(props)
        self._take(Parts(uids, labels, node_json, edge_types, edge_json,
                         np.frombuffer(src, dtype=np.int64), np.frombuffer(dst, dtype=np.int64)), index)

    @classmethod
    def of(cls, parts: Parts) -> CompactGraph:
        """The graph of these parts (read back from graph/compact_file.py's file)."""
        graph = cls.__new__(cls)
        graph._take(parts, {u: i for i, u in enumerate(parts.uids)})
        return graph

    def _take(self, parts: Parts, index: dict[str, int]) -> None:
        self.uids, self.labels, self._node_json = parts.uids, parts.labels, parts.node_json
        self.edge_types, self._edge_json = parts.edge_types, parts.edge_json
        self.src, self.dst, self.index = parts.src, parts.dst, index
        self._node_props: list[dict[str, Any] | None] = [None] * len(self.uids)
        self._edge_props: list[dict[str, Any] | None] = [None] * len(self.edge_types)
        self._out_at, self._out = _rows(self.src, len(self.uids))
        self._in_at, self._in = _rows(self.dst, len(self.uids))
        self._by_label: dict[str, list[str]] = {}
        self._masks: dict[frozenset[str], np.ndarray] = {}

    def parts(self) -> Parts:
        """The graph's parts as they are now (a node's JSON is None once decoded)."""
        return Parts(self.uids, self.labels, self._node_json, self.edge_types, self._edge_json,
                     self.src, self.dst)

    # --- nodes ---------------------------------------------------------------------------
    def __contains__(self, uid: object) -> bool:
        return uid in self.index

    def number_of_nodes(self) -> int:
        return len(self.uids)

    def number_of_edges(self) -> int:
        return len(self.edge_types)

    def by_label(self, label: str) -> list[str]:
        got = self._by_label.get(label)
        if got is None:
            got = self._by_label[label] = sorted(u for u, lb in zip(self.uids, self.labels) if lb == label)
        return got

    def props(self, uid: str) -> dict[str, Any]:
        return self._props(self.index[uid])

    def label(self, uid: str) -> str:
        return self.labels[self.index[uid]]

    def props_copy(self, i: int) -> dict[str, Any]:
        """Node `i`'s properties, its own copy for a research pack: what a pack does with
        them cannot reach the graph the queries share, and decoding them for a pack does
        not keep them decoded here."""
        got = self._node_props[i]
        if got is None:
            return {schema.LABEL_ATTR: self.labels[i], **orjson.loads(self._node_json[i] or "{}")}
        return _copy(got)

    def _props(self, i: int) -> dict[str, Any]:
        got = self._node_props[i]
        if got is None:
            raw = self._node_json[i]
            got = self._node_props[i] = {schema.LABEL_ATTR: self.labels[i], **orjson.loads(raw or "{}")}
            self._node_json[i] = None        # decoded once: the text is no longer needed
        return got

    # --- relationships ------------------------------------------------------------------
    def _edge(self, e: int) -> dict[str, Any]:
        got = self._edge_props[e]
        if got is None:
            got = self._edge_props[e] = {schema.TYPE_ATTR: self.edge_types[e],
                                         **orjson.loads(self._edge_json[e])}
        return got

    def out(self, uid: str, types: tuple[str, ...] | None = None) -> Iterator[Edge]:
        """(end node, relationship data) of each relationship starting at `uid`."""
        i = self.index.get(uid)
        if i is None:
            return
        kinds, ends, uids = self.edge_types, self.dst, self.uids
        for e in self._out[self._out_at[i]:self._out_at[i + 1]].tolist():
            if types is None or kinds[e] in types:
                yield uids[ends[e]], self._edge(e)

    def into(self, uid: str, types: tuple[str, ...] | None = None) -> Iterator[Edge]:
        """(start node, relationship data) of each relationship ending at `uid`."""
        i = self.index.get(uid)
        if i is None:
            return
        kinds, starts, uids = self.edge_types, self.src, self.uids
        for e in self._in[self._in_at[i]:self._in_at[i + 1]].tolist():
            if types is None or kinds[e] in types:
                yield uids[starts[e]], self._edge(e)

    def neighbours(self, uid: str) -> Iterator[str]:
        """The other node of every relationship at `uid`, either direction, decoding none."""
        i = self.index.get(uid)
        if i is None:
            return
        uids = self.uids
        yield from (uids[j] for j in self.dst[self._out[self._out_at[i]:self._out_at[i + 1]]].tolist())
        yield from (uids[j] for j in self.src[self._in[self._in_at[i]:self._in_at[i + 1]]].tolist())

    def adjacent(self, uid: str) -> Iterator[tuple[str, str]]:
        """(other node, relationship uid) of every relationship at `uid`, either direction,
        decoding none: a what-if view asks this of every node a merge touched, and decoding
        each relationship's JSON there was most of walking its neighbourhood."""
        i = self.index.get(uid)
        if i is None:
            return
        uids, edge_uid = self.uids, self._edge_uid
        for rows, ends in ((self._out[self._out_at[i]:self._out_at[i + 1]], self.dst),
                           (self._in[self._in_at[i]:self._in_at[i + 1]], self.src)):
            for e, o in zip(rows.tolist(), ends[rows].tolist()):
                yield uids[o], edge_uid(e)


    def _degree(self, i: int) -> int:
        return int(self._out_at[i + 1] - self._out_at[i] + self._in_at[i + 1] - self._in_at[i])

    def ends(self, i: int, way: str) -> list[tuple[int, int]]:
        """(relationship, node at its other end) of each relationship out of node `i`
        ("out") or into it ("in"), by number, in stored order."""
        at, rows, other = (self._out_at, self._out, self.dst) if way == "out" else (self._in_at, self._in, self.src)
        numbers = rows[at[i]:at[i + 1]]
        return list(zip(numbers.tolist(), other[numbers].tolist()))

    def neighbourhood(self, uids: list[str], hops: int = 2,
                      max_degree: int | None = None) -> nx.MultiDiGraph:
        """The nodes within `hops` steps of `uids` (either direction) and every relationship
        between them, as embedded.neighbourhood reads them from the tables: the same nodes,
        relationships and properties, added in the same order (nodes by uid; relationships
        hop by hop, by uid within a hop, those closing the last hop by start node). With
        `max_degree`, a node beyond the start with more relationships than that is included
        but not stepped through."""
        seen, edges = self._reach(uids, hops, max_degree)
        uids_of, src, dst = self.uids, self.src, self.dst
        # Each pack gets its own properties (as a read from the tables does): what a pack
        # does with them cannot reach the graph the queries share, and decoding them for
        # a pack does not keep them decoded here.
        # Made as add_node and add_edge make it, into networkx's own dicts: a pack's
        # neighbourhood is hundreds of nodes and thousands of relationships, and the calls
        # were a third of making it (tests/test_graph_compact.py holds it to the tables').
        g = nx.MultiDiGraph()
        node, succ, pred = g._node, g._succ, g._pred
        types, type_attr = self.edge_types, schema.TYPE_ATTR
        loads, edge_json = orjson.loads, self._edge_json
        for i in sorted(seen, key=uids_of.__getitem__):
            u = uids_of[i]
            node[u], succ[u], pred[u] = self.props_copy(i), {}, {}
        numbers = list(edges.values())
        starts, ends = src[numbers].tolist(), dst[numbers].tolist()
        for (uid, e), s, d in zip(edges.items(), starts, ends):
            if s in seen and d in seen:
                a, b = uids_of[s], uids_of[d]
                data = {type_attr: types[e]}
                data.update(loads(edge_json[e]))
                keys = succ[a].get(b)
                if keys is None:
                    keys = succ[a][b] = pred[b][a] = {}
                keys[uid] = data
        return g

    def around(self, uids: list[str], hops: int = 2, max_degree: int | None = None) -> Neighbourhood:
        """`neighbourhood`'s subgraph read in place, decoding only what is read
        (graph.neighbourhood): what the nightly research packs read."""
        from kglink.graph.neighbourhood import Neighbourhood

        return Neighbourhood(self, uids, hops, max_degree)

    def read_text(self, uids: list[str], hops: int, max_degree: int | None, nodes: list[str],
                  adjacency: list[tuple[str, str]]) -> list[bytes]:
        """What reading `nodes` and `adjacency` of `neighbourhood`'s subgraph gives, as
        text, without building it (Neighbourhood.read_text)."""
        return self.around(uids, hops, max_degree).read_text(nodes, adjacency)

    def _node_text(self, i: int) -> bytes:
        """A node's label and properties as JSON, keys sorted (as stored)."""
        raw = self._node_json[i]
        if raw is None:          # decoded for a query: the same JSON again
            got = self._node_props[i] or {}
            text = orjson.dumps({k: v for k, v in got.items() if k != schema.LABEL_ATTR},
                                option=orjson.OPT_SORT_KEYS)
        else:
            text = raw.encode()
        return self.labels[i].encode() + b"\x1f" + text

    def _reach(self, uids: list[str], hops: int,
               max_degree: int | None) -> tuple[set[int], dict[str, int]]:
        """The node numbers within `hops` steps and the relationships found (uid -> number,
        in the order `neighbourhood` adds them)."""
        index, uids_of, src, dst = self.index, self.uids, self.src, self.dst
        seen = {index[u] for u in uids if u in index}
        frontier = set(seen)
        edges: dict[str, int] = {}          # relationship uid -> its number, in order found
        taken: set[int] = set()             # the numbers in `edges`
        for hop in range(hops):
            if max_degree is not None and hop:     # the starting nodes are always stepped from
                frontier = {i for i in frontier if self._degree(i) <= max_degree}
            # Each relationship's uid read once, and its ends a frontier at a time (read
            # twice and element by element, they were a fifth of the next night's report);
            # not again for those found at the hop before (a node's way in: reading their
            # uids again was a tenth of the first night's report at 1M records).
            new = set(self._edges_at(frontier).tolist()) - taken
            by_uid = sorted(((self._edge_uid(e), e) for e in new), key=_first)
            for uid, e in by_uid:
                edges.setdefault(uid, e)
            taken |= new
            numbers = [e for _, e in by_uid]
            found: set[int] = set(src[numbers].tolist())
            found.update(dst[numbers].tolist())
            frontier = found - seen
            seen |= found
            if not frontier:
                break
        # Relationships between two nodes both at the last hop were not read from either
        # side: those out of its nodes (by uid) into a node found, a whole hop at a time (one
        # by one, they were a tenth of the first night's report at 1M records).
        last = np.array(sorted(frontier, key=uids_of.__getitem__), dtype=np.int64)
        outs = self._out[_spans(self._out_at, last)]
        found_mask = np.zeros(len(uids_of), dtype=bool)
        found_mask[list(seen)] = True
        for e in outs[found_mask[dst[outs]]].tolist():
            if e not in taken:
                edges.setdefault(self._edge_uid(e), e)
        return seen, edges

    def _edges_at(self, nodes: set[int]) -> np.ndarray:
        """Numbers of the relationships at `nodes`, either direction (a number twice when
        both its ends are among them)."""
        at = np.fromiter(nodes, dtype=np.int64, count=len(nodes))
        return np.concatenate((self._out[_spans(self._out_at, at)], self._in[_spans(self._in_at, at)]))

    def label_mask(self, labels: frozenset[str]) -> np.ndarray:
        """Which nodes (by number) have one of `labels`, as a boolean array."""
        got = self._masks.get(labels)
        if got is None:
            codes = {lb: i for i, lb in enumerate(sorted(set(self.labels)))}
            numbered = np.fromiter((codes[lb] for lb in self.labels), dtype=np.int16, count=len(self.labels))
            wanted = np.array([codes[lb] for lb in labels if lb in codes], dtype=np.int16)
            got = self._masks[labels] = np.isin(numbered, wanted)
        return got

    def hops_from(self, seeds: np.ndarray, hops: int, stop: np.ndarray,
                  together: list[np.ndarray] | None = None) -> np.ndarray:
        """Relationships (either direction) from `seeds` to each node, by number; -1 where
        more than `hops`. A node where `stop` is set is reached but not stepped through
        (seeds always are). `together`: groups of nodes that count as one (a what-if
        merge): reaching one of them reaches all at once. Whole frontiers at a time over
        the sparse rows: the what-if views ask this for a third of the county, and a
        Python walk node by node was most of the unconfirmed findings' time."""
        n = len(self.uids)
        group = np.full(n, -1, dtype=np.int64)
        members = together or []
        for g, nodes in enumerate(members):
            group[nodes] = g
        dist = np.full(n, -1, dtype=np.int64)
        frontier = self._with_groups(_distinct(seeds, n), group, members)
        dist[frontier] = 0
        for hop in range(1, hops + 1):
            step = frontier if hop == 1 else frontier[~stop[frontier]]
            found = np.concatenate((self.dst[self._out[_spans(self._out_at, step)]],
                                    self.src[self._in[_spans(self._in_at, step)]]))
            found = _distinct(found[dist[found] < 0], n)
            found = self._with_groups(found, group, members)
            found = found[dist[found] < 0]
            dist[found] = hop
            frontier = found
            if not len(frontier):
                break
        return dist

    @staticmethod
    def _with_groups(nodes: np.ndarray, group: np.ndarray, members: list[np.ndarray]) -> np.ndarray:
        """`nodes` and every node grouped with one of them, each once, in order."""
        hit = np.unique(group[nodes])
        hit = hit[hit >= 0]
        if not len(hit):
            return nodes
        return _distinct(np.concatenate([nodes, *(members[g] for g in hit.tolist())]), len(group))

    def _edge_uid(self, e: int) -> str:
        return edge_uid(self._edge_json[e])


def edge_uid(raw: str) -> str:
    """A relationship's uid, read from its JSON text without decoding all of it (keys
    sorted, the uid a plain hex string)."""
    at = raw.find('"uid":"')
    if at < 0:
        return orjson.loads(raw)["uid"]  # type: ignore[no-any-return]
    at += 7
    return raw[at:raw.index('"', at)]


def _first(pair: tuple[str, int]) -> str:
    return pair[0]


def _copy(props: dict[str, Any]) -> dict[str, Any]:
    """Properties are strings, numbers, booleans and lists of those."""
    return {k: v.copy() if type(v) is list else v for k, v in props.items()}


def _distinct(nodes: np.ndarray, n: int) -> np.ndarray:
    """The node numbers in `nodes` (each below `n`), each once, in order: marked in an
    array of the graph's size rather than sorted (np.unique sorted millions at 1M)."""
    marked = np.zeros(n, dtype=bool)
    marked[nodes] = True
    return np.flatnonzero(marked)


def _spans(at: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """The positions at[i]..at[i+1]-1 of every node i in `nodes`, concatenated."""
    starts, counts = at[nodes], at[nodes + 1] - at[nodes]
    offsets = np.cumsum(counts) - counts
    return np.repeat(starts - offsets, counts) + np.arange(int(counts.sum()), dtype=np.int64)


def _rows(ends: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Compressed sparse rows: relationship numbers grouped by node (in stored order
    within a node), and where each node's group starts."""
    order = np.argsort(ends, kind="stable")
    at = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=at[1:])
    return at, order
