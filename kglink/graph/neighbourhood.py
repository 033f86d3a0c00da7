"""A research pack's neighbourhood, read in place from the compact graph.

`CompactGraph.neighbourhood` copies a child's neighbourhood (three steps out: at 1M
records often thousands of nodes and relationships) into a networkx graph, decoding every
property on the way, and the pack then reads a few dozen of them: the copy was two thirds
of the first night's report. `Neighbourhood` finds the same nodes and relationships
(`CompactGraph._reach`) and decodes only what is read, giving the answers the networkx
copy gives, in its order, in the terms queries.view reads a store in. What a pack does
with the properties it is given stays in the pack, as with the copy: each node's and
relationship's are decoded afresh for it, never the shared graph's own.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from kglink.graph import schema

if TYPE_CHECKING:
    from kglink.graph.compact import CompactGraph

Edge = tuple[str, dict[str, Any]]
# A node's relationships one way: (other end, relationship number), in networkx's order.
_Row = list[tuple[int, int]]


class Neighbourhood:
    """The nodes within `hops` steps of `uids` (a node beyond the start with more than
    `max_degree` relationships included but not stepped through) and every relationship
    between them: `CompactGraph.neighbourhood`'s subgraph without the copy."""

    def __init__(self, graph: CompactGraph, uids: list[str], hops: int, max_degree: int | None) -> None:
        self.graph = graph
        self.seen, self.edges = graph._reach(uids, hops, max_degree)
        # networkx keeps relationships in the order they were added (that of `edges`).
        self._rank = {e: n for n, e in enumerate(self.edges.values())}
        self._props: dict[int, dict[str, Any]] = {}
        self._data: dict[int, dict[str, Any]] = {}
        self._rows: dict[tuple[int, str], _Row] = {}

    def _number(self, uid: object) -> int:
        i = self.graph.index.get(uid, -1)  # type: ignore[call-overload]
        return i if i in self.seen else -1  # type: ignore[no-any-return]

    def __contains__(self, uid: object) -> bool:
        return self._number(uid) >= 0

    def by_label(self, label: str) -> list[str]:
        uids, labels = self.graph.uids, self.graph.labels
        return sorted(uids[i] for i in self.seen if labels[i] == label)

    def props(self, uid: str) -> dict[str, Any]:
        i = self._number(uid)
        if i < 0:
            raise KeyError(uid)
        got = self._props.get(i)
        if got is None:
            got = self._props[i] = self.graph.props_copy(i)
        return got

    def label(self, uid: str) -> str:
        i = self._number(uid)
        if i < 0:
            raise KeyError(uid)
        return self.graph.labels[i]

    def _edge(self, e: int) -> dict[str, Any]:
        got = self._data.get(e)
        if got is None:
            got = self._data[e] = {schema.TYPE_ATTR: self.graph.edge_types[e],
                                   **orjson.loads(self.graph._edge_json[e])}
        return got

    def _row(self, i: int, way: str) -> _Row:
        """Node `i`'s relationships out of it ("out") or into it ("in") in the subgraph, as
        networkx holds them: by the node at the other end in the order of its first
        relationship added, then in the order added."""
        got = self._rows.get((i, way))
        if got is None:
            rank, seen = self._rank, self.seen
            mine = sorted((rank[e], o, e) for e, o in self.graph.ends(i, way) if e in rank and o in seen)
            first: dict[int, int] = {}
            for r, o, _ in mine:
                first.setdefault(o, r)
            got = self._rows[(i, way)] = [(o, e) for _, o, e in sorted(mine, key=lambda t: (first[t[1]], t[0]))]
        return got

    def _edges(self, uid: str, way: str, types: tuple[str, ...] | None) -> Iterator[Edge]:
        i = self._number(uid)
        if i < 0:
            return
        uids, kinds = self.graph.uids, self.graph.edge_types
        for o, e in self._row(i, way):
            if types is None or kinds[e] in types:
                yield uids[o], self._edge(e)

    def out(self, uid: str, types: tuple[str, ...] | None = None) -> Iterator[Edge]:
        return self._edges(uid, "out", types)

    def into(self, uid: str, types: tuple[str, ...] | None = None) -> Iterator[Edge]:
        return self._edges(uid, "in", types)

    def neighbours(self, uid: str) -> Iterator[str]:
        """networkx's successors, then its predecessors (each other node once per way)."""
        i = self._number(uid)
        if i < 0:
            return
        uids = self.graph.uids
        for way in ("out", "in"):
            yield from (uids[o] for o in dict.fromkeys(o for o, _ in self._row(i, way)))

    def adjacent(self, uid: str) -> Iterator[tuple[str, str]]:
        """(other node, relationship uid) of every relationship at `uid`, out then in."""
        i = self._number(uid)
        if i < 0:
            return
        uids, edge_uid = self.graph.uids, self.graph._edge_uid
        for way in ("out", "in"):
            for o, e in self._row(i, way):
                yield uids[o], edge_uid(e)

    def read_text(self, nodes: list[str], adjacency: list[tuple[str, str]]) -> list[bytes]:
        """What reading `nodes` and `adjacency` ((uid, "out" or "in")) of this subgraph
        gives, as text: each node's label and properties (or that it is not in the
        subgraph), and each node's relationships in the order the subgraph holds them,
        with their types, other ends and properties. Equal texts, equal answers: what a
        carried-over research pack is checked against (reports.carry)."""
        g, seen, index = self.graph, self.seen, self.graph.index
        out: list[bytes] = []
        for u in nodes:
            i = index.get(u, -1)
            out.append(b"N\x1f" + u.encode() + b"\x1f" + (g._node_text(i) if i in seen else b"-"))
        for u, way in adjacency:
            i = index.get(u, -1)
            out.append(b"A\x1f" + f"{u}\x1f{way}\x1f".encode()
                       + (self._held(i, way).encode() if i in seen else b"-"))
        return out

    def _held(self, i: int, way: str) -> str:
        """Node `i`'s relationships one way, in the order added, as text."""
        g, rank = self.graph, self._rank
        mine = sorted((rank[e], e, o) for e, o in g.ends(i, way) if e in rank)
        return "\x1e".join("\x1f".join((g._edge_uid(e), g.edge_types[e], g.uids[o], g._edge_json[e]))
                            for _, e, o in mine)
