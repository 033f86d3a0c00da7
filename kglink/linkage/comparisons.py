"""Comparisons: small named objects turning a pair of records into a level.

Level 0 is the strongest agreement; -1 means a value is missing on either side. Each
level has a label that `kglink explain` prints. String similarity is computed with
rapidfuzz's vectorised `cpdist` on the *distinct* value pairs only, then mapped back.
"""
from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from kglink.errors import KglinkError
from kglink.linkage.arrays import factorize, isin
from kglink.linkage.fields import dob as dobf
from kglink.linkage.fields.name import SHORT_FORM_CUT, SHORT_FORM_MIN, initial_fits, nickname_keys, slip_keys
from kglink.linkage.prepare import Table

Levels = NDArray[np.int8]
IntArr = NDArray[np.int64]
Obj = NDArray[np.object_]
T = TypeVar("T")


def codes_of(table: Table, col: str) -> tuple[Obj, IntArr]:
    """(distinct values, code per record), kept on the table."""
    def make() -> tuple[Obj, IntArr]:
        return factorize(table.cols[col])
    return table.derived(f"codes:{col}", make)


Coded = Callable[[Obj, IntArr, IntArr], Levels]


def on_distinct(uniq: Obj, ca: IntArr, cb: IntArr, fn: Coded) -> Levels:
    """Apply a coded level function to each distinct (a, b) pair once, then spread back.

    `fn(uniq, pa, pb)` gets the distinct values and code arrays, so work per value (a
    first word, a digit matrix) is done once per distinct value, not once per pair.
    """
    if len(ca) == 0:
        return np.zeros(0, dtype=np.int8)
    lo, hi = np.minimum(ca, cb), np.maximum(ca, cb)   # every comparison here is symmetric
    m = np.int64(len(uniq))
    pair_codes, inv = np.unique(lo * m + hi, return_inverse=True)
    res = fn(uniq, pair_codes // m, pair_codes % m)
    return res[inv]


def by_value(fn: Callable[..., Levels]) -> Callable[..., Levels]:
    """The same comparison called on two arrays of values (keyword arguments passed on)."""
    def levels(a: Obj, b: Obj, **kw: Any) -> Levels:
        if len(a) == 0:
            return np.zeros(0, dtype=np.int8)
        uniq, inv = np.unique(np.concatenate([np.asarray(a, dtype=object), np.asarray(b, dtype=object)]).astype(str),
                              return_inverse=True)
        return fn(uniq.astype(object), inv[:len(a)].astype(np.int64), inv[len(a):].astype(np.int64), **kw)
    return levels


def values(fn: Callable[[Obj, Obj], Levels]) -> Coded:
    """A value-pair level function as a coded one."""
    return lambda uniq, pa, pb: fn(uniq[pa], uniq[pb])


def jaro_winkler(a: Obj, b: Obj, cutoff: float = 0.0) -> NDArray[np.float64]:
    """Similarity per pair; 0 where below `cutoff` (rapidfuzz stops early there). The
    cutoff is eased by 1e-6: rapidfuzz returns float32 scores, and a score of exactly 0.8
    is at or above 0.8 as a float32 but below it inside rapidfuzz's double arithmetic."""
    return np.asarray(process.cpdist(list(a), list(b), scorer=JaroWinkler.similarity, workers=-1,
                                     score_cutoff=max(cutoff - 1e-6, 0.0)), dtype=np.float64)


def jw_reaches(a: str, b: str, threshold: float) -> bool:
    """Does one pair's Jaro-Winkler similarity reach `threshold`, exactly as `jaro_winkler`
    decides it for many pairs (a float32 score: exactly 0.8 reaches 0.8, though the
    double 0.7999999999999999 would not)? The evidence rules' per-pair forms ask this, so
    that they agree with the comparison levels their vectorised forms read."""
    return float(np.float32(JaroWinkler.similarity(a, b))) >= threshold


@lru_cache(maxsize=200_000)
def _nick(first: str) -> frozenset[str]:
    return nickname_keys(first)


Slips = Mapping[str, frozenset[str]]
NO_SLIPS: Slips = {}


def first_name_counts(t: Table) -> Counter[str]:
    """How many records hold each first name (the first word of their forenames)."""
    return Counter(v.split(" ", 1)[0] for v in t.cols["forenames_all"] if v)


def slips_of(t: Table, counts: Mapping[str, float] | None = None,
             variants: Mapping[str, float] | None = None) -> Slips:
    """The table's misspelt first names (fields.name.slip_keys), from its own first-name
    counts, and the first-name variants its records show (linkage.variants), kept on it.
    `counts` and `variants` (a saved model's first-name frequencies and variants) decide
    them instead when given first: an incremental link compares its changed pairs as the
    model's run compared the rest, and `kglink explain` one pair as the run did."""
    def make() -> Slips:
        from kglink.linkage import variants as learnt

        out = dict(slip_keys(first_name_counts(t) if counts is None else counts))
        learnt_keys = learnt.slips(learnt.of(t) if counts is None else dict(variants or {}))
        for slip, keys in list(out.items()):    # HSRRY, a slip of HARRY, is a variant as HARRY is
            for name in keys & learnt_keys.keys():
                out[slip] = out[slip] | learnt_keys[name]
        for name, keys in learnt_keys.items():
            out[name] = out.get(name, frozenset()) | keys
        return out
    return t.derived("slips", make)


def _nickname_code_pairs(names: Obj, slips: Slips = NO_SLIPS) -> NDArray[np.int64]:
    """Codes i*len+j of every nickname-equivalent pair among distinct names, a misspelt
    name (in `slips`: fields.name.slip_keys) with the keys of the name it slips from."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        for key in _nick(name) | slips.get(name, frozenset()):
            groups.setdefault(key, []).append(i)
    m = len(names)
    codes = {i * m + j for members in groups.values() if len(members) > 1
             for i in members for j in members if i != j}
    return np.fromiter(codes, dtype=np.int64, count=len(codes))


def _short_form_pairs(names: Obj) -> NDArray[np.int64]:
    """Codes i*len+j (both ways) of distinct first names one of which is a short form of
    the other (fields.name.short_form: found here by looking up each name's cut ends)."""
    index = {str(n): i for i, n in enumerate(names)}
    m = len(names)
    codes: set[int] = set()
    for i, name in enumerate(names):
        for cut in range(SHORT_FORM_MIN, len(name) - SHORT_FORM_CUT + 1):
            for part in (name[:cut], name[-cut:]):
                j = index.get(part)
                if j is not None:
                    codes.update((i * m + j, j * m + i))
    return np.fromiter(codes, dtype=np.int64, count=len(codes))


def _lengths(values: Obj) -> IntArr:
    return np.fromiter((len(v) for v in values), dtype=np.int64, count=len(values))


def forename_coded(uniq: Obj, pa: IntArr, pb: IntArr, slips: Slips = NO_SLIPS) -> Levels:
    """On full forenames strings: 0 first names equal, 1 nickname or middle name used
    (a nickname of a misspelt name too: `slips`, fields.name.slip_keys, where the names
    are otherwise initial-only or different), 2 JW>=0.92, 3 JW>=0.80, 4 initial only,
    5 else, -1 null."""
    if len(pa) == 0:
        return np.zeros(0, dtype=np.int8)
    words, wc, wlen, initial, nick, multi = _per_values(uniq, "forename", lambda: _forename_words(uniq))
    fa, fb = wc[pa], wc[pb]
    la, lb = wlen[fa], wlen[fb]
    jw = jaro_winkler(words[fa], words[fb], cutoff=0.80)
    out = np.full(len(pa), 5, dtype=np.int8)
    out[jw >= 0.80] = 3
    out[jw >= 0.92] = 2
    init = ((la == 1) | (lb == 1)) & (la > 0) & (lb > 0) & (initial[fa] == initial[fb])
    out[init & (out > 3)] = 4
    # An initial for the formal name of a nickname (E for LIZ) is an initial that agrees.
    for k in np.flatnonzero((out > 4) & ((la == 1) ^ (lb == 1)) & (la > 0) & (lb > 0)):
        one, other = (words[fa[k]], words[fb[k]]) if la[k] == 1 else (words[fb[k]], words[fa[k]])
        if initial_fits(one, other):
            out[k] = 4
    # Near first names with clearly different middle names (AMARA SAIMA, AMARI AISHA) are
    # two people, unless a nickname, a slip or a middle name used as first says otherwise.
    for k in np.flatnonzero(((out == 2) | (out == 3)) & multi[pa] & multi[pb] & (la > 1) & (lb > 1)):
        if middle_names_differ(uniq[pa[k]], uniq[pb[k]]):
            out[k] = 5
    if len(nick):
        out[(out > 1) & isin(fa * np.int64(len(words)) + fb, nick)] = 1
    if slips:
        slipped = _per_values(uniq, f"forename_slips:{id(slips)}", lambda: _nickname_code_pairs(words, slips))
        if len(slipped):
            out[(out > 3) & isin(fa * np.int64(len(words)) + fb, slipped)] = 1
    for k in np.flatnonzero((out > 1) & (multi[pa] | multi[pb])):
        x, y = uniq[pa[k]], uniq[pb[k]]
        if words[fa[k]] in y.split(" ") or words[fb[k]] in x.split(" "):
            out[k] = 1
    out[fa == fb] = 0
    out[(la == 0) | (lb == 0)] = -1
    return out


def middle_names_differ(a: str, b: str) -> bool:
    """Both forenames have a second name, and the two are clearly different: neither equal,
    an initial of the other, nor a near spelling (Jaro-Winkler 0.80). Near first names
    (AMARA, AMARI) with such middle names (SAIMA, AISHA) are two people, as twins named in
    pairs are; a middle name recorded by one agency only says nothing."""
    x, y = a.split(), b.split()        # any run of spaces one break: no empty names
    if len(x) < 2 or len(y) < 2:
        return False
    m, n = x[1], y[1]
    if m == n or (len(m) == 1 or len(n) == 1) and m[0] == n[0]:
        return False
    return not jw_reaches(m, n, 0.80)


def _forename_words(uniq: Obj) -> tuple[Obj, IntArr, IntArr, Obj, IntArr, np.ndarray]:
    """forename_coded's work per distinct forenames value: the first words (distinct),
    each value's first word, their lengths and initials, nickname-equivalent word pairs,
    which values have several words."""
    first_words = np.array([v.split(" ", 1)[0] for v in uniq], dtype=object)
    words, winv = np.unique(first_words.astype(str), return_inverse=True)
    words = words.astype(object)
    initial = np.array([w[:1] for w in words], dtype=object)
    multi = np.array([" " in v for v in uniq], dtype=bool)
    nick = np.union1d(_nickname_code_pairs(words), _short_form_pairs(words))
    return words, winv.astype(np.int64), _lengths(words), initial, nick, multi


_HELD: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}


def _per_values(uniq: Obj, name: str, make: Callable[[], T]) -> T:
    """Work per distinct value, done once while the array of distinct values lives (the
    table keeps its columns' ones), not again for every chunk of pairs, nor for every
    single pair clustering asks about (it was a loop over every distinct name per pair)."""
    key = id(uniq)
    held = _HELD.get(key)
    if held is None or held[0]() is not uniq:
        held = (weakref.ref(uniq, lambda _ref, key=key: _HELD.pop(key, None)), {})  # type: ignore[misc]
        _HELD[key] = held
    if name not in held[1]:
        held[1][name] = make()
    return held[1][name]  # type: ignore[no-any-return]


def surname_coded(uniq: Obj, pa: IntArr, pb: IntArr) -> Levels:
    """0 equal, 1 JW>=0.92, 2 JW>=0.80, 3 a shared part of a double-barrelled name, 4 else."""
    if len(pa) == 0:
        return np.zeros(0, dtype=np.int8)
    jw = jaro_winkler(uniq[pa], uniq[pb], cutoff=0.80)
    out = np.full(len(pa), 4, dtype=np.int8)
    out[jw >= 0.80] = 2
    out[jw >= 0.92] = 1
    parts, empty = _per_values(uniq, "surname", lambda: (
        np.array([("-" in v or " " in v) for v in uniq], dtype=bool), _lengths(uniq) == 0))
    for k in np.flatnonzero((out == 4) & (parts[pa] | parts[pb])):
        if set(uniq[pa[k]].replace("-", " ").split()) & set(uniq[pb[k]].replace("-", " ").split()):
            out[k] = 3
    out[pa == pb] = 0
    out[empty[pa] | empty[pb]] = -1
    return out


def dob_coded(uniq: Obj, pa: IntArr, pb: IntArr) -> Levels:
    return dobf.coded_levels(uniq, pa, pb)


forename_levels = by_value(forename_coded)
surname_levels = by_value(surname_coded)


def similarity_levels(thresholds: tuple[float, ...]) -> Callable[[Obj, Obj], Levels]:
    """0 equal, then one level per JW threshold, then else."""
    def levels(a: Obj, b: Obj) -> Levels:
        jw = jaro_winkler(a, b, cutoff=min(thresholds))
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


def exact_coded(uniq: Obj, pa: IntArr, pb: IntArr) -> Levels:
    """Equality on codes: no string is touched per pair."""
    out = np.where(pa == pb, 0, 1).astype(np.int8)
    e = _empty_code(uniq)
    if e >= 0:
        out[(pa == e) | (pb == e)] = -1
    return out


def _empty_code(uniq: Obj) -> int:
    """The code of the empty value among sorted distinct values (`codes_of`, `by_value`:
    np.unique sorts "" first), or -1: no loop over a million distinct identifiers per
    chunk of pairs."""
    return 0 if len(uniq) and uniq[0] == "" else -1


def number_levels(a: Obj, b: Obj) -> Levels:
    """0 equal, 1 same number with another letter (14 / 14A), 2 different, -1 null."""
    out = np.full(len(a), 2, dtype=np.int8)
    for i in range(len(a)):
        x, y = a[i], b[i]
        if not x or not y:
            out[i] = -1
        elif x == y:
            out[i] = 0
        elif house_number(x) == house_number(y):
            out[i] = 1
    return out


def house_number(number: str) -> str:
    """A house number without its letter (14A: 14)."""
    return number.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


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


class UnknownName(KglinkError, ValueError):
    """A comparison, level, blocking key or evidence rule asked for by a name nobody
    registered; the message lists the names that are known."""

    def __init__(self, what: str, name: str, known: Iterable[str]) -> None:
        self.what, self.name, self.known = what, name, tuple(known)
        super().__init__(f"unknown {what} {name!r}; known: {', '.join(self.known)}")


@dataclass(frozen=True)
class Level:
    """One outcome of a comparison: the name rules ask for it by (`p.at("dob", "exact")`)
    and the label `kglink explain` prints. Its position in the comparison is its code in
    the comparison vectors (0 the strongest agreement; -1 a value missing)."""
    name: str
    label: str


def named_levels(*levels: tuple[str, str]) -> tuple[Level, ...]:
    """(name, label) pairs, strongest agreement first, as a comparison's levels."""
    return tuple(Level(name, label) for name, label in levels)


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[Level, ...]        # levels[code]
    compute: Callable[[Table, IntArr, IntArr], Levels]
    # P(level | same person): where EM starts, and what is used when there are too few
    # pairs to fit (a handful of records). Typical of agency data, not fitted to any set.
    default_m: tuple[float, ...] = ()
    # A blocking key whose shared values hold the comparison's rarest agreeing levels (the
    # places of the location comparison, the date of dates of birth): u is then counted
    # among the pairs sharing it apart from the random pairs (model.estimate_u).
    u_stratum: str | None = None

    def __post_init__(self) -> None:
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"comparison {self.name}: level names repeat: {names}")

    def level(self, name: str) -> int:
        """The code of the level called `name`; UnknownName lists this comparison's levels."""
        for code, lv in enumerate(self.levels):
            if lv.name == name:
                return code
        raise UnknownName(f"level of comparison {self.name}", name, (lv.name for lv in self.levels))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(lv.label for lv in self.levels)

    @property
    def agreeing(self) -> str:
        """The weakest level that counts as agreeing for `individual_evidence`: the top level
        of a two-level comparison (an identifier equal), else the top two (equal or nearly)."""
        return self.levels[1 if self.n_levels > 2 else 0].name

    def start_m(self) -> list[float]:
        if len(self.default_m) == self.n_levels:
            total = sum(self.default_m)
            return [x / total for x in self.default_m]
        return [0.9] + [0.1 / max(self.n_levels - 1, 1)] * (self.n_levels - 1)

    @property
    def n_levels(self) -> int:
        return len(self.levels)


def column(col: str, fn: Callable[[Obj, Obj], Levels] | None = None,
           coded: Coded | None = None, dedupe: bool = True) -> Callable[[Table, IntArr, IntArr], Levels]:
    """Compare one prepared column with a value-pair function (or a coded one).

    `dedupe=False` for comparisons cheaper than finding the distinct pairs (equality).
    """
    level_fn = coded if coded is not None else values(fn)  # type: ignore[arg-type]

    def compute(t: Table, left: IntArr, right: IntArr) -> Levels:
        uniq, codes = codes_of(t, col)
        if not dedupe:
            return level_fn(uniq, codes[left], codes[right])
        return on_distinct(uniq, codes[left], codes[right], level_fn)
    return compute
