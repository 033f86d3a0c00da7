"""Issue 14 (trust), everything but loading: the audit chain and its order, append-only
decisions, linkage in one transaction, stale workspaces, nightly files, hostile output,
owner-only files and one-line errors. Every person here is synthetic."""
from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kglink.cli import app

runner = CliRunner()

# Values of the sample extract that are personal: none may be printed when the audit
# entry that should precede them could not be written.
PERSONAL = ("AMY", "OBRIEN", "1990-07-12", "9434765919", "SMITH", "LEAH", "2015-09-30", "High St")
# Hostile data (fixtures below): rich markup, an OSC 8 hyperlink, a screen-clearing CSI,
# a right-to-left override and formula cells.
OSC_LINK = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
HOSTILE_LINE1 = f"Flat 2 [/x] [bold red]14 High St {OSC_LINK} \x1b[2J\u202e"
FORMULA_ID = "=HYPERLINK(\"http://evil.example\")"


def kg(ws: Path, *args: str, user: str = "analyst"):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(ws), "--quiet", "--user", user, *args],
                         env={"COLUMNS": "200"})


def one_error_line(output: str) -> str:
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: ") and lines[0].endswith("."), output
    return lines[0]


@pytest.fixture
def hostile_dir(sample_dir: Path) -> Path:
    """The sample with hostile values in addresses, names and a record id."""
    addresses = sample_dir / "police" / "addresses.csv"
    with addresses.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    for row in rows:
        if row[0] == "A1":
            row[1] = HOSTILE_LINE1
        if row[0] == "A3":
            row[0] = FORMULA_ID         # an unreferenced address: its id becomes a formula
    with addresses.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    persons = sample_dir / "police" / "persons.csv"
    persons.write_text(persons.read_text(encoding="utf-8").replace(
        "Amy Louise", "[bold]Amy[/x] @SUM(1)"), encoding="utf-8")
    return sample_dir


