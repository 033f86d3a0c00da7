"""Households of every shape, with true relationships between their members."""
from __future__ import annotations

from datetime import timedelta
from itertools import accumulate
from typing import Callable

from kglink.synth import namedata as nd
from kglink.synth import names as nm
from kglink.synth.model import Address, Household, Person, age_on
from kglink.synth.places import Town
from kglink.synth.world import World


class ShapeTable:
    """The household shapes of a style, ready to draw from."""

    def __init__(self, shapes: tuple[tuple[str, float, float], ...]) -> None:
        self.names = [s for s, _, _ in shapes]
        self.cum = list(accumulate(w for _, w, _ in shapes))
        self.flats = {s: f for s, _, f in shapes}


_TABLES: dict[tuple[tuple[str, float, float], ...], ShapeTable] = {}


def _table(w: World) -> ShapeTable:
    shapes = w.style.households.shapes
    if shapes not in _TABLES:
        _TABLES[shapes] = ShapeTable(shapes)
    return _TABLES[shapes]


_NON_TRUST = tuple(o for o in nd.ADULT_OCCUPATIONS if o not in nd.TRUST_OCCUPATIONS)


def make_household(w: World, shape: str | None = None, town: Town | None = None,
                   community: str | None = None) -> Household:
    rng = w.rng
    town = town or w.county.pick_town(rng)
    community = community or town.pick_community(rng)
    table = _table(w)
    shape = shape or rng.choices(table.names, cum_weights=table.cum)[0]
    home = w.county.new_home(rng, town, flat_rate=table.flats[shape])
    since = w.ref - timedelta(days=rng.randrange(60, 7000))
    hh = Household(home, [], shape, since)
    _BUILDERS[shape](w, hh, community)
    for p in hh.members:
        if p.home is None:
            p.home = home
            p.since = max(since, p.dob)
    return hh


def occupation_for(w: World, age: int, trust_ok: bool = True) -> str:
    rng = w.rng
    if age >= 67:
        return "retired"
    if age < 20:
        return "student"
    return rng.choice(nd.ADULT_OCCUPATIONS if trust_ok else _NON_TRUST)


def adult(w: World, hh: Household, community: str, sex: str, lo: int, hi: int,
          surname: str | None = None) -> Person:
    age = w.rng.randrange(lo, hi + 1)
    p = w.person(community, sex, age, surname, occupation=occupation_for(w, age))
    hh.members.append(p)
    return p


def couple(w: World, hh: Household, community: str, lo: int, hi: int,
           married: float = 0.6) -> tuple[Person, Person]:
    rng = w.rng
    man = adult(w, hh, community, "M", lo, hi)
    other = community if rng.random() < 0.88 else w.county.pick_town(rng).pick_community(rng)
    age = min(90, max(20, age_on(man.dob, w.ref) + rng.randrange(-6, 4)))
    woman = adult(w, hh, other, "F", age, age)
    scale = w.style.households.married
    if rng.random() < (married if scale == 1.0 else min(0.98, married * scale)):
        w.marry(woman, man)
    hh.links.append((man, "partner_of", woman))
    return man, woman


def child(w: World, hh: Household, parents: list[Person], age: int, surname: str,
          community: str) -> Person:
    rng = w.rng
    sex = rng.choice("MF")
    if community == "polish":
        surname = nm.polish_form(surname.removesuffix("a") + "i" if surname.endswith("ska") else surname, sex)
    elif surname in ("Singh", "Kaur"):
        surname = "Singh" if sex == "M" else "Kaur"
    kid = w.person(community, sex, age, surname, occupation="")
    if parents and parents[-1].alt_surname and surname in ("Singh", "Kaur"):
        kid.alt_surname, kid.alt_agency = parents[-1].alt_surname, parents[-1].alt_agency
    hh.members.append(kid)
    for parent in parents:
        hh.links.append((parent, "parent_of", kid))
    return kid


def children(w: World, hh: Household, parents: list[Person], n: int, surname: str,
             community: str, max_age: int = 17) -> list[Person]:
    """n children of these parents; now and then twins."""
    rng = w.rng
    mother_age = min(age_on(p.dob, w.ref) for p in parents)
    top = max(0, min(max_age, mother_age - 17))
    kids: list[Person] = []
    while len(kids) < n:
        if kids and rng.random() < w.style.households.twins:
            kids.append(twin(w, hh, parents, kids[-1]))
            continue
        kids.append(child(w, hh, parents, rng.randrange(0, top + 1), surname, community))
    for i, a in enumerate(kids):
        for b in kids[i + 1:]:
            hh.links.append((a, "sibling_of", b))
    namesake = w.style.households.namesake_son
    father = next((p for p in parents if p.sex == "M"), None)
    if namesake and father is not None:
        son = next((k for k in kids if k.sex == "M" and k.forenames[0] != father.forenames[0]), None)
        if son is not None and rng.random() < namesake:
            # John Smith and his son John Smith at one address (a hard negative)
            son.forenames[0] = father.forenames[0]
            w.hard_negatives["father_son_same_forename"] = w.hard_negatives.get("father_son_same_forename", 0) + 1
    return kids


def twin(w: World, hh: Household, parents: list[Person], first: Person) -> Person:
    """Same surname, date of birth and home; a different (sometimes similar) forename."""
    rng = w.rng
    kid = child(w, hh, parents, age_on(first.dob, w.ref), first.surname, first.community)
    kid.dob = first.dob
    kid.surname, kid.alt_surname, kid.alt_agency = first.surname, first.alt_surname, first.alt_agency
    pair = rng.choice(nd.TWIN_PAIRS)
    if rng.random() < 0.3:
        first.forenames[0], kid.forenames[0] = pair
    elif kid.forenames[0] == first.forenames[0]:
        kid.forenames[0] = pair[1]
    w.hard_negatives["twins"] = w.hard_negatives.get("twins", 0) + 1
    return kid


