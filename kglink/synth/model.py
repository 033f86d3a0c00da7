"""The true (synthetic) world: real persons, real addresses, households.

Agencies never see these objects directly; they see noisy renderings of them.
Objects compare by identity (eq=False), so they can key dicts without any
dependence on hashing order. True ids are given when a record first refers to them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

STREET_ABBREVIATIONS = {
    "Street": "St", "Road": "Rd", "Avenue": "Ave", "Close": "Cl", "Lane": "Ln", "Drive": "Dr",
    "Crescent": "Cres", "Gardens": "Gdns", "Grove": "Gr", "Place": "Pl", "Court": "Ct",
    "Terrace": "Terr", "Walk": "Wlk", "Parade": "Pde", "Square": "Sq",
}


@dataclass(eq=False, slots=True)
class Address:
    number: str                 # house number, "" for a named house
    street: str                 # "High"
    street_type: str            # "Street", or "" for names like "Kingsway"
    town: str
    postcode: str               # canonical "LU4 8QH"
    kind: str = "residential"
    flat: str = ""
    building: str = ""          # block, house or institution name
    locality: str = ""          # village or estate written on line2
    uprn: str = ""
    shared: bool = False        # institutions and public places: one record per agency
    district: str = ""          # postcode district, e.g. "LU4"
    tid: str = ""

    @property
    def street_name(self) -> str:
        return f"{self.street} {self.street_type}".strip()


@dataclass(eq=False, slots=True)
class Person:
    forenames: list[str]
    surname: str
    sex: str
    dob: date
    community: str
    alt_surname: str = ""       # maiden name, or family name beside Kaur/Singh/Begum
    alt_agency: str = ""        # the one agency that knows her by alt_surname
    home: Address | None = None
    home_relation: str = "lives_at"
    since: date | None = None
    occupation: str = ""
    aliases: list[tuple[str, str]] = field(default_factory=list)
    tid: str = ""
    nhs: str = ""
    pnc: str = ""
    upn: str = ""
    phone: str = ""
    email: str = ""

    @property
    def full_name(self) -> str:
        return " ".join([*self.forenames, self.surname])


@dataclass(eq=False, slots=True)
class Household:
    home: Address
    members: list[Person]
    shape: str
    since: date
    # true relationships (a, relation, b) with relation from the format vocabulary
    links: list[tuple[Person, str, Person]] = field(default_factory=list)

    def parents_of(self, child: Person) -> list[Person]:
        return [a for a, rel, b in self.links if b is child and rel in ("parent_of", "carer_of")]

    def partner_of(self, person: Person) -> Person | None:
        for a, rel, b in self.links:
            if rel == "partner_of" and person in (a, b):
                return b if a is person else a
        return None


def age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))