@pytest.fixture
def hostile_ws(hostile_dir: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "hostile-ws"
    res = kg(ws, "load", str(hostile_dir / "police"), str(hostile_dir / "childrens_social_care"))
    assert res.exit_code == 0, res.output
    assert kg(ws, "link").exit_code == 0
    return ws


def _db(ws: Path) -> sqlite3.Connection:
    return sqlite3.connect(ws / "kglink.sqlite", isolation_level=None)


# ---- the audit chain ------------------------------------------------------------------

def _entries(ws: Path) -> None:
    for args in (("entity", "police:P1"), ("risks", "--format", "json"), ("explain", "police:P2",
                 "childrens_social_care:C11"), ("entity", "police:P2")):
        assert kg(ws, *args).exit_code == 0


def test_audit_verify_passes_on_an_untouched_log(linked: Path) -> None:
    _entries(linked)
    res = kg(linked, "audit", "--verify")
    assert res.exit_code == 0 and "audit log intact" in res.output and "newest hash" in res.output


@pytest.mark.parametrize("tamper, broken_at", [
    # a field changed in place (the trigger dropped first, as the tester did)
    (["DROP TRIGGER audit_no_update", "UPDATE audit SET user = 'someone-else' WHERE seq = 3"], 3),
    (["DROP TRIGGER audit_no_update", "UPDATE audit SET result = '{}' WHERE seq = 2"], 2),
    # an entry removed from the middle
    (["DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq = 3"], 4),
    # an entry replaced whole (INSERT OR REPLACE fires no DELETE trigger)
    (["INSERT OR REPLACE INTO audit (seq, at, user, os_user, command, request, result, reason,"
      " prev_hash, hash) SELECT seq, at, 'nobody', os_user, command, request, result, reason,"
      " prev_hash, hash FROM audit WHERE seq = 2"], 2),
    # an entry slipped in with no hash at all
    (["INSERT INTO audit (at, user, command, request, result) VALUES"
      " ('2026-01-01T00:00:00+00:00', 'x', 'entity', '{}', '{}')"], 6),
    # the newest entries cut off
    (["DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq >= 4"], 4),
])
def test_a_hand_edited_audit_table_fails_verify(linked: Path, tamper: list[str], broken_at: int) -> None:
    _entries(linked)           # entries 1 (link) .. 5
    conn = _db(linked)
    assert conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 5
    for stmt in tamper:
        conn.execute(stmt)
    conn.close()
    res = kg(linked, "audit", "--verify")
    assert res.exit_code == 2
    line = one_error_line(res.output)
    assert f"broken at entry {broken_at}" in line


def test_audit_keeps_the_os_user_beside_the_user_given(linked: Path) -> None:
    from kglink.audit import os_user

    kg(linked, "entity", "police:P1", user="claims-to-be-someone")
    row = _db(linked).execute("SELECT user, os_user FROM audit WHERE command = 'entity'").fetchone()
    assert row == ("claims-to-be-someone", os_user())
    assert os_user() in kg(linked, "audit").output


def _break_audit_writes(ws: Path) -> None:
    """A failure at the SQLite level: every insert into the audit table aborts."""
    _db(ws).execute("CREATE TRIGGER audit_broken BEFORE INSERT ON audit "
                    "BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END")


@pytest.mark.parametrize("args", [
    ("entity", "police:P2"),
    ("entity", "police:A1"),
    ("explain", "police:P2", "childrens_social_care:C11"),
    ("risks",),
    ("risks", "--format", "csv"),
    ("review", "--history", "police:P2", "childrens_social_care:C11"),
    ("profile", "police:P3", "--reason", "strategy meeting"),
])
def test_nothing_personal_is_shown_when_the_audit_entry_cannot_be_written(
        linked: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    _break_audit_writes(linked)
    before = _db(linked).execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    out = tmp_path / "packs"
    res = kg(linked, *args, *(("--out", str(out)) if args[0] == "profile" else ()))
    assert res.exit_code == 2
    line = one_error_line(res.output)
    assert "could not write the audit log" in line and "Nothing was shown" in line
    for value in PERSONAL:
        assert value.lower() not in res.output.lower()
    assert not out.exists() or not any(out.iterdir())      # no research pack written
    assert _db(linked).execute("SELECT COUNT(*) FROM audit").fetchone()[0] == before


def test_a_decision_is_not_kept_when_its_audit_entry_cannot_be_written(linked: Path) -> None:
    _break_audit_writes(linked)
    res = kg(linked, "review", "--decide", "police:P2", "childrens_social_care:C11", "different")
    assert res.exit_code == 2 and "could not write the audit log" in one_error_line(res.output)
    assert _db(linked).execute("SELECT COUNT(*) FROM decision_log").fetchone()[0] == 0


def test_export_writes_no_file_when_its_audit_entry_cannot_be_written(linked: Path, tmp_path: Path) -> None:
    _break_audit_writes(linked)
    out = tmp_path / "entities.csv"
    assert kg(linked, "export", "entities", "--out", str(out)).exit_code == 2
    assert not out.exists()


def _queued(ws: Path) -> int:
    from kglink.linkage.review import queue
    from kglink.workspace import open_workspace

    w = open_workspace(ws, create=False)
    try:
        return len(queue(w))
    finally:
        w.close()


def test_interactive_review_logs_each_pair_before_showing_it(linked: Path) -> None:
    assert _queued(linked) >= 1
    res = runner.invoke(app, ["--workspace", str(linked), "--user", "mash-1", "review",
                              "--interactive", "--limit", "1"], input="different\n", env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    conn = _db(linked)
    shown = conn.execute("SELECT request FROM audit WHERE command = 'review-show'").fetchall()
    decided = conn.execute("SELECT request FROM audit WHERE command = 'review'").fetchall()
    assert len(shown) == 1 and len(decided) == 1
    assert json.loads(decided[0][0])["decision"] == "different"
    assert {json.loads(shown[0][0])[k] for k in "ab"} == {json.loads(decided[0][0])[k] for k in "ab"}


def test_interactive_review_shows_nothing_when_the_audit_fails(linked: Path) -> None:
    assert _queued(linked) >= 1
    _break_audit_writes(linked)
    res = runner.invoke(app, ["--workspace", str(linked), "--user", "mash-1", "review",
                              "--interactive", "--limit", "1"], input="skip\n", env={"COLUMNS": "200"})
    assert res.exit_code == 2
    assert "could not write the audit log" in res.output
    for value in PERSONAL:
        assert value.lower() not in res.output.lower()


def test_refused_cypher_is_audited_before_anything_is_sent(linked: Path) -> None:
    # port 1: nothing listens there, so reaching the server would fail differently
    res = runner.invoke(app, ["--workspace", str(linked), "--quiet", "--neo4j", "bolt://127.0.0.1:1",
                              "cypher", "LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l"])
    assert res.exit_code == 2
    assert "LOAD is not allowed" in one_error_line(res.output) and "nothing was sent" in res.output
    req, result = _db(linked).execute(
        "SELECT request, result FROM audit WHERE command = 'cypher'").fetchone()
    assert "LOAD CSV" in json.loads(req)["statement"] and "refused" in json.loads(result)


def test_sync_is_audited_before_it_starts(linked: Path) -> None:
    res = runner.invoke(app, ["--workspace", str(linked), "--quiet", "--neo4j", "bolt://127.0.0.1:1", "sync"])
    assert res.exit_code == 2     # nothing listens: the attempt is still on record
    assert _db(linked).execute("SELECT COUNT(*) FROM audit WHERE command = 'sync'").fetchone()[0] == 1


# ---- decisions: append-only, the latest in force, with history ------------------------

def _same_entity(ws: Path, a: str, b: str) -> bool:
    from kglink.linkage.entities import entity_map
    from kglink.workspace import open_workspace

    w = open_workspace(ws, create=False)
    try:
        ents = entity_map(w, "person")
        return ents[a].entity_id == ents[b].entity_id
    finally:
        w.close()


def test_decisions_are_appended_and_the_latest_wins(linked: Path) -> None:
    a, b = "police:P2", "childrens_social_care:C11"
    assert _same_entity(linked, a, b)                        # the model links them
    assert kg(linked, "review", "--decide", a, b, "different", user="sw-1").exit_code == 0
    assert not _same_entity(linked, a, b)
    assert kg(linked, "review", "--decide", a, b, "same", user="sw-2").exit_code == 0
    assert _same_entity(linked, a, b)
    conn = _db(linked)
    log = conn.execute("SELECT decision, decided_by FROM decision_log ORDER BY seq").fetchall()
    assert log == [("different", "sw-1"), ("same", "sw-2")]
    assert conn.execute("SELECT decision FROM decisions").fetchall() == [("same",)]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE decision_log SET decision = 'different'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM decision_log")
    hist = kg(linked, "review", "--history", b, a)
    assert hist.exit_code == 0
    text = hist.output
    assert text.index("different") < text.index("same") and "sw-1" in text and "sw-2" in text


def test_load_decisions_reads_the_latest_decision_per_pair(linked: Path) -> None:
    from kglink.linkage.review import decide
    from kglink.linkage.store import load_decisions
    from kglink.workspace import open_workspace

    w = open_workspace(linked, create=False)
    decide(w, "police:P2", "childrens_social_care:C11", "same", "a")
    decide(w, "childrens_social_care:C11", "police:P2", "unsure", "b")
    decide(w, "police:P1", "police:P4", "different", "c")
    assert load_decisions(w, "person") == {("childrens_social_care:C11", "police:P2"): "unsure",
                                           ("police:P1", "police:P4"): "different"}
    w.close()


def test_a_workspace_from_before_append_only_decisions_keeps_them(linked: Path) -> None:
    """An older format-1 workspace: a `decisions` table and an audit table without the chain."""
    conn = _db(linked)
    conn.executescript("""
        DROP VIEW decisions; DROP TABLE decision_log;
        CREATE TABLE decisions (kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,
            decision TEXT NOT NULL, decided_by TEXT NOT NULL, decided_at TEXT NOT NULL, note TEXT,
            PRIMARY KEY (kind, a, b)) WITHOUT ROWID;
        INSERT INTO decisions VALUES ('person', 'childrens_social_care:C11', 'police:P2',
            'different', 'old-hand', '2025-01-01T00:00:00+00:00', NULL);
    """)
    conn.close()
    assert kg(linked, "link").exit_code == 0
    assert not _same_entity(linked, "police:P2", "childrens_social_care:C11")
    assert "old-hand" in kg(linked, "review", "--history", "police:P2", "childrens_social_care:C11").output


# ---- half-done work -------------------------------------------------------------------

def test_link_saves_addresses_and_persons_in_one_transaction(
        sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kglink.linkage import run
    from kglink.workspace import open_workspace

    ws_path = tmp_path / "ws"
    assert kg(ws_path, "load", str(sample_dir / "police"), str(sample_dir / "childrens_social_care")).exit_code == 0
    real = run.save_kind

    def killed_after_addresses(ws, kind, *args, **kwargs):  # type: ignore[no-untyped-def]
        if kind == "person":
            raise KeyboardInterrupt("killed between the two kinds")
        return real(ws, kind, *args, **kwargs)

    monkeypatch.setattr(run, "save_kind", killed_after_addresses)
    ws = open_workspace(ws_path, create=False)
    with pytest.raises(KeyboardInterrupt):
        run.link(ws)
    counts = ws.conn.execute("SELECT (SELECT COUNT(*) FROM entity_members), (SELECT COUNT(*) FROM links),"
                             " (SELECT COUNT(*) FROM link_features)").fetchone()
    assert counts == (0, 0, 0)
    assert ws.get_meta("linkage_run") is None and ws.get_meta("linked_loads") is None
    monkeypatch.setattr(run, "save_kind", real)
    run.link(ws)
    assert ws.conn.execute("SELECT COUNT(DISTINCT kind) FROM entity_members").fetchone()[0] == 2
    ws.close()


def test_risks_refuses_a_workspace_never_linked(sample_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kg(ws, "load", str(sample_dir / "police"))
    res = kg(ws, "risks")
    assert res.exit_code == 2 and "never been linked" in one_error_line(res.output)


def test_risks_refuses_a_link_older_than_the_last_load(sample_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kg(ws, "load", str(sample_dir / "police"))
    assert kg(ws, "link").exit_code == 0
    assert kg(ws, "risks", "--format", "json").exit_code == 0
    kg(ws, "load", str(sample_dir / "childrens_social_care"))
    res = kg(ws, "risks")
    assert res.exit_code == 2 and "linked before its latest load" in one_error_line(res.output)
    assert kg(ws, "link").exit_code == 0
    assert kg(ws, "risks", "--format", "json").exit_code == 0


def test_risks_refuses_a_link_older_than_an_unload(sample_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kg(ws, "load", str(sample_dir / "police"))
    kg(ws, "load", str(sample_dir / "childrens_social_care"))
    assert kg(ws, "link").exit_code == 0
    assert kg(ws, "unload", "childrens_social_care", "2", "--reason", "test extract").exit_code == 0
    res = kg(ws, "risks")
    assert res.exit_code == 2 and "linked before its latest load (or unload)" in one_error_line(res.output)


def test_unload_stops_in_one_line_when_its_audit_entry_cannot_be_written(sample_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kg(ws, "load", str(sample_dir / "police"))
    _break_audit_writes(ws)
    res = kg(ws, "unload", "police", "1")
    assert res.exit_code == 2 and "could not write the audit log" in one_error_line(res.output)
    assert _db(ws).execute("SELECT COUNT(*) FROM unloads").fetchone() == (0,)


def test_nightly_reports_a_broken_earlier_run_and_goes_on(sample_dir: Path, tmp_path: Path) -> None:
    ws, out = tmp_path / "ws", tmp_path / "reports"
    extracts = [str(sample_dir / "police"), str(sample_dir / "childrens_social_care")]
    assert kg(ws, "nightly", *extracts, "--out", str(out), "--date", "2026-11-26").exit_code == 0
    good = json.loads((out / "2026-11-26" / "findings.json").read_text())
    (out / "2026-11-27").mkdir()
    (out / "2026-11-27" / "findings.json").write_text('[{"id": "f_1", "query": "x", "summ')  # cut off
    res = kg(ws, "nightly", "--out", str(out), "--date", "2026-11-28")
    assert res.exit_code == 0, res.output
    assert "Warning: the run of 2026-11-27 left an unreadable" in " ".join(res.output.split())
    changes = json.loads((out / "2026-11-28" / "changes.json").read_text())
    assert changes["previous_run"] == "2026-11-26" and changes["warnings"]
    assert changes["new"] == [] and len(changes["still"]) == len(good)
    assert "unreadable" in (out / "2026-11-28" / "report.html").read_text()


def test_write_atomic_leaves_the_old_file_when_the_disk_fills(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from kglink import outputs

    target = tmp_path / "findings.json"
    outputs.write_atomic(target, "[1, 2, 3]")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs.os, "fsync", full)
    with pytest.raises(OSError):
        outputs.write_atomic(target, "[4, 5, 6, 7, 8" * 1000)
    assert target.read_text() == "[1, 2, 3]"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]   # no temporary left


def test_nightly_fails_cleanly_when_it_cannot_write(sample_dir: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from kglink import outputs

    ws, out = tmp_path / "ws", tmp_path / "reports"
    extracts = [str(sample_dir / "police"), str(sample_dir / "childrens_social_care")]

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs.os, "fsync", full)
    res = kg(ws, "nightly", *extracts, "--out", str(out), "--date", "2026-11-26")
    assert res.exit_code == 2 and "cannot write tonight's report" in one_error_line(res.output)
    assert not any(p.is_file() for p in (out / "2026-11-26").iterdir())
    monkeypatch.undo()
    assert kg(ws, "nightly", "--out", str(out), "--date", "2026-11-26").exit_code == 0


# ---- output: markup, control characters, formula cells, file modes ---------------------

def _no_raw_controls(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text


def test_hostile_values_neither_crash_nor_reach_the_terminal(hostile_ws: Path) -> None:
    for args in (("entity", "police:A1"), ("entity", "police:P2"), ("risks",),
                 ("risks", "--format", "csv"), ("risks", "--format", "json"), ("audit",),
                 ("explain", "police:P2", "childrens_social_care:C11"), ("review", "--list"),
                 ("status",), ("entity", f"police:{FORMULA_ID}")):
        res = kg(hostile_ws, *args)
        assert res.exit_code == 0, (args, res.output)
        _no_raw_controls(res.output)
    shown = kg(hostile_ws, "entity", "police:A1").output
    assert "[/x]" in shown and "[bold red]" in shown and "\\x1b]8;;http://evil.example/" in shown


def test_hostile_values_in_errors_are_escaped(hostile_ws: Path) -> None:
    res = kg(hostile_ws, "entity", "police:\x1b[2J[/x]")
    assert res.exit_code == 2
    line = one_error_line(res.output)
    _no_raw_controls(res.output)
    assert "\\x1b[2J[/x]" in line


def test_every_csv_written_neutralises_formula_cells(hostile_ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "entities.csv"
    assert kg(hostile_ws, "export", "entities", "--out", str(out)).exit_code == 0
    cells = [c for row in csv.reader(io.StringIO(out.read_text())) for c in row]
    assert "'" + FORMULA_ID in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    risks_csv = tmp_path / "risks.csv"
    assert kg(hostile_ws, "risks", "--format", "csv", "--out", str(risks_csv)).exit_code == 0
    cells = [c for row in csv.reader(io.StringIO(risks_csv.read_text())) for c in row]
    assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


@pytest.mark.parametrize("value, written", [
    ("=1+2", "'=1+2"), ("+44 7700 900123", "'+44 7700 900123"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-3", "-3"), ("+4.5", "+4.5"), ("police:P1", "police:P1"), ("", ""), (7, 7),
])
def test_csv_cell(value: object, written: object) -> None:
    from kglink.outputs import csv_cell

    assert csv_cell(value) == written


def test_findings_csv_neutralises_a_summary_from_the_data() -> None:
    from kglink.reports.findings import findings_csv
    from kglink.queries.findings import Finding

    f = Finding(id="f_1", query="q", severity="high", summary="=cmd|' /C calc'!A0", people=[],
                events=[], addresses=[], evidence=[])
    row = list(csv.reader(io.StringIO(findings_csv([f]))))[1]
    assert row[5] == "'=cmd|' /C calc'!A0"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_workspace_and_outputs_are_owner_only(sample_dir: Path, tmp_path: Path) -> None:
    ws, out, packs = tmp_path / "ws", tmp_path / "reports", tmp_path / "packs"
    extracts = [str(sample_dir / "police"), str(sample_dir / "childrens_social_care")]
    old = os.umask(0o022)      # a permissive umask, as on most systems
    try:
        assert kg(ws, "nightly", *extracts, "--out", str(out), "--date", "2026-11-26").exit_code == 0
        assert kg(ws, "profile", "police:P3", "--reason", "strategy meeting",
                  "--out", str(packs)).exit_code == 0
        assert kg(ws, "export", "entities", "--out", str(tmp_path / "e.csv")).exit_code == 0
        assert kg(ws, "risks", "--format", "json", "--out", str(tmp_path / "r.json")).exit_code == 0
    finally:
        os.umask(old)
    assert _mode(ws) == 0o700 and _mode(ws / "kglink.sqlite") == 0o600
    for folder in (out, out / "2026-11-26", packs):
        assert _mode(folder) == 0o700, folder
    written = [*(out / "2026-11-26").rglob("*"), *packs.iterdir(), tmp_path / "e.csv", tmp_path / "r.json",
               *ws.iterdir()]
    files = [p for p in written if p.is_file()]
    assert len(files) >= 9
    for f in files:
        assert _mode(f) == 0o600, f
    for d in (p for p in written if p.is_dir()):       # e.g. the nightly's packs/
        assert _mode(d) == 0o700, d


def test_open_workspace_alone_creates_it_owner_only(tmp_path: Path) -> None:
    from kglink.workspace import open_workspace

    old = os.umask(0o022)
    try:
        open_workspace(tmp_path / "lib-ws").close()
    finally:
        os.umask(old)
    assert _mode(tmp_path / "lib-ws") == 0o700 and _mode(tmp_path / "lib-ws" / "kglink.sqlite") == 0o600


def test_hostile_paths_in_messages_are_escaped(linked: Path, tmp_path: Path) -> None:
    out = tmp_path / "e\x1b[2J[bold]\u202e.csv"
    res = kg(linked, "export", "entities", "--out", str(out))
    assert res.exit_code == 0 and out.exists()
    _no_raw_controls(res.output)
    assert "e\\x1b[2J[bold]\\u202e.csv" in res.output
