"""Hard evidence beside the score, each rule named so settings can choose them.

- conflicting_identifier: two valid, different strong identifiers (NHS number, PNC id,
  UPN; UPRN for addresses) block an automatic link: at most a person reviews it.
- same_identifier: the same valid identifier with a compatible date of birth links,
  whatever the score.
- generation_gap: years of birth `generation_gap_years` or more apart are two people,
  however alike the rest (a father and son of one name at one address).
- twin: clearly different first names with the same date of birth are two people (twins
  share surname, date of birth and address, which the model would otherwise add up).
- dob_conflict: dates of birth that are neither equal, swapped, nor one slip apart.
- forename_conflict: first names that are neither equal, a nickname, a middle name, an
  initial nor a near spelling.
  None of these four applies when a comparison of `individual_evidence` agrees: what a
  family shares (surname, address, phone) cannot explain the same NHS number.
- names_only: names alone (no date of birth, identifier, place or relative in common) do
  not identify a person, however rare the name. A phone or email shared by two records of
  one agency does not count: that is what a family's landline, or a father and son of one
  name, look like in one agency's records (an agency knows its own duplicates better). The
  same phone or email recorded by two agencies does, unless both records have places on
  file and none in common: two agencies wrote it down for a person of that name apart.
  A relative in common as linked (both name the same child, partner or parent, one sex)
  does count.
- parent_age: a parent is born at least `parent_gap_years` before their child, so a record
  without a date of birth that an agency names as the parent of a child born in 2015 is
  not a person born in 2010 (a mother and her daughter of one first name at one home), nor
  is the child of a parent born in 1990 a person born in 1975; nor is the perpetrator of
  a crime in 2025, or a MARAC subject, a baby born in 2026; nor is a woman her agency has
  at her home since 2007, or as the witness of an incident in 2009, a baby born in 2025. Between two records that
  both have a date of birth it does not apply: the dates themselves are compared.
- shared_relative: two records whose agencies name the same child of theirs (first name and
  date of birth), or at one home the same partner (first name and surname), with first
  names that agree (or a nickname) and the same recorded sex, are one person and link: a
  child has one mother and one father. This is how a mother known to the school by one
  surname, without a date of birth, and to the police or health by another is found.
  It never overrides another rule: a contradiction still separates, and a pair held for
  names alone (no home, date of birth, identifier or linked relative in common) stays
  with a person.
- related_records: two records an agency says are related (parent of, partner of,
  sibling of...), or names in one event (the reporter and a witness of one incident: an
  agency names each person in an event once), or names as one parent's children under
  different first names (twins AMARA and AMARI), are two people; so are two records one of
  which names the other's entity (as linked so far) as its child, partner or parent
  (kglink/linkage/relational.py).
- different_premise: another house number, flat or house name is another address; a
  number on one side and a name on the other is left to a person.
- different_flat / different_number: two flats, or two house numbers, are two addresses.
- different_street: two clearly different street names (Jaro-Winkler below 0.80, both
  recorded) are two addresses, even with one postcode and one house number: a postcode
  unit can span two streets, and "12 Acacia Avenue" and "12 Beech Road" in it are two
  buildings. A misspelt street is nearer than that and still links.

The same rules decide which clusters may merge. Each rule is one object (RULES) holding its two forms side by side: the vectorised one
`apply` runs on every scored pair's comparison levels, and the per-pair one clustering
asks of two records of a would-be cluster (kglink/linkage/cluster.py). Both read the same
tests (the levels' names, `jw_reaches` for a similarity threshold), so they agree
(tests/test_linkage_rules.py draws random pairs from a synthetic county to check).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kglink.linkage.comparisons import Comparison, codes_of, house_number, jw_reaches
from kglink.linkage.evidence import Mask, PairLevels, Pairs, PairTest, Records
from kglink.linkage.fields import dob as dobf
from kglink.linkage.prepare import NO_CHILD_BORN, NO_PARENT_BORN, Table
from kglink.linkage.registry import HOUSE_NAME_JW, STREET_JW, code_lists, lists_contain, related_indexes, share_any
from kglink.linkage.settings import LinkageSettings


def _years(t: Table) -> NDArray[np.int64]:
    """Year of birth per record; -1 where unknown (kept on the table)."""
    dob = t.cols.get("dob")
    if dob is None:
        return np.full(t.n, -1, dtype=np.int64)
    return t.derived("years", lambda: np.array([int(d[:4]) if d else -1 for d in dob], dtype=np.int64))


def birth_year_ranges(t: Table, parent_gap_years: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(earliest, latest) possible year of birth per record: its own where it has a date
    of birth, else what its recorded parents' and children's years of birth, and the roles
    it is recorded in (a perpetrator, a MARAC subject: prepare.ROLE_MIN_AGE), allow."""
    years = _years(t)
    lo = np.full(t.n, NO_PARENT_BORN, dtype=np.int64)
    hi = np.full(t.n, NO_CHILD_BORN, dtype=np.int64)
    if "parents_born" in t.cols:
        parents = np.array(t.cols["parents_born"], dtype=np.int64)
        children = np.array(t.cols["children_born"], dtype=np.int64)
        lo = np.where(parents != NO_PARENT_BORN, parents + parent_gap_years, lo)
        hi = np.where(children != NO_CHILD_BORN, children - parent_gap_years, hi)
    if "born_by" in t.cols:
        hi = np.minimum(hi, np.array(t.cols["born_by"], dtype=np.int64))
    known = years >= 0
    lo[known] = years[known]
    hi[known] = years[known]
    return lo, hi


