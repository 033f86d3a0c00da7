"""Clusters that do not chain unrelated people through one bad edge.

Edges are merged strongest first (union-find); two clusters merge only if no member of
one conflicts with a member of the other under the settings' evidence rules (different
valid identifiers, a generation between the years of birth, twins' different first
names with one date of birth, a parent younger than their child, different flats, house
numbers or streets) or a person's decision that two of them are different. So a record with no date of birth that matches both a
father and his son joins one of them, and the father and son stay apart.

Dates of birth are the exception that a third record can settle. Each agency mistypes a
date on its own, so two records of one person can each be one slip from the true date and
two slips from each other (1984-04-25 and 1984-05-24, with 1984-04-24 the truth). Two
records whose dates alone cannot be one person's (the dob_conflict rule) may still join
when one member's date of birth is within one slip of every date the joined cluster holds:
that date explains them all, each record with at most one error.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kglink.linkage import rules
from kglink.linkage.prepare import Table
from kglink.linkage.settings import LinkageSettings


@dataclass(frozen=True)
class Edge:
    i: int
    j: int
    probability: float
    forced: bool = False       # a person said these are the same


# What a conflict test answers for two records besides 0 (nothing keeps them apart):
APART = 1       # a rule, or a person, keeps them apart
DATES = 2       # only their dates of birth, more than one slip apart: a third date may settle it
Conflict = Callable[[int, int], int]


@dataclass(frozen=True)
class RuleConflict:
    """The settings' evidence rules as a test on two records of one would-be cluster
    (APART, DATES or 0), and which records have a date of birth (for the date that may
    settle a DATES)."""
    test: Callable[[int, int], int]
    dated: Callable[[int], bool]

    def __call__(self, i: int, j: int) -> int:
        return self.test(i, j)

    def renumbered(self, records: Sequence[int]) -> RuleConflict:
        """The same test on records numbered by their position in `records`."""
        return RuleConflict(lambda a, b: self.test(records[a], records[b]), lambda a: self.dated(records[a]))


def conflict_for(t: Table, st: LinkageSettings) -> RuleConflict:
    """The evidence rules of the settings, as a test on two records of one would-be
    cluster: each rule's per-pair form (kglink/linkage/rules.py); dob_conflict's answer
    is DATES, any other's APART."""
    named = rules.named_pair_tests(t, st)
    apart = [test for name, test in named if name != "dob_conflict"]
    dates = [test for name, test in named if name == "dob_conflict"]
    seen: dict[int, int] = {}
    n = t.n

    def conflict(i: int, j: int) -> int:
        # Asked again for the same two records by every clustering of one run (collective
        # linkage clusters once a round): worked out once.
        key = i * n + j if i < j else j * n + i
        hit = seen.get(key)
        if hit is None:
            hit = seen[key] = (APART if any(test(i, j) for test in apart)
                               else DATES if any(test(i, j) for test in dates) else 0)
        return hit
    dob = t.cols["dob"] if "dob" in t.cols else None
    return RuleConflict(conflict, lambda i: bool(dob is not None and dob[i]))


def cluster(n: int, edges: Sequence[Edge], conflict: Conflict,
            different: set[tuple[int, int]]) -> tuple[list[int], list[Edge]]:
    """Returns (cluster root per record, edges refused because of a conflict)."""
    roots = list(range(n))
    merged, refused = _merge(edges, conflict, different)
    for x, r in merged.items():
        roots[x] = r
    return roots, refused


def _order(e: Edge) -> tuple[bool, float, int, int]:
    """The order edges are merged in: people's decisions, then strongest first."""
    return (not e.forced, -e.probability, e.i, e.j)


def _merge(edges: Sequence[Edge], conflict: Conflict, different: set[tuple[int, int]]
           ) -> tuple[dict[int, int], list[Edge]]:
    """The greedy merge of `edges`: the root of every record an edge touches, and the
    edges refused. What happens to a record reads only the edges of its connected
    component (a merge looks at the two clusters' members alone), so merging a
    component's edges alone gives its records the roots merging every edge gives them."""
    parent: dict[int, int] = {}
    members: dict[int, list[int]] = {}

    def find(x: int) -> int:
        root = x
        while (up := parent.get(root, root)) != root:
            root = up
        while x != root:                      # every record on the way now points at the root
            parent[x], x = root, parent[x]
        return root

    def blocked(a: list[int], b: list[int], forced: bool) -> bool:
        dates = False
        for i in a:
            for j in b:
                if (min(i, j), max(i, j)) in different:
                    return True
                if not forced:
                    answer = conflict(i, j)
                    if answer == DATES:
                        dates = True
                    elif answer:
                        return True
        return dates and not _one_date(a + b, conflict)

    refused: list[Edge] = []
    for e in sorted(edges, key=_order):
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
    touched = {x for e in edges for x in (e.i, e.j)}
    return {x: find(x) for x in touched}, refused


