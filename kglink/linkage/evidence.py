"""What the evidence rules (kglink/linkage/rules.py) read: for their vectorised forms,
many pairs' comparison levels asked for by name (`PairLevels`, `Pairs`); for their
per-pair forms, the records' columns one pair at a time (`Records`)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from kglink.linkage.comparisons import NO_SLIPS, Comparison, Slips, jw_reaches, middle_names_differ, slips_of
from kglink.linkage.fields.name import initial_fits, nickname_keys, short_form
from kglink.linkage.prepare import Table
from kglink.linkage.registry import comparisons_for
from kglink.linkage.settings import LinkageSettings

Mask = NDArray[np.bool_]
IntArr = NDArray[np.int64]
PairTest = Callable[[int, int], bool]


class PairLevels:
    """The comparison levels of some pairs, asked for by comparison and level name, so a
    rule reads `p.at("dob", "exact")`, not a position that moves when levels are added.

    A comparison the settings leave out is missing (-1) on every pair, so no test on it
    holds; its level names are still checked against the registry of the kind."""

    def __init__(self, kind: str, comps: list[Comparison], gamma: NDArray[np.int8]) -> None:
        self.kind, self.gamma, self.n = kind, gamma, len(gamma)
        self._col = {c.name: k for k, c in enumerate(comps)}
        self._comps = {c.name: c for c in comps}

    def __contains__(self, comparison: str) -> bool:
        return comparison in self._col

    def comparison(self, name: str) -> Comparison:
        got = self._comps.get(name)
        return got if got is not None else comparisons_for(self.kind, (name,))[0]

    def code(self, comparison: str, level: str) -> int:
        return self.comparison(comparison).level(level)

    def of(self, comparison: str) -> NDArray[np.int8]:
        """Each pair's level code (-1: a value missing, or the comparison not run)."""
        k = self._col.get(comparison)
        return self.gamma[:, k] if k is not None else np.full(self.n, -1, dtype=np.int8)

    def at(self, comparison: str, level: str) -> NDArray[np.bool_]:
        return self.of(comparison) == self.code(comparison, level)

    def at_most(self, comparison: str, level: str) -> NDArray[np.bool_]:
        """This level or a stronger one (a missing value is neither)."""
        got = self.of(comparison)
        return (got >= 0) & (got <= self.code(comparison, level))

    def beyond(self, comparison: str, level: str) -> NDArray[np.bool_]:
        """A weaker level than this one (a missing value is not)."""
        return self.of(comparison) > self.code(comparison, level)


@dataclass
class Pairs:
    """What a rule's vectorised form reads: pairs (left[k], right[k]) of one table, their
    comparison levels by name, which of them agree on individual evidence, and (for the
    rules that link) which some other rule separates or holds back."""
    t: Table
    st: LinkageSettings
    left: IntArr
    right: IntArr
    p: PairLevels
    individual: Mask
    blocked: Mask = field(default_factory=lambda: np.zeros(0, dtype=bool))


def forenames_compatible(a: str, b: str, slips: Slips = NO_SLIPS) -> bool:
    """Could two recorded forenames be the same person's (nickname, typo, initial, middle
    name, a nickname of a misspelt name)? The forename comparison's levels above
    "different", for one pair."""
    if not a or not b:
        return True
    x, y = a.split(" ")[0], b.split(" ")[0]
    if x == y or y in a.split(" ") or x in b.split(" "):
        return True
    if len(x) == 1 and initial_fits(x, y) or len(y) == 1 and initial_fits(y, x):
        return True
    if (nickname_keys(x) | slips.get(x, frozenset())) & (nickname_keys(y) | slips.get(y, frozenset())):
        return True
    if short_form(x, y) or short_form(y, x):
        return True
    return jw_reaches(x, y, 0.80) and not middle_names_differ(a, b)


class Records:
    """What a rule's per-pair form reads: the table's columns as lists (quicker than numpy
    to read one record at a time), made once for every clustering of a run."""

    def __init__(self, t: Table, st: LinkageSettings) -> None:
        self.t, self.st = t, st
        self._cols: dict[str, list[str]] = {}
        self._individual = [self.column(c.partition(":")[2] or c) for c in st.individual_evidence]
        self._aliases: list[bool] | None = None
        self._last = (-1, -1, False)
        self._compatible: dict[tuple[str, str], bool] = {}   # by the two forenames

    def column(self, name: str) -> list[str]:
        got = self._cols.get(name)
        if got is None:
            values = self.t.cols.get(name)
            got = self._cols[name] = [""] * self.t.n if values is None else list(values)
        return got

    def same_individual(self, i: int, j: int) -> bool:
        return any(col[i] and col[i] == col[j] for col in self._individual)

    def names_compatible(self, i: int, j: int) -> bool:
        """Is the forename comparison's level for the pair above "different"? The last
        answer is kept: twin and forename_conflict ask it of one pair in turn."""
        if self._last[0] == i and self._last[1] == j:
            return self._last[2]
        if self._aliases is None:
            names = self.t.multi.get("names")
            self._aliases = [len(v) > 1 for v in names] if names else [False] * self.t.n
        f, s = self.column("forenames_all"), self.column("surname")
        if self._aliases[i] or self._aliases[j] or _crossing(f[i], s[i], f[j], s[j]):
            # Which of several names to compare, or whether one record's forename and
            # surname were written the wrong way round, is the comparison's choice (the
            # best reading of the two): asked of it, for the few such pairs.
            forename = comparisons_for(self.t.kind, ("forename",))[0]
            ok = forename.compute(self.t, np.array([i]), np.array([j]))[0] != forename.level("different")
        else:
            # Clustering asks of many pairs of records the same two forenames (JOHN and
            # JON in a thousand families): each two once.
            ok = self._compatible.get((f[i], f[j]))
            if ok is None:
                ok = self._compatible[(f[i], f[j])] = forenames_compatible(f[i], f[j], slips_of(self.t))
        self._last = (i, j, bool(ok))
        return bool(ok)


def _crossing(f1: str, s1: str, f2: str, s2: str) -> bool:
    """Could one of the two have its forename and surname the wrong way round? The name
    comparison reads a pair so only where the initials cross over and the surnames, read
    straight, are not near (Jaro-Winkler 0.80): SARAH SMITH and SUSAN SMITH are not."""
    return bool(f1 and s1 and f2 and s2 and f1[0] == s2[0] and s1[0] == f2[0]
                and s1 != s2 and not jw_reaches(s1, s2, 0.80))