def shared_relative(t: Table, left: NDArray[np.int64], right: NDArray[np.int64],
                    same_home: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Per pair: do both agencies name the same child (first name and date of birth), or,
    at one home, the same partner (first name and surname)?"""
    (co, cv), (po, pv) = t.derived("relative_lists", lambda: (code_lists(t.multi["children"]),
                                                              code_lists(t.multi["partners"])))
    out = share_any(co, cv, left, right)
    rest = np.flatnonzero(same_home & ~out)
    out[rest] = share_any(po, pv, left[rest], right[rest])
    return out


def years_apart(t: Table, left: NDArray[np.int64], right: NDArray[np.int64]) -> NDArray[np.int64]:
    """|year of birth difference| per pair; -1 where either is unknown."""
    years = _years(t)
    ya, yb = years[left], years[right]
    out = np.abs(ya - yb)
    out[(ya < 0) | (yb < 0)] = -1
    return out


# Each rule's two forms, side by side: `_rule(x)` for many pairs (None: the rule has
# nothing to go on in this table), `_rule_pair(r)` the test of two records (None: the same).

def _conflicting_identifier(x: Pairs) -> Mask | None:
    ids = x.st.strong_identifiers
    return np.logical_or.reduce([x.p.at(c, "different") for c in ids]) if ids else None


def _conflicting_identifier_pair(r: Records) -> PairTest | None:
    ids = [r.column(c) for c in r.st.strong_identifiers]
    return (lambda i, j: any(col[i] and col[j] and col[i] != col[j] for col in ids)) if ids else None


def _generation_gap(x: Pairs) -> Mask:
    return (years_apart(x.t, x.left, x.right) >= x.st.generation_gap_years) & ~x.individual


def _generation_gap_pair(r: Records) -> PairTest:
    dob, gap = r.column("dob"), r.st.generation_gap_years
    return lambda i, j: bool(dob[i] and dob[j] and abs(int(dob[i][:4]) - int(dob[j][:4])) >= gap
                             and not r.same_individual(i, j))


def _twin(x: Pairs) -> Mask:
    return x.p.at("forename", "different") & x.p.at("dob", "exact") & ~x.individual


def _twin_pair(r: Records) -> PairTest:
    dob = r.column("dob")
    return lambda i, j: bool(dob[i] and dob[i] == dob[j] and not r.same_individual(i, j)
                             and not r.names_compatible(i, j))


def twin_names(t: Table) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per record, the codes (codes_of "forename") of the first names of the records its
    agency relates to it (related) that were born the same day under another first name:
    its twins, as its agency knows them. (offsets, codes) form, kept on the table."""
    def make() -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        offsets, related = related_indexes(t)
        names, first = codes_of(t, "forename")
        dates, dob = codes_of(t, "dob")
        owner = np.repeat(np.arange(t.n, dtype=np.int64), np.diff(offsets))
        named = np.array([bool(v) for v in names], dtype=bool)
        dated = np.array([bool(v) for v in dates], dtype=bool)
        keep = (dated[dob[owner]] & (dob[owner] == dob[related]) & named[first[related]]
                & (first[owner] != first[related]))
        out = np.zeros(t.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[keep], minlength=t.n), out=out[1:])
        return out, first[related[keep]]
    return t.derived("twin_names", make)


