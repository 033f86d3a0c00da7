"""What keeps a pair in conflict apart is found when linking and read back (link_conflicts):
the same answer as working it out again from every record's prepared features, without
preparing them; a person's "different" made since the run is named too; an answer about
entities that are no longer the run's is worked out again. The synthetic county (every
person in it invented)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import kglink.linkage.contradiction as contradiction
from kglink.linkage.review import decide, queue
from kglink.workspace import Workspace
from test_graph_incremental import _copy


def _conflicts(ws: Workspace) -> list[tuple[str, str, str]]:
    return [(it.kind, it.a, it.b) for it in queue(ws) if it.status == "conflict"]


def _said(ws: Workspace, pairs: list[tuple[str, str, str]]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for kind in {k for k, _, _ in pairs}:
        out |= contradiction.contradictions(ws, kind, [(a, b) for k, a, b in pairs if k == kind])
    return out


def _no_preparing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("prepared every record's features to name a contradiction the run kept")
    monkeypatch.setattr(contradiction, "person_table", refuse)
    monkeypatch.setattr(contradiction, "address_table", refuse)


def test_kept_contradictions_are_the_ones_worked_out_again(
        county_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _copy(county_ws, tmp_path / "ws")
    pairs = _conflicts(ws)
    assert pairs, "the county should hold pairs held back by a contradiction"
    kept = ws.conn.execute("SELECT COUNT(*) FROM link_conflicts").fetchone()[0]
    assert kept == len(pairs)
    with monkeypatch.context() as m:
        _no_preparing(m)
        read = _said(ws, pairs)
    assert all(read[(a, b)] for _, a, b in pairs), "every conflict is named by at least one contradiction"
    assert all(c.rule.startswith("rule:") for cs in read.values() for c in cs)

    ws.conn.execute("DELETE FROM link_conflicts")      # as a workspace linked before the table
    assert _said(ws, pairs) == read


def test_a_decision_made_since_the_run_is_named_without_preparing(
        county_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _copy(county_ws, tmp_path / "ws")
    kind, a, b = _conflicts(ws)[0]
    before = contradiction.contradictions(ws, kind, [(a, b)])[(a, b)]
    x, y = before[0].a, before[0].b
    decide(ws, x, y, "different", "tester")
    _no_preparing(monkeypatch)
    after = contradiction.contradictions(ws, kind, [(a, b)])[(a, b)]
    assert (after[0].a, after[0].b, after[0].rule) == (x, y, "human")
    assert [(c.a, c.b) for c in after] == [(c.a, c.b) for c in before]


def test_an_answer_about_other_entities_is_worked_out_again(
        county_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _copy(county_ws, tmp_path / "ws")
    kind, a, b = _conflicts(ws)[0]
    right = contradiction.contradictions(ws, kind, [(a, b)])[(a, b)]
    # An answer kept by a run that saw other entities (a kglink without the table
    # relinked since): its hash is not that of today's entities, so it is not believed.
    ws.conn.execute("UPDATE link_conflicts SET sides = 'another run', found = '[]' WHERE a = ? AND b = ?", (a, b))
    called: list[int] = []
    real = contradiction.person_table if kind == "person" else contradiction.address_table

    def counted(*args: Any, **kwargs: Any) -> Any:
        called.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(contradiction, "person_table" if kind == "person" else "address_table", counted)
    assert contradiction.contradictions(ws, kind, [(a, b)])[(a, b)] == right
    assert called
