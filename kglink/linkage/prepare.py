"""Columnar tables of standardised records, ready for blocking and comparison.

One row per active source record, ordered by source key, so that results never depend
on the order records were loaded in.
"""
from __future__ import annotations

import hashlib
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
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
from kglink.workspace.store import DB_NAME

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
        # (The joins by map, and the last \x1f as the join's with a column of "": ~7 % less.)
        cols = [list(map(str, self.cols[c].tolist())) for c in sorted(self.cols)]
        cols += [list(map("\x1e".join, self.multi[c])) for c in sorted(self.multi)]
        blake2b = hashlib.blake2b
        if not cols:
            return [blake2b(digest_size=12).hexdigest()] * self.n
        cols.append([""] * self.n)
        return [blake2b(row.encode(), digest_size=12).hexdigest() for row in map("\x1f".join, zip(*cols))]


def person_table(ws: Workspace, address_entities: dict[str, Membership],
                 crowded_threshold: int, only: set[str] | None = None,
                 places: AddressPlaces | None = None, *, keep: bool = False,
                 ahead: PartsAhead | None = None, with_related: bool = False) -> Table:
    """`places`: the address records' kinds and postcodes, if a link run has them from
    its address table (`address_places`), else read from the records. `keep` (a link run,
    inside its transaction): keep each agency's part (`agency_parts`) for the next run;
    `ahead`: parts made meanwhile in other processes (`parts_ahead`). `with_related`: the
    records in `only` and those their agencies relate to them, which the rules about
    relatives read (a twin's name: rules.twin_name), as a run's whole table holds them."""
    # (No person record at all: one empty part, so that the table still has its columns.)
    parts = agency_parts(ws, keep=keep, ahead=ahead) or [_AgencyPart.empty("")]
    surnames = [s for p in parts for s in p.cols["surname"]]
    ties = {name: [row for p in parts for row in p.ties[name]] for name in TIE_COLUMNS}
    shared_places, postcode_of = places or address_places(ws)
    # Before linkage the same family appears once per agency, so count distinct surnames,
    # not records: a care home or hostel houses many families, a family home one or two.
    entity_of = {a: m.entity_id for a, m in address_entities.items()}
    crowded = {e for e, names in _surnames_at(entity_of, surnames, (ties["homes"],)).items()
               if len(names) > crowded_threshold and families(names) > crowded_threshold}
    for ak, m in address_entities.items():
        if ak in shared_places:
            crowded.add(m.entity_id)
    # A place tied to people of many families through events or visits (a shop, a
    # station, a park) is not where any of them lives: it says nothing of who they are.
    visitors = _surnames_at(entity_of, surnames, (ties["events"], ties["present"], ties["visits"]))
    busy = crowded | {e for e, names in visitors.items()
                      if len(names) > crowded_threshold and families(names) > crowded_threshold}

    if only is not None and with_related:
        only = only | {r for p in parts for k, rel in zip(p.keys, p.multi["related"]) if k in only for r in rel}
    picked = None if only is None else [[i for i, k in enumerate(p.keys) if k in only] for p in parts]

    def rows(values: Callable[[_AgencyPart], list[T]]) -> list[T]:
        """A column over every part, of the records in `only` where it is given."""
        if picked is None:
            return [v for p in parts for v in values(p)]
        return [values(p)[i] for p, mine in zip(parts, picked) for i in mine]

    t = Table("person", rows(lambda p: p.keys))
    t.cols.update({name: _obj(rows(lambda p: p.cols[name])) for name in parts[0].cols})
    t.multi.update({name: rows(lambda p: p.multi[name]) for name in parts[0].multi})
    t.multi.update(_PersonPlaces(entity_of, postcode_of, crowded, busy).columns(
        *(ties[name] if only is None else rows(lambda p: p.ties[name]) for name in TIE_COLUMNS)))
    return t


# The address records each person record is tied to (per row of its agency's part): its
# homes (lives_at, registered_at, placed_at), the places of events it was a party to and
# of those it was present at, the places it visits or frequents, and the homes of the
# children and partners its agency names (its household).
TIE_COLUMNS = ("homes", "events", "present", "visits", "household")


