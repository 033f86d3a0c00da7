"""Columnar tables of standardised records, ready for blocking and comparison.

One row per active source record, ordered by source key, so that results never depend
on the order records were loaded in.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import numpy as np
import orjson
from numpy.typing import NDArray

from kglink import parallel, vocab
from kglink.linkage.entities import Membership, source_key
from kglink.standardise.address import parse_address
from kglink.linkage.fields.dob import dob_key
from kglink.linkage.fields.name import phonetic
from kglink.standardise.postcode import parse_postcode
from kglink.workspace import Workspace

Obj = NDArray[np.object_]
T = TypeVar("T")


def _obj(values: Sequence[object]) -> Obj:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


@dataclass
class Table:
    """Single-valued columns in `cols`, multi-valued ones (lists per record) in `multi`."""

    kind: str
    keys: list[str]
    cols: dict[str, Obj] = field(default_factory=dict)
    multi: dict[str, list[list[str]]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.keys)

    def derived(self, key: str, make: Callable[[], T]) -> T:
        """A value worked out from the table once and kept on it (codes, per-record
        arrays): a prepared table is never changed, and forked workers inherit them."""
        held: dict[str, Any] = self.__dict__.setdefault("_derived", {})
        if key not in held:
            held[key] = make()
        return held[key]  # type: ignore[no-any-return]

    def index(self) -> dict[str, int]:
        """Each record key's row, worked out once per table (a million-key dict is read
        by several stages)."""
        return self.derived("key_index", lambda: {k: i for i, k in enumerate(self.keys)})

    def agencies(self) -> NDArray[np.int64]:
        """Per record, a number for the agency it came from (the part of its key before
        the first ':'), worked out once."""
        def make() -> NDArray[np.int64]:
            seen: dict[str, int] = {}
            return np.fromiter((seen.setdefault(k.split(":", 1)[0], len(seen)) for k in self.keys),
                               dtype=np.int64, count=self.n)
        return self.derived("agency_codes", make)

    def fingerprints(self) -> list[str]:
        """A hash per record of every prepared feature: if it changes, relink the record."""
        # Each record's values, column by column, every one followed by \x1f (a list
        # joined by \x1e), hashed as one string: the same hash as feeding the values one
        # by one, with one call per record instead of one per column. Hashing in forked
        # chunks was tried (eighteenth session) and saved nothing here: each process
        # touches, and so copies, the pages of every string it reads.
        cols = [list(map(str, self.cols[c].tolist())) for c in sorted(self.cols)]
        cols += [["\x1e".join(v) for v in self.multi[c]] for c in sorted(self.multi)]
        blake2b = hashlib.blake2b
        return [blake2b(("\x1f".join(row) + "\x1f").encode(), digest_size=12).hexdigest()
                for row in zip(*cols)] if cols else [blake2b(digest_size=12).hexdigest()] * self.n


def person_table(ws: Workspace, address_entities: dict[str, Membership],
                 crowded_threshold: int, only: set[str] | None = None,
                 places: AddressPlaces | None = None) -> Table:
    """`places`: the address records' kinds and postcodes, if a link run has them from
    its address table (`address_places`), else read from the records."""
    everyone = sorted(((source_key(a, k), d) for a, k, d in ws.records("person")),
                      key=lambda t: t[0])
    persons = everyone if only is None else [(k, d) for k, d in everyone if k in only]
    shared_places, postcode_of = places or address_places(ws)
    homes, visits, since = _occupancy_places(ws)
    taking_part = _event_people(ws)
    events, present, together = _event_places(ws, taking_part)
    # A place many unrelated records live at (care home, hostel) says little about identity.
    related: dict[str, set[str]] = defaultdict(set)   # records an agency says are related
    # ... or records as taking part in one event: an agency names each person in an
    # incident once (the victim and the witness of one assault, father and son of one name).
    for people in together:
        for a in people:
            related[a].update(b for b in people if b != a)
    parent_child: list[tuple[str, str]] = []
    partners: list[tuple[str, str]] = []
    for agency, _, rel in ws.records("relationship"):
        a, b = source_key(agency, rel["person_id"]), source_key(agency, rel["other_person_id"])
        if a != b:
            related[a].add(b)
            related[b].add(a)
            if rel["relation"] == "parent_of":
                parent_child.append((a, b))
            elif rel["relation"] in ("partner_of", "ex_partner_of"):
                partners.append((a, b))
    by_key = dict(everyone)
    _siblings(parent_child, by_key, related)
    # Before linkage the same family appears once per agency, so count distinct surnames,
    # not records: a care home or hostel houses many families, a family home one or two.
    surname_of = {k: d["surname"] for k, d in everyone}
    occupants: dict[str, set[str]] = defaultdict(set)
    for pkey, akeys in homes.items():
        for ak in akeys:
            if ak in address_entities and pkey in surname_of:
                occupants[address_entities[ak].entity_id].add(surname_of[pkey])
    crowded = {e for e, names in occupants.items()
               if len(names) > crowded_threshold and families(names) > crowded_threshold}
    for ak, m in address_entities.items():
        if ak in shared_places:
            crowded.add(m.entity_id)
    # A place tied to people of many families through events or visits (a shop, a
    # station, a park) is not where any of them lives: it says nothing of who they are.
    visitors: dict[str, set[str]] = defaultdict(set)
    for ties in (events, present, visits):
        for pkey, akeys in ties.items():
            for ak in akeys:
                if ak in address_entities and pkey in surname_of:
                    visitors[address_entities[ak].entity_id].add(surname_of[pkey])
    busy = crowded | {e for e, names in visitors.items()
                      if len(names) > crowded_threshold and families(names) > crowded_threshold}

    entity_of = {a: m.entity_id for a, m in address_entities.items()}

    def entities(akeys: list[str], drop: AbstractSet[str], *also: list[str]) -> list[str]:
        """The address entities of these address records, less those in `drop` (a large
        set, never copied) and in the lists `also` (the record's stronger ties)."""
        if not akeys:
            return []
        out = {e for a in akeys if (e := entity_of.get(a)) is not None and e not in drop}
        for stronger in also:
            out.difference_update(stronger)
        return sorted(out)

    def postcodes(akeys: list[str]) -> list[str]:
        return sorted({pc for a in akeys if (pc := postcode_of.get(a)) is not None})

    t = Table("person", [k for k, _ in persons])
    kin = _relative_records(t.keys, parent_child, partners)
    fore, fore_all, sur, dob, sex, nhs, pnc, upn, phone, email = ([] for _ in range(10))
    variants: list[list[str]] = []
    ents: list[list[str]] = []
    crowd: list[list[str]] = []
    event_ents: list[list[str]] = []
    visit_ents: list[list[str]] = []
    present_ents: list[list[str]] = []
    household_ents: list[list[str]] = []
    units: list[list[str]] = []
    no_ties: list[str] = []
    for i, (key, d) in enumerate(persons):
        forenames, surname = d["forenames"], d["surname"]
        fore.append(forenames.split(" ")[0] if forenames else "")
        fore_all.append(forenames)
        sur.append(surname)
        variants.append([f"{forenames}\x1f{surname}"]
                        + [f"{a['forenames']}\x1f{a['surname']}" for a in d["aliases"]])
        dob.append(dob_key(d["dob"]))
        sex.append(d["sex"] if d["sex"] in ("M", "F") else "")
        nhs.append(d["nhs_number"] or "")
        pnc.append(d["pnc_id"] or "")
        upn.append(d["upn"] or "")
        phone.append(d["phone"] or "")
        email.append(d["email"] or "")
        home = homes.get(key, no_ties)
        e_ids = entities(home, _NOTHING)
        ents.append([e for e in e_ids if e not in crowded])
        crowd.append([e for e in e_ids if e in crowded])
        at, there, went = events.get(key, no_ties), present.get(key, no_ties), visits.get(key, no_ties)
        at_events = entities(at, busy, e_ids)
        was_at = entities(there, busy, e_ids, at_events)
        visited = entities(went, busy, e_ids, at_events, was_at)
        event_ents.append(at_events)
        present_ents.append(was_at)
        visit_ents.append(visited)
        # A record tied to no place at all (a pupil's contact with no address on file) is
        # placed, more weakly, at the homes of the children and partner its agency names.
        household: list[str] = []
        if not (e_ids or at_events or was_at or visited):
            household = [a for r in kin["child_records"][i] + kin["partner_records"][i]
                         for a in homes.get(r, [])]
        household_ents.append(entities(household, crowded))
        # Postcodes of the homes; a record with no home on file is placed by its events
        # and visits (a victim with no address recorded, at the incident at her home), and
        # failing those by its household's homes.
        units.append(postcodes(home) or postcodes(
            [a for a in at + there + went if (e := entity_of.get(a)) is not None and e not in busy])
            or postcodes(household))
    t.cols.update(forename=_obj(fore), forenames_all=_obj(fore_all), surname=_obj(sur),
                  dob=_obj(dob), sex=_obj(sex), nhs_number=_obj(nhs), pnc_id=_obj(pnc),
                  upn=_obj(upn), phone=_obj(phone), email=_obj(email))
    t.multi.update(names=variants, address_entity=ents, crowded_entity=crowd, event_entity=event_ents,
                   visit_entity=visit_ents, present_entity=present_ents,
                   household_entity=household_ents, postcode=units,
                   related=[sorted(related.get(k, ())) for k in t.keys])
    parents_born, children_born = _related_birth_years(t.keys, {k: d["dob"] for k, d in everyone},
                                                       parent_child)
    born_by = _born_by(ws, since, taking_part)
    t.cols.update(parents_born=_obj(parents_born), children_born=_obj(children_born),
                  born_by=_obj([born_by.get(k, NO_CHILD_BORN) for k in t.keys]))
    children, partners_of = _relatives(t.keys, by_key, parent_child, partners)
    t.multi.update(children=children, partners=partners_of)
    t.multi.update(kin)
    return t


class AddressPlaces(NamedTuple):
    """What the person table reads of the address records."""
    shared: set[str]                # records of a place many share (SHARED_KINDS)
    postcode: dict[str, str]        # record -> its postcode, where it has one


def address_places(ws: Workspace, addresses: Table | None = None) -> AddressPlaces:
    """From the address table when given (its postcode column is the stored postcode,
    already canonical: the same values), else from every address record decoded again
    (~7 s at 1M)."""
    if addresses is not None:
        kinds, units = addresses.cols["kind"].tolist(), addresses.cols["postcode"].tolist()
        return AddressPlaces({k for k, kind in zip(addresses.keys, kinds) if kind in SHARED_KINDS},
                             {k: pc for k, pc in zip(addresses.keys, units) if pc})
    places = AddressPlaces(set(), {})
    for a, k, d in ws.records("address"):
        if d.get("kind") in SHARED_KINDS:
            places.shared.add(source_key(a, k))
        if d["postcode"]:
            places.postcode[source_key(a, k)] = d["postcode"]
    return places


def _relative_records(keys: list[str], parent_child: list[tuple[str, str]],
                      partners: list[tuple[str, str]]) -> dict[str, list[list[str]]]:
    """Per record, the keys of the records its agency names as its children, its partners
    (partner_of, ex_partner_of, the other parent of one of its children) and its parents:
    once those records are linked, two records naming one child are one parent
    (kglink/linkage/relational.py)."""
    kids: dict[str, set[str]] = defaultdict(set)
    mates: dict[str, set[str]] = defaultdict(set)
    parents: dict[str, set[str]] = defaultdict(set)
    for parent, child in parent_child:
        kids[parent].add(child)
        parents[child].add(parent)
    for ps in parents.values():
        for a in ps:
            mates[a].update(ps - {a})
    for a, b in partners:
        mates[a].add(b)
        mates[b].add(a)
    return {"child_records": [sorted(kids.get(k, ())) for k in keys],
            "partner_records": [sorted(mates.get(k, ())) for k in keys],
            "parent_records": [sorted(parents.get(k, ())) for k in keys]}


_NOTHING: frozenset[str] = frozenset()
SHARED_KINDS = frozenset({"care_home", "supported_accommodation", "hotel", "school", "business"})
# Roles that tie a person to the place where an event happened to them or that they did:
# a victim, a suspect, a child involved, a missing person at the place they went missing
# from. A witness or a reporting person is a weaker tie (PRESENT_ROLES); an appropriate adult
# is there for someone else.
PLACE_ROLES = frozenset({"victim", "suspect", "perpetrator", "offender", "involved_child",
                         "missing_person", "subject"})
# Roles of people present at an event without its being about them: often at their own
# home (a parent reporting a child missing), often not. A weaker tie, learnt apart.
PRESENT_ROLES = frozenset({"reporting_person", "witness", "associate", "detained"})
EVENT_PLACE_ROLES = frozenset({"location", "missing_from"})
VISIT_RELATIONS = frozenset({"visits", "frequents"})


def _siblings(parent_child: list[tuple[str, str]], person: dict[str, dict[str, Any]],
              related: dict[str, set[str]]) -> None:
    """Two records an agency names as children of one parent, under different first
    names, are two children (twins AMARA and AMARI, born one day): related, as the
    agency's own relations are. Under one first name they may be its duplicate of one
    child, left to the other evidence."""
    children: dict[str, list[str]] = defaultdict(list)
    for parent, child in parent_child:
        children[parent].append(child)
    for kids in children.values():
        for i, a in enumerate(kids):
            for b in kids[i + 1:]:
                if a != b and _first(person, a) != _first(person, b):
                    related[a].add(b)
                    related[b].add(a)


def _first(person: dict[str, dict[str, Any]], key: str) -> str:
    """The record's first forename ("" where the record is not loaded)."""
    return str(person.get(key, {}).get("forenames") or "").split(" ")[0]


def families(surnames: AbstractSet[str]) -> int:
    """How many families these surnames stand for: spellings a typing slip apart (JOHNSON
    and JOHSON, JONES and JOONES: one edit, transpositions included, in names of four letters
    or more; SMITH, SMYTH and SMIHT through each other) count once. Agencies misspell a
    family's name between them, and counting each spelling as a family made an ordinary
    home look like a hostel: its people's ties to it were then dropped as evidence."""
    if len(surnames) <= 1:
        return len(surnames)
    from rapidfuzz.distance import OSA
    names = sorted(surnames)
    family = list(range(len(names)))       # each name's family: the first name of its chain

    def root(i: int) -> int:
        while family[i] != i:
            i = family[i]
        return i
    for i, a in enumerate(names):
        for j in range(i):
            b = names[j]
            if len(a) >= 4 and len(b) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1:
                family[root(i)] = root(j)
    return len({root(i) for i in range(len(names))})


def _occupancy_places(ws: Workspace) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, int]]:
    """Per person record, the addresses it calls home (lives_at, registered_at, placed_at)
    and those it visits or frequents; and the earliest year its agency has it anywhere
    (it was born by then: a woman at her home since 2007 is not a baby born in 2025). A
    date on 1 January is passed over: it is how systems write a year with no date, or no
    date at all (1900-01-01)."""
    homes: dict[str, list[str]] = defaultdict(list)
    visits: dict[str, list[str]] = defaultdict(list)
    since: dict[str, int] = {}
    for agency, _, occ in ws.records("occupancy"):
        person = source_key(agency, occ["person_id"])
        ties = homes if occ["relation"] in vocab.HOME_RELATIONS else \
            visits if occ["relation"] in VISIT_RELATIONS else None
        if ties is not None:
            ties[person].append(source_key(agency, occ["address_id"]))
        start = occ.get("from_date") or ""
        if start[:4].isdigit() and start[4:10] != "-01-01":
            since[person] = min(since.get(person, NO_CHILD_BORN), int(start[:4]))
    return homes, visits, since


