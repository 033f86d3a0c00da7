"""A registered sex offender in contact with children through a household or a parent.

Inspection, section 10: an RSO used an unregistered alias online, befriended a woman
with two children, and she visited his home. The flag may sit on any record of the
person (ViSOR, or police under the alias once linkage has joined them): the query works
on linked entities, so every route below is checked for the person, not the record.

This module also holds the text helpers the other offender queries share: the word
normalisation used to read free text the same way in Python and in Cypher, and the RSO
risk level read from a flag's detail.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.view import View, current, fact

NAME = "sex-offender-child-contact"
DESCRIPTION = ("A registered sex offender who lives with a child, is the partner, associate or "
               "household member of a child's parent or carer, or whose home a child's parent "
               "or carer visits.")
SEVERITY = "high"
REACH = 3   # relationships from the start node to anything named: offender -> home <- visiting parent -> child

# Practitioners' risk levels of an RSO, highest first: the first one found in any current
# flag's detail is the finding's grade.
RSO_LEVELS = ("very high", "high", "medium", "low")


def words(text: Any) -> str:
    """Lower-case ASCII letters and digits, every other run of characters one space, padded
    with a space each side: ' risk very high ' for 'Risk: VERY-high'. `WORDS_OF_D` is the
    same function in Cypher, so both stores read free text identically."""
    low = "" if text is None else str(text).lower()
    cleaned = "".join(ch if ("a" <= ch <= "z" or "0" <= ch <= "9") else " " for ch in low)
    return " " + "".join(w + " " for w in cleaned.split(" ") if w)


# `words(d)` as a Cypher expression over a variable `d` bound by the caller.
WORDS_OF_D = (
    "(' ' + reduce(acc = '', tok IN [t IN split(reduce(cs = '', ch IN split(toLower(toString("
    "coalesce(d, ''))), '') | cs + CASE WHEN (ch >= 'a' AND ch <= 'z') OR (ch >= '0' AND ch <= '9')"
    " THEN ch ELSE ' ' END), ' ') WHERE t <> ''] | acc + tok + ' '))"
)

# The RSO level of a list of Flag nodes bound to `flags` (null when no detail names one).
RSO_GRADE = (
    "[l IN ['very high', 'high', 'medium', 'low'] WHERE any(x IN [d IN [f IN flags | f.detail] | "
    + WORDS_OF_D + "] WHERE x CONTAINS ' ' + l + ' ')][0]"
)


def rso_level(details: Iterable[Any]) -> str | None:
    texts = [words(d) for d in details]
    return next((lv for lv in RSO_LEVELS if any(f" {lv} " in t for t in texts)), None)


def rso_flags(v: View, uid: str) -> list[dict[str, Any]]:
    return v.flags(uid, "registered_sex_offender")


def rso_facts(flags: list[dict[str, Any]]) -> list[list[Any]]:
    return [fact("registered sex offender", f, detail=f.get("detail")) for f in flags]


def rel_label(edge: dict[str, Any]) -> str:
    """'partner of' for a PARTNER_OF edge, as Cypher's toLower(replace(type(r), '_', ' '))."""
    return str(edge["type"]).lower().replace("_", " ")


def current_children(v: View, parent: str, exclude: str) -> list[tuple[str, dict[str, Any]]]:
    """Children a person is currently parent or carer of, other than `exclude`."""
    return [(c, e) for c, e in v.children_of(parent) if c != exclude and current(e, v.ref)]


class Params(QueryParams):
    pass


