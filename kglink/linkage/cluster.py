"""Clusters that do not chain unrelated people through one bad edge.

Edges are merged strongest first (union-find); two clusters merge only if no member of
one conflicts with a member of the other: different valid identifiers, dates of birth
that cannot be the same person's, clearly different first names, different flats or
house numbers, or a person's decision that two of them are different. So a record
with no date of birth that matches both a father and his son joins one of them, and
the father and son stay apart.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler

from kglink.linkage.fields import dob as dobf
from kglink.linkage.fields.name import nickname_keys
from kglink.linkage.prepare import Table


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
    if (len(x) == 1 or len(y) == 1) and x[0] == y[0]:
        return True
    if nickname_keys(x) & nickname_keys(y):
        return True
    return JaroWinkler.similarity(x, y) >= 0.80


Conflict = Callable[[int, int], bool]


def person_conflict(t: Table) -> Conflict:
    ids = [t.cols[c] for c in ("nhs_number", "pnc_id", "upn")]
    dob = t.cols["dob"]
    variants = t.multi["names"]

    def conflict(i: int, j: int) -> bool:
        if any(col[i] and col[j] and col[i] != col[j] for col in ids):
            return True
        if not dobf.compatible(dob[i], dob[j]):
            return True
        fa = [v.split("\x1f")[0] for v in variants[i]]
        fb = [v.split("\x1f")[0] for v in variants[j]]
        return not any(forenames_compatible(x, y) for x in fa for y in fb)
    return conflict


def address_conflict(t: Table) -> Conflict:
    uprn, flat, number = t.cols["uprn"], t.cols["flat"], t.cols["number"]

    def conflict(i: int, j: int) -> bool:
        if uprn[i] and uprn[j] and uprn[i] != uprn[j]:
            return True
        if flat[i] != flat[j] and flat[i] and flat[j]:
            return True
        return bool(number[i] and number[j] and number[i] != number[j])
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