# The youngest a person can be in a role, by law in England and Wales: criminal
# responsibility begins at 10; domestic abuse (Domestic Abuse Act 2021) and MARAC are
# about people aged 16 and over; an appropriate adult is an adult.
ROLE_MIN_AGE = {"suspect": 10, "perpetrator": 10, "offender": 10, "detained": 10,
                "appropriate_adult": 18}
EVENT_MIN_AGE = {"domestic_abuse": 16, "marac_case": 16}
EVENT_MIN_AGE_ROLES = frozenset({"victim", "perpetrator", "subject"})
# Whoever took part in an event was born by then (a witness, a reporting person, a
# victim), except the child an event may be about before birth (a pre-birth assessment,
# a conference on an unborn child).
MAYBE_UNBORN_ROLES = frozenset({"subject", "involved_child"})


def _event_people(ws: Workspace) -> list[tuple[str, str, str]]:
    """(event, person record, role) of every event_person row, as source keys: read once
    for the places of events (_event_places) and the years people were born by (_born_by)."""
    return [(source_key(agency, ep["event_id"]), source_key(agency, ep["person_id"]), ep["role"])
            for agency, _, ep in ws.records("event_person")]


def _born_by(ws: Workspace, since: dict[str, int], taking_part: list[tuple[str, str, str]]) -> dict[str, int]:
    """Per person record, the latest year it can have been born in, from the roles its
    agency records it in (ROLE_MIN_AGE, EVENT_MIN_AGE): a perpetrator of a crime in 2025
    was born by 2015, a witness of an incident in 2009 by 2009 (MAYBE_UNBORN_ROLES aside).
    For the parent_age rule, beside recorded parents and children; `since`: the earliest
    year each record's agency has it at an address (_occupancy_places); `taking_part`:
    _event_people. Of each event only its year and type are read (SQLite's JSON, not
    every event decoded)."""
    when: dict[str, tuple[int, str]] = {}
    for agency, key, at, kind in ws.conn.execute(
            "SELECT agency, key, json_extract(data, '$.occurred_at'), json_extract(data, '$.type') "
            "FROM records WHERE kind = 'event' AND status = 'active'"):
        at = at if isinstance(at, str) else ""
        if at[:4].isdigit():
            when[source_key(agency, key)] = (int(at[:4]), kind if isinstance(kind, str) else "")
    out = dict(since)
    for event, person, role in taking_part:
        happened = when.get(event)
        if happened is None:
            continue
        year, kind = happened
        age = max(ROLE_MIN_AGE.get(role, 0),
                  EVENT_MIN_AGE.get(kind, 0) if role in EVENT_MIN_AGE_ROLES else 0)
        if age or role not in MAYBE_UNBORN_ROLES:
            out[person] = min(out.get(person, NO_CHILD_BORN), year - age)
    return out


