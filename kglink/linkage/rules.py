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
- names_only: names alone (no date of birth, identifier or home agreeing) do not identify
  a person, however rare the name. A shared phone or email does not count: families share
  them, and a father and son of one name share the rest too.
- parent_age: a parent is born at least `parent_gap_years` before their child, so a record
  without a date of birth that an agency names as the parent of a child born in 2015 is
  not a person born in 2010 (a mother and her daughter of one first name at one home), nor
  is the child of a parent born in 1990 a person born in 1975; nor is the perpetrator of
  a crime in 2025, or a MARAC subject, a baby born in 2026. Between two records that
  both have a date of birth it does not apply: the dates themselves are compared.
- shared_relative: two records whose agencies name the same child of theirs (first name and
  date of birth), or at one home the same partner (first name and surname), with first
  names that agree (or a nickname) and the same recorded sex, are one person and link: a
  child has one mother and one father. This is how a mother known to the school by one
  surname, without a date of birth, and to the police or health by another is found.
  It never overrides another rule: a contradiction still separates, and a pair held for
  names alone (no home, date of birth or identifier in common) stays with a person.
- related_records: two records an agency says are related (parent of, partner of,
  sibling of...) are two people; so are two records one of which names the other's
  entity (as linked so far) as its child, partner or parent (kglink/linkage/relational.py).
- different_premise: another house number, flat or house name is another address; a
  number on one side and a name on the other is left to a person.
- different_flat / different_number: two flats, or two house numbers, are two addresses.
- different_street: two clearly different street names (Jaro-Winkler below 0.80, both
  recorded) are two addresses, even with one postcode and one house number: a postcode
  unit can span two streets, and "12 Acacia Avenue" and "12 Beech Road" in it are two
  buildings. A misspelt street is nearer than that and still links.

