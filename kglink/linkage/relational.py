"""Collective linkage: evidence from the people a record is related to, once they are linked.

A first pass links people on their own fields. Then every record's relatives (the records
its agency names as its children, partners and parents) are looked up in that pass's
entities, and two records whose relatives are one person gain evidence: a child has one
mother and one father, so two women's records that name the same child are one mother,
whatever their surnames and however little else each agency recorded. The pairs are
rescored and clustered again, to a fixed point (`relational_rounds`).

The `relatives` comparison's levels (RELATIVE_LEVELS) say which relative is shared. Its m
and u are learnt like every other comparison's (u from random pairs, m by EM with the
other comparisons' m held), after the first pass. A shared child or partner counts only
between records of one recorded sex: the child's other parent shares the child too
("other_parent", learnt apart). Records of two people an agency relates to each other
(through linked records: one names the other's entity as its child, partner or parent)
are kept apart by the related_records rule.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from kglink.linkage.arrays import flat_lists, lists_contain, share_any, sorted_unique
from kglink.linkage.blocking import _Blocks, _pairs_in_blocks
from kglink.linkage.comparisons import IntArr, Levels
from kglink.linkage.prepare import Table

if TYPE_CHECKING:
    from kglink.linkage.comparisons import Comparison
    from kglink.linkage.model import Model
    from kglink.linkage.settings import LinkageSettings

RELATIVE_LEVELS = (
    ("same_child", "both name the same child (as linked), one sex: one parent"),
    ("same_partner", "both name the same partner (as linked), one sex"),
    ("same_parent", "both name the same parent (as linked)"),
    ("other_parent", "a child or partner in common, different sexes (the other parent)"),
    ("none_shared", "relatives named on both sides, none in common"),
    ("each_others_relative", "one names the other (as linked) as a child, partner or parent"),
)
DEFAULT_M = (0.25, 0.08, 0.08, 0.01, 0.579, 0.001)
RELATIVES = {name: i for i, (name, _) in enumerate(RELATIVE_LEVELS)}
KINDS = ("child_records", "partner_records", "parent_records")


def set_entities(t: Table, roots: NDArray[np.int64] | list[int]) -> None:
    """Say which records are one person so far (an entity number per record)."""
    t.__dict__["entity_of"] = np.asarray(roots, dtype=np.int64)
    t.__dict__.pop("_relative_sets", None)


def has_entities(t: Table) -> bool:
    return t.__dict__.get("entity_of") is not None


def _indexes(t: Table) -> dict[str, tuple[IntArr, IntArr]]:
    """Per relation kind, each record's related records as table indexes (offsets, values)."""
    def make() -> dict[str, tuple[IntArr, IntArr]]:
        index = t.index()
        return {kind: flat_lists([[index[k] for k in ks if k in index] for ks in t.multi[kind]])
                for kind in KINDS if kind in t.multi}
    return t.derived("relative_indexes_by_kind", make)


