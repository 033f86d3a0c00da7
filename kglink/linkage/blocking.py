"""Blocking rules as values: count the pairs a rule makes before making them.

A candidate pair is two records sharing every key of at least one rule. A rule whose
pairs would exceed `max_pairs_per_rule` is refused, and blocks larger than
`max_block_size` (a key too common to tell anyone apart) are left out and counted.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from kglink.errors import KglinkError
from kglink.linkage.arrays import code_lists, sorted_unique
from kglink.linkage.comparisons import UnknownName
from kglink.linkage.fields.name import phonetic
from kglink.linkage.prepare import Table
from kglink.linkage.settings import BlockingRule, LinkageSettings

Values = list[list[str]]
IntArr = NDArray[np.int64]


def _single(col: str) -> Callable[[Table], Values]:
    return lambda t: [[v] if v else [] for v in t.cols[col]]


def _variant_part(part: int, fn: Callable[[str], str]) -> Callable[[Table], Values]:
    cached = lru_cache(maxsize=None)(fn)

    def keys(t: Table) -> Values:
        out = []
        for names in t.multi["names"]:
            if len(names) == 1:             # nearly every record: no set to make and sort
                v = cached(names[0].split("\x1f")[part])
                out.append([v] if v else [])
                continue
            vals = {cached(v.split("\x1f")[part]) for v in names}
            vals.discard("")
            out.append(sorted(vals))
        return out
    return keys


# A name's phonetic key, worked out once per distinct name (a million records hold far fewer).
_phonetic = lru_cache(maxsize=None)(phonetic)


def _first_word(s: str) -> str:
    return s.split(" ")[0] if s else ""


KEY_FUNCTIONS: dict[str, Callable[[Table], Values]] = {
    "nhs_number": _single("nhs_number"),
    "pnc_id": _single("pnc_id"),
    "upn": _single("upn"),
    "contact": lambda t: [[v for v in (p, e) if v] for p, e in zip(t.cols["phone"], t.cols["email"])],
    "dob": _single("dob"),
    "yob": lambda t: [[v[:4]] if v else [] for v in t.cols["dob"]],
    "surname_initial": _variant_part(1, lambda s: s[:1]),
    "forename_initial": _variant_part(0, lambda s: s[:1]),
    "surname_phonetic": _variant_part(1, phonetic),
    "forename_phonetic": _variant_part(0, lambda s: phonetic(_first_word(s))),
    "postcode": lambda t: t.multi["postcode"] if "postcode" in t.multi else _single("postcode")(t),
    "address_entity": lambda t: t.multi["address_entity"],
    # Every place a record is tied to: homes, where its events happened, what it visits,
    # and for a record with none of those its household's homes.
    "place_entity": lambda t: [sorted(set().union(*ties)) for ties in zip(*(
        t.multi.get(col) or [[]] * t.n for col in ("address_entity", "event_entity", "present_entity",
                                                    "visit_entity", "household_entity")))],
    "forename_exact": _variant_part(0, _first_word),
    # Both names' phonetic keys in either order: a forename and surname written the wrong
    # way round (PATEL JASWINDER) still shares this key.
    "names_any_order": lambda t: [sorted({"\x1f".join(sorted((_phonetic(_first_word(v.split("\x1f")[0])),
                                                                  _phonetic(v.split("\x1f")[1]))))
                                          for v in names}) for names in t.multi["names"]],
    "surname_exact": _variant_part(1, lambda s: s),
    "postcode_district": lambda t: [sorted({p.split(" ")[0] for p in pcs}) for pcs in t.multi["postcode"]],
}
for _col in ("uprn", "street", "number", "town", "house_name", "district", "street_phonetic"):
    KEY_FUNCTIONS.setdefault(_col, _single(_col))


class BlockingRefused(KglinkError, ValueError):
    pass


@dataclass(frozen=True)
class RuleCount:
    rule: str
    pairs: int
    blocks: int
    oversized_blocks: int
    records_in_oversized: int
    refused: bool


@dataclass
class _Blocks:
    rec: IntArr          # record index per (record, key) entry, sorted by key
    starts: IntArr       # start offset of each kept block in `rec`
    sizes: IntArr


def key_function(name: str) -> Callable[[Table], Values]:
    """A named key, or `col:NAME` (a column's value) / `phonetic:NAME` (its phonetic key)."""
    if name in KEY_FUNCTIONS:
        return KEY_FUNCTIONS[name]
    how, _, col = name.partition(":")
    if how == "col" and col:
        return _single(col)
    if how == "phonetic" and col:
        return lambda t: [[phonetic(v)] if v else [] for v in t.cols[col]]
    raise UnknownName("blocking key", name, [*KEY_FUNCTIONS, "col:NAME", "phonetic:NAME"])


def key_values(table: Table, name: str) -> Values:
    """A key's values per record, computed once per table (several rules share a key)."""
    return table.derived(f"key_values:{name}", lambda: key_function(name)(table))


@dataclass
class _Exploded:
    """A key's values as flat arrays: entry e says record rec[e] has value code[e]."""
    rec: IntArr
    code: IntArr
    n_codes: int


def _exploded(table: Table, name: str) -> _Exploded:
    """A key's (record, value code) entries, computed once per table: for a key of one
    value per record (a column, a part of the record's one name) from the distinct values
    (ENTRIES), else from the key's lists of values."""
    def make() -> _Exploded:
        by_distinct = ENTRIES.get(name)
        got = by_distinct(table) if by_distinct is not None else None
        if got is not None:
            return got
        offsets, codes = code_lists(key_values(table, name))
        rec = np.repeat(np.arange(table.n, dtype=np.int64), np.diff(offsets))
        return _Exploded(rec, codes, int(codes.max()) + 1 if len(codes) else 0)
    return table.derived(f"key_entries:{name}", make)


def key_entries(table: Table, name: str) -> tuple[IntArr, IntArr, int]:
    """A key's (record, value code) entries as flat arrays, and how many codes there are."""
    ex = _exploded(table, name)
    return ex.rec, ex.code, ex.n_codes


# Keys whose entries are worked out per distinct value: a million records hold a few
# hundred thousand distinct names and dates, and a list per record (KEY_FUNCTIONS' form)
# then a dict lookup per value cost more than the key itself (a third of a next night's
# blocking at 1M). The same entries as KEY_FUNCTIONS' lists give (tests/test_blocking.py),
# the value codes numbered otherwise (nothing reads a code but to compare it).
def _column_entries(col: str, fn: Callable[[str], str] | None = None) -> Callable[[Table], _Exploded | None]:
    """Record i has fn(value) of the column (the value itself without fn) unless empty."""
    def entries(t: Table) -> _Exploded | None:
        values = t.cols[col]
        if not all(type(v) is str for v in values.tolist()):
            return None         # not text (a table made elsewhere): the lists' way
        distinct, code = t.derived(f"column_numbered:{col}", lambda: _numbered(values))
        if fn is not None:
            distinct, remap = _numbered(_objects([fn(v) for v in distinct.tolist()]))
            code = remap[code]
        return _kept(np.arange(t.n, dtype=np.int64), code, distinct, drop_empty=True)
    return entries


def _name_entries(part: int | None, fn: Callable[[str], str], drop_empty: bool = True
                  ) -> Callable[[Table], _Exploded]:
    """The values of a key made from each name a record is known by (KEY_FUNCTIONS'
    _variant_part and names_any_order): fn of the name's part (`part` 0: forenames, 1:
    surname; None: fn of the whole "forenames\x1fsurname"), each value once per record."""
    def of(name: str) -> str:
        return fn(name if part is None else name.split("\x1f")[part])


    def entries(t: Table) -> _Exploded:
        rec, distinct, code, many = _names_numbered(t, part)
        values, remap = _numbered(_objects([fn(v) for v in distinct.tolist()]))
        code = remap[code]
        rec_many, more = [], []
        names = t.multi["names"]
        for i in many.tolist():
            for v in sorted({of(v) for v in names[i]}):
                rec_many.append(i)
                more.append(v)
        if more:
            # One numbering for both: the values of records with aliases join the others'.
            values, recode = _numbered(np.concatenate((values, _objects(more))))
            code = np.concatenate((recode[code], recode[len(recode) - len(more):]))
            rec = np.concatenate((rec, np.asarray(rec_many, dtype=np.int64)))
            order = np.argsort(rec, kind="stable")      # record by record, as the lists are
            rec, code = rec[order], code[order]
        return _kept(rec, code, values, drop_empty)
    return entries


def _names_numbered(t: Table, part: int | None) -> tuple[IntArr, NDArray[np.object_], IntArr, IntArr]:
    """The records known by one name only (nearly all: no alias), the distinct values of
    that name's part (`part` 0: forenames, 1: surname, None: the whole name) and each of
    those records' number among them; and the records with aliases. Once per table and
    part, for every key made from names."""
    def whole() -> tuple[IntArr, NDArray[np.object_], IntArr, IntArr]:
        names = t.multi["names"]
        one = np.fromiter((len(v) == 1 for v in names), dtype=bool, count=t.n)
        rec = np.flatnonzero(one)
        distinct, code = _numbered(_objects([names[i][0] for i in rec.tolist()]))
        return rec, distinct, code, np.flatnonzero(~one)

    def of_part() -> tuple[IntArr, NDArray[np.object_], IntArr, IntArr]:
        rec, names, code, many = _names_numbered(t, None)
        parts, remap = _numbered(_objects([v.split("\x1f")[part] for v in names.tolist()]))
        return rec, parts, remap[code], many
    return t.derived(f"names_numbered:{part}", whole if part is None else of_part)


def _numbered(values: NDArray[np.object_]) -> tuple[NDArray[np.object_], IntArr]:
    """The distinct values (in the order first met) and each value's number among them."""
    seen: dict[str, int] = {}
    code = np.fromiter((seen.setdefault(v, len(seen)) for v in values.tolist()), dtype=np.int64,
                       count=len(values))
    return _objects(list(seen)), code


def _kept(rec: IntArr, code: IntArr, distinct: NDArray[np.object_], drop_empty: bool) -> _Exploded:
    if drop_empty:
        full = np.fromiter((bool(v) for v in distinct.tolist()), dtype=bool, count=len(distinct))[code]
        rec, code = rec[full], code[full]
    return _Exploded(rec, code, len(distinct))


def _objects(values: list[str]) -> NDArray[np.object_]:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _contact_entries(t: Table) -> _Exploded | None:
    """A record's phone number and e-mail address, each where it has one."""
    phone, email = t.cols["phone"], t.cols["email"]
    if not all(type(v) is str for v in phone.tolist() + email.tolist()):
        return None
    distinct, code = _numbered(np.concatenate((phone, email)))
    rec = np.concatenate((np.arange(t.n, dtype=np.int64),) * 2)
    got = _kept(rec, code, distinct, drop_empty=True)
    order = np.argsort(got.rec, kind="stable")      # a record's phone before its e-mail
    return _Exploded(got.rec[order], got.code[order], got.n_codes)


def _place_entries(which: str) -> Callable[[Table], _Exploded | None]:
    """A key of a person's places as the location comparison codes them (registry's
    location sets, made once per table for both): "p" its postcodes, "d" their districts,
    "v" every place it is tied to (each once)."""
    def entries(t: Table) -> _Exploded | None:
        if not {"postcode", "crowded_entity"} <= t.multi.keys():
            return None             # not a person table as person_table makes them
        from kglink.linkage.registry import location_sets

        offsets, codes = location_sets(t)[which]
        rec = np.repeat(np.arange(t.n, dtype=np.int64), np.diff(offsets))
        width = np.int64(int(codes.max()) + 1 if len(codes) else 1)
        if which == "v":            # a place can be a home and an event's place: once
            both = sorted_unique(rec * width + codes)
            rec, codes = both // width, both % width
        return _Exploded(rec, codes, int(width))
    return entries


ENTRIES: dict[str, Callable[[Table], _Exploded | None]] = {
    "postcode": _place_entries("p"),
    "postcode_district": _place_entries("d"),
    "place_entity": _place_entries("v"),
    "nhs_number": _column_entries("nhs_number"),
    "pnc_id": _column_entries("pnc_id"),
    "upn": _column_entries("upn"),
    "contact": _contact_entries,
    "dob": _column_entries("dob"),
    "yob": _column_entries("dob", lambda v: v[:4]),
    "surname_initial": _name_entries(1, lambda s: s[:1]),
    "forename_initial": _name_entries(0, lambda s: s[:1]),
    "surname_phonetic": _name_entries(1, phonetic),
    "forename_phonetic": _name_entries(0, lambda s: phonetic(_first_word(s))),
    "forename_exact": _name_entries(0, _first_word),
    "surname_exact": _name_entries(1, lambda s: s),
    "names_any_order": _name_entries(None, lambda v: "\x1f".join(sorted((
        _phonetic(_first_word(v.split("\x1f")[0])), _phonetic(v.split("\x1f")[1])))), drop_empty=False),
}


def _combine(a: _Exploded, b: _Exploded, n: int) -> _Exploded:
    """Every combination of a record's values of two keys (a record with 2 values of one
    and 3 of the other has 6 entries), each combination one dense code."""
    b_order = np.argsort(b.rec, kind="stable")
    b_rec, b_code = b.rec[b_order], b.code[b_order]
    b_count = np.bincount(b_rec, minlength=n)
    b_start = np.cumsum(b_count) - b_count
    reps = b_count[a.rec]
    a_idx = np.repeat(np.arange(len(a.rec)), reps)
    within = np.arange(len(a_idx)) - np.repeat(np.cumsum(reps) - reps, reps)
    b_idx = b_start[a.rec[a_idx]] + within
    pair = a.code[a_idx] * np.int64(b.n_codes) + b_code[b_idx]
    uniq, dense = np.unique(pair, return_inverse=True)
    return _Exploded(a.rec[a_idx], dense.astype(np.int64), len(uniq))


def _blocks(table: Table, rule: BlockingRule, max_block: int) -> tuple[_Blocks, int, int]:
    """Records grouped by their values of every key of the rule (a record with several
    values of a key is in several blocks), vectorised over records."""
    entries = _exploded(table, rule.keys[0])
    for k in rule.keys[1:]:
        entries = _combine(entries, _exploded(table, k), table.n)
    order = np.lexsort((entries.rec, entries.code))
    rec, key = entries.rec[order], entries.code[order]
    if len(key) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Blocks(rec, empty, empty), 0, 0
    boundaries = np.flatnonzero(np.diff(key)) + 1
    starts = np.concatenate(([0], boundaries))
    sizes = np.diff(np.concatenate((starts, [len(key)])))
    big = sizes > max_block
    keep = (sizes > 1) & ~big
    return _Blocks(rec, starts[keep], sizes[keep]), int(big.sum()), int(sizes[big].sum())


def count_rule(table: Table, rule: BlockingRule, settings: LinkageSettings) -> tuple[RuleCount, _Blocks]:
    b, n_big, in_big = _blocks(table, rule, rule.max_block_size or settings.max_block_size)
    pairs = int((b.sizes * (b.sizes - 1) // 2).sum())
    refused = pairs > settings.max_pairs_per_rule
    return RuleCount(rule.name, pairs, len(b.sizes), n_big, in_big, refused), b


def _pairs_in_blocks(b: _Blocks) -> tuple[IntArr, IntArr]:
    """Every i<j pair inside each block, vectorised (no Python loop per block)."""
    if len(b.sizes) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # For each position p in a block of start s and size n, pair it with p+1 .. s+n-1.
    pos = np.arange(int(b.sizes.sum())) + np.repeat(b.starts - (np.cumsum(b.sizes) - b.sizes), b.sizes)
    end = np.repeat(b.starts + b.sizes, b.sizes)
    count = end - pos - 1
    left_pos = np.repeat(pos, count)
    offsets = np.arange(len(left_pos)) - np.repeat(np.cumsum(count) - count, count)
    right_pos = left_pos + offsets + 1
    left, right = b.rec[left_pos], b.rec[right_pos]
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    keep = lo != hi
    return lo[keep], hi[keep]


# Which comparisons a blocking key makes agree: EM does not estimate their m from the
# pairs that key blocked together (they agree there by construction).
KEY_COMPARISONS: dict[str, tuple[str, ...]] = {
    "dob": ("dob",), "yob": ("dob",), "surname_initial": ("surname",),
    "forename_initial": ("forename",), "surname_phonetic": ("surname",),
    "forename_phonetic": ("forename",), "postcode": ("location", "postcode"),
    "address_entity": ("location",), "place_entity": ("location",),
    "forename_exact": ("forename",), "surname_exact": ("surname",),
    "names_any_order": ("forename", "surname"), "postcode_district": ("location",), "nhs_number": ("nhs_number",), "pnc_id": ("pnc_id",),
    "upn": ("upn",), "contact": ("contact",), "uprn": ("uprn",), "street": ("street",),
    "street_phonetic": ("street",), "number": ("number",), "town": ("town",),
    "house_name": ("house_name",), "district": ("postcode",),
}


def involved(rule: BlockingRule) -> set[str]:
    out: set[str] = set()
    for key in rule.keys:
        if key in KEY_COMPARISONS:
            out.update(KEY_COMPARISONS[key])
        else:
            col = key.partition(":")[2] or key
            out.update({col, f"exact:{col}", f"jw:{col}"})
    return out


def rule_pairs(table: Table, rule: BlockingRule, settings: LinkageSettings) -> tuple[IntArr, IntArr]:
    """The pairs one rule makes (empty if the rule is refused)."""
    rc, b = count_rule(table, rule, settings)
    if rc.refused:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    lo, hi = _pairs_in_blocks(b)
    if settings.link_only_between:
        side = table.cols[settings.link_only_between]
        across = side[lo] != side[hi]
        lo, hi = lo[across], hi[across]
    n = np.int64(table.n)
    codes = sorted_unique(lo * n + hi)
    return codes // n, codes % n


def candidate_pairs(table: Table, settings: LinkageSettings,
                    only: NDArray[np.bool_] | None = None) -> tuple[IntArr, IntArr, list[RuleCount]]:
    """Unique (i, j), i < j, from every rule that is not refused.

    `only`: a mask of records at least one side of each pair must be in (incremental runs).
    """
    counts: list[RuleCount] = []
    codes: list[IntArr] = []
    n = np.int64(table.n)
    for rule in settings.blocking_rules:
        if only is None:
            rc, b = count_rule(table, rule, settings)
        else:
            # An incremental run asks again, for the records collective linkage adds: each
            # rule's blocks are made once and kept on the table.
            rc, b = table.derived(f"rule_blocks:{rule!r}:{settings.max_block_size}:{settings.max_pairs_per_rule}",
                                  lambda: count_rule(table, rule, settings))
        counts.append(rc)
        if rc.refused:
            continue
        if only is not None:
            # Only the blocks holding a record of `only` can give one of its pairs.
            seen = np.concatenate(([0], np.cumsum(only[b.rec], dtype=np.int64)))
            hit = seen[b.starts + b.sizes] > seen[b.starts]
            b = _Blocks(b.rec, b.starts[hit], b.sizes[hit])
        lo, hi = _pairs_in_blocks(b)
        if settings.link_only_between:
            side = table.cols[settings.link_only_between]
            across = side[lo] != side[hi]
            lo, hi = lo[across], hi[across]
        if only is not None:
            m = only[lo] | only[hi]
            lo, hi = lo[m], hi[m]
        codes.append(lo * n + hi)
    if not codes:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, counts
    allc = sorted_unique(np.concatenate(codes))
    return allc // n, allc % n, counts