@dataclass
class _AgencyPart:
    """One agency's person records, as prepared from that agency's records alone: their
    keys (sorted), the single- and multi-valued columns that depend on nothing else, and
    the address records each is tied to (TIE_COLUMNS). Relationships, events and
    occupancies tie records of one agency only, so a part is made again only when its
    agency's records change (a load or unload of that agency). What depends on every
    agency (address entities, crowded and busy places) is worked out from the parts."""

    agency: str
    keys: list[str]
    cols: dict[str, list[Any]]
    multi: dict[str, list[list[str]]]
    ties: dict[str, list[list[str]]]

    @classmethod
    def empty(cls, agency: str) -> "_AgencyPart":
        return _agency_part(agency, [], {}, {}, {}, {}, {}, [], [], {})

    def to_json(self) -> bytes:
        return orjson.dumps({"agency": self.agency, "keys": self.keys, "cols": self.cols,
                             "multi": self.multi, "ties": self.ties})

    @classmethod
    def from_json(cls, text: bytes) -> "_AgencyPart":
        d = orjson.loads(text)
        return cls(d["agency"], d["keys"], d["cols"], d["multi"], d["ties"])

    @classmethod
    def read(cls, text: bytes, agency: str) -> "_AgencyPart | None":
        """The kept part, or None where it cannot be read as this agency's (garbled, cut
        off, another agency's): it is then made again from the records, as a stale one is."""
        try:
            part = cls.from_json(text)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return None
        whole = all(len(v) == len(part.keys) for group in (part.cols, part.multi, part.ties) for v in group.values())
        return part if part.agency == agency and whole and set(part.ties) == set(TIE_COLUMNS) else None


def agency_parts(ws: Workspace, *, keep: bool = False, ahead: PartsAhead | None = None) -> list[_AgencyPart]:
    """Every agency's part of the person table, in the order of their keys ("agency:...").
    A part kept in `prepared_persons` is read back when its stamp is its agency's now (the
    same loads and unloads of it, made by the same code); the others are made from the
    records (or taken from `ahead`, made meanwhile in other processes), and with `keep` (a
    link run, inside its transaction) kept. At 1M, the next night's newer police extract
    leaves the other six agencies' parts as they were."""
    conn = ws.conn
    counts, stamps = _part_stamps(ws)
    kept = {agency: (stamp, part) for agency, stamp, part in conn.execute(
        "SELECT agency, stamp, part FROM prepared_persons")}
    made_ahead = ahead.take() if ahead is not None else {}
    parts = []
    for agency in counts:
        stamp = stamps[agency]
        held = kept.get(agency)
        if held is not None and held[0] == stamp and (part := _AgencyPart.read(held[1], agency)) is not None:
            parts.append(part)
            continue
        text = made_ahead.get(agency)
        made = None if text is None else _AgencyPart.read(text, agency)
        if made is None:
            made = _made_part(ws, agency)
            text = made.to_json() if keep else None
        if keep:
            conn.execute("INSERT OR REPLACE INTO prepared_persons (agency, stamp, part) VALUES (?,?,?)",
                         (agency, stamp, text))
        parts.append(made)
    if keep:
        gone = set(kept) - set(counts)
        conn.executemany("DELETE FROM prepared_persons WHERE agency = ?", [(a,) for a in sorted(gone)])
    return parts


def _part_stamps(ws: Workspace) -> tuple[dict[str, int], dict[str, str]]:
    """Per agency that holds active person records (in the order of their keys), how many
    it holds, and the stamp its part must have now."""
    conn, code = ws.conn, _parts_code()
    stamps = {agency: f"{code}|{n}:{last}:{unloaded}" for agency, n, last, unloaded in conn.execute(
        "SELECT l.agency, COUNT(*), MAX(l.load_id), "
        "(SELECT COUNT(*) FROM unloads u WHERE u.agency = l.agency) FROM loads l GROUP BY l.agency")}
    counts = dict(sorted(conn.execute(
        "SELECT agency, COUNT(*) FROM records WHERE kind = 'person' AND status = 'active' GROUP BY agency"),
        key=lambda row: f"{row[0]}:"))
    return counts, {a: stamps.get(a, code) for a in counts}


# Person records, over the agencies whose parts must be made, from which a link makes them
# in other processes while it links the addresses (`parts_ahead`); fewer are made in line.
AHEAD_MIN_RECORDS = 20_000
PartsAhead = parallel.Ahead


