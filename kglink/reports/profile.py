"""The MASH research pack on one child and family, before a strategy meeting.

Every linked record with its match confidence and why, the household and its
relationships, flags, a timeline across agencies, and every finding that touches the
child or the household — each fact with its source agency and record.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any

import networkx as nx
from pydantic import BaseModel

from kglink.errors import KglinkError
from kglink.graph import schema
from kglink.linkage.entities import entity_map, split_source_key
from kglink.linkage.members import record_summary
from kglink.queries.base import QueryContext
from kglink.queries.findings import Finding
from kglink.queries.runner import reference_date
from kglink.queries.view import View, current
from kglink.reports.carry import Touching
from kglink.reports.network import network_data
from kglink.reports.waterfall import Models, stored_waterfall
from kglink.workspace import Workspace

HOPS = 3
# A node with more relationships than this (a police station where thousands of events
# happened, a school, a hospital) is shown in the pack but not stepped through: its other
# visitors are not the child's network, and following them made a pack read 7,500 nodes.
HUB_DEGREE = 500
MAX_PAIRS = 12                 # waterfalls drawn in one pack


class ProfileError(KglinkError, ValueError):
    pass


class Ambiguous(ProfileError):
    def __init__(self, candidates: list[Any]) -> None:     # kglink.search.Candidate
        super().__init__("more than one person matches")
        self.candidates = candidates


class LinkedRecord(BaseModel):
    agency: str
    record_id: str
    summary: str
    confidence: float
    why: str


class Member(BaseModel):
    entity_id: str
    name: str
    dob: str | None
    age: int | None
    relation: str                 # how they are connected to the child
    sources: list[str]            # agency:record_id saying so
    flags: list[str]


class TimelineItem(BaseModel):
    when: str
    type: str
    agency: str
    record_id: str
    who: str
    roles: str
    risk: str | None
    status: str | None
    description: str | None


class FlagItem(BaseModel):
    who: str
    flag: str
    detail: str | None
    from_date: str | None
    to_date: str | None
    agency: str
    record_id: str


class WaterfallStep(BaseModel):
    label: str
    detail: str
    weight: float


class LinkedPair(BaseModel):
    """Why two of the child's records were linked: the match weight step by step."""
    a: str
    b: str
    probability: float
    total: float
    steps: list[WaterfallStep]


class Profile(BaseModel):
    subject: Member
    reason: str
    reference_date: str
    records: list[LinkedRecord]
    household: list[Member]
    addresses: list[dict[str, Any]]
    flags: list[FlagItem]
    timeline: list[TimelineItem]
    findings: list[Finding]
    network: dict[str, Any]       # nodes and edges for the picture
    pairs: list[LinkedPair] = []  # the links joining the child's records, explained


def find_subject(ws: Workspace, record: str | None = None, name: str | None = None,
                 dob: str | None = None, terms: Any = None) -> str:
    """The person entity for a record key, or for a search (kglink.search) with one hit."""
    people = entity_map(ws, "person")
    if record:
        if record in people:
            return people[record].entity_id
        if any(m.entity_id == record for m in people.values()):     # an entity id, from a finding
            return record
        raise ProfileError(f"no person record or entity {record}. Use AGENCY:RECORD_ID, e.g. "
                           "police:P1, or a person's entity id from a finding")
    from kglink.queries.runner import reference_date
    from kglink.search import SearchError, Terms, search

    terms = terms or Terms(name=name, dob=dob)
    if not terms.given():
        raise ProfileError("name a child: AGENCY:RECORD_ID, or search with --name, --dob, --address, "
                           "--postcode, --phone or --id")
    try:
        found = search(ws, terms, reference_date(ws))
    except SearchError as e:
        raise ProfileError(str(e)) from None
    if not found:
        said = {"name": "the name", "dob": "the date of birth", "address": "the address",
                "postcode": "the postcode", "phone": "the phone number", "identifier": "the identifier"}
        raise ProfileError("nobody matches " + " and ".join(said[k] for k in terms.given())
                           + ". Check the spelling, search by fewer terms, or give AGENCY:RECORD_ID")
    if len(found) > 1:
        raise Ambiguous(found)
    return found[0].entity_id


