"""Loading extracts: accounting, rejects, idempotence, updates, withdrawals, atomicity."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kglink.loaders.extract import ExtractError, read_extract
from kglink.loaders.load import load_extracts
from kglink.workspace import open_workspace
from kglink.workspace.status import load_history, record_counts, rejects


def _snapshot(ws_path: Path) -> list[tuple]:
    conn = sqlite3.connect(ws_path / "kglink.sqlite")
    rows = []
    for table in ("loads", "records", "rejects", "meta"):
        rows += sorted((table,) + tuple(map(str, r)) for r in conn.execute(f"SELECT * FROM {table}"))
    conn.close()
    return rows


def test_every_column_is_cleaned_and_raw_kept(sample_dir: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, [sample_dir / "police"])
    rec = dict((k, d) for _, k, d in ws.records("person"))
    p1 = rec["P1"]
    assert (p1["forenames"], p1["surname"], p1["dob"]) == ("JON", "SMITH", "1985-04-03")
    assert p1["aliases"] == [{"forenames": "JOHNNY", "surname": "SMYTH"}, {"forenames": "J", "surname": "SMITH"}]
    assert p1["pnc_id"] == "2019/0123456A" and p1["phone"] == "07700900123"
    assert p1["extra"] == {"ethnicity": "W1"}            # unknown column kept
    p2 = rec["P2"]
    assert p2["nhs_number"] == "9434765919" and p2["nhs_number_valid"] and p2["sex"] == "F"
    assert p2["email"] == "amy@example.com"
    p4 = rec["P4"]
    assert p4["nhs_number"] is None and not p4["nhs_number_valid"]   # bad check digit
    assert p4["occupation"] == "teacher"
    raw = json.loads(ws.conn.execute(
        "SELECT raw FROM records WHERE kind='person' AND key='P4'").fetchone()[0])
    assert raw["nhs_number"] == "943 476 5918"              # the original kept beside it
    addr = dict((k, d) for _, k, d in ws.records("address"))
    assert addr["A1"]["postcode"] == "BH15 1AA" and addr["A1"]["postcode_valid"]
    assert addr["A3"]["postcode"] is None and not addr["A3"]["postcode_valid"]
    assert addr["A2"]["kind"] == "care_home" and addr["A3"]["kind"] == "residential"
    ev = dict((k, d) for _, k, d in ws.records("event"))
    assert ev["E2"]["occurred_at"] == "2026-10-12T03:00:00"
    assert ev["E2"]["attributes"] == {"detained_at": "2026-10-12T03:00:00",
                                      "appropriate_adult_arrived_at": "2026-10-12T23:00:00",
                                      "charged": True}
    assert ev["E1"]["risk"] == "high"


BAD_EXPECTED = {
    ("persons.csv", 3, "surname"), ("persons.csv", 4, "dob"), ("persons.csv", 5, "dob"),
    ("persons.csv", 6, "record_id"), ("persons.csv", 7, "record_id"), ("persons.csv", 8, "*"),
    ("addresses.csv", 3, "line1"),
    ("occupancies.csv", 3, "relation"), ("occupancies.csv", 4, "person_id"),
    ("occupancies.csv", 5, "person_id"), ("occupancies.csv", 6, "address_id"),
    ("events.csv", 3, "type"), ("events.csv", 4, "occurred_at"), ("events.csv", 5, "attributes"),
    ("events.csv", 6, "attributes"),
    ("event_people.csv", 3, "role"), ("event_people.csv", 4, "event_id"),
    ("flags.csv", 3, "flag"),
}


def test_bad_rows_are_set_aside_and_the_rest_loads(bad_dir: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    [report] = load_extracts(ws, [bad_dir / "police"])
    for f in report.files:
        assert f.read == f.loaded + len(f.rejects)
    got = {(r.file, r.row, r.column) for r in rejects(ws)}
    assert got == BAD_EXPECTED
    reasons = {(r.file, r.row): r.reason for r in rejects(ws)}
    assert reasons[("persons.csv", 4)] == "impossible date (no such day)"
    assert reasons[("persons.csv", 7)] == "duplicate of row 2"
    assert reasons[("occupancies.csv", 5)] == "refers to persons.csv row 3, which was rejected"
    assert reasons[("occupancies.csv", 4)] == "refers to no record in persons.csv"
    # Never the personal value itself.
    persons = (bad_dir / "police" / "persons.csv").read_text()
    for r in rejects(ws):
        for value in ("31/02/1990", "sometime", "Licate", "Worse", "yesterday"):
            assert value not in r.reason
    assert "Good" in persons


def test_reload_of_the_same_extract_changes_nothing(sample_dir: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    extracts = [sample_dir / "police", sample_dir / "childrens_social_care"]
    load_extracts(ws, extracts)
    before = _snapshot(ws.path)
    reports = load_extracts(ws, extracts)
    assert all(r.skipped_reason and r.load_id is None for r in reports)
    assert _snapshot(ws.path) == before


def test_newer_extract_updates_adds_and_withdraws(sample_dir: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    police = sample_dir / "police"
    load_extracts(ws, [police])
    newer = _newer_copy(police, tmp_path / "police-newer")
    lines = (newer / "persons.csv").read_text().splitlines()
    lines = [ln for ln in lines if not ln.startswith("P5,")]            # P5 gone
    lines = [ln.replace("Mark,JONES", "Marc,JONES") for ln in lines]   # P4 changed
    lines.append("P6,New,Person,2001-01-01,,,,,,,,,")                   # P6 added
    (newer / "persons.csv").write_text("\n".join(lines) + "\n")
    for name in ("occupancies.csv", "event_people.csv", "flags.csv"):
        f = newer / name
        f.write_text("\n".join(ln for ln in f.read_text().splitlines() if "P5" not in ln) + "\n")
    [rep] = load_extracts(ws, [newer])
    assert rep.added == 1 and rep.changed == 1
    status = {k: s for k, s in ws.conn.execute(
        "SELECT key, status FROM records WHERE kind='person'")}
    assert status == {"P1": "active", "P2": "active", "P3": "active", "P4": "active",
                      "P5": "withdrawn", "P6": "active"}
    assert dict((k, d) for _, k, d in ws.records("person"))["P4"]["forenames"] == "MARC"
    # P5's links are withdrawn too; nothing is deleted.
    assert ws.conn.execute("SELECT COUNT(*) FROM records WHERE status='withdrawn'").fetchone()[0] == 1 + 1 + 2 + 1
    assert [h["agency"] for h in load_history(ws)] == ["police", "police"]
    # An older extract after a newer one is refused.
    with pytest.raises(ExtractError, match="older than the one already loaded"):
        m = json.loads((newer / "manifest.json").read_text())
        m["extracted_at"] = "2026-11-20T00:00:00Z"
        (police / "manifest.json").write_text(json.dumps(m))
        load_extracts(ws, [police])


def test_injected_failure_mid_load_leaves_workspace_unchanged(sample_dir: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, [sample_dir / "childrens_social_care"])
    before = _snapshot(ws.path)

    def boom(n: int) -> None:
        raise RuntimeError("injected failure after the first extract")

    with pytest.raises(RuntimeError):
        load_extracts(ws, [sample_dir / "police"],
                      _after_extract=boom)
    assert _snapshot(ws.path) == before


def test_killed_process_mid_load_leaves_workspace_unchanged(sample_dir: Path, tmp_path: Path) -> None:
    """A process that dies (no cleanup at all) half-way through a load."""
    ws_path = tmp_path / "ws"
    ws = open_workspace(ws_path)
    load_extracts(ws, [sample_dir / "childrens_social_care"])
    ws.close()
    before = _snapshot(ws_path)
    script = f"""
