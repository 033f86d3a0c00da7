"""Build the POLE graph from a workspace as one neutral, ordered stream.

Both stores consume the same stream: every node first (by label, then by source), then
every relationship. Ids are derived from sources, so building twice from the same
workspace gives the same uids, properties and order.

Person-level links join entities, and each keeps its source row: two agencies that both
say "lives at" give two LIVES_AT edges with different `source` (a multigraph).
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from kglink.graph import schema
from kglink.linkage.entities import Membership, entity_map, source_key
from kglink.workspace import Workspace


@dataclass(frozen=True, slots=True)
class GraphNode:
    uid: str
    label: str
    props: dict[str, Any]


@dataclass(frozen=True, slots=True)
class GraphRel:
    uid: str
    type: str
    start: str           # uid of the start node
    end: str             # uid of the end node
    start_label: str
    end_label: str
    props: dict[str, Any]


GraphItem = GraphNode | GraphRel


@dataclass
class BuildStats:
    nodes: Counter[str] = field(default_factory=Counter)
    relationships: Counter[str] = field(default_factory=Counter)
    # link rows whose person/address/event is not an active record: counted, not hidden
    dangling: Counter[str] = field(default_factory=Counter)


class _Row(NamedTuple):
    agency: str
    key: str
    data: dict[str, Any]
    source_file: str
    source_row: int
    first_load: int
    load_id: int


_ROW_COLUMNS = "agency, key, data, source_file, source_row, first_load, changed_load"


def _rows(ws: Workspace, kind: str) -> Iterator[_Row]:
    sql = (f"SELECT {_ROW_COLUMNS} FROM records WHERE kind = ? AND status = 'active' "
           "ORDER BY agency, key")
    for agency, key, data, sfile, srow, first, changed in ws.conn.execute(sql, (kind,)):
        yield _Row(agency, key, orjson.loads(data), sfile, srow, first, changed)


def _rows_by_key(ws: Workspace, kind: str, keys: Iterable[tuple[str, str]]) -> Iterator[_Row]:
    """The active rows of `kind` among these (agency, key), in that order (one primary-key
    lookup each: for the few rows a changed-only build reads)."""
    sql = (f"SELECT {_ROW_COLUMNS} FROM records WHERE kind = ? AND agency = ? AND key = ? "
           "AND status = 'active'")
    for agency, key in keys:
        for _, k, data, sfile, srow, first, changed in ws.conn.execute(sql, (kind, agency, key)):
            yield _Row(agency, k, orjson.loads(data), sfile, srow, first, changed)


def _hash(text: str, size: int = 10) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def rel_uid(rel_type: str, source: str, start: str, end: str) -> str:
    """Stable per source row and endpoints: an edge that moves to another entity is a new edge."""
    return "r_" + _hash(f"{rel_type}\x1f{source}\x1f{start}\x1f{end}")


def record_uid(label: str, sk: str) -> str:
    return {"PersonRecord": "pr:", "AddressRecord": "ar:", "Event": "ev:"}[label] + sk


def link_source(row: _Row) -> str:
    """Source key of a link row: agency, file and the row's defining fields."""
    return f"{row.agency}:{row.source_file}:{row.key}"


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Drop unknown values: Neo4j does not store nulls, so neither does the embedded store."""
    return {k: v for k, v in props.items() if v is not None}


def _provenance(uid: str, row: _Row, source: str) -> dict[str, Any]:
    return {"uid": uid, "agency": row.agency, "source": source, "load_id": row.load_id,
            "first_load": row.first_load}


def _record_props(uid: str, row: _Row, fields: tuple[str, ...]) -> dict[str, Any]:
    sk = source_key(row.agency, row.key)
    props = _provenance(uid, row, sk) | {
        "record_id": row.key, "source_file": row.source_file, "source_row": row.source_row}
    for f in fields:
        props[f] = row.data.get(f)
    if props.get("extra"):
        props["extra"] = json.dumps(props["extra"], sort_keys=True, ensure_ascii=False)
    return props


class _Member(NamedTuple):
    probability: float
    key: str
    agency: str
    load_id: int
    data: dict[str, Any]


def _by_confidence(members: list[_Member]) -> list[_Member]:
    return sorted(members, key=lambda m: (-m.probability, m.key))


def _most_common(members: list[_Member], field_name: str) -> Any:
    """The value most members agree on; ties go to the most confident member."""
    values = [v for m in members if (v := m.data.get(field_name)) is not None]
    if not values:
        return None
    if values.count(values[0]) == len(values):   # one member, or all agree: no Counter
        return values[0]
    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in values if counts[v] == best)


def _entity_provenance(eid: str, members: list[_Member]) -> dict[str, Any]:
    keys = sorted(m.key for m in members)
    return {"uid": eid, "entity_id": eid, "members": keys, "source": keys,
            "agency": sorted({m.agency for m in members}),
            "load_id": sorted({m.load_id for m in members})}


def _person_entity(eid: str, members: list[_Member]) -> GraphNode:
    ordered = _by_confidence(members)
    top = ordered[0].data
    names: list[str] = []
    for m in ordered:
        for n in [{"forenames": m.data.get("forenames", ""), "surname": m.data["surname"]},
                  *m.data.get("aliases", [])]:
            text = " ".join(p for p in (n["forenames"], n["surname"]) if p)
            if text not in names:
                names.append(text)
    props = _entity_provenance(eid, members) | {
        "name": names[0], "names": names, "forenames": top.get("forenames") or None,
        "surname": top["surname"], "dob": _most_common(ordered, "dob"),
        "sex": _most_common(ordered, "sex"),
        "occupations": sorted({m.data["occupation"] for m in ordered if m.data.get("occupation")}),
    }
    return GraphNode(eid, "Person", _clean(props))


def _address_entity(eid: str, members: list[_Member]) -> GraphNode:
    ordered = _by_confidence(members)
    top = ordered[0].data
    postcode = _most_common(ordered, "postcode")
    name = ", ".join(p for p in (top.get("line1"), top.get("line2"), top.get("town"), postcode) if p)
    props = _entity_provenance(eid, members) | {
        "name": name, "line1": top.get("line1"), "town": _most_common(ordered, "town"),
        "postcode": postcode, "postcode_district": postcode.split(" ")[0] if postcode else None,
        "uprn": _most_common(ordered, "uprn"), "kind": top.get("kind"),
    }
    return GraphNode(eid, "Address", _clean(props))


class BuildContext:
    """What the relationship pass needs from the node pass (and what a build leaves to
    keep: the memberships it used, the link rows that dangled)."""

    def __init__(self, ws: Workspace, people: dict[str, Membership] | None = None,
                 addresses: dict[str, Membership] | None = None) -> None:
        self.people: dict[str, Membership] = people if people is not None else entity_map(ws, "person")
        self.addresses: dict[str, Membership] = (
            addresses if addresses is not None else entity_map(ws, "address"))
        self.events: dict[str, str] = {}     # event uid -> occurred_at
        self.dob: dict[str, str | None] = {}  # person entity uid -> its date of birth
        # (record uid, entity uid, probability, agency, source, load id)
        self.resolved: list[tuple[str, str, float, str, str, int]] = []
        self.flags: list[tuple[str, _Row, str]] = []   # (flag uid, row, person source key)
        self.dangling: list[tuple[str, str, str]] = []  # (kind, agency, key) of link rows


def _record_node(kind: str, row: _Row) -> GraphNode:
    label, fields = (("PersonRecord", schema.PERSON_RECORD_FIELDS) if kind == "person"
                     else ("AddressRecord", schema.ADDRESS_RECORD_FIELDS))
    uid = record_uid(label, source_key(row.agency, row.key))
    props = _record_props(uid, row, fields)
    if kind == "person":
        props["aliases"] = [" ".join(p for p in (a["forenames"], a["surname"]) if p)
                            for a in row.data.get("aliases", [])]
    return GraphNode(uid, label, _clean(props))


def _entity_node(kind: str, eid: str, members: list[_Member], ctx: BuildContext) -> GraphNode:
    node = (_person_entity if kind == "person" else _address_entity)(eid, members)
    if kind == "person":
        ctx.dob[eid] = node.props.get("dob")
    return node


def _record_and_entity_nodes(ws: Workspace, ctx: BuildContext, kind: str) -> Iterator[GraphNode]:
    memberships = ctx.people if kind == "person" else ctx.addresses
    groups: dict[str, list[_Member]] = defaultdict(list)
    for row in _rows(ws, kind):
        node = _record_node(kind, row)
        yield node
        sk = source_key(row.agency, row.key)
        m = memberships[sk]
        groups[m.entity_id].append(_Member(m.probability, sk, row.agency, row.load_id, row.data))
        ctx.resolved.append((node.uid, m.entity_id, m.probability, row.agency, sk, row.load_id))
    for eid in sorted(groups):
        yield _entity_node(kind, eid, groups[eid], ctx)


def _event_node(row: _Row, ctx: BuildContext) -> GraphNode:
    sk = source_key(row.agency, row.key)
    uid = record_uid("Event", sk)
    d = row.data
    ctx.events[uid] = d["occurred_at"]
    attrs = d.get("attributes") or {}
    props = _provenance(uid, row, sk) | {
        "id": sk, "record_id": row.key, "source_file": row.source_file,
        "source_row": row.source_row, "type": d["type"], "occurred_at": d["occurred_at"],
        "ended_at": d.get("ended_at"), "risk": d.get("risk"), "status": d.get("status"),
        "reference": d.get("reference"), "description": d.get("description"),
        "attributes": json.dumps(attrs, sort_keys=True, ensure_ascii=False) if attrs else None,
    }
    for name, prop in schema.EVENT_ATTRIBUTE_PROPERTIES.items():
        value = attrs.get(name)
        if isinstance(value, (str, int, float, bool)):
            props[prop] = value
    return GraphNode(uid, "Event", _clean(props))


def flag_uid(row_source: str) -> str:
    return "fl_" + _hash(row_source)


def _flag_node(row: _Row) -> tuple[GraphNode, str]:
    """The flag's node, and the source key of the person record it is on."""
    source = link_source(row)
    uid = flag_uid(source)
    person = source_key(row.agency, row.data["person_id"])
    d = row.data
    props = _provenance(uid, row, source) | {
        "flag": d["flag"], "from_date": d.get("from_date"), "to_date": d.get("to_date"),
        "detail": d.get("detail"), "person_record": person,
        "source_file": row.source_file, "source_row": row.source_row}
    return GraphNode(uid, "Flag", _clean(props)), person


