"""The compact graph kept on disk is the graph the tables hold, or is not used at all.

A real workspace on disk (the synthetic county, every person in it invented): the graph
read back from `graph.compact` equals the one read from the tables, list for list and array
for array, after a first build, after changed-only builds of several kinds (brought up to
date from what the build changed, never from the tables), after an unload and a full
rebuild; a stale, cut-off or garbage file is passed over for the tables.
"""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from conftest import later_extract
from test_graph_incremental import _copy, _newer

from kglink.graph import compact_file, embedded
from kglink.graph.compact import CompactGraph
from kglink.linkage.review import decide, queue
from kglink.linkage.run import link
from kglink.loaders.load import load_extracts
from kglink.loaders.unload import unload
from kglink.workspace import Workspace


def _everything(g: CompactGraph) -> tuple[Any, ...]:
    p = g.parts()
    return (p.uids, p.labels, p.node_json, p.edge_types, p.edge_json, p.src.tolist(), p.dst.tolist())


def _tables(ws: Workspace) -> tuple[Any, ...]:
    """The graph read from the tables (built first if the workspace changed)."""
    embedded.ensure_current(ws)
    return _everything(embedded._read_compact(ws))


def _file(ws: Workspace) -> Path:
    return ws.path / compact_file.FILE_NAME


def _from_file(ws: Workspace) -> CompactGraph:
    """load_compact, failing if it reads the tables."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(embedded, "_read_compact", _no_tables)
        return embedded.load_compact(ws)


def _no_tables(ws: Workspace) -> CompactGraph:
    raise AssertionError("the graph tables were read")


def _same_from_file(ws: Workspace) -> None:
    """The graph load_compact gives without reading the tables, and the file it left, are
    the tables' graph."""
    tables = _tables(ws)
    assert _everything(_from_file(ws)) == tables
    assert _everything(_from_file(ws)) == tables      # and again, from the file as written


@pytest.fixture
def ws(county_ws: Workspace, tmp_path: Path) -> Workspace:
    """The county with its graph built and the file written from the tables."""
    ws = _copy(county_ws, tmp_path / "ws")
    embedded.rebuild(ws)
    assert not _file(ws).exists()
    embedded.load_compact(ws)
    return ws


def test_the_first_build_writes_the_tables_graph(ws: Workspace) -> None:
    assert stat.S_IMODE(_file(ws).stat().st_mode) == 0o600
    _same_from_file(ws)


def test_changed_only_builds_bring_the_file_up_to_date(ws: Workspace, county: Path, tmp_path: Path) -> None:
    # A newer extract: records changed, added and withdrawn, links that dangle.
    load_extracts(ws, [_newer(county, "police", tmp_path / "newer")])
    link(ws)
    graph = _from_file(ws)
    done = embedded.last_build
    assert done is not None and done.changed_only and done.changes is not None
    assert done.nodes_deleted and done.nodes_written and done.relationships_deleted
    assert _everything(graph) == _tables(ws)
    _same_from_file(ws)
    # The next night: the first extract again (withdrawn persons back) with persons never
    # seen before living at known addresses, and another agency's newer extract.
    again = later_extract(county / "police", tmp_path / "again", 2)
    _with_new_persons(again)
    load_extracts(ws, [again, _newer(county, "health", tmp_path / "health")])
    link(ws)
    _same_from_file(ws)
    assert "pr:police:NEW0000002" in _from_file(ws)
    assert embedded.last_build is not None and embedded.last_build.changed_only
    # A person says two records are one: linkage moves them into one entity.
    first = queue(ws, kind="person")[0]
    decide(ws, first.a, first.b, "same", user="tester")
    link(ws)
    _same_from_file(ws)
    assert embedded.last_build is not None and embedded.last_build.changed_only


