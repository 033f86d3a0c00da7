"""Finding a person for a research pack: fuzzy names (nicknames, spelling, sound), date of
birth, address, postcode, phone and identifiers; candidates listed with names, ages,
homes and agencies; the audit log holds which terms were used, never their values."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kglink.cli import app
from kglink.search import SearchError, Terms, search
from kglink.workspace import open_workspace

runner = CliRunner()
REF = date(2026, 11, 26)      # the sample extracts' date
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("search") / "ws"
    for args in (["load", str(DATA / "sample" / "police"), str(DATA / "sample" / "childrens_social_care")],
                 ["link"]):
        res = runner.invoke(app, ["--workspace", str(ws), "--quiet", *args])
        assert res.exit_code == 0, res.output
    return ws


def found(ws_path: Path, **terms: str) -> dict[str, list[str]]:
    """first listed name -> records, for each candidate."""
    ws = open_workspace(ws_path, create=False)
    try:
        return {c.names[0]: c.records for c in search(ws, Terms(**terms), REF)}
    finally:
        ws.close()


def test_a_nickname_finds_the_formal_name_and_back(ws_path: Path) -> None:
    hits = found(ws_path, name="Jonathan Smith")
    assert {"JON SMITH", "JONATHAN SMITH"} == set(hits)
    assert found(ws_path, name="Jon Smith").keys() == hits.keys()


def test_an_alias_and_a_close_spelling_are_found(ws_path: Path) -> None:
    assert found(ws_path, name="Johnny Smyth")["JOHNNY SMYTH"] == ["police:P1"]   # P1's alias, shown first
    assert "AMY OBRIEN" in found(ws_path, name="Amy O'Brian")       # close spelling


def test_a_name_alone_lists_everyone_of_it_and_nobody_else(ws_path: Path) -> None:
    hits = found(ws_path, name="OBRIEN")
    assert set(hits) == {"AMY OBRIEN", "LEAH OBRIEN"}


def test_date_of_birth_narrows_a_name(ws_path: Path) -> None:
    assert set(found(ws_path, name="Smith", dob="03/04/1985")) == {"JON SMITH", "JONATHAN SMITH"}
    assert found(ws_path, name="Smith", dob="1999-01-01") == {}


@pytest.mark.parametrize("terms, who", [
    ({"postcode": "bh15 1aa"}, {"AMY OBRIEN", "LEAH OBRIEN", "JON SMITH"}),
    ({"postcode": "BH15"}, {"AMY OBRIEN", "LEAH OBRIEN", "JON SMITH"}),         # a district
    ({"address": "14 High Street"}, {"AMY OBRIEN", "LEAH OBRIEN", "JON SMITH"}),  # St = Street
    ({"address": "7 Mill Road"}, {"MARK JONES"}),
    ({"address": "14 High Street", "name": "Leah"}, {"LEAH OBRIEN"}),
    ({"phone": "07700 900123"}, {"JON SMITH"}),
    ({"identifier": "943 476 5919"}, {"AMY OBRIEN"}),                            # NHS number
    ({"identifier": "2019/0123456A"}, {"JON SMITH", "MARK JONES"}),              # PNC id
])
def test_search_by_place_contact_and_identifier(ws_path: Path, terms: dict[str, str], who: set[str]) -> None:
    assert set(found(ws_path, **terms)) == who


def test_unusable_terms_are_refused_in_words(ws_path: Path) -> None:
    ws = open_workspace(ws_path, create=False)
    with pytest.raises(SearchError, match="not an NHS number"):
        search(ws, Terms(identifier="12345"), REF)
    with pytest.raises(SearchError, match="give something to search by"):
        search(ws, Terms(), REF)
    ws.close()


def test_candidates_show_names_ages_homes_and_agencies(ws_path: Path) -> None:
    res = runner.invoke(app, ["--workspace", str(ws_path), "--user", "tester", "profile",
                              "--name", "OBRIEN", "--reason", "test search"])
    assert res.exit_code == 1, res.output
    out = res.output
    ws = open_workspace(ws_path, create=False)
    n = len(search(ws, Terms(name="OBRIEN"), REF))    # 2 or 3: Leah's two records may await review
    ws.close()
    assert out.startswith(f"{n} people match; run again with one of their records")
    assert "AMY OBRIEN (also AMY LOUISE OBRIEN), age 36 (born 1990-07-12)" in out
    assert "LEAH OBRIEN, age 11 (born 2015-09-30)" in out
    assert "born unknown" not in out and "not recorded" not in out
    assert "home: " in out and "Flat 2, 14 High St, Poole, BH15 1AA" in out
    assert "agencies: childrens_social_care, police" in out
    assert "matched on: name (same name)" in out
    from kglink.audit import entries

    [entry] = entries(open_workspace(ws_path), command="profile", limit=1)
    assert entry.request == {"search": ["name"]}
    assert "OBRIEN" not in json.dumps(entry.request) + json.dumps(entry.result)


def test_one_match_makes_the_pack_and_none_says_what_to_do(ws_path: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["--workspace", str(ws_path), "profile", "--phone", "07700900123",
                              "--reason", "test", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    pack = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert pack["subject"]["name"] == "JON SMITH"
    res = runner.invoke(app, ["--workspace", str(ws_path), "profile", "--name", "Xavier",
                              "--dob", "2001-01-01", "--reason", "test"])
    assert res.exit_code == 2
    assert res.output.startswith("Error: nobody matches the name and the date of birth. Check the spelling")