import os
from pathlib import Path
from kglink.loaders.load import load_extracts
from kglink.workspace import open_workspace
ws = open_workspace({str(ws_path)!r})
load_extracts(ws, [Path({str(sample_dir / 'police')!r})], _after_extract=lambda n: os._exit(9))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == 9
    assert _snapshot(ws_path) == before
    assert record_counts(open_workspace(ws_path)) == record_counts(open_workspace(ws_path))


@pytest.mark.parametrize("breakage,message", [
    (lambda d: (d / "manifest.json").unlink(), "manifest.json is missing"),
    (lambda d: (d / "manifest.json").write_text("{not json"), "cannot be read"),
    (lambda d: (d / "manifest.json").write_text(json.dumps(
        {"format": "kglink-extract", "version": 2, "agency": "police", "extracted_at": "2026-01-01"})),
     "unknown format version"),
    (lambda d: (d / "persons.csv").write_bytes(b"record_id,surname\nP1,\xff\xfe\n"), "is not UTF-8"),
    (lambda d: (d / "persons.csv").write_text("record_id,forenames\nP1,Jon\n"), "has no column surname"),
    (lambda d: (d / "persons.csv").unlink(), "persons.csv is missing"),
])
def test_unreadable_extract_stops_everything(sample_dir: Path, tmp_path: Path, breakage, message) -> None:  # type: ignore[no-untyped-def]
    ws = open_workspace(tmp_path / "ws")
    before = _snapshot(ws.path)
    breakage(sample_dir / "police")
    with pytest.raises(ExtractError, match=message):
        load_extracts(ws, [sample_dir / "childrens_social_care", sample_dir / "police"])
    assert _snapshot(ws.path) == before


