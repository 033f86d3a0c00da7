"""Building blocks for planted scenarios: households and records with no chance events.

A scenario scope must produce exactly what its truth says, so nothing here draws
random events; only spellings, dates of birth within a year, and addresses are random.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from kglink.synth.households import adult, child
from kglink.synth.model import Address, Household, Person, age_on, at
from kglink.synth.places import Town
from kglink.synth.scope import Scope
from kglink.synth.world import World
from kglink.synth.writer import Finding


def scope(w: World) -> Scope:
    return Scope(w, background=False)


def days_ago(w: World, days: int, hour: int = 12, minute: int = 0) -> datetime:
    return at(w.ref - timedelta(days=days), hour, minute)


def lone_adult(w: World, sex: str, age: int, *, community: str = "white_british",
               town: Town | None = None, occupation: str = "warehouse operative",
               forenames: list[str] | None = None, surname: str | None = None) -> Person:
    """An adult in a home of their own (a flat more often than not)."""
    town = town or w.county.pick_town(w.rng)
    p = w.person(community, sex, age, surname, forenames=forenames, occupation=occupation)
    p.home = w.county.new_home(w.rng, town, flat_rate=0.6)
    p.since = w.ref - timedelta(days=w.rng.randrange(200, 2500))
    return p


def home_of(p: Person) -> Address:
    assert p.home is not None, "every scenario person has a home"
    return p.home


def mother_and_children(w: World, ages: list[int], *, community: str = "white_british",
                        mother_age: int = 34, town: Town | None = None) -> tuple[Household, Person, list[Person]]:
    """A single mother and her children at a home of their own."""
    rng = w.rng
    town = town or w.county.pick_town(rng)
    hh = Household(w.county.new_home(rng, town, flat_rate=0.3), [], "single_parent",
                   w.ref - timedelta(days=rng.randrange(400, 3000)))
    mother = adult(w, hh, community, "F", mother_age, mother_age)
    surname = w.names.surname(rng, community) if rng.random() < 0.5 else mother.surname
    kids = [child(w, hh, [mother], a, surname, community) for a in ages]
    for p in hh.members:
        p.home, p.since = hh.home, max(hh.since, p.dob)
    return hh, mother, kids


def move_in(hh: Household, p: Person, since: date) -> None:
    p.home, p.since = hh.home, since
    hh.members.append(p)


def enrol(s: Scope, hh: Household, kids: list[Person], parents: list[Person]) -> None:
    """Pupils with UPNs, their school, and parents as contacts (parent_of)."""
    w = s.w
    town = w.county.by_name[hh.home.town]
    for kid in kids:
        a = age_on(kid.dob, w.ref)
        if not 4 <= a <= 16:
            continue
        school, dfe = town.primaries[0] if a <= 10 else town.secondaries[0]
        kid.upn = kid.upn or w.upns.next(town.la_code, dfe, kid.dob.year + 5)
        s.person("education", kid)
        start = min(date(kid.dob.year + (5 if a <= 10 else 11), 9, 1), w.ref - timedelta(days=60))
        s.occupy("education", kid, school, "frequents", start=start)
        for parent in parents:
            s.person("education", parent, contact=True)
            s.relate("education", parent, "parent_of", kid)


def infants(s: Scope, kids: list[Person], mother: Person) -> None:
    """Under-fives and their mother, as health visiting records them."""
    for kid in kids:
        s.person("health", kid)
        s.person("health", mother)
        s.relate("health", mother, "parent_of", kid)


def csc_family(s: Scope, hh: Household, kids: list[Person], parents: list[Person],
               when: datetime, reason: str) -> str:
    """A referral to children's social care with the children as subjects, at home."""
    for parent in parents:
        for kid in kids:
            s.relate("childrens_social_care", parent, "parent_of", kid)
    return s.event("childrens_social_care", "referral", s.slot([hh.home], when),
                   [(k, "subject") for k in kids], [(hh.home, "location")], date_only=True,
                   status="assessment", description=reason)


def finding(s: Scope, query: str, expect: str, scenario: str, *,
            people: list[tuple[Person, str]] | None = None,
            addresses: list[tuple[Address, str]] | None = None,
            events: list[tuple[str, str]] | None = None, note: str = "") -> Finding:
    return s.declare(Finding(query, expect, scenario, people or [], addresses or [], events or [], note))
