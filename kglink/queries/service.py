"""Findings as the commands want them, with the last full run kept in the workspace so a
research pack does not rerun every query over the whole county."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from kglink.memory import gc_paused
from kglink.queries.findings import Finding
from kglink.queries.runner import embedded_view, run_neo4j, run_on_view
from kglink.workspace import Workspace

_CACHE_KEY = "findings_cache"


class _Cache(BaseModel):
    """The stored findings: written and read back in one call each (pydantic's JSON), not
    a dict per finding (at 1M records the collector walked the graph in memory for them)."""
    tag: str
    findings: list[Finding]


def findings_for(ws: Workspace, neo4j: Any = None, names: list[str] | None = None,
                 params: dict[str, dict[str, Any]] | None = None,
                 unconfirmed: bool = True, view: Any = None) -> list[Finding]:
    """Findings on confirmed links; with `unconfirmed`, also those a queued pair would
    raise, marked as resting on an unconfirmed link (computed the same way for both stores).
    `view`: the embedded store's view (runner.embedded_view) if the caller holds it already."""
    from kglink.queries.unconfirmed import unconfirmed_findings

    # The collector paused: the graph in memory is millions of objects that live as long
    # as the queries do, and every full collection walked them for nothing (at 100k a
    # third of the CPU of the queries and the unconfirmed findings).
    with gc_paused():
        if neo4j is not None:
            found = run_neo4j(ws, neo4j, names, params)
        else:
            view = view if view is not None else embedded_view(ws)
            found = run_on_view(view, view.ctx, names, params)
        if unconfirmed:
            found = found + unconfirmed_findings(ws, found, names, params, view)
    if names is None and not params and unconfirmed:
        _store(ws, found, neo4j)
    return found


def _tag(ws: Workspace, neo4j: Any) -> str:
    return f"{ws.state_token()}|{'neo4j:' + neo4j.target if neo4j is not None else 'embedded'}"


def _store(ws: Workspace, found: list[Finding], neo4j: Any) -> None:
    with ws.transaction() as c:
        ws.set_meta(c, _CACHE_KEY, _Cache(tag=_tag(ws, neo4j), findings=found).model_dump_json())


def all_findings(ws: Workspace, neo4j: Any = None) -> list[Finding]:
    """Every finding of every query with default parameters; reused while nothing changed."""
    raw = ws.get_meta(_CACHE_KEY)
    if raw:
        try:
            cached = _Cache.model_validate_json(raw)
        except ValidationError:      # not a cache this kglink reads: found again
            cached = None
        if cached is not None and cached.tag == _tag(ws, neo4j):
            return cached.findings
    return findings_for(ws, neo4j)
