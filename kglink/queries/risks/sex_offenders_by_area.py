"""Every registered sex offender by the postcode district of their current home.

Inspection, section 10: neighbourhood officers did not know which registered sex
offenders lived in their area. One finding per offender and district, with the district
in the finding's `role` (so a list groups by it) and the offender's last home visit.
An offender with no current home is listed too, under NO_HOME: that is worth knowing.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from kglink.queries.base import QueryContext, QueryParams, Row
from kglink.queries.risks.sex_offender_child_contact import (
    RSO_GRADE, WORDS_OF_D, rel_label, rso_facts, rso_flags, rso_level, words,
)
from kglink.queries.view import View, fact

NAME = "sex-offenders-by-area"
DESCRIPTION = ("Every registered sex offender, grouped by the postcode district of their current "
               "home, with the date of their last home visit.")
SEVERITY = "medium"
REACH = 1   # relationships from the start node to anything named: the offender and their homes

NO_HOME = "no current home"
NO_DISTRICT = "unknown district"


class Params(QueryParams):
    pass


CYPHER = """
MATCH (w:Person)-[:HAS_FLAG]->(f:Flag {flag: 'registered_sex_offender'})
WHERE f.to_date IS NULL OR f.to_date >= $ref
WITH w, collect(DISTINCT f) AS flags
CALL (w) {
  OPTIONAL MATCH (w)-[:INVOLVED_IN]->(v:Event {type: 'rso_visit'})
  WHERE any(x IN [d IN [v.visit_type] | """ + WORDS_OF_D + """] WHERE x = ' home ')
  WITH v ORDER BY v.occurred_at DESC, v.uid DESC LIMIT 1
  RETURN v AS last
}
OPTIONAL MATCH (w)-[h:LIVES_AT|PLACED_AT|REGISTERED_AT]->(a:Address)
WHERE h.to_date IS NULL OR h.to_date >= $ref
WITH w, flags, last, collect(DISTINCT CASE WHEN a IS NULL THEN null ELSE
     {a: a.uid, district: coalesce(a.postcode_district, 'unknown district'), h: h} END) AS homes
UNWIND CASE WHEN size(homes) = 0 THEN [{a: null, district: 'no current home', h: null}]
            ELSE homes END AS home
WITH w, flags, last, home.district AS district,
     collect(DISTINCT CASE WHEN home.a IS NULL THEN null ELSE
       {a: home.a, f: [toLower(replace(type(home.h), '_', ' ')), home.h.agency, home.h.start_record,
                       home.district]} END) AS homes
RETURN w.uid + '|' + district AS key,
       [[w.uid, 'subject']] AS people,
       CASE WHEN last IS NULL THEN [] ELSE [last.uid] END AS events,
       [x IN homes | [x.a, 'home']] AS addresses,
       [f IN flags | ['registered sex offender', f.agency, f.person_record, f.detail]]
         + [x IN homes | x.f]
         + CASE WHEN last IS NULL THEN [] ELSE
             [['last home visit', last.agency, last.id, substring(last.occurred_at, 0, 10)]] END AS facts,
       """ + RSO_GRADE + """ AS grade,
       district AS role,
       CASE WHEN last IS NULL THEN {} ELSE
         {days_since_home_visit: duration.inDays(date(substring(last.occurred_at, 0, 10)), date($ref)).days}
       END AS numbers
"""


def _last_home_visit(v: View, w: str) -> dict[str, Any] | None:
    visits = [v.props(ev) for ev, _ in v.events(w)
              if v.props(ev).get("type") == "rso_visit" and words(v.props(ev).get("visit_type")) == " home "]
    return max(visits, key=lambda e: (str(e.get("occurred_at")), e["uid"]), default=None)


def embedded(v: View, p: Params, ctx: QueryContext) -> list[Row]:
    rows = []
    for w in v.flagged("registered_sex_offender"):
        flags = rso_flags(v, w)
        if not flags:
            continue
        last = _last_home_visit(v, w)
        by_district: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for a, h in v.homes(w):
            by_district[v.props(a).get("postcode_district") or NO_DISTRICT].append((a, h))
        base = rso_facts(flags)
        events, numbers = [], {}
        if last is not None:
            day = str(last["occurred_at"])[:10]
            base.append(fact("last home visit", last, detail=day))
            events = [last["uid"]]
            numbers = {"days_since_home_visit": (ctx.reference_date - date.fromisoformat(day)).days}
        grade = rso_level(f.get("detail") for f in flags)
        for district, homes in sorted(by_district.items()) or [(NO_HOME, [])]:
            rows.append({
                "key": f"{w}|{district}", "people": [[w, "subject"]], "events": events,
                "addresses": [[a, "home"] for a, _ in homes],
                "facts": base + [fact(rel_label(h), h, detail=district) for _, h in homes],
                "grade": grade, "role": district, "numbers": numbers})
    return rows


def summary(row: Row, names: dict[str, str]) -> str:
    subject = row["people"][0][0]
    level = f" (risk {row['grade']})" if row.get("grade") else ""
    where = ("has no current home address on record" if row["role"] == NO_HOME
             else f"lives in {row['role']}")
    visit = next((f[3] for f in row["facts"] if f[0] == "last home visit"), None)
    days = row["numbers"].get("days_since_home_visit")
    since = f"{days} days before {row['as_of']}, the newest extract's date" if row.get("as_of") \
        else f"{days} days before the newest extract's date"
    seen = (f"last home visit {visit} ({since})" if visit else "no home visit on record")
    return f"Registered sex offender {names.get(subject, subject)}{level} {where}; {seen}."
