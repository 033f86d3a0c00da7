"""kglink.Workspace, the public Python API, end to end on a small synthetic county: every
read of personal data audited with who and why, a research pack refused without a purpose,
the workspace closed by its `with` block. Every person here is synthetic."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kglink
from kglink.cli import app

USER, WHY = "analyst-7", "issue 17 test: strategy meeting"


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kglink.synth import generate

    out = tmp_path_factory.mktemp("api-county") / "county"
    generate(out, households=60, seed=3)
    return out


@pytest.fixture(scope="module")
def linked_county(county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("api-ws") / "ws"
    with kglink.Workspace(ws, user=USER, purpose=WHY) as w:
        reports = w.load([county])
        assert len([r for r in reports if r.load_id]) == 7     # and truth/ passed over
        report = w.link()
        assert {k.kind for k in report.kinds} == {"address", "person"}
    return ws


def _audit(ws: Path) -> list[tuple[str, str, str | None, dict, dict]]:  # type: ignore[type-arg]
    conn = sqlite3.connect(ws / "kglink.sqlite")
    try:
        return [(u, c, why, json.loads(q), json.loads(r)) for u, c, why, q, r in conn.execute(
            "SELECT user, command, reason, request, result FROM audit ORDER BY seq")]
    finally:
        conn.close()


def test_every_personal_data_read_is_audited_with_who_and_why(linked_county: Path, tmp_path: Path) -> None:
    before = len(_audit(linked_county))
    with kglink.Workspace(linked_county, user=USER, purpose=WHY, create=False) as w:
        found = w.risks()
        assert found, "the county plants risks; some must be found"
        rows = w.export_entities(tmp_path / "entities.csv")
        record = next(f"{r[2]}:{r[3]}" for r in rows if r[1] == "person")
        ent = w.entity(record)
        other = next((k for k, _, _ in ent.records if k != record), record)
        ex = w.explain(record, other)
        waiting = w.review.queue(limit=5)
        child = next(p.entity_id for f in found for p in f.people)
        child_record = next(f"{r[2]}:{r[3]}" for r in rows if r[0] == child)
        pack = w.profile(child_record)
        log = w.audit_log(limit=None)
    assert ex.kind == ent.kind == "person" and pack.subject.entity_id == child
    assert (tmp_path / "entities.csv").read_text().startswith("entity_id,kind,agency,record_id")
    new = _audit(linked_county)[before:]
    assert [c for _, c, _, _, _ in new] == ["risks", "export", "entity", "explain", "review-list", "profile"]
    assert all(u == USER and why == WHY for u, _, why, _, _ in new)
    assert new[0][4]["findings"] == [f.id for f in found]
    assert new[2][3] == {"record": record} and new[5][4]["subject"] == child
    assert len(new[4][4]["pairs"]) == len(waiting)
    assert [e.command for e in log[-6:]] == [c for _, c, _, _, _ in new]


def test_a_research_pack_needs_a_purpose(linked_county: Path) -> None:
    before = len(_audit(linked_county))
    with kglink.Workspace(linked_county, user=USER, create=False) as w:
        record = next(f"{r[2]}:{r[3]}" for r in w.store.conn.execute(
            "SELECT 0, kind, agency, key FROM records WHERE kind = 'person' ORDER BY agency, key LIMIT 1"))
        with pytest.raises(kglink.PurposeRequired, match="needs --reason"):
            w.profile(record)
        with pytest.raises(kglink.PurposeRequired):
            w.profile(record, purpose="   ")
        assert w.profile(record, purpose="named here").reason == "named here"
    after = _audit(linked_county)[before:]
    assert [(c, why) for _, c, why, _, _ in after] == [("profile", "named here")]


def test_the_with_block_closes_the_workspace(linked_county: Path) -> None:
    with kglink.Workspace(linked_county, create=False) as w:
        assert w.status().counts
    with pytest.raises(sqlite3.ProgrammingError):
        w.store.conn.execute("SELECT 1")


def test_nothing_is_returned_when_the_audit_entry_cannot_be_written(linked_county: Path, tmp_path: Path) -> None:
    import shutil

    from kglink.audit import AuditError

    ws = tmp_path / "ws"
    shutil.copytree(linked_county, ws)
    conn = sqlite3.connect(ws / "kglink.sqlite")
    conn.execute("CREATE TRIGGER audit_broken BEFORE INSERT ON audit "
                 "BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END")
    conn.commit()
    conn.close()
    with kglink.Workspace(ws, user=USER, purpose=WHY, create=False) as w:
        record = w.review.pending(limit=1)[0].a
        for read in (lambda: w.entity(record), lambda: w.risks(), lambda: w.review.queue(),
                     lambda: w.export_entities(tmp_path / "out.csv")):
            with pytest.raises(AuditError, match="Nothing was shown"):
                read()
    assert not (tmp_path / "out.csv").exists()


def test_errors_have_one_base_and_the_cli_one_handler(linked_county: Path) -> None:
    with kglink.Workspace(linked_county, create=False) as w, pytest.raises(kglink.KglinkError) as e:
        w.entity("police:NOBODY")
    assert "no person or address record police:NOBODY" in str(e.value)
    res = CliRunner().invoke(app, ["--workspace", str(linked_county), "entity", "police:NOBODY"])
    assert res.exit_code == 2
    assert res.output.strip() == f"Error: {e.value}."
    with pytest.raises(kglink.KglinkError, match="no kglink workspace at"):
        kglink.Workspace(linked_county.parent / "missing", create=False)


def test_the_cli_passes_the_purpose_to_the_audit_log(linked_county: Path) -> None:
    record = next(c for c in _first_person(linked_county))
    runner = CliRunner()
    assert runner.invoke(app, ["--workspace", str(linked_county), "--user", "cli-user", "--purpose", "by flag",
                               "entity", record]).exit_code == 0
    assert runner.invoke(app, ["--workspace", str(linked_county), "--user", "cli-user", "entity", record],
                         env={"KGLINK_PURPOSE": "by env"}).exit_code == 0
    res = runner.invoke(app, ["--workspace", str(linked_county), "--user", "cli-user", "profile", record])
    assert res.exit_code == 2 and "needs --reason" in res.output
    got = [(u, c, why) for u, c, why, _, _ in _audit(linked_county)][-2:]
    assert got == [("cli-user", "entity", "by flag"), ("cli-user", "entity", "by env")]


def _first_person(ws: Path) -> list[str]:
    conn = sqlite3.connect(ws / "kglink.sqlite")
    try:
        return [f"{a}:{k}" for a, k in conn.execute(
            "SELECT agency, key FROM records WHERE kind = 'person' ORDER BY agency, key LIMIT 1")]
    finally:
        conn.close()


@pytest.mark.neo4j
def test_sync_and_read_only_cypher_through_the_api(linked_county: Path, tmp_path: Path, neo4j_db) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from kglink.graph.cypher_guard import CypherRefused

    ws = tmp_path / "ws"
    shutil.copytree(linked_county, ws)
    with kglink.Workspace(ws, user=USER, purpose=WHY, neo4j=neo4j_db, create=False) as w:
        w.sync()
        rows, _ = w.cypher("MATCH (p:Person) RETURN count(p) AS n")
        assert rows[0]["n"] > 0
        with pytest.raises(CypherRefused, match="refused, nothing was sent"):
            w.cypher("MATCH (p:Person) DETACH DELETE p")
        assert w.risks(["wanted-with-child-access"]) is not None
    got = [(c, r) for _, c, _, _, r in _audit(ws)][-4:]
    assert [c for c, _ in got] == ["sync", "cypher", "cypher", "risks"]
    assert got[1][1] == {"rows": 1} and "refused" in got[2][1]