def _event_nodes(ws: Workspace, ctx: BuildContext) -> Iterator[GraphNode]:
    for row in _rows(ws, "event"):
        yield _event_node(row, ctx)


def _flag_nodes(ws: Workspace, ctx: BuildContext) -> Iterator[GraphNode]:
    for row in _rows(ws, "flag"):
        node, person = _flag_node(row)
        ctx.flags.append((node.uid, row, person))
        yield node


def _rel(rel_type: str, start: str, end: str, start_label: str, end_label: str,
         props: dict[str, Any]) -> GraphRel:
    uid = rel_uid(rel_type, props["source"], start, end)
    return GraphRel(uid, rel_type, start, end, start_label, end_label, _clean(props | {"uid": uid}))


def _link_props(row: _Row, **extra: Any) -> dict[str, Any]:
    return {"agency": row.agency, "source": link_source(row), "load_id": row.load_id,
            "first_load": row.first_load} | extra


def _resolved_rel(rec_uid: str, eid: str, p: float, agency: str, sk: str, load_id: int) -> GraphRel:
    start_label, end_label = (("PersonRecord", "Person") if rec_uid.startswith("pr:")
                              else ("AddressRecord", "Address"))
    return _rel("RESOLVED_AS", rec_uid, eid, start_label, end_label,
                {"agency": agency, "source": sk, "load_id": load_id, "probability": p})


