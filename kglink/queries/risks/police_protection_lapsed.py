"""Police protection (section 46) that ran past its legal maximum, or has no recorded end.

Inspection, section 8: police protection, 72 hours at most, lapsed with no record of what
happened.

Start: the attribute `started_at`, else the event's `occurred_at`. End: the attribute
`ended_at` (stored as `protection_ended_at`), else the event's `ended_at`. With no end,
the time runs to the start of the reference date.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.view import View, seconds_between

NAME = "police-protection-lapsed"
DESCRIPTION = ("Police protection that lasted more than `hours` hours, or has no end recorded and "
               "started more than `hours` hours before the reference date.")
SEVERITY = "medium"
REACH = 1   # relationships from the start node to anything named: the event: its people and places


class Params(QueryParams):
    hours: int = Field(72, ge=0)


CYPHER = """
MATCH (e:Event {type: 'police_protection'})
WITH e, coalesce(e.started_at, e.occurred_at) AS started,
     coalesce(e.protection_ended_at, e.ended_at) AS ended
WITH e, started, ended,
     duration.inSeconds(datetime(started), datetime(coalesce(ended, $ref))).seconds AS secs
WHERE secs > $hours * 3600
OPTIONAL MATCH (p:Person)-[i:INVOLVED_IN]->(e)
WITH e, started, ended, secs, collect(DISTINCT [p.uid, i.role]) AS people,
     collect(DISTINCT ['named in the police protection as ' + i.role, i.agency, i.start_record, null]) AS named
OPTIONAL MATCH (e)-[o:OCCURRED_AT]->(a:Address)
WITH e, started, ended, secs, people, named, collect(DISTINCT [a.uid, o.role]) AS places
RETURN e.uid AS key,
       [x IN people WHERE x[0] IS NOT NULL] AS people,
       [e.uid] AS events,
       [x IN places WHERE x[0] IS NOT NULL] AS addresses,
       [['police protection started', e.agency, e.id, started]]
         + CASE WHEN ended IS NULL THEN [['no end of police protection recorded', e.agency, e.id, null]]
                ELSE [['police protection ended', e.agency, e.id, ended]] END
         + [x IN named WHERE x[0] IS NOT NULL] AS facts,
       e.risk AS grade, null AS rank, null AS role,
       {hours: secs / 3600} AS numbers
"""


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    rows = []
    for e in v.where("Event", "type", "police_protection"):
        ev = v.props(e)
        started = ev.get("started_at") or ev["occurred_at"]
        ended = ev.get("protection_ended_at") or ev.get("ended_at")
        secs = seconds_between(started, ended if ended is not None else v.ref)
        if secs <= p.hours * 3600:
            continue
        named = v.event_people(e)
        facts: list[list[Any]] = [["police protection started", ev.get("agency"), ev.get("id"), started]]
        facts.append(["no end of police protection recorded", ev.get("agency"), ev.get("id"), None]
                     if ended is None else ["police protection ended", ev.get("agency"), ev.get("id"), ended])
        facts += [[f"named in the police protection as {i.get('role')}", i.get("agency"), i.get("start_record"),
                   None] for _, i in named]
        rows.append({
            "key": e, "people": [[q, i.get("role")] for q, i in named], "events": [e],
            "addresses": [[a, o.get("role")] for a, o in v.event_addresses(e)],
            "facts": facts, "grade": ev.get("risk"), "rank": None, "role": None,
            "numbers": {"hours": secs // 3600},
        })
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    kids = ", ".join(sorted({names.get(u, u) for u, _ in row["people"]})) or "no child named"
    event = names.get(row["events"][0], row["events"][0])
    hours = row["numbers"]["hours"]
    open_ = any(f[0] == "no end of police protection recorded" for f in row["facts"])
    state = (f"no end is recorded, {hours} hours after it began" if open_
             else f"it lasted {hours} hours")
    return (f"Police protection {event} ({kids}): {state}; confirm what happened to the child "
            "and that the local authority took over.")