CYPHER = """
MATCH (w:Person)-[:HAS_FLAG]->(f:Flag {flag: 'registered_sex_offender'})
WHERE f.to_date IS NULL OR f.to_date >= $ref
WITH w, collect(DISTINCT f) AS flags
OPTIONAL MATCH (w)-[h1:LIVES_AT|PLACED_AT|REGISTERED_AT]->(a:Address)
               <-[h2:LIVES_AT|PLACED_AT|REGISTERED_AT]-(c:Person)
WHERE c <> w AND c.dob > $child_born_after
  AND (h1.to_date IS NULL OR h1.to_date >= $ref) AND (h2.to_date IS NULL OR h2.to_date >= $ref)
WITH w, flags, collect(DISTINCT {a: a.uid, c: c.uid,
     f1: ['lives at', h1.agency, h1.start_record, null],
     f2: ['child lives at the same address', h2.agency, h2.start_record, null]}) AS home
OPTIONAL MATCH (w)-[r:PARTNER_OF|ASSOCIATE_OF|HOUSEHOLD_MEMBER]-(p:Person)
               -[pr:PARENT_OF|CARER_OF]->(c2:Person)
WHERE p <> w AND c2 <> w AND c2.dob > $child_born_after
  AND (r.to_date IS NULL OR r.to_date >= $ref) AND (pr.to_date IS NULL OR pr.to_date >= $ref)
WITH w, flags, home, collect(DISTINCT {p: p.uid, c: c2.uid,
     f1: [toLower(replace(type(r), '_', ' ')), r.agency, r.start_record, null],
     f2: [toLower(replace(type(pr), '_', ' ')) + ' a child', pr.agency, pr.start_record, null]}) AS via
OPTIONAL MATCH (w)-[h3:LIVES_AT|PLACED_AT|REGISTERED_AT]->(a3:Address)<-[vi:VISITS]-(p3:Person)
               -[pr3:PARENT_OF|CARER_OF]->(c3:Person)
WHERE p3 <> w AND c3 <> w AND c3.dob > $child_born_after
  AND (h3.to_date IS NULL OR h3.to_date >= $ref) AND (vi.to_date IS NULL OR vi.to_date >= $ref)
  AND (pr3.to_date IS NULL OR pr3.to_date >= $ref)
WITH w, flags, home, via, collect(DISTINCT {a: a3.uid, p: p3.uid, c: c3.uid,
     f1: ['lives at', h3.agency, h3.start_record, null],
     f2: ['visits the home', vi.agency, vi.start_record, null],
     f3: [toLower(replace(type(pr3), '_', ' ')) + ' a child', pr3.agency, pr3.start_record, null]}) AS visit
WITH w, flags, [x IN home WHERE x.a IS NOT NULL] AS home, [x IN via WHERE x.p IS NOT NULL] AS via,
     [x IN visit WHERE x.a IS NOT NULL] AS visit
WHERE size(home) > 0 OR size(via) > 0 OR size(visit) > 0
WITH w, flags, home, via, visit,
     reduce(u = [], k IN [x IN home | x.c] + [x IN via | x.c] + [x IN visit | x.c] |
            CASE WHEN k IN u THEN u ELSE u + k END) AS kids
RETURN w.uid AS key,
       [[w.uid, 'subject']] + [x IN home | [x.c, 'child']] + [x IN via | [x.p, 'parent']]
         + [x IN via | [x.c, 'child']] + [x IN visit | [x.p, 'visiting parent']]
         + [x IN visit | [x.c, 'child']] AS people,
       [] AS events,
       [x IN home | [x.a, 'shared home']] + [x IN visit | [x.a, 'visited home']] AS addresses,
       [f IN flags | ['registered sex offender', f.agency, f.person_record, f.detail]]
         + [x IN home | x.f1] + [x IN home | x.f2] + [x IN via | x.f1] + [x IN via | x.f2]
         + [x IN visit | x.f1] + [x IN visit | x.f2] + [x IN visit | x.f3] AS facts,
       """ + RSO_GRADE + """ AS grade,
       {children: size(kids)} AS numbers
"""


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    rows = []
    for w in v.flagged("registered_sex_offender"):
        flags = rso_flags(v, w)
        if not flags:
            continue
        people: list[list[str]] = [[w, "subject"]]
        addresses: list[list[str]] = []
        facts = rso_facts(flags)
        kids: set[str] = set()
        for c, a, h1, h2 in v.children_at_home(w):
            kids.add(c)
            people.append([c, "child"])
            addresses.append([a, "shared home"])
            facts += [fact("lives at", h1), fact("child lives at the same address", h2)]
        for a, h1 in v.homes(w):
            for parent, vi in v.into(a, "VISITS"):
                if parent == w or not current(vi, v.ref):
                    continue
                for c, pr in current_children(v, parent, w):
                    kids.add(c)
                    people += [[parent, "visiting parent"], [c, "child"]]
                    addresses.append([a, "visited home"])
                    facts += [fact("lives at", h1), fact("visits the home", vi),
                              fact(rel_label(pr) + " a child", pr)]
        for parent, r in v.related(w, "PARTNER_OF", "ASSOCIATE_OF", "HOUSEHOLD_MEMBER"):
            for c, pr in current_children(v, parent, w):
                kids.add(c)
                people += [[parent, "parent"], [c, "child"]]
                facts += [fact(rel_label(r), r), fact(rel_label(pr) + " a child", pr)]
        if kids:
            rows.append({"key": w, "people": people, "events": [], "addresses": addresses,
                         "facts": facts, "grade": rso_level(f.get("detail") for f in flags),
                         "numbers": {"children": len(kids)}})
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    subject = row["people"][0][0]
    roles = {role for _, role in row["people"]}
    n = int(row["numbers"].get("children", 0))
    routes = []
    if any(role == "shared home" for _, role in row["addresses"]):
        routes.append("lives with a child")
    if "parent" in roles:
        routes.append("is the partner, associate or household member of a child's parent")
    if "visiting parent" in roles:
        routes.append("is visited at home by a child's parent")
    level = f" (risk {row['grade']})" if row.get("grade") else ""
    return (f"Registered sex offender {names.get(subject, subject)}{level} "
            f"{' and '.join(routes)}: {n} child{'ren' if n != 1 else ''} in contact. "
            "Check the notification requirements and any SHPO, and consider a strategy discussion.")

