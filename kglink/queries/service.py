"""Findings as the commands want them: confirmed links first, then what review-queue
pairs would add, marked as resting on an unconfirmed link."""
from __future__ import annotations

from typing import Any

from kglink.queries.findings import Finding
from kglink.queries.runner import run_embedded, run_neo4j
from kglink.workspace import Workspace


def findings_for(ws: Workspace, neo4j: Any = None, names: list[str] | None = None,
                 params: dict[str, dict[str, Any]] | None = None) -> list[Finding]:
    if neo4j is not None:
        return run_neo4j(ws, neo4j, names, params)
    return run_embedded(ws, names, params)