def _knows_twins(t: Table) -> bool:
    return "related" in t.multi and "forename" in t.cols and "dob" in t.cols


def _twin_name(x: Pairs) -> Mask | None:
    """One record's first name is, exactly, the first name of the other's twin (a record
    its agency relates to it, born the same day): it is that twin's record, not the
    other's. Twins AIDAN and AIDEN of one surname, date of birth and home, each recorded
    by two agencies, otherwise link across (AIDAN to AIDEN) as readily as to their own."""
    if not _knows_twins(x.t):
        return None
    offsets, names = twin_names(x.t)
    first = codes_of(x.t, "forename")[1]
    fl, fr = first[x.left], first[x.right]
    return ((fl != fr) & (lists_contain(offsets, names, x.left, fr) | lists_contain(offsets, names, x.right, fl))
            & ~x.individual)


def _twin_name_pair(r: Records) -> PairTest | None:
    if not _knows_twins(r.t):
        return None
    offsets, names = twin_names(r.t)
    first = codes_of(r.t, "forename")[1].tolist()
    has = np.flatnonzero(np.diff(offsets))
    twins = {int(i): frozenset(names[offsets[i]:offsets[i + 1]].tolist()) for i in has}
    none: frozenset[int] = frozenset()
    return lambda i, j: bool(first[i] != first[j] and (first[j] in twins.get(i, none) or first[i] in twins.get(j, none))
                             and not r.same_individual(i, j))


def _dob_conflict(x: Pairs) -> Mask:
    return x.p.beyond("dob", "one_apart") & ~x.individual


def _dob_conflict_pair(r: Records) -> PairTest:
    dob = r.column("dob")
    return lambda i, j: not dobf.compatible(dob[i], dob[j]) and not r.same_individual(i, j)


def _parent_age(x: Pairs) -> Mask:
    lo, hi = birth_year_ranges(x.t, x.st.parent_gap_years)
    a, b = x.left, x.right
    apart = (hi[a] < lo[b]) | (hi[b] < lo[a])
    # Two recorded dates of birth are the dob comparison's and generation_gap's to judge
    # (a day apart across New Year is two years, not two people).
    years = _years(x.t)
    return apart & ((years[a] < 0) | (years[b] < 0)) & ~x.individual


def _parent_age_pair(r: Records) -> PairTest:
    lo, hi = (v.tolist() for v in birth_year_ranges(r.t, r.st.parent_gap_years))
    dob = r.column("dob")
    return lambda i, j: bool(not (dob[i] and dob[j]) and (hi[i] < lo[j] or hi[j] < lo[i])
                             and not r.same_individual(i, j))


def _forename_conflict(x: Pairs) -> Mask:
    return x.p.at("forename", "different") & ~x.individual


def _forename_conflict_pair(r: Records) -> PairTest:
    return lambda i, j: not r.names_compatible(i, j) and not r.same_individual(i, j)