# An event naming more people than this (an operation, a large gathering) is not read for
# who took part together: its pairs would outnumber what they tell.
MAX_EVENT_PEOPLE = 50


def _event_places(ws: Workspace, taking_part: list[tuple[str, str, str]]
                  ) -> tuple[dict[str, list[str]], dict[str, list[str]], list[set[str]]]:
    """Per person record, the addresses where the events it took part in happened
    (EVENT_PLACE_ROLES): those it was a party to (PLACE_ROLES), and those it was only
    present at (PRESENT_ROLES); and the person records of each event (two or more, at
    most MAX_EVENT_PEOPLE). `taking_part`: _event_people."""
    where: dict[str, list[str]] = defaultdict(list)
    for agency, _, ea in ws.records("event_address"):
        if ea["role"] in EVENT_PLACE_ROLES:
            where[source_key(agency, ea["event_id"])].append(source_key(agency, ea["address_id"]))
    party: dict[str, list[str]] = defaultdict(list)
    present: dict[str, list[str]] = defaultdict(list)
    people: dict[str, set[str]] = defaultdict(set)
    for event, person, role in taking_part:
        people[event].add(person)
        ties = party if role in PLACE_ROLES else present if role in PRESENT_ROLES else None
        if ties is not None:
            ties[person] += where.get(event, [])
    return party, present, [p for p in people.values() if 1 < len(p) <= MAX_EVENT_PEOPLE]


