"""`kglink unload AGENCY LOAD`: a load withdrawn leaves the workspace as if it had not been made."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kglink import audit
from kglink.cli import app
from kglink.loaders.extract import ExtractError
from kglink.loaders.load import ExtractReport, load_extracts
from kglink.loaders.unload import UnloadError, unload
from kglink.workspace import Workspace, open_workspace
from kglink.workspace.status import load_history, rejects

runner = CliRunner()


def kg(ws: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(ws), "--quiet", "--user", "analyst-1", *args])


def state(ws_path: Path) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """What a load leaves behind, apart from the withdrawn loads' own bookkeeping."""
    conn = sqlite3.connect(ws_path / "kglink.sqlite")
    live = "load_id NOT IN (SELECT load_id FROM unloads)"
    out = {
        "records": sorted(conn.execute("SELECT * FROM records")),
        "rejects": sorted(conn.execute("SELECT * FROM rejects")),
        "loads": sorted(conn.execute(f"SELECT * FROM loads WHERE {live}")),
        "superseded": sorted(conn.execute("SELECT * FROM superseded")),
    }
    conn.close()
    return out


def _newer(src: Path, dst: Path, extracted_at: str, edit) -> Path:  # type: ignore[no-untyped-def]
    shutil.copytree(src, dst)
    m = json.loads((dst / "manifest.json").read_text())
    m["extracted_at"] = extracted_at
    (dst / "manifest.json").write_text(json.dumps(m))
    edit(dst)
    return dst


def _drop_p5_change_p4_add_p6(d: Path) -> None:
    lines = (d / "persons.csv").read_text().splitlines()
    lines = [ln.replace("Mark,JONES", "Marc,JONES") for ln in lines if not ln.startswith("P5,")]
    lines.append("P6,New,Person,2001-01-01,,,,,,,,,")
    lines.append("P7,Bad,Date,2090-01-01,,,,,,,,,")          # a reject of this load
    (d / "persons.csv").write_text("\n".join(lines) + "\n")
    for name in ("occupancies.csv", "event_people.csv", "flags.csv"):
        f = d / name
        f.write_text("\n".join(ln for ln in f.read_text().splitlines() if "P5" not in ln) + "\n")


