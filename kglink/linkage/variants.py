"""First-name variants learnt from the workspace's own records: the diminutives and short
forms that no nickname list holds (GOSIA for MALGORZATA, MO for MUHAMMAD, HAZ for HARRY).

A nickname list knows the names of one culture; the people of a county use many. Each
agency's records say which forms go together: the same surname, the same date of birth
and the same place, under one first name in one agency and another in the next, is one
person known by two names. When two or more families show the same two names so, and no
record says otherwise, the two names are variants of each other everywhere in the
workspace, as a listed nickname is.

What says otherwise: twins. They share surname, date of birth and home, and twins' names
are sometimes drawn in pairs (JACOB and JOSEPH). Two records of the two names that an
agency names as related (siblings, or both the children of one parent), or that one
agency holds side by side while another agency also holds both, are two people; their
names are never learnt as variants, however many families show them otherwise.

The variants learnt are kept with the model (model.tf["forename_variants"]), so that an
incremental link and `kglink explain` read names as the run that trained the model did.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

from kglink.linkage.prepare import Table

# Families (surname and date of birth) that must show two names as one person's before
# they are read as variants: one family is an anecdote (an unrecorded twin, a slip), two
# independent families using the same pair of forms is a convention.
MIN_FAMILIES = 2
SEP = "\x1f"
_PLACES = ("address_entity", "crowded_entity", "event_entity", "present_entity", "visit_entity",
           "household_entity")


def of(t: Table) -> dict[str, float]:
    """The table's variants (learn), worked out once and kept on it."""
    return t.derived("forename_variants", lambda: learn(t))


def pair_key(a: str, b: str) -> str:
    return SEP.join(sorted((a, b)))


