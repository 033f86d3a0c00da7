"""The comparisons for each kind of record, by name, as the settings refer to them."""
from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import partial

import numpy as np

from kglink import parallel
from kglink.linkage import relational
from kglink.linkage.arrays import code_lists, concat_lists, flat_lists, lists_contain, share_any
from kglink.linkage.comparisons import (
    Comparison, IntArr, Level, Levels, Obj, Slips, UnknownName, codes_of, column, dob_coded, exact_coded, flat_levels,
    forename_coded, forename_levels, jaro_winkler, number_levels, on_distinct, postcode_levels,
    named_levels, similarity_levels, slips_of, surname_coded, surname_levels,
)
from kglink.linkage.prepare import Table


# Street names: equal, then Jaro-Winkler at these thresholds, then different (the
# different_street rule and clustering read the last threshold).
STREET_JW = (0.92, 0.80)
# Two house names this alike (or more) are one house (the premise comparison).
HOUSE_NAME_JW = 0.9


def _for_these_pairs(t: Table, name: str, left: IntArr, right: IntArr,
                     compute: Callable[[], tuple[Levels, Levels]]) -> tuple[Levels, Levels]:
    """Two comparisons worked out together (forename and surname; two swappable fields),
    kept on the table for the very same pair arrays only. Held by weak reference: a new
    array at a freed one's address is not mistaken for it, and nothing is kept alive."""
    held = t.__dict__.get(name)
    if held is not None and held[0]() is left and held[1]() is right:
        return held[2]  # type: ignore[no-any-return]
    value = compute()
    t.__dict__[name] = (weakref.ref(left), weakref.ref(right), value)
    return value


def _names(t: Table, left: IntArr, right: IntArr) -> tuple[Levels, Levels]:
    """Forename and surname levels of the best-matching pair of names, aliases included."""
    return _for_these_pairs(t, "_names_of_pairs", left, right, lambda: _names_now(t, left, right))


def _names_now(t: Table, left: IntArr, right: IntArr) -> tuple[Levels, Levels]:
    fu, fc = codes_of(t, "forenames_all")
    su, sc = codes_of(t, "surname")
    slips = slips_of(t)
    fore = on_distinct(fu, fc[left], fc[right], partial(forename_coded, slips=slips))
    sur = on_distinct(su, sc[left], sc[right], surname_coded)
    variants = t.multi["names"]
    # Kept on the table: worked out per chunk of pairs it was a loop over every record.
    multi = t.derived("has_aliases", lambda: np.fromiter((len(v) > 1 for v in variants), dtype=bool, count=t.n))
    idx = np.flatnonzero(multi[left] | multi[right])
    if len(idx):
        pair_i, fa, fb, sa, sb = [], [], [], [], []
        for k in idx.tolist():
            for va in variants[left[k]]:
                for vb in variants[right[k]]:
                    f1, s1 = va.split("\x1f")
                    f2, s2 = vb.split("\x1f")
                    pair_i.append(k)
                    fa.append(f1)
                    fb.append(f2)
                    sa.append(s1)
                    sb.append(s2)
        fl = forename_levels(np.array(fa, dtype=object), np.array(fb, dtype=object), slips=slips)
        sl = surname_levels(np.array(sa, dtype=object), np.array(sb, dtype=object))
        # Rank a combination by its worse field first; a missing value ranks as middling.
        score = np.where(fl < 0, 2.5, fl) + np.where(sl < 0, 2.5, sl)
        best: dict[int, tuple[float, int, int]] = {}
        for pi, s, f, g in zip(pair_i, score, fl, sl):
            if pi not in best or s < best[pi][0]:
                best[pi] = (float(s), int(f), int(g))
        for pi, (_, f, g) in best.items():
            fore[pi], sur[pi] = f, g
    # Forename and surname written the wrong way round (a common data-entry slip).
    fall, sall = t.cols["forenames_all"], t.cols["surname"]
    poor = np.flatnonzero((fore >= 3) & (sur >= 3))
    if len(poor):
        # Only where the initials cross over is a reversal worth checking.
        fi, si = _initials(t, "forenames_all"), _initials(t, "surname")
        la, ra = left[poor], right[poor]
        poor = poor[(fi[la] == si[ra]) & (si[la] == fi[ra]) & (fi[la] != "")]
    if len(poor):
        fore[poor], sur[poor] = _crossed_levels(t, left[poor], right[poor], fore[poor], sur[poor], slips)
    return fore, sur


