"""Comparisons: small named objects turning a pair of records into a level.

Level 0 is the strongest agreement; -1 means a value is missing on either side. Each
level has a label that `kglink explain` prints. String similarity is computed with
rapidfuzz's vectorised `cpdist` on the *distinct* value pairs only, then mapped back.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from kglink.linkage.fields import dob as dobf
from kglink.linkage.fields.name import nickname_keys
from kglink.linkage.prepare import Table

Levels = NDArray[np.int8]
IntArr = NDArray[np.int64]
Obj = NDArray[np.object_]


def codes_of(table: Table, col: str) -> tuple[Obj, IntArr]:
    """(distinct values, code per record), cached on the table."""
    cache = table.__dict__.setdefault("_codes", {})
    if col not in cache:
        uniq, inv = np.unique(table.cols[col].astype(str), return_inverse=True)
        cache[col] = (uniq.astype(object), inv.astype(np.int64))
    return cache[col]


def on_distinct(uniq: Obj, ca: IntArr, cb: IntArr,
                fn: Callable[[Obj, Obj], Levels]) -> Levels:
    """Apply fn to each distinct (a, b) value pair once, then spread back to all pairs."""
    if len(ca) == 0:
        return np.zeros(0, dtype=np.int8)
    lo, hi = np.minimum(ca, cb), np.maximum(ca, cb)   # every comparison here is symmetric
    m = np.int64(len(uniq))
    pair_codes, inv = np.unique(lo * m + hi, return_inverse=True)
    res = fn(uniq[pair_codes // m], uniq[pair_codes % m])
    return res[inv]


def jaro_winkler(a: Obj, b: Obj) -> NDArray[np.float64]:
    return np.asarray(process.cpdist(list(a), list(b), scorer=JaroWinkler.similarity, workers=-1),
                      dtype=np.float64)


@lru_cache(maxsize=200_000)
def _nick(first: str) -> frozenset[str]:
    return nickname_keys(first)


def forename_levels(a: Obj, b: Obj) -> Levels:
    """On full forenames strings: 0 first names equal, 1 nickname or middle name used,
    2 JW>=0.92, 3 JW>=0.80, 4 initial only, 5 else, -1 null."""
    fa = np.array([s.split(" ")[0] for s in a], dtype=object)
    fb = np.array([s.split(" ")[0] for s in b], dtype=object)
    jw = jaro_winkler(fa, fb)
    out = np.full(len(a), 5, dtype=np.int8)
    out[jw >= 0.80] = 3
    out[jw >= 0.92] = 2
    for i in range(len(a)):
        x, y = fa[i], fb[i]
        if not x or not y:
            out[i] = -1
        elif x == y:
            out[i] = 0
        elif out[i] > 1 and (_nick(x) & _nick(y) or x in b[i].split(" ") or y in a[i].split(" ")):
            out[i] = 1
        elif out[i] > 3 and (len(x) == 1 or len(y) == 1) and x[0] == y[0]:
            out[i] = 4
    return out


def surname_levels(a: Obj, b: Obj) -> Levels:
    """0 equal, 1 JW>=0.92, 2 JW>=0.80, 3 a shared part of a double-barrelled name, 4 else."""
    jw = jaro_winkler(a, b)
    out = np.full(len(a), 4, dtype=np.int8)
    out[jw >= 0.80] = 2
    out[jw >= 0.92] = 1
    for i in range(len(a)):
        x, y = a[i], b[i]
        if not x or not y:
            out[i] = -1
        elif x == y:
            out[i] = 0
        elif out[i] == 4 and set(x.replace("-", " ").split()) & set(y.replace("-", " ").split()):
            out[i] = 3
    return out


def dob_levels(a: Obj, b: Obj) -> Levels:
    return dobf.levels(a, b)


def similarity_levels(thresholds: tuple[float, ...]) -> Callable[[Obj, Obj], Levels]:
    """0 equal, then one level per JW threshold, then else."""
    def levels(a: Obj, b: Obj) -> Levels:
        jw = jaro_winkler(a, b)
        out = np.full(len(a), len(thresholds) + 1, dtype=np.int8)
        for k in range(len(thresholds) - 1, -1, -1):
            out[jw >= thresholds[k]] = k + 1
        eq = a == b
        out[eq] = 0
        empty = (a == "") | (b == "")
        out[empty] = -1
        return out
    return levels


def exact_levels(a: Obj, b: Obj) -> Levels:
    out = np.where(a == b, 0, 1).astype(np.int8)
    out[(a == "") | (b == "")] = -1
    return out


def number_levels(a: Obj, b: Obj) -> Levels:
    """0 equal, 1 same number with another letter (14 / 14A), 2 different, -1 null."""
    out = np.full(len(a), 2, dtype=np.int8)
    for i in range(len(a)):
        x, y = a[i], b[i]
        if not x or not y:
            out[i] = -1
        elif x == y:
            out[i] = 0
        elif x.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == y.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
            out[i] = 1
    return out


def flat_levels(a: Obj, b: Obj) -> Levels:
    """0 same flat, 1 neither a flat, 2 a flat on one side only, 3 different flats."""
    out = np.full(len(a), 3, dtype=np.int8)
    ea, eb = a == "", b == ""
    out[a == b] = 0
    out[ea & eb] = 1
    out[ea ^ eb] = 2
    return out


def postcode_levels(a: Obj, b: Obj) -> Levels:
    """0 same unit, 1 same sector, 2 same district, 3 else, -1 null."""
    out = np.full(len(a), 3, dtype=np.int8)
    for i in range(len(a)):
        x, y = a[i], b[i]
        if not x or not y:
            out[i] = -1
        elif x == y:
            out[i] = 0
        elif x[:-2] == y[:-2]:
            out[i] = 1
        elif x.split(" ")[0] == y.split(" ")[0]:
            out[i] = 2
    return out


@dataclass(frozen=True)
class Comparison:
    name: str
    labels: tuple[str, ...]          # labels[level]
    compute: Callable[[Table, IntArr, IntArr], Levels]
    # P(level | same person): where EM starts, and what is used when there are too few
    # pairs to fit (a handful of records). Typical of agency data, not fitted to any set.
    default_m: tuple[float, ...] = ()

    def start_m(self) -> list[float]:
        if len(self.default_m) == self.n_levels:
            total = sum(self.default_m)
            return [x / total for x in self.default_m]
        return [0.9] + [0.1 / max(self.n_levels - 1, 1)] * (self.n_levels - 1)

    @property
    def n_levels(self) -> int:
        return len(self.labels)


def column(col: str, fn: Callable[[Obj, Obj], Levels]) -> Callable[[Table, IntArr, IntArr], Levels]:
    def compute(t: Table, left: IntArr, right: IntArr) -> Levels:
        uniq, codes = codes_of(t, col)
        return on_distinct(uniq, codes[left], codes[right], fn)
    return compute