# -- shapes ----------------------------------------------------------------------
def _alone(w: World, hh: Household, c: str) -> None:
    adult(w, hh, c, w.rng.choice("MFM"), 20, 90)


def _couple(w: World, hh: Household, c: str) -> None:
    couple(w, hh, c, 22, 60)


def _older_couple(w: World, hh: Household, c: str) -> None:
    couple(w, hh, c, 65, 88, married=0.9)


def _family(w: World, hh: Household, c: str) -> None:
    rng = w.rng
    man, woman = couple(w, hh, c, 25, 52)
    surname = man.surname
    if woman.alt_surname == "" and woman.surname != man.surname and \
            rng.random() < w.style.households.double_barrel:
        surname = f"{woman.surname}-{man.surname}"
    children(w, hh, [woman, man], rng.choice((1, 1, 2, 2, 2, 3, 3, 4)), surname, c)


def _single_parent(w: World, hh: Household, c: str) -> None:
    rng = w.rng
    parent = adult(w, hh, c, "F" if rng.random() < 0.87 else "M", 20, 50)
    family = parent.alt_surname or parent.surname if rng.random() < 0.5 else w.names.surname(rng, c)
    children(w, hh, [parent], rng.choice((1, 1, 2, 2, 3)), family, c)


def _blended(w: World, hh: Household, c: str) -> None:
    """A mother, her children by a former partner, her new partner, perhaps their baby."""
    rng = w.rng
    mother = adult(w, hh, c, "F", 24, 45)
    kids_name = w.names.surname(rng, c)
    children(w, hh, [mother], rng.choice((1, 2, 2, 3)), kids_name, c)
    partner = adult(w, hh, c if rng.random() < 0.8 else "white_british", "M", 24, 50)
    hh.links.append((mother, "partner_of", partner))
    if rng.random() < 0.35:
        child(w, hh, [mother, partner], rng.randrange(0, 3), partner.surname, c)


def _house_share(w: World, hh: Household, c: str) -> None:
    rng = w.rng
    for _ in range(rng.choice((3, 3, 4, 5))):
        adult(w, hh, w.county.pick_town(rng).pick_community(rng), rng.choice("MF"), 21, 38)
    w.hard_negatives["house_share"] = w.hard_negatives.get("house_share", 0) + 1


def _multigen(w: World, hh: Household, c: str) -> None:
    grandad, nan = couple(w, hh, c, 62, 82, married=0.95)
    son = adult(w, hh, c, "M", 28, 45, surname=grandad.alt_surname or grandad.surname)
    wife = adult(w, hh, c, "F", 25, 42)
    w.marry(wife, son)
    hh.links += [(grandad, "parent_of", son), (nan, "parent_of", son), (son, "partner_of", wife)]
    children(w, hh, [wife, son], w.rng.choice((1, 2, 3, 4)), son.surname, c)


def _adult_children(w: World, hh: Household, c: str) -> None:
    man, woman = couple(w, hh, c, 46, 66, married=0.8)
    kid = adult(w, hh, c, w.rng.choice("MF"), 20, 30, surname=man.alt_surname or man.surname)
    hh.links += [(man, "parent_of", kid), (woman, "parent_of", kid)]


def _father_son(w: World, hh: Household, c: str) -> None:
    """Father and adult son with the same full name at one address (a hard negative)."""
    man, woman = couple(w, hh, c, 45, 66, married=0.9)
    son = adult(w, hh, c, "M", 20, 28, surname=man.surname)
    son.forenames = list(man.forenames)
    hh.links += [(man, "parent_of", son), (woman, "parent_of", son)]
    w.hard_negatives["father_son_same_name"] = w.hard_negatives.get("father_son_same_name", 0) + 1


def _foster(w: World, hh: Household, c: str) -> None:
    rng = w.rng
    man, woman = couple(w, hh, c, 35, 62, married=0.8)
    for _ in range(rng.choice((1, 1, 2))):
        kc = w.county.pick_town(rng).pick_community(rng)
        kid = child(w, hh, [], rng.randrange(2, 17), w.names.surname(rng, kc), kc)
        kid.home_relation = "placed_at"
        hh.links += [(woman, "carer_of", kid), (man, "carer_of", kid)]


def _child_in_care(w: World, hh: Household, c: str) -> None:
    """A parent at home; the child placed in a children's home or supported lodgings."""
    rng = w.rng
    mother = adult(w, hh, c, "F", 30, 52)
    kid = child(w, hh, [mother], rng.randrange(11, 18), mother.alt_surname or mother.surname, c)
    place: Address = rng.choice(w.county.supported) if age_on(kid.dob, w.ref) >= 16 and \
        rng.random() < 0.5 else rng.choice(w.county.care_homes)
    kid.home, kid.home_relation = place, "placed_at"
    kid.since = w.ref - timedelta(days=rng.randrange(30, 900))


_BUILDERS: dict[str, Callable[[World, Household, str], None]] = {
    "alone": _alone, "couple": _couple, "older_couple": _older_couple, "family": _family,
    "single_parent": _single_parent, "blended": _blended, "house_share": _house_share,
    "multigen": _multigen, "adult_children": _adult_children, "father_son": _father_son,
    "foster": _foster, "child_in_care": _child_in_care,
}
