"""What the research pack's network picture shows: the child, the household and relatives,
their homes, and every place, person and event the pack's own findings name.

Nodes and edges only (plain data in the pack's JSON); `network_svg` draws them.
"""
from __future__ import annotations

from typing import Any

from kglink.graph import schema
from kglink.graph.build import record_uid
from kglink.linkage.entities import source_key
from kglink.queries.findings import Finding
from kglink.queries.view import HOME, View
from kglink.reports.html import words

PERSON_LINKS = ("PARENT_OF", "CARER_OF", "PARTNER_OF", "EX_PARTNER_OF", "SIBLING_OF",
                "HOUSEHOLD_MEMBER", "ASSOCIATE_OF")
PLACE_LINKS = HOME + ("FREQUENTS", "VISITS", "WORKS_AT")
DIRECTED = {"PARENT_OF", "CARER_OF", "INVOLVED_IN", "OCCURRED_AT", "FINDING"} | set(PLACE_LINKS)
# Flags a reader must see on the picture itself, with the words of their badge.
BADGE_FLAGS = {"wanted": "WANTED", "registered_sex_offender": "RSO", "shpo": "SHPO",
               "repeat_missing": "MISSING", "da_perpetrator": "DA PERP"}
LABELS = {"PARENT_OF": "parent of", "CARER_OF": "carer of", "PARTNER_OF": "partner",
          "EX_PARTNER_OF": "ex-partner", "SIBLING_OF": "sibling", "HOUSEHOLD_MEMBER": "household",
          "ASSOCIATE_OF": "associate", "LIVES_AT": "lives at", "PLACED_AT": "placed at",
          "REGISTERED_AT": "registered at", "FREQUENTS": "frequents", "VISITS": "visits",
          "WORKS_AT": "works at"}


def _flags(v: View, uid: str) -> list[str]:
    return sorted({v.props(f).get("flag", "") for f, _ in v.out(uid, "HAS_FLAG")} - {""})


def network_data(v: View, uid: str, relation: dict[str, str], homes: list[str],
                 findings: list[Finding]) -> dict[str, Any]:
    """The picture's nodes and edges. `relation`: each household member's connection to the
    child, in words."""
    people = {uid: "the child"} | dict(relation)
    places = {a: "home" for a in homes}
    named_events: set[tuple[str, str]] = set()
    missing: set[str] = set()
    for f in findings:
        for fp in f.people:
            people.setdefault(fp.entity_id, f"{words(fp.role)} in a finding")
            if fp.role == "missing_person":
                missing.add(fp.entity_id)
        for a in f.addresses:
            places.setdefault(a.entity_id, f"{words(a.role)} in a finding")
        named_events |= {(e.agency, e.record_id) for e in f.events}
    # An event node's uid is made from its agency and record (graph.build.record_uid).
    events = sorted(n for n, (agency, rid) in ((record_uid("Event", source_key(*e)), e) for e in named_events)
                    if v.has(n) and v.label(n) == "Event"
                    and (v.props(n).get("agency"), v.props(n).get("record_id")) == (agency, rid))
    keep = set(people) | set(places) | set(events)
    nodes = []
    for n in sorted(keep):
        p = v.props(n) if v.has(n) else {}
        if n in people:
            flags = _flags(v, n) if v.has(n) else []
            badges = [BADGE_FLAGS[f] for f in flags if f in BADGE_FLAGS]
            if n in missing and "MISSING" not in badges:
                badges.append("MISSING")
            nodes.append({"id": n, "kind": "subject" if n == uid else "person", "label": p.get("name", n),
                          "child": v.is_child(n) if v.has(n) else False, "relation": people[n],
                          "dob": p.get("dob"), "age": _age(p.get("dob"), v.ref), "flags": flags, "badges": badges,
                          "records": list(p.get("members", []))})
        elif n in places:
            nodes.append({"id": n, "kind": "address", "label": p.get("name") or _finding_label(findings, n),
                          "relation": places[n], "address_kind": p.get("kind"),
                          "named_by_finding": any(a.entity_id == n for f in findings for a in f.addresses),
                          "records": list(p.get("members", []))})
        else:
            nodes.append({"id": n, "kind": "event", "label": words(p.get("type")),
                          "when": p.get("occurred_at", ""), "relation": "event in a finding",
                          "records": [f"{p.get('agency')}:{p.get('record_id')}"]})
    wanted = set(PERSON_LINKS) | set(PLACE_LINKS) | {"INVOLVED_IN", "OCCURRED_AT"}
    seen: set[tuple[str, str, str]] = set()
    edges = []
    among: list[tuple[Any, Any, dict[str, Any]]] = [
        (a, b, d) for a in sorted(keep) if v.has(a) for b, d in v.all_out(a) if b in keep]
    for a, b, d in sorted(among, key=lambda e: (e[0], e[1], e[2].get("uid", ""))):
        t = d[schema.TYPE_ATTR]
        if a != b and t in wanted and (a, b, t) not in seen:
            seen.add((a, b, t))
            label = words(d.get("role")) if t in ("INVOLVED_IN", "OCCURRED_AT") else LABELS.get(t, words(t))
            edges.append({"source": a, "target": b, "type": t, "label": label, "directed": t in DIRECTED})
    linked = {e["source"] for e in edges} | {e["target"] for e in edges}
    for f in findings:                      # a place the finding names but the graph does not join
        who = f.people[0].entity_id if f.people else uid
        for a in f.addresses:
            if a.entity_id not in linked and (who, a.entity_id, "FINDING") not in seen:
                seen.add((who, a.entity_id, "FINDING"))
                edges.append({"source": who, "target": a.entity_id, "type": "FINDING",
                              "label": words(a.role), "directed": True})
    return {"nodes": nodes, "edges": edges}


def _age(dob: str | None, ref: str) -> int | None:
    if not dob:
        return None
    (y, m, d), (ry, rm, rd) = (tuple(int(x) for x in s[:10].split("-")) for s in (dob, ref))
    return ry - y - ((rm, rd) < (m, d))


def _finding_label(findings: list[Finding], entity_id: str) -> str:
    return next((a.label for f in findings for a in f.addresses if a.entity_id == entity_id), entity_id)
