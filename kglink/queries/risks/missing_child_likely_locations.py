"""Where to look for a child who is missing now: associates' homes and earlier found-at places.

Inspection, section 6: a girl missing 18 hours had stayed at the address of an associate
already named in early intelligence research.

For each open `missing_episode` (no `ended_at`, status neither closed nor found) of a
child, every candidate address scores one point per distinct associate currently living
there (both the association and the home current) and two per distinct earlier episode
of the child that ended there (`found_at`). One finding per ranked address, best first;
ties go to the address id.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import Field

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.view import View

NAME = "missing-child-likely-locations"
DESCRIPTION = ("For each open missing episode of a child, addresses ranked by where the child "
               "may be: current homes of associates, and places found at in earlier episodes "
               "(counted twice).")
SEVERITY = "high"
REACH = 3   # relationships from the start node to anything named: episode <- child - associate -> home; child -> earlier episode -> found at

OPEN_NOT = ("closed", "found")


class Params(QueryParams):
    top: int = Field(10, ge=1)


CYPHER = """
MATCH (c:Person)-[:INVOLVED_IN {role: 'missing_person'}]->(e:Event {type: 'missing_episode'})
WHERE e.ended_at IS NULL AND NOT coalesce(e.status, '') IN ['closed', 'found']
  AND c.dob > $child_born_after
WITH e, collect(DISTINCT c) AS kids
CALL (e, kids) {
  UNWIND kids AS c
  MATCH (c)-[r:ASSOCIATE_OF]-(x:Person)-[h:LIVES_AT|PLACED_AT|REGISTERED_AT]->(a:Address)
  WHERE x <> c AND (r.to_date IS NULL OR r.to_date >= $ref) AND (h.to_date IS NULL OR h.to_date >= $ref)
  RETURN a, 'associate_home' AS via, x.uid AS who, [x.uid, 'associate'] AS person,
         [['associate of the missing child', r.agency, r.start_record, null],
          ['associate lives here', h.agency, h.start_record, null]] AS fs
  UNION
  UNWIND kids AS c
  MATCH (c)-[:INVOLVED_IN {role: 'missing_person'}]->(e2:Event {type: 'missing_episode'})
        -[:OCCURRED_AT {role: 'found_at'}]->(a:Address)
  WHERE e2 <> e AND e2.occurred_at < e.occurred_at
  RETURN a, 'found_at' AS via, e2.uid AS who, null AS person,
         [['found here in an earlier episode', e2.agency, e2.id, left(e2.occurred_at, 10)]] AS fs
}
WITH e, kids, a,
     count(DISTINCT CASE WHEN via = 'associate_home' THEN who END) AS assoc,
     count(DISTINCT CASE WHEN via = 'found_at' THEN who END) AS found,
     collect(DISTINCT via) AS vias, collect(DISTINCT person) AS persons, collect(fs) AS fss
WITH e, kids, a, assoc, found, assoc + 2 * found AS score, vias, persons,
     reduce(acc = [], f IN fss | acc + f) AS fs
ORDER BY score DESC, a.uid
WITH e, kids, collect({a: a.uid, assoc: assoc, found: found, score: score, vias: vias,
                       persons: persons, fs: fs}) AS ranked
UNWIND range(0, size(ranked) - 1) AS i
WITH e, kids, ranked[i] AS r, i + 1 AS rank
WHERE rank <= $top
RETURN e.uid + '|' + r.a AS key,
       [k IN kids | [k.uid, 'missing_person']] + r.persons AS people,
       [e.uid] AS events,
       [v IN r.vias | [r.a, v]] AS addresses,
       [['open missing episode', e.agency, e.id, left(e.occurred_at, 10)]] + r.fs AS facts,
       e.risk AS grade, rank,
       CASE WHEN r.found > 0 THEN 'found_at' ELSE 'associate_home' END AS role,
       {score: r.score, associates: r.assoc, earlier_found: r.found} AS numbers
"""


def _candidates(v: View, e: str, kids: list[str]) -> dict[str, dict[str, Any]]:
    when = v.props(e)["occurred_at"]
    cand: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"assoc": set(), "found": set(), "vias": set(), "persons": [], "facts": []})
    for c in kids:
        for x, r in v.related(c, "ASSOCIATE_OF"):
            for a, h in v.homes(x):
                k = cand[a]
                k["assoc"].add(x)
                k["vias"].add("associate_home")
                k["persons"].append([x, "associate"])
                k["facts"] += [["associate of the missing child", r.get("agency"), r.get("start_record"), None],
                               ["associate lives here", h.get("agency"), h.get("start_record"), None]]
        for e2, _ in v.events(c, "missing_person"):
            ev2 = v.props(e2)
            if e2 == e or ev2.get("type") != "missing_episode" or not ev2["occurred_at"] < when:
                continue
            for a, _ in v.event_addresses(e2, "found_at"):
                k = cand[a]
                k["found"].add(e2)
                k["vias"].add("found_at")
                k["facts"].append(["found here in an earlier episode", ev2.get("agency"), ev2.get("id"),
                                   ev2["occurred_at"][:10]])
    return cand


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    rows = []
    for e in v.where("Event", "type", "missing_episode"):
        ev = v.props(e)
        if ev.get("ended_at") is not None or (ev.get("status") or "") in OPEN_NOT:
            continue
        kids = sorted({c for c, _ in v.event_people(e, "missing_person") if v.is_child(c)})
        if not kids:
            continue
        cand = _candidates(v, e, kids)
        scored = sorted(((len(k["assoc"]) + 2 * len(k["found"]), a) for a, k in cand.items()),
                        key=lambda t: (-t[0], t[1]))
        for rank, (score, a) in enumerate(scored[:max(p.top, 0)], start=1):
            k = cand[a]
            rows.append({
                "key": f"{e}|{a}",
                "people": [[c, "missing_person"] for c in kids] + k["persons"],
                "events": [e],
                "addresses": [[a, via] for via in sorted(k["vias"])],
                "facts": [["open missing episode", ev.get("agency"), ev.get("id"), ev["occurred_at"][:10]]]
                + k["facts"],
                "grade": ev.get("risk"), "rank": rank,
                "role": "found_at" if k["found"] else "associate_home",
                "numbers": {"score": score, "associates": len(k["assoc"]), "earlier_found": len(k["found"])},
            })
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    kids = ", ".join(sorted({names.get(u, u) for u, role in row["people"] if role == "missing_person"}))
    address = row["addresses"][0][0]
    n = row["numbers"]
    why = []
    if n["earlier_found"]:
        why.append(f"found here in {n['earlier_found']} earlier episode{'s' if n['earlier_found'] != 1 else ''}")
    if n["associates"]:
        why.append(f"home of {n['associates']} associate{'s' if n['associates'] != 1 else ''}")
    return (f"Missing now: {kids} ({names.get(row['events'][0], row['events'][0])}). Place to check "
            f"#{row['rank']}: {names.get(address, address)} ({'; '.join(why)}).")
