"""Entity membership lookups for the CLI and reports."""
from __future__ import annotations

from kglink.linkage.entities import entity_map, split_source_key
from kglink.workspace import Workspace


def record_summary(ws: Workspace, key: str) -> str:
    """A short description of a source record, for a person authorised to see it."""
    agency, rid = split_source_key(key)
    row = ws.conn.execute("SELECT kind, data FROM records WHERE agency=? AND key=? AND kind IN "
                          "('person','address')", (agency, rid)).fetchone()
    if not row:
        return "(not loaded)"
    import json

    d = json.loads(row[1])
    if row[0] == "person":
        bits = [f"{d['forenames']} {d['surname']}".strip(), d.get("dob") or "dob unknown"]
        bits += [f"{k}={d[k]}" for k in ("nhs_number", "pnc_id", "upn") if d.get(k)]
        if d.get("aliases"):
            bits.append("aka " + "; ".join(f"{a['forenames']} {a['surname']}".strip() for a in d["aliases"]))
        return ", ".join(bits)
    return ", ".join(x for x in (d["line1"], d.get("line2"), d.get("town"), d.get("postcode")) if x)


def entity_records(ws: Workspace, key: str) -> tuple[str, str, list[tuple[str, float, str]]] | None:
    for kind in ("person", "address"):
        ents = entity_map(ws, kind)
        if key in ents:
            eid = ents[key].entity_id
            rows = sorted((k, m.probability, record_summary(ws, k)) for k, m in ents.items()
                          if m.entity_id == eid)
            return kind, eid, rows
    return None


def all_memberships(ws: Workspace) -> list[tuple[str, str, str, str]]:
    """(entity_id, kind, agency, record_id): every loaded record exactly once."""
    out = []
    for kind in ("person", "address"):
        for key, m in sorted(entity_map(ws, kind).items()):
            agency, rid = split_source_key(key)
            out.append((m.entity_id, kind, agency, rid))
    return out
