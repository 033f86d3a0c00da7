"""A sex offender under reactive management who has breached, recently.

Inspection, section 10: registered sex offenders under reactive (remote) management had
breached their notification requirements, which should have triggered a risk review.
"""
from __future__ import annotations

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.risks.sex_offender_child_contact import RSO_GRADE, rso_facts, rso_flags, rso_level
from kglink.queries.view import View, fact

NAME = "reactive-rso-breach"
DESCRIPTION = ("A registered sex offender under reactive management who is the subject or "
               "offender of a breach in the last `days` days: the breach should trigger a risk "
               "review.")
SEVERITY = "high"
REACH = 1   # relationships from the start node to anything named: the offender and their events

BREACH_ROLES = ("subject", "offender")


class Params(QueryParams):
    days: int = 365


CYPHER = """
MATCH (w:Person)-[:HAS_FLAG]->(f:Flag {flag: 'registered_sex_offender'})
WHERE f.to_date IS NULL OR f.to_date >= $ref
WITH w, collect(DISTINCT f) AS flags
MATCH (w)-[:HAS_FLAG]->(m:Flag {flag: 'reactive_management'})
WHERE m.to_date IS NULL OR m.to_date >= $ref
WITH w, flags, collect(DISTINCT m) AS reactive
MATCH (w)-[i:INVOLVED_IN]->(b:Event {type: 'breach'})
WHERE i.role IN ['subject', 'offender']
  AND b.occurred_at >= toString(date($ref) - duration({days: $days}))
WITH w, flags, reactive, collect(DISTINCT b) AS breaches
RETURN w.uid AS key,
       [[w.uid, 'subject']] AS people,
       [b IN breaches | b.uid] AS events,
       [] AS addresses,
       [f IN flags | ['registered sex offender', f.agency, f.person_record, f.detail]]
         + [m IN reactive | ['reactive management', m.agency, m.person_record, m.detail]]
         + [b IN breaches | ['breach', b.agency, b.id, b.description]] AS facts,
       """ + RSO_GRADE + """ AS grade,
       {breaches: size(breaches), days: $days} AS numbers
"""


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    since = ctx.days_before(p.days)
    rows = []
    for w in v.flagged("registered_sex_offender"):
        flags = rso_flags(v, w)
        reactive = v.flags(w, "reactive_management")
        if not flags or not reactive:
            continue
        breaches = sorted({ev for ev, _ in v.events(w, *BREACH_ROLES)
                           if v.props(ev).get("type") == "breach"
                           and str(v.props(ev).get("occurred_at", "")) >= since})
        if not breaches:
            continue
        facts = (rso_facts(flags)
                 + [fact("reactive management", m, detail=m.get("detail")) for m in reactive]
                 + [fact("breach", v.props(b), detail=v.props(b).get("description")) for b in breaches])
        rows.append({"key": w, "people": [[w, "subject"]], "events": breaches, "addresses": [],
                     "facts": facts, "grade": rso_level(f.get("detail") for f in flags),
                     "numbers": {"breaches": len(breaches), "days": p.days}})
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    subject = row["people"][0][0]
    n = int(row["numbers"].get("breaches", 0))
    level = f", risk {row['grade']}" if row.get("grade") else ""
    return (f"Registered sex offender {names.get(subject, subject)} (reactive management{level}) "
            f"has {n} breach{'es' if n != 1 else ''} in the {row['numbers'].get('days')} days to "
            f"{row.get('as_of') or 'the date'} (the newest extract's date): "
            "review the risk assessment and whether reactive management is still right.")
