"""The embedded graph brought up to date row by row equals one built from nothing.

A real workspace on disk (the synthetic county, every person in it invented), one agency's
newer extract with records changed, added and withdrawn, an incremental link, then the
stored graph tables compared row for row with a full rebuild of the same workspace.
"""
from __future__ import annotations

import csv
import sqlite3
from itertools import chain
from pathlib import Path

from conftest import later_extract
from typing import Any

import pytest

from kglink.graph import build, embedded
from kglink.linkage.run import link
from kglink.loaders.load import load_extracts
from kglink.queries.runner import run_embedded
from kglink.workspace import Workspace, open_workspace

Rows = tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]


def _copy(src: Workspace, dst: Path) -> Workspace:
    """A workspace of our own with everything the shared one holds (SQLite's backup API)."""
    ws = open_workspace(dst)
    src.conn.backup(ws.conn)
    return ws


def _rows(ws: Workspace) -> Rows:
    return (set(ws.conn.execute("SELECT uid, label, props, hash FROM graph_nodes")),
            set(ws.conn.execute("SELECT uid, type, src, dst, props, hash FROM graph_edges")))


def _kept(ws: Workspace) -> tuple[Any, ...]:
    """What a build keeps for the next one (memberships, dangling link rows, its basis)."""
    return (set(ws.conn.execute("SELECT * FROM graph_members")),
            set(ws.conn.execute("SELECT * FROM graph_dangling")),
            ws.get_meta(embedded.BASIS_KEY))