def _resolved_rels(ctx: BuildContext) -> Iterator[GraphRel]:
    for resolved in ctx.resolved:
        yield _resolved_rel(*resolved)


# The link rows a relationship is made from, and the relationship types of each.
LINK_KINDS = ("occupancy", "relationship", "event_person", "event_address", "flag")
LINK_KIND_OF_TYPE: dict[str, str] = (
    {t: "occupancy" for t in schema.OCCUPANCY_TYPES.values()}
    | {t: "relationship" for t in schema.PERSON_RELATION_TYPES.values()}
    | {"INVOLVED_IN": "event_person", "OCCURRED_AT": "event_address", "HAS_FLAG": "flag"})


def _link_rel(kind: str, row: _Row, ctx: BuildContext) -> GraphRel | None:
    """The relationship a link row makes, or None if one of its ends is not an active
    record (the row dangles: counted, not hidden). Flags: the HAS_FLAG relationship."""
    d = row.data
    if kind == "occupancy":
        pk, ak = source_key(row.agency, d["person_id"]), source_key(row.agency, d["address_id"])
        if pk not in ctx.people or ak not in ctx.addresses:
            return None
        return _rel(schema.OCCUPANCY_TYPES[d["relation"]], ctx.people[pk].entity_id,
                    ctx.addresses[ak].entity_id, "Person", "Address",
                    _link_props(row, from_date=d.get("from_date"), to_date=d.get("to_date"),
                                start_record=pk, end_record=ak))
    if kind == "relationship":
        a, b = source_key(row.agency, d["person_id"]), source_key(row.agency, d["other_person_id"])
        if a not in ctx.people or b not in ctx.people:
            return None
        return _rel(schema.PERSON_RELATION_TYPES[d["relation"]], ctx.people[a].entity_id,
                    ctx.people[b].entity_id, "Person", "Person",
                    _link_props(row, from_date=d.get("from_date"), to_date=d.get("to_date"),
                                start_record=a, end_record=b))
    if kind == "event_person":
        pk, ev = source_key(row.agency, d["person_id"]), record_uid(
            "Event", source_key(row.agency, d["event_id"]))
        if pk not in ctx.people or ev not in ctx.events:
            return None
        eid = ctx.people[pk].entity_id
        return _rel("INVOLVED_IN", eid, ev, "Person", "Event",
                    _link_props(row, role=d["role"], start_record=pk,
                                child_at_event=schema.child_on(ctx.dob[eid], ctx.events[ev])))
    if kind == "event_address":
        ak, ev = source_key(row.agency, d["address_id"]), record_uid(
            "Event", source_key(row.agency, d["event_id"]))
        if ak not in ctx.addresses or ev not in ctx.events:
            return None
        return _rel("OCCURRED_AT", ev, ctx.addresses[ak].entity_id, "Event", "Address",
                    _link_props(row, role=d["role"], end_record=ak))
    assert kind == "flag"
    person = source_key(row.agency, d["person_id"])
    if person not in ctx.people:
        return None
    return _rel("HAS_FLAG", ctx.people[person].entity_id, flag_uid(link_source(row)),
                "Person", "Flag",
                {"agency": row.agency, "source": link_source(row), "load_id": row.load_id,
                 "start_record": person})