The same rules decide which clusters may merge (kglink/linkage/cluster.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kglink.linkage.comparisons import Comparison
from kglink.linkage.prepare import NO_CHILD_BORN, NO_PARENT_BORN, Table
from kglink.linkage.registry import code_lists, comparisons_for, lists_contain, related_indexes, share_any
from kglink.linkage.settings import LinkageSettings

PERSON, ADDRESS, BOTH = ("person",), ("address",), ("person", "address")


@dataclass(frozen=True)
class EvidenceRule:
    """One evidence rule: its name in the settings, what it means in a line (`kglink
    explain`), the kinds of record it applies to and the comparisons it reads (the settings
    must compare them; the strong identifier rules read `strong_identifiers`)."""
    name: str
    meaning: str
    kinds: tuple[str, ...]
    needs: tuple[str, ...] = ()
    soft: bool = False          # holds a link back for review instead of separating
    part_of: str | None = None  # runs with that rule, not chosen on its own


RULES: dict[str, EvidenceRule] = {r.name: r for r in (
    EvidenceRule("conflicting_identifier", "two valid, different identifiers: two people or places", BOTH),
    EvidenceRule("same_identifier", "the same valid identifier, with compatible dates of birth", BOTH),
    EvidenceRule("generation_gap", "years of birth a generation apart", PERSON),
    EvidenceRule("twin", "one date of birth, clearly different first names (twins)", PERSON, ("forename", "dob")),
    EvidenceRule("dob_conflict", "dates of birth that cannot be one person's", PERSON, ("dob",)),
    EvidenceRule("forename_conflict", "clearly different first names", PERSON, ("forename",)),
    EvidenceRule("parent_age", "one is recorded as the parent of a child born too soon after the other", PERSON),
    EvidenceRule("related_records", "an agency records the two as related: two people", PERSON),
    # What corroborates a name: a date of birth (needed), an identifier, a place in common.
    EvidenceRule("names_only", "names alone, nothing else agrees: a person must decide", PERSON, ("dob",),
                 soft=True),
    EvidenceRule("shared_relative", "both name the same child, or at one home the same partner", PERSON,
                 ("forename", "sex")),
    EvidenceRule("different_premise", "another house number, flat or house name", ADDRESS, ("premise",)),
    EvidenceRule("unconfirmed_premise", "a number on one side, a house name on the other: a person must decide",
                 ADDRESS, ("premise",), soft=True, part_of="different_premise"),
    EvidenceRule("different_flat", "two flats", ADDRESS, ("flat",)),
    EvidenceRule("different_number", "two house numbers", ADDRESS, ("number",)),
    EvidenceRule("different_street", "two clearly different streets", ADDRESS, ("street",)),
)}


def rules_for(kind: str) -> dict[str, EvidenceRule]:
    """The rules settings of this kind may choose, by name."""
    return {n: r for n, r in RULES.items() if kind in r.kinds and r.part_of is None}


SOFT_RULES = frozenset(n for n, r in RULES.items() if r.soft)
PERSON_RULES = tuple(rules_for("person"))
ADDRESS_RULES = tuple(rules_for("address"))

# What each reason means, in a line, for `kglink explain`.
MEANING = {"model": "the score alone decided", **{f"rule:{n}": r.meaning for n, r in RULES.items()}}


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


_STATUS = np.array(["", "review", "link"], dtype=object)    # codes 0, 1, 2
_DROP, _REVIEW, _LINK = 0, 1, 2


def apply(t: Table, st: LinkageSettings, comps: list[Comparison], gamma: NDArray[np.int8],
          prob: NDArray[np.float64], left: NDArray[np.int64],
          right: NDArray[np.int64]) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """(model status, reason) per pair: "link", "review" or "" (not kept).

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
    on = set(st.evidence_rules)

    ids = list(st.strong_identifiers)
    none = np.zeros(n, dtype=bool)
    blockers: list[tuple[str, NDArray[np.bool_]]] = []
    if "conflicting_identifier" in on and ids:
        blockers.append(("conflicting_identifier", np.logical_or.reduce([p.at(x, "different") for x in ids])))
    individual = np.zeros(n, dtype=bool)
    for name in st.individual_evidence:
        if name in p:
            individual |= p.at_most(name, p.comparison(name).agreeing)
    if "generation_gap" in on:
        gap = years_apart(t, left, right)
        blockers.append(("generation_gap", (gap >= st.generation_gap_years) & ~individual))
    if "twin" in on:
        blockers.append(("twin", p.at("forename", "different") & p.at("dob", "exact") & ~individual))
    if "dob_conflict" in on:
        blockers.append(("dob_conflict", p.beyond("dob", "one_apart") & ~individual))
    if "parent_age" in on:
        lo, hi = birth_year_ranges(t, st.parent_gap_years)
        apart = (hi[left] < lo[right]) | (hi[right] < lo[left])
        # Two recorded dates of birth are the dob comparison's and generation_gap's to
        # judge (a day apart across New Year is two years, not two people).
        years = _years(t)
        apart &= (years[left] < 0) | (years[right] < 0)
        blockers.append(("parent_age", apart & ~individual))
    if "forename_conflict" in on:
        blockers.append(("forename_conflict", p.at("forename", "different") & ~individual))
    if "names_only" in on:
        # A name, however rare, is not a person: something else must agree.
        corroborated = individual | p.at_most("dob", "one_apart")
        # The same address, however each is tied to it (a home, a shared address, an event
        # one took part in or was present at, the home of the children or partner of one
        # with no place on file, a visit); the model weighs each tie. A postcode is not enough.
        corroborated |= p.at_most("location", "same_visited")
        for x in ids:
            corroborated |= p.at(x, "exact")
        blockers.append(("names_only", ~corroborated))
    if "different_premise" in on:
        blockers.append(("different_premise", p.at("premise", "different")))
        # A number on one side and a house name on the other cannot confirm one building.
        blockers.append(("unconfirmed_premise", p.at("premise", "number_or_name")))
    if "related_records" in on and "related" in t.multi:
        offsets, related = related_indexes(t)
        # ... or whose linked records are: one names the other's entity as its relative.
        relatives = p.at("relatives", "each_others_relative")
        blockers.append(("related_records", lists_contain(offsets, related, left, right) | relatives))
    if "different_flat" in on:
        blockers.append(("different_flat", p.at("flat", "different")))
    if "different_number" in on:
        blockers.append(("different_number", p.at("number", "different")))
    if "different_street" in on:
        blockers.append(("different_street", p.at("street", "different")))
    for name, mask in blockers:
        # A contradiction settles it: two people, two addresses, nothing for a person to
        # review. Missing corroboration only holds the link back for review.
        hit = mask & (status != _DROP)
        status[hit] = _REVIEW if name in SOFT_RULES else _DROP
        reasons.append(f"rule:{name}")
        reason[hit] = len(reasons) - 1
    blocked = np.logical_or.reduce([m for _, m in blockers]) if blockers else none
    if "shared_relative" in on and "children" in t.multi:
        same = shared_relative(t, left, right, p.at("location", "same_home"))
        same &= p.at_most("forename", "nickname_or_middle") & p.at("sex", "exact") & ~blocked
        reasons.append("rule:shared_relative")
        reason[same & (status != _LINK)] = len(reasons) - 1
        status[same] = _LINK
    if "same_identifier" in on and ids:
        same = np.logical_or.reduce([p.at(x, "exact") for x in ids]) & ~blocked
        if st.kind == "person":
            # ... with compatible dates of birth (one missing does not stand against it).
            same &= p.of("dob") <= p.code("dob", "one_apart")
        reasons.append("rule:same_identifier")
        reason[same & (status != _LINK)] = len(reasons) - 1
        status[same] = _LINK
    return _STATUS[status], np.array(reasons, dtype=object)[reason]
