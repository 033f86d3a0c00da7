"""Apply validated extracts to the workspace, in one transaction for the whole command.

A newer extract of an agency updates changed records, adds new ones and marks the ones
it no longer holds as withdrawn. The same extract loaded again changes nothing.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from kglink.loaders.csvfile import open_regular
from kglink.loaders.parquetfile import parquet_row_count
from kglink.loaders.extract import (
    FILE_BY_NAME, FILES, ROW_HASH_FORMAT, ROW_HASH_KEY, Extract, ExtractError, FileResult, Stored,
    Validator, csv_name, extract_files, extract_folders, fingerprint, read_extract, read_manifest, row_hash, row_json,
)
from kglink.loaders.records import Manifest
from kglink.memory import gc_paused
from kglink.parallel import workers
from kglink.workspace import Workspace


@dataclass
class ExtractReport:
    agency: str
    path: Path
    load_id: int | None          # None when skipped as already loaded
    files: list[FileResult] = field(default_factory=list)
    added: int = 0
    changed: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    skipped_reason: str | None = None


ProgressFactory = Callable[[str, int], Callable[[int], None]]

def _holds(conn: sqlite3.Connection, kind: str, agency: str) -> bool:
    """Does the workspace hold any row of the agency's of this kind (active or withdrawn)?"""
    return conn.execute("SELECT 1 FROM records WHERE kind = ? AND agency = ? LIMIT 1",
                        (kind, agency)).fetchone() is not None


def _withdrawn(conn: sqlite3.Connection, kind: str, agency: str, keys: list[str]) -> set[str]:
    """Which of `keys` (none of them an active row's) the agency holds a withdrawn row of."""
    if not keys:
        return set()
    return {key for (key,) in conn.execute(
        "SELECT key FROM records WHERE kind = ? AND agency = ? AND key IN (SELECT value FROM json_each(?))",
        (kind, agency, orjson.dumps(keys).decode()))}


# The columns of `records`, in the order of the `superseded` table after its load_id.
SUPERSEDED_COLUMNS = ("kind, agency, key, status, content_hash, first_load, last_load, changed_load,"
                      " source_file, source_row, data, raw")


def count_rows(path: Path) -> int:
    """Rough total of data lines, for a progress bar."""
    total = 0
    for f in extract_files(path):
        if f.suffix == ".csv":
            with open_regular(f, binary=True) as fh:
                total += max(sum(1 for _ in fh) - 1, 0)
        elif f.suffix == ".parquet":
            total += parquet_row_count(f)
    return total


def load_extracts(ws: Workspace, paths: Sequence[Path], *,
                  progress: ProgressFactory | None = None,
                  _after_extract: Callable[[int], None] | None = None) -> list[ExtractReport]:
    """Validate and load extracts. All manifests are checked before anything is written,
    and all extracts land in one transaction: on any error the workspace is unchanged.
    A folder of extracts stands for the extracts in it (see extract_folders); each of its
    subfolders that is not an extract is reported as passed over."""
    paths, passed_over = extract_folders(paths)
    manifests = [(p, read_manifest(p)) for p in paths]
    order = sorted(range(len(paths)), key=lambda i: (manifests[i][1].extracted_at, str(paths[i])))
    reports = [ExtractReport("", p, None, skipped_reason="passed over: no manifest.json, so not an extract")
               for p in passed_over]
    # An extract's rows are millions of objects alive until written: the cyclic collector
    # walked them over and over for nothing (kglink.memory).
    # Rows are validated over the cores by worker processes made once (Validator).
    with gc_paused(), Validator() as validator, ws.transaction() as conn, _Landing(conn) as landing:
        if ws.get_meta(ROW_HASH_KEY) != ROW_HASH_FORMAT:
            rehash(conn)
            ws.set_meta(conn, ROW_HASH_KEY, ROW_HASH_FORMAT)
        plan = _plan(conn, *manifests[order[0]]) if order else None
        for n, i in enumerate(order):
            path, manifest = manifests[i]
            assert plan is not None
            same_bytes, same, stored = plan
            after = manifests[order[n + 1]] if n + 1 < len(order) else None
            if same:
                # The same bytes loaded before (by an earlier command, or earlier in this
                # one): nothing to read or change. Checked before reading, so a reload costs a hash.
                reports.append(ExtractReport(manifest.agency, path, None,
                                             skipped_reason=f"already loaded as load {same}; nothing changed"))
                landing.wait()
                plan = _plan(conn, *after) if after else None
                continue
            tick = progress(f"{manifest.agency} ({path.name})", count_rows(path)) if progress else None
            # Read and validated while the extract before lands (its new rows inserted
            # by the landing's thread): the connection is not used meanwhile.
            extract = read_extract(path, tick, stored, validator, same_bytes)
            landing.wait()
            reports.append(_apply(conn, extract, stored, landing))
            del stored
            for f in extract.files:     # written or staged: let go of them (gigabytes at a million)
                f.release_rows()
            del extract
            if after and after[1].agency == manifest.agency:
                # What the next one is compared with must have landed first.
                landing.start()
                landing.wait()
                plan = _plan(conn, *after)
            else:
                # The next extract's look-ups, before this one's rows land: the connection
                # is then the landing's until the next wait.
                plan = _plan(conn, *after) if after else None
                landing.start()
            if _after_extract is not None:
                _after_extract(n)
        landing.wait()
    return reports