def _link_rels_of(kind: str, rows: Iterable[_Row], ctx: BuildContext,
                  stats: BuildStats) -> Iterator[GraphRel]:
    for row in rows:
        rel = _link_rel(kind, row, ctx)
        if rel is None:
            stats.dangling[kind] += 1
            ctx.dangling.append((kind, row.agency, row.key))
        else:
            yield rel


def _link_rels(ws: Workspace, ctx: BuildContext, stats: BuildStats) -> Iterator[GraphRel]:
    """occupancies, relationships, event_people, event_addresses, in that order."""
    for kind in LINK_KINDS[:-1]:
        yield from _link_rels_of(kind, _rows(ws, kind), ctx, stats)


def _flag_rels(ctx: BuildContext, stats: BuildStats) -> Iterator[GraphRel]:
    yield from _link_rels_of("flag", (row for _, row, _ in ctx.flags), ctx, stats)


def iter_graph(ws: Workspace, stats: BuildStats | None = None,
               ctx: BuildContext | None = None) -> Iterator[GraphItem]:
    """Every node, then every relationship, in a stable order."""
    stats = stats if stats is not None else BuildStats()
    ctx = ctx if ctx is not None else BuildContext(ws)
    for node in _nodes(ws, ctx):
        stats.nodes[node.label] += 1
        yield node
    for rel in _relationships(ws, ctx, stats):
        stats.relationships[rel.type] += 1
        yield rel


