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

from kglink.linkage import rules
from kglink.linkage.prepare import Table
from kglink.linkage.settings import LinkageSettings


@dataclass(frozen=True)
class Edge:
    i: int
    j: int
    probability: float
    forced: bool = False       # a person said these are the same


Conflict = Callable[[int, int], bool]


def conflict_for(t: Table, st: LinkageSettings) -> Conflict:
    """The evidence rules of the settings, as a test on two records of one would-be
    cluster: each rule's per-pair form (kglink/linkage/rules.py)."""
    tests = rules.pair_tests(t, st)
    seen: dict[int, bool] = {}
    n = t.n

    def conflict(i: int, j: int) -> bool:
        # Asked again for the same two records by every clustering of one run (collective
        # linkage clusters once a round): worked out once.
        key = i * n + j if i < j else j * n + i
        hit = seen.get(key)
        if hit is None:
            hit = seen[key] = any(test(i, j) for test in tests)
        return hit
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
