"""Hostile and broken input to the loader (issue 14). Every person here is synthetic.

The fixture tests/data/hostile/police holds, in persons.csv: U+2028, U+0085, a form feed
and a bare CR inside quoted values; an unclosed quote followed by six good rows; dates of
birth in 2090 and 1066; a row with two bad columns; one value too many and too few; and
properly escaped quotes. Its events.csv (CRLF line ends) holds a description full of
unicode line breaks before the attributes, an event ending before it starts and one in
2090. Files that git cannot hold (FIFOs, links, folders, huge values) are made per test.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kglink.cli import app
from kglink.loaders.csvfile import FIELD_SIZE_LIMIT, BadRow, Row, rows
from kglink.loaders.extract import ExtractError, read_extract
from kglink.loaders.load import load_extracts
from kglink.workspace import open_workspace
from kglink.workspace.status import rejects

HOSTILE = Path(__file__).parent / "data" / "hostile"
runner = CliRunner()


def kg(ws: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(ws), "--quiet", *args])


def snapshot(ws_path: Path) -> list[tuple]:  # type: ignore[type-arg]
    """Every row of every table the loader or unload writes (absent tables are empty)."""
    conn = sqlite3.connect(ws_path / "kglink.sqlite")
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    out = []
    for table in ("loads", "records", "rejects", "superseded", "unloads", "audit", "meta"):
        if table in have:
            out += sorted((table,) + tuple(map(str, r)) for r in conn.execute(f"SELECT * FROM {table}"))
    conn.close()
    return out


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    dst = tmp_path / "hostile"
    shutil.copytree(HOSTILE, dst)
    return dst / "police"


def _raw(ws, kind: str, key: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    row = ws.conn.execute("SELECT raw FROM records WHERE kind=? AND key=?", (kind, key)).fetchone()
    return json.loads(row[0])


# ---- rows: line breaks inside values, unclosed quotes, bad widths, dates --------------

def test_unicode_line_breaks_form_feed_and_cr_stay_inside_their_value(hostile: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, [hostile])
    assert _raw(ws, "person", "H1")["surname"] == "Lee\u2028Smith"
    assert _raw(ws, "person", "H2")["forenames"] == "Bo\u0085b"
    assert _raw(ws, "person", "H3")["forenames"] == "Cara\fBeth"
    assert _raw(ws, "person", "H4")["surname"] == "Gray\rHill"
    for key in ("H1", "H2", "H3", "H4"):      # every column of the row is there
        assert _raw(ws, "person", key)["dob"].startswith("198")
    e1 = dict((k, d) for _, k, d in ws.records("event"))["E1"]
    assert e1["description"] == "seen\u2028then\u0085left\ftown"
    assert e1["attributes"] == {"detained_at": "2026-10-12T03:00:00", "charged": True}


def test_every_row_is_loaded_or_rejected_once_with_all_its_bad_columns(hostile: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    [rep] = load_extracts(ws, [hostile])
    files = {f.name: f for f in rep.files}
    persons, events = files["persons.csv"], files["events.csv"]
    assert (persons.read, persons.loaded, len(persons.rejects)) == (17, 11, 6)
    assert (events.read, events.loaded, len(events.rejects)) == (4, 2, 2)
    got = {(r.file, r.row, r.column): r.reason for r in rejects(ws)}
    # H4's bare CR ends a physical line, so H5 starts on line 7.
    assert got == {
        ("persons.csv", 7, "*"): "unclosed quote: a quoted value from this line runs over "
                                 "lines that read as rows of their own",
        ("persons.csv", 14, "dob"): "date more than a day in the future",
        ("persons.csv", 15, "dob"): "date before 1900",
        ("persons.csv", 16, "surname, dob"): "surname: required value missing (no letters in the name); "
                                             "dob: impossible date (no such day)",
        ("persons.csv", 17, "*"): "more values (7) than header columns (6)",
        ("persons.csv", 18, "*"): "fewer values (3) than header columns (6)",
        ("events.csv", 3, "ended_at"): "ends before it starts (occurred_at)",
        ("events.csv", 4, "occurred_at"): "date more than a day in the future",
    }
    loaded = {k for _, k, _ in ws.records("person")}
    assert {"H6", "H7", "H8", "H9", "H10", "H11"} <= loaded      # not swallowed by H5's quote
    assert loaded == {"H1", "H2", "H3", "H4", "H6", "H7", "H8", "H9", "H10", "H11", "H17"}
    assert _raw(ws, "person", "H17")["surname"] == 'Ok "Quoted"'


def test_cli_counts_a_row_with_two_bad_columns_once(hostile: Path, tmp_path: Path) -> None:
    res = kg(tmp_path / "ws", "load", str(hostile))
    assert res.exit_code == 0, res.output
    assert "  persons.csv: 17 read = 11 loaded + 6 rejected" in res.output
    assert "  events.csv: 4 read = 2 loaded + 2 rejected" in res.output
    assert "8 rows set aside" in res.output


@pytest.mark.parametrize("text,expected", [
    # an unclosed quote swallowing to the end of the file: reported, the rows after it read
    ('a,b,c\n1,"x,y\n2,p,q\n3,r,s\n', [("bad", 2), ("row", 3), ("row", 4)]),
    # an unclosed quote closed by a stray quote on the very next row
    ('a,b,c\n1,"x,y\n2,p",q\n3,r,s\n', [("bad", 2), ("row", 3), ("row", 4)]),
    # the file ends inside a quoted value, nothing after it
    ('a,b,c\n1,2,"open\n', [("bad", 2)]),
    # text after a closing quote
    ('a,b,c\n1,"x"y,z\n2,p,q\n', [("bad", 2), ("row", 3)]),
    # a genuine multi-line value (its inner line is no row): one row
    ('a,b,c\n1,"line one\nline two",z\n2,p,q\n', [("row", 2), ("row", 4)]),
    # CR, CRLF and LF line ends, and a blank line, which is no row
    ('a,b,c\r\n1,"x\r\ny",z\r\n\r\n2,p,q\r3,r,s\n', [("row", 2), ("row", 5), ("row", 6)]),
    # too few and too many values
    ('a,b,c\n1,2\n1,2,3,4\n', [("bad", 2), ("bad", 3)]),
])
def test_rows_are_told_apart(text: str, expected: list[tuple[str, int]]) -> None:
    lines = text.splitlines(keepends=True)   # test input only: these lines have no U+2028
    got = [("row" if isinstance(r, Row) else "bad", r.line) for r in rows(lines, 3)]
    assert got == expected


def test_a_value_over_the_field_limit_is_a_row_error_and_the_rest_loads(sample_dir: Path, tmp_path: Path) -> None:
    police = sample_dir / "police"
    huge = "x" * (FIELD_SIZE_LIMIT + 1)
    lines = (police / "persons.csv").read_text().splitlines()
    header, first, rest = lines[0], lines[1], lines[2:]
    plain = rest[0].split(",")                    # P2: no quoted values
    # an over-long quoted value holding line breaks: reading resumes after its row
    long_row = ",".join(["PX", '"' + (huge[:500_000] + "\n") * 3 + '"', *plain[2:]])
    (police / "persons.csv").write_text("\n".join([header, first, long_row, *rest]) + "\n")
    ws = open_workspace(tmp_path / "ws")
    [rep] = load_extracts(ws, [police])
    persons = {f.name: f for f in rep.files}["persons.csv"]
    assert (persons.read, persons.loaded) == (len(rest) + 2, len(rest) + 1)
    [bad] = persons.rejects
    assert (bad.row, bad.column) == (3, "*")
    assert bad.reason == f"a value longer than {FIELD_SIZE_LIMIT:,} characters"
    loaded = {r[0] for r in ws.conn.execute("SELECT source_row FROM records WHERE kind = 'person'")}
    assert loaded == {2} | set(range(7, 7 + len(rest)))


# ---- files: header, non-regular files, links, manifests -------------------------------

def _refused(ws: Path, extract: Path, message: str) -> None:
    """A one-line error, exit 2, the workspace unchanged."""
    ws_handle = open_workspace(ws)
    ws_handle.close()
    before = snapshot(ws)
    res = kg(ws, "load", str(extract))
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], res.output
    assert lines[0].endswith("Nothing was loaded.")
    assert snapshot(ws) == before


def test_a_header_naming_a_column_twice_is_refused(sample_dir: Path, tmp_path: Path) -> None:
    f = sample_dir / "police" / "persons.csv"
    lines = f.read_text().splitlines()
    lines[0] += ",dob"
    f.write_text("\n".join(ln + "," for ln in lines) + "\n")
    _refused(tmp_path / "ws", sample_dir / "police", "has column dob twice in its header (columns 4 and 14)")


def test_a_folder_named_like_an_extract_file_is_refused(sample_dir: Path, tmp_path: Path) -> None:
    (sample_dir / "police" / "flags.csv").unlink()
    (sample_dir / "police" / "flags.csv").mkdir()
    _refused(tmp_path / "ws", sample_dir / "police", "flags.csv is a folder, not a file")


@pytest.mark.parametrize("name", ["events.csv", "manifest.json"])
def test_a_fifo_named_like_an_extract_file_is_refused_without_hanging(
        sample_dir: Path, tmp_path: Path, name: str) -> None:
    target = sample_dir / "police" / name
    target.unlink()
    os.mkfifo(target)
    ws = tmp_path / "ws"
    open_workspace(ws).close()
    before = snapshot(ws)
    # A separate process with a time limit: a hang fails the test instead of stopping the run.
    done = subprocess.run([sys.executable, "-m", "kglink.cli", "--workspace", str(ws), "--quiet",
                           "load", str(sample_dir / "police")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"Error: {target} is a named pipe, not a file. Replace it with the "
                                   "file or remove it. Nothing was loaded.")
    assert snapshot(ws) == before


def test_a_link_leaving_the_extract_folder_is_refused(sample_dir: Path, tmp_path: Path) -> None:
    police = sample_dir / "police"
    (police / "flags.csv").unlink()
    (police / "flags.csv").symlink_to(sample_dir / "childrens_social_care" / "flags.csv")
    _refused(tmp_path / "ws", police, "flags.csv is a link to a file outside the extract folder")


def test_a_link_inside_the_extract_folder_is_followed(sample_dir: Path, tmp_path: Path) -> None:
    police = sample_dir / "police"
    (police / "flags.csv").rename(police / "flags-2026-11.csv")
    (police / "flags.csv").symlink_to("flags-2026-11.csv")
    ex = read_extract(police)
    assert {f.name: f.loaded for f in ex.files}["flags.csv"] > 0


@pytest.mark.parametrize("content,message", [
    ("[" * 100_000 + "]" * 100_000, "is nested more than 32 levels deep"),
    ('{"format": "kglink-extract", "x": "' + "y" * (2 << 20) + '"}', "is larger than 1024 KiB"),
    ('{"a":' * 40 + "1" + "}" * 40, "is nested more than 32 levels deep"),
])
def test_a_deep_or_huge_manifest_is_a_one_line_error(sample_dir: Path, tmp_path: Path,
                                                      content: str, message: str) -> None:
    (sample_dir / "police" / "manifest.json").write_text(content)
    _refused(tmp_path / "ws", sample_dir / "police", message)


def test_an_extract_dated_in_the_future_is_refused(sample_dir: Path, tmp_path: Path) -> None:
    mf = sample_dir / "police" / "manifest.json"
    m = json.loads(mf.read_text())
    m["extracted_at"] = "2206-01-01T00:00:00Z"
    mf.write_text(json.dumps(m))
    _refused(tmp_path / "ws", sample_dir / "police",
             "manifest.json: extracted_at: date more than a day in the future. Fix the manifest")


def test_a_lock_held_too_long_is_a_one_line_error(sample_dir: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from kglink.workspace import store

    ws = tmp_path / "ws"
    open_workspace(ws).close()
    before = snapshot(ws)
    monkeypatch.setattr(store, "LOCK_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(ws / "kglink.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")           # another command writing, and not finishing
    try:
        res = kg(ws, "load", str(sample_dir / "police"))
    finally:
        holder.rollback()
        holder.close()
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"Error: the workspace at {ws} is in use by another kglink command (waited 0.2 s for it to "
        "finish). Wait for that command to end and run this one again; if none is running, check "
        "that no other program has the workspace open. Nothing was loaded.")
    assert snapshot(ws) == before


def test_not_utf8_and_an_unreadable_header_stop_the_load(sample_dir: Path, tmp_path: Path) -> None:
    (sample_dir / "police" / "events.csv").write_text('record_id,"type\nE1,incident\n')
    with pytest.raises(ExtractError, match="the header row .line 1. is not one complete CSV row"):
        read_extract(sample_dir / "police")


def test_deeply_nested_attributes_are_a_row_error(sample_dir: Path, tmp_path: Path) -> None:
    events = sample_dir / "police" / "events.csv"
    deep = '"' + "[" * 100_000 + "]" * 100_000 + '"'
    events.write_text(events.read_text() + f"E90,incident,2026-09-01T10:00,,,,,,{deep}\n"
                      + "E91,incident,2026-09-01T10:00,,,,,,\n")
    ex = read_extract(sample_dir / "police")
    ev = {f.name: f for f in ex.files}["events.csv"]
    [bad] = ev.rejects
    assert (bad.column, bad.reason) == ("attributes", "JSON nested more than 32 levels deep")
    assert "E91" in {r.key for r in ev.rows}


@pytest.mark.parametrize("attributes", [
    '{""count"": 123456789012345678901234567890}',        # beyond 64 bits
    '{""nested"": [1, {""x"": 1e999}]}',                  # infinity, deep inside
    '{""score"": NaN}',
])
def test_a_number_beyond_what_json_storage_holds_is_a_row_error_not_a_crash(
        sample_dir: Path, tmp_path: Path, attributes: str) -> None:
    events = sample_dir / "police" / "events.csv"
    events.write_text(events.read_text() + f'E90,incident,2026-09-01T10:00,,,,,,"{attributes}"\n'
                      + 'E91,incident,2026-09-01T10:00,,,,,,"{""count"": 9223372036854775807}"\n')
    ws = open_workspace(tmp_path / "ws")
    [report] = load_extracts(ws, [sample_dir / "police"])
    ev = {f.name: f for f in report.files}["events.csv"]
    [bad] = ev.rejects
    assert (bad.row, bad.column) == (len(events.read_text().splitlines()) - 1, "attributes")
    assert bad.reason == "attribute " + attributes.split('""')[1] + \
        ": a number out of range (beyond 64 bits, or not finite)"
    assert _raw(ws, "event", "E91")["record_id"] == "E91"         # the largest 64-bit one loads
