"""Issue 14 on the real local Neo4j: LOAD CSV, SHOW USERS and the like are refused, a plain
MATCH still works, the server itself reads no local files, and its password is per install."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import neo4j
import pytest
from typer.testing import CliRunner

from kglink.cli import app

runner = CliRunner()
pytestmark = pytest.mark.neo4j


def kg(ws: Path, *args: str, env: dict[str, str]):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(ws), "--quiet", "--user", "analyst", *args], env=env)


@pytest.fixture
def synced(sample_dir: Path, tmp_path: Path, neo4j_db):  # type: ignore[no-untyped-def]
    env = {"NEO4J_URI": neo4j_db.uri, "NEO4J_USER": neo4j_db.user,
           "NEO4J_PASSWORD": neo4j_db.password.get_secret_value() if neo4j_db.password else "",
           "NEO4J_DATABASE": neo4j_db.database, "COLUMNS": "200"}
    ws = tmp_path / "ws"
    assert kg(ws, "load", str(sample_dir / "police"), str(sample_dir / "childrens_social_care"),
              env=env).exit_code == 0
    assert kg(ws, "link", env=env).exit_code == 0
    assert kg(ws, "sync", env=env).exit_code == 0
    return ws, env


@pytest.mark.parametrize("statement, keyword", [
    ("LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l", "LOAD"),
    ("SHOW USERS", "SHOW"),
    ("CALL dbms.listConfig()", "dbms.listConfig"),
    ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", "TERMINATE"),
    ("USE system SHOW USERS", "USE"),
])
def test_cypher_refuses_more_than_reading(synced, statement: str, keyword: str) -> None:  # type: ignore[no-untyped-def]
    ws, env = synced
    res = kg(ws, "cypher", statement, env=env)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and keyword in lines[0]
    assert "root:" not in res.output
    refused = sqlite3.connect(ws / "kglink.sqlite").execute(
        "SELECT result FROM audit WHERE command = 'cypher'").fetchall()
    assert [json.loads(r[0]).get("refused") for r in refused][-1]


def test_a_plain_match_still_works(synced) -> None:  # type: ignore[no-untyped-def]
    ws, env = synced
    res = kg(ws, "cypher", "MATCH (f:Flag {flag: $f}) RETURN f.agency AS agency", "--param", "f=wanted",
             "--format", "json", env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == [{"agency": "police"}]
    res = kg(ws, "cypher", "CALL db.labels() YIELD label RETURN label ORDER BY label", "--format", "json", env=env)
    assert res.exit_code == 0 and {"label": "Person"} in json.loads(res.output)


def test_the_local_server_itself_refuses_load_csv_from_files(neo4j_db) -> None:  # type: ignore[no-untyped-def]
    """Past kglink's own check (a driver straight to the server): file URLs are off."""
    if os.environ.get("NEO4J_URI"):
        pytest.skip("not the local server from scripts/neo4j-local")
    from kglink.graph.neo4j_store import driver

    with driver(neo4j_db).session(database=neo4j_db.database,
                                  default_access_mode=neo4j.READ_ACCESS) as s:
        with pytest.raises(neo4j.exceptions.Neo4jError) as err:
            s.run("LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l LIMIT 1").consume()
    assert "allow_csv_import_from_file_urls" in str(err.value) and "root:" not in str(err.value)


def test_the_local_password_is_random_per_install_and_owner_only(neo4j_db) -> None:  # type: ignore[no-untyped-def]
    if os.environ.get("NEO4J_URI") or os.environ.get("KGLINK_NEO4J_PASSWORD"):
        pytest.skip("not the local server's generated password")
    from kglink.graph.neo4j_conn import Neo4jSettings, local_password_file

    path = local_password_file()
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    password = path.read_text().strip()
    assert len(password) >= 20 and password != "kglink-dev-password"
    # kglink finds it without NEO4J_PASSWORD, for a server on this machine only
    assert Neo4jSettings.from_env(uri=neo4j_db.uri).password.get_secret_value() == password  # type: ignore[union-attr]
    assert Neo4jSettings.from_env(uri="bolt://db.example:7687").password is None
    with neo4j.GraphDatabase.driver(neo4j_db.uri, auth=("neo4j", "kglink-dev-password")) as d:
        with pytest.raises(neo4j.exceptions.AuthError):
            d.verify_connectivity()