@contextmanager
def parts_ahead(ws: Workspace) -> Iterator[PartsAhead | None]:
    """The agencies' parts that a link must make (their records changed since the parts
    were kept), started now in forked processes while this process links the addresses:
    a first link at 1M makes parts of 1M records (~30 s on one core). One process per core
    but this one's, each making its share of the agencies (the largest first, each to the
    least loaded): on two cores one, for one per core (two) took the core the address
    stage's own forked work needs and saved nothing (benchmarks/RESULTS.md).
    None (the parts are then made in line) with one core, with fewer than
    AHEAD_MIN_RECORDS records to make, or inside a transaction already open: each process
    reads the workspace through a connection of its own, which sees only what is committed.
    Parts made so are the same as parts made in line (tests/test_linkage_prepared_persons.py)."""
    if ws.conn.in_transaction or parallel.workers() <= 1:
        yield None
        return
    counts, stamps = _part_stamps(ws)
    kept = dict(ws.conn.execute("SELECT agency, stamp FROM prepared_persons"))
    stale = [a for a in counts if kept.get(a) != stamps[a]]
    if sum(counts[a] for a in stale) < AHEAD_MIN_RECORDS:
        yield None
        return
    shares: list[list[str]] = [[] for _ in range(min(max(1, parallel.workers() - 1), len(stale)))]
    loads = [0] * len(shares)
    for agency in sorted(stale, key=lambda a: -counts[a]):
        i = loads.index(min(loads))
        shares[i].append(agency)
        loads[i] += counts[agency]
    db = ws.path / DB_NAME

    def making(share: list[str]) -> Callable[[], Iterator[tuple[str, bytes]]]:
        def make() -> Iterator[tuple[str, bytes]]:
            conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)   # this process's own
            mine = Workspace(ws.path, conn)
            for agency in share:
                yield agency, _made_part(mine, agency).to_json()
        return make
    with parallel.Ahead(*(making(share) for share in shares)) as ahead:
        yield ahead


def _parts_code() -> str:
    """What made the kept parts: the source of this module and of the date-of-birth key
    (`_record_columns`), and the relations read as homes. Any change and they are made again."""
    import inspect
    import sys

    from kglink.linkage.fields import dob as dob_module
    text = "\x1f".join([inspect.getsource(sys.modules[__name__]), inspect.getsource(dob_module),
                        repr(sorted(vocab.HOME_RELATIONS))])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _made_part(ws: Workspace, agency: str) -> _AgencyPart:
    """An agency's part of the person table, made from its records."""
    persons = _person_rows(ws, agency)
    homes, visits, since = _occupancy_places(ws, agency)
    taking_part = _event_people(ws, agency)
    events, present, together = _event_places(ws, taking_part, agency)
    related, parent_child, partners = _related(ws, together, agency)
    return _agency_part(agency, persons, homes, visits, events, present, related, parent_child,
                        partners, _born_by(ws, since, taking_part, agency))


def _agency_part(agency: str, persons: list[tuple[str, dict[str, Any]]], homes: dict[str, list[str]],
                 visits: dict[str, list[str]], events: dict[str, list[str]], present: dict[str, list[str]],
                 related: dict[str, set[str]], parent_child: list[tuple[str, str]],
                 partners: list[tuple[str, str]], born_by: dict[str, int]) -> _AgencyPart:
    """The part from what was read of an agency's records (`related` is added to)."""
    by_key = dict(persons)
    _siblings(parent_child, by_key, related)
    keys = [k for k, _ in persons]
    index = {k: i for i, k in enumerate(keys)}
    kin = _relative_records(keys, parent_child, partners, index)
    cols = _record_columns(persons)
    parents_born, children_born = _related_birth_years(
        keys, {k: by_key[k]["dob"] for pair in parent_child for k in pair if k in by_key}, parent_child, index)
    cols.update(parents_born=parents_born, children_born=children_born,
                born_by=[born_by.get(k, NO_CHILD_BORN) for k in keys])
    children, partners_of = _relatives(keys, by_key, parent_child, partners, index)
    multi = {"names": _name_variants(persons), "related": _sorted_per_key(keys, related, index),
             "children": children, "partners": partners_of, **kin}
    ties = {"homes": _per_row(keys, index, homes, _NO_TIES), "events": _per_row(keys, index, events, _NO_TIES),
            "present": _per_row(keys, index, present, _NO_TIES), "visits": _per_row(keys, index, visits, _NO_TIES),
            # A record tied to no place at all (a pupil's contact with no address on file) is
            # placed, more weakly, at the homes of the children and partner its agency names.
            "household": [[a for r in mine + mates for a in homes.get(r, _NO_TIES)]
                          for mine, mates in zip(kin["child_records"], kin["partner_records"])]}
    return _AgencyPart(agency, keys, cols, multi, ties)