# One query per hop, all in one read transaction so that element ids hold: the frontier's
# nodes by element id, then their relationships grouped by the node at the other end, whose
# properties come back only if the pack has not read it yet (a household's events point
# at the same addresses many times). Simple plans: a cold server plans them in a moment.
_START = "MATCH (s:Person {uid: $uid}) RETURN elementId(s) AS id, properties(s) AS props"
_HOP = (
    "MATCH (n) WHERE elementId(n) IN $ids AND ($hub IS NULL OR COUNT { (n)--() } <= $hub) "
    "MATCH (n)-[r]-(m) WHERE NOT r:RESOLVED_AS "
    "WITH m, collect([type(r), properties(r), elementId(startNode(r)), elementId(endNode(r))]) AS rels "
    "WITH m, elementId(m) AS id, rels "
    "RETURN id, CASE WHEN id IN $seen THEN null ELSE labels(m)[0] END AS label, "
    "CASE WHEN id IN $seen THEN null ELSE properties(m) END AS props, rels")
# After the last hop: relationships from its nodes to nodes already read, so that the
# pack holds every relationship between its nodes (as the embedded store's does).
_CLOSE = ("MATCH (n)-[r]->(m) WHERE elementId(n) IN $ids AND elementId(m) IN $seen "
          "AND NOT r:RESOLVED_AS "
          "RETURN type(r) AS t, properties(r) AS p, elementId(n) AS a, elementId(m) AS b")


def subgraph(ws: Workspace, uid: str, neo4j: Any = None, graph: Any = None) -> nx.MultiDiGraph:
    """The child's neighbourhood, `HOPS` steps out, from either store (`graph`: the
    embedded store's whole graph already in memory, a graph.compact.CompactGraph built
    from the workspace as it is, read instead of the tables)."""
    if graph is not None:
        return graph.neighbourhood([uid], hops=HOPS, max_degree=HUB_DEGREE)  # type: ignore[no-any-return]
    if neo4j is None:
        from kglink.graph.embedded import neighbourhood

        return neighbourhood(ws, [uid], hops=HOPS, max_degree=HUB_DEGREE)
    from kglink.graph.neo4j_conn import read_transaction, rows

    def work(tx: Any) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph()
        start = rows(tx, _START, {"uid": uid}, plain=True)
        if not start:
            return g
        g.add_node(uid, **({schema.LABEL_ATTR: "Person"} | start[0]["props"]))
        uids = {start[0]["id"]: uid}               # element id -> uid, for this transaction

        def add_edge(rtype: str, props: dict[str, Any], a: str, b: str) -> None:
            g.add_edge(uids[a], uids[b], key=props["uid"], **({schema.TYPE_ATTR: rtype} | props))

        frontier = list(uids)
        for hop in range(HOPS):
            hub = HUB_DEGREE if hop else None         # the child is always stepped from
            found = rows(tx, _HOP, {"ids": frontier, "hub": hub, "seen": list(uids)}, plain=True)
            frontier = []
            for r in found:
                if r["props"] is not None:
                    uids[r["id"]] = r["props"]["uid"]
                    g.add_node(r["props"]["uid"], **({schema.LABEL_ATTR: r["label"]} | r["props"]))
                    frontier.append(r["id"])
            for r in found:
                for rel in r["rels"]:
                    add_edge(*rel)
            if not frontier:
                return g
        for r in rows(tx, _CLOSE, {"ids": frontier, "seen": list(uids)}, plain=True):
            add_edge(r["t"], r["p"], r["a"], r["b"])
        return g
    return read_transaction(work, neo4j)


def _neighbourhood(ws: Workspace, uid: str, neo4j: Any, graph: Any) -> Any:
    """What a pack reads: with the graph in memory, the child's neighbourhood read in place
    (graph.neighbourhood: copying it into networkx was two thirds of the first night's
    report at 1M records), else `subgraph`'s copy from the tables or Neo4j."""
    from kglink.graph.compact import CompactGraph

    if isinstance(graph, CompactGraph):
        return graph.around([uid], hops=HOPS, max_degree=HUB_DEGREE)
    return graph if graph is not None else subgraph(ws, uid, neo4j)


def _age(dob: str | None, ref: date) -> int | None:
    if not dob:
        return None
    y, m, d = (int(x) for x in dob[:10].split("-"))
    return ref.year - y - ((ref.month, ref.day) < (m, d))


