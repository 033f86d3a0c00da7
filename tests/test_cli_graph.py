"""sync, cypher, risks and audit through the CLI, against the real Neo4j."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kglink.cli import app

runner = CliRunner()


def kg(ws: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(ws), "--quiet", "--user", "analyst", *args],
                         env=env or {})


def _neo_env(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"NEO4J_URI": settings.uri, "NEO4J_USER": settings.user,
            "NEO4J_PASSWORD": settings.password.get_secret_value() if settings.password else "",
            "NEO4J_DATABASE": settings.database}


@pytest.mark.neo4j
def test_sync_then_cypher_reads_and_refuses_writes(linked: Path, neo4j_db) -> None:  # type: ignore[no-untyped-def]
    env = _neo_env(neo4j_db)
    first = kg(linked, "sync", env=env)
    assert first.exit_code == 0, first.output
    again = kg(linked, "sync", env=env)
    assert "written 0 nodes and 0 relationships, deleted 0 and 0" in again.output
    res = kg(linked, "cypher", "MATCH (f:Flag {flag: $f}) RETURN f.agency AS agency", "--param", "f=wanted",
             "--format", "json", env=env)
    assert res.exit_code == 0 and json.loads(res.output) == [{"agency": "police"}]
    write = kg(linked, "cypher", "CREATE (n:Person {uid: 'x'}) RETURN n", env=env)
    assert write.exit_code == 2
    assert "CREATE is not allowed" in write.output and "nothing was sent" in write.output
    embedded = json.loads(kg(linked, "risks", "--format", "json").output)
    on_neo = json.loads(kg(linked, "risks", "--format", "json", env=env).output)
    assert on_neo == embedded and embedded


def test_risks_unknown_query_and_bad_param_say_what_to_do(linked: Path) -> None:
    res = kg(linked, "risks", "--query", "no-such-query")
    assert res.exit_code == 2 and "Known: " in res.output and "wanted-with-child-access" in res.output
    res = kg(linked, "risks", "--param", "hours=2")
    assert res.exit_code == 2 and "QUERY.NAME=VALUE" in res.output


def test_sync_without_neo4j_says_how(linked: Path) -> None:
    res = kg(linked, "sync")
    assert res.exit_code == 2 and "Pass --neo4j bolt://HOST:PORT or set NEO4J_URI" in res.output


def test_audit_log_is_append_only_and_holds_no_personal_values(linked: Path) -> None:
    kg(linked, "risks", "--format", "json")
    kg(linked, "entity", "police:P1")
    conn = sqlite3.connect(linked / "kglink.sqlite")
    rows = conn.execute("SELECT user, command, request, result FROM audit").fetchall()
    assert {r[1] for r in rows} >= {"link", "risks", "entity"} and {r[0] for r in rows} == {"analyst"}
    text = json.dumps(rows)
    for personal in ("SMITH", "OBRIEN", "1985-04-03", "BH15"):
        assert personal not in text
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET user = 'someone else'")


def test_export_entities_lists_every_record_once(linked: Path, tmp_path: Path) -> None:
    out = tmp_path / "entities.csv"
    assert kg(linked, "export", "entities", "--out", str(out)).exit_code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "entity_id,kind,agency,record_id"
    keys = [tuple(line.split(",")[1:]) for line in lines[1:]]
    assert len(keys) == len(set(keys)) == 8 + 4       # 8 person and 4 address records