def _person_rows(ws: Workspace, agency: str) -> list[tuple[str, dict[str, Any]]]:
    """(source key, data) of every active person record of an agency, sorted by source
    key. One query read straight, not through Workspace.records and source_key: a
    generator step and a call per row were a tenth of reading a million rows. The key is
    made as source_key makes it."""
    loads = orjson.loads
    prefix = f"{agency}:"
    return [(prefix + key, loads(data)) for key, data in ws.conn.execute(
        "SELECT key, data FROM records WHERE kind = 'person' AND agency = ? AND status = 'active' "
        "ORDER BY key", (agency,))]


def _link_rows(ws: Workspace, kind: str, agency: str) -> Iterator[dict[str, Any]]:
    """The data of every active record of a link kind (occupancy, event_person, ...) of an
    agency, in the order of Workspace.records, without its record key (never read here)."""
    loads = orjson.loads
    for (data,) in ws.conn.execute(
            "SELECT data FROM records WHERE kind = ? AND agency = ? AND status = 'active' "
            "ORDER BY key", (kind, agency)):
        yield loads(data)


def _related(ws: Workspace, together: list[set[str]], agency: str
             ) -> tuple[dict[str, set[str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """Records an agency says are related: named in one event (`together`, from
    _event_places: an agency names each person in an incident once, the victim and the
    witness of one assault, father and son of one name) or in a relationship; and of
    those, the (parent, child) and the partner pairs. No record is related to itself."""
    related: dict[str, set[str]] = defaultdict(set)
    for people in together:
        for a in people:
            # all of the event's people but `a` (never in its own set: see above)
            mine = related[a]
            mine.update(people)
            mine.discard(a)
    parent_child: list[tuple[str, str]] = []
    partners: list[tuple[str, str]] = []
    for rel in _link_rows(ws, "relationship", agency):
        a, b = f"{agency}:{rel['person_id']}", f"{agency}:{rel['other_person_id']}"   # source_key
        if a != b:
            related[a].add(b)
            related[b].add(a)
            relation = rel["relation"]
            if relation == "parent_of":
                parent_child.append((a, b))
            elif relation in ("partner_of", "ex_partner_of"):
                partners.append((a, b))
    return related, parent_child, partners


def _surnames_at(entity_of: dict[str, str], surnames: list[Any],
                 ties: Sequence[list[list[str]]]) -> dict[str, set[str]]:
    """Per address entity, the surnames of the person records tied to its address records
    by any of `ties` (per person record, its address records; `surnames`: per record, its
    surname)."""
    at: dict[str, set[str]] = defaultdict(set)
    for rows in ties:
        for name, akeys in zip(surnames, rows):
            for ak in akeys:
                if (e := entity_of.get(ak)) is not None:
                    at[e].add(name)
    return at


def _record_columns(persons: list[tuple[str, dict[str, Any]]]) -> dict[str, list[Any]]:
    """The single-valued columns read from each record's own fields: the fields taken
    from each record at once (itemgetter) and turned into columns by zip, in C, then a
    column at a time (appending to ten lists per record cost more)."""
    fields = itemgetter("forenames", "surname", "dob", "sex", *_AS_GIVEN)
    fore_all, sur, dobs, sexes, *given = zip(*map(fields, map(itemgetter(1), persons))) \
        if persons else [()] * (4 + len(_AS_GIVEN))
    return {"forename": [f.split(" ")[0] if f else "" for f in fore_all],
            "forenames_all": list(fore_all),
            "surname": list(sur),
            "dob": list(map(dob_key, dobs)),
            "sex": [s if s in ("M", "F") else "" for s in sexes],
            **{name: [v or "" for v in values] for name, values in zip(_AS_GIVEN, given)}}


_AS_GIVEN = ("nhs_number", "pnc_id", "upn", "phone", "email")   # columns: the field, or ""


def _name_variants(persons: list[tuple[str, dict[str, Any]]]) -> list[list[str]]:
    """Per record, "forenames\x1fsurname" of its name and then of each alias (most
    records have none: their list is made without a second one to add)."""
    return [[f"{d['forenames']}\x1f{d['surname']}"] if (aliases := d["aliases"]) == [] else
            [f"{d['forenames']}\x1f{d['surname']}"] + [f"{a['forenames']}\x1f{a['surname']}" for a in aliases]
            for _, d in persons]


def _sorted_per_key(keys: list[str], sets: dict[str, set[str]],
                    index: dict[str, int] | None = None) -> list[list[str]]:
    """Per key, its set sorted (a new empty list where it has none). `index`: each key's
    place in `keys` (Table.index), if at hand. With it, only the keys that have a set are
    looked up: most records have none, and at 1M each pass looking up every key cost
    ~0.5 s."""
    index = index if index is not None else {k: i for i, k in enumerate(keys)}
    if len(index) != len(keys):         # a key twice: each of its rows looked up, as it is
        return [sorted(sets[k]) if k in sets else [] for k in keys]
    out: list[list[str]] = [[] for _ in keys]
    for k, values in sets.items():
        if (i := index.get(k)) is not None:
            out[i] = sorted(values)
    return out


def _per_row(keys: list[str], index: dict[str, int], values: dict[str, T], missing: T) -> list[T]:
    """Per key (`index`: its place in `keys`, Table.index), its value in `values`, or
    `missing` (one object for every key that has none). Each key of `values` is looked up
    once in `index`, not every key in `values`: at 1M a look-up is a cache miss, and most
    records have no event or visit. (A key twice in `keys`: every key is looked up.)"""
    if len(index) != len(keys):
        return [values.get(k, missing) for k in keys]
    out = [missing] * len(keys)
    for k, v in values.items():
        if (i := index.get(k)) is not None:
            out[i] = v
    return out


@dataclass
class _PersonPlaces:
    """The address entities and postcodes of person records, from their ties to address
    records (TIE_COLUMNS). Most records have one home and no other tie: one address record
    is looked up directly, not through a set."""

    entity_of: dict[str, str]       # address record -> its entity
    postcode_of: dict[str, str]     # address record -> its postcode, where it has one
    crowded: set[str]               # entities of places many families live at
    busy: set[str]                  # ... and of places many families go to

    def entities(self, akeys: list[str], drop: AbstractSet[str], *also: list[str]) -> list[str]:
        """The address entities of these address records, less those in `drop` (a large
        set, never copied) and in the lists `also` (the record's stronger ties), sorted."""
        if len(akeys) == 1:
            e = self.entity_of.get(akeys[0])
            if e is None or e in drop:
                return []
            for stronger in also:
                if e in stronger:
                    return []
            return [e]
        if not akeys:
            return []
        entity_of = self.entity_of
        out = {e for a in akeys if (e := entity_of.get(a)) is not None and e not in drop}
        for stronger in also:
            out.difference_update(stronger)
        return sorted(out)

    def postcodes(self, akeys: list[str]) -> list[str]:
        """The postcodes of these address records, sorted, once each."""
        if len(akeys) == 1:
            pc = self.postcode_of.get(akeys[0])
            return [] if pc is None else [pc]
        postcode_of = self.postcode_of
        return sorted({pc for a in akeys if (pc := postcode_of.get(a)) is not None})

    def columns(self, homes: list[list[str]], events: list[list[str]], present: list[list[str]],
                visits: list[list[str]], household: list[list[str]]) -> dict[str, list[list[str]]]:
        """Per record (the TIE_COLUMNS of each, row by row), its address, crowded, event,
        present, visit and household entities and its postcodes: the multi-valued place
        columns."""
        crowded, busy, entity_of, entities = self.crowded, self.busy, self.entity_of, self.entities
        out: dict[str, list[list[str]]] = {name: [] for name in (
            "address_entity", "crowded_entity", "event_entity", "visit_entity",
            "present_entity", "household_entity", "postcode")}
        ents, crowd, event_ents, visit_ents, present_ents, household_ents, units = out.values()
        for home, at, there, went, kin_homes in zip(homes, events, present, visits, household):
            e_ids = entities(home, _NOTHING)
            ents.append([e for e in e_ids if e not in crowded])
            crowd.append([e for e in e_ids if e in crowded])
            at_events = entities(at, busy, e_ids) if at else []
            was_at = entities(there, busy, e_ids, at_events) if there else []
            visited = entities(went, busy, e_ids, at_events, was_at) if went else []
            event_ents.append(at_events)
            present_ents.append(was_at)
            visit_ents.append(visited)
            # A record tied to no place at all (a pupil's contact with no address on file) is
            # placed, more weakly, at the homes of the children and partner its agency names.
            in_household = kin_homes if not (e_ids or at_events or was_at or visited) else _NO_TIES
            household_ents.append(entities(in_household, crowded))
            # Postcodes of the homes; a record with no home on file is placed by its events
            # and visits (a victim with no address recorded, at the incident at her home), and
            # failing those by its household's homes.
            units.append(self.postcodes(home) or self.postcodes(
                [a for a in at + there + went if (e := entity_of.get(a)) is not None and e not in busy])
                or self.postcodes(in_household))
        return out


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
                      partners: list[tuple[str, str]], index: dict[str, int] | None = None
                      ) -> dict[str, list[list[str]]]:
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
    return {"child_records": _sorted_per_key(keys, kids, index),
            "partner_records": _sorted_per_key(keys, mates, index),
            "parent_records": _sorted_per_key(keys, parents, index)}


_NOTHING: frozenset[str] = frozenset()
_NO_TIES: list[str] = []        # never added to
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
    names = sorted(surnames)
    # A name shorter than four letters is a family of its own; the others are a family per
    # group of names joined by a chain of one edit (the groups do not depend on the order
    # the pairs are taken in). Every pair's distance is worked out by rapidfuzz in C, a
    # block of rows at a time: a place with hundreds of surnames has tens of thousands of
    # pairs, and a Python call per pair cost seconds at 1M records.
    long = [name for name in names if len(name) >= 4]
    family = list(range(len(long)))       # each name's family: the first name of its chain

    def root(i: int) -> int:
        while family[i] != i:
            i = family[i]
        return i
    for i, j in _one_edit_pairs(long):
        family[root(i)] = root(j)
    return len(names) - len(long) + len({root(i) for i in range(len(long))})


# Rows of the distance matrix worked out at once by _one_edit_pairs (memory: this many
# times the number of names, four bytes each).
DISTANCE_ROWS = 256


def _one_edit_pairs(names: list[str]) -> Iterator[tuple[int, int]]:
    """(i, j), i > j, of every two names one edit apart (optimal string alignment:
    substitutions, insertions, deletions, adjacent transpositions), as
    OSA.distance(names[i], names[j], score_cutoff=1) <= 1 says."""
    if len(names) < 2:
        return
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cdist
    for start in range(0, len(names), DISTANCE_ROWS):
        rows = names[start:start + DISTANCE_ROWS]
        near = cdist(rows, names[:start + len(rows)], scorer=OSA.distance, score_cutoff=1,
                     dtype=np.int32) <= 1
        for r, j in zip(*np.nonzero(near)):
            if j < start + r:
                yield start + int(r), int(j)


def _occupancy_places(ws: Workspace, agency: str) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, int]]:
    """Per person record, the addresses it calls home (lives_at, registered_at, placed_at)
    and those it visits or frequents; and the earliest year its agency has it anywhere
    (it was born by then: a woman at her home since 2007 is not a baby born in 2025). A
    date on 1 January is passed over: it is how systems write a year with no date, or no
    date at all (1900-01-01)."""
    homes: dict[str, list[str]] = defaultdict(list)
    visits: dict[str, list[str]] = defaultdict(list)
    since: dict[str, int] = {}
    home_relations = vocab.HOME_RELATIONS
    for occ in _link_rows(ws, "occupancy", agency):
        person = f"{agency}:{occ['person_id']}"            # source_key, made here
        relation = occ["relation"]
        ties = homes if relation in home_relations else \
            visits if relation in VISIT_RELATIONS else None
        if ties is not None:
            ties[person].append(f"{agency}:{occ['address_id']}")
        start = occ.get("from_date") or ""
        if start[:4].isdigit() and start[4:10] != "-01-01":
            year = int(start[:4])
            if year <= since.get(person, NO_CHILD_BORN):    # as min(): 9999 too
                since[person] = year
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