def _why(ws: Workspace, key: str, members: set[str], model: Any) -> tuple[float, str, str | None]:
    """The strongest link joining this record to the rest of its entity, in words."""
    from kglink.linkage.registry import comparisons_for

    best = None
    for a, b, p, status, reason, expl in ws.conn.execute(
            "SELECT a, b, probability, status, reason, explanation FROM links "
            "WHERE kind='person' AND a = ? AND status IN ('link', 'same') UNION ALL "
            "SELECT a, b, probability, status, reason, explanation FROM links INDEXED BY links_b "
            "WHERE kind='person' AND b = ? AND status IN ('link', 'same') "
            "ORDER BY probability DESC", (key, key)):
        other = b if a == key else a
        if other in members:
            best = (other, p, status, reason, json.loads(expl).get("levels"))
            break
    if best is None:
        return 1.0, "the only record of this person" if len(members) == 1 else "joined through other records", None
    other, p, status, reason, levels = best
    if status == "same":
        return 1.0, f"a person decided it is the same as {other}", other
    words = []
    if model is not None and levels:
        comps = comparisons_for("person", model.settings.comparisons)
        words = [c.labels[lv] for c, lv in zip(comps, levels) if 0 <= lv <= c.level(c.agreeing)]
    rule = "" if reason == "model" else f"; {reason}"
    return float(p), f"matches {other} (p={p:.3f}{rule}): " + ", ".join(words), other


def build_profile(ws: Workspace, uid: str, reason: str, findings: list[Finding],
                  neo4j: Any = None, models: Models | None = None, graph: Any = None,
                  reads: Any = None, by_entity: Touching | None = None) -> Profile:
    """`models`: the saved linkage models (reports.waterfall.Models), shared by the packs
    of one run: decoding the person model once per pack was a quarter of a pack's time.
    `graph`: the whole embedded graph in memory (a graph.compact.CompactGraph), or the
    child's neighbourhood already taken from it (`CompactGraph.around`), if the caller has it.
    `reads`: a reports.carry.Reads, given what the pack reads of its subgraph.
    `by_entity`: `findings` by the entities they name, shared by the packs of one run
    (asking each of a thousand findings for each pack was 8 % of the first night's report)."""
    models = models if models is not None else Models(ws)
    by_entity = by_entity if by_entity is not None else Touching(findings)
    ctx = QueryContext(reference_date(ws))
    g = _neighbourhood(ws, uid, neo4j, graph)
    if uid not in g:
        raise ProfileError("that person is not in the graph yet. Run `kglink link` first")
    v = View(g, ctx)
    if reads is not None:
        from kglink.reports.carry import Recording

        v.store = Recording(v.store, reads)
    s = v.props(uid)
    ref = ctx.reference_date
    subject = Member(entity_id=uid, name=s.get("name", uid), dob=s.get("dob"), age=_age(s.get("dob"), ref),
                     relation="subject", sources=[], flags=[f["flag"] for f in _flags(v, uid)])
    members = set(s.get("members", []))
    records, joined = [], set()
    model = models.get("person") if len(members) > 1 else None
    for key in sorted(members):
        conf, why, other = _why(ws, key, members, model)
        if other:
            joined.add(tuple(sorted((key, other))))
        agency, rid = split_source_key(key)
        records.append(LinkedRecord(agency=agency, record_id=rid, summary=record_summary(ws, key),
                                    confidence=conf, why=why))
    household = _household(v, uid, ref)
    people = [uid] + [m.entity_id for m in household]
    carers = [m.entity_id for m in household if "parent" in m.relation or "carer" in m.relation]
    homes = sorted({a for p in [uid, *carers] for a, _ in v.homes(p)})
    flags = [FlagItem(who=v.props(p).get("name", p), flag=f["flag"], detail=f.get("detail"),
                      from_date=f.get("from_date"), to_date=f.get("to_date"), agency=f["agency"],
                      record_id=split_source_key(f["person_record"])[1])
             for p in people for f in _flags(v, p)]
    timeline = _timeline(v, people, homes)
    found = by_entity.findings(set(people) | set(homes))
    addresses = [{"entity_id": a, "label": v.props(a).get("name", a), "kind": v.props(a).get("kind"),
                  "records": v.props(a).get("members", [])} for a in homes]
    return Profile(subject=subject, reason=reason, reference_date=ref.isoformat(), records=records,
                   household=household, addresses=addresses, flags=flags, timeline=timeline,
                   findings=found, pairs=_pairs(ws, sorted(joined), models),
                   network=network_data(v, uid, {m.entity_id: m.relation for m in household}, homes, found))