def _names_only(x: Pairs) -> Mask:
    """A name, however rare, is not a person: something else must agree. The same address,
    however each is tied to it (a home, a shared address, an event one took part in or
    was present at, the home of the children or partner of one with no place on file, a
    visit) corroborates; the model weighs each tie. A postcode is not enough."""
    p = x.p
    corroborated = x.individual | p.at_most("dob", "one_apart") | p.at_most("location", "same_visited")
    # A relative in common, as linked so far (the same child, partner or parent, one sex):
    # a child has one mother, one father. Linked records, not names, carry it, so the
    # two records are tied to one family, not merely named alike.
    corroborated |= p.at_most("relatives", "same_parent")
    # A phone or email two agencies each recorded for a person of this name, where their
    # places (when both have any) do not say they live apart.
    if "contact" in p:
        agency = x.t.agencies()
        shared = p.at("contact", "exact") & (agency[x.left] != agency[x.right])
        if "location" in p:
            shared &= ~p.at("location", "none_in_common")
        corroborated |= shared
    for c in x.st.strong_identifiers:
        corroborated |= p.at(c, "exact")
    return ~corroborated


def _different_premise(x: Pairs) -> Mask:
    return x.p.at("premise", "different")


def _different_premise_pair(r: Records) -> PairTest:
    flat, num, name = r.column("flat"), r.column("number"), r.column("house_name")

    def test(i: int, j: int) -> bool:
        if flat[i] and flat[j] and flat[i] != flat[j]:
            return True
        if num[i] and num[j]:
            return num[i] != num[j]
        return bool(name[i] and name[j] and name[i] != name[j] and not jw_reaches(name[i], name[j], HOUSE_NAME_JW))
    return test


def _unconfirmed_premise(x: Pairs) -> Mask:
    """A number on one side and a house name on the other cannot confirm one building."""
    return x.p.at("premise", "number_or_name")


def _related_records(x: Pairs) -> Mask | None:
    if "related" not in x.t.multi:
        return None
    offsets, related = related_indexes(x.t)
    # ... or whose linked records are: one names the other's entity as its relative.
    return lists_contain(offsets, related, x.left, x.right) | x.p.at("relatives", "each_others_relative")


def _related_records_pair(r: Records) -> PairTest | None:
    """The agencies' own relations (the relatives comparison's each_others_relative reads
    the persons linked so far: it is the scored pairs' to carry)."""
    related, keys = r.t.multi.get("related"), r.t.keys
    if related is None:
        return None
    return lambda i, j: keys[j] in related[i] or keys[i] in related[j]


def _different_flat(x: Pairs) -> Mask:
    return x.p.at("flat", "different")


def _different_flat_pair(r: Records) -> PairTest:
    flat = r.column("flat")
    return lambda i, j: bool(flat[i] and flat[j] and flat[i] != flat[j])


def _different_number(x: Pairs) -> Mask:
    return x.p.at("number", "different")


def _different_number_pair(r: Records) -> PairTest:
    """Two house numbers; 14 and 14A are one number with another letter (a level of its own)."""
    num = r.column("number")
    return lambda i, j: bool(num[i] and num[j] and house_number(num[i]) != house_number(num[j]))


def _different_street(x: Pairs) -> Mask:
    return x.p.at("street", "different")


def _different_street_pair(r: Records) -> PairTest:
    street, near = r.column("street"), STREET_JW[-1]
    return lambda i, j: bool(street[i] and street[j] and street[i] != street[j]
                             and not jw_reaches(street[i], street[j], near))


def _shared_relative(x: Pairs) -> Mask | None:
    if "children" not in x.t.multi:
        return None
    p = x.p
    same = shared_relative(x.t, x.left, x.right, p.at("location", "same_home"))
    return same & p.at_most("forename", "nickname_or_middle") & p.at("sex", "exact") & ~x.blocked