def _event_people(ws: Workspace, agency: str) -> list[tuple[str, str, str]]:
    """(event, person record, role) of every event_person row, as source keys: read once
    for the places of events (_event_places) and the years people were born by (_born_by)."""
    # source keys made here as source_key makes them
    return [(f"{agency}:{ep['event_id']}", f"{agency}:{ep['person_id']}", ep["role"])
            for ep in _link_rows(ws, "event_person", agency)]


def _born_by(ws: Workspace, since: dict[str, int], taking_part: list[tuple[str, str, str]],
             agency: str) -> dict[str, int]:
    """Per person record, the latest year it can have been born in, from the roles its
    agency records it in (ROLE_MIN_AGE, EVENT_MIN_AGE): a perpetrator of a crime in 2025
    was born by 2015, a witness of an incident in 2009 by 2009 (MAYBE_UNBORN_ROLES aside).
    For the parent_age rule, beside recorded parents and children; `since`: the earliest
    year each record's agency has it at an address (_occupancy_places); `taking_part`:
    _event_people. Of each event only its year and type are read (SQLite's JSON, not
    every event decoded)."""
    when: dict[str, tuple[int, str]] = {}
    for event, at, kind in ws.conn.execute(
            "SELECT agency || ':' || key, json_extract(data, '$.occurred_at'), json_extract(data, '$.type') "
            "FROM records WHERE kind = 'event' AND agency = ? AND status = 'active'",
            (agency,)):     # the source key, as entity_map
        at = at if isinstance(at, str) else ""
        if at[:4].isdigit():
            when[event] = (int(at[:4]), kind if isinstance(kind, str) else "")
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