def _crossed_levels(t: Table, li: IntArr, ri: IntArr, fore: Levels, sur: Levels,
                    slips: Slips) -> tuple[Levels, Levels]:
    """The name levels of pairs read as if one record's forename and surname were written
    the wrong way round, where that agrees better than read straight. Either record may be
    the crossed one; each way's first names are compared as first names (an initial, a
    nickname: R MULSH for MULSH RONAN) and its surnames as surnames, and the better way
    is kept, the same whichever record comes first."""
    fall, sall = t.cols["forenames_all"], t.cols["surname"]
    lf, rf = _first(fall[li]), _first(fall[ri])
    ways = ((forename_levels(sall[li], rf, slips=slips), surname_levels(lf, sall[ri])),    # the left crossed
            (forename_levels(lf, sall[ri], slips=slips), surname_levels(sall[li], rf)))    # the right crossed

    def rank(f: Levels, s: Levels) -> np.ndarray:
        # Worst for a way with a name missing; ties go to the better surname (an initial
        # stands for a first name: KHAN R is not read as KHAN RAFIQ's surname cut short).
        return np.where((f < 0) | (s < 0), 10**6, (f.astype(np.int64) + s) * 16 + s)
    (fa, sa), (fb, sb) = ways
    take_a = rank(fa, sa) <= rank(fb, sb)
    cf, cs = np.where(take_a, fa, fb), np.where(take_a, sa, sb)
    better = (cf >= 0) & (cs >= 0) & (cf + cs < fore + sur)
    return np.where(better, cf, fore).astype(np.int8), np.where(better, cs, sur).astype(np.int8)


_SURNAME_DIFFERENT = 4          # surname_levels' last level


def _surname(t: Table, left: IntArr, right: IntArr) -> Levels:
    """Surname levels, with "different" split by whether both records are women's.

    Women change surname on marriage and back far more often than men do (a mother is
    often known to one agency by her married name and to another by her maiden name), so
    how often the same person's records disagree on surname is learnt apart for women."""
    sur = _names(t, left, right)[1].copy()
    different = np.flatnonzero(sur == _SURNAME_DIFFERENT)
    sex = t.cols.get("sex")
    women = np.zeros(len(different), dtype=bool)
    if sex is not None and len(different):
        female = t.derived("female", lambda: np.array([v == "F" for v in sex], dtype=bool))
        women = female[left[different]] & female[right[different]]
    sur[different[~women]] = _SURNAME_DIFFERENT + 1
    return sur


def _initials(t: Table, col: str) -> np.ndarray:
    return t.derived(f"initials:{col}", lambda: np.array([v[:1] for v in t.cols[col]], dtype=object))


def _first(values: np.ndarray) -> np.ndarray:
    return np.array([v.split(" ", 1)[0] for v in values], dtype=object)


# The location comparison's levels, strongest first (rules and tests ask for them by name).
LOCATION_LEVELS = (
    ("same_home", "same home address"),
    ("same_shared", "same shared address (care home, hostel...)"),
    ("same_event_place", "same address: home or event place (victim, suspect, missing from...)"),
    ("same_household", "same address: one has no place on file, its children or partner live there"),
    ("same_present", "same address: one reported or witnessed an event there"),
    ("same_visited", "same address: one of them visits or frequents it"),
    ("same_postcode", "same postcode"),
    ("same_sector", "same postcode sector"),
    ("same_district", "same postcode district"),
    ("none_in_common", "no address in common"),
)
LOCATION = {name: i for i, (name, _) in enumerate(LOCATION_LEVELS)}