def _flags(v: View, uid: str) -> list[dict[str, Any]]:
    out = []
    for fuid, _ in v.out(uid, "HAS_FLAG"):
        out.append(v.props(fuid))
    return sorted(out, key=lambda f: (f.get("from_date") or "", f["uid"]))


def _household(v: View, uid: str, ref: date) -> list[Member]:
    found: dict[str, dict[str, Any]] = {}

    def add(p: str, relation: str, edge: dict[str, Any]) -> None:
        item = found.setdefault(p, {"relations": [], "sources": []})
        if relation not in item["relations"]:
            item["relations"].append(relation)
        src = edge.get("start_record") or edge.get("source")
        if src and src not in item["sources"]:
            item["sources"].append(src)

    for a, _ in v.homes(uid):
        for p, e in v.occupants(a):
            if p != uid:
                add(p, "lives at the same address", e)
    for p, e in v.into(uid, "PARENT_OF", "CARER_OF"):
        add(p, e[schema.TYPE_ATTR].lower().replace("_", " ").replace(" of", ""), e)
    for p, e in v.out(uid, "PARENT_OF", "CARER_OF"):
        add(p, "child", e)
    for p, e in v.both(uid, "SIBLING_OF", "HOUSEHOLD_MEMBER", "PARTNER_OF", "ASSOCIATE_OF"):
        if p != uid and current(e, v.ref):
            add(p, e[schema.TYPE_ATTR].lower().replace("_", " ").replace(" of", ""), e)
    carers = [p for p, item in found.items() if {"parent", "carer"} & set(item["relations"])]
    for c in carers:
        for p, e in v.both(c, "PARTNER_OF", "HOUSEHOLD_MEMBER"):
            if p != uid and current(e, v.ref):
                add(p, "partner of a parent or carer", e)
    out = []
    for p, item in sorted(found.items()):
        props = v.props(p)
        out.append(Member(entity_id=p, name=props.get("name", p), dob=props.get("dob"),
                          age=_age(props.get("dob"), ref), relation="; ".join(item["relations"]),
                          sources=sorted(item["sources"]), flags=[f["flag"] for f in _flags(v, p)]))
    return out


def _timeline(v: View, people: list[str], homes: list[str]) -> list[TimelineItem]:
    events: dict[str, list[tuple[str, str]]] = {}
    for p in people:
        for ev, e in v.events(p):
            events.setdefault(ev, []).append((v.props(p).get("name", p), e.get("role", "")))
    for a in homes:
        for ev, e in v.address_events(a):
            events.setdefault(ev, []).append((v.props(a).get("name", a), e.get("role", "")))
    out = []
    for ev, who in events.items():
        e = v.props(ev)
        out.append(TimelineItem(when=e.get("occurred_at", ""), type=e.get("type", ""), agency=e.get("agency", ""),
                                record_id=e.get("record_id", ""), who="; ".join(sorted({w for w, _ in who})),
                                roles="; ".join(sorted({r for _, r in who if r})), risk=e.get("risk"),
                                status=e.get("status"), description=e.get("description")))
    return sorted(out, key=lambda t: (t.when, t.agency, t.record_id))


def _pairs(ws: Workspace, pairs: list[tuple[str, ...]], models: Models) -> list[LinkedPair]:
    """Each link joining the child's records as waterfall steps (the most `MAX_PAIRS`)."""
    out = []
    for a, b in pairs[:MAX_PAIRS]:
        w = stored_waterfall(ws, "person", a, b, models)
        if w is not None:               # None: a decision alone joined them, nothing to draw
            out.append(LinkedPair(a=a, b=b, probability=w.probability, total=w.total,
                                  steps=[WaterfallStep(label=s.label, detail=s.detail, weight=s.weight)
                                         for s in w.steps]))
    return out
