"""A Neo4j cluster through a `neo4j://` routing URI, tested against the single local
server with routing on (a standalone Neo4j 5 answers the driver's routing requests as the
leader and the only follower). Writes go in write transactions, reads in read
transactions carrying the bookmarks of the writes before them. Every person is synthetic.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import neo4j
import pytest

from kglink.graph import embedded, neo4j_conn
from kglink.graph.neo4j_store import Neo4jSettings, Neo4jStoreError, read_query, sync, sync_status
from kglink.linkage.run import link
from kglink.loaders.load import load_extracts
from kglink.queries.runner import run_embedded, run_neo4j
from kglink.workspace import Workspace, open_workspace

pytestmark = pytest.mark.neo4j


@pytest.fixture
def routed(neo4j_db: Neo4jSettings) -> Neo4jSettings:
    """The test server's settings with a routing URI: neo4j://HOST:PORT."""
    u = urlparse(neo4j_db.uri)
    return neo4j_db.model_copy(update={"uri": f"neo4j://{u.hostname}:{u.port}"})


@pytest.fixture
def ws(tmp_path: Path, sample_dir: Path) -> Workspace:
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, sorted(p for p in sample_dir.iterdir() if p.is_dir()))
    link(ws)
    return ws


def test_the_server_answers_routing_with_a_writer_and_a_reader(routed: Neo4jSettings) -> None:
    d = neo4j_conn.driver(routed)
    assert isinstance(d, neo4j.Neo4jDriver)          # a routing driver, not a direct one
    auth = (routed.user, routed.password.get_secret_value()) if routed.password else None
    with neo4j.GraphDatabase.driver(routed.uri, auth=auth) as probe:
        with probe.session(database=routed.database) as s:
            table = s.run("CALL dbms.routing.getRoutingTable({}, $db)", db=routed.database).single()
    roles = {r["role"] for r in table["servers"]}
    assert {"WRITE", "READ", "ROUTE"} <= roles


def test_sync_through_the_leader_and_queries_on_followers_match_the_embedded_store(
        routed: Neo4jSettings, ws: Workspace) -> None:
    small = routed.model_copy(update={"writers": 2, "batch_size": 7})   # many transactions
    report = sync(ws, small)
    g = embedded.load_graph(ws)
    assert report.full and report.nodes == g.number_of_nodes()
    # The sync's sessions left their bookmarks with the settings' manager: reads carrying
    # them wait, on a cluster, until the follower has applied the sync.
    assert neo4j_conn.bookmarks(small).get_bookmarks()
    status = sync_status(routed)
    assert status and status["status"] == "complete"
    counted = read_query("MATCH (n) WHERE NOT n:KglinkSync RETURN count(n) AS n", settings=routed)
    assert counted == [{"n": g.number_of_nodes()}]
    neo = [f.model_dump() for f in run_neo4j(ws, routed)]
    assert json.dumps(neo, sort_keys=True) == json.dumps(
        [f.model_dump() for f in run_embedded(ws)], sort_keys=True)
    # A second sync finds the database complete and as this workspace left it.
    again = sync(ws, routed)
    assert again.rows_sent == 0


def test_reads_are_read_transactions_that_refuse_writes(routed: Neo4jSettings, ws: Workspace) -> None:
    sync(ws, routed)
    with pytest.raises(Neo4jStoreError, match="tries to write"):
        read_query("CREATE (n:Person {uid: 'x'}) RETURN n", settings=routed)
    assert read_query("MATCH (n:Person {uid: 'x'}) RETURN n", settings=routed) == []


def test_a_read_in_a_new_session_sees_the_write_before_it(routed: Neo4jSettings) -> None:
    """Causal consistency across sessions: the shared bookmark manager."""
    with neo4j_conn.session(routed) as s:
        neo4j_conn.run_write(s, "CREATE (p:RoutingProbe {n: $n}) RETURN 1", n=1)
    rows = read_query("MATCH (p:RoutingProbe) RETURN p.n AS n", settings=routed,
                      require_complete=False)
    assert rows == [{"n": 1}]