def location_sets(t: Table) -> dict[str, tuple[IntArr, IntArr]]:
    """Per record, as (offsets, codes) for `_share`: its homes ("e"), shared addresses
    ("c"), homes and event places ("x"), those and its household's homes where it has no
    place of its own ("k"), those and where it reported or witnessed an event ("w"), every
    place it is tied to ("v"), and the
    postcodes, sectors and districts of its homes (of its other places if it has no
    home). Kept on the table."""
    def make() -> dict[str, tuple[IntArr, IntArr]]:
        m = t.multi
        pcs = m["postcode"]
        none: list[list[str]] = [[] for _ in range(t.n)]
        # Each kind of place coded once with one dict, then joined per record as arrays
        # (homes + events, + household, + present, + visits): the same lists of codes as
        # coding each joined list of strings, without a million Python lists per set.
        shared: dict[str, int] = {}
        homes, events, kin, present, visits = (
            code_lists(m.get(col) or none, shared) for col in (
                "address_entity", "event_entity", "household_entity", "present_entity", "visit_entity"))
        lists = {"c": m["crowded_entity"], "p": pcs,
                 "s": [sorted({p[:-2] for p in ps}) for ps in pcs],
                 "d": [sorted({p.split(" ")[0] for p in ps}) for ps in pcs]}
        out = {k: code_lists(v) for k, v in lists.items()}
        out.update(e=homes, x=concat_lists(homes, events), k=concat_lists(homes, events, kin),
                   w=concat_lists(homes, events, kin, present),
                   v=concat_lists(homes, events, kin, present, visits))
        return out
    return t.derived("location_sets", make)


def _share(t: Table, sets: tuple[IntArr, IntArr], left: IntArr, right: IntArr) -> np.ndarray:
    """Per pair: do the two records' code lists have a code in common? Records with at
    most one code each (nearly all) are compared directly, the rest by `share_any`."""
    offsets, vals = sets
    count, first = _count_first(t, sets)
    single = (count[left] <= 1) & (count[right] <= 1)
    out = (first[left] == first[right]) & (first[left] >= 0) & single
    many = np.flatnonzero(~single)
    if len(many):
        out[many] = share_any(offsets, vals, left[many], right[many])
    return out


def _count_first(t: Table, sets: tuple[IntArr, IntArr]) -> tuple[IntArr, IntArr]:
    """Per record, how many codes it has and its first code (-1 if none): kept on the
    table beside the sets, not worked out again for every chunk of pairs."""
    def make() -> tuple[IntArr, IntArr]:
        offsets, vals = sets
        count = np.diff(offsets)
        first = np.full(len(count), -1, dtype=np.int64)
        some = count > 0
        first[some] = vals[offsets[:-1][some]]
        return count, first
    return t.derived(f"count_first:{id(sets[0])}", make)


def _location(t: Table, left: IntArr, right: IntArr) -> Levels:
    """LOCATION_LEVELS: the strongest tie the two records' places have in common; -1 where
    either record is tied to no place at all."""
    sets = location_sets(t)
    out = np.full(len(left), LOCATION["none_in_common"], dtype=np.int8)
    for name, key in (("same_district", "d"), ("same_sector", "s"), ("same_postcode", "p"),
                      ("same_visited", "v"), ("same_present", "w"), ("same_household", "k"),
                      ("same_event_place", "x"),
                      ("same_shared", "c"),
                      ("same_home", "e")):
        out[_share(t, sets[key], left, right)] = LOCATION[name]
    known = t.derived("place_known", lambda: np.diff(sets["v"][0]) + np.diff(sets["c"][0])
                      + np.diff(sets["p"][0]) > 0)
    out[~(known[left] & known[right])] = -1
    return out


def related_indexes(t: Table) -> tuple[IntArr, IntArr]:
    """Each record's related records (an agency said so) as table indexes, in
    (offsets, values) form; kept on the table."""
    def make() -> tuple[IntArr, IntArr]:
        index = t.index()
        return flat_lists([[index[k] for k in rel if k in index] for rel in t.multi["related"]])
    return t.derived("related_indexes", make)


def _nonempty(t: Table, col: str) -> tuple[IntArr, np.ndarray]:
    """(code per record, has a value) for a string column; kept on the table."""
    def make() -> tuple[IntArr, np.ndarray]:
        uniq, codes = codes_of(t, col)
        filled = np.asarray([bool(u) for u in uniq], dtype=bool)
        return codes, filled[codes]
    return t.derived(f"nonempty:{col}", make)


