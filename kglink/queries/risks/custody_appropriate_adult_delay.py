"""A detained child whose appropriate adult came late, or not at all as far as the record says.

Inspection, section 11: appropriate adults arrived up to 20 hours after a child was detained.

The clock starts at the custody attribute `detained_at`, else the event's `occurred_at`.
A detained person counts as a child if under 18 on the reference date or on the day of
detention: the duty is owed to the child as they were then.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.view import View, fact, seconds_between

NAME = "custody-appropriate-adult-delay"
DESCRIPTION = ("A custody event of a detained child where the appropriate adult arrived more than "
               "`hours` after detention, or no arrival is recorded.")
SEVERITY = "medium"
REACH = 1   # relationships from the start node to anything named: the event: its people and places


class Params(QueryParams):
    hours: int = Field(4, ge=0)


CYPHER = """
MATCH (c:Person)-[d:INVOLVED_IN {role: 'detained'}]->(e:Event {type: 'custody'})
WITH c, d, e, coalesce(e.detained_at, e.occurred_at) AS detained,
     e.appropriate_adult_arrived_at AS arrived
WHERE c.dob > $child_born_after
   OR c.dob > toString(date(left(detained, 10)) - duration({years: 18}))
WITH e, detained, arrived,
     CASE WHEN arrived IS NULL THEN null
          ELSE duration.inSeconds(datetime(detained), datetime(arrived)).seconds END AS secs,
     collect(DISTINCT [c.uid, 'detained']) AS kids,
     collect(DISTINCT ['child detained', d.agency, d.start_record, null]) AS kid_facts
WHERE secs IS NULL OR secs > $hours * 3600
OPTIONAL MATCH (aa:Person)-[:INVOLVED_IN {role: 'appropriate_adult'}]->(e)
WITH e, detained, arrived, secs, kids, kid_facts,
     collect(DISTINCT [aa.uid, 'appropriate_adult']) AS adults
OPTIONAL MATCH (e)-[o:OCCURRED_AT]->(a:Address)
WITH e, detained, arrived, secs, kids, kid_facts, adults, collect(DISTINCT [a.uid, o.role]) AS places
RETURN e.uid AS key,
       kids + [x IN adults WHERE x[0] IS NOT NULL] AS people,
       [e.uid] AS events,
       [x IN places WHERE x[0] IS NOT NULL] AS addresses,
       [['detained', e.agency, e.id, detained]]
         + CASE WHEN e.appropriate_adult_requested_at IS NULL THEN []
                ELSE [['appropriate adult requested', e.agency, e.id, e.appropriate_adult_requested_at]] END
         + CASE WHEN arrived IS NULL THEN [['no appropriate adult arrival recorded', e.agency, e.id, null]]
                ELSE [['appropriate adult arrived', e.agency, e.id, arrived]] END
         + kid_facts AS facts,
       e.risk AS grade, null AS rank, null AS role,
       CASE WHEN secs IS NULL THEN {} ELSE {hours: secs / 3600, minutes: secs / 60} END AS numbers
"""


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    rows = []
    for e in v.where("Event", "type", "custody"):
        ev = v.props(e)
        detained = ev.get("detained_at") or ev["occurred_at"]
        kids = [(c, d) for c, d in v.event_people(e, "detained")
                if v.is_child(c) or v.is_child_on(c, detained)]
        if not kids:
            continue
        arrived = ev.get("appropriate_adult_arrived_at")
        secs = seconds_between(detained, arrived) if arrived is not None else None
        if secs is not None and secs <= p.hours * 3600:
            continue
        facts: list[list[Any]] = [["detained", ev.get("agency"), ev.get("id"), detained]]
        if ev.get("appropriate_adult_requested_at") is not None:
            facts.append(["appropriate adult requested", ev.get("agency"), ev.get("id"),
                          ev["appropriate_adult_requested_at"]])
        facts.append(["no appropriate adult arrival recorded", ev.get("agency"), ev.get("id"), None]
                     if arrived is None else ["appropriate adult arrived", ev.get("agency"), ev.get("id"), arrived])
        facts += [fact("child detained", d) for _, d in kids]
        rows.append({
            "key": e,
            "people": [[c, "detained"] for c, _ in kids]
            + [[a, "appropriate_adult"] for a, _ in v.event_people(e, "appropriate_adult")],
            "events": [e],
            "addresses": [[a, o.get("role")] for a, o in v.event_addresses(e)],
            "facts": facts, "grade": ev.get("risk"), "rank": None, "role": None,
            "numbers": {} if secs is None else {"hours": secs // 3600, "minutes": secs // 60},
        })
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    kids = ", ".join(sorted({names.get(u, u) for u, role in row["people"] if role == "detained"}))
    event = names.get(row["events"][0], row["events"][0])
    mins = row["numbers"].get("minutes")
    if mins is None:
        wait = "no appropriate adult arrival is recorded"
    else:
        wait = f"the appropriate adult arrived {mins // 60} h {mins % 60:02d} min after detention"
    return f"Custody {event}: {kids} detained as a child and {wait}; review the custody record."
