"""The stored graph as it would be if some entities were merged, without rebuilding it.

A queued pair changes the graph only around the two entities it would join: their nodes
become one (its properties worked out again from all their records, by the same builder
as `iter_graph`), and every relationship touching them moves to that one node (a new uid,
and INVOLVED_IN says again whether the person was a child at the event). `MergedView`
lays those changes over the stored graph's view; nothing is copied.

Queries then need not start from every node: a finding that names a merged entity is
about a node (its anchor: the offender, the event) at most `REACH` relationships from it,
so `MergedView.near` restricts each query's starting nodes to the merged entities'
neighbourhood, while the query still walks the whole graph from there, and so sees
everything it would see in a rebuilt graph.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from kglink.graph import schema
from kglink.graph.build import entity_nodes, moved_rel
from kglink.graph.compact import CompactGraph
from kglink.queries.view import View
from kglink.workspace import Workspace

Edge = tuple[str, dict[str, Any]]
# Nodes with one relationship only: source records (RESOLVED_AS) and flags (HAS_FLAG).
LEAVES = frozenset({"PersonRecord", "AddressRecord", "Flag"})


class Changes:
    """What the merges change: nodes made again, nodes gone, relationships moved."""

    def __init__(self, nodes: dict[str, dict[str, Any]], gone: set[str], removed: set[str],
                 added: list[tuple[str, str, dict[str, Any]]],
                 groups: dict[str, list[str]] | None = None) -> None:
        self.nodes, self.gone, self.removed = nodes, gone, removed
        self.groups = groups or {}      # root -> the entities merged into it (root first)
        self.add_out: dict[str, list[Edge]] = defaultdict(list)
        self.add_in: dict[str, list[Edge]] = defaultdict(list)
        for s, d, data in added:
            self.add_out[s].append((d, data))
            self.add_in[d].append((s, data))
        self.dirty = set(self.add_out) | set(self.add_in) | gone
        self.labels = {p.get(schema.LABEL_ATTR) for p in nodes.values()}


class MergedView(View):
    """`base` with the `changes` of some merges laid over it. `anchors`, when given, are
    the only nodes a query starts from."""

    def __init__(self, base: View, changes: Changes, anchors: set[str] | None = None) -> None:
        self.base, self.g, self.store, self.ctx, self.ref = base, base.g, base.store, base.ctx, base.ref
        self.born_after = base.born_after
        self.changes = changes
        self._nodes, self._gone, self._removed = changes.nodes, changes.gone, changes.removed
        self._add_out, self._add_in, self._dirty = changes.add_out, changes.add_in, changes.dirty
        self.anchors = anchors
        self._labels: dict[str, list[str]] = {}
        self._indexes = {}

    def near(self, anchors: set[str]) -> "MergedView":
        """The same merged graph, its queries started only from `anchors`."""
        return MergedView(self.base, self.changes, anchors)

    # --- the View primitives, with the changes laid over the base ------------------------
    def nodes(self, label: str) -> list[str]:
        got = self._labels.get(label)
        if got is None:
            if self.anchors is None:
                got = [u for u in self.base.nodes(label) if u not in self._gone]
                extra = [u for u, p in self._nodes.items()
                         if not self.base.has(u) and p.get(schema.LABEL_ATTR) == label]
                got = sorted(got + extra) if extra else got
            else:
                got = sorted(u for u in self.anchors if self.has(u) and self.label(u) == label)
            self._labels[label] = got
        return got

    def starts(self, uids: Iterable[str]) -> list[str]:
        keep = set(uids) if self.anchors is None else set(uids) & self.anchors
        return sorted(u for u in keep if self.has(u))

    def all_where(self, label: str, prop: str, *values: Any) -> list[str]:
        """The base's index, less the merged-away nodes, the merged ones read again."""
        base = self.base.all_where(label, prop, *values)
        if label not in self.changes.labels:
            return [u for u in base if u not in self._gone] if self._gone.intersection(base) else base
        again = {u for u, p in self._nodes.items() if p.get(schema.LABEL_ATTR) == label and p.get(prop) in values}
        return sorted({u for u in base if u not in self._gone and u not in self._nodes} | again)

    def props(self, uid: str) -> dict[str, Any]:
        got = self._nodes.get(uid)
        return got if got is not None else self.base.props(uid)

    def has(self, uid: str) -> bool:
        return uid in self._nodes or (uid not in self._gone and self.base.has(uid))

    def label(self, uid: str) -> str:
        got = self._nodes.get(uid)
        return got[schema.LABEL_ATTR] if got is not None else self.base.label(uid)  # type: ignore[no-any-return]

    def out(self, uid: str, *types: str) -> Iterator[Edge]:
        yield from self._laid_over(self.base.out(uid, *types), uid, self._add_out, types)

    def into(self, uid: str, *types: str) -> Iterator[Edge]:
        yield from self._laid_over(self.base.into(uid, *types), uid, self._add_in, types)

    def all_out(self, uid: str) -> Iterator[Edge]:
        yield from self._laid_over(self.base.all_out(uid), uid, self._add_out, None)

    def all_in(self, uid: str) -> Iterator[Edge]:
        yield from self._laid_over(self.base.all_in(uid), uid, self._add_in, None)

    def neighbours(self, uid: str) -> Iterator[str]:
        if uid not in self._dirty:
            yield from self.base.neighbours(uid)
            return
        if self.base.has(uid):
            yield from (o for o, key in self.base.store.adjacent(uid) if key not in self._removed)
        yield from (o for o, _ in self._add_out.get(uid, ()))
        yield from (o for o, _ in self._add_in.get(uid, ()))

    def _laid_over(self, edges: Iterable[Edge], uid: str, added: dict[str, list[Edge]],
                   types: tuple[str, ...] | None) -> Iterator[Edge]:
        """`edges` (the base's) less those moved, plus those moved here (of `types`)."""
        if uid not in self._dirty:
            yield from edges
            return
        yield from ((o, e) for o, e in edges if e["uid"] not in self._removed)
        yield from ((o, e) for o, e in added.get(uid, ())
                    if types is None or e[schema.TYPE_ATTR] in types)

    def within(self, hops: int, seeds: Iterable[str]) -> dict[str, int]:
        """Each node at most `hops` relationships (either direction) from `seeds`, with
        how many. Source records and flags hang off their one entity: they are reached,
        not stepped through."""
        if isinstance(self.base.store, CompactGraph) and type(self.base) is View:
            return self._within_arrays(hops, seeds)
        return self._within_walk(hops, seeds)

    def _within_arrays(self, hops: int, seeds: Iterable[str]) -> dict[str, int]:
        """`within` over the stored graph's arrays. Merging entities only moves their
        relationships onto one node, so the merged graph's distances are the stored
        graph's with each group's entities counted as one node (CompactGraph.hops_from):
        the same answer as walking the merged view (tests/test_queries_whatif.py)."""
        store: CompactGraph = self.base.store
        index, seeds = store.index, list(seeds)
        present = {root: np.array([index[e] for e in eids if e in index], dtype=np.int64)
                   for root, eids in self.changes.groups.items()}
        present = {root: nodes for root, nodes in present.items() if len(nodes)}
        starts = [store.index[s] for s in seeds if s not in present and self.has(s)]
        starts += [int(i) for s in seeds if s in present for i in present[s]]
        dist = store.hops_from(np.array(starts, dtype=np.int64), hops, store.label_mask(LEAVES),
                               list(present.values()))
        reached = np.flatnonzero(dist >= 0)
        uids = store.uids
        out = {uids[i]: d for i, d in zip(reached.tolist(), dist[reached].tolist())}
        for root, nodes in present.items():
            d = int(dist[nodes[0]])
            for gone in self.changes.groups[root][1:]:
                out.pop(gone, None)
            if d >= 0:
                out[root] = d
        return out

    def _within_walk(self, hops: int, seeds: Iterable[str]) -> dict[str, int]:
        """`within`, node by node through the merged view (any base graph)."""
        dist = {s: 0 for s in seeds if self.has(s)}
        frontier = list(dist)
        for hop in range(1, hops + 1):
            nxt = []
            for u in frontier:
                for o in self.neighbours(u):
                    if o not in dist:
                        dist[o] = hop
                        if self.label(o) not in LEAVES:
                            nxt.append(o)
            frontier = nxt
        return dist