def _nodes(ws: Workspace, ctx: BuildContext) -> Iterator[GraphNode]:
    yield from _record_and_entity_nodes(ws, ctx, "person")
    yield from _record_and_entity_nodes(ws, ctx, "address")
    yield from _event_nodes(ws, ctx)
    yield from _flag_nodes(ws, ctx)


def _relationships(ws: Workspace, ctx: BuildContext, stats: BuildStats) -> Iterator[GraphRel]:
    yield from _resolved_rels(ctx)
    yield from _link_rels(ws, ctx, stats)
    yield from _flag_rels(ctx, stats)


def iter_nodes(ws: Workspace, ctx: BuildContext) -> Iterator[GraphNode]:
    """`iter_graph`'s nodes, in its order."""
    return _nodes(ws, ctx)


def iter_relationships(ws: Workspace, ctx: BuildContext,
                       stats: BuildStats | None = None) -> Iterator[GraphRel]:
    """`iter_graph`'s relationships, in its order, without making a node first: what the
    node pass leaves in `ctx` for them is read from the records instead
    (`relationship_context`). So the nodes and the relationships can be made at once,
    in two processes."""
    relationship_context(ws, ctx)
    return _relationships(ws, ctx, stats if stats is not None else BuildStats())


def relationship_context(ws: Workspace, ctx: BuildContext) -> None:
    """Fill `ctx` with what the node pass would have left in it for the relationships
    (each record's entity, every event's date, every person entity's date of birth, the
    flags), from the few fields they need: SQLite reads them out of each record's JSON,
    no record is decoded whole (flags aside: few, and read whole by their relationship)."""
    for kind, label, memberships in (("person", "PersonRecord", ctx.people),
                                     ("address", "AddressRecord", ctx.addresses)):
        for agency, key, load_id in ws.conn.execute(
                "SELECT agency, key, changed_load FROM records WHERE kind = ? AND status = 'active' "
                "ORDER BY agency, key", (kind,)):
            sk = source_key(agency, key)
            m = memberships[sk]
            ctx.resolved.append((record_uid(label, sk), m.entity_id, m.probability, agency, sk, load_id))
    ctx.dob = _entity_dobs(ws, ctx.people)
    for agency, key, at in ws.conn.execute(
            "SELECT agency, key, json_extract(data, '$.occurred_at') FROM records "
            "WHERE kind = 'event' AND status = 'active' ORDER BY agency, key"):
        ctx.events[record_uid("Event", source_key(agency, key))] = at
    for row in _rows(ws, "flag"):
        ctx.flags.append((flag_uid(link_source(row)), row, source_key(row.agency, row.data["person_id"])))