def _same_identifier(x: Pairs) -> Mask | None:
    ids = x.st.strong_identifiers
    if not ids:
        return None
    same = np.logical_or.reduce([x.p.at(c, "exact") for c in ids]) & ~x.blocked
    if x.st.kind == "person":
        # ... with compatible dates of birth (one missing does not stand against it).
        same &= x.p.of("dob") <= x.p.code("dob", "one_apart")
    return same  # type: ignore[no-any-return]


PERSON, ADDRESS, BOTH = ("person",), ("address",), ("person", "address")


@dataclass(frozen=True)
class EvidenceRule:
    """One evidence rule: its name in the settings, what it means in a line (`kglink
    explain`), the kinds of record it applies to, its vectorised form (`pairs`) and its
    per-pair form (`pair`: builds the test clustering asks; None for the rules that link
    or hold back for review, which do not keep clusters apart), and the comparisons it
    reads (the settings must compare them; the identifier rules read strong_identifiers)."""
    name: str
    meaning: str
    kinds: tuple[str, ...]
    pairs: Callable[[Pairs], Mask | None]
    pair: Callable[[Records], PairTest | None] | None = None
    needs: tuple[str, ...] = ()
    soft: bool = False          # holds a link back for review instead of separating
    links: bool = False         # links where it holds, unless another rule separates
    part_of: str | None = None  # runs with that rule, not chosen on its own


# In the order apply runs them: where two separating rules hold, the reason is the later's.
RULES: dict[str, EvidenceRule] = {r.name: r for r in (
    EvidenceRule("conflicting_identifier", "two valid, different identifiers: two people or places", BOTH,
                 _conflicting_identifier, _conflicting_identifier_pair),
    EvidenceRule("generation_gap", "years of birth a generation apart", PERSON,
                 _generation_gap, _generation_gap_pair),
    EvidenceRule("twin", "one date of birth, clearly different first names (twins)", PERSON,
                 _twin, _twin_pair, ("forename", "dob")),
    EvidenceRule("twin_name", "the first name of the other's twin, as its agency records them: that twin",
                 PERSON, _twin_name, _twin_name_pair, ("forename", "dob")),
    EvidenceRule("dob_conflict", "dates of birth that cannot be one person's", PERSON,
                 _dob_conflict, _dob_conflict_pair, ("dob",)),
    EvidenceRule("parent_age", "one is recorded as the parent of a child born too soon after the other", PERSON,
                 _parent_age, _parent_age_pair),
    EvidenceRule("forename_conflict", "clearly different first names", PERSON,
                 _forename_conflict, _forename_conflict_pair, ("forename",)),
    # What corroborates a name: a date of birth (needed), an identifier, a place in common.
    EvidenceRule("names_only", "names alone, nothing else agrees: a person must decide", PERSON,
                 _names_only, None, ("dob",), soft=True),
    EvidenceRule("different_premise", "another house number, flat or house name", ADDRESS,
                 _different_premise, _different_premise_pair, ("premise",)),
    EvidenceRule("unconfirmed_premise", "a number on one side, a house name on the other: a person must decide",
                 ADDRESS, _unconfirmed_premise, None, ("premise",), soft=True, part_of="different_premise"),
    EvidenceRule("related_records", "an agency records the two as related: two people", PERSON,
                 _related_records, _related_records_pair),
    EvidenceRule("different_flat", "two flats", ADDRESS, _different_flat, _different_flat_pair, ("flat",)),
    EvidenceRule("different_number", "two house numbers", ADDRESS,
                 _different_number, _different_number_pair, ("number",)),
    EvidenceRule("different_street", "two clearly different streets", ADDRESS,
                 _different_street, _different_street_pair, ("street",)),
    EvidenceRule("shared_relative", "both name the same child, or at one home the same partner", PERSON,
                 _shared_relative, None, ("forename", "sex"), links=True),
    EvidenceRule("same_identifier", "the same valid identifier, with compatible dates of birth", BOTH,
                 _same_identifier, links=True),
)}