def _one_date(members: list[int], conflict: Conflict) -> bool:
    """Is one member's date of birth within one slip of every member's (no DATES answer
    between it and any of them)?"""
    if not isinstance(conflict, RuleConflict):
        return False
    return any(conflict.dated(k) and all(x == k or conflict(k, x) != DATES for x in members)
               for k in members)


class Reclustering:
    """`cluster`, called again and again in one run on edges that change little between
    calls (collective linkage clusters once a round, then the run once more at the end):
    a connected component of the edges whose edges are exactly those of a component of
    the last call keeps that call's roots and refused edges; only the other components are
    merged again. The result is cluster()'s (see _merge; tests/test_linkage_units.py), at
    a 1M next night a fraction of the cost: every call merged every component, testing
    the evidence rules between members at each merge, though a few hundred changed."""

    def __init__(self) -> None:
        self._last: _Clustered | None = None

    def __call__(self, n: int, edges: Sequence[Edge], conflict: Conflict,
                 different: set[tuple[int, int]]) -> tuple[list[int], list[Edge]]:
        ei = np.fromiter((e.i for e in edges), dtype=np.int64, count=len(edges))
        ej = np.fromiter((e.j for e in edges), dtype=np.int64, count=len(edges))
        ep = np.fromiter((e.probability for e in edges), dtype=np.float64, count=len(edges))
        ef = np.fromiter((e.forced for e in edges), dtype=bool, count=len(edges))
        code = np.minimum(ei, ej) * np.int64(n) + np.maximum(ei, ej)
        order = np.argsort(code, kind="stable")
        label = _components(n, ei, ej)
        size = np.bincount(label[ei], minlength=n)
        last = self._last
        if (last is None or last.n != n or last.conflict is not conflict or last.different != different
                or len(last.code) == 0 or len(np.unique(code)) != len(code)):
            again = np.ones(len(edges), dtype=bool)
        else:
            # An edge the last call had too (same records, the same way round, probability
            # and kind: which record comes first decides a merge's root) ...
            at = np.searchsorted(last.code, code)
            at[at == len(last.code)] = 0
            known = (last.code[at] == code) & (last.first[at] == ei) & (last.p[at] == ep) & (last.forced[at] == ef)
            # ... in a component of as many edges as its component had then: all of one
            # component then (the known edges of a connected component were connected
            # then), so the same component.
            same = known & (last.size[last.label[ei]] == size[label[ei]])
            redo = np.bincount(label[ei][~same], minlength=n) > 0
            again = redo[label[ei]]
        roots = np.arange(n, dtype=np.int64)
        refused: list[Edge] = []
        if last is not None and not again.all():
            kept = np.concatenate((ei[~again], ej[~again]))
            roots[kept] = last.roots[kept]
            # A refused edge of a component kept is an edge of it (it was then): still refused,
            # as this call gives it (the same two records may come the other way round).
            reused = np.zeros(n, dtype=bool)
            reused[kept] = True
            still = [e for e in last.refused if reused[e.i]]
            wanted = np.array([min(e.i, e.j) * n + max(e.i, e.j) for e in still], dtype=np.int64)
            at = order[np.searchsorted(code[order], wanted)]
            refused = [edges[k] for k in at.tolist()]
        merged, more = _merge([edges[k] for k in np.flatnonzero(again).tolist()], conflict, different)
        if merged:
            roots[np.fromiter(merged.keys(), dtype=np.int64, count=len(merged))] = \
                np.fromiter(merged.values(), dtype=np.int64, count=len(merged))
        refused = sorted(refused + more, key=_order)
        self._last = _Clustered(n, conflict, set(different), code[order], ei[order], ep[order], ef[order], label,
                                size, roots, refused)
        return roots.tolist(), refused


@dataclass
class _Clustered:
    """What a Reclustering call keeps for the next: its edges (sorted by pair code, with
    each one's first record), its components and their sizes in edges, its roots and
    refused edges."""
    n: int
    conflict: Conflict
    different: set[tuple[int, int]]
    code: np.ndarray
    first: np.ndarray
    p: np.ndarray
    forced: np.ndarray
    label: np.ndarray
    size: np.ndarray
    roots: np.ndarray
    refused: list[Edge]


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """A label per record, one per connected component of the edges (i, j): each record
    hooked to the least label of its neighbours, with pointer jumping, until every edge's
    two records agree."""
    label = np.arange(n, dtype=np.int64)
    while len(i):
        li, lj = label[i], label[j]
        if (li == lj).all() and (label[label] == label).all():
            break
        low = np.minimum(li, lj)
        np.minimum.at(label, li, low)      # hook the labels themselves, not only the records
        np.minimum.at(label, lj, low)
        np.minimum.at(label, i, low)
        np.minimum.at(label, j, low)
        while True:                        # every record straight to its label's label
            jumped = label[label]
            if (jumped == label).all():
                break
            label = jumped
    return label