def _entity_dobs(ws: Workspace, people: dict[str, Membership]) -> dict[str, str | None]:
    """Each person entity's date of birth as its node has it (`_person_entity`: the one
    most of its members give, ties to the most confident), from its members' dates alone."""
    groups: dict[str, list[_Member]] = defaultdict(list)
    for agency, key, dob in ws.conn.execute(
            "SELECT agency, key, json_extract(data, '$.dob') FROM records "
            "WHERE kind = 'person' AND status = 'active'"):
        sk = source_key(agency, key)
        m = people[sk]
        groups[m.entity_id].append(_Member(m.probability, sk, agency, 0, {"dob": dob}))
    return {eid: _most_common(_by_confidence(members), "dob") for eid, members in groups.items()}


@dataclass
class Part:
    """The inputs of the part of the graph a changed-only build makes again (keys are
    (agency, key) of records): every item that depends on one of them, and no other."""
    records: dict[str, set[tuple[str, str]]]          # kind -> records changed (any status)
    entities: dict[str, dict[str, list[tuple[str, str]]]]  # kind -> entity -> its members now
    links: dict[str, set[tuple[str, str]]]            # link kind -> link rows to make again
    # The stored date of birth of a person entity not made again (INVOLVED_IN says whether
    # its person was a child at the event).
    stored_dob: Callable[[str], str | None]


class _DobOr(dict[str, str | None]):
    """Dates of birth of the entities made again, else the stored one."""

    def __init__(self, made: dict[str, str | None], stored: Callable[[str], str | None]) -> None:
        super().__init__(made)
        self.stored = stored

    def __missing__(self, eid: str) -> str | None:
        dob = self[eid] = self.stored(eid)
        return dob


def iter_part(ws: Workspace, part: Part, ctx: BuildContext,
              stats: BuildStats | None = None) -> Iterator[GraphItem]:
    """The items `iter_graph` makes from `part`'s inputs, made the same way (ctx carries
    the memberships of the whole workspace, as `iter_graph` has them)."""
    stats = stats if stats is not None else BuildStats()
    for kind in ("person", "address"):
        memberships = ctx.people if kind == "person" else ctx.addresses
        for row in _rows_by_key(ws, kind, sorted(part.records.get(kind, ()))):
            yield _record_node(kind, row)
        for eid, keys in sorted(part.entities.get(kind, {}).items()):
            members: list[_Member] = []
            for row in _rows_by_key(ws, kind, sorted(keys)):
                sk = source_key(row.agency, row.key)
                m = memberships[sk]
                members.append(_Member(m.probability, sk, row.agency, row.load_id, row.data))
                ctx.resolved.append((record_uid("PersonRecord" if kind == "person" else "AddressRecord", sk),
                                     eid, m.probability, row.agency, sk, row.load_id))
            if members:
                yield _entity_node(kind, eid, members, ctx)
    for row in _rows_by_key(ws, "event", sorted(part.records.get("event", ()))):
        yield _event_node(row, ctx)
    for row in _rows_by_key(ws, "flag", sorted(part.records.get("flag", ()))):
        yield _flag_node(row)[0]
    yield from _resolved_rels(ctx)
    # The events the link rows reach: their dates (whether a person was a child at them).
    reached = sorted({(agency, orjson.loads(data)["event_id"])
                      for kind in ("event_person", "event_address")
                      for agency, key in part.links.get(kind, ())
                      for (data,) in ws.conn.execute(
                          "SELECT data FROM records WHERE kind = ? AND agency = ? AND key = ?",
                          (kind, agency, key))})
    for row in _rows_by_key(ws, "event", reached):
        ctx.events.setdefault(record_uid("Event", source_key(row.agency, row.key)),
                              row.data["occurred_at"])
    ctx.dob = _DobOr(ctx.dob, part.stored_dob)
    for kind in LINK_KINDS:
        yield from _link_rels_of(kind, _rows_by_key(ws, kind, sorted(part.links.get(kind, ()))),
                                 ctx, stats)


