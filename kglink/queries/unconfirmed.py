"""What the review queue would add: findings that rest on an unconfirmed link.

A finding rests only on confirmed links. A pair still waiting for review may raise a
finding only marked as such: the queries run once more on a graph where each queued pair
is taken as one entity, and what that adds is reported with `unconfirmed_link` set.
The what-if graph is built inside a transaction that is rolled back: the workspace never
holds it.
"""
from __future__ import annotations

from typing import Any

import networkx as nx

from kglink.graph import schema
from kglink.graph.build import GraphNode, iter_graph
from kglink.linkage.entities import split_source_key
from kglink.queries.base import QueryContext
from kglink.queries.findings import Finding
from kglink.queries.runner import reference_date, run_on_view
from kglink.workspace import Workspace


def queued_pairs(ws: Workspace) -> list[tuple[str, str, str]]:
    """(kind, a, b) of pairs waiting for a person: in review or marked unsure."""
    return [(k, a, b) for k, a, b, _ in _queued(ws)]


def _queued(ws: Workspace) -> list[tuple[str, str, str, float]]:
    return [tuple(r) for r in ws.conn.execute(  # type: ignore[misc]
        "SELECT kind, a, b, probability FROM links WHERE status IN ('review', 'unsure') "
        "ORDER BY kind, a, b")]


def _what_if_graph(ws: Workspace, pairs: list[tuple[str, str, str, float]]
                   ) -> tuple[nx.MultiDiGraph, dict[str, float]]:
    """The graph with every queued pair merged, and the entity ids such merges touched,
    each with the lowest model probability of the queued pairs merged into it."""
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

        for kind, a, b, p in pairs:
            ea = member.get((kind, *split_source_key(a)))
            eb = member.get((kind, *split_source_key(b)))
            if ea and eb and find(ea) != find(eb):
                ra, rb = sorted((find(ea), find(eb)))
                parent[rb] = ra
                for e in (ea, eb):
                    touched[e] = min(touched.get(e, 1.0), p)
        moved = [(find(e), e) for e in {e for e in parent}]
        ws.conn.executemany("UPDATE entity_members SET entity_id = ? WHERE entity_id = ?", moved)
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


def _subject_records(f: Finding) -> set[tuple[str, str]]:
    return {(r.agency, r.record_id) for p in f.people if p.role == "subject" for r in p.records}


def _restates(confirmed: Finding, what_if: Finding) -> bool:
    """The same finding, its subject merely grown by a queued record."""
    return (confirmed.query == what_if.query and confirmed.role == what_if.role
            and {(e.agency, e.record_id) for e in confirmed.events}
            == {(e.agency, e.record_id) for e in what_if.events}
            and _subject_records(confirmed) <= _subject_records(what_if))


def unconfirmed_findings(ws: Workspace, confirmed: list[Finding], names: list[str] | None = None,
                         params: dict[str, dict[str, Any]] | None = None) -> list[Finding]:
    """Findings only the queued pairs raise, each marked, most probable first: ranked by
    the lowest model probability among the queued pairs merged into the entities it
    involves, which its summary states."""
    pairs = _queued(ws)
    if not pairs:
        return []
    g, touched = _what_if_graph(ws, pairs)
    from kglink.queries.view import View

    ctx = QueryContext(reference_date(ws))
    known = {f.id for f in confirmed}
    ranked: list[tuple[float, int, Finding]] = []
    for f in run_on_view(View(g, ctx), ctx, names, params):
        involved = ({p.entity_id for p in f.people} | {a.entity_id for a in f.addresses}) & touched.keys()
        if f.id not in known and involved and not any(_restates(c, f) for c in confirmed):
            p = min(touched[e] for e in involved)
            ranked.append((-p, len(ranked), f.model_copy(update={
                "unconfirmed_link": True,
                "summary": f"UNCONFIRMED LINK (pair awaiting review, p = {p:.2f}): " + f.summary})))
    return [f for _, _, f in sorted(ranked, key=lambda r: (r[0], r[1]))]