def _rewrite(path: Path, edit: Any) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0])
    rows = [r for i, r in enumerate(rows) if edit(i, r)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def _newer(county: Path, agency: str, dst: Path) -> Path:
    """The agency's next extract: phone numbers corrected, dates of birth and surnames
    changed (linkage moves some records), persons withdrawn (their links dangle), an
    occupancy withdrawn and an event's date moved (who was a child at it)."""
    out = later_extract(county / agency, dst)

    def person(i: int, r: dict[str, str]) -> bool:
        if i % 20 == 1:
            r["phone"] = f"07700 9{i:05d}"
        if i % 97 == 5 and r["dob"]:
            r["dob"] = "01/01/2009"
        if i % 89 == 7:
            r["surname"] = r["surname"] + "s"
        return i % 151 != 3                      # withdrawn
    _rewrite(out / "persons.csv", person)
    _rewrite(out / "occupancies.csv", lambda i, r: i != 2)

    def event(i: int, r: dict[str, str]) -> bool:
        if i % 50 == 4:
            r["occurred_at"] = "03/03/2020"
        return True
    _rewrite(out / "events.csv", event)
    return out


@pytest.fixture
def updated(county: Path, county_ws: Workspace, tmp_path: Path) -> tuple[Workspace, Rows]:
    """The county with its graph built, then the police's newer extract loaded and
    linked incrementally; returns the workspace and its graph rows from before."""
    ws = _copy(county_ws, tmp_path / "ws")
    embedded.ensure_current(ws)
    before = _rows(ws)
    load_extracts(ws, [_newer(county, "police", tmp_path / "newer")])
    link(ws)
    return ws, before


def test_an_incremental_build_equals_a_full_rebuild(updated: tuple[Workspace, Rows]) -> None:
    ws, before = updated
    done = embedded.build(ws)
    assert not done.full and done.changed_only
    after = _rows(ws)
    # Only the items whose inputs changed were made again, not the whole graph.
    assert done.items_made < (done.nodes + done.relationships) / 5
    # Only what changed was written: some rows, not most.
    assert 0 < done.nodes_written < done.nodes / 5 and 0 < done.relationships_written < done.relationships / 5
    assert done.nodes_deleted > 0 and done.relationships_deleted > 0
    assert done.nodes_written == len(after[0] - before[0])
    assert done.nodes_deleted == len(before[0] - after[0])
    assert done.relationships_written == len(after[1] - before[1])
    assert done.relationships_deleted == len(before[1] - after[1])
    found = run_embedded(ws)
    full = embedded.rebuild(ws)
    assert full.full and (full.nodes, full.relationships) == (done.nodes, done.relationships)
    assert _rows(ws) == after
    assert [f.model_dump() for f in run_embedded(ws)] == [f.model_dump() for f in found]
    # Indexes are the same after either.
    names = {r[0] for r in ws.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert set(embedded._INDEXES) <= names


def test_changed_only_builds_night_after_night_equal_a_full_rebuild(
        updated: tuple[Workspace, Rows], county: Path, tmp_path: Path) -> None:
    """The next night builds from what the last changed-only build kept: the police's
    first extract again (withdrawn persons and links back, changes undone) and another
    agency's newer one."""
    ws, _ = updated
    assert embedded.build(ws).changed_only
    load_extracts(ws, [later_extract(county / "police", tmp_path / "again", 2),
                       _newer(county, "health", tmp_path / "health")])
    link(ws)
    done = embedded.build(ws)
    assert done.changed_only and done.nodes_written and done.relationships_deleted
    after, kept, found = _rows(ws), _kept(ws), run_embedded(ws)
    assert embedded.rebuild(ws).full
    assert _rows(ws) == after and _kept(ws) == kept
    assert [f.model_dump() for f in run_embedded(ws)] == [f.model_dump() for f in found]


def test_a_build_that_fails_midway_leaves_the_tables_as_they_were(
        updated: tuple[Workspace, Rows], monkeypatch: pytest.MonkeyPatch) -> None:
    ws, before = updated
    state = ws.get_meta(embedded.STATE_KEY)
    kept = _kept(ws)

    def crashing(real: Any, at: int) -> Any:
        def items(*args: Any, **kwargs: Any) -> Any:
            for n, item in enumerate(real(*args, **kwargs)):
                if n == at:
                    raise MemoryError("killed midway")
                yield item
        return items
    monkeypatch.setattr(embedded, "iter_graph", crashing(embedded.iter_graph, 20000))
    # a full build makes the relationships apart from the nodes: fail well into them
    monkeypatch.setattr(embedded, "iter_relationships", crashing(embedded.iter_relationships, 20000))
    monkeypatch.setattr(embedded, "iter_part", crashing(embedded.iter_part, 50))
    for full in (False, True):
        with pytest.raises(MemoryError):
            embedded.build(ws, full=full)
        assert _rows(ws) == before and ws.get_meta(embedded.STATE_KEY) == state
        assert _kept(ws) == kept
    monkeypatch.undo()
    done = embedded.build(ws)
    assert not done.full and done.changed_only


def test_tables_from_before_content_hashes_are_built_again_whole(tmp_path: Path,
                                                                 county_ws: Workspace) -> None:
    ws = _copy(county_ws, tmp_path / "ws")
    embedded.ensure_current(ws)
    rows = _rows(ws)
    with ws.transaction() as conn:
        for table in ("graph_nodes", "graph_edges"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN hash")
        conn.execute("UPDATE meta SET value = 'older' WHERE key = ?", (embedded.STATE_KEY,))
    with pytest.raises(sqlite3.OperationalError):
        ws.conn.execute("SELECT hash FROM graph_nodes")
    assert embedded.ensure_current(ws) and embedded.last_build is not None
    assert embedded.last_build.full
    assert _rows(ws) == rows


def test_a_full_build_is_the_same_made_in_a_forked_child_or_here(
        tmp_path: Path, county_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _copy(county_ws, tmp_path / "ws")
    monkeypatch.setenv("KGLINK_WORKERS", "2")
    forked = embedded.rebuild(ws)
    rows, kept = _rows(ws), _kept(ws)
    monkeypatch.setenv("KGLINK_WORKERS", "1")
    here = embedded.rebuild(ws)
    assert forked == here and forked.full and forked.nodes == len(rows[0])
    assert _rows(ws) == rows and _kept(ws) == kept and kept[0]


def test_nodes_and_relationships_made_apart_are_iter_graphs_rows_in_its_order(county_ws: Workspace) -> None:
    """A full build makes the nodes and the relationships apart (in two processes); each
    table's rows are those of the one stream of `iter_graph`, in its order, and what the
    relationships read of the nodes is what the node pass leaves."""
    one = build.BuildContext(county_ws)
    whole: dict[str, list[tuple[Any, ...]]] = {"graph_nodes": [], "graph_edges": []}
    for item in build.iter_graph(county_ws, ctx=one):
        table, row = embedded._item_row(item)
        whole[table].append(row)
    apart: dict[str, list[tuple[Any, ...]]] = {}
    for table, rows in chain(embedded._node_rows(county_ws), embedded._edge_rows(county_ws)):
        apart.setdefault(table, []).extend(rows)
    assert apart["graph_nodes"] == whole["graph_nodes"] and apart["graph_edges"] == whole["graph_edges"]
    assert apart["graph_dangling"] == one.dangling
    ctx = build.BuildContext(county_ws)
    build.relationship_context(county_ws, ctx)
    assert (ctx.resolved, ctx.events, ctx.dob, ctx.flags) == (one.resolved, one.events, one.dob, one.flags)
    assert ctx.resolved and ctx.events and any(ctx.dob.values()) and ctx.flags
