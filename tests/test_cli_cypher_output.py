"""cypher on a real Neo4j: the server's notifications as one readable line each, never the
driver's raw objects; an empty result says so."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kglink.cli import app

runner = CliRunner()


@pytest.fixture
def ws(sample_dir: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    res = runner.invoke(app, ["--workspace", str(ws), "--quiet", "load", str(sample_dir / "police")])
    assert res.exit_code == 0, res.output
    return ws


def cypher(ws: Path, settings, *args: str):  # type: ignore[no-untyped-def]
    env = {"NEO4J_URI": settings.uri, "NEO4J_USER": settings.user,
           "NEO4J_PASSWORD": settings.password.get_secret_value() if settings.password else "",
           "NEO4J_DATABASE": settings.database}
    return runner.invoke(app, ["--workspace", str(ws), "--user", "tester", "cypher", *args], env=env)


@pytest.mark.neo4j
def test_notifications_are_one_readable_line_each_and_no_rows_is_said(ws: Path, neo4j_db) -> None:  # type: ignore[no-untyped-def]
    res = cypher(ws, neo4j_db, "MATCH (p:NoSuchLabel)-[:NO_SUCH_TYPE]->(x) RETURN p")
    assert res.exit_code == 0, res.output
    assert "GqlStatusObject" not in res.output and "Received notification" not in res.output
    assert res.stdout.strip() == "(no rows)"
    notes = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(notes) == 2, res.stderr
    assert all(ln.startswith("Neo4j warning ") and " at line 1, column " in ln for ln in notes)
    assert any("label `NoSuchLabel` does not exist" in ln for ln in notes)
    assert any("relationship type `NO_SUCH_TYPE` does not exist" in ln for ln in notes)


@pytest.mark.neo4j
def test_an_empty_json_result_is_an_empty_list_and_rows_still_print(ws: Path, neo4j_db) -> None:  # type: ignore[no-untyped-def]
    res = cypher(ws, neo4j_db, "RETURN 1 AS n LIMIT 0", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == []
    res = cypher(ws, neo4j_db, "UNWIND [1, 2] AS n RETURN n")
    assert res.exit_code == 0 and "(no rows)" not in res.output and "│ 2 │" in res.output
