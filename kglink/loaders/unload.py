"""Withdraw a load that should not have happened: the workspace as if it had not been made.

Only an agency's latest load in force can be withdrawn (newest first), because each later
load was compared against it. Undoing it deletes the records it added, puts back every
record it changed or withdrew (kept in `superseded` when it was loaded), returns the
records an older kglink's load marked as seen unchanged to the load before (a load now
leaves those rows as they are), and drops its rejects. The loads row stays,
marked in `unloads`, so a load id is never used twice. The unload and its audit entry are
one transaction: both land or neither does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from kglink import audit
from kglink.errors import KglinkError
from kglink.loaders.load import LIVE, SUPERSEDED_COLUMNS, latest_load
from kglink.workspace import Workspace


class UnloadError(KglinkError):
    """The load cannot be withdrawn; the message says why and what to do."""


@dataclass(frozen=True)
class UnloadReport:
    agency: str
    load_id: int
    removed: int        # records the load had added
    restored: int       # records it had changed or withdrawn, put back as they were
    previous: int | None  # the agency's latest load in force now


def unload(ws: Workspace, agency: str, load_id: int, *, user: str,
           reason: str | None = None) -> UnloadReport:
    with ws.transaction() as conn:
        row = conn.execute("SELECT agency, changed, withdrawn FROM loads WHERE load_id = ?",
                           (load_id,)).fetchone()
        if row is None:
            raise UnloadError(f"there is no load {load_id}. See the load history with kglink status")
        if row[0] != agency:
            raise UnloadError(f"load {load_id} is a load of {row[0]}, not {agency}. "
                              "Check the agency and load number in kglink status")
        if conn.execute("SELECT 1 FROM unloads WHERE load_id = ?", (load_id,)).fetchone():
            raise UnloadError(f"load {load_id} of {agency} was already withdrawn. "
                              "See kglink audit --command unload")
        latest = latest_load(conn, agency)
        assert latest is not None
        if latest[0] != load_id:
            raise UnloadError(f"load {load_id} is not the latest load of {agency} (load {latest[0]} "
                              "is). Withdraw the later loads first, newest first")
        kept = conn.execute("SELECT COUNT(*) FROM superseded WHERE load_id = ?", (load_id,)).fetchone()[0]
        if kept != row[1] + row[2]:
            raise UnloadError(f"load {load_id} was made by a kglink that did not keep the records it "
                              "replaced, so it cannot be undone. Load a corrected extract of "
                              f"{agency} instead")
        previous = conn.execute(
            f"SELECT load_id FROM loads WHERE agency = ? AND load_id != ? AND {LIVE} "
            "ORDER BY extracted_at DESC, load_id DESC LIMIT 1", (agency, load_id)).fetchone()
        # What linkage kept of the addresses it added goes with them (kept for a changed
        # row, it no longer matches the row put back, and is made again).
        conn.execute("DELETE FROM prepared_addresses WHERE agency = ? AND key IN (SELECT key FROM records "
                     "WHERE kind = 'address' AND agency = ? AND first_load = ?)", (agency, agency, load_id))
        conn.execute("DELETE FROM prepared_persons WHERE agency = ?", (agency,))
        removed = conn.execute("DELETE FROM records WHERE agency = ? AND first_load = ?",
                               (agency, load_id)).rowcount
        conn.execute(f"INSERT OR REPLACE INTO records ({SUPERSEDED_COLUMNS}) "
                     f"SELECT {SUPERSEDED_COLUMNS} FROM superseded WHERE load_id = ?", (load_id,))
        # A load made by an older kglink set `last_load` of every row it saw unchanged to
        # its id: those go back to the load before, which saw them too (a load withdraws
        # what it does not see). A load by this kglink leaves such rows as they were.
        if previous is not None:
            conn.execute("UPDATE records SET last_load = ? WHERE agency = ? AND last_load = ?",
                         (previous[0], agency, load_id))
        conn.execute("DELETE FROM superseded WHERE load_id = ?", (load_id,))
        conn.execute("DELETE FROM rejects WHERE load_id = ?", (load_id,))
        conn.execute("INSERT INTO unloads (load_id, agency, unloaded_at, user, reason) VALUES (?,?,?,?,?)",
                     (load_id, agency, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      user, reason))
        report = UnloadReport(agency, load_id, removed, kept, previous[0] if previous else None)
        audit.record(ws, user, "unload", {"agency": agency, "load": load_id},
                     {"removed": removed, "restored": kept, "latest_load": report.previous}, reason)
    return report