def _with_new_persons(extract: Path) -> None:
    """Three persons with record ids never used, each a copy of one that lives somewhere."""
    persons, homes = extract / "persons.csv", extract / "occupancies.csv"
    people = persons.read_text(encoding="utf-8").splitlines()
    lives = homes.read_text(encoding="utf-8").splitlines()
    for n, i in enumerate((1, 40, 300)):
        old_id, rest = people[i].split(",", 1)
        people.append(f"NEW{n:07d},{rest}")
        lives += [f"NEW{n:07d},{line.split(',', 1)[1]}" for line in lives[1:] if line.startswith(old_id + ",")]
    persons.write_text("\n".join(people) + "\n", encoding="utf-8")
    homes.write_text("\n".join(lives) + "\n", encoding="utf-8")


def test_an_unload_and_a_rebuild_write_the_file_again(ws: Workspace, county: Path, tmp_path: Path) -> None:
    load_extracts(ws, [_newer(county, "police", tmp_path / "newer")])
    link(ws)
    embedded.load_compact(ws)
    newest = ws.conn.execute("SELECT MAX(load_id) FROM loads").fetchone()[0]
    unload(ws, "police", newest, user="tester")
    link(ws)
    graph = embedded.load_compact(ws)             # after an unload the tables are read
    assert embedded.last_build is not None and not embedded.last_build.changed_only
    assert _everything(graph) == _tables(ws)
    _same_from_file(ws)
    embedded.rebuild(ws)
    graph = embedded.load_compact(ws)
    assert _everything(graph) == _tables(ws)
    _same_from_file(ws)


def test_a_file_older_than_the_tables_is_not_used(ws: Workspace, county: Path, tmp_path: Path) -> None:
    """As after a crash between the build's commit and writing the file."""
    old = _file(ws).read_bytes()
    load_extracts(ws, [_newer(county, "police", tmp_path / "newer")])
    link(ws)
    embedded.build(ws)
    _file(ws).write_bytes(old)
    embedded.last_build = None                    # another process made the build
    assert compact_file.read(_file(ws), _stamp(ws)) is None
    assert _everything(embedded.load_compact(ws)) == _tables(ws)
    _same_from_file(ws)


def _stamp(ws: Workspace) -> compact_file.Stamp:
    return {"build": ws.get_meta(embedded.BUILD_KEY), "state": ws.get_meta(embedded.STATE_KEY),
            "version": ws.get_meta(embedded.VERSION_KEY)}


@pytest.mark.parametrize("spoil", ["cut", "garbage", "foreign", "flipped"])
def test_a_spoilt_file_is_passed_over_for_the_tables(ws: Workspace, spoil: str, tmp_path: Path,
                                                     county_ws: Workspace) -> None:
    path, tables = _file(ws), _tables(ws)
    data = path.read_bytes()
    if spoil == "cut":
        path.write_bytes(data[:len(data) // 2])
    elif spoil == "garbage":
        path.write_bytes(bytes(range(256)) * 100)
    elif spoil == "foreign":                       # another workspace's file, of another build
        other = _copy(county_ws, tmp_path / "other")
        embedded.rebuild(other)
        embedded.load_compact(other)
        path.write_bytes(_file(other).read_bytes())
    else:                                          # one byte changed, anywhere
        for at in range(8, len(data) - 8, len(data) // 7):
            path.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1:])
            assert compact_file.read(path, _stamp(ws)) is None, at
    assert compact_file.read(path, _stamp(ws)) is None
    assert _everything(embedded.load_compact(ws)) == tables
    _same_from_file(ws)


def test_a_temporary_file_a_killed_write_left_is_removed(ws: Workspace) -> None:
    """A process killed while writing leaves its temporary file (as large as the graph):
    the next write removes it, not one another process may be writing now."""
    import os
    import time

    old = ws.path / f".{compact_file.FILE_NAME}.killed.tmp"
    new = ws.path / f".{compact_file.FILE_NAME}.writing.tmp"
    for tmp in (old, new):
        tmp.write_bytes(b"cut off")
    long_ago = time.time() - compact_file.LEFT_OVER_S - 60
    os.utime(old, (long_ago, long_ago))
    embedded.rebuild(ws)
    embedded.load_compact(ws)            # the tables changed: the file written again
    assert not old.exists() and new.exists()
    _same_from_file(ws)
