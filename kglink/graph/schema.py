"""The POLE graph, declared once.

Node labels, relationship types, their properties, the Neo4j constraints and indexes,
the networkx attribute names and the list of allowed labels and types all come from
here. The builder checks what it produces against it, and the Neo4j store refuses any
label or type that is not declared (labels cannot be Cypher parameters, so this
declaration is the only way one reaches a query).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kglink import vocab
from kglink.errors import KglinkError

# networkx: the node attribute holding the label and the edge attribute holding the type.
# Edges are keyed by their uid in the MultiDiGraph.
LABEL_ATTR = "label"
TYPE_ATTR = "type"

# Every node and relationship says where it came from.
PROVENANCE = ("uid", "agency", "source", "load_id")

SYNC_LABEL = "KglinkSync"   # the sync state node in Neo4j; not part of the graph

# Bump when the builder's output changes for the same workspace: stored graphs are rebuilt.
VERSION = 2    # 2: INVOLVED_IN.child_at_event

ADULT_AGE = 18


def years_before(day: str, years: int) -> str:
    """The ISO date `years` before `day` (ISO date or datetime; a 29 February goes to the
    28th). Cypher: `toString(date(left(day, 10)) - duration({years: n}))`."""
    d = date.fromisoformat(day[:10])
    try:
        return d.replace(year=d.year - years).isoformat()
    except ValueError:
        return d.replace(year=d.year - years, day=28).isoformat()


def child_on(dob: str | None, day: str) -> bool:
    """Under 18 on that day, by an ISO date of birth (unknown: not a child). Cypher:
    `dob > toString(date(left(day, 10)) - duration({years: 18}))`."""
    return dob is not None and dob > years_before(day, ADULT_AGE)


@dataclass(frozen=True)
class NodeSpec:
    label: str
    description: str
    properties: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def all_properties(self) -> tuple[str, ...]:
        return PROVENANCE + self.properties


@dataclass(frozen=True)
class RelSpec:
    type: str
    description: str
    endpoints: tuple[tuple[str, str], ...]   # allowed (start label, end label)
    properties: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def all_properties(self) -> tuple[str, ...]:
        return PROVENANCE + self.properties


_RECORD_PROVENANCE = ("record_id", "first_load", "source_file", "source_row")
_ENTITY = ("entity_id", "name", "members")

PERSON_RECORD_FIELDS = (
    "forenames", "surname", "dob", "sex", "aliases", "nhs_number", "nhs_number_valid",
    "pnc_id", "upn", "phone", "email", "occupation", "extra",
)
ADDRESS_RECORD_FIELDS = ("line1", "line2", "town", "postcode", "postcode_valid", "uprn", "kind", "extra")

# Event attributes copied to their own property (scalars only) so queries need no JSON.
# The police_protection attribute `ended_at` would clash with the event's own ended_at.
EVENT_ATTRIBUTE_PROPERTIES: dict[str, str] = {
    "detained_at": "detained_at",
    "appropriate_adult_requested_at": "appropriate_adult_requested_at",
    "appropriate_adult_arrived_at": "appropriate_adult_arrived_at",
    "charged": "charged",
    "bail_refused": "bail_refused",
    "transferred_to_local_authority_at": "transferred_to_local_authority_at",
    "started_at": "started_at",
    "ended_at": "protection_ended_at",
    "reported_at": "reported_at",
    "found_at_time": "found_at_time",
    "episode_number": "episode_number",
    "images_count": "images_count",
    "category": "category",
    "rag": "rag",
    "concern": "concern",
    "visit_type": "visit_type",
}

NODES: dict[str, NodeSpec] = {s.label: s for s in (
    NodeSpec("Person", "a person: every source record linkage says is this one person",
             _ENTITY + ("names", "forenames", "surname", "dob", "sex", "occupations"),
             (("entity_id",), ("dob",))),
    NodeSpec("PersonRecord", "one row of an agency's persons.csv, cleaned",
             _RECORD_PROVENANCE + PERSON_RECORD_FIELDS,
             (("agency", "record_id"), ("surname",))),
    NodeSpec("Address", "an address: every source record linkage says is this one place",
             _ENTITY + ("line1", "town", "postcode", "postcode_district", "uprn", "kind"),
             (("entity_id",), ("postcode",), ("postcode_district",))),
    NodeSpec("AddressRecord", "one row of an agency's addresses.csv, cleaned",
             _RECORD_PROVENANCE + ADDRESS_RECORD_FIELDS,
             (("agency", "record_id"),)),
    NodeSpec("Event", "one row of an agency's events.csv: incident, referral, episode, meeting",
             ("id", "record_id", "first_load", "source_file", "source_row", "type",
              "occurred_at", "ended_at", "risk", "status", "reference", "description",
              "attributes") + tuple(EVENT_ATTRIBUTE_PROPERTIES.values()),
             (("type",), ("occurred_at",), ("agency", "record_id"))),
    NodeSpec("Flag", "one row of an agency's flags.csv: a marker on a person",
             ("flag", "from_date", "to_date", "detail", "person_record", "first_load",
              "source_file", "source_row"),
             (("flag",),)),
)}

_PERSON_LINK = ("from_date", "to_date", "start_record", "end_record", "first_load")


def _rel_type(relation: str) -> str:
    return relation.upper()


OCCUPANCY_TYPES: dict[str, str] = {r: _rel_type(r) for r in vocab.OCCUPANCY_RELATIONS}
PERSON_RELATION_TYPES: dict[str, str] = {r: _rel_type(r) for r in vocab.PERSON_RELATIONS}
HOME_TYPES: frozenset[str] = frozenset(OCCUPANCY_TYPES[r] for r in vocab.HOME_RELATIONS)

RELATIONSHIPS: dict[str, RelSpec] = {s.type: s for s in (
    RelSpec("RESOLVED_AS", "a source record belongs to this entity (linkage)",
            (("PersonRecord", "Person"), ("AddressRecord", "Address")), ("probability",)),
    *(RelSpec(t, f"occupancies.csv relation {r}", (("Person", "Address"),), _PERSON_LINK)
      for r, t in OCCUPANCY_TYPES.items()),
    *(RelSpec(t, f"relationships.csv relation {r}"
              + (" (reads start -> end)" if r in vocab.DIRECTED_PERSON_RELATIONS
                 else " (no direction: match either way)"),
              (("Person", "Person"),), _PERSON_LINK)
      for r, t in PERSON_RELATION_TYPES.items()),
    # child_at_event: the person (by the entity's date of birth) was under 18 on the day
    # of the event (child_on). Derived, so that "children in events" starts from an index
    # instead of every event's people.
    RelSpec("INVOLVED_IN", "event_people.csv: a person took part in an event",
            (("Person", "Event"),), ("role", "start_record", "first_load", "child_at_event"),
            (("role", "child_at_event"),)),
    RelSpec("OCCURRED_AT", "event_addresses.csv: where an event happened",
            (("Event", "Address"),), ("role", "end_record", "first_load")),
    RelSpec("HAS_FLAG", "flags.csv: a marker on a person",
            (("Person", "Flag"),), ("start_record",)),
)}

LABELS: frozenset[str] = frozenset(NODES)
TYPES: frozenset[str] = frozenset(RELATIONSHIPS)

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class SchemaError(KglinkError, ValueError):
    """A label, type or property that the graph schema does not declare."""


def check_label(label: str) -> str:
    if label not in NODES:
        raise SchemaError(f"unknown node label {label!r}; the schema declares {sorted(LABELS)}")
    return label


def check_type(rel_type: str, start: str | None = None, end: str | None = None) -> str:
    spec = RELATIONSHIPS.get(rel_type)
    if spec is None:
        raise SchemaError(f"unknown relationship type {rel_type!r}; the schema declares {sorted(TYPES)}")
    if start is not None and (start, end) not in spec.endpoints:
        raise SchemaError(f"{rel_type} does not go from {start} to {end}")
    return rel_type


def _index_name(kind: str, name: str, props: tuple[str, ...]) -> str:
    return f"kglink_{kind}_{name}_{'_'.join(props)}".lower()


def constraint_statements() -> dict[str, str]:
    """Cypher DDL by name: a uniqueness constraint on uid for every node label.

    DDL cannot take parameters; every name here comes from this declaration and is
    checked to be a plain identifier.
    """
    out = {}
    for label in sorted(NODES):
        name = _index_name("uid", label, ("uid",))
        out[name] = (f"CREATE CONSTRAINT {name} IF NOT EXISTS "
                     f"FOR (n:{_ident(label)}) REQUIRE n.uid IS UNIQUE")
    out["kglink_sync_id"] = (f"CREATE CONSTRAINT kglink_sync_id IF NOT EXISTS "
                             f"FOR (n:{SYNC_LABEL}) REQUIRE n.id IS UNIQUE")
    return out


def index_statements() -> dict[str, str]:
    """Cypher DDL by name: the declared node indexes, and an index on uid for every
    relationship type. Relationship uids are unique by construction (a hash of type,
    source and ends); a uniqueness constraint would check it again on every write and
    makes creating relationships about 1.7 times slower."""
    out = {}
    for label, spec in sorted(NODES.items()):
        for props in spec.indexes:
            name = _index_name("idx", label, props)
            cols = ", ".join(f"n.{_ident(p)}" for p in props)
            out[name] = f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{_ident(label)}) ON ({cols})"
    for rel_type, rspec in sorted(RELATIONSHIPS.items()):
        name = f"kglink_ruid_{rel_type.lower()}"
        out[name] = (f"CREATE INDEX {name} IF NOT EXISTS "
                     f"FOR ()-[r:{_ident(rel_type)}]-() ON (r.uid)")
        for props in rspec.indexes:
            name = _index_name("ridx", rel_type, props)
            cols = ", ".join(f"r.{_ident(p)}" for p in props)
            out[name] = (f"CREATE INDEX {name} IF NOT EXISTS "
                         f"FOR ()-[r:{_ident(rel_type)}]-() ON ({cols})")
    return out


def is_own_schema_name(name: str) -> bool:
    """A constraint or index kglink created (and may drop when it is no longer declared)."""
    return name.startswith("kglink_") and bool(_IDENTIFIER.match(name))


def _ident(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise SchemaError(f"{name!r} is not a plain identifier")
    return name


def _check_declaration() -> None:
    """Names are identifiers, and no property hides the networkx label/type attribute."""
    for spec in NODES.values():
        _ident(spec.label)
        for p in spec.all_properties:
            _ident(p)
        if LABEL_ATTR in spec.all_properties:
            raise SchemaError(f"{spec.label} declares {LABEL_ATTR!r}, the networkx label attribute")
        for props in spec.indexes:
            missing = set(props) - set(spec.all_properties)
            if missing:
                raise SchemaError(f"{spec.label} indexes undeclared {sorted(missing)}")
    for rspec in RELATIONSHIPS.values():
        _ident(rspec.type)
        for p in rspec.all_properties:
            _ident(p)
        if TYPE_ATTR in rspec.all_properties:
            raise SchemaError(f"{rspec.type} declares {TYPE_ATTR!r}, the networkx type attribute")
        for props in rspec.indexes:
            missing = set(props) - set(rspec.all_properties)
            if missing:
                raise SchemaError(f"{rspec.type} indexes undeclared {sorted(missing)}")
        for start, end in rspec.endpoints:
            check_label(start)
            check_label(end)


_check_declaration()