def _premise(t: Table, left: IntArr, right: IntArr) -> Levels:
    """Which building and which flat: 0 same number and flat, 1 same number with a flat on
    one side only, 2 same house name, 3 a number on one side and a name on the other,
    4 different number, flat or house name, -1 neither identifies a building."""
    num, has_num = _nonempty(t, "number")
    flat, has_flat = _nonempty(t, "flat")
    name, has_name = _nonempty(t, "house_name")
    na, nb, fa, fb = num[left], num[right], flat[left], flat[right]
    hna, hnb, hfa, hfb = has_num[left], has_num[right], has_flat[left], has_flat[right]
    hha, hhb = has_name[left], has_name[right]
    out = np.full(len(left), -1, dtype=np.int8)
    # The branches in order of precedence; `open_` marks pairs no branch has decided yet.
    open_ = np.ones(len(left), dtype=bool)
    other_flat = hfa & hfb & (fa != fb)
    out[other_flat] = 4
    open_ &= ~other_flat
    both_num = open_ & hna & hnb
    out[both_num] = np.where(na[both_num] != nb[both_num], 4, np.where(fa[both_num] == fb[both_num], 0, 1))
    open_ &= ~both_num
    both_name = np.flatnonzero(open_ & hha & hhb)
    if len(both_name):
        uniq, _ = codes_of(t, "house_name")
        ha, hb = name[left[both_name]], name[right[both_name]]
        out[both_name] = on_distinct(uniq, ha, hb, _house_name_coded)
        open_[both_name] = False
    out[open_ & (hna | hha) & (hnb | hhb)] = 3
    return out


def _house_name_coded(uniq: np.ndarray, pa: IntArr, pb: IntArr) -> Levels:
    """2 the same house name (or Jaro-Winkler >= 0.9), 4 another house."""
    same = (pa == pb) | (jaro_winkler(uniq[pa], uniq[pb], cutoff=HOUSE_NAME_JW) >= HOUSE_NAME_JW)
    return np.where(same, 2, 4).astype(np.int8)


def _contact(t: Table, left: IntArr, right: IntArr) -> Levels:
    # On codes, as _sex: comparing string objects per pair cost seconds at 19M pairs.
    ph, has_ph = _nonempty(t, "phone")
    em, has_em = _nonempty(t, "email")
    hpl, hpr, hel, her = has_ph[left], has_ph[right], has_em[left], has_em[right]
    same = ((ph[left] == ph[right]) & hpl) | ((em[left] == em[right]) & hel)
    some = (hpl | hel) & (hpr | her)
    out = np.where(same, 0, 1).astype(np.int8)
    out[~some] = -1
    return out


def _sex(t: Table, left: IntArr, right: IntArr) -> Levels:
    # On codes: three comparisons of string objects per pair cost seconds at 19M pairs.
    uniq, codes = codes_of(t, "sex")
    return exact_coded(uniq, codes[left], codes[right])


def _similarity_levels(equal: str, thresholds: tuple[float, ...], different: str) -> tuple[Level, ...]:
    """The levels of `comparisons.similarity_levels`: exact, one per Jaro-Winkler threshold
    (jw_0.92: at or above 0.92), different."""
    return named_levels(("exact", equal), *((f"jw_{x:.2f}", f"Jaro-Winkler >= {x:.2f}") for x in thresholds),
                        ("different", different))


def _ident(col: str) -> Comparison:
    return Comparison(col, named_levels(("exact", f"{col} the same (valid)"), ("different", f"{col} different (both valid)")),
                      column(col, coded=exact_coded, dedupe=False), (0.995, 0.005), u_stratum=col)