def merge(ws: Workspace, base: View, groups: dict[str, list[str]]) -> MergedView:
    """`base` with each group of entities merged into its root (the group's first id)."""
    to_root = {e: root for root, eids in groups.items() for e in eids}
    wanted = []
    for root, eids in groups.items():
        present = [e for e in eids if base.has(e)]
        if not present:          # no active record: no node in a rebuilt graph either
            continue
        label = base.props(present[0])[schema.LABEL_ATTR]
        members = [(str(e["source"]), float(e["probability"]))
                   for eid in eids for _, e in base.into(eid, "RESOLVED_AS")]
        wanted.append((label.lower(), root, members))
    nodes: dict[str, dict[str, Any]] = {}
    for (_, root, _), node in zip(wanted, entity_nodes(ws, wanted)):
        nodes[root] = {schema.LABEL_ATTR: node.label, **node.props}
    touching: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for e in to_root:
        for o, data in base.all_out(e):
            touching[data["uid"]] = (e, o, data)
        for o, data in base.all_in(e):
            touching[data["uid"]] = (o, e, data)
    added = []
    for s, d, data in touching.values():
        start, end = to_root.get(s, s), to_root.get(d, d)
        rel_type = data[schema.TYPE_ATTR]
        props = {k: v for k, v in data.items() if k != schema.TYPE_ATTR}
        person = nodes.get(start) or (base.props(start) if base.has(start) else {})
        event_at = base.props(end).get("occurred_at") if rel_type == "INVOLVED_IN" else None
        _, props = moved_rel(rel_type, start, end, props, person.get("dob"), event_at)
        added.append((start, end, {schema.TYPE_ATTR: rel_type, **props}))
    gone = set(to_root) - set(groups)
    return MergedView(base, Changes(nodes, gone, set(touching), added, groups))