def test_read_extract_accounts_for_every_row(sample_dir: Path) -> None:
    ex = read_extract(sample_dir / "police")
    assert {f.name: (f.read, f.loaded) for f in ex.files}["persons.csv"] == (5, 5)
    assert os.path.basename(ex.path) == "police"


def test_hashes_made_another_way_are_made_again_once_and_nothing_reads_as_changed(
        sample_dir: Path, tmp_path: Path) -> None:
    """A workspace whose row hashes were made by an older kglink (the stdlib's json.dumps)
    has them made again on its next load: an unchanged row stays unchanged."""
    import hashlib

    from kglink.loaders.extract import ROW_HASH_FORMAT, ROW_HASH_KEY

    ws = open_workspace(tmp_path / "ws")
    police = sample_dir / "police"
    load_extracts(ws, [police])
    assert ws.get_meta(ROW_HASH_KEY) == ROW_HASH_FORMAT
    ours = dict(ws.conn.execute("SELECT key, content_hash FROM records"))

    def older(raw: str) -> str:
        text = json.dumps(json.loads(raw), sort_keys=True, ensure_ascii=False)
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    ws.conn.create_function("older_hash", 1, older)
    with ws.transaction() as c:
        c.execute("UPDATE records SET content_hash = older_hash(raw)")
        c.execute("DELETE FROM meta WHERE key = ?", (ROW_HASH_KEY,))
    assert dict(ws.conn.execute("SELECT key, content_hash FROM records")) != ours
    newer = _newer_copy(police, tmp_path / "police-newer")
    [rep] = load_extracts(ws, [newer])
    assert rep.changed == 0 and rep.added == 0 and rep.withdrawn == 0 and rep.unchanged > 0
    assert dict(ws.conn.execute("SELECT key, content_hash FROM records")) == ours
    assert ws.get_meta(ROW_HASH_KEY) == ROW_HASH_FORMAT