def learn(t: Table) -> dict[str, float]:
    """The table's first-name variants: {"A\x1fB": families showing them}, for the two
    first names of records that agree on surname (or a slip of it), date of birth (or a
    slip of it) and a place (or a postcode), and whose first names no nickname, initial,
    short form or near spelling already explains. A family is a set of records joined by
    such pairs."""
    from rapidfuzz.distance import OSA

    from kglink.linkage.fields.dob import compatible

    if (t.kind != "person" or not {"forenames_all", "surname", "dob"} <= t.cols.keys()
            or not any(col in t.multi for col in (*_PLACES, "postcode"))):
        return {}           # no place to show two names as one person's
    first = [v.split(" ", 1)[0] for v in t.cols["forenames_all"].tolist()]
    dob, surname = t.cols["dob"].tolist(), t.cols["surname"].tolist()
    sex = t.cols["sex"].tolist() if "sex" in t.cols else [""] * t.n
    keys, agency = t.keys, t.agencies()
    related = t.multi.get("related")
    parents = t.multi.get("parent_records")
    shown: dict[str, list[tuple[int, int]]] = defaultdict(list)
    joined: dict[str, list[tuple[int, int]]] = defaultdict(list)    # pairs of one family
    barred: set[str] = set()
    holders: dict[tuple[str, str], dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    apart = _apart_names()
    for i, j in _near_pairs(t, first, dob, surname):
        a, b = first[i], first[j]
        if (sex[i] and sex[j] and sex[i] != sex[j]) or not apart(a, b):
            continue
        if not compatible(dob[i], dob[j]):
            continue
        key = pair_key(a, b)
        if _two_people(keys[i], keys[j], i, j, related, parents):
            barred.add(key)
            continue
        one_agency = agency[i] == agency[j]
        if one_agency and dob[i] == dob[j]:
            # One agency's two records born the same day under the two names: twins, or
            # a duplicate (told apart below); either way one family.
            holders[(key, dob[i])][int(agency[i])].update((a, b))
            joined[key].append((i, j))
            continue
        if surname[i] != surname[j] and (min(len(surname[i]), len(surname[j])) < 4
                                         or OSA.distance(surname[i], surname[j]) > 1):
            continue
        joined[key].append((i, j))
        if not one_agency:               # two agencies, one place (_near_pairs): one person
            shown[key].append((i, j))
    for (key, _), by_agency in holders.items():
        # Two agencies each holding both names born one day: twins, not a duplicate.
        if sum(1 for names in by_agency.values() if len(names) == 2) >= 2:
            barred.add(key)
    out = {}
    for key, edges in sorted(shown.items()):
        families = _families(joined[key], edges)
        if families >= MIN_FAMILIES and key not in barred:
            out[key] = float(families)
    return out


def _near_pairs(t: Table, first: list[str], dob: list[str], surname: list[str]) -> set[tuple[int, int]]:
    """Pairs of records with different first names (not initials) tied to one place (a
    home, an event's place, a postcode...) that share a date of birth (a slip in the
    surname), or a surname and the year of birth (a slip in the day or month) or the day
    and month (a slip in the year). Grouped in integer codes: a place holds few people,
    so the groups stay small however large the workspace."""
    rows = [i for i, (f, d, s) in enumerate(zip(first, dob, surname)) if d and s and len(f) > 1]
    owner: list[int] = []           # positions in rows, once per place
    place: list[int] = []
    place_of: dict[str, int] = {}
    for k, i in enumerate(rows):
        for p in _places(t, i):
            owner.append(k)
            place.append(place_of.setdefault(p, len(place_of)))
    if len(owner) < 2:
        return set()
    own = np.array(owner, dtype=np.int64)
    where = np.array(place, dtype=np.int64)
    at = np.array(rows, dtype=np.int64)[own]
    name = _codes([first[i] for i in rows])[own]
    out: set[tuple[int, int]] = set()
    for key in (_codes([dob[i] for i in rows]),
                _codes([f"{surname[i]}\x1f{dob[i][:4]}" for i in rows]),
                _codes([f"{surname[i]}\x1f{dob[i][4:]}" for i in rows])):
        _pairs_within(key[own] * (len(place_of) + 1) + where, name, at, first, out)
    return out


def _pairs_within(key: NDArray[np.int64], name: NDArray[np.int64], at: NDArray[np.int64],
                  first: list[str], out: set[tuple[int, int]]) -> None:
    """Add to `out` the pairs of records (`at`) with one key and two first names."""
    order = np.lexsort((name, key))
    k, nm = key[order], name[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[starts[1:], len(k)]
    # Only groups holding two first names: most hold one person's records, one name.
    mixed = nm[starts] != nm[ends - 1]
    for lo, hi in zip(starts[mixed].tolist(), ends[mixed].tolist()):
        members = at[order[lo:hi]].tolist()
        out.update((i, j) if i < j else (j, i) for i, j in combinations(members, 2) if first[i] != first[j])


def _codes(values: list[str]) -> NDArray[np.int64]:
    """Each value's number, in order of first appearance."""
    seen: dict[str, int] = {}
    return np.fromiter((seen.setdefault(v, len(seen)) for v in values), dtype=np.int64, count=len(values))


def _families(joined: list[tuple[int, int]], shown: list[tuple[int, int]]) -> int:
    """How many separate families (sets of records the `joined` pairs connect) hold a
    pair that shows the two names as one person's."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for i, j in joined:
        parent[root(i)] = root(j)
    return len({root(i) for i, _ in shown})


def _apart_names() -> Callable[[str, str], bool]:
    """Whether two first names are not already one person's (no nickname, initial, short
    form or near spelling of each other), asked once per pair of names."""
    from kglink.linkage.evidence import forenames_compatible

    @lru_cache(maxsize=None)
    def apart(a: str, b: str) -> bool:
        return not forenames_compatible(a, b)
    return lambda a, b: a != b and apart(*sorted((a, b)))


def _places(t: Table, i: int) -> set[str]:
    """Every place the record is tied to: address entities, and postcodes."""
    out = {e for col in _PLACES if col in t.multi for e in t.multi[col][i]}
    if "postcode" in t.multi:
        out.update(f"postcode:{p}" for p in t.multi["postcode"][i])
    return out


def _two_people(ki: str, kj: str, i: int, j: int, related: list[list[str]] | None,
                parents: list[list[str]] | None) -> bool:
    """An agency says so: it records the two as related, or names both as one parent's children."""
    if related is not None and (kj in related[i] or ki in related[j]):
        return True
    return parents is not None and bool(set(parents[i]) & set(parents[j]))


def slips(variants: dict[str, float]) -> dict[str, frozenset[str]]:
    """The variants as nickname keys (comparisons.Slips): each pair shares a key no name has,
    so a variant pair is nickname-equivalent without joining either name's other nicknames."""
    out: dict[str, frozenset[str]] = {}
    for pair in variants:
        shared = f"~{pair}"
        for name in pair.split(SEP):
            out[name] = out.get(name, frozenset()) | {shared}
    return out
