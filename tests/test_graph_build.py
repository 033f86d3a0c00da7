"""The graph schema, the neutral build and the embedded store (no server needed).

Every person here is synthetic (tests/data/sample).
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from kglink import vocab
from kglink.graph import embedded, schema
from kglink.graph.build import GraphNode, GraphRel, build_graph, content_hash, validate
from kglink.linkage.review import decide
from kglink.linkage.run import link
from kglink.loaders.load import load_extracts
from kglink.workspace import Workspace, open_workspace


def load_sample(root: Path, sample_dir: Path) -> Workspace:
    ws = open_workspace(root / "ws")
    load_extracts(ws, sorted(p for p in sample_dir.iterdir() if p.is_dir()))
    return ws


@pytest.fixture
def ws(tmp_path: Path, sample_dir: Path) -> Workspace:
    return load_sample(tmp_path, sample_dir)


def test_relationship_types_come_from_the_vocabulary() -> None:
    for relation in vocab.OCCUPANCY_RELATIONS:
        assert schema.RELATIONSHIPS[relation.upper()].endpoints == (("Person", "Address"),)
    for relation in vocab.PERSON_RELATIONS:
        assert schema.RELATIONSHIPS[relation.upper()].endpoints == (("Person", "Person"),)
    assert schema.HOME_TYPES == {"LIVES_AT", "REGISTERED_AT", "PLACED_AT"}


def test_every_label_gets_a_uid_constraint_and_every_type_a_uid_index() -> None:
    ddl = "\n".join(schema.constraint_statements().values())
    for label in schema.LABELS:
        assert f"FOR (n:{label}) REQUIRE n.uid IS UNIQUE" in ddl
    ddl = "\n".join(schema.index_statements().values())
    for rel_type in schema.TYPES:
        assert f"FOR ()-[r:{rel_type}]-() ON (r.uid)" in ddl
    assert "FOR (n:PersonRecord) ON (n.agency, n.record_id)" in ddl
    assert "FOR ()-[r:INVOLVED_IN]-() ON (r.role, r.child_at_event)" in ddl
    assert all(schema.is_own_schema_name(n) for n in
               schema.constraint_statements() | schema.index_statements())


@pytest.mark.parametrize(("dob", "day", "child"), [
    ("2008-05-01", "2026-04-30", True),            # the day before the 18th birthday
    ("2008-05-01", "2026-05-01T00:00:00", False),  # on it, at any time of day
    ("2008-05-01", "2026-05-01", False),
    ("2006-02-28", "2024-02-29", False),           # 29 Feb: 18 years before is the 28th
    ("2006-03-01", "2024-02-29T12:00", True),
    ("2020-01-01", "2019-01-01", True),            # not yet born: still "under 18"
    (None, "2026-01-01", False),                   # unknown date of birth: not a child
])
def test_child_on_the_day(dob: str | None, day: str, child: bool) -> None:
    assert schema.child_on(dob, day) is child


def test_involved_in_says_whether_the_person_was_a_child_that_day(ws: Workspace) -> None:
    link(ws)
    nodes, rels = build_graph(ws)
    props = {n.uid: n.props for n in nodes}
    involved = [r for r in rels if r.type == "INVOLVED_IN"]
    assert involved
    for r in involved:
        expected = schema.child_on(props[r.start].get("dob"), props[r.end]["occurred_at"])
        assert r.props["child_at_event"] is expected
    assert {r.props["child_at_event"] for r in involved} == {True, False}


def test_unknown_labels_and_types_are_refused() -> None:
    with pytest.raises(schema.SchemaError):
        schema.check_label("Person) DETACH DELETE (m")
    with pytest.raises(schema.SchemaError):
        schema.check_type("LIVES_AT", "Event", "Address")


def test_build_is_stable_valid_and_carries_provenance(ws: Workspace) -> None:
    nodes, rels = build_graph(ws)
    again_nodes, again_rels = build_graph(ws)
    assert [content_hash(i) for i in nodes + rels] == [content_hash(i) for i in again_nodes + again_rels]
    uids = [i.uid for i in nodes + rels]
    assert len(uids) == len(set(uids))
    for item in nodes + rels:
        validate(item)
        assert item.props["uid"] == item.uid
        for key in ("agency", "source", "load_id"):
            assert item.props.get(key), (item.uid, key)
    node_uids = {n.uid for n in nodes}
    assert all(r.start in node_uids and r.end in node_uids for r in rels)
    assert Counter(n.label for n in nodes) == {
        "PersonRecord": 8, "Person": 8, "AddressRecord": 4, "Address": 4, "Event": 4, "Flag": 3}
    custody = next(n for n in nodes if n.label == "Event" and n.props["type"] == "custody")
    assert custody.props["detained_at"].startswith("2026-10-12T03:00")
    assert custody.props["charged"] is True
    assert json.loads(custody.props["attributes"])["charged"] is True


def _entity_of(nodes: list[GraphNode], record_key: str) -> GraphNode:
    return next(n for n in nodes if n.label in ("Person", "Address") and record_key in n.props["members"])


def test_agreeing_agencies_give_parallel_edges_with_their_own_source(ws: Workspace) -> None:
    link(ws)
    decide(ws, "police:A1", "childrens_social_care:CA1", "same", user="tester")
    link(ws)
    nodes, rels = build_graph(ws)
    amy = _entity_of(nodes, "police:P2")
    assert amy.props["members"] == ["childrens_social_care:C11", "police:P2"]
    assert amy.props["agency"] == ["childrens_social_care", "police"]
    home = _entity_of(nodes, "police:A1")
    lives = [r for r in rels if r.type == "LIVES_AT" and r.start == amy.uid and r.end == home.uid]
    assert sorted(r.props["agency"] for r in lives) == ["childrens_social_care", "police"]
    assert len({r.props["source"] for r in lives}) == 2
    assert {r.props["start_record"] for r in lives} == {"police:P2", "childrens_social_care:C11"}
    resolved = [r for r in rels if r.type == "RESOLVED_AS" and r.end == amy.uid]
    assert {r.start for r in resolved} == {"pr:police:P2", "pr:childrens_social_care:C11"}
    assert all(0 < r.props["probability"] <= 1 for r in resolved)


def _as_sets(g: nx.MultiDiGraph) -> tuple[set[str], set[str]]:
    nodes = {json.dumps([uid, attrs], sort_keys=True) for uid, attrs in g.nodes(data=True)}
    edges = {json.dumps([a, b, k, attrs], sort_keys=True) for a, b, k, attrs in g.edges(keys=True, data=True)}
    return nodes, edges


def test_embedded_graph_is_persisted_and_rebuilt_only_when_the_workspace_changes(ws: Workspace) -> None:
    before = embedded.build_count
    first = embedded.load_graph(ws)
    assert embedded.build_count == before + 1 and first.graph["rebuilt"]
    second = embedded.load_graph(ws)
    assert embedded.build_count == before + 1 and not second.graph["rebuilt"]
    assert _as_sets(first) == _as_sets(second)
    assert ws.get_meta("graph_state") == ws.state_token()
    link(ws)
    third = embedded.load_graph(ws)
    assert embedded.build_count == before + 2 and third.graph["rebuilt"]
    assert third.number_of_nodes() < first.number_of_nodes()     # linked people merged


def test_embedded_tables_hold_json_and_follow_the_schema(ws: Workspace) -> None:
    g = embedded.load_graph(ws)
    rows = ws.conn.execute("SELECT uid, label, props FROM graph_nodes").fetchall()
    assert len(rows) == g.number_of_nodes()
    for uid, label, props in rows:
        assert label in schema.LABELS and json.loads(props)["uid"] == uid
    for uid, rel_type, src, dst in ws.conn.execute("SELECT uid, type, src, dst FROM graph_edges"):
        assert rel_type in schema.TYPES and g.has_edge(src, dst, key=uid)
    indexes = {r[0] for r in ws.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"graph_edges_src", "graph_edges_dst"} <= indexes
    for uid, attrs in g.nodes(data=True):
        assert attrs[schema.LABEL_ATTR] in schema.LABELS
    for _, _, attrs in g.edges(data=True):
        assert attrs[schema.TYPE_ATTR] in schema.TYPES


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_neighbourhood_reads_the_same_subgraph_as_the_whole_graph(ws: Workspace, hops: int) -> None:
    link(ws)
    whole = embedded.load_graph(ws)
    child = next(uid for uid, a in whole.nodes(data=True)
                 if a[schema.LABEL_ATTR] == "Person" and "police:P3" in a["members"])
    near = embedded.neighbourhood(ws, [child], hops)
    expected = set(nx.ego_graph(whole.to_undirected(as_view=True), child, radius=hops))
    assert set(near.nodes) == expected
    assert _as_sets(near) == _as_sets(whole.subgraph(expected))


@pytest.mark.parametrize("cap", [1, 2, 3, 5])
def test_neighbourhood_does_not_step_through_hubs(ws: Workspace, cap: int) -> None:
    """A node beyond the start with more than `max_degree` relationships is included but
    not stepped from; the start always is."""
    link(ws)
    whole = embedded.load_graph(ws)
    und = whole.to_undirected(as_view=True)
    child = next(uid for uid, a in whole.nodes(data=True)
                 if a[schema.LABEL_ATTR] == "Person" and "police:P3" in a["members"])
    expected, frontier = {child}, {child}
    for hop in range(3):
        step = {m for n in frontier if hop == 0 or whole.degree(n) <= cap for m in und[n]}
        frontier = step - expected
        expected |= step
    near = embedded.neighbourhood(ws, [child], 3, max_degree=cap)
    assert set(near.nodes) == expected
    assert set(near.nodes) < set(nx.ego_graph(und, child, radius=3))   # something was held back


def test_item_kinds_are_nodes_then_relationships(ws: Workspace) -> None:
    nodes, rels = build_graph(ws)
    assert all(isinstance(n, GraphNode) for n in nodes) and all(isinstance(r, GraphRel) for r in rels)
    assert {r.type for r in rels} >= {"RESOLVED_AS", "LIVES_AT", "PLACED_AT", "PARENT_OF",
                                      "PARTNER_OF", "INVOLVED_IN", "OCCURRED_AT", "HAS_FLAG"}


def test_a_build_inside_a_callers_transaction_lands_with_it_or_not_at_all(ws: Workspace) -> None:
    """The graph tables, rows and build marks of a build inside a caller's transaction that
    then fails are rolled back with it (creating the tables used to commit the caller's
    transaction first, and with it what the caller had written)."""
    link(ws)
    with pytest.raises(RuntimeError), ws.transaction() as conn:
        ws.set_meta(conn, "caller_wrote", "1")
        embedded.build(ws)
        raise RuntimeError("the caller fails after the build")
    assert ws.get_meta("caller_wrote") is None
    assert ws.get_meta(embedded.STATE_KEY) is None
    tables = {r[0] for r in ws.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not tables & {"graph_nodes", "graph_edges", "graph_members", "graph_dangling"}
    embedded.build(ws)                                   # and a build on its own still lands
    assert ws.conn.execute("SELECT COUNT(*) FROM graph_nodes").fetchone()[0] > 0
