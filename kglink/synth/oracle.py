"""The risk queries of docs/queries.md, run on true identities (perfect linkage).

This is the check that a synthetic county's truth/findings.json is exact: every
record is mapped to its true person or address through truth/*.csv, and each query
is evaluated as written. It reads only the files `generate` wrote, not the generator.
It is small and slow-ish by design; use it on counties of a few thousand households.
"""
from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HOME = frozenset({"lives_at", "registered_at", "placed_at"})
CHILD_ROLES_DA = frozenset({"involved_child", "victim", "missing_person", "subject", "detained", "witness"})
PPN_ROLES = frozenset({"victim", "involved_child", "detained", "witness", "missing_person"})
PPN_TYPES = frozenset({"crime", "incident", "domestic_abuse", "custody", "missing_episode"})
TRUST = frozenset({"teacher", "primary school teacher", "secondary school teacher", "teaching assistant",
                   "school bus driver", "nursery worker", "childminder", "youth worker", "sports coach",
                   "school caretaker"})
_UK = re.compile(r"^(\d{2})[/.-](\d{2})[/.-](\d{4})(?: (\d{2}):(\d{2}))?$")


def parse_time(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    m = _UK.match(text)
    if m:
        d, mo, y, hh, mi = m.groups()
        return datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0))
    return datetime.fromisoformat(text.removesuffix("Z"))


@dataclass
class Event:
    type: str
    at: datetime
    ended: datetime | None
    status: str
    attrs: dict[str, Any]
    people: list[tuple[str, str]] = field(default_factory=list)
    places: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class County:
    ref: date
    dobs: dict[str, set[date]] = field(default_factory=lambda: defaultdict(set))
    kinds: dict[str, str] = field(default_factory=dict)
    homes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    visits: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    works: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    rels: list[tuple[str, str, str]] = field(default_factory=list)
    flags: dict[str, list[tuple[str, date | None, date | None]]] = field(default_factory=lambda: defaultdict(list))
    occupations: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    events: dict[tuple[str, str], Event] = field(default_factory=dict)

    def current(self, end: date | None) -> bool:
        return end is None or end >= self.ref

    def has_flag(self, tid: str, flag: str) -> bool:
        return any(f == flag and self.current(end) for f, _, end in self.flags.get(tid, ()))

    def child(self, tid: str) -> bool:
        return any(_age(d, self.ref) < 18 for d in self.dobs.get(tid, ()))

    def ambiguous(self) -> list[str]:
        """People whose records disagree on whether they are children."""
        return [t for t, ds in self.dobs.items() if len({_age(d, self.ref) < 18 for d in ds}) > 1]


