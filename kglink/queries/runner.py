"""Run risk queries on either store and turn their rows into findings."""
from __future__ import annotations

from datetime import date, datetime
from types import ModuleType
from typing import Any

from kglink.queries import registry
from kglink.queries.base import QueryContext, Row
from kglink.queries.findings import (
    Evidence, Finding, FindingAddress, FindingEvent, FindingPerson, finding_id, normalise_row, refs,
)
from kglink.workspace import Workspace

_GRADES = ("very high", "high", "medium", "low", "red", "amber", "green", "standard")


def reference_date(ws: Workspace) -> date:
    """The newest extract's date: what "current" and "child" are judged against."""
    row = ws.conn.execute("SELECT MAX(extracted_at) FROM loads").fetchone()
    return datetime.fromisoformat(row[0]).date() if row and row[0] else date.today()


def _params(mod: ModuleType, overrides: dict[str, Any] | None) -> Any:
    return mod.Params(**(overrides or {}))


def run_embedded(ws: Workspace, names: list[str] | None = None,
                 params: dict[str, dict[str, Any]] | None = None,
                 reference: date | None = None) -> list[Finding]:
    """`reference`: the day "current" and "child" are judged on (default: reference_date)."""
    view = embedded_view(ws, reference)
    return run_on_view(view, view.ctx, names, params)


def embedded_view(ws: Workspace, reference: date | None = None) -> Any:
    """The stored graph, ready for the queries (rebuilt first if the workspace changed)."""
    from kglink.graph.embedded import load_compact
    from kglink.queries.view import View

    return View(load_compact(ws), QueryContext(reference or reference_date(ws)))


def run_on_view(view: Any, ctx: QueryContext, names: list[str] | None = None,
                params: dict[str, dict[str, Any]] | None = None) -> list[Finding]:
    """Run queries over an embedded graph view (the stored graph, or a what-if one)."""
    out: list[Finding] = []
    for name in names or sorted(registry.QUERIES):
        mod = registry.get(name)
        rows = mod.embedded(view, _params(mod, (params or {}).get(name)), ctx)
        out += to_findings(mod, rows, lambda uids: {u: view.props(u) for u in uids if view.has(u)},
                           as_of=ctx.reference_date)
    return out


def run_neo4j(ws: Workspace, settings: Any = None, names: list[str] | None = None,
              params: dict[str, dict[str, Any]] | None = None,
              reference: date | None = None) -> list[Finding]:
    from kglink.graph.neo4j_store import read_query

    ctx = QueryContext(reference or reference_date(ws))
    out: list[Finding] = []

    def lookup(uids: set[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        ids = sorted(uids)
        for label in ("Person", "Address", "Event"):
            for r in read_query(f"MATCH (n:{label}) WHERE n.uid IN $ids RETURN n", {"ids": ids}, settings):
                found[r["n"]["uid"]] = dict(r["n"])
        return found

    for name in names or sorted(registry.QUERIES):
        mod = registry.get(name)
        p = _params(mod, (params or {}).get(name))
        rows = read_query(mod.CYPHER, ctx.cypher_params() | p.model_dump(), settings)
        out += to_findings(mod, rows, lookup, as_of=ctx.reference_date)
    return out


def to_findings(mod: ModuleType, rows: list[Row], lookup: Any, as_of: date | None = None) -> list[Finding]:
    """`as_of`: the reference date, which a summary counting days back names (row["as_of"])."""
    rows = [normalise_row(r) | ({"as_of": as_of.isoformat()} if as_of else {}) for r in rows]
    uids = {u for r in rows for u, _ in r["people"]} | {u for r in rows for u, _ in r["addresses"]} \
        | {u for r in rows for u in r["events"]}
    props = lookup(uids) if uids else {}
    names = {u: str(p.get("name") or p.get("id") or u) for u, p in props.items()}
    findings = []
    for r in rows:
        grade = (r.get("grade") or "").lower()
        people = [FindingPerson(entity_id=u, name=names.get(u, u), role=role,
                                records=refs(props.get(u, {}).get("members")))
                  for u, role in r["people"]]
        events = []
        for u in r["events"]:
            e = props.get(u, {})
            events.append(FindingEvent(agency=str(e.get("agency", "")), record_id=str(e.get("record_id", "")),
                                       type=str(e.get("type", "")), occurred_at=str(e.get("occurred_at", ""))))
        addresses = [FindingAddress(entity_id=u, label=names.get(u, u), role=role,
                                    records=refs(props.get(u, {}).get("members")))
                     for u, role in r["addresses"]]
        findings.append(Finding(
            id=finding_id(mod.NAME, str(r["key"])), query=mod.NAME,
            severity=grade if grade in _GRADES else mod.SEVERITY,
            summary=mod.summary(r, names), people=people, events=events, addresses=addresses,
            evidence=[Evidence.from_fact(f) for f in r["facts"]], rank=r.get("rank"), role=r.get("role")))
    return sorted(findings, key=lambda f: (f.query, f.rank if f.rank is not None else 0, f.id))
