"""Domestic abuse at an address where earlier events, from any agency, involved children.

Inspection, section 6: domestic abuse triage did not check whether earlier incidents at
the address or with the family had involved children.

"Earlier" is judged by day: many agencies record a date only, and a social-care referral
dated the day of the incident (often prompted by it) cannot be placed before or after it.
So only events on an earlier day count.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.view import View

NAME = "domestic-abuse-prior-children"
DESCRIPTION = ("A domestic abuse event in the last `days` days at an address where an earlier "
               "event, from any agency, involved a child.")
SEVERITY = "high"
REACH = 3   # relationships from the start node to anything named: event -> address <- earlier event <- child

CHILD_ROLES = ("involved_child", "victim", "missing_person", "subject", "detained", "witness")


class Params(QueryParams):
    days: int = Field(365, ge=0)


CYPHER = """
MATCH (e:Event {type: 'domestic_abuse'})
WHERE left(e.occurred_at, 10) >= toString(date($ref) - duration({days: $days}))
MATCH (e)-[o:OCCURRED_AT]->(a:Address)<-[:OCCURRED_AT]-(e2:Event)<-[i:INVOLVED_IN]-(c:Person)
WHERE e2 <> e AND left(e2.occurred_at, 10) < left(e.occurred_at, 10)
  AND i.role IN ['involved_child', 'victim', 'missing_person', 'subject', 'detained', 'witness']
  AND c.dob > $child_born_after
WITH e, collect(DISTINCT [a.uid, o.role]) AS addresses,
     collect(DISTINCT ['location', o.agency, o.end_record, o.role]) AS locations,
     collect(DISTINCT c.uid) AS kids, count(DISTINCT e2) AS earlier_events,
     collect(DISTINCT ['earlier event at the address involved a child', e2.agency, e2.id,
                       e2.type + ', ' + left(e2.occurred_at, 10) + ', child as ' + i.role]) AS earlier
OPTIONAL MATCH (p:Person)-[pi:INVOLVED_IN]->(e)
WITH e, addresses, locations, kids, earlier_events, earlier,
     collect(DISTINCT [p.uid, pi.role]) AS parties
RETURN e.uid AS key,
       [k IN kids | [k, 'child']] + [x IN parties WHERE x[0] IS NOT NULL] AS people,
       [e.uid] AS events,
       addresses,
       [['domestic abuse', e.agency, e.id, left(e.occurred_at, 10)]] + locations + earlier AS facts,
       e.risk AS grade, null AS rank, null AS role,
       {earlier_events: earlier_events, children: size(kids)} AS numbers
"""


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    since = ctx.days_before(p.days)
    rows = []
    for e in v.where("Event", "type", "domestic_abuse"):
        ev = v.props(e)
        day = ev["occurred_at"][:10]
        if day < since:
            continue
        addresses: list[list[Any]] = []
        facts: list[list[Any]] = [["domestic abuse", ev.get("agency"), ev.get("id"), day]]
        kids: set[str] = set()
        earlier: set[str] = set()
        for a, o in v.event_addresses(e):
            hit = False
            for e2, _ in v.address_events(a):
                ev2 = v.props(e2)
                if e2 == e or ev2["occurred_at"][:10] >= day:
                    continue
                for c, i in v.event_people(e2, *CHILD_ROLES):
                    if v.is_child(c):
                        hit = True
                        kids.add(c)
                        earlier.add(e2)
                        facts.append(["earlier event at the address involved a child", ev2.get("agency"),
                                      ev2.get("id"),
                                      f"{ev2['type']}, {ev2['occurred_at'][:10]}, child as {i['role']}"])
            if hit:
                addresses.append([a, o.get("role")])
                facts.append(["location", o.get("agency"), o.get("end_record"), o.get("role")])
        if not earlier:
            continue
        people = [[k, "child"] for k in sorted(kids)] + [[q, i.get("role")] for q, i in v.event_people(e)]
        rows.append({"key": e, "people": people, "events": [e], "addresses": addresses, "facts": facts,
                     "grade": ev.get("risk"), "rank": None, "role": None,
                     "numbers": {"earlier_events": len(earlier), "children": len(kids)}})
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    event = row["events"][0]
    n, kids = row["numbers"]["earlier_events"], row["numbers"]["children"]
    places = ", ".join(sorted({names.get(a, a) for a, _ in row["addresses"]}))
    return (f"Domestic abuse {names.get(event, event)} at {places}: {n} earlier event"
            f"{'s' if n != 1 else ''} there involved {kids} child{'ren' if kids != 1 else ''}; "
            "check them in the risk assessment and consider a referral.")