def touched_by(t: Table, moved: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Records whose relatives comparison can change when the `moved` records' persons
    changed: those records, and every record naming one of them as a relative."""
    out = moved.copy()
    for offsets, vals in _indexes(t).values():
        owner = np.repeat(np.arange(t.n, dtype=np.int64), np.diff(offsets))
        out[owner[moved[vals]]] = True
    return out


def _sets(t: Table) -> dict[str, tuple[IntArr, IntArr]] | None:
    """Per relation kind, each record's relatives' entities (offsets, entity numbers)."""
    roots = t.__dict__.get("entity_of")
    if roots is None:
        return None
    held = t.__dict__.get("_relative_sets")
    if held is None:
        held = {kind: (offsets, roots[vals]) for kind, (offsets, vals) in _indexes(t).items()}
        t.__dict__["_relative_sets"] = held
    return held  # type: ignore[no-any-return]


def compare(t: Table, left: IntArr, right: IntArr) -> Levels:
    """RELATIVE_LEVELS per pair; -1 until a first pass has linked people, or where either
    record names no relative."""
    out = np.full(len(left), -1, dtype=np.int8)
    sets = _sets(t)
    if not sets or len(left) == 0:
        return out
    has = np.zeros(t.n, dtype=bool)
    for offsets, _ in sets.values():
        has |= np.diff(offsets) > 0
    idx = np.flatnonzero(has[left] & has[right])
    out[idx] = RELATIVES["none_shared"]
    if len(idx) == 0:
        return out
    li, ri = left[idx], right[idx]
    sex = t.cols.get("sex")
    if sex is not None:
        code = t.derived("sex_code", lambda: np.array([{"M": 1, "F": 2}.get(v, 0) for v in sex], dtype=np.int8))
        one_sex = (code[li] == code[ri]) | (code[li] == 0) | (code[ri] == 0)
    else:
        one_sex = np.ones(len(idx), dtype=bool)

    def shared(kind: str) -> NDArray[np.bool_]:
        if kind not in sets:
            return np.zeros(len(idx), dtype=bool)
        return share_any(*sets[kind], li, ri)
    child, partner, parent = shared("child_records"), shared("partner_records"), shared("parent_records")
    out[idx[(child | partner) & ~one_sex]] = RELATIVES["other_parent"]
    out[idx[parent]] = RELATIVES["same_parent"]
    out[idx[partner & one_sex]] = RELATIVES["same_partner"]
    out[idx[child & one_sex]] = RELATIVES["same_child"]
    roots = t.__dict__["entity_of"]
    each_other = np.zeros(len(idx), dtype=bool)
    for offsets, ents in sets.values():
        each_other |= lists_contain(offsets, ents, li, roots[ri]) | lists_contain(offsets, ents, ri, roots[li])
    out[idx[each_other]] = RELATIVES["each_others_relative"]
    return out


def pairs_sharing_relatives(t: Table, max_block: int) -> tuple[IntArr, IntArr]:
    """Candidate pairs (i < j): records that name one child or one partner (as linked).
    Blocks larger than `max_block` are left out."""
    sets = _sets(t)
    empty = np.zeros(0, dtype=np.int64)
    if not sets:
        return empty, empty
    recs, codes = [], []
    for tag, kind in enumerate(("child_records", "partner_records")):
        if kind not in sets:
            continue
        offsets, ents = sets[kind]
        recs.append(np.repeat(np.arange(t.n, dtype=np.int64), np.diff(offsets)))
        codes.append(ents * 2 + tag)
    if not recs:
        return empty, empty
    rec, code = np.concatenate(recs), np.concatenate(codes)
    order = np.lexsort((rec, code))
    rec, code = rec[order], code[order]
    if len(code) == 0:
        return empty, empty
    starts = np.concatenate(([0], np.flatnonzero(np.diff(code)) + 1))
    sizes = np.diff(np.concatenate((starts, [len(code)])))
    keep = (sizes > 1) & (sizes <= max_block)
    lo, hi = _pairs_in_blocks(_Blocks(rec, starts[keep], sizes[keep]))
    n = np.int64(t.n)
    pair = sorted_unique(lo * n + hi)
    return pair // n, pair % n


def fit(model: "Model", t: Table, comps: list["Comparison"], gamma: NDArray[np.int8],
        settings: "LinkageSettings") -> None:
    """Learn the relatives comparison's u (random pairs) and m (EM over the candidate pairs,
    every other comparison's m held) once a first pass has linked people. In place."""
    from kglink.linkage.model import _level_freqs, fit_em, learnable

    c = next(i for i, comp in enumerate(comps) if comp.name == "relatives")
    rng = np.random.default_rng(settings.seed)
    k = min(settings.u_sample_pairs, t.n * (t.n - 1) // 2)
    lo, hi = rng.integers(0, t.n, size=k), rng.integers(0, t.n, size=k)
    keep = lo != hi
    model.u[c] = _level_freqs(compare(t, lo[keep], hi[keep])[:, None], [comps[c]])[0]
    g = gamma
    if len(g) > settings.em_sample_pairs:
        g = g[np.sort(rng.choice(len(g), size=settings.em_sample_pairs, replace=False))]
    if len(g) < settings.min_pairs_for_em or not learnable(g, comps, settings)[c]:
        return                          # too little to learn from: the default m stands
    learn = [i == c for i in range(len(comps))]
    m, _, _ = fit_em(g, comps, model.u, settings, m_start=model.m, learn=learn)
    # "Each other's relative" is a contradiction the related_records rule settles, not a
    # degree of likeness: its m stays the default, and EM's share of it (family members
    # who look alike, whom EM half counts as matches) goes back to the other levels.
    held = RELATIVES["each_others_relative"]
    rest = 1.0 - DEFAULT_M[held]
    others = sum(x for i, x in enumerate(m[c]) if i != held)
    model.m[c] = [DEFAULT_M[held] if i == held else float(x) * rest / others for i, x in enumerate(m[c])]