def _event_places(ws: Workspace, taking_part: list[tuple[str, str, str]], agency: str
                  ) -> tuple[dict[str, list[str]], dict[str, list[str]], list[set[str]]]:
    """Per person record, the addresses where the events it took part in happened
    (EVENT_PLACE_ROLES): those it was a party to (PLACE_ROLES), and those it was only
    present at (PRESENT_ROLES); and the person records of each event (two or more, at
    most MAX_EVENT_PEOPLE). `taking_part`: _event_people."""
    where: dict[str, list[str]] = defaultdict(list)
    for ea in _link_rows(ws, "event_address", agency):
        if ea["role"] in EVENT_PLACE_ROLES:
            where[f"{agency}:{ea['event_id']}"].append(f"{agency}:{ea['address_id']}")  # source_key
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
               partners: list[tuple[str, str]], index: dict[str, int] | None = None
               ) -> tuple[list[list[str]], list[list[str]]]:
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
    return _sorted_per_key(keys, kids, index), _sorted_per_key(keys, mates, index)


NO_PARENT_BORN, NO_CHILD_BORN = 0, 9999


def _related_birth_years(keys: list[str], dob: dict[str, str | None],
                         parent_child: list[tuple[str, str]], index: dict[str, int] | None = None
                         ) -> tuple[list[int], list[int]]:
    """Per record, the latest year of birth of a parent and the earliest of a child that its
    agency records (parent_of), for the parent_age rule; NO_PARENT_BORN / NO_CHILD_BORN where
    no such relative has a date of birth."""
    # Worked out for the records in parent_child alone, then read for each key.
    parents: dict[str, int] = {}
    children: dict[str, int] = {}
    for parent, child in parent_child:
        if born := dob.get(parent):
            parents[child] = max(parents.get(child, NO_PARENT_BORN), int(born[:4]))
        if born := dob.get(child):
            children[parent] = min(children.get(parent, NO_CHILD_BORN), int(born[:4]))
    index = {k: i for i, k in enumerate(keys)} if index is None else index
    return _per_row(keys, index, parents, NO_PARENT_BORN), _per_row(keys, index, children, NO_CHILD_BORN)


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