def rules_for(kind: str) -> dict[str, EvidenceRule]:
    """The rules settings of this kind may choose, by name."""
    return {n: r for n, r in RULES.items() if kind in r.kinds and r.part_of is None}


def chosen(st: LinkageSettings) -> list[EvidenceRule]:
    """The settings' rules, and the rules that run with them, in RULES order."""
    on = set(st.evidence_rules)
    return [r for r in RULES.values() if r.name in on or r.part_of in on]


SOFT_RULES = frozenset(n for n, r in RULES.items() if r.soft)
PERSON_RULES = tuple(rules_for("person"))
ADDRESS_RULES = tuple(rules_for("address"))

# What each reason means, in a line, for `kglink explain`.
MEANING = {"model": "the score alone decided", **{f"rule:{n}": r.meaning for n, r in RULES.items()},
           # Not a rule of its own: names_only pairs queued by kglink/linkage/rare_names.py.
           "rule:rare_full_name": "names alone, but a full name few persons in this workspace hold: "
                                  "a person must decide"}

_STATUS = np.array(["", "review", "link"], dtype=object)    # codes 0, 1, 2
_DROP, _REVIEW, _LINK = 0, 1, 2


def apply(t: Table, st: LinkageSettings, comps: list[Comparison], gamma: NDArray[np.int8],
          prob: NDArray[np.float64], left: NDArray[np.int64],
          right: NDArray[np.int64]) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """(model status, reason) per pair: "link", "review" or "" (not kept), by the
    vectorised form of each of the settings' rules.

    Worked out in small integer codes (millions of pairs; comparing strings in object
    arrays cost seconds per rule) and spelled out at the end."""
    p = PairLevels(st.kind, comps, gamma)
    n = len(gamma)
    th = st.thresholds
    status = np.zeros(n, dtype=np.int8)
    status[prob >= th.review] = _REVIEW
    status[prob >= th.link] = _LINK
    reasons = ["model"]
    reason = np.zeros(n, dtype=np.int16)      # index into `reasons`
    individual = np.zeros(n, dtype=bool)
    for name in st.individual_evidence:
        if name in p:
            individual |= p.at_most(name, p.comparison(name).agreeing)
    x = Pairs(t, st, left, right, p, individual, np.zeros(n, dtype=bool))
    rules = chosen(st)
    blockers = [(rule, mask) for rule in rules if not rule.links for mask in [rule.pairs(x)] if mask is not None]
    for rule, mask in blockers:
        # A contradiction settles it: two people, two addresses, nothing for a person to
        # review. Missing corroboration only holds the link back for review.
        hit = mask & (status != _DROP)
        status[hit] = _REVIEW if rule.soft else _DROP
        reasons.append(f"rule:{rule.name}")
        reason[hit] = len(reasons) - 1
    if blockers:
        x.blocked = np.logical_or.reduce([m for _, m in blockers])
    for rule in rules:
        same = rule.pairs(x) if rule.links else None
        if same is not None:
            reasons.append(f"rule:{rule.name}")
            reason[same & (status != _LINK)] = len(reasons) - 1
            status[same] = _LINK
    return _STATUS[status], np.array(reasons, dtype=object)[reason]


def pair_tests(t: Table, st: LinkageSettings) -> list[PairTest]:
    """The per-pair form of each of the settings' rules that keep records apart."""
    return [test for _, test in named_pair_tests(t, st)]


def named_pair_tests(t: Table, st: LinkageSettings) -> list[tuple[str, PairTest]]:
    """pair_tests, each with the name of the rule the settings chose it by, in RULES order."""
    r = Records(t, st)
    out = []
    for rule in chosen(st):
        test = rule.pair(r) if rule.pair is not None else None
        if test is not None:
            out.append((rule.part_of or rule.name, test))
    return out
