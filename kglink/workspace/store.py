"""SQLite-backed workspace. Every write is one transaction: all of it lands, or none."""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from kglink.errors import KglinkError

FORMAT_VERSION = 1
CACHE_KIB = 128 * 1024
PAGE_SIZE = 16 * 1024
DB_NAME = "kglink.sqlite"
DEFAULT_WORKSPACE = "kglink-workspace"

# Indexes and tables added after format 1 was fixed: created on opening any format-1
# workspace (IF NOT EXISTS, so a no-op once there). They change no existing table, and a
# kglink that does not know them ignores them, so the format stays 1. (_upgrade also adds
# the audit chain's columns, and turns `decisions` into a view of decision_log.)
_ADDED_INDEXES = """
-- a record's links from either side (the primary key serves `a`; a research pack asks both)
CREATE INDEX IF NOT EXISTS links_b ON links (kind, b);
-- what a load replaced: each record it changed or withdrew, as it was before (`kglink unload`)
CREATE TABLE IF NOT EXISTS superseded (
    load_id INTEGER NOT NULL, kind TEXT NOT NULL, agency TEXT NOT NULL, key TEXT NOT NULL,
    status TEXT NOT NULL, content_hash TEXT NOT NULL,
    first_load INTEGER NOT NULL, last_load INTEGER NOT NULL, changed_load INTEGER NOT NULL,
    source_file TEXT NOT NULL, source_row INTEGER NOT NULL, data TEXT NOT NULL, raw TEXT NOT NULL,
    PRIMARY KEY (load_id, kind, agency, key)
) WITHOUT ROWID;
-- loads withdrawn by `kglink unload`; the loads row stays so that load ids are never reused
CREATE TABLE IF NOT EXISTS unloads (
    load_id INTEGER PRIMARY KEY, agency TEXT NOT NULL, unloaded_at TEXT NOT NULL,
    user TEXT NOT NULL, reason TEXT
);
-- Human decisions, append-only: a new decision on a pair is a new row; the current one
-- is the latest (the `decisions` view), and the history says who decided what, when.
-- (Before, `decisions` was a table written over: _upgrade moves its rows here.)
CREATE TABLE IF NOT EXISTS decision_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,   -- a < b
    decision TEXT NOT NULL,         -- same | different | unsure
    decided_by TEXT NOT NULL, os_user TEXT, decided_at TEXT NOT NULL, note TEXT
);
CREATE INDEX IF NOT EXISTS decision_log_pair ON decision_log (kind, a, b, seq);
CREATE TRIGGER IF NOT EXISTS decision_log_no_update BEFORE UPDATE ON decision_log
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS decision_log_no_delete BEFORE DELETE ON decision_log
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
-- each address record's prepared fields (kglink/linkage/prepare.py), as made from the row
-- of that content hash: a link prepares again only the rows that changed
CREATE TABLE IF NOT EXISTS prepared_addresses (
    agency TEXT NOT NULL, key TEXT NOT NULL,
    content_hash TEXT NOT NULL,     -- records.content_hash of the row they were made from
    fields TEXT NOT NULL,           -- JSON array, in ADDRESS_COLUMNS order
    PRIMARY KEY (agency, key)
) WITHOUT ROWID;
-- each agency's part of the person table (kglink/linkage/prepare.py, agency_parts): what
-- linkage prepares of its person records from its own records alone, as JSON; `stamp` names
-- the agency's loads and unloads and the code it was made by, and any other stamp makes it again
CREATE TABLE IF NOT EXISTS prepared_persons (
    agency TEXT PRIMARY KEY, stamp TEXT NOT NULL, part BLOB NOT NULL
) WITHOUT ROWID;
-- what keeps apart the two entities of each pair in conflict, as the link run found it
CREATE TABLE IF NOT EXISTS link_conflicts (
    kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,  -- the pair (links.status 'conflict')
    sides TEXT NOT NULL,            -- hash of the two entities' records the run saw
    found TEXT NOT NULL,            -- JSON: [[x, y, "rule:<name>"], ...], x of a's entity, y of b's
    PRIMARY KEY (kind, a, b)
) WITHOUT ROWID;
"""

_DECISIONS_VIEW = """
CREATE VIEW IF NOT EXISTS decisions AS
SELECT kind, a, b, decision, decided_by, decided_at, note FROM decision_log d
WHERE seq = (SELECT MAX(seq) FROM decision_log l WHERE l.kind = d.kind AND l.a = d.a AND l.b = d.b);
"""

