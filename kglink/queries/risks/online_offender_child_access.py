"""The subject of an NCA referral with access to children at home, at work or by fostering.

Inspection, section 7: a subject of indecent-image referrals was a primary school teacher
with a one-year-old at home; another was a foster-carer applicant and a school bus driver.
The child at home may be known to any agency (often only to health).
"""
from __future__ import annotations

from typing import Any

from pydantic import field_validator

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.risks.sex_offender_child_contact import WORDS_OF_D, words
from kglink.queries.view import View, current, fact

NAME = "online-offender-child-access"
DESCRIPTION = ("The subject of an NCA referral who lives with a child, works in a position of "
               "trust with children (by occupation, or at a school), or has applied to foster.")
SEVERITY = "high"
REACH = 2   # relationships from the start node to anything named: offender -> home <- child

# Occupations with access to children, matched as whole words of the occupation text
# (a trailing plural 's' allowed): 'teacher' matches 'Primary School Teacher' but
# 'bus driver' or 'nurse' alone are not here, since most of them never meet a child.
OCCUPATIONS_OF_TRUST = (
    "teacher", "headteacher", "schoolteacher", "teaching assistant", "classroom assistant",
    "learning support assistant", "lunchtime supervisor", "dinner lady", "tutor",
    "school bus driver", "school minibus driver", "bus escort", "school escort",
    "school crossing patrol", "lollipop", "school caretaker", "school cook", "school nurse",
    "school secretary", "school administrator", "school librarian", "school counsellor",
    "nursery", "childminder", "child minder", "childcare", "early years", "nanny", "au pair",
    "babysitter", "playworker", "play worker", "youth worker", "youth leader", "youth pastor",
    "sports coach", "football coach", "swimming instructor", "swimming coach", "scout leader",
    "guide leader", "cub leader", "brownie leader", "foster carer", "children s home",
    "residential child care", "paediatric nurse", "pediatric nurse", "paediatrician",
    "pediatrician", "children s nurse", "health visitor", "midwife", "social worker",
    "educational psychologist", "child psychologist",
)

# The agency's risk grading of the referrals, highest first.
REFERRAL_GRADES = ("very high", "high", "red", "medium", "amber", "low", "green", "standard")


def trusted(occupation: Any, terms: tuple[str, ...]) -> bool:
    text = words(occupation)
    return any(f" {t} " in text or f" {t}s " in text for t in terms)