def _age(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load(out_dir: Path) -> County:
    truth = out_dir / "truth"
    meta = json.loads((truth / "meta.json").read_text(encoding="utf-8"))
    c = County(date.fromisoformat(meta["reference_date"]))
    pmap = {(r["agency"], r["record_id"]): r["true_id"] for r in _rows(truth / "persons.csv")}
    amap = {(r["agency"], r["record_id"]): r["true_id"] for r in _rows(truth / "addresses.csv")}
    for agency in meta["records"]:
        _load_extract(c, out_dir / agency, agency, pmap, amap)
    return c


def _load_extract(c: County, d: Path, agency: str, pmap: dict[tuple[str, str], str],
                  amap: dict[tuple[str, str], str]) -> None:
    def P(rid: str) -> str:
        return pmap[(agency, rid)]

    def A(rid: str) -> str:
        return amap[(agency, rid)]

    for r in _rows(d / "persons.csv"):
        if r.get("dob"):
            c.dobs[P(r["record_id"])].add(parse_time(r["dob"]).date())  # type: ignore[union-attr]
        if r.get("occupation"):
            c.occupations[P(r["record_id"])].add(r["occupation"].strip().lower())
    for r in _rows(d / "addresses.csv"):
        c.kinds[A(r["record_id"])] = r["kind"] or "residential"
    for r in _rows(d / "occupancies.csv"):
        end = parse_time(r["to_date"])
        if not c.current(end.date() if end else None):
            continue
        target = {"visits": c.visits, "works_at": c.works}.get(r["relation"], c.homes)
        if r["relation"] in HOME or r["relation"] in ("visits", "works_at"):
            target[P(r["person_id"])].add(A(r["address_id"]))
    for r in _rows(d / "relationships.csv"):
        end = parse_time(r["to_date"])
        if c.current(end.date() if end else None):
            c.rels.append((P(r["person_id"]), r["relation"], P(r["other_person_id"])))
    for r in _rows(d / "flags.csv"):
        start, end = parse_time(r["from_date"]), parse_time(r["to_date"])
        c.flags[P(r["person_id"])].append((r["flag"], start.date() if start else None,
                                           end.date() if end else None))
    for r in _rows(d / "events.csv"):
        c.events[(agency, r["record_id"])] = Event(
            r["type"], parse_time(r["occurred_at"]), parse_time(r["ended_at"]),  # type: ignore[arg-type]
            r["status"].strip().lower(), json.loads(r["attributes"]) if r["attributes"] else {})
    for r in _rows(d / "event_people.csv"):
        c.events[(agency, r["event_id"])].people.append((P(r["person_id"]), r["role"]))
    for r in _rows(d / "event_addresses.csv"):
        c.events[(agency, r["event_id"])].places.append((A(r["address_id"]), r["role"]))


# -- the queries -------------------------------------------------------------------------
Key = tuple[str, ...]


def _neighbours(c: County, tid: str, relations: frozenset[str]) -> set[str]:
    out = {b for a, rel, b in c.rels if a == tid and rel in relations}
    return out | {a for a, rel, b in c.rels if b == tid and rel in relations}


def _parents(c: County) -> set[str]:
    return {a for a, rel, b in c.rels if rel in ("parent_of", "carer_of") and c.child(b)}


def _child_homes(c: County) -> set[str]:
    return {a for tid, homes in c.homes.items() if c.child(tid) for a in homes}


def wanted(c: County) -> set[Key]:
    kids_at, parents = _child_homes(c), _parents(c)
    out: set[Key] = set()
    for tid in list(c.flags):
        if c.has_flag(tid, "wanted") and (c.homes.get(tid, set()) & kids_at or
                                          _neighbours(c, tid, frozenset({"partner_of", "household_member"})) & parents):
            out.add(("person", tid))
    return out


def rso_contact(c: County) -> set[Key]:
    kids_at, parents = _child_homes(c), _parents(c)
    visited = {a for p in parents for a in c.visits.get(p, ())}
    close = frozenset({"partner_of", "associate_of", "household_member"})
    out: set[Key] = set()
    for tid in list(c.flags):
        if not c.has_flag(tid, "registered_sex_offender"):
            continue
        homes = c.homes.get(tid, set())
        if homes & kids_at or _neighbours(c, tid, close) & parents or homes & visited:
            out.add(("person", tid))
    return out


def online(c: County) -> set[Key]:
    kids_at = _child_homes(c)
    subjects = {t for e in c.events.values() if e.type == "nca_referral" for t, r in e.people if r == "subject"}
    out: set[Key] = set()
    for tid in subjects:
        trust = c.occupations.get(tid, set()) & TRUST or \
            any(c.kinds.get(a) == "school" for a in c.works.get(tid, ()))
        if c.homes.get(tid, set()) & kids_at or trust or c.has_flag(tid, "foster_carer_applicant"):
            out.add(("person", tid))
    return out


def _by_place(c: County) -> dict[str, list[tuple[str, str]]]:
    index: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, e in c.events.items():
        for a, _ in e.places:
            index[a].append(key)
    return index


def domestic_abuse(c: County, days: int = 365) -> set[Key]:
    index, since = _by_place(c), datetime.combine(c.ref, datetime.min.time()) - timedelta(days=days)
    out: set[Key] = set()
    for key, e in c.events.items():
        if e.type != "domestic_abuse" or e.at < since:
            continue
        for a, _ in e.places:
            for other in index[a]:
                f = c.events[other]
                if f.at < e.at and any(r in CHILD_ROLES_DA and c.child(t) for t, r in f.people):
                    out.add(("event", *key))
    return out


def likely_locations(c: County) -> dict[Key, set[str]]:
    out: dict[Key, set[str]] = {}
    for key, e in c.events.items():
        kids = [t for t, r in e.people if r == "missing_person" and c.child(t)]
        if e.type != "missing_episode" or e.ended or e.status in ("closed", "found") or not kids:
            continue
        places: set[str] = set()
        for kid in kids:
            for other in _neighbours(c, kid, frozenset({"associate_of"})):
                places |= c.homes.get(other, set())
            for f in c.events.values():
                if f.type == "missing_episode" and f.at < e.at and (kid, "missing_person") in f.people:
                    places |= {a for a, r in f.places if r == "found_at"}
        out[("event", *key)] = places
    return out


def repeat_missing(c: County, top: int = 3, minimum: int = 2) -> dict[str, list[tuple[str, int]]]:
    """Per role, the ranked (id, episodes) above the cut; a tie at the cut is reported in 'ties'."""
    counts: dict[str, dict[str, set[tuple[str, str]]]] = {r: defaultdict(set) for r in ("missing_from", "found_at", "child")}
    for key, e in c.events.items():
        if e.type != "missing_episode":
            continue
        for a, r in e.places:
            if r in ("missing_from", "found_at"):
                counts[r][a].add(key)
        for t, r in e.people:
            if r == "missing_person" and c.child(t):
                counts["child"][t].add(key)
    out: dict[str, list[tuple[str, int]]] = {}
    for role, per in counts.items():
        ranked = sorted(((k, len(v)) for k, v in per.items() if len(v) >= minimum), key=lambda x: -x[1])
        out[role] = ranked[:top]
        if len(ranked) > top and ranked[top][1] == ranked[top - 1][1]:
            out.setdefault("ties", []).append((role, ranked[top][1]))
    return out


def custody_delay(c: County, hours: int = 4) -> set[Key]:
    out: set[Key] = set()
    for key, e in c.events.items():
        if e.type != "custody" or not any(r == "detained" and c.child(t) for t, r in e.people):
            continue
        arrived = e.attrs.get("appropriate_adult_arrived_at")
        detained = parse_time(e.attrs.get("detained_at", "")) or e.at
        if not arrived or parse_time(arrived) - detained > timedelta(hours=hours):  # type: ignore[operator]
            out.add(("event", *key))
    return out


def protection_lapsed(c: County, hours: int = 72) -> set[Key]:
    ref = datetime.combine(c.ref, datetime.min.time())
    out: set[Key] = set()
    for key, e in c.events.items():
        if e.type != "police_protection":
            continue
        start = parse_time(e.attrs.get("started_at", "")) or e.at
        end = parse_time(e.attrs.get("ended_at", "")) or e.ended
        if (end and end - start > timedelta(hours=hours)) or (not end and ref - start > timedelta(hours=hours)):
            out.add(("event", *key))
    return out


def reactive_breach(c: County, days: int = 365) -> set[Key]:
    since = datetime.combine(c.ref, datetime.min.time()) - timedelta(days=days)
    out: set[Key] = set()
    for e in c.events.values():
        if e.type != "breach" or e.at < since:
            continue
        for t, r in e.people:
            if r in ("subject", "offender") and c.has_flag(t, "registered_sex_offender") \
                    and c.has_flag(t, "reactive_management"):
                out.add(("person", t))
    return out


def missing_ppn(c: County, days: int = 7) -> set[Key]:
    notices: dict[str, list[datetime]] = defaultdict(list)
    for e in c.events.values():
        if e.type in ("ppn", "referral"):
            for t, _ in e.people:
                notices[t].append(e.at)
    out: set[Key] = set()
    for key, e in c.events.items():
        if e.type not in PPN_TYPES:
            continue
        for t, r in e.people:
            if r in PPN_ROLES and c.child(t) and not any(
                    e.at < n <= e.at + timedelta(days=days) for n in notices.get(t, ())):
                out.add(("event", *key))
    return out


def rso_by_area(c: County) -> set[Key]:
    return {("person", t) for t in c.flags if c.has_flag(t, "registered_sex_offender")}


SUBJECT_QUERIES = {
    "wanted-with-child-access": wanted, "sex-offender-child-contact": rso_contact,
    "online-offender-child-access": online, "domestic-abuse-prior-children": domestic_abuse,
    "custody-appropriate-adult-delay": custody_delay, "police-protection-lapsed": protection_lapsed,
    "reactive-rso-breach": reactive_breach, "missing-ppn": missing_ppn, "sex-offenders-by-area": rso_by_area,
}


def subject_key(item: dict[str, Any]) -> Key:
    """The key of a truth item's subject: its first event, else its subject person/address."""
    if item["events"] and item["query"] not in ("online-offender-child-access", "reactive-rso-breach"):
        ev = item["events"][0]
        return ("event", ev["agency"], ev["record_id"])
    for p in item["people"]:
        if p["role"] == "subject":
            return ("person", p["true_id"])
    for a in item["addresses"]:
        if a["role"] == "subject":
            return ("address", a["true_id"])
    raise ValueError(f"truth item without a subject: {item['query']}/{item['scenario']}")
