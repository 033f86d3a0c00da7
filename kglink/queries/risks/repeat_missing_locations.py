"""The "top 3": addresses children go missing from, addresses they are found at, and the
children who go missing most.

Inspection, section 6: teams were meant to work on their top three missing children and
top three missing-from and found-at locations, chosen inconsistently.

Counts distinct `missing_episode` events, any status, any date: for addresses every
episode, as the contract reads (`children_only` keeps the episodes of children, for a
force whose missing-person records mix in adults); for children, the episodes of those
under 18 on the reference date. Three separate rankings (role `missing_from`, `found_at`,
`child`), each of the items with at least `min_episodes` episodes, best first, ties to
the lower id, cut at `top`. The episodes are evidence (facts), not the finding's events:
the subject of each finding is the address or the child.
"""
from __future__ import annotations

from collections import defaultdict

from pydantic import Field

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.view import View

NAME = "repeat-missing-locations"
DESCRIPTION = ("Addresses ranked by missing-from episodes and by found-at episodes, and children "
               "ranked by their missing episodes (the top few of each).")
SEVERITY = "medium"
# No REACH: it ranks children and places across the whole county.

_LABELS = {"missing_from": "missing from here", "found_at": "found here", "child": "missing episode"}


class Params(QueryParams):
    top: int = Field(3, ge=1)
    min_episodes: int = Field(2, ge=1)
    children_only: bool = False


CYPHER = """
UNWIND ['missing_from', 'found_at'] AS want
CALL (want) {
  MATCH (e:Event {type: 'missing_episode'})-[:OCCURRED_AT {role: want}]->(a:Address)
  WHERE NOT $children_only OR EXISTS {
    MATCH (c:Person)-[:INVOLVED_IN {role: 'missing_person'}]->(e) WHERE c.dob > $child_born_after }
  WITH a, collect(DISTINCT e) AS eps
  WHERE size(eps) >= $min_episodes
  WITH a, eps ORDER BY size(eps) DESC, a.uid LIMIT $top
  RETURN collect({uid: a.uid, eps: eps}) AS ranked
}
UNWIND range(0, size(ranked) - 1) AS i
WITH want, ranked[i] AS r, i + 1 AS rank
RETURN want + '|' + r.uid AS key, [] AS people, [] AS events, [[r.uid, want]] AS addresses,
       [x IN r.eps | [CASE want WHEN 'missing_from' THEN 'missing from here' ELSE 'found here' END,
                      x.agency, x.id, left(x.occurred_at, 10)]] AS facts,
       null AS grade, rank, want AS role, {episodes: size(r.eps)} AS numbers
UNION ALL
MATCH (c:Person)-[:INVOLVED_IN {role: 'missing_person'}]->(e:Event {type: 'missing_episode'})
WHERE c.dob > $child_born_after
WITH c, collect(DISTINCT e) AS eps
WHERE size(eps) >= $min_episodes
WITH c, eps ORDER BY size(eps) DESC, c.uid LIMIT $top
WITH collect({uid: c.uid, eps: eps}) AS ranked
UNWIND range(0, size(ranked) - 1) AS i
WITH ranked[i] AS r, i + 1 AS rank
RETURN 'child|' + r.uid AS key, [[r.uid, 'subject']] AS people, [] AS events, [] AS addresses,
       [x IN r.eps | ['missing episode', x.agency, x.id, left(x.occurred_at, 10)]] AS facts,
       null AS grade, rank, 'child' AS role, {episodes: size(r.eps)} AS numbers
"""


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    counts: dict[str, dict[str, set[str]]] = {r: defaultdict(set) for r in _LABELS}
    for e in v.where("Event", "type", "missing_episode"):
        kids = {c for c, _ in v.event_people(e, "missing_person") if v.is_child(c)}
        for c in kids:
            counts["child"][c].add(e)
        if kids or not p.children_only:
            for a, o in v.event_addresses(e, "missing_from", "found_at"):
                counts[o["role"]][a].add(e)
    rows = []
    for role, by_item in counts.items():
        ranked = sorted(((len(eps), uid) for uid, eps in by_item.items() if len(eps) >= p.min_episodes),
                        key=lambda t: (-t[0], t[1]))
        for rank, (n, uid) in enumerate(ranked[:max(p.top, 0)], start=1):
            facts = [[_LABELS[role], v.props(e).get("agency"), v.props(e).get("id"),
                      v.props(e)["occurred_at"][:10]] for e in sorted(by_item[uid])]
            rows.append({"key": f"{role}|{uid}",
                         "people": [[uid, "subject"]] if role == "child" else [],
                         "events": [], "addresses": [] if role == "child" else [[uid, role]],
                         "facts": facts, "grade": None, "rank": rank, "role": role,
                         "numbers": {"episodes": n}})
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    n = row["numbers"]["episodes"]
    episodes = f"{n} missing episode{'s' if n != 1 else ''}"
    if row["role"] == "child":
        uid = row["people"][0][0]
        return (f"Repeatedly missing child #{row['rank']}: {names.get(uid, uid)}, {episodes}; "
                "review the return interviews and any exploitation risk.")
    uid = row["addresses"][0][0]
    where = "missing-from" if row["role"] == "missing_from" else "found-at"
    return (f"Top {where} location #{row['rank']}: {names.get(uid, uid)}, {episodes}; "
            "consider a location plan and disruption.")
