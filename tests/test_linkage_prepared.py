"""Address fields kept between link runs: the next night prepares only the rows that changed.

A real workspace on disk (the synthetic county, every person and address in it invented),
the police's newer extract with addresses changed, added and withdrawn, and the table made
from the kept fields compared with one prepared from every record again.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import later_extract

import pytest

import kglink.linkage.prepare as prepare
from kglink.linkage.prepare import address_table
from kglink.loaders.load import load_extracts
from kglink.loaders.unload import unload
from kglink.standardise.address import ParsedAddress
from kglink.workspace import Workspace, open_workspace


def _newer_addresses(county: Path, dst: Path) -> tuple[Path, int]:
    """The police's next extract with every 40th address's first line changed, two new
    addresses and every 301st withdrawn; and how many rows are new or changed."""
    out = later_extract(county / "police", dst)
    path = out / "addresses.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0])
    kept, changed = [], 0
    for i, r in enumerate(rows):
        if i % 301 == 7:
            continue
        if i % 40 == 3:
            r["line1"] = "Flat 2, " + r["line1"]
            changed += 1
        kept.append(r)
    for n in (1, 2):
        kept.append({**rows[0], "record_id": f"NEW-ADDRESS-{n}", "line1": f"{n} New Street"})
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(kept)
    return out, changed + 2


def _same(a: prepare.Table, b: prepare.Table) -> None:
    assert a.keys == b.keys
    assert set(a.cols) == set(b.cols) == set(prepare.ADDRESS_COLUMNS)
    for c in prepare.ADDRESS_COLUMNS:
        assert a.cols[c].tolist() == b.cols[c].tolist(), c


@pytest.fixture
def newer(county: Path, county_ws: Workspace, tmp_path: Path) -> tuple[Workspace, int]:
    """A copy of the linked county (its link kept every address's fields), with the
    police's newer extract loaded; and how many address rows it added or changed."""
    ws = open_workspace(tmp_path / "ws")
    county_ws.conn.backup(ws.conn)
    assert ws.conn.execute("SELECT COUNT(*) FROM prepared_addresses").fetchone()[0] > 0
    extract, changed = _newer_addresses(county, tmp_path / "newer")
    load_extracts(ws, [extract])
    return ws, changed


def test_kept_fields_are_those_prepared_again_and_only_changed_rows_are_made(
        newer: tuple[Workspace, int], monkeypatch: pytest.MonkeyPatch) -> None:
    ws, changed = newer
    made = []
    real = prepare.parse_address

    def parse(*args: str | None) -> ParsedAddress:    # counts the rows prepared
        made.append(1)
        return real(*args)
    monkeypatch.setattr(prepare, "parse_address", parse)
    with ws.transaction():
        kept = address_table(ws, keep=True)
    assert len(made) == changed            # the new and changed rows, no other
    _same(kept, address_table(ws))
    # ... and kept for the next run, which makes none
    made.clear()
    _same(address_table(ws, keep=True), kept)
    assert made == []


def test_fields_kept_by_other_code_are_made_again(newer: tuple[Workspace, int]) -> None:
    ws, _ = newer
    with ws.transaction() as c:
        address_table(ws, keep=True)
        # Fields as another kglink's parsing would have made them, under its code token.
        c.execute("UPDATE prepared_addresses SET fields = ?", (json.dumps(["x"] * len(prepare.ADDRESS_COLUMNS)),))
        ws.set_meta(c, "prepared_addresses_code", "another kglink")
    with ws.transaction():
        _same(address_table(ws, keep=True), address_table(ws))
    assert ws.get_meta("prepared_addresses_code") == prepare._fields_code()


def test_kept_fields_are_read_where_the_row_is_unchanged(newer: tuple[Workspace, int]) -> None:
    """The shortcut is taken (so the test above is not met by preparing everything):
    a kept value under an unchanged row's hash is what the table holds."""
    ws, _ = newer
    with ws.transaction() as c:
        address_table(ws, keep=True)
        agency, key = c.execute("SELECT agency, key FROM prepared_addresses ORDER BY agency, key LIMIT 1").fetchone()
        c.execute("UPDATE prepared_addresses SET fields = ? WHERE agency = ? AND key = ?",
                  (json.dumps(["kept"] * len(prepare.ADDRESS_COLUMNS)), agency, key))
    t = address_table(ws, keep=True)
    assert t.cols["street"][t.index()[f"{agency}:{key}"]] == "kept"


def test_an_unloaded_extracts_addresses_are_not_kept(newer: tuple[Workspace, int]) -> None:
    ws, _ = newer
    with ws.transaction():
        address_table(ws, keep=True)
    kept = "SELECT COUNT(*) FROM prepared_addresses WHERE key LIKE 'NEW-ADDRESS-%'"
    assert ws.conn.execute(kept).fetchone()[0] == 2
    load_id = ws.conn.execute("SELECT MAX(load_id) FROM loads WHERE agency = 'police'").fetchone()[0]
    unload(ws, "police", load_id, user="tester", reason="test extract")
    assert ws.conn.execute(kept).fetchone()[0] == 0
    with ws.transaction():
        _same(address_table(ws, keep=True), address_table(ws))


def test_fields_made_over_processes_are_those_made_here(
        newer: tuple[Workspace, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A first link makes every address's fields over the cores, batch after batch: in
    small batches over three processes they are those made in this process, kept in order."""
    ws, _ = newer
    pools = []
    real_pool = prepare.parallel.Pool

    def pool(*args: object, **kwargs: object) -> object:
        pools.append(1)
        return real_pool(*args, **kwargs)
    monkeypatch.setattr(prepare.parallel, "Pool", pool)
    monkeypatch.setattr(prepare, "PREPARE_BATCH", 97)
    monkeypatch.setenv("KGLINK_WORKERS", "3")
    with ws.transaction() as c:
        c.execute("DELETE FROM prepared_addresses")
        made = address_table(ws, keep=True)
    assert pools == [1]
    _same(made, address_table(ws))
    kept = dict(((a, k), json.loads(f)) for a, k, f in ws.conn.execute(
        "SELECT agency, key, fields FROM prepared_addresses"))
    assert len(kept) == len(made.keys)
    for i, key in enumerate(made.keys):
        agency, record = key.split(":", 1)
        assert kept[(agency, record)] == [made.cols[c][i] for c in prepare.ADDRESS_COLUMNS]
