"""What the review queue would add: findings that rest on an unconfirmed link.

A finding rests only on confirmed links. A pair still waiting for review may raise a
finding only marked as such: the queries run once more on the graph as it would be with
each queued pair taken as one entity, and what that adds is reported with
`unconfirmed_link` set. That graph is the stored one with the merges laid over it
(`queries.whatif`), and each query starts only from the nodes within its `REACH` of a
merged entity: a finding that names no merged entity is dropped anyway. A query without
`REACH` (one that ranks across the whole county) starts from every node. The workspace is
never changed.
"""
from __future__ import annotations

from typing import Any

from kglink.linkage.entities import split_source_key
from kglink.queries import registry
from kglink.queries.findings import Finding
from kglink.queries.runner import embedded_view, run_on_view
from kglink.queries.view import View
from kglink.queries.whatif import merge
from kglink.workspace import Workspace


def queued_pairs(ws: Workspace) -> list[tuple[str, str, str]]:
    """(kind, a, b) of pairs waiting for a person: in review or marked unsure."""
    return [(k, a, b) for k, a, b, _ in _queued(ws)]


def _queued(ws: Workspace) -> list[tuple[str, str, str, float]]:
    return [tuple(r) for r in ws.conn.execute(  # type: ignore[misc]
        "SELECT kind, a, b, probability FROM links WHERE status IN ('review', 'unsure') "
        "ORDER BY kind, a, b")]


# The entity of each end of every queued pair, in one join (split_source_key in SQL: the
# agency is what comes before the first ':'): at 1M, 130,000 pairs asked one by one were
# 260,000 queries.
_QUEUED_ENDS = """
SELECT l.kind, l.{end}, m.entity_id FROM links l JOIN entity_members m
  ON m.kind = l.kind
 AND m.agency = CASE WHEN instr(l.{end}, ':') > 0 THEN substr(l.{end}, 1, instr(l.{end}, ':') - 1) ELSE l.{end} END
 AND m.record_id = CASE WHEN instr(l.{end}, ':') > 0 THEN substr(l.{end}, instr(l.{end}, ':') + 1) ELSE '' END
WHERE l.status IN ('review', 'unsure')
"""


def _queued_entities(ws: Workspace) -> dict[tuple[str, str], str | None]:
    """(kind, record key) -> its entity, for both ends of every queued pair (None: the
    record is in no entity)."""
    out: dict[tuple[str, str], str | None] = {}
    for end in ("a", "b"):
        for kind, key in ws.conn.execute(f"SELECT kind, {end} FROM links WHERE status IN ('review', 'unsure')"):
            out[(kind, key)] = None
        for kind, key, eid in ws.conn.execute(_QUEUED_ENDS.format(end=end)):
            out[(kind, key)] = eid
    return out


def _merges(ws: Workspace, pairs: list[tuple[str, str, str, float]]
            ) -> tuple[dict[str, list[str]], dict[str, float]]:
    """Entities the queued pairs would join: root id -> the ids joined into it (root
    first), and each entity involved with the lowest model probability of the queued
    pairs merged into it."""
    known = _queued_entities(ws)

    def entity(kind: str, key: str) -> str | None:
        if (kind, key) in known:
            return known[(kind, key)]
        row = ws.conn.execute("SELECT entity_id FROM entity_members WHERE kind = ? AND agency = ? "
                              "AND record_id = ?", (kind, *split_source_key(key))).fetchone()
        return row[0] if row else None

    parent: dict[str, str] = {}
    touched: dict[str, float] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for kind, a, b, p in pairs:
        ea, eb = entity(kind, a), entity(kind, b)
        if ea and eb and find(ea) != find(eb):
            ra, rb = sorted((find(ea), find(eb)))
            parent[rb] = ra
            for e in (ea, eb):
                touched[e] = min(touched.get(e, 1.0), p)
    groups: dict[str, list[str]] = {}
    for e in sorted(parent):
        groups.setdefault(find(e), []).append(e)
    groups = {root: [root] + sorted(set(eids) - {root}) for root, eids in groups.items()}
    lowest = dict(touched)
    for e, p in touched.items():
        lowest[find(e)] = min(lowest.get(find(e), 1.0), p)
    return groups, lowest


def _subject_records(f: Finding) -> set[tuple[str, str]]:
    return {(r.agency, r.record_id) for p in f.people if p.role == "subject" for r in p.records}


def _restates(confirmed: Finding, what_if: Finding) -> bool:
    """The same finding, its subject merely grown by a queued record."""
    return (confirmed.query == what_if.query and confirmed.role == what_if.role
            and {(e.agency, e.record_id) for e in confirmed.events}
            == {(e.agency, e.record_id) for e in what_if.events}
            and _subject_records(confirmed) <= _subject_records(what_if))


def unconfirmed_findings(ws: Workspace, confirmed: list[Finding], names: list[str] | None = None,
                         params: dict[str, dict[str, Any]] | None = None,
                         view: View | None = None) -> list[Finding]:
    """Findings only the queued pairs raise, each marked, most probable first: ranked by
    the lowest model probability among the queued pairs merged into the entities it
    involves, which its summary states. `view`: the stored graph's, if already loaded."""
    pairs = _queued(ws)
    if not pairs:
        return []
    view = view if view is not None else embedded_view(ws)
    ctx = view.ctx
    groups, touched = _merges(ws, pairs)
    merged = merge(ws, view, groups)
    reach = merged.within(max(registry.REACHES.values(), default=0), groups)
    known = {f.id for f in confirmed}
    ranked: list[tuple[float, int, Finding]] = []
    near = {hops: merged.near({u for u, d in reach.items() if d <= hops})
            for hops in set(registry.REACHES.values())}
    for name in names or sorted(registry.QUERIES):
        hops = registry.REACHES.get(name)
        v = merged if hops is None else near[hops]
        for f in run_on_view(v, ctx, [name], params):
            involved = ({p.entity_id for p in f.people} | {a.entity_id for a in f.addresses}) & touched.keys()
            if f.id not in known and involved and not any(_restates(c, f) for c in confirmed):
                p = min(touched[e] for e in involved)
                ranked.append((-p, len(ranked), f.model_copy(update={
                    "unconfirmed_link": True,
                    "summary": f"UNCONFIRMED LINK (pair awaiting review, p = {p:.2f}): " + f.summary})))
    return [f for _, _, f in sorted(ranked, key=lambda r: (r[0], r[1]))]