def _relatives(keys: list[str], person: dict[str, dict], parent_child: list[tuple[str, str]],
               partners: list[tuple[str, str]]) -> tuple[list[list[str]], list[list[str]]]:
    """Per record, who its agency says its relatives are, as values two agencies' records
    can share: each child as first name and date of birth, each partner (partner_of,
    ex_partner_of, or the other parent of one of its children) as first name and surname.
    For the shared_relative rule."""
    def first(k: str) -> str:
        return (person[k]["forenames"] or "").split(" ")[0]

    kids: dict[str, set[str]] = defaultdict(set)
    mates: dict[str, set[str]] = defaultdict(set)
    parents_of: dict[str, list[str]] = defaultdict(list)
    for parent, child in parent_child:
        if parent in person and child in person:
            parents_of[child].append(parent)
            if first(child) and person[child]["dob"]:
                kids[parent].add(f"{first(child)}\x1f{person[child]['dob']}")
    pairs = partners + [(a, b) for ps in parents_of.values() for a in ps for b in ps if a != b]
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            if x in person and y in person and first(y) and person[y]["surname"]:
                mates[x].add(f"{first(y)}\x1f{person[y]['surname']}")
    return [sorted(kids.get(k, ())) for k in keys], [sorted(mates.get(k, ())) for k in keys]