def build_graph(ws: Workspace) -> tuple[list[GraphNode], list[GraphRel]]:
    """The whole graph in memory (small workspaces and tests)."""
    nodes: list[GraphNode] = []
    rels: list[GraphRel] = []
    for item in iter_graph(ws):
        (nodes if isinstance(item, GraphNode) else rels).append(item)  # type: ignore[arg-type]
    return nodes, rels


def content_hash(item: GraphItem) -> str:
    """Changes whenever anything a store holds for this item changes.

    The repr of the item: the builder always puts properties in the same order, and this
    is several times cheaper than canonical JSON on a graph of millions of items.
    """
    return _hash(repr(item), 12)


def validate(item: GraphItem) -> None:
    """Raise SchemaError if an item uses anything the schema does not declare."""
    if isinstance(item, GraphNode):
        allowed = schema.NODES[schema.check_label(item.label)].all_properties
        what = item.label
    else:
        schema.check_type(item.type, item.start_label, item.end_label)
        allowed = schema.RELATIONSHIPS[item.type].all_properties
        what = item.type
    extra = set(item.props) - set(allowed)
    if extra:
        raise schema.SchemaError(f"{what} has undeclared properties {sorted(extra)}")


# --- pieces of the graph rebuilt for a few entities (what a queued pair would change) -----
def entity_node(ws: Workspace, kind: str, eid: str, members: list[tuple[str, float]]) -> GraphNode:
    """The entity node `iter_graph` makes for `eid` if these records (source key, membership
    probability) were its members: the same builder, fed only their rows."""
    return entity_nodes(ws, [(kind, eid, members)])[0]


# Records read per query by entity_nodes (far below SQLite's limit on parameters).
_ROWS_PER_READ = 300


def entity_nodes(ws: Workspace, wanted: list[tuple[str, str, list[tuple[str, float]]]]) -> list[GraphNode]:
    """`entity_node` of each (kind, entity id, members), their records read a few hundred
    to a query: the what-if graph makes tens of thousands of merged entities at 1M, and one
    query per record was most of making them."""
    keys: dict[tuple[str, str], set[str]] = {}
    for kind, _, members in wanted:
        ekind = "person" if kind == "person" else "address"
        for sk, _ in members:
            agency, _, key = sk.partition(":")
            keys.setdefault((ekind, agency), set()).add(key)
    found: dict[tuple[str, str, str], tuple[str, int]] = {}
    for (ekind, agency), of_agency in sorted(keys.items()):
        ordered = sorted(of_agency)
        for at in range(0, len(ordered), _ROWS_PER_READ):
            chunk = ordered[at:at + _ROWS_PER_READ]
            for key, data, load in ws.conn.execute(
                    "SELECT key, data, changed_load FROM records WHERE kind = ? AND agency = ? "
                    f"AND key IN ({','.join('?' * len(chunk))}) AND status = 'active'",
                    (ekind, agency, *chunk)):
                found[(ekind, agency, key)] = (data, load)
    out = []
    for kind, eid, members in wanted:
        ekind = "person" if kind == "person" else "address"
        rows: list[_Member] = []
        for sk, p in members:
            agency, _, key = sk.partition(":")
            row = found.get((ekind, agency, key))
            if row is not None:
                rows.append(_Member(p, sk, agency, row[1], orjson.loads(row[0])))
        out.append((_person_entity if ekind == "person" else _address_entity)(eid, rows))
    return out


def moved_rel(rel_type: str, start: str, end: str, props: dict[str, Any],
              start_dob: str | None, event_at: str | None) -> tuple[str, dict[str, Any]]:
    """A relationship as `iter_graph` makes it once its ends are `start` and `end`:
    its uid follows its ends, and INVOLVED_IN says again whether the person (born
    `start_dob`) was a child at the event (`event_at`)."""
    uid = rel_uid(rel_type, props["source"], start, end)
    out = props | {"uid": uid}
    if rel_type == "INVOLVED_IN" and event_at is not None:
        out["child_at_event"] = schema.child_on(start_dob, event_at)
    return uid, out