PERSON_COMPARISONS: dict[str, Comparison] = {c.name: c for c in (
    Comparison("forename", named_levels(
        ("exact", "first names equal"), ("nickname_or_middle", "nickname or middle name used"),
        ("jw_0.92", "Jaro-Winkler >= 0.92"), ("jw_0.80", "Jaro-Winkler >= 0.80"),
        ("initial", "initial only agrees"), ("different", "different")), lambda t, l, r: _names(t, l, r)[0],
               (0.80, 0.06, 0.05, 0.03, 0.03, 0.03)),
    Comparison("surname", named_levels(
        ("exact", "surnames equal"), ("jw_0.92", "Jaro-Winkler >= 0.92"), ("jw_0.80", "Jaro-Winkler >= 0.80"),
        ("part", "one part of a double-barrelled name shared"),
        ("different_women", "different, both women (a married or maiden name)"), ("different", "different")),
               _surname, (0.85, 0.05, 0.04, 0.02, 0.02, 0.02)),
    Comparison("dob", named_levels(
        ("exact", "dates of birth equal"), ("swapped", "day and month swapped"),
        ("one_apart", "one digit, one day, or one or ten years apart"), ("same_year", "same year only"),
        ("different", "different")), column("dob", coded=dob_coded),
               (0.88, 0.03, 0.05, 0.02, 0.02), u_stratum="dob"),
    Comparison("sex", named_levels(("exact", "sex the same"), ("different", "sex different")), _sex, (0.98, 0.02)),
    Comparison("location", named_levels(*LOCATION_LEVELS), _location,
               (0.50, 0.05, 0.08, 0.04, 0.02, 0.02, 0.10, 0.05, 0.04, 0.10), u_stratum="place_entity"),
    _ident("nhs_number"), _ident("pnc_id"), _ident("upn"),
    Comparison("relatives", named_levels(*relational.RELATIVE_LEVELS), relational.compare, relational.DEFAULT_M),
    Comparison("contact", named_levels(("exact", "same phone or email"), ("different", "different phone and email")),
               _contact, (0.8, 0.2), u_stratum="contact"),
)}

ADDRESS_COMPARISONS: dict[str, Comparison] = {c.name: c for c in (
    Comparison("uprn", named_levels(("exact", "UPRN the same"), ("different", "UPRN different")),
               column("uprn", coded=exact_coded, dedupe=False), (0.995, 0.005), u_stratum="uprn"),
    Comparison("postcode", named_levels(("exact", "same postcode"), ("sector", "same sector"),
                                        ("district", "same district"), ("different", "different")),
               column("postcode", postcode_levels), (0.9, 0.04, 0.03, 0.03)),
    Comparison("premise", named_levels(
        ("exact", "same house number and flat"), ("flat_one_side", "same number, a flat on one side only"),
        ("house_name", "same house name"), ("number_or_name", "a number on one side, a house name on the other"),
        ("different", "different number, flat or house name")), _premise,
               (0.78, 0.08, 0.08, 0.03, 0.03)),
    Comparison("flat", named_levels(("exact", "same flat"), ("no_flat", "neither a flat"),
                                    ("flat_one_side", "flat on one side only"), ("different", "different flats")),
               column("flat", flat_levels, dedupe=False), (0.3, 0.6, 0.07, 0.03)),
    Comparison("number", named_levels(("exact", "same house number"), ("other_letter", "same number, other letter"),
                                      ("different", "different number")),
               column("number", number_levels), (0.95, 0.02, 0.03)),
    Comparison("house_name", named_levels(("exact", "same house name"), ("jw_0.90", "Jaro-Winkler >= 0.90"),
                                          ("different", "different")),
               column("house_name", similarity_levels((0.90,))), (0.8, 0.15, 0.05)),
    Comparison("street", _similarity_levels("same street", STREET_JW, "different"),
               column("street", similarity_levels(STREET_JW)), (0.85, 0.08, 0.04, 0.03)),
    Comparison("town", named_levels(("exact", "same town"), ("different", "different town")),
               column("town", coded=exact_coded, dedupe=False), (0.9, 0.1)),
)}