def test_rows_read_as_stored_are_not_validated_again_and_the_load_is_the_same(
        sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A newer extract: a row changed, one added, one gone, one now invalid (its unchanged
    links must be rejected with it). Loading it while skipping the rows stored already
    leaves the workspace exactly as validating every row does."""
    import kglink.loaders.extract as extract_mod

    police = sample_dir / "police"
    newer = _newer_copy(police, tmp_path / "police-newer")
    lines = (newer / "persons.csv").read_text().splitlines()
    lines = [ln for ln in lines if not ln.startswith("P5,")]             # gone
    lines = [ln.replace("Mark,JONES", "Marc,JONES") for ln in lines]    # changed
    lines = [ln.replace("2015-09-30", "2215-09-30") for ln in lines]    # P3 now invalid
    lines.append("P6,New,Person,2001-01-01,,,,,,,,,")                    # added
    (newer / "persons.csv").write_text("\n".join(lines) + "\n")

    real_validate = extract_mod._validate

    def loaded(name: str, skip: bool) -> tuple[list[tuple], list[tuple], int]:
        ws = open_workspace(tmp_path / name)
        load_extracts(ws, [police])
        if not skip:        # the validator told of no stored rows: every row validated
            monkeypatch.setattr(extract_mod.Validator, "look_up", lambda self, stored: None)
        validated = []
        monkeypatch.setattr(extract_mod, "_validate",
                            lambda spec, row: validated.append(1) or real_validate(spec, row))
        load_extracts(ws, [newer])
        monkeypatch.undo()
        ws.close()
        rows = [r for r in _snapshot(tmp_path / name) if r[0] != "loads"]
        loads = sqlite3.connect(tmp_path / name / "kglink.sqlite").execute(
            "SELECT agency, extracted_at, added, changed, withdrawn, unchanged, files FROM loads").fetchall()
        return rows, loads, len(validated)

    skipping, validating = loaded("a", True), loaded("b", False)
    assert skipping[:2] == validating[:2]
    assert any("which was rejected" in str(r) for r in skipping[0])     # P3's links with it
    assert skipping[2] < validating[2] / 3                              # most rows not validated


def test_rows_validated_over_several_processes_load_exactly_as_in_one(
        bad_dir: Path, county: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small batches, each validated over three processes when it holds ten rows to do:
    the same records, rejects (bad rows, references to rejected rows, duplicates) and counts
    as one process validating every row in turn."""
    import kglink.loaders.extract as extract_mod

    extracts = [bad_dir / "police", *sorted(p for p in county.iterdir() if (p / "manifest.json").exists())[:3]]
    # A newer extract of one of them, a row in 50 changed: its unchanged rows are hashed
    # here and not validated again, the changed ones validated over the processes.
    newer = _newer_copy(extracts[1], tmp_path / "newer")
    lines = (newer / "persons.csv").read_text().splitlines()
    (newer / "persons.csv").write_text("\n".join(
        ln.replace(",", ",X", 1) if i % 50 == 1 else ln for i, ln in enumerate(lines)) + "\n")
    monkeypatch.setattr(extract_mod, "BATCH", 997)
    monkeypatch.setattr(extract_mod, "PARALLEL_MIN", 10)

    def loaded(name: str, workers: str) -> tuple[list[tuple], list[tuple]]:
        monkeypatch.setenv("KGLINK_WORKERS", workers)
        ws = open_workspace(tmp_path / name)
        load_extracts(ws, extracts)
        load_extracts(ws, [newer])
        ws.close()
        loads = sqlite3.connect(tmp_path / name / "kglink.sqlite").execute(
            "SELECT agency, added, changed, withdrawn, unchanged, files FROM loads").fetchall()
        return [r for r in _snapshot(tmp_path / name) if r[0] != "loads"], loads

    one, several = loaded("one", "1"), loaded("several", "3")
    assert one == several
    assert one[1][-1][1:3] == (0, (len(lines) - 1) // 50 + 1)     # added, changed
    assert sum(r[0] == "records" for r in one[0]) > 10_000
    assert any(r[0] == "rejects" for r in one[0])


def _nights(extract: Path, tmp_path: Path) -> tuple[Path, Path, int]:
    """Two newer extracts of `extract`. The first: a person row in 40 changed, one in 97
    removed (its occupancies and relationships go with it: rejected as referring to no
    person), two added, one made invalid (a date of birth in the future: its links are
    rejected as referring to a rejected row), one row duplicated. The second, a day later:
    the first night's extract with the removed rows back as they were. Returns them and how
    many person rows the first changed."""
    import csv
    import io

    def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([header, *rows])
        path.write_text(buf.getvalue())

    night1 = _newer_copy(extract, tmp_path / "night1")
    with (night1 / "persons.csv").open(newline="") as fh:
        header, *body = list(csv.reader(fh))
    surname, dob = header.index("surname"), header.index("dob")
    removed = [row for i, row in enumerate(body) if i % 97 == 5]
    out = [row for i, row in enumerate(body) if i % 97 != 5]
    changed = 0
    for i, row in enumerate(out):
        if i % 40 == 3:
            row[surname] += "Z"
            changed += 1
    out[7][dob] = "2299-01-01"
    blank = [""] * len(header)
    added = [[*blank], [*blank]]
    for row, (rid, name) in zip(added, [("NEW0000001", "ADDED"), ("NEW0000002", "ALSO")]):
        row[header.index("record_id")], row[surname], row[dob] = rid, name, "2003-02-01"
    write(night1 / "persons.csv", header, [*out, out[10], *added])
    night2 = tmp_path / "night2"
    shutil.copytree(night1, night2)
    m = json.loads((night2 / "manifest.json").read_text())
    m["extracted_at"] = "2026-11-28T02:00:00Z"
    (night2 / "manifest.json").write_text(json.dumps(m))
    write(night2 / "persons.csv", header, [*out, out[10], *added, *removed])
    return night1, night2, changed


def test_next_nights_load_the_same_with_one_process_several_and_every_row_validated(
        county: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two next nights of one agency (rows changed, removed, added, bad, duplicated; then
    the removed rows back): the same records, rejects and counts whether the rows are
    validated in one process, over three, or every row validated (none recognised as
    stored); and the counts are what the extracts changed."""
    import kglink.loaders.extract as extract_mod

    police = county / "police"
    extracts = [*sorted(p for p in county.iterdir() if (p / "manifest.json").exists())[:2], police]
    night1, night2, changed = _nights(police, tmp_path)
    monkeypatch.setattr(extract_mod, "BATCH", 997)
    monkeypatch.setattr(extract_mod, "PARALLEL_MIN", 10)

    def loaded(name: str, workers: str, recognise: bool) -> tuple[list[tuple], list[tuple]]:
        monkeypatch.setenv("KGLINK_WORKERS", workers)
        ws = open_workspace(tmp_path / name)
        load_extracts(ws, extracts)
        with monkeypatch.context() as m:
            if not recognise:
                m.setattr(extract_mod.Validator, "look_up", lambda self, stored: None)
            load_extracts(ws, [night1])
            load_extracts(ws, [night2])
        ws.close()
        loads = sqlite3.connect(tmp_path / name / "kglink.sqlite").execute(
            "SELECT agency, added, changed, withdrawn, unchanged, files FROM loads").fetchall()
        return [r for r in _snapshot(tmp_path / name) if r[0] != "loads"], loads

    one = loaded("one", "1", True)
    assert loaded("several", "3", True) == one
    assert loaded("validated", "3", False) == one
    n_persons = len((police / "persons.csv").read_text().splitlines()) - 1
    n_removed = len(range(5, n_persons, 97))
    first, second = one[1][-2], one[1][-1]
    assert first[1:3] == (2, changed)               # added, changed
    assert first[3] > n_removed + 1                 # withdrawn: the removed, the invalid one, their links
    assert second[1] == second[3] == 0              # none added, none gone
    assert n_removed < second[2] < first[3]         # the removed and their links back, not the invalid
    rejects = [r for r in one[0] if r[0] == "rejects"]
    assert any("duplicate of row" in str(r) for r in rejects)
    assert any("which was rejected" in str(r) for r in rejects)
    assert any("refers to no record in persons.csv" in str(r) for r in rejects)


def test_rows_of_a_next_night_are_hashed_by_the_workers(
        county: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a next night every row is hashed to know whether it is stored: over the
    processes, not all in this one (it hashed every row of the agency's extract while the
    workers sat idle)."""
    import kglink.loaders.extract as extract_mod

    police = county / "police"
    night1, _, _ = _nights(police, tmp_path)
    monkeypatch.setattr(extract_mod, "BATCH", 997)
    monkeypatch.setattr(extract_mod, "PARALLEL_MIN", 10)
    monkeypatch.setenv("KGLINK_WORKERS", "3")
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, [police])
    here = os.getpid()
    hashed = []
    real = extract_mod.row_hash
    # Forked workers inherit the wrapper but count in their own memory: only this
    # process's rows are counted here.
    def counted(raw: bytes) -> str:
        if os.getpid() == here:
            hashed.append(1)
        return real(raw)
    monkeypatch.setattr(extract_mod, "row_hash", counted)
    [report] = load_extracts(ws, [night1])
    read = sum(f.read for f in report.files)
    assert report.unchanged > read / 2
    assert 0 < len(hashed) < read / 2


def _newer_copy(extract: Path, to: Path) -> Path:
    """A copy of `extract` whose manifest says it was taken later."""
    shutil.copytree(extract, to)
    m = json.loads((to / "manifest.json").read_text())
    m["extracted_at"] = "2026-11-27T02:00:00Z"
    (to / "manifest.json").write_text(json.dumps(m))
    return to


def _newer_police(sample_dir: Path) -> Path:
    """The police extract a day later with one person's phone number changed."""
    newer = sample_dir / "police_newer"
    shutil.copytree(sample_dir / "police", newer)
    m = json.loads((newer / "manifest.json").read_text())
    m["extracted_at"] = "2026-11-27T02:00:00Z"           # the sample's is the day before
    (newer / "manifest.json").write_text(json.dumps(m))
    text = (newer / "persons.csv").read_text()
    (newer / "persons.csv").write_text(text.replace("7700 900123", "7700 900999"))
    return newer


@pytest.mark.parametrize("workers", ["1", "2"])
def test_extracts_landing_in_a_thread_load_as_one_by_one(sample_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, workers: str) -> None:
    """With two cores an extract's new rows land in a thread while the next is read
    (loaders.load._Landing); one command loading three extracts, one of them a second of
    an agency, holds what loading them one command at a time does."""
    extracts = [sample_dir / "childrens_social_care", sample_dir / "police", _newer_police(sample_dir)]
    one_by_one = open_workspace(tmp_path / "one")
    alone = [load_extracts(one_by_one, [e])[0] for e in extracts]
    monkeypatch.setenv("KGLINK_WORKERS", workers)
    together = open_workspace(tmp_path / "together")
    reports = load_extracts(together, extracts)

    def counts(rs: list[Any]) -> list[tuple]:
        return [(r.agency, r.load_id, r.added, r.changed, r.withdrawn, r.unchanged) for r in rs]
    assert counts(reports) == counts(alone) and reports[-1].changed > 0

    def held(ws: Any) -> list[tuple]:
        return sorted(ws.conn.execute("SELECT * FROM records")) + sorted(ws.conn.execute("SELECT * FROM rejects"))
    assert held(together) == held(one_by_one) and len(held(together)) > 20


def test_rows_that_fail_to_land_roll_the_whole_load_back(sample_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from kglink.loaders import load

    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, [sample_dir / "childrens_social_care"])
    before = _snapshot(ws.path)
    monkeypatch.setenv("KGLINK_WORKERS", "2")
    monkeypatch.setattr(load._Landing, "_INSERT", "INSERT INTO no_such_table SELECT * FROM temp.landing")
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        load_extracts(ws, [sample_dir / "police", _newer_police(sample_dir)])
    assert _snapshot(ws.path) == before
