"""A child victim, witness, detainee or missing person with no PPN or referral after it.

Inspection, section 6: children arrested or detained without a child-concern
notification (PPN) to social care.

The notification must name the same child *entity* (any agency, any role) and be dated
from the day of the event (a record dated by day only cannot be placed within that day)
up to `days` days after the event's time. A person counts as a child if under 18 on the
reference date or on the day of the event: the duty to notify was owed then. Events whose
window has not yet closed are reported too, as the contract reads: nothing has followed yet.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.view import View, fact

NAME = "missing-ppn"
DESCRIPTION = ("A crime, incident, domestic abuse, custody or missing episode with a child as "
               "victim, involved child, detainee, witness or missing person, and no PPN or referral "
               "naming that child within `days` days after it.")
SEVERITY = "medium"
REACH = 1   # relationships from the start node to anything named: the event: its children and places

EVENT_TYPES = ("crime", "incident", "domestic_abuse", "custody", "missing_episode")
CHILD_ROLES = ("victim", "involved_child", "detained", "witness", "missing_person")
NOTICE_TYPES = ("ppn", "referral")
_KINDS = frozenset(t.replace("_", " ") for t in EVENT_TYPES)


class Params(QueryParams):
    days: int = Field(7, ge=0)


# A child is under 18 on the day of the event or on the reference date. The first is
# stored on INVOLVED_IN (child_at_event, indexed with role), so the query starts from the
# index instead of every event's people. The second adds nothing for an event up to the
# reference date (a child then was a child on any earlier day), so it is looked for only
# in events dated after it (normally none).
CYPHER = """
CALL () {
  MATCH (c:Person)-[i:INVOLVED_IN]->(e:Event)
  WHERE i.role IN ['victim', 'involved_child', 'detained', 'witness', 'missing_person']
    AND i.child_at_event = true
    AND e.type IN ['crime', 'incident', 'domestic_abuse', 'custody', 'missing_episode']
  RETURN c, i, e
  UNION
  MATCH (e:Event)
  WHERE e.occurred_at > $ref
    AND e.type IN ['crime', 'incident', 'domestic_abuse', 'custody', 'missing_episode']
  MATCH (c:Person)-[i:INVOLVED_IN]->(e)
  WHERE i.role IN ['victim', 'involved_child', 'detained', 'witness', 'missing_person']
    AND c.dob > $child_born_after
  RETURN c, i, e
}
WITH c, i, e
WHERE NOT EXISTS {
    MATCH (c)-[:INVOLVED_IN]->(n:Event)
    WHERE n.type IN ['ppn', 'referral']
      AND left(n.occurred_at, 10) >= left(e.occurred_at, 10)
      AND datetime(n.occurred_at) <= datetime(e.occurred_at) + duration({days: $days})
  }
WITH e, collect(DISTINCT [c.uid, i.role]) AS kids, count(DISTINCT c) AS children,
     collect(DISTINCT ['child as ' + i.role, i.agency, i.start_record,
                       'no PPN or referral within ' + toString($days) + ' days']) AS kid_facts
OPTIONAL MATCH (e)-[o:OCCURRED_AT]->(a:Address)
WITH e, kids, children, kid_facts, collect(DISTINCT [a.uid, o.role]) AS places
RETURN e.uid AS key, kids AS people, [e.uid] AS events,
       [x IN places WHERE x[0] IS NOT NULL] AS addresses,
       [[replace(e.type, '_', ' '), e.agency, e.id, left(e.occurred_at, 10)]] + kid_facts AS facts,
       e.risk AS grade, null AS rank, null AS role, {children: children} AS numbers
"""


def _notified(v: View, child: str, when: str, days: int) -> bool:
    latest = datetime.fromisoformat(when) + timedelta(days=days)
    for n, _ in v.events(child):
        ev = v.props(n)
        if (ev.get("type") in NOTICE_TYPES and ev["occurred_at"][:10] >= when[:10]
                and datetime.fromisoformat(ev["occurred_at"]) <= latest):
            return True
    return False


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    rows = []
    for e in v.where("Event", "type", *EVENT_TYPES):
        ev = v.props(e)
        when = ev["occurred_at"]
        kids = [(c, i) for c, i in v.event_people(e, *CHILD_ROLES)
                if (v.is_child(c) or v.is_child_on(c, when)) and not _notified(v, c, when, p.days)]
        if not kids:
            continue
        facts: list[list[Any]] = [[ev["type"].replace("_", " "), ev.get("agency"), ev.get("id"), when[:10]]]
        facts += [fact(f"child as {i['role']}", i, detail=f"no PPN or referral within {p.days} days")
                  for _, i in kids]
        rows.append({
            "key": e, "people": [[c, i["role"]] for c, i in kids], "events": [e],
            "addresses": [[a, o.get("role")] for a, o in v.event_addresses(e)],
            "facts": facts, "grade": ev.get("risk"), "rank": None, "role": None,
            "numbers": {"children": len({c for c, _ in kids})},
        })
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    kids = ", ".join(sorted({names.get(u, u) for u, _ in row["people"]}))
    event = names.get(row["events"][0], row["events"][0])
    kind = next((f[0] for f in row["facts"] if f[0] in _KINDS), "event")
    n = row["numbers"]["children"]
    return (f"{kind.capitalize()} {event}: no PPN or referral followed for {n} "
            f"child{'ren' if n != 1 else ''} ({kids}); send a notification to children's social care.")
