"""Unconfirmed-link findings from the merged entities' neighbourhood equal those of a
whole graph rebuilt with every queued pair merged (the way they were first computed,
kept here as the reference)."""
from __future__ import annotations

import json
from typing import Any

import networkx as nx

from kglink.graph import schema
from kglink.graph.build import GraphNode, iter_graph
from kglink.linkage.entities import split_source_key
from kglink.queries.base import QueryContext
from kglink.queries.findings import Finding
from kglink.queries.runner import reference_date, run_embedded, run_on_view
from kglink.queries.unconfirmed import _queued, _restates, unconfirmed_findings
from kglink.queries.view import View
from kglink.queries.whatif import merge
from kglink.workspace import Workspace


def _rebuilt_what_if(ws: Workspace) -> tuple[nx.MultiDiGraph, dict[str, float]]:
    """The reference: every queued pair merged in entity_members inside a savepoint that is
    rolled back, and the whole graph built again from the workspace."""
    g = nx.MultiDiGraph()
    touched: dict[str, float] = {}
    ws.conn.execute("SAVEPOINT what_if")
    try:
        member = {(k, a, r): e for k, a, r, e in ws.conn.execute(
            "SELECT kind, agency, record_id, entity_id FROM entity_members")}
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        for kind, a, b, p in _queued(ws):
            ea = member.get((kind, *split_source_key(a)))
            eb = member.get((kind, *split_source_key(b)))
            if ea and eb and find(ea) != find(eb):
                ra, rb = sorted((find(ea), find(eb)))
                parent[rb] = ra
                for e in (ea, eb):
                    touched[e] = min(touched.get(e, 1.0), p)
        ws.conn.executemany("UPDATE entity_members SET entity_id = ? WHERE entity_id = ?",
                            [(find(e), e) for e in parent])
        for item in iter_graph(ws):
            if isinstance(item, GraphNode):
                g.add_node(item.uid, **{schema.LABEL_ATTR: item.label}, **item.props)
            else:
                g.add_edge(item.start, item.end, key=item.uid, **{schema.TYPE_ATTR: item.type}, **item.props)
    finally:
        ws.conn.execute("ROLLBACK TO what_if")
        ws.conn.execute("RELEASE what_if")
    lowest = dict(touched)
    for e, p in touched.items():
        lowest[find(e)] = min(lowest.get(find(e), 1.0), p)
    return g, lowest


def _reference(ws: Workspace, confirmed: list[Finding]) -> list[Finding]:
    g, touched = _rebuilt_what_if(ws)
    ctx = QueryContext(reference_date(ws))
    known = {f.id for f in confirmed}
    ranked: list[tuple[float, int, Finding]] = []
    for f in run_on_view(View(g, ctx), ctx):
        involved = ({p.entity_id for p in f.people} | {a.entity_id for a in f.addresses}) & touched.keys()
        if f.id not in known and involved and not any(_restates(c, f) for c in confirmed):
            p = min(touched[e] for e in involved)
            ranked.append((-p, len(ranked), f.model_copy(update={
                "unconfirmed_link": True,
                "summary": f"UNCONFIRMED LINK (pair awaiting review, p = {p:.2f}): " + f.summary})))
    return [f for _, _, f in sorted(ranked, key=lambda r: (r[0], r[1]))]


def _dump(found: list[Finding]) -> str:
    return json.dumps([f.model_dump() for f in found], sort_keys=True)


def test_unconfirmed_findings_equal_those_of_a_rebuilt_graph(county_ws: Any) -> None:
    confirmed = run_embedded(county_ws)
    new = unconfirmed_findings(county_ws, confirmed)
    reference = _reference(county_ws, confirmed)
    assert len(reference) > 3
    assert _dump(new) == _dump(reference)


def test_the_merged_view_holds_the_rebuilt_graph_around_every_merge(county_ws: Any) -> None:
    """Node for node and relationship for relationship, within two steps of each merged
    entity: the merged entity's properties and every moved relationship's new uid."""
    from kglink.graph.embedded import load_graph
    from kglink.queries.unconfirmed import _merges

    ctx = QueryContext(reference_date(county_ws))
    view = View(load_graph(county_ws), ctx)
    groups, _ = _merges(county_ws, _queued(county_ws))
    merged = merge(county_ws, view, groups)
    rebuilt, _ = _rebuilt_what_if(county_ws)
    ref = View(rebuilt, ctx)
    near = merged.within(2, groups)
    assert len(groups) > 3 and set(near) == set(ref_near := _within(ref, 2, groups))
    for uid in sorted(ref_near):
        assert merged.props(uid) == ref.props(uid), uid
        for mine, theirs in ((merged.all_out(uid), ref.all_out(uid)),
                             (merged.all_in(uid), ref.all_in(uid))):
            assert sorted((o, e["uid"], json.dumps(e, sort_keys=True)) for o, e in mine) == \
                sorted((o, e["uid"], json.dumps(e, sort_keys=True)) for o, e in theirs), uid
    for gone in (e for eids in groups.values() for e in eids[1:]):
        assert not merged.has(gone) and not ref.has(gone)


def _within(v: View, hops: int, seeds: Any) -> dict[str, int]:
    dist = {s: 0 for s in seeds if v.has(s)}
    frontier = list(dist)
    for hop in range(1, hops + 1):
        nxt = []
        for u in frontier:
            for o in v.neighbours(u):
                if o not in dist:
                    dist[o] = hop
                    nxt.append(o)
        frontier = nxt
    return dist


def test_within_over_the_arrays_equals_the_walk_through_the_merged_view(county_ws: Any) -> None:
    """The unconfirmed findings' neighbourhoods are found over the compact graph's arrays,
    each merge group counted as one node: the same nodes at the same distances as walking
    the merged view node by node, from every merged entity and from a few other nodes (so
    that a group is also reached from outside it, not only started from)."""
    from kglink.queries.runner import embedded_view
    from kglink.queries.unconfirmed import _merges

    view = embedded_view(county_ws)
    groups, _ = _merges(county_ws, _queued(county_ws))
    merged = merge(county_ws, view, groups)
    assert len(groups) > 3
    roots = sorted(groups)
    # Entities next to a merged one, but not merged themselves: the walk reaches the groups.
    outside = sorted({o for r in roots[:5] for o in merged.neighbours(r)
                      if merged.label(o) in ("Person", "Address", "Event") and o not in groups})[:5]
    for seeds in (roots, outside, roots[:2] + outside):
        for hops in (1, 2, 3):
            fast = merged._within_arrays(hops, seeds)
            assert fast == merged._within_walk(hops, seeds), (hops, len(seeds))
    assert merged.within(3, roots) == merged._within_walk(3, roots)