def test_unload_puts_back_exactly_what_the_load_changed(sample_dir: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    police = sample_dir / "police"
    load_extracts(ws, [police, sample_dir / "childrens_social_care"])
    after_first = state(ws.path)
    history = load_history(ws)
    newer = _newer(police, tmp_path / "police-2", "2026-11-27T02:00:00Z", _drop_p5_change_p4_add_p6)
    [rep] = load_extracts(ws, [newer])
    assert (rep.added, rep.changed) == (1, 1) and rep.withdrawn > 0
    assert state(ws.path) != after_first

    [first_police] = [h["load_id"] for h in history if h["agency"] == "police"]
    done = unload(ws, "police", rep.load_id, user="analyst-1", reason="test extract")
    assert (done.removed, done.restored, done.previous) == (1, 1 + rep.withdrawn, first_police)
    assert state(ws.path) == after_first
    assert load_history(ws) == history
    assert {r.load_id for r in rejects(ws, latest_only=True)} <= {h["load_id"] for h in history}
    [entry] = audit.entries(ws, command="unload")
    assert (entry.user, entry.request, entry.reason) == ("analyst-1", {"agency": "police", "load": rep.load_id},
                                                          "test extract")
    assert entry.result == {"removed": 1, "restored": 1 + rep.withdrawn, "latest_load": first_police}

    # The same extract may be loaded again: it was as if never loaded. A new load id.
    [again] = load_extracts(ws, [newer])
    assert again.skipped_reason is None and again.load_id == rep.load_id + 1
    assert (again.added, again.changed, again.withdrawn) == (rep.added, rep.changed, rep.withdrawn)


def test_unload_of_a_load_that_brought_records_back(sample_dir: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    police = sample_dir / "police"
    load_extracts(ws, [police])
    second = _newer(police, tmp_path / "police-2", "2026-11-27T02:00:00Z", _drop_p5_change_p4_add_p6)
    load_extracts(ws, [second])
    after_second = state(ws.path)
    third = _newer(police, tmp_path / "police-3", "2026-11-28T02:00:00Z", lambda d: None)  # P5 is back
    [rep] = load_extracts(ws, [third])
    assert ws.conn.execute("SELECT status FROM records WHERE kind='person' AND key='P5'").fetchone() == ("active",)
    unload(ws, "police", rep.load_id, user="u")
    assert state(ws.path) == after_second
    assert ws.conn.execute("SELECT status FROM records WHERE kind='person' AND key='P5'").fetchone() == ("withdrawn",)
    # newest first: load 2 may go now, then load 1; then nothing of police is left
    unload(ws, "police", 2, user="u")
    last = unload(ws, "police", 1, user="u")
    assert last.previous is None
    assert ws.conn.execute("SELECT COUNT(*) FROM records WHERE agency='police'").fetchone() == (0,)


def test_a_mistakenly_later_dated_load_withdrawn_lets_the_real_ones_in(sample_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    police = sample_dir / "police"
    assert kg(ws, "load", str(police)).exit_code == 0
    wrong = _newer(police, tmp_path / "police-wrong", "2026-12-03T02:00:00Z", lambda d: None)
    real = _newer(police, tmp_path / "police-real", "2026-11-28T02:00:00Z", _drop_p5_change_p4_add_p6)
    assert kg(ws, "load", str(wrong)).exit_code == 0            # load 2, dated after the real one
    refused = kg(ws, "load", str(real))
    assert refused.exit_code == 2 and "is older than the one already loaded" in refused.output

    res = kg(ws, "unload", "police", "2", "--reason", "dated wrongly")
    assert res.exit_code == 0, res.output
    assert res.output.strip() == ("police: load 2 withdrawn: 0 records removed, 0 put back as they were; "
                                  "load 1 is its latest now. Run kglink link next")
    accepted = kg(ws, "load", str(real))
    assert accepted.exit_code == 0 and "load 3:" in accepted.output
    status = runner.invoke(app, ["--workspace", str(ws), "status"], env={"COLUMNS": "200"})
    assert "loads withdrawn with kglink unload: 1" in status.output


@pytest.mark.parametrize("args,message", [
    (("police", "1"), "Error: load 1 is not the latest load of police (load 2 is). Withdraw the later "
                      "loads first, newest first. Nothing was changed."),
    (("childrens_social_care", "2"), "Error: load 2 is a load of police, not childrens_social_care. "
                                     "Check the agency and load number in kglink status. Nothing was changed."),
    (("police", "9"), "Error: there is no load 9. See the load history with kglink status. Nothing was changed."),
])
def test_unload_refusals_are_one_line_and_change_nothing(sample_dir: Path, tmp_path: Path,
                                                         args: tuple[str, str], message: str) -> None:
    ws = tmp_path / "ws"
    police = sample_dir / "police"
    kg(ws, "load", str(police))
    kg(ws, "load", str(_newer(police, tmp_path / "p2", "2026-11-27T02:00:00Z", _drop_p5_change_p4_add_p6)))
    before = state(ws)
    res = kg(ws, "unload", *args)
    assert res.exit_code == 2 and res.output.strip() == message
    assert state(ws) == before
    kg(ws, "unload", "police", "2")
    twice = kg(ws, "unload", "police", "2")
    assert twice.exit_code == 2 and "load 2 of police was already withdrawn" in twice.output


def test_unload_and_its_audit_entry_land_together(sample_dir: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, [sample_dir / "police"])
    before = state(ws.path)

    def broken(*a, **k):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(sqlite3.OperationalError):
        unload(ws, "police", 1, user="u")
    assert state(ws.path) == before
    assert ws.conn.execute("SELECT COUNT(*) FROM unloads").fetchone() == (0,)
    monkeypatch.undo()
    assert unload(ws, "police", 1, user="u").removed > 0
    with pytest.raises(UnloadError, match="already withdrawn"):
        unload(ws, "police", 1, user="u")


def test_older_extract_refusal_still_holds_without_unload(sample_dir: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    police = sample_dir / "police"
    load_extracts(ws, [_newer(police, tmp_path / "p2", "2026-11-27T02:00:00Z", lambda d: None)])
    with pytest.raises(ExtractError, match="older than the one already loaded"):
        load_extracts(ws, [police])


def _load_marks(ws_path: Path, key: str) -> tuple[str, int, int, int]:
    conn = sqlite3.connect(ws_path / "kglink.sqlite")
    row = conn.execute("SELECT status, first_load, last_load, changed_load FROM records "
                       "WHERE kind = 'person' AND agency = 'police' AND key = ?", (key,)).fetchone()
    conn.close()
    return row


def _two_police_loads(sample_dir: Path, tmp_path: Path) -> tuple[Workspace, ExtractReport, ExtractReport,
                                                                  dict[str, Any]]:
    """The sample's police extract, then a day newer without P5, P4 changed and P6 added:
    the workspace, both loads' reports and the state after the first."""
    ws = open_workspace(tmp_path / "ws")
    [first] = load_extracts(ws, [sample_dir / "police"])
    after_first = state(ws.path)
    [second] = load_extracts(ws, [_newer(sample_dir / "police", tmp_path / "p2", "2026-11-27T02:00:00Z",
                                         _drop_p5_change_p4_add_p6)])
    return ws, first, second, after_first


def test_a_next_night_leaves_its_unchanged_rows_unwritten_and_unloads_exactly(sample_dir: Path,
                                                                             tmp_path: Path) -> None:
    """A load does not mark the rows it saw unchanged (every active row was seen by its
    agency's latest load: docs/workspace-format.md); a withdrawn row's last_load is the load
    that last held it. Undoing the loads newest first gives back each state exactly."""
    ws, first, second, after_first = _two_police_loads(sample_dir, tmp_path)
    after_second = state(ws.path)
    one, two = first.load_id, second.load_id
    assert _load_marks(ws.path, "P1") == ("active", one, one, one)        # seen, unchanged
    assert _load_marks(ws.path, "P4") == ("active", one, two, two)        # changed
    assert _load_marks(ws.path, "P5") == ("withdrawn", one, one, two)     # last held by load 1
    assert _load_marks(ws.path, "P6") == ("active", two, two, two)        # added
    # The same rows a day later: all read as stored, none written.
    [third] = load_extracts(ws, [_newer(tmp_path / "p2", tmp_path / "p3", "2026-11-28T02:00:00Z",
                                        lambda d: None)])
    assert (third.added, third.changed, third.withdrawn) == (0, 0, 0)
    assert third.unchanged == second.added + second.changed + second.unchanged
    assert state(ws.path)["records"] == after_second["records"]
    unload(ws, "police", third.load_id, user="u")
    assert state(ws.path) == after_second
    unload(ws, "police", two, user="u")
    assert state(ws.path) == after_first


def test_a_workspace_loaded_by_an_older_kglink_loads_and_unloads_exactly(sample_dir: Path,
                                                                        tmp_path: Path) -> None:
    """An older kglink set last_load of every row a load saw unchanged to that load: such a
    workspace is loaded as any other, and unloading that older load still gives back
    exactly the state before it."""
    ws, first, second, after_first = _two_police_loads(sample_dir, tmp_path)
    # What the older kglink's load 2 left: every active row of police marked seen by it.
    with ws.transaction() as conn:
        marked = conn.execute("UPDATE records SET last_load = ? WHERE agency = 'police' "
                              "AND status = 'active' AND last_load != ?",
                              (second.load_id, second.load_id)).rowcount
    assert marked == second.unchanged > 0
    as_left = state(ws.path)
    [third] = load_extracts(ws, [_newer(sample_dir / "police", tmp_path / "p3", "2026-11-28T02:00:00Z",
                                        lambda d: None)])
    # P5 and its rows back, P4 as before, P6 gone
    assert (third.added, third.changed, third.withdrawn) == (0, second.withdrawn + 1, 1)
    assert _load_marks(ws.path, "P1") == ("active", first.load_id, second.load_id, first.load_id)
    assert _load_marks(ws.path, "P6")[:3] == ("withdrawn", second.load_id, second.load_id)
    unload(ws, "police", third.load_id, user="u")
    assert state(ws.path) == as_left
    unload(ws, "police", second.load_id, user="u")
    assert state(ws.path) == after_first