class Params(QueryParams):
    occupations_of_trust: tuple[str, ...] = OCCUPATIONS_OF_TRUST

    @field_validator("occupations_of_trust")
    @classmethod
    def _normalise(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        """Terms in the form the match compares them: lower-case words, single spaces."""
        return tuple(t for t in (words(x).strip() for x in v) if t)


CYPHER = """
MATCH (w:Person)-[:INVOLVED_IN {role: 'subject'}]->(ev:Event {type: 'nca_referral'})
WITH w, collect(DISTINCT ev) AS refs
OPTIONAL MATCH (w)-[h1:LIVES_AT|PLACED_AT|REGISTERED_AT]->(a:Address)
               <-[h2:LIVES_AT|PLACED_AT|REGISTERED_AT]-(c:Person)
WHERE c <> w AND c.dob > $child_born_after
  AND (h1.to_date IS NULL OR h1.to_date >= $ref) AND (h2.to_date IS NULL OR h2.to_date >= $ref)
WITH w, refs, collect(DISTINCT {a: a.uid, c: c.uid,
     f1: ['lives at', h1.agency, h1.start_record, null],
     f2: ['child lives at the same address', h2.agency, h2.start_record, null]}) AS home
WITH w, refs, [x IN home WHERE x.a IS NOT NULL] AS home
OPTIONAL MATCH (r:PersonRecord)-[:RESOLVED_AS]->(w)
WHERE r.occupation IS NOT NULL
  AND any(x IN [d IN [r.occupation] | """ + WORDS_OF_D + """]
          WHERE any(t IN $occupations_of_trust WHERE x CONTAINS ' ' + t + ' ' OR x CONTAINS ' ' + t + 's '))
WITH w, refs, home, collect(DISTINCT CASE WHEN r IS NULL THEN null
     ELSE ['occupation of trust', r.agency, r.source, r.occupation] END) AS jobs
OPTIONAL MATCH (w)-[wa:WORKS_AT]->(s:Address)
WHERE (wa.to_date IS NULL OR wa.to_date >= $ref)
  AND (s.kind = 'school' OR EXISTS { MATCH (:AddressRecord {kind: 'school'})-[:RESOLVED_AS]->(s) })
WITH w, refs, home, jobs, collect(DISTINCT CASE WHEN s IS NULL THEN null
     ELSE {a: s.uid, f: ['works at a school', wa.agency, wa.start_record, null]} END) AS school
OPTIONAL MATCH (w)-[:HAS_FLAG]->(fc:Flag {flag: 'foster_carer_applicant'})
WHERE fc.to_date IS NULL OR fc.to_date >= $ref
WITH w, refs, home, jobs, school, collect(DISTINCT fc) AS foster
WHERE size(home) > 0 OR size(jobs) > 0 OR size(school) > 0 OR size(foster) > 0
RETURN w.uid AS key,
       [[w.uid, 'subject']] + [x IN home | [x.c, 'child']] AS people,
       [ev IN refs | ev.uid] AS events,
       [x IN home | [x.a, 'shared home']] + [x IN school | [x.a, 'school workplace']] AS addresses,
       [ev IN refs | ['NCA referral', ev.agency, ev.id, ev.category]]
         + [x IN home | x.f1] + [x IN home | x.f2] + jobs + [x IN school | x.f]
         + [f IN foster | ['foster carer applicant', f.agency, f.person_record, f.detail]] AS facts,
       [g IN ['very high', 'high', 'red', 'medium', 'amber', 'low', 'green', 'standard']
        WHERE any(x IN [d IN [ev IN refs | ev.risk] | """ + WORDS_OF_D + """]
                  WHERE x CONTAINS ' ' + g + ' ')][0] AS grade,
       {referrals: size(refs),
        children: size(reduce(u = [], k IN [x IN home | x.c] | CASE WHEN k IN u THEN u ELSE u + k END))
       } AS numbers
"""


def _is_school(v: View, address: str) -> bool:
    return v.props(address).get("kind") == "school" or any(
        v.props(rec).get("kind") == "school" for rec, _ in v.into(address, "RESOLVED_AS"))


def _grade(risks: list[Any]) -> str | None:
    texts = [words(r) for r in risks]
    return next((g for g in REFERRAL_GRADES if any(f" {g} " in t for t in texts)), None)


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    rows = []
    referred = v.starts(w for ev in v.all_where("Event", "type", "nca_referral")
                        for w, _ in v.event_people(ev, "subject"))
    for w in referred:
        refs = sorted({ev for ev, _ in v.events(w, "subject") if v.props(ev).get("type") == "nca_referral"})
        if not refs:
            continue
        people: list[list[str]] = [[w, "subject"]]
        addresses: list[list[str]] = []
        access: list[list[Any]] = []
        kids: set[str] = set()
        for c, a, h1, h2 in v.children_at_home(w):
            kids.add(c)
            people.append([c, "child"])
            addresses.append([a, "shared home"])
            access += [fact("lives at", h1), fact("child lives at the same address", h2)]
        for rec, _ in v.into(w, "RESOLVED_AS"):
            r = v.props(rec)
            if r.get("occupation") is not None and trusted(r["occupation"], p.occupations_of_trust):
                access.append(["occupation of trust", r.get("agency"), r.get("source"), r["occupation"]])
        for s, wa in v.out(w, "WORKS_AT"):
            if current(wa, v.ref) and _is_school(v, s):
                addresses.append([s, "school workplace"])
                access.append(fact("works at a school", wa))
        access += [fact("foster carer applicant", f, detail=f.get("detail"))
                   for f in v.flags(w, "foster_carer_applicant")]
        if not access:
            continue
        referrals = [v.props(ev) for ev in refs]
        facts = [fact("NCA referral", e, detail=e.get("category")) for e in referrals] + access
        rows.append({"key": w, "people": people, "events": refs, "addresses": addresses,
                     "facts": facts, "grade": _grade([e.get("risk") for e in referrals]),
                     "numbers": {"referrals": len(refs), "children": len(kids)}})
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    subject = row["people"][0][0]
    labels = {f[0] for f in row["facts"]}
    n = int(row["numbers"].get("children", 0))
    routes = []
    if n:
        routes.append(f"lives with {n} child{'ren' if n != 1 else ''}")
    jobs = sorted({str(f[3]) for f in row["facts"] if f[0] == "occupation of trust"})
    if jobs:
        routes.append(f"works as {', '.join(jobs)}")
    if "works at a school" in labels:
        routes.append("works at a school")
    if "foster carer applicant" in labels:
        routes.append("has applied to foster")
    k = int(row["numbers"].get("referrals", 0))
    return (f"{names.get(subject, subject)}, subject of {k} NCA referral{'s' if k != 1 else ''}, "
            f"{'; '.join(routes)}: check the referral is being actioned, and consider a strategy "
            "discussion and the LADO for a position of trust.")
