"""Each agency's part of the person table kept between link runs: a newer extract of one
agency makes that agency's part again, and the table is the one made from every record.

A real workspace on disk (the synthetic county, every person in it invented) and the
police's newer extract with persons renamed, added and withdrawn, relationships and event
roles dropped and people moved home; the table made with the kept parts is compared with
one made from every record again.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

from conftest import later_extract

import orjson
import pytest

import kglink.linkage.prepare as prepare
from kglink.linkage.entities import entity_map
from kglink.linkage.prepare import Table, person_table
from kglink.linkage.settings import default_settings
from kglink.loaders.load import load_extracts
from kglink.loaders.unload import unload
from kglink.workspace import Workspace, open_workspace


def _rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0])
    rows = change(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def _newer_police(county: Path, dst: Path) -> Path:
    """The police's next extract: every 50th person's surname changed, every 97th
    withdrawn, one new; every 20th relationship and 25th event role dropped; every 30th
    occupancy moved to another address of the extract."""
    out = later_extract(county / "police", dst)

    def persons(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for i, r in enumerate(rows):
            if i % 50 == 3:
                r["surname"] += "E"
        return [r for i, r in enumerate(rows) if i % 97 != 5] + [{**rows[0], "record_id": "NEW-PERSON-1"}]

    def occupancies(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for i, r in enumerate(rows):
            if i % 30 == 11:
                r["address_id"] = rows[(i + 7) % len(rows)]["address_id"]
        return rows

    def every_but(n: int):  # type: ignore[no-untyped-def]
        return lambda rows: [r for i, r in enumerate(rows) if i % n != 1]
    _rewrite(out / "persons.csv", persons)
    _rewrite(out / "occupancies.csv", occupancies)
    _rewrite(out / "relationships.csv", every_but(20))
    _rewrite(out / "event_people.csv", every_but(25))
    return out


def _table(ws: Workspace, keep: bool = False) -> Table:
    return person_table(ws, entity_map(ws, "address"), default_settings("person").crowded_address_people,
                        keep=keep)


def _fresh(ws: Workspace) -> Table:
    """The table made from every record: no part kept (the kept parts put back after)."""
    with ws.transaction() as c:
        kept = c.execute("SELECT agency, stamp, part FROM prepared_persons").fetchall()
        c.execute("DELETE FROM prepared_persons")
    try:
        return _table(ws)
    finally:
        with ws.transaction() as c:
            c.executemany("INSERT INTO prepared_persons (agency, stamp, part) VALUES (?,?,?)", kept)


def _same(a: Table, b: Table) -> None:
    assert a.keys == b.keys
    assert set(a.cols) == set(b.cols) and set(a.multi) == set(b.multi)
    for c in a.cols:
        assert a.cols[c].tolist() == b.cols[c].tolist(), c
    for c in a.multi:
        assert a.multi[c] == b.multi[c], c
    assert a.fingerprints() == b.fingerprints()


@pytest.fixture
def newer(county: Path, county_ws: Workspace, tmp_path: Path) -> Workspace:
    """A copy of the linked county (its link kept every agency's part), with the police's
    newer extract loaded."""
    ws = open_workspace(tmp_path / "ws")
    county_ws.conn.backup(ws.conn)
    assert {a for (a,) in ws.conn.execute("SELECT agency FROM prepared_persons")} == {
        a for (a,) in ws.conn.execute("SELECT DISTINCT agency FROM records WHERE kind = 'person'")}
    load_extracts(ws, [_newer_police(county, tmp_path / "newer")])
    return ws


def _made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The agencies whose parts are made from their records from now on."""
    made: list[str] = []
    real = prepare._made_part

    def counted(ws: Workspace, agency: str) -> prepare._AgencyPart:
        made.append(agency)
        return real(ws, agency)
    monkeypatch.setattr(prepare, "_made_part", counted)
    return made


def test_the_newer_agencys_part_alone_is_made_and_the_table_is_made_from_every_record(
        newer: Workspace, county_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _table(county_ws)             # before police's newer extract
    made = _made(monkeypatch)
    with newer.transaction():
        kept = _table(newer, keep=True)
    assert made == ["police"]
    fresh = _fresh(newer)
    assert made == ["police"] + sorted(set(made[1:]))      # ... then every agency, fresh
    _same(kept, fresh)
    # The extract's changes reach the table (the test above is not met by a part as it was).
    assert "police:NEW-PERSON-1" in kept.keys and "police:NEW-PERSON-1" not in before.keys
    renamed = [k for k in kept.keys if k.startswith("police:") and k in before.index()
               and kept.cols["surname"][kept.index()[k]] == before.cols["surname"][before.index()[k]] + "E"]
    assert len(renamed) > 10
    # ... and police's new part is kept for the next run, which makes none.
    made.clear()
    with newer.transaction():
        _same(_table(newer, keep=True), kept)
    assert made == []


def test_the_kept_part_is_read_where_its_agency_is_unchanged(newer: Workspace) -> None:
    """The shortcut is taken (so the test above is not met by making every part): a
    kept value in health's part is what the table holds."""
    with newer.transaction() as c:
        stamp, text = c.execute("SELECT stamp, part FROM prepared_persons WHERE agency = 'health'").fetchone()
        part = orjson.loads(text)
        part["cols"]["surname"][0] = "KEPT"
        c.execute("UPDATE prepared_persons SET part = ? WHERE agency = 'health'", (orjson.dumps(part),))
    t = _table(newer)
    assert t.cols["surname"][t.index()[part["keys"][0]]] == "KEPT"


def test_parts_made_by_other_code_are_made_again(newer: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with newer.transaction():
        _table(newer, keep=True)
    monkeypatch.setattr(prepare, "_parts_code", lambda: "another kglink")
    made = _made(monkeypatch)
    with newer.transaction():
        t = _table(newer, keep=True)
    assert sorted(made) == sorted(a for (a,) in newer.conn.execute("SELECT agency FROM prepared_persons"))
    assert all(s.startswith("another kglink|") for (s,) in newer.conn.execute("SELECT stamp FROM prepared_persons"))
    monkeypatch.undo()
    _same(t, _fresh(newer))


def test_an_unloaded_agencys_part_is_made_again(newer: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with newer.transaction():
        _table(newer, keep=True)
    load_id = newer.conn.execute("SELECT MAX(load_id) FROM loads WHERE agency = 'police'").fetchone()[0]
    unload(newer, "police", load_id, user="tester", reason="test extract")
    assert newer.conn.execute("SELECT COUNT(*) FROM prepared_persons WHERE agency = 'police'").fetchone()[0] == 0
    made = _made(monkeypatch)
    with newer.transaction():
        t = _table(newer, keep=True)
    assert made == ["police"]
    assert "police:NEW-PERSON-1" not in t.keys
    _same(t, _fresh(newer))


def test_a_part_under_another_stamp_of_its_agency_is_made_again(
        newer: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stamp names the agency's loads and unloads: a part kept under another (its
    records changed since) is made again, even where its row was not cleared."""
    with newer.transaction() as c:
        _table(newer, keep=True)
        c.execute("UPDATE prepared_persons SET stamp = stamp || 'x' WHERE agency = 'education'")
    made = _made(monkeypatch)
    _table(newer)
    assert made == ["education"]


@pytest.mark.parametrize("garbled", [b"{not json", b'{"agency": "health"}', b"[]"])
def test_a_garbled_part_is_made_again(newer: Workspace, monkeypatch: pytest.MonkeyPatch, garbled: bytes) -> None:
    """A kept part that cannot be read as its agency's (garbled, cut off) does not stop
    the link: it is made again from the records, and kept whole."""
    with newer.transaction() as c:
        _table(newer, keep=True)
        c.execute("UPDATE prepared_persons SET part = ? WHERE agency = 'health'", (garbled,))
    made = _made(monkeypatch)
    with newer.transaction():
        t = _table(newer, keep=True)
    assert made == ["health"]
    monkeypatch.undo()
    _same(t, _fresh(newer))
    part = newer.conn.execute("SELECT part FROM prepared_persons WHERE agency = 'health'").fetchone()[0]
    assert orjson.loads(part)["agency"] == "health"


def _stale_every_part(ws: Workspace) -> None:
    with ws.transaction() as c:
        c.execute("UPDATE prepared_persons SET stamp = stamp || 'x'")


def test_parts_made_ahead_in_other_processes_are_those_made_here(
        newer: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link makes the parts it must make in forked processes while it links the
    addresses (prepare.parts_ahead): over three processes, the table is the one made from
    every record here, every part is kept, and this process makes none of them (with
    three cores, two processes make parts while this one links the addresses)."""
    _stale_every_part(newer)
    monkeypatch.setattr(prepare, "AHEAD_MIN_RECORDS", 0)
    monkeypatch.setenv("KGLINK_WORKERS", "3")
    made = _made(monkeypatch)
    with prepare.parts_ahead(newer) as ahead:
        assert ahead is not None
        with newer.transaction():
            t = person_table(newer, entity_map(newer, "address"),
                             default_settings("person").crowded_address_people, keep=True, ahead=ahead)
    assert made == []                                  # each made in a child
    stamps = dict(newer.conn.execute("SELECT agency, stamp FROM prepared_persons"))
    assert not any(s.endswith("x") for s in stamps.values()) and len(stamps) == 7
    monkeypatch.undo()
    _same(t, _fresh(newer))


def test_a_part_whose_process_failed_is_made_here(newer: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that fails making its parts (here, on health's) gives none of them:
    they are made in this process, and the table is the same."""
    _stale_every_part(newer)
    monkeypatch.setattr(prepare, "AHEAD_MIN_RECORDS", 0)
    monkeypatch.setenv("KGLINK_WORKERS", "3")      # two processes making parts
    real = prepare._made_part
    here = os.getpid()

    def failing(ws: Workspace, agency: str) -> prepare._AgencyPart:
        if agency == "health" and os.getpid() != here:
            raise OSError("disk gone")
        return real(ws, agency)
    monkeypatch.setattr(prepare, "_made_part", failing)
    made = _made(monkeypatch)             # counts in this process only
    with prepare.parts_ahead(newer) as ahead:
        assert ahead is not None
        with newer.transaction():
            t = person_table(newer, entity_map(newer, "address"),
                             default_settings("person").crowded_address_people, keep=True, ahead=ahead)
    assert "health" in made and 0 < len(made) < 7      # the failed process's share, and no more
    assert len(list(newer.conn.execute("SELECT agency FROM prepared_persons"))) == 7
    monkeypatch.undo()
    _same(t, _fresh(newer))


def test_no_parts_are_made_ahead_inside_a_transaction_already_open(newer: Workspace) -> None:
    """Another process sees only what is committed: inside an open transaction (records
    loaded and not yet committed) the parts are made in line."""
    _stale_every_part(newer)
    with newer.transaction(), prepare.parts_ahead(newer) as ahead:
        assert ahead is None


def test_a_link_makes_its_parts_ahead(newer: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """`link` starts the parts before it links the addresses; the links are those of a
    link whose parts are made in line."""
    from kglink.linkage.run import link

    _stale_every_part(newer)
    started = []
    real = prepare.parts_ahead

    def counted(ws: Workspace):  # type: ignore[no-untyped-def]
        cm = real(ws)
        started.append(cm)
        return cm
    monkeypatch.setattr("kglink.linkage.run.parts_ahead", counted)
    monkeypatch.setattr(prepare, "AHEAD_MIN_RECORDS", 0)
    monkeypatch.setenv("KGLINK_WORKERS", "2")
    made = _made(monkeypatch)
    link(newer, full=True)
    ahead_links = newer.conn.execute("SELECT kind, a, b, status FROM links ORDER BY kind, a, b").fetchall()
    assert len(started) == 1 and made == []            # every part made in a child
    _stale_every_part(newer)
    monkeypatch.setenv("KGLINK_WORKERS", "1")
    link(newer, full=True)
    assert newer.conn.execute("SELECT kind, a, b, status FROM links ORDER BY kind, a, b").fetchall() == ahead_links