NO_PARENT_BORN, NO_CHILD_BORN = 0, 9999


def _related_birth_years(keys: list[str], dob: dict[str, str | None],
                         parent_child: list[tuple[str, str]]) -> tuple[list[int], list[int]]:
    """Per record, the latest year of birth of a parent and the earliest of a child that its
    agency records (parent_of), for the parent_age rule; NO_PARENT_BORN / NO_CHILD_BORN where
    no such relative has a date of birth."""
    parents = dict.fromkeys(keys, NO_PARENT_BORN)
    children = dict.fromkeys(keys, NO_CHILD_BORN)
    for parent, child in parent_child:
        if child in parents and dob.get(parent):
            parents[child] = max(parents[child], int(dob[parent][:4]))  # type: ignore[index]
        if parent in children and dob.get(child):
            children[parent] = min(children[parent], int(dob[child][:4]))  # type: ignore[index]
    return [parents[k] for k in keys], [children[k] for k in keys]


ADDRESS_COLUMNS = ("uprn", "postcode", "sector", "district", "flat", "number", "house_name", "street",
                   "street_phonetic", "town", "kind")


def address_table(ws: Workspace, only: set[str] | None = None, *, keep: bool = False) -> Table:
    """The address records' prepared fields (ADDRESS_COLUMNS), one row per active record.

    `keep` (a link run, inside its transaction): reuse the fields kept in
    `prepared_addresses` for every record whose row is as it was then (the same content
    hash), and keep those of the others. A record's fields depend on its own row alone, so
    the next night prepares only the rows that changed (at 1M, parsing every address again
    took ~18 s of the next night's link). Kept fields made by other code (a kglink whose
    parsing differs: `_fields_code`) are dropped first."""
    rows: list[tuple[str, Sequence[str]]]
    if not keep:
        rows = sorted(((source_key(a, k), _address_fields(d)) for a, k, d in ws.records("address")
                       if only is None or source_key(a, k) in only), key=lambda t: t[0])
    else:
        rows = _kept_address_fields(ws)
    t = Table("address", [k for k, _ in rows])
    # Every column, even of no addresses (agencies that hold none, like a register's).
    columns = list(zip(*(f for _, f in rows))) or [()] * len(ADDRESS_COLUMNS)
    for name, values in zip(ADDRESS_COLUMNS, columns):
        t.cols[name] = _obj(values)
    return t


