"""Clusters that do not chain unrelated people through one bad edge.

Edges are merged strongest first (union-find); two clusters merge only if no member of
one conflicts with a member of the other under the settings' evidence rules (different
valid identifiers, a generation between the years of birth, twins' different first
names with one date of birth, a parent younger than their child, different flats, house
numbers or streets) or a person's decision that two of them are different. So a record with no date of birth that matches both a
father and his son joins one of them, and the father and son stay apart.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler

from kglink.linkage.fields import dob as dobf
from kglink.linkage.fields.name import initial_fits, nickname_keys
from kglink.linkage.prepare import Table
from kglink.linkage.registry import STREET_JW
from kglink.linkage.rules import birth_year_ranges
from kglink.linkage.settings import LinkageSettings


@dataclass(frozen=True)
class Edge:
    i: int
    j: int
    probability: float
    forced: bool = False       # a person said these are the same


def forenames_compatible(a: str, b: str) -> bool:
    """Could two recorded forenames be the same person's (nickname, typo, initial, middle name)?"""
    if not a or not b:
        return True
    x, y = a.split(" ")[0], b.split(" ")[0]
    if x == y or y in a.split(" ") or x in b.split(" "):
        return True
    if len(x) == 1 and initial_fits(x, y) or len(y) == 1 and initial_fits(y, x):
        return True
    if nickname_keys(x) & nickname_keys(y):
        return True
    return JaroWinkler.similarity(x, y) >= 0.80


Conflict = Callable[[int, int], bool]


def _column(t: Table, name: str) -> list[str]:
    values = t.cols.get(name)
    return [""] * t.n if values is None else list(values)


def conflict_for(t: Table, st: LinkageSettings) -> Conflict:
    """The evidence rules of the settings, as a test on two records of one would-be cluster."""
    on = set(st.evidence_rules)
    ids = [_column(t, c) for c in st.strong_identifiers] if "conflicting_identifier" in on else []
    dob = _column(t, "dob")
    gap = st.generation_gap_years if "generation_gap" in on else None
    twin = "twin" in on
    variants = t.multi.get("names") or [[f"{f}\x1f"] for f in _column(t, "forenames_all")]
    dob_conflict = "dob_conflict" in on
    born = birth_year_ranges(t, st.parent_gap_years) if "parent_age" in on else None
    if born is not None:
        born_lo, born_hi = born[0].tolist(), born[1].tolist()
    related = t.multi.get("related") if "related_records" in on else None
    keys = t.keys
    fore_conflict = "forename_conflict" in on
    premise = "different_premise" in on
    if premise:
        flat_p, num_p, name_p = _column(t, "flat"), _column(t, "number"), _column(t, "house_name")
    flat = _column(t, "flat") if "different_flat" in on else None
    individual = [_column(t, c.partition(":")[2] or c) for c in st.individual_evidence]

    def same_individual(i: int, j: int) -> bool:
        return any(col[i] and col[i] == col[j] for col in individual)

    def names_compatible(i: int, j: int) -> bool:
        na = [v.split("\x1f") for v in variants[i]]
        nb = [v.split("\x1f") for v in variants[j]]
        if any(forenames_compatible(x[0], y[0]) for x in na for y in nb):
            return True
        # Forename and surname written the wrong way round, as the name comparison allows.
        return any(len(x) == 2 == len(y) and x[0] and y[0] and forenames_compatible(x[0], y[1])
                   and forenames_compatible(y[0], x[1]) for x in na for y in nb)

    def _premise_conflict(i: int, j: int) -> bool:
        if flat_p[i] and flat_p[j] and flat_p[i] != flat_p[j]:
            return True
        if num_p[i] and num_p[j]:
            return num_p[i] != num_p[j]
        return bool(name_p[i] and name_p[j] and name_p[i] != name_p[j]
                    and JaroWinkler.similarity(name_p[i], name_p[j]) < 0.9)
    number = _column(t, "number") if "different_number" in on else None
    street = _column(t, "street") if "different_street" in on else None

    def different_streets(i: int, j: int) -> bool:
        return bool(street[i] and street[j] and street[i] != street[j]     # type: ignore[index]
                    and JaroWinkler.similarity(street[i], street[j]) < STREET_JW[-1])  # type: ignore[index]

    seen: dict[int, bool] = {}
    n = t.n

    def conflict(i: int, j: int) -> bool:
        # Asked again for the same two records by every clustering of one run (collective
        # linkage clusters once a round): worked out once.
        key = i * n + j if i < j else j * n + i
        hit = seen.get(key)
        if hit is None:
            hit = seen[key] = check(i, j)
        return hit

    def check(i: int, j: int) -> bool:
        if any(col[i] and col[j] and col[i] != col[j] for col in ids):
            return True
        if related is not None and (keys[j] in related[i] or keys[i] in related[j]):
            return True
        if gap is not None and dob[i] and dob[j] and abs(int(dob[i][:4]) - int(dob[j][:4])) >= gap \
                and not same_individual(i, j):
            return True
        if dob_conflict and not dobf.compatible(dob[i], dob[j]) and not same_individual(i, j):
            return True
        if fore_conflict and not names_compatible(i, j) and not same_individual(i, j):
            return True
        if born is not None and not (dob[i] and dob[j]) \
                and (born_hi[i] < born_lo[j] or born_hi[j] < born_lo[i]) \
                and not same_individual(i, j):
            return True
        if premise and _premise_conflict(i, j):
            return True
        if twin and dob[i] and dob[i] == dob[j] and not same_individual(i, j) \
                and not names_compatible(i, j):
            return True
        if flat is not None and flat[i] and flat[j] and flat[i] != flat[j]:
            return True
        if street is not None and different_streets(i, j):
            return True
        return bool(number is not None and number[i] and number[j] and number[i] != number[j])
    return conflict


def cluster(n: int, edges: Sequence[Edge], conflict: Conflict,
            different: set[tuple[int, int]]) -> tuple[list[int], list[Edge]]:
    """Returns (cluster root per record, edges refused because of a conflict)."""
    parent = list(range(n))
    members: dict[int, list[int]] = {}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def blocked(a: list[int], b: list[int], forced: bool) -> bool:
        for i in a:
            for j in b:
                if (min(i, j), max(i, j)) in different:
                    return True
                if not forced and conflict(i, j):
                    return True
        return False

    refused: list[Edge] = []
    order = sorted(edges, key=lambda e: (not e.forced, -e.probability, e.i, e.j))
    for e in order:
        ri, rj = find(e.i), find(e.j)
        if ri == rj:
            continue
        mi, mj = members.get(ri, [ri]), members.get(rj, [rj])
        if blocked(mi, mj, e.forced):
            refused.append(e)
            continue
        if len(mi) < len(mj):
            ri, rj, mi, mj = rj, ri, mj, mi
        parent[rj] = ri
        members[ri] = mi + mj
        members.pop(rj, None)
    return [find(x) for x in range(n)], refused
