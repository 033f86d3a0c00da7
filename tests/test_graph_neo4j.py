"""The Neo4j store against a real server (scripts/neo4j-local), and the same graph in
both stores. Every person here is synthetic.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import neo4j
import networkx as nx
import pytest
from pydantic import SecretStr

from kglink.graph import build_graph, embedded, neo4j_store, schema, sync_state
from kglink.graph.neo4j_store import (
    GraphIncomplete, Neo4jSettings, Neo4jStoreError, Neo4jUnavailable, read_query, sync,
)
from kglink.linkage.entities import entity_id_for
from kglink.linkage.review import decide
from kglink.linkage.run import link
from kglink.loaders.load import load_extracts
from kglink.workspace import Workspace, open_workspace

Dump = tuple[Counter[str], Counter[str]]


@pytest.fixture
def ws(tmp_path: Path, sample_dir: Path) -> Workspace:
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, sorted(p for p in sample_dir.iterdir() if p.is_dir()))
    return ws


def _canon(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True)


def neo4j_dump(settings: Neo4jSettings) -> Dump:
    """Every node and relationship, with all properties, as comparable strings."""
    nodes = read_query(f"MATCH (n) WHERE NOT n:{schema.SYNC_LABEL} "
                       "RETURN labels(n) AS labels, properties(n) AS props", settings=settings)
    rels = read_query("MATCH (a)-[r]->(b) RETURN type(r) AS type, a.uid AS start, b.uid AS end, "
                      "properties(r) AS props", settings=settings)
    return (Counter(_canon({"label": n["labels"], "props": n["props"]}) for n in nodes),
            Counter(_canon({"type": r["type"], "start": r["start"], "end": r["end"],
                            "props": r["props"]}) for r in rels))


def embedded_dump(g: nx.MultiDiGraph) -> Dump:
    def props(attrs: dict[str, Any], drop: str) -> dict[str, Any]:
        return {k: v for k, v in attrs.items() if k != drop}
    return (Counter(_canon({"label": [a[schema.LABEL_ATTR]], "props": props(a, schema.LABEL_ATTR)})
                    for _, a in g.nodes(data=True)),
            Counter(_canon({"type": a[schema.TYPE_ATTR], "start": s, "end": e,
                            "props": props(a, schema.TYPE_ATTR)})
                    for s, e, a in g.edges(data=True)))


def full_sync_dump(ws: Workspace, settings: Neo4jSettings) -> Dump:
    """What a fresh full sync into an empty database gives."""
    neo4j_store.driver(settings).execute_query("MATCH (n) DETACH DELETE n", database_=settings.database)
    sync_state.forget(ws)
    report = sync(ws, settings)
    assert report.full
    return neo4j_dump(settings)


def _states(settings: Neo4jSettings) -> dict[str, Any]:
    state = neo4j_store.sync_status(settings)
    assert state is not None
    return state


# ---- schema -------------------------------------------------------------------------------

@pytest.mark.neo4j
def test_sync_creates_the_declared_constraints_and_indexes(neo4j_db: Neo4jSettings, ws: Workspace) -> None:
    with neo4j_store.session(neo4j_db) as s:      # left over from an older kglink
        s.run("CREATE INDEX kglink_idx_person_obsolete IF NOT EXISTS "
              "FOR (n:Person) ON (n.obsolete)").consume()
    sync(ws, neo4j_db)
    rows = read_query("SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties",
                      settings=neo4j_db, require_complete=False)
    unique = {(r["labelsOrTypes"][0], tuple(r["properties"])) for r in rows if r["type"] == "UNIQUENESS"}
    for label in schema.LABELS:
        assert (label, ("uid",)) in unique
    rows = read_query("SHOW INDEXES YIELD name, labelsOrTypes, properties, state "
                      "WHERE labelsOrTypes IS NOT NULL", settings=neo4j_db, require_complete=False)
    indexes = {(r["labelsOrTypes"][0], tuple(r["properties"])) for r in rows}
    assert "kglink_idx_person_obsolete" not in {r["name"] for r in rows}
    assert {r["state"] for r in rows} == {"ONLINE"}    # a full sync waits for the ones it built
    for label, spec in schema.NODES.items():
        for props in spec.indexes:
            assert (label, props) in indexes
    for rel_type, rspec in schema.RELATIONSHIPS.items():
        assert (rel_type, ("uid",)) in indexes
        for props in rspec.indexes:
            assert (rel_type, props) in indexes


# ---- sync ---------------------------------------------------------------------------------

@pytest.mark.neo4j
@pytest.mark.parametrize(("writers", "batch"), [(1, 5_000), (3, 7)])
def test_both_stores_hold_the_same_graph(neo4j_db: Neo4jSettings, ws: Workspace, writers: int,
                                         batch: int) -> None:
    link(ws)
    neo4j_db = neo4j_db.model_copy(update={"writers": writers, "batch_size": batch})
    report = sync(ws, neo4j_db)
    g = embedded.load_graph(ws)
    assert report.full and report.nodes == g.number_of_nodes()
    assert report.relationships == g.number_of_edges()
    assert neo4j_dump(neo4j_db) == embedded_dump(g)
    # and the way queries see it: counts by label and type, and paths
    labels = read_query("MATCH (n) WHERE NOT n:KglinkSync RETURN labels(n)[0] AS l, count(*) AS c",
                        settings=neo4j_db)
    assert {r["l"]: r["c"] for r in labels} == Counter(a["label"] for _, a in g.nodes(data=True))
    types = read_query("MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS c", settings=neo4j_db)
    assert {r["t"]: r["c"] for r in types} == Counter(a["type"] for _, _, a in g.edges(data=True))
    paths = read_query(
        "MATCH (p:Person)-[l:LIVES_AT]->(a:Address)<-[o:OCCURRED_AT]-(e:Event) "
        "RETURN p.uid AS p, l.uid AS l, a.uid AS a, o.uid AS o, e.uid AS e", settings=neo4j_db)
    expected = {(p, l, a, o, e)
                for p, a, l, la in g.edges(keys=True, data=True) if la["type"] == "LIVES_AT"
                for e, _, o, oa in g.in_edges(a, keys=True, data=True) if oa["type"] == "OCCURRED_AT"}
    assert expected and {tuple(r.values()) for r in paths} == expected
    state = _states(neo4j_db)
    assert state["status"] == "complete" and state["state_token"] == ws.state_token()


@pytest.mark.neo4j
def test_a_second_sync_sends_nothing(neo4j_db: Neo4jSettings, ws: Workspace) -> None:
    first = sync(ws, neo4j_db)
    before = neo4j_dump(neo4j_db)
    state = _states(neo4j_db)
    second = sync(ws, neo4j_db)                   # same workspace state: nothing to build
    verified = sync(ws, neo4j_db, verify=True)    # built and compared item by item
    assert first.rows_sent == first.nodes + first.relationships > 0
    for again in (second, verified):
        assert not again.full and again.rows_sent == 0
        assert (again.nodes, again.relationships) == (first.nodes, first.relationships)
    assert neo4j_dump(neo4j_db) == before
    assert _states(neo4j_db) == state             # not even the state node was touched
    # A new load that changes nothing in the graph moves only the state token.
    with ws.transaction() as c:
        c.execute("INSERT INTO loads (agency, system, extracted_at, source, fingerprint, "
                  "loaded_at, files, added, changed, withdrawn, unchanged) "
                  "VALUES ('police', '', '2026-11-27', 'x', 'y', 'z', '{}', 0, 0, 0, 0)")
    third = sync(ws, neo4j_db)
    assert third.rows_sent == 0 and _states(neo4j_db)["state_token"] == ws.state_token()
    assert neo4j_dump(neo4j_db) == before


@pytest.mark.neo4j
def test_a_merge_and_a_decision_resync_only_what_they_touch(neo4j_db: Neo4jSettings, ws: Workspace) -> None:
    sync(ws, neo4j_db)
    old = embedded.load_graph(ws)
    # Linkage joins two records of Amy: one entity, the id derived from its members.
    members = ["police:P2", "childrens_social_care:C11"]
    merged = entity_id_for("person", members)
    gone = next(entity_id_for("person", [m]) for m in members if entity_id_for("person", [m]) != merged)
    with ws.transaction() as c:
        c.executemany("INSERT INTO entity_members VALUES ('person', ?, ?, ?, 0.97)",
                      [(*m.split(":"), merged) for m in members])
        ws.set_meta(c, "linkage_run", "1")
    report = sync(ws, neo4j_db)
    moved = old.degree(gone)          # every edge of the vanished entity moves to the merged one
    assert not report.full
    assert (report.nodes_written, report.nodes_deleted) == (1, 1)   # merged Person; gone Person
    assert report.relationships_deleted == moved
    # the moved edges, plus both RESOLVED_AS edges whose probability changed
    assert report.relationships_written == moved + 1
    assert neo4j_dump(neo4j_db) == embedded_dump(embedded.load_graph(ws))
    assert neo4j_dump(neo4j_db) == full_sync_dump(ws, neo4j_db)
    # A person decides two address records are one place; linkage reruns.
    sync(ws, neo4j_db)
    decide(ws, "police:A1", "childrens_social_care:CA1", "same", user="tester")
    link(ws)
    report = sync(ws, neo4j_db)
    assert not report.full and 0 < report.rows_sent < report.nodes + report.relationships
    assert neo4j_dump(neo4j_db) == embedded_dump(embedded.load_graph(ws))
    assert neo4j_dump(neo4j_db) == full_sync_dump(ws, neo4j_db)


@pytest.mark.neo4j
def test_an_interrupted_sync_is_marked_and_the_next_one_repairs_it(
        neo4j_db: Neo4jSettings, ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    sync(ws, neo4j_db)
    link(ws)
    real = neo4j_store._write
    calls = Counter[str]()

    def dies_after_two_batches(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] > 2:        # two batches written, then the process "dies"
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(neo4j_store, "_write", dies_after_two_batches)
    with pytest.raises(KeyboardInterrupt):
        sync(ws, neo4j_db)
    monkeypatch.undo()
    assert _states(neo4j_db)["status"] == "in_progress"
    with pytest.raises(GraphIncomplete, match="being synced"):
        read_query("MATCH (n) RETURN count(n) AS n", settings=neo4j_db)
    report = sync(ws, neo4j_db)
    assert report.full
    assert neo4j_dump(neo4j_db) == embedded_dump(embedded.load_graph(ws))


def _index_names(settings: Neo4jSettings) -> set[str]:
    rows = read_query("SHOW INDEXES YIELD name, state WHERE state = 'ONLINE'",
                      settings=settings, require_complete=False)
    return {r["name"] for r in rows}


@pytest.mark.neo4j
def test_a_full_sync_cut_short_leaves_its_indexes_to_the_next_sync(
        neo4j_db: Neo4jSettings, ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    declared = set(schema.index_statements())
    real = neo4j_store._write

    def dies_at_once(*args: Any, **kwargs: Any) -> int:
        raise KeyboardInterrupt
    monkeypatch.setattr(neo4j_store, "_write", dies_at_once)
    with pytest.raises(KeyboardInterrupt):
        sync(ws, neo4j_db)        # a full sync: it dropped the secondary indexes first
    monkeypatch.setattr(neo4j_store, "_write", real)
    assert not declared & _index_names(neo4j_db)
    assert sync(ws, neo4j_db).full
    assert declared <= _index_names(neo4j_db)
    link(ws)
    assert not sync(ws, neo4j_db).full
    assert declared <= _index_names(neo4j_db)


@pytest.mark.neo4j
def test_a_retried_batch_is_written_once(neo4j_db: Neo4jSettings, ws: Workspace) -> None:
    """The driver calls a batch's transaction function again when an attempt fails in a
    way it deems retryable; the batch may or may not be in the database by then. The
    full sync CREATEs on the first call only: a second call (here after a first attempt
    that committed, and after one that was rolled back) must not write anything twice."""
    nodes, rels = build_graph(ws)
    neo4j_store.ensure_schema(neo4j_db)
    persons = [n.props for n in nodes if n.label == "Person"]
    records = [n.props for n in nodes if n.label == "PersonRecord"]
    resolved = [neo4j_store.rel_row(r) for r in rels
                if (r.type, r.start_label) == ("RESOLVED_AS", "PersonRecord")]
    assert persons and records and resolved
    with neo4j_store.session(neo4j_db) as s:
        for label, rows in (("Person", persons), ("PersonRecord", records)):
            work = neo4j_store.node_batch(label, rows, create=True)
            assert s.execute_write(work) == len(rows)      # committed, then "retried":
            assert s.execute_write(work) == len(rows)
            with pytest.raises(neo4j.exceptions.ConstraintError):   # what a retried CREATE does
                s.execute_write(neo4j_store.node_batch(label, rows, create=True))
        key = ("RESOLVED_AS", "PersonRecord", "Person")
        work = neo4j_store.rel_batch(key, resolved, create=True)
        tx = s.begin_transaction()                         # a first attempt that is lost
        assert work(tx) == len(resolved)
        tx.rollback()
        assert s.execute_write(work) == len(resolved)      # the retry: written once
        assert s.execute_write(work) == len(resolved)      # and once more: nothing new

    def props(cypher: str) -> Counter[str]:
        return Counter(_canon(r["p"]) for r in read_query(cypher, settings=neo4j_db,
                                                            require_complete=False))
    for label, rows in (("Person", persons), ("PersonRecord", records)):
        assert props(f"MATCH (n:{label}) RETURN properties(n) AS p") == Counter(map(_canon, rows))
    assert props("MATCH (:PersonRecord)-[r:RESOLVED_AS]->(:Person) RETURN properties(r) AS p") \
        == Counter(_canon(r["props"]) for r in resolved)
    ends = read_query("MATCH (a)-[r:RESOLVED_AS]->(b) RETURN r.uid AS r, a.uid AS a, b.uid AS b",
                      settings=neo4j_db, require_complete=False)
    assert sorted((e["r"], e["a"], e["b"]) for e in ends) == sorted(
        (r["uid"], r["start"], r["end"]) for r in resolved)


# ---- reading and errors -------------------------------------------------------------------

@pytest.mark.neo4j
def test_read_query_refuses_writes_and_unsynced_databases(neo4j_db: Neo4jSettings, ws: Workspace) -> None:
    with pytest.raises(GraphIncomplete, match="never been synced"):
        read_query("MATCH (n) RETURN count(n) AS n", settings=neo4j_db)
    sync(ws, neo4j_db)
    rows = read_query("MATCH (e:Event {type: $type}) RETURN e.id AS id", {"type": "custody"},
                      settings=neo4j_db)
    assert rows == [{"id": "police:E2"}]
    with pytest.raises(Neo4jStoreError, match="tries to write"):
        read_query("CREATE (n:Person {uid: 'x'}) RETURN n", settings=neo4j_db)
    assert read_query("MATCH (n:Person {uid: 'x'}) RETURN n", settings=neo4j_db) == []


def test_an_unreachable_server_gives_a_clear_error(ws: Workspace) -> None:
    settings = Neo4jSettings(uri="bolt://127.0.0.1:9", password=SecretStr("not-used"),
                             connection_timeout=2)
    with pytest.raises(Neo4jUnavailable) as e:
        sync(ws, settings)
    assert str(e.value) == ("cannot reach Neo4j at bolt://127.0.0.1:9 (ServiceUnavailable). "
                            "Start it (scripts/neo4j-local start) or check NEO4J_URI")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j://db.example:7687")
    monkeypatch.setenv("NEO4J_USER", "reader")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret-password")
    monkeypatch.setenv("NEO4J_DATABASE", "county")
    monkeypatch.setenv("KGLINK_NEO4J_WRITERS", "3")
    s = Neo4jSettings.from_env(database="other")
    assert (s.uri, s.user, s.database, s.writers) == ("neo4j://db.example:7687", "reader", "other", 3)
    assert "s3cret" not in repr(s)


# ---- a synthetic county -------------------------------------------------------------------

@pytest.mark.neo4j
def test_a_synthetic_county_in_both_stores(neo4j_db: Neo4jSettings, tmp_path: Path) -> None:
    synth = pytest.importorskip("kglink.synth")
    if not hasattr(synth, "generate"):
        pytest.skip("kglink.synth.generate is not written yet")
    synth.generate(tmp_path / "county", households=300, seed=7)
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, sorted(p for p in (tmp_path / "county").iterdir()
                             if (p / "manifest.json").is_file()))
    link(ws)
    first = sync(ws, neo4j_db)
    assert neo4j_dump(neo4j_db) == embedded_dump(embedded.load_graph(ws))
    again = sync(ws, neo4j_db)
    assert again.rows_sent == 0 and again.nodes == first.nodes
