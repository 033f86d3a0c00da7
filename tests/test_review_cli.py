"""Review for people: both records side by side (names, dates of birth, homes, sources),
the reason in words, the contradiction behind a conflict, and an answer that is not one
of the choices asked again rather than taken as a skip."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kglink.cli import app
from kglink.linkage.review import queue, why_waiting
from kglink.linkage.rules import MEANING
from kglink.ui import console
from kglink.workspace import Workspace, open_workspace

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 220)     # so table cells do not wrap mid-phrase


def kg(ws: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(ws), "--quiet", "--user", "tester", *args], input=input)


def test_list_shows_both_records_side_by_side_with_the_reason_in_words(linked: Path) -> None:
    res = kg(linked, "review", "--list", "--kind", "person")
    assert res.exit_code == 0, res.output
    row = [ln for ln in res.output.splitlines() if "JONATHAN SMITH" in ln]
    assert row and "JON SMITH" in row[0]                                    # side by side
    out = res.output
    for text in ("childrens_social_care:C10", "police:P1", "born 1985-04-03", "aka JOHNNY SMYTH; J SMITH",
                 "home: Flat 2, 14 High St, Poole, BH15 1AA", "home: none recorded",
                 "from police, persons.csv row 2", "from childrens_social_care, persons.csv row 2"):
        assert text in out, text
    assert re.search(r"the score alone is not sure enough to link: p = 0\.\d{3} \(between 0\.50 and 0\.95\)",
                     out) or "names alone, nothing else agrees: a person must decide" in out
    assert "review: model" not in out


def test_an_invalid_answer_is_asked_again_not_skipped(linked: Path) -> None:
    ws = open_workspace(linked, create=False)
    first = queue(ws, "person", 1)[0]
    ws.close()
    res = kg(linked, "review", "--interactive", "--kind", "person", input="maybe\nsame\nquit\n")
    assert res.exit_code == 0, res.output
    assert res.output.count("Please answer same, different, unsure, skip or quit") == 1
    ws = open_workspace(linked, create=False)
    assert ws.conn.execute("SELECT a, b, decision, decided_by FROM decisions").fetchall() == [
        (first.a, first.b, "same", "tester")]


def test_quit_and_skip_record_nothing(linked: Path) -> None:
    assert kg(linked, "review", "--interactive", input="k\nq\n").exit_code == 0
    ws = open_workspace(linked, create=False)
    assert ws.conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 0


def test_a_conflict_names_the_contradiction_in_list_and_explain(county_ws: Workspace) -> None:
    items = [it for it in queue(county_ws, None, None) if it.status == "conflict"]
    assert items, "the county should hold at least one pair held back by a contradiction"
    why = why_waiting(county_ws, items)
    words = set(MEANING.values()) | {"a person decided they are different"}
    for it in items:
        text = why[(it.a, it.b)]
        assert text.startswith("the score links them, but joining them would put ")
        assert any(w in text for w in words), text
    it = items[0]
    res = kg(county_ws.path, "explain", it.a, it.b)
    assert res.exit_code == 0, res.output
    assert "stored status: conflict" in res.output
    held = res.output.split("held back: ", 1)[1]
    assert "cannot be one" in held and any(w in held for w in words)
    listed = kg(county_ws.path, "review", "--list", "--kind", it.kind, "--limit", "500")
    assert "conflict: conflict" not in listed.output
    assert "the score links them, but joining them would put" in listed.output
