"""Names-only pairs are not all equal: a full name few persons in the workspace hold.

The names_only rule holds a pair whose only agreeing evidence is the names for a person
to review, but only a pair the model already scores at or above the review threshold;
below it the pair is dropped. The model's odds for two records of one full name are its
prior times the name's weight, and the name's weight is counted over records: a name one
person holds in three agencies counts as three people's, and a person's own records make
the name look commoner to every other record of it.

Counted over persons instead, the question is who made record B, which holds full name X
(first forename and surname, as cleaned, both exactly A's). One of the persons who hold X
did. If k persons (the entities as linked) hold X, A's among them, and nothing tells them
apart, each is as likely as the next to have been recorded by B's agency: the odds that B
is A's person are 1 : (k - 1), the expected number of *other* persons holding the name.
What else the two records say multiplies those odds by its own weights, as the model
learnt them (m / u), except what the shared first name already says: the same sex, and
a phone or email that one family's records share (names_only counts one two agencies
recorded as corroboration already, and such a pair is not names-only). So

    odds = 2 ** (weights of the other comparisons) / (k - 1)

and the pair waits for a person when the probability those odds give reaches the review
threshold (`thresholds.review`): never a link, since names alone are not a person. No
count, rule or list is set here: k is counted in the workspace, the weights are the
model's, the threshold the settings'. A place in one small area is not taken as support:
the model weighs it (where both records have places, a true match nearly always shares an
address, so a postcode district alone has learnt a negative weight on every county we
have; one postcode a positive one).

Nothing may stand against the pair, as persons: no evidence rule between any record of
one entity and any of the other (a date of birth, a generation, a relation; clustering's
test), and the two entities' places (when both have any) must not all be apart.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from kglink.linkage.comparisons import Comparison, codes_of
from kglink.linkage.model import Model
from kglink.linkage.prepare import Table
from kglink.linkage.registry import LOCATION
from kglink.linkage.rules import apply as apply_rules
from kglink.linkage.settings import LinkageSettings

REASON = "rule:rare_full_name"
# Agreements the shared first name already implies (a first name says the sex; one
# agency's records of a family share its phone): they add nothing once the name is given.
IMPLIED_BY_NAME = {"sex": "exact", "contact": "exact"}

IntArr = NDArray[np.int64]


def name_holders(t: Table, entity: IntArr) -> IntArr:
    """Per record, how many persons (distinct `entity` numbers) hold its full name (the
    first forename and the surname); 0 where either is missing."""
    return _full_names(t, entity)[0]


def _full_names(t: Table, entity: IntArr) -> tuple[IntArr, IntArr]:
    """(name_holders, each record's full name as a number, -1 where it has none), from the
    first names' and surnames' codes the comparisons keep on the table (at 1M, making a
    million name strings and sorting them took seconds)."""
    fu, fc = codes_of(t, "forename")
    su, sc = codes_of(t, "surname")
    name = fc * np.int64(len(su)) + sc
    name[(fu[fc] == "") | (su[sc] == "")] = -1
    known = name >= 0
    _, code = np.unique(name[known], return_inverse=True)
    holders = np.zeros(t.n, dtype=np.int64)
    if len(code):
        code = code.astype(np.int64)
        persons = np.unique(code * np.int64(t.n + 1) + entity[known].astype(np.int64))
        holders[known] = np.bincount(persons // np.int64(t.n + 1), minlength=int(code.max()) + 1)[code]
    out = np.full(t.n, -1, dtype=np.int64)
    out[known] = code
    return holders, out


def queue(t: Table, st: LinkageSettings, model: Model, comps: list[Comparison],
          left: IntArr, right: IntArr, gamma: NDArray[np.int8], status: NDArray[np.object_],
          entity: IntArr, members: Mapping[int, list[int]],
          conflict: Callable[[int, int], int]) -> tuple[IntArr, IntArr]:
    """(indexes of the pairs to queue for review, the number of persons holding each one's
    full name): `entity` numbers each record's person as clustered, `members` lists each
    number's records. Pairs not kept (`status` ""), of one full name, in two entities, that only
    names_only holds back, with nothing against them as persons and odds (module
    docstring) reaching the review threshold."""
    none = np.zeros(0, dtype=np.int64)
    col = {c.name: k for k, c in enumerate(comps)}
    if "names_only" not in st.evidence_rules or not {"forename", "surname"} <= set(col) or len(left) == 0:
        return none, none.copy()
    # At 1M, ~18M candidate pairs: everything below is arrays until the few that remain.
    idx = np.flatnonzero((gamma[:, col["forename"]] == 0) & (gamma[:, col["surname"]] == 0))
    idx = idx[(status[idx] == "") & (entity[left[idx]] != entity[right[idx]])]
    holders_of, name = _full_names(t, entity)
    idx = idx[(name[left[idx]] == name[right[idx]]) & (name[left[idx]] >= 0)]
    holders = holders_of[left[idx]]
    odds = np.power(2.0, _other_weights(model, comps, gamma[idx])) / np.maximum(holders - 1, 1)
    reach = odds / (1 + odds) >= st.thresholds.review
    idx, holders = idx[reach], holders[reach]
    if len(idx) == 0:
        return none, none.copy()
    # Only names_only holds them back: every rule asked as if the score linked them.
    l, r = left[idx], right[idx]
    held, why = apply_rules(t, st, comps, gamma[idx], np.ones(len(idx)), l, r)
    names_only = (held == "review") & (why == "rule:names_only")
    idx, l, r, holders = idx[names_only], l[names_only], r[names_only], holders[names_only]
    keep = [k for k in range(len(idx))
            if _nothing_against(t, comps, members[int(entity[l[k]])], members[int(entity[r[k]])], conflict)]
    return idx[keep], holders[keep]


def _other_weights(model: Model, comps: list[Comparison], gamma: NDArray[np.int8]) -> NDArray[np.float64]:
    """Per pair, the model's weights of every comparison but the names and what they imply."""
    weights = model.weights()
    out = np.zeros(len(gamma))
    for c, comp in enumerate(comps):
        if comp.name in ("forename", "surname"):
            continue
        w = np.asarray(weights[c])
        lv = gamma[:, c].astype(np.int64)
        add = np.where(lv >= 0, w[np.maximum(lv, 0)], 0.0)
        implied = IMPLIED_BY_NAME.get(comp.name)
        if implied is not None:
            add[lv == comp.level(implied)] = 0.0
        out += add
    return out


def _nothing_against(t: Table, comps: list[Comparison], ma: list[int], mb: list[int],
                     conflict: Callable[[int, int], int]) -> bool:
    """No record of one person (`ma`) contradicts one of the other's (`mb`; clustering's
    test), and their places, where both persons have any, are not all apart."""
    if any(conflict(int(i), int(j)) for i in ma for j in mb):
        return False
    location = next((c for c in comps if c.name == "location"), None)
    if location is None:
        return True
    li = np.repeat(np.asarray(ma, dtype=np.int64), len(mb))
    ri = np.tile(np.asarray(mb, dtype=np.int64), len(ma))
    levels = location.compute(t, li, ri)
    known = levels[levels >= 0]
    return not (len(known) and (known == LOCATION["none_in_common"]).all())
