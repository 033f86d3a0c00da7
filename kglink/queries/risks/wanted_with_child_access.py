"""A wanted person with access to a child: lives with one, or partners a child's parent.

Inspection, section 6: a mother's new partner had been wanted since 2019 for a sexual
offence against a child, while living with her nine-year-old daughter.
"""
from __future__ import annotations

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.view import PARENTING, View, fact

NAME = "wanted-with-child-access"
DESCRIPTION = ("A person wanted by police who lives with a child, or is the partner or "
               "household member of a child's parent or carer.")
SEVERITY = "high"
REACH = 2   # relationships from the start node to anything named: wanted person -> home <- child; partner -> child


class Params(QueryParams):
    pass


CYPHER = """
MATCH (w:Person)-[:HAS_FLAG]->(f:Flag {flag: 'wanted'})
WHERE f.to_date IS NULL OR f.to_date >= $ref
WITH w, collect(DISTINCT ['wanted', f.agency, f.person_record, f.detail]) AS wanted
OPTIONAL MATCH (w)-[h1:LIVES_AT|PLACED_AT|REGISTERED_AT]->(a:Address)
               <-[h2:LIVES_AT|PLACED_AT|REGISTERED_AT]-(c:Person)
WHERE c <> w AND c.dob > $child_born_after
  AND (h1.to_date IS NULL OR h1.to_date >= $ref) AND (h2.to_date IS NULL OR h2.to_date >= $ref)
WITH w, wanted, collect(DISTINCT {a: a.uid, c: c.uid,
     f1: ['lives at', h1.agency, h1.start_record, null],
     f2: ['child lives at the same address', h2.agency, h2.start_record, null]}) AS home
OPTIONAL MATCH (w)-[r:PARTNER_OF|HOUSEHOLD_MEMBER]-(p:Person)-[pr:PARENT_OF|CARER_OF]->(c2:Person)
WHERE p <> w AND c2 <> w AND c2.dob > $child_born_after
  AND (r.to_date IS NULL OR r.to_date >= $ref) AND (pr.to_date IS NULL OR pr.to_date >= $ref)
WITH w, wanted, home, collect(DISTINCT {p: p.uid, c: c2.uid,
     f1: [toLower(replace(type(r), '_', ' ')), r.agency, r.start_record, null],
     f2: [toLower(replace(type(pr), '_', ' ')) + ' a child', pr.agency, pr.start_record, null]}) AS via
WITH w, wanted, [x IN home WHERE x.a IS NOT NULL] AS home, [x IN via WHERE x.p IS NOT NULL] AS via
WHERE size(home) > 0 OR size(via) > 0
RETURN w.uid AS key,
       [[w.uid, 'subject']] + [x IN home | [x.c, 'child']] + [x IN via | [x.p, 'parent']]
         + [x IN via | [x.c, 'child']] AS people,
       [] AS events,
       [x IN home | [x.a, 'shared home']] AS addresses,
       wanted + [x IN home | x.f1] + [x IN home | x.f2] + [x IN via | x.f1] + [x IN via | x.f2] AS facts
"""


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    rows = []
    for w in v.flagged("wanted"):
        wanted = [fact("wanted", f, detail=f.get("detail")) for f in v.flags(w, "wanted")]
        if not wanted:
            continue
        people, addresses, facts = [[w, "subject"]], [], list(wanted)
        for c, a, h1, h2 in v.children_at_home(w):
            people.append([c, "child"])
            addresses.append([a, "shared home"])
            facts += [fact("lives at", h1), fact("child lives at the same address", h2)]
        for partner, r in v.related(w, "PARTNER_OF", "HOUSEHOLD_MEMBER"):
            for c, pr in v.children_of(partner):
                if c != w:
                    people += [[partner, "parent"], [c, "child"]]
                    rel = r["type"].lower().replace("_", " ")
                    facts += [fact(rel, r), fact(pr["type"].lower().replace("_", " ") + " a child", pr)]
        if len(people) > 1:
            rows.append({"key": w, "people": people, "events": [], "addresses": addresses, "facts": facts})
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    subject = row["people"][0][0]
    kids = sorted({names[u] for u, role in row["people"] if role == "child"})
    return (f"{names[subject]} is wanted and has access to {len(kids)} "
            f"child{'ren' if len(kids) != 1 else ''} ({', '.join(kids)}): check the warrant and "
            "consider a strategy discussion.")