def _address_fields(d: dict[str, Any]) -> tuple[str, ...]:
    """One address record's prepared fields, in ADDRESS_COLUMNS order."""
    p = parse_address(d["line1"], d.get("line2"), d.get("town"))
    pc = parse_postcode(d["postcode"]) if d["postcode"] else None
    return (d.get("uprn") or "", pc.unit if pc else "", pc.sector if pc else "",
            pc.district if pc else "", p.flat, p.number, p.house_name, p.street,
            phonetic(p.street.replace(" ", "")) if p.street else "", p.town,
            d.get("kind") or "residential")


def _fields_code() -> str:
    """What the kept fields were made by: the source of the code that makes them and the
    phonetic library's version. Any change there and every record is prepared again."""
    import inspect
    from importlib.metadata import version

    import kglink.linkage.fields.name as name_module
    import kglink.standardise.address as address_module
    import kglink.standardise.postcode as postcode_module
    text = "\x1f".join([inspect.getsource(_address_fields), repr(ADDRESS_COLUMNS), version("jellyfish")]
                       + [inspect.getsource(m) for m in (address_module, postcode_module, name_module)])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _kept_address_fields(ws: Workspace) -> list[tuple[str, Sequence[str]]]:
    """(source key, fields) of every active address record, sorted by key: kept fields
    where the record's content hash is the one they were made from, the rest made now
    (over the cores when there are many: a first link at 1M parses every address) and kept."""
    conn, code = ws.conn, _fields_code()
    if ws.get_meta("prepared_addresses_code") != code:
        conn.execute("DELETE FROM prepared_addresses")
        ws.set_meta(conn, "prepared_addresses_code", code)
    rows: list[tuple[str, Sequence[str]]] = []
    to_make: list[tuple[int, str, str, str]] = []     # (row, agency, key, content hash)
    texts: list[str] = []
    for agency, key, content_hash, fields, data in conn.execute(
            "SELECT r.agency, r.key, r.content_hash, p.fields, "
            "CASE WHEN p.content_hash IS r.content_hash THEN NULL ELSE r.data END "
            "FROM records r LEFT JOIN prepared_addresses p ON p.agency = r.agency AND p.key = r.key "
            "WHERE r.kind = 'address' AND r.status = 'active'"):
        if data is None:
            # a list: making tuples of 1M of them costs seconds
            rows.append((source_key(agency, key), orjson.loads(fields)))
        else:
            to_make.append((len(rows), agency, key, content_hash))
            texts.append(data)
            rows.append((source_key(agency, key), ()))
    made = []
    for (at, agency, key, content_hash), values in zip(to_make, _fields_of_rows_over_cores(texts)):
        rows[at] = (rows[at][0], values)
        made.append((agency, key, content_hash, orjson.dumps(values).decode()))
    conn.executemany("INSERT OR REPLACE INTO prepared_addresses VALUES (?,?,?,?)", made)
    rows.sort(key=lambda t: t[0])
    return rows


def _fields_of_rows(_context: object, texts: list[str]) -> list[Sequence[str]]:
    """Prepared fields of address rows given as their JSON text (a Pool's work)."""
    return [_address_fields(orjson.loads(text)) for text in texts]


# Address rows to make before they are sent to other processes, and the size of each batch.
PREPARE_BATCH = 20_000


def _fields_of_rows_over_cores(texts: list[str]) -> list[Sequence[str]]:
    """`_fields_of_rows` over the cores (kglink.parallel.Pool) when there are
    PREPARE_BATCH rows or more to make (a first link at 1M parses every address), else here."""
    if len(texts) < PREPARE_BATCH or parallel.workers() <= 1:
        return _fields_of_rows(None, texts)
    with parallel.Pool(_fields_of_rows, parallel.workers() - 1) as pool:
        return pool.map(None, texts, PREPARE_BATCH)