def _plan(conn: sqlite3.Connection, path: Path, manifest: Manifest) -> tuple[str, int | None, Stored]:
    """What an extract is compared with before it is read: its fingerprint, the load of
    these bytes already there (None if none), and the agency's stored rows (_stored)."""
    same_bytes = fingerprint(path)
    same = conn.execute(f"SELECT load_id FROM loads WHERE agency = ? AND fingerprint = ? "
                        f"AND {LIVE}", (manifest.agency, same_bytes)).fetchone()
    return same_bytes, same[0] if same else None, {} if same else _stored(conn, manifest.agency)


class _Landing:
    """The new rows of an extract, staged in a temporary table and inserted into
    `records` by one INSERT ... SELECT in a thread of their own while the next extract
    is read and validated.

    SQLite works with Python's lock released during a statement, so one statement for
    the whole extract runs beside this process's Python work; a row at a time
    (executemany), each row waited for the lock again and the two took turns. Staging
    the rows costs this thread about half of inserting them itself: at 1M, 9.5 s against
    ~20 s (benchmarks/RESULTS.md, twenty-first session; the first load 85-90 s against
    90-100 s). Only the thread uses the connection between `start` and `wait`; the
    caller waits before its next statement. All of it is in the load's transaction: a
    failure rolls it back whole. With one core (`parallel.workers`), the rows land in
    the caller's thread at `start`."""

    _INSERT = ("INSERT INTO records (kind, agency, key, first_load, last_load, changed_load, status,"
               " content_hash, source_file, source_row, data, raw) SELECT kind, agency, key, first_load,"
               " last_load, changed_load, 'active', content_hash, source_file, source_row, data, raw"
               " FROM temp.landing ORDER BY rowid")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.apart = workers() > 1
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def stage(self, rows: list[tuple[Any, ...]]) -> None:
        """Rows for `records` (the order of _sort_rows' inserts), inserted at `start`."""
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS landing (kind, agency, key, first_load, last_load,"
                          " changed_load, content_hash, source_file, source_row, data, raw)")
        self.conn.executemany("INSERT INTO temp.landing VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)

    def start(self) -> None:
        if not self.apart:
            self._land()
            return
        self._thread = threading.Thread(target=self._land, name="kglink-load-landing", daemon=True)
        self._thread.start()

    def _land(self) -> None:
        try:
            self.conn.execute(self._INSERT)
            self.conn.execute("DELETE FROM temp.landing")
        except BaseException as e:  # noqa: BLE001 - raised in the caller's thread at wait()
            self._error = e

    def wait(self) -> None:
        """Until the staged rows have landed; their error, if any, raised here."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> _Landing:
        return self

    def __exit__(self, *exc: object) -> None:
        # Never leave the thread on the connection: the transaction ends after this.
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _stored_row_hash(raw: str) -> str:
    return row_hash(row_json(orjson.loads(raw)))


def rehash(conn: sqlite3.Connection) -> None:
    """Make every stored row's content hash again, in this kglink's format, from the row
    as read (`raw`). Done once, by the first load into a workspace whose hashes were made
    another way: otherwise every unchanged row of the agency would read as changed."""
    conn.create_function("kglink_row_hash", 1, _stored_row_hash, deterministic=True)
    for table in ("records", "superseded"):
        conn.execute(f"UPDATE {table} SET content_hash = kglink_row_hash(raw)")


# A load withdrawn by `kglink unload` keeps its row (ids are never reused) but counts for nothing.
LIVE = "load_id NOT IN (SELECT load_id FROM unloads)"


def latest_load(conn: sqlite3.Connection, agency: str) -> tuple[int, str, str] | None:
    """(load_id, extracted_at, fingerprint) of the agency's latest load still in force."""
    return conn.execute(
        f"SELECT load_id, extracted_at, fingerprint FROM loads WHERE agency = ? AND {LIVE} "
        "ORDER BY extracted_at DESC, load_id DESC LIMIT 1", (agency,)).fetchone()


def _stored(conn: sqlite3.Connection, agency: str) -> dict[str, dict[str, str]]:
    """For each kind, the content hash -> key of the agency's active rows: what
    read_extract need not validate again, and what _apply compares the extract with."""
    # By kind and agency, so that the table's key (kind, agency, key) finds the agency's
    # rows instead of a scan of every agency's (5 s of a 1M load, growing with each extract).
    return {f.kind: dict(conn.execute(
        "SELECT content_hash, key FROM records WHERE kind = ? AND agency = ? AND status = 'active'",
        (f.kind, agency))) for f in FILES}


def _sort_rows(conn: sqlite3.Connection, extract: Extract, stored: Stored,
               load_id: int) -> tuple[list[tuple], list[tuple], list[tuple], int]:
    """The rows to insert, the rows to update, the active rows to withdraw (each as its
    statement's parameters), and how many rows were read as stored."""
    agency = extract.agency
    inserts, updates, gone = [], [], []
    as_stored = 0
    by_kind = {FILE_BY_NAME[csv_name(f.name)].kind: f for f in extract.files}
    for spec in FILES:
        f = by_kind.get(spec.kind)
        rows, same = (f.rows, f.same) if f is not None else ([], [])
        known = stored.get(spec.kind, {})
        active = set(known.values())
        # Validated or not, a row with the hash of its key's active row is that row unchanged.
        fresh = [row for row in rows if known.get(row.content_hash) != row.key] if known else rows
        as_stored += len(same) + len(rows) - len(fresh)
        withdrawn = (_withdrawn(conn, spec.kind, agency, [row.key for row in fresh if row.key not in active])
                     if fresh and _holds(conn, spec.kind, agency) else set())
        for row in fresh:
            values = (row.content_hash, row.file, row.row, row.data, row.raw)
            if row.key in active or row.key in withdrawn:
                updates.append((load_id, load_id) + values + (row.kind, agency, row.key))
            else:
                inserts.append((row.kind, agency, row.key, load_id, load_id, load_id) + values)
        if active:
            active.difference_update(same)
            active.difference_update(row.key for row in rows)
            gone += [(load_id, spec.kind, agency, key) for key in sorted(active)]
    return inserts, updates, gone, as_stored


def _apply(conn: sqlite3.Connection, extract: Extract, stored: Stored, landing: _Landing) -> ExtractReport:
    """Write what the extract changes. A row read as stored (`FileResult.same`, or validated
    with the hash of its key's active row) is that row unchanged, and is not written: that
    this load saw it needs no mark, since a load withdraws every active row it does not see
    (so every active row was seen by its agency's latest load; docs/workspace-format.md).
    Marking them all seen in one statement was a third of the next night's load at 1M.
    The others are inserted, or update the row of their key (active with another hash, or
    withdrawn); the active rows not read are withdrawn, their `last_load` the load that
    last saw them (the agency's latest before this one). The new rows are staged in
    `landing`, to land when the caller starts it (_Landing)."""
    agency = extract.agency
    report = ExtractReport(agency, extract.path, None, extract.files)
    extracted_at = extract.manifest.extracted_at.isoformat()
    latest = latest_load(conn, agency)
    if latest and extracted_at < latest[1]:
        raise ExtractError(
            f"{extract.path}: this {agency} extract ({extracted_at}) is older than the one "
            f"already loaded ({latest[1]}). Load extracts of an agency in date order")
    cur = conn.execute(
        "INSERT INTO loads (agency, system, extracted_at, source, fingerprint, loaded_at, files,"
        " added, changed, withdrawn, unchanged) VALUES (?,?,?,?,?,?,?,0,0,0,0)",
        (agency, extract.manifest.system, extracted_at, str(extract.path.resolve()),
         extract.fingerprint, datetime.now(timezone.utc).isoformat(timespec="seconds"),
         json.dumps({f.name: {"read": f.read, "loaded": f.loaded, "rejected": len(f.rejects)}
                     for f in extract.files})))
    load_id = int(cur.lastrowid or 0)
    report.load_id = load_id
    inserts, updates, gone, as_stored = _sort_rows(conn, extract, stored, load_id)
    # In the table's key order: SQLite then appends to its B-tree rather than splitting
    # pages all over it (a fifth of the inserts' time at 100k).
    inserts.sort(key=lambda v: (v[0], v[2]))
    # Keep what this load replaces, so that `kglink unload` can put it back.
    conn.executemany(
        f"INSERT INTO superseded SELECT ?, {SUPERSEDED_COLUMNS} FROM records "
        "WHERE kind=? AND agency=? AND key=?",
        [(load_id, kind, agency, key) for *_, kind, agency, key in updates + gone])
    landing.stage(inserts)      # new keys only: they land after the statements below, at landing.start
    conn.executemany(
        "UPDATE records SET last_load=?, changed_load=?, status='active', content_hash=?,"
        " source_file=?, source_row=?, data=?, raw=? WHERE kind=? AND agency=? AND key=?", updates)
    # A row is withdrawn only if active, so the agency has a load before this one.
    seen_by = latest[0] if latest else load_id
    conn.executemany("UPDATE records SET status='withdrawn', changed_load=?, last_load=? "
                     "WHERE kind=? AND agency=? AND key=?",
                     [(load_id, seen_by, *where) for _, *where in gone])
    conn.executemany(
        "INSERT INTO rejects (load_id, agency, file, row, column, reason) VALUES (?,?,?,?,?,?)",
        [(load_id, agency, rj.file, rj.row, rj.column, rj.reason)
         for f in extract.files for rj in f.rejects])
    report.added, report.changed, report.withdrawn, report.unchanged = (
        len(inserts), len(updates), len(gone), as_stored)
    conn.execute("UPDATE loads SET added=?, changed=?, withdrawn=?, unchanged=? WHERE load_id=?",
                 (report.added, report.changed, report.withdrawn, report.unchanged, load_id))
    return report
