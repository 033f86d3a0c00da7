"""kglink cypher refuses, before sending, anything but reading the graph (issue 14)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kglink.graph.cypher_guard import CypherRefused, check_read_only

REFUSED = [
    ("LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l", "LOAD"),
    ("load csv with headers from 'https://evil.example/x.csv' as row return row", "LOAD"),
    ("MATCH (n) WITH n LIMIT 1 LOAD CSV FROM 'file:///etc/shadow' AS l RETURN l", "LOAD"),
    ("SHOW USERS", "SHOW"),
    ("show databases", "SHOW"),
    ("SHOW TRANSACTIONS YIELD transactionId RETURN transactionId", "SHOW"),
    ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", "TERMINATE"),
    ("CALL dbms.listConfig()", "dbms.listConfig"),
    ("CALL dbms.listConfig() YIELD name, value RETURN name, value", "dbms.listConfig"),
    ("CALL `dbms`.`listConfig`()", "dbms.listConfig"),
    ("CALL dbms.security.listUsers()", "dbms.security.listUsers"),
    ("CALL db.index.fulltext.createNodeIndex('x', ['P'], ['n'])", "db.index.fulltext"),
    ("CALL apoc.load.csv('file:///etc/passwd')", "apoc.load.csv"),
    ("CALL dbms.killQuery('q-1')", "dbms.killQuery"),
    ("MATCH (n) CALL { WITH n CALL dbms.listConfig() YIELD name RETURN name } RETURN name", "dbms.listConfig"),
    ("RETURN apoc.cypher.runFirstColumnSingle('LOAD CSV FROM $u AS l RETURN l', {u: 'file:///x'})",
     "apoc.cypher"),
    ("CREATE (n:Person {uid: 'x'}) RETURN n", "CREATE"),
    ("MATCH (n) SET n.flag = 'x'", "SET"),
    ("MATCH (n) DETACH DELETE n", "DETACH"),
    ("MATCH (n) REMOVE n.name", "REMOVE"),
    ("MERGE (n:X {a: 1})", "MERGE"),
    ("MATCH (n) FOREACH (x IN [1] | SET n.a = x)", "FOREACH"),
    ("DROP INDEX person_uid IF EXISTS", "DROP"),
    ("CREATE INDEX x FOR (n:Person) ON (n.name)", "CREATE"),
    ("ALTER USER neo4j SET PASSWORD 'x'", "ALTER"),
    ("GRANT ROLE admin TO reader", "GRANT"),
    ("REVOKE ROLE admin FROM reader", "REVOKE"),
    ("DENY READ {*} ON GRAPH * TO reader", "DENY"),
    ("STOP DATABASE neo4j", "DATABASE"),
    ("USE system SHOW USERS", "USE"),
    ("USE system MATCH (n) RETURN n", "USE"),
    ("MATCH (n) CALL (n) { SET n.x = 1 } IN TRANSACTIONS RETURN 1", "SET"),
    ("MATCH (n) CALL { WITH n RETURN n AS m } IN TRANSACTIONS OF 10 ROWS RETURN m", "TRANSACTIONS"),
    ("MATCH (n) RETURN n; MATCH (m) DETACH DELETE m", "one statement"),
    ("MATCH (n) RETURN n; MATCH (m) RETURN m", "one statement"),
    # comments do not hide a keyword ...
    ("MATCH (n) /* a comment */ DELETE n", "DELETE"),
    ("// harmless comment\nLOAD CSV FROM 'file:///etc/passwd' AS l RETURN l", "LOAD"),
    ("MATCH (n)\n// comment\nSET n.x = 1", "SET"),
    # ... nor does a string, a quote escaped inside one, or odd case and spacing
    ("MATCH (n) WHERE n.name = 'it\\'s' SET n.x = 1", "SET"),
    ("MATCH (n) WHERE n.name = \"a\\\"b\" DeLeTe n", "DELETE"),
    ("MATCH (n)\tSET\nn.x=1", "SET"),
    ("CALL\n  dbms . listConfig ()", "dbms.listConfig"),
    # what cannot be read is refused
    ("MATCH (n) WHERE n.name = 'unclosed RETURN n", "quote"),
    ("MATCH (n) /* unclosed RETURN n", "comment"),
    ("MATCH (`unclosed) RETURN 1", "backtick"),
    ("", "empty"),
    ("   // only a comment", "empty"),
    ("CALL", "names nothing"),
]

ALLOWED = [
    "MATCH (p:Person) RETURN count(p)",
    "MATCH (p:Person {entity_id: $id})--(x) RETURN x",
    "MATCH (f:Flag {flag: $f}) RETURN f.agency AS agency",
    # keywords inside strings, comments, property names and backticks are not clauses
    "MATCH (n) WHERE n.description = 'LOAD CSV FROM file:///etc/passwd; DELETE n' RETURN n",
    "MATCH (n) WHERE n.note CONTAINS \"SHOW USERS\" RETURN n.note",
    "MATCH (n) // SET n.x = 1\nRETURN n",
    "MATCH (n) /* DETACH DELETE n */ RETURN n",
    "MATCH (n) RETURN n.set, n.delete, n.create AS `create`, n.load",
    "MATCH (`delete`:Person) RETURN `delete`.name",
    "MATCH (n) WHERE n.name = 'it\\'s; DROP' RETURN n",
    "CALL db.labels() YIELD label RETURN label",
    "CALL db.relationshipTypes()",
    "CALL db.schema.visualization()",
    "MATCH (n) CALL (n) { MATCH (n)--(m) RETURN count(m) AS c } RETURN n.uid, c",
    "MATCH (n) CALL { WITH n MATCH (n)--(m) RETURN m } RETURN m",
    "MATCH (a:Address) RETURN point.distance(point({x: 1, y: 2}), point({x: 2, y: 3})) AS d",
    "RETURN date.truncate('month', date('2026-11-26')), duration.between(date(), date())",
    "MATCH (n) RETURN exists { (n)--() } AS linked, COUNT { (n)--() } AS degree",
    "EXPLAIN MATCH (n) RETURN n",
    "PROFILE MATCH (n) RETURN n LIMIT 1",
    "MATCH (n) RETURN n;",
    "MATCH p = (a)-[*1..3]->(b) RETURN length(p)",
    "UNWIND $ids AS id MATCH (n {uid: id}) RETURN n ORDER BY n.uid SKIP 1 LIMIT 10",
]


@pytest.mark.parametrize("statement, why", REFUSED)
def test_refused(statement: str, why: str) -> None:
    with pytest.raises(CypherRefused, match=why.replace(".", r"\.").replace("(", r"\(")):
        check_read_only(statement)


@pytest.mark.parametrize("statement", ALLOWED)
def test_allowed(statement: str) -> None:
    check_read_only(statement)


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@given(st.text())
def test_any_string_literal_neither_fools_nor_blocks_the_check(text: str) -> None:
    check_read_only(f"MATCH (n) WHERE n.description = {_literal(text)} RETURN n")
    with pytest.raises(CypherRefused):
        check_read_only(f"LOAD CSV FROM {_literal(text)} AS l RETURN l")
    with pytest.raises(CypherRefused):
        check_read_only(f"MATCH (n) WHERE n.x = {_literal(text)} DETACH DELETE n")


@given(st.text().filter(lambda t: "*/" not in t))
def test_any_block_comment_neither_fools_nor_blocks_the_check(text: str) -> None:
    check_read_only(f"MATCH (n) /*{text}*/ RETURN n")
    with pytest.raises(CypherRefused):
        check_read_only(f"MATCH (n) /*{text}*/ SET n.x = 1")
