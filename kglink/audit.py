"""The audit log: consultation, disclosure and combination of personal data (DPA 2018 s.62).

Append-only (triggers in the workspace refuse UPDATE and DELETE) and hash-chained: each
entry holds the hash of the entry before it and the hash of its own content, so an entry
changed, removed, replaced or slipped in by hand breaks the chain, and `verify` names the
first broken link. A chain without a secret can be recomputed by someone rewriting every
later entry: `verify` prints the newest hash so it can be noted outside the workspace.

An entry is written BEFORE anything it records is shown; a failure to write it raises
AuditError and the command stops. Entries hold ids and counts, never personal values.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kglink.errors import KglinkError
from kglink.workspace import Workspace

GENESIS = "0" * 64          # the "previous hash" of the first chained entry
_COLUMNS = "seq, at, user, os_user, command, request, result, reason, prev_hash, hash"


class AuditError(KglinkError):
    """The audit entry could not be written; nothing may be shown."""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    user: str
    command: str
    request: dict[str, Any]
    result: dict[str, Any]
    reason: str | None
    os_user: str | None = None
    prev_hash: str | None = None
    hash: str | None = None


@dataclass(frozen=True)
class Verification:
    entries: int                # entries checked
    unchained: int              # entries written before the chain began (no hash)
    broken_at: int | None       # seq of the first entry whose link is broken, or None
    problem: str | None
    head: str | None            # hash of the newest entry

    @property
    def ok(self) -> bool:
        return self.broken_at is None and self.problem is None


def os_user() -> str:
    """The operating-system account running kglink, kept beside the --user it was given."""
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")


def entry_hash(seq: int, at: str, user: str, osu: str | None, command: str, request: str,
               result: str, reason: str | None, prev_hash: str) -> str:
    """SHA-256 of an entry's content and the previous entry's hash (canonical JSON)."""
    content = json.dumps([seq, at, user, osu, command, request, result, reason, prev_hash],
                         ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(content.encode("ascii")).hexdigest()


def record(ws: Workspace, user: str, command: str, request: dict[str, Any],
           result: dict[str, Any], reason: str | None = None) -> int:
    """Append one entry (in its own transaction); returns its seq. Raises AuditError."""
    try:
        with ws.transaction() as c:
            return _append(c, user, command, request, result, reason)
    except sqlite3.Error as e:
        raise AuditError(
            f"could not write the audit log in {ws.path} ({e}). Nothing was shown; make the "
            "workspace writable (disk space, permissions) and run the command again") from None


def _append(c: sqlite3.Connection, user: str, command: str, request: dict[str, Any],
            result: dict[str, Any], reason: str | None) -> int:
    last = c.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    counter = c.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    seq = max(last[0] if last else 0, counter[0] if counter else 0) + 1
    prev = (last[1] if last and last[1] else GENESIS)
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    osu = os_user()
    req = json.dumps(request, sort_keys=True, default=str)
    res = json.dumps(result, sort_keys=True, default=str)
    digest = entry_hash(seq, at, user, osu, command, req, res, reason, prev)
    c.execute(f"INSERT INTO audit ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
              (seq, at, user, osu, command, req, res, reason, prev, digest))
    return seq


def verify(ws: Workspace) -> Verification:
    """Walk the chain from the first entry; report the first broken link."""
    prev: str | None = None
    n = unchained = 0
    last_seq = 0
    for seq, at, user, osu, command, req, res, reason, prev_hash, digest in ws.conn.execute(
            f"SELECT {_COLUMNS} FROM audit ORDER BY seq"):
        n += 1
        last_seq = seq
        if digest is None:
            if prev is not None:
                return Verification(n, unchained, seq, f"entry {seq} has no hash, after the chain began "
                                    "(added by hand)", prev)
            unchained += 1
            continue
        expected_prev = GENESIS if prev is None else prev
        if entry_hash(seq, at, user, osu, command, req, res, reason, prev_hash or "") != digest:
            return Verification(n, unchained, seq,
                                f"entry {seq} was changed after it was written", prev)
        if prev_hash != expected_prev:
            return Verification(n, unchained, seq,
                                f"the entry before {seq} was removed, replaced or inserted by hand",
                                prev)
        prev = digest
    counter = ws.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    if counter and counter[0] > last_seq:
        return Verification(n, unchained, last_seq + 1,
                            f"entries after {last_seq} (up to {counter[0]}) were removed", prev)
    return Verification(n, unchained, None, None, prev)


def entries(ws: Workspace, *, user: str | None = None, command: str | None = None,
            limit: int | None = None) -> list[AuditEntry]:
    sql = f"SELECT {_COLUMNS} FROM audit WHERE 1=1"
    params: list[Any] = []
    if user:
        sql += " AND (user = ? OR os_user = ?)"
        params += [user, user]
    if command:
        sql += " AND command = ?"
        params.append(command)
    sql += " ORDER BY seq DESC"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    rows = ws.conn.execute(sql, params).fetchall()
    return [AuditEntry(s, a, u, c, json.loads(q), json.loads(r), why, osu, ph, h)
            for s, a, u, osu, c, q, r, why, ph, h in reversed(rows)]
