"""What the workspace holds: records per agency and kind, load history, rejects."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from kglink.workspace.store import Workspace


@dataclass(frozen=True)
class RejectRow:
    load_id: int
    agency: str
    file: str
    row: int
    column: str
    reason: str


def record_counts(ws: Workspace) -> list[tuple[str, str, int, int]]:
    """(agency, kind, active, withdrawn) per agency and kind."""
    return ws.conn.execute(
        "SELECT agency, kind, SUM(status='active'), SUM(status='withdrawn') FROM records "
        "GROUP BY agency, kind ORDER BY agency, kind").fetchall()


# Loads withdrawn by `kglink unload` are as if never made (their ids stay used).
_LIVE = "load_id NOT IN (SELECT load_id FROM unloads)"


def unloaded_count(ws: Workspace) -> int:
    return int(ws.conn.execute("SELECT COUNT(*) FROM unloads").fetchone()[0])


def load_history(ws: Workspace) -> list[dict[str, Any]]:
    """The loads in force, oldest first."""
    cols = ("load_id", "agency", "system", "extracted_at", "loaded_at", "files",
            "added", "changed", "withdrawn", "unchanged")
    out = []
    sql = f"SELECT {', '.join(cols)} FROM loads WHERE {_LIVE} ORDER BY load_id"
    for row in ws.conn.execute(sql):
        item = dict(zip(cols, row))
        item["files"] = json.loads(item["files"])
        item["rejected"] = sum(f["rejected"] for f in item["files"].values())
        out.append(item)
    return out


def rejects(ws: Workspace, *, agency: str | None = None, load_id: int | None = None,
            latest_only: bool = False) -> list[RejectRow]:
    sql = "SELECT load_id, agency, file, row, column, reason FROM rejects WHERE 1=1"
    params: list[Any] = []
    if agency:
        sql += " AND agency = ?"
        params.append(agency)
    if load_id is not None:
        sql += " AND load_id = ?"
        params.append(load_id)
    if latest_only:
        sql += f" AND load_id IN (SELECT MAX(load_id) FROM loads WHERE {_LIVE} GROUP BY agency)"
    sql += " ORDER BY load_id, file, row, column"
    return [RejectRow(*r) for r in ws.conn.execute(sql, params)]


def loads_token(conn: sqlite3.Connection) -> str:
    """Changes whenever a load is added or withdrawn (`kglink unload` keeps the loads row)."""
    n, last = conn.execute("SELECT COUNT(*), COALESCE(MAX(load_id), 0) FROM loads").fetchone()
    unloaded = conn.execute("SELECT COUNT(*) FROM unloads").fetchone()[0]
    return f"{n}:{last}:{unloaded}"


def link_problem(ws: Workspace) -> str | None:
    """Why findings from this workspace would be wrong, or None: never linked, or linked
    before its latest load (cross-agency matches missing or stale)."""
    if not ws.conn.execute("SELECT 1 FROM loads LIMIT 1").fetchone():
        return "the workspace holds no loaded extract. Load one (kglink load DIR), then run kglink link"
    linked = ws.get_meta("linked_loads")
    if ws.get_meta("linkage_run") is None:
        return ("the workspace has never been linked, so findings would miss every match "
                "across agencies. Run kglink link first")
    if linked is None:
        return ("the workspace was linked by an earlier kglink that did not note which loads "
                "it saw. Run kglink link first")
    if linked != loads_token(ws.conn):
        return ("the workspace was linked before its latest load (or unload), so findings would miss or "
                "misplace the new records. Run kglink link first")
    return None
