"""What was last synced to each Neo4j database, kept in the workspace.

One row per (target, uid) with the item's content hash, so the next sync sends only what
changed. A target is `uri|database`. The bookkeeping is trusted only while the
database's `KglinkSync` node carries the same `sync_id` and says `complete`; otherwise
the next sync is a full one.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone
from operator import itemgetter
from typing import NamedTuple

from kglink.workspace import Workspace

_TABLES = """
CREATE TABLE IF NOT EXISTS graph_sync_targets (
    target TEXT PRIMARY KEY, sync_id TEXT NOT NULL, state_token TEXT NOT NULL,
    synced_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS graph_sync_items (
    target TEXT NOT NULL, uid TEXT NOT NULL,
    kind TEXT NOT NULL,        -- node label or relationship type
    is_rel INTEGER NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (target, uid)) WITHOUT ROWID;
"""


class Synced(NamedTuple):
    kind: str
    is_rel: bool
    hash: str


class TargetState(NamedTuple):
    sync_id: str
    state_token: str


def ensure_tables(ws: Workspace) -> None:
    ws.conn.executescript(_TABLES)


def target_state(ws: Workspace, target: str) -> TargetState | None:
    ensure_tables(ws)
    row = ws.conn.execute("SELECT sync_id, state_token FROM graph_sync_targets WHERE target = ?",
                          (target,)).fetchone()
    return TargetState(*row) if row else None


def synced_items(ws: Workspace, target: str) -> dict[str, Synced]:
    ensure_tables(ws)
    return {uid: Synced(kind, bool(is_rel), h) for uid, kind, is_rel, h in ws.conn.execute(
        "SELECT uid, kind, is_rel, hash FROM graph_sync_items WHERE target = ?", (target,))}


def record(ws: Workspace, target: str, state: TargetState, *, full: bool,
           upserts: Iterable[tuple[str, Synced]], deletes: Iterable[str]) -> None:
    """Write what the database now holds, in one workspace transaction.

    Rows go in uid order: the table is a B-tree on (target, uid) and relationship uids
    are hashes, so in stream order every insert lands on a random page. For the 7.3M
    items of a 1M-person full sync: 19 s sorted against 98 s shuffled."""
    ensure_tables(ws)
    with ws.transaction() as conn:
        if full:
            conn.execute("DELETE FROM graph_sync_items WHERE target = ?", (target,))
        conn.executemany("DELETE FROM graph_sync_items WHERE target = ? AND uid = ?",
                         ((target, uid) for uid in sorted(deletes)))
        conn.executemany(
            "INSERT OR REPLACE INTO graph_sync_items (target, uid, kind, is_rel, hash) "
            "VALUES (?,?,?,?,?)",
            ((target, uid, s.kind, int(s.is_rel), s.hash)
             for uid, s in sorted(upserts, key=itemgetter(0))))
        _set_target(conn, target, state)


def _set_target(conn: sqlite3.Connection, target: str, state: TargetState) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO graph_sync_targets (target, sync_id, state_token, synced_at) "
        "VALUES (?,?,?,?)",
        (target, state.sync_id, state.state_token,
         datetime.now(timezone.utc).isoformat(timespec="seconds")))


def forget(ws: Workspace, target: str | None = None) -> None:
    """Drop the bookkeeping (of one target, or all): the next sync will be a full one."""
    ensure_tables(ws)
    with ws.transaction() as conn:
        where, args = ("WHERE target = ?", (target,)) if target else ("", ())
        conn.execute(f"DELETE FROM graph_sync_items {where}", args)
        conn.execute(f"DELETE FROM graph_sync_targets {where}", args)