# How long a command waits for another one's write transaction before giving up.
LOCK_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS loads (
    load_id INTEGER PRIMARY KEY,
    agency TEXT NOT NULL, system TEXT NOT NULL, extracted_at TEXT NOT NULL,
    source TEXT NOT NULL, fingerprint TEXT NOT NULL, loaded_at TEXT NOT NULL,
    files TEXT NOT NULL,            -- JSON: {file: {read, loaded, rejected}}
    added INTEGER NOT NULL, changed INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL, unchanged INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,             -- person, address, occupancy, relationship, event,
                                    -- event_person, event_address, flag
    agency TEXT NOT NULL,
    key TEXT NOT NULL,              -- record_id, or the defining fields of a link row
    status TEXT NOT NULL,           -- active | withdrawn
    content_hash TEXT NOT NULL,
    first_load INTEGER NOT NULL, last_load INTEGER NOT NULL, changed_load INTEGER NOT NULL,
    source_file TEXT NOT NULL, source_row INTEGER NOT NULL,
    data TEXT NOT NULL,             -- JSON: the cleaned record, plus "extra" columns
    raw TEXT NOT NULL,              -- JSON: the row exactly as read
    PRIMARY KEY (kind, agency, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_changed ON records (changed_load);
-- Linkage (written by `kglink link`, read by the graph builders).
CREATE TABLE IF NOT EXISTS entity_members (
    kind TEXT NOT NULL,             -- person | address
    agency TEXT NOT NULL, record_id TEXT NOT NULL,
    entity_id TEXT NOT NULL,        -- stable: kept across reruns while its members stay
    probability REAL NOT NULL,      -- confidence of this record's membership (1.0 alone)
    PRIMARY KEY (kind, agency, record_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entity_members_entity ON entity_members (entity_id);
CREATE TABLE IF NOT EXISTS links (
    kind TEXT NOT NULL,
    a TEXT NOT NULL, b TEXT NOT NULL,   -- "agency:record_id", a < b
    match_weight REAL NOT NULL, probability REAL NOT NULL,
    model_status TEXT NOT NULL,     -- link | review: the model and the evidence rules alone
    status TEXT NOT NULL,           -- link | review | conflict | same | different | unsure
    reason TEXT NOT NULL,           -- model | rule:<name> | conflict | human
    explanation TEXT NOT NULL,      -- JSON: the comparison levels that fired, with weights
    PRIMARY KEY (kind, a, b)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS link_features (
    kind TEXT NOT NULL, key TEXT NOT NULL,   -- source key
    hash TEXT NOT NULL,             -- of every prepared feature: changed -> relinked
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS models (
    kind TEXT PRIMARY KEY, trained_at TEXT NOT NULL,
    settings TEXT NOT NULL, parameters TEXT NOT NULL    -- JSON
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL,
    command TEXT NOT NULL, request TEXT NOT NULL, result TEXT NOT NULL, reason TEXT,
    os_user TEXT,                   -- the operating-system account, beside the --user given
    prev_hash TEXT, hash TEXT       -- the hash chain (kglink/audit.py); NULL before it began
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS rejects (
    load_id INTEGER NOT NULL, agency TEXT NOT NULL, file TEXT NOT NULL,
    row INTEGER NOT NULL, column TEXT NOT NULL, reason TEXT NOT NULL
);
"""


class WorkspaceError(KglinkError):
    """A workspace that cannot be used; the message says what to do."""


@dataclass
class Workspace:
    path: Path
    conn: sqlite3.Connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; any exception (or a killed process) rolls back.

        Inside another transaction it is a savepoint of that one: what it writes lands
        with the outer transaction or not at all (an unload and its audit entry)."""
        if self.conn.in_transaction:
            yield from _savepoint(self.conn)
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise _locked(self.path, e) from None
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def records(self, kind: str, *, active_only: bool = True) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(agency, key, data) of every record of a kind, in a stable order."""
        sql = "SELECT agency, key, data FROM records WHERE kind = ?"
        if active_only:
            sql += " AND status = 'active'"
        for agency, key, data in self.conn.execute(sql + " ORDER BY agency, key", (kind,)):
            yield agency, key, orjson.loads(data)   # orjson: ~4x faster at 1M records

    def record_keys(self, kind: str) -> Iterator[tuple[str, str]]:
        """(agency, key) of every active record of a kind, in the order of `records`,
        without decoding each record's data."""
        sql = "SELECT agency, key FROM records WHERE kind = ? AND status = 'active' ORDER BY agency, key"
        yield from self.conn.execute(sql, (kind,))

    def state_token(self) -> str:
        """Changes whenever anything the graph is built from changes."""
        row = self.conn.execute("SELECT COALESCE(MAX(load_id), 0) FROM loads").fetchone()
        unloads = self.conn.execute("SELECT COUNT(*) FROM unloads").fetchone()[0]
        token = f"loads={row[0]};linkage={self.get_meta('linkage_run') or 0}"
        return token + (f";unloads={unloads}" if unloads else "")


def _savepoint(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("SAVEPOINT kglink_nested")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK TO kglink_nested")
        conn.execute("RELEASE kglink_nested")
        raise
    else:
        conn.execute("RELEASE kglink_nested")


def _locked(root: Path, e: sqlite3.OperationalError) -> Exception:
    if "locked" not in str(e) and "busy" not in str(e):
        return e
    return WorkspaceError(
        f"the workspace at {root} is in use by another kglink command (waited "
        f"{LOCK_TIMEOUT_S:g} s for it to finish). Wait for that command to end and run this "
        "one again; if none is running, check that no other program has the workspace open")


def resolve_workspace_path(path: str | os.PathLike[str] | None) -> Path:
    if path is None:
        path = os.environ.get("KGLINK_WORKSPACE") or DEFAULT_WORKSPACE
    return Path(path)


def open_workspace(path: str | os.PathLike[str] | None = None, *, create: bool = True) -> Workspace:
    """Open (and with `create`, initialise) the workspace directory."""
    root = resolve_workspace_path(path)
    db = root / DB_NAME
    if not db.exists():
        if not create:
            raise WorkspaceError(
                f"no kglink workspace at {root}. Load an extract first (kglink load DIR) "
                "or pass --workspace"
            )
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
            root.chmod(0o700)   # owner-only: it holds personal data about children
        except OSError as e:
            raise WorkspaceError(f"cannot create the workspace folder {root} ({e.strerror}). "
                                 "Choose another with --workspace") from None
    new = not db.exists()
    # Usable from another thread: a load lands an extract's rows in a thread of its own
    # while the next is read (loaders.load._Landing), never two threads at once.
    conn = sqlite3.connect(db, isolation_level=None, timeout=LOCK_TIMEOUT_S, check_same_thread=False)
    if new:
        db.chmod(0o600)
    try:
        return _prepare(root, conn)
    except sqlite3.OperationalError as e:
        conn.close()
        raise _locked(root, e) from None


def _prepare(root: Path, conn: sqlite3.Connection) -> Workspace:
    # Pages of 16 KiB for a new workspace (SQLite's default is 4 KiB; an existing file keeps
    # its own): a record row is ~500 bytes of JSON, and committing 1M of them took 3.2 s
    # with 4 KiB pages and 1.4 s with 16 KiB here (benchmarks/RESULTS.md, eighteenth session).
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    # Up to 128 MB of page cache (SQLite's default is 2 MB): loads and linkage write
    # millions of rows under keys in no useful order, and every index is a B-tree.
    # Replacing 1M memberships took 21.3 s with the default and 11.8 s with this.
    conn.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
    ws = Workspace(root, conn)
    version = _format_version(conn)
    if version is None:
        # CREATE ... IF NOT EXISTS throughout, so a run interrupted here is simply redone.
        conn.executescript(_SCHEMA)
        with ws.transaction() as c:
            ws.set_meta(c, "format_version", str(FORMAT_VERSION))
    elif version != FORMAT_VERSION:
        conn.close()
        raise WorkspaceError(
            f"the workspace at {root} has format version {version}; this kglink reads "
            f"version {FORMAT_VERSION}. Use a matching kglink or a new workspace"
        )
    if not _up_to_date(conn):
        with ws.transaction() as c:
            _upgrade(c)
    return ws


def _up_to_date(conn: sqlite3.Connection) -> bool:
    names = dict(conn.execute("SELECT name, type FROM sqlite_master"))
    audit_cols = {r[1] for r in conn.execute("PRAGMA table_info(audit)")}
    return (names.get("decisions") == "view" and "decision_log_no_delete" in names
            and "links_b" in names and "unloads" in names and "superseded" in names
            and "link_conflicts" in names and "prepared_addresses" in names
            and "prepared_persons" in names
            and "hash" in audit_cols)


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring a format-1 workspace up to date in place (each step a no-op once done)."""
    for stmt in _ADDED_INDEXES.split(";\n"):
        if stmt.strip():
            conn.execute(stmt)
    have = {r[1] for r in conn.execute("PRAGMA table_info(audit)")}
    for col in ("os_user", "prev_hash", "hash"):
        if col not in have:
            conn.execute(f"ALTER TABLE audit ADD COLUMN {col} TEXT")
    kind = conn.execute("SELECT type FROM sqlite_master WHERE name = 'decisions'").fetchone()
    if kind and kind[0] == "table":    # before decisions were append-only: keep each one
        conn.execute("INSERT INTO decision_log (kind, a, b, decision, decided_by, decided_at, note)"
                     " SELECT kind, a, b, decision, decided_by, decided_at, note FROM decisions"
                     " ORDER BY decided_at, kind, a, b")
        conn.execute("DROP TABLE decisions")
    conn.execute(_DECISIONS_VIEW)


def _format_version(conn: sqlite3.Connection) -> int | None:
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
    ).fetchone()
    if not has_meta:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key='format_version'").fetchone()
    return int(row[0]) if row else None
