"""The audit log: consultation, disclosure and combination of personal data (DPA 2018 s.62).

Append-only (triggers in the workspace refuse UPDATE and DELETE). Entries hold ids and
counts, never personal values.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kglink.workspace import Workspace


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    user: str
    command: str
    request: dict[str, Any]
    result: dict[str, Any]
    reason: str | None


def record(ws: Workspace, user: str, command: str, request: dict[str, Any],
           result: dict[str, Any], reason: str | None = None) -> int:
    with ws.transaction() as c:
        cur = c.execute(
            "INSERT INTO audit (at, user, command, request, result, reason) VALUES (?,?,?,?,?,?)",
            (datetime.now(timezone.utc).isoformat(timespec="seconds"), user, command,
             json.dumps(request, sort_keys=True, default=str),
             json.dumps(result, sort_keys=True, default=str), reason))
        return int(cur.lastrowid or 0)


def entries(ws: Workspace, *, user: str | None = None, command: str | None = None,
            limit: int | None = None) -> list[AuditEntry]:
    sql = "SELECT seq, at, user, command, request, result, reason FROM audit WHERE 1=1"
    params: list[Any] = []
    if user:
        sql += " AND user = ?"
        params.append(user)
    if command:
        sql += " AND command = ?"
        params.append(command)
    sql += " ORDER BY seq DESC"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    rows = ws.conn.execute(sql, params).fetchall()
    return [AuditEntry(s, a, u, c, json.loads(q), json.loads(r), why)
            for s, a, u, c, q, r, why in reversed(rows)]