def _either_order(col: str, other: str, levels: Callable[[Obj, Obj], Levels]) -> Callable[[Table, IntArr, IntArr], Levels]:
    """Two fields that may have been written the wrong way round (address lines 1 and 2):
    compared straight, or crossed where crossing agrees better (a missing value ranks as
    middling). Crossed, the comparison of the field whose name sorts first takes the better
    of the two crossed levels and the other the worse, so (a, b) and (b, a) score the same
    and each agreement counts once."""
    first, second = sorted((col, other))
    straight = (column(first, levels), column(second, levels))

    def both(t: Table, left: IntArr, right: IntArr) -> tuple[Levels, Levels]:
        a, b = t.cols[first], t.cols[second]
        s1, s2 = straight[0](t, left, right), straight[1](t, left, right)
        c1, c2 = levels(a[left], b[right]), levels(b[left], a[right])

        def rank(x: Levels) -> np.ndarray:
            return np.where(x < 0, 2.5, x)
        crossed = rank(c1) + rank(c2) < rank(s1) + rank(s2)
        best = np.minimum(np.where(c1 < 0, 127, c1), np.where(c2 < 0, 127, c2))
        worse = np.where((c1 < 0) | (c2 < 0), -1, np.maximum(c1, c2))
        return (np.where(crossed, np.where(best == 127, -1, best), s1).astype(np.int8),
                np.where(crossed, worse, s2).astype(np.int8))

    def compute(t: Table, left: IntArr, right: IntArr) -> Levels:
        pair = _for_these_pairs(t, f"_crossed:{first}~{second}", left, right, lambda: both(t, left, right))
        return pair[0 if col == first else 1]
    return compute


def generic_comparison(name: str) -> Comparison | None:
    """`exact:COL` and `jw:COL` compare any prepared column, for tables of other shapes;
    `jw:COL~OTHER` also accepts COL's value written in OTHER on either side (two fields
    swapped, like Splink's columns-reversed level)."""
    how, _, col = name.partition(":")
    if how == "jw" and "~" in col:
        col, other = col.split("~", 1)
        return Comparison(name, _similarity_levels(f"{col} equal (either order)", (0.92, 0.80), f"{col} different"),
                          _either_order(col, other, similarity_levels((0.92, 0.80))), (0.8, 0.1, 0.05, 0.05))
    if how == "exact" and col:
        return Comparison(name, named_levels(("exact", f"{col} equal"), ("different", f"{col} different")),
                          column(col, coded=exact_coded, dedupe=False),
                          (0.9, 0.1))
    if how == "jw" and col:
        return Comparison(name, _similarity_levels(f"{col} equal", (0.92, 0.80), f"{col} different"),
                          column(col, similarity_levels((0.92, 0.80))),
                          (0.8, 0.1, 0.05, 0.05))
    return None


def comparisons_for(kind: str, names: tuple[str, ...]) -> list[Comparison]:
    reg = PERSON_COMPARISONS if kind == "person" else ADDRESS_COMPARISONS
    out = []
    for n in names:
        comp = reg.get(n) or generic_comparison(n)
        if comp is None:
            raise UnknownName(f"{kind} comparison", n, [*reg, "exact:COL", "jw:COL", "jw:COL~OTHER"])
        out.append(comp)
    return out


def comparison_vectors(t: Table, comps: list[Comparison], left: IntArr, right: IntArr,
                       chunk: int = 500_000, processes: int | None = None,
                       warm: int | None = None) -> np.ndarray:
    """(pairs x comparisons) int8 levels, computed in chunks (bounding memory) spread over
    the cores (kglink.parallel)."""
    procs = parallel.workers() if processes is None else processes
    shape = (len(left), len(comps))
    bounds = chunk_bounds(len(left), chunk, procs, WARM_PAIRS if warm is None else warm)
    out = parallel.shared_array(shape, np.int8) if len(bounds) > 2 else np.empty(shape, np.int8)

    def work(i: int) -> None:
        lo, hi = left[bounds[i]:bounds[i + 1]], right[bounds[i]:bounds[i + 1]]
        for c, comp in enumerate(comps):
            out[bounds[i]:bounds[i + 1], c] = comp.compute(t, lo, hi)
    parallel.run_chunks(len(bounds) - 1, work, procs)
    return out


WARM_PAIRS = 20_000


def chunk_bounds(n: int, chunk: int, procs: int, warm: int = WARM_PAIRS) -> list[int]:
    """Where the chunks of n pairs start, and n. With more than one process, a small first
    chunk (`warm` pairs) fills the table's caches before the fork (run_chunks computes it
    alone), and the rest is cut into at least one chunk per process, none over `chunk`:
    1M pairs on two cores were two chunks of 500k, one after the other."""
    if n == 0:
        return [0]
    if procs <= 1 or n <= 2 * warm:
        return list(range(0, n, chunk)) + [n]
    size = min(chunk, -(-(n - warm) // procs))
    return [0] + list(range(warm, n, size)) + [n]
