"""Names-only pairs of a full name few persons hold wait for a person (linkage.rare_names)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson
import pytest

from kglink.linkage import rare_names
from kglink.linkage.model import Model
from kglink.linkage.prepare import Table, _obj
from kglink.linkage.registry import LOCATION, comparisons_for
from kglink.linkage.settings import person_settings

ST = person_settings()
COMPS = comparisons_for("person", ST.comparisons)
COL = {c.name: k for k, c in enumerate(COMPS)}


def _model() -> Model:
    """A model whose weights say what agency data says of places (learnt so on every
    county): the same home is strong, one postcode some support, a district alone or no
    address in common evidence against."""
    m = [c.start_m() for c in COMPS]
    u = [[1 / c.n_levels] * c.n_levels for c in COMPS]
    loc = {"same_postcode": 4.0, "same_district": 0.25, "none_in_common": 1 / 64}
    m[COL["location"]] = [u[COL["location"]][0] * loc.get(name, 1.0) for name, _ in
                          ((lv.name, lv.label) for lv in COMPS[COL["location"]].levels)]
    return Model(ST, m, u, 1e-4)


def _people(rows: list[tuple[str, str, str, str, str]]) -> Table:
    """(forenames, surname, dob, sex, home entity or "") per record, one agency each."""
    n = len(rows)
    t = Table("person", [f"a{i}:{i}" for i in range(n)])
    t.cols.update(forenames_all=_obj([r[0] for r in rows]), forename=_obj([r[0].split(" ")[0] for r in rows]),
                  surname=_obj([r[1] for r in rows]),
                  dob=_obj([r[2] for r in rows]), sex=_obj([r[3] for r in rows]),
                  **{c: _obj([""] * n) for c in ("nhs_number", "pnc_id", "upn", "phone", "email")})
    t.multi.update(names=[[f"{r[0]}\x1f{r[1]}"] for r in rows], related=[[] for _ in rows],
                   address_entity=[[r[4]] if r[4] else [] for r in rows], crowded_entity=[[] for _ in rows],
                   postcode=[[] for _ in rows])
    return t


def _queue(t: Table, entity: list[int], pairs: list[tuple[int, int]], location: list[int],
           conflict: bool = False) -> tuple[list[int], list[int]]:
    left = np.array([a for a, _ in pairs], dtype=np.int64)
    right = np.array([b for _, b in pairs], dtype=np.int64)
    gamma = np.full((len(pairs), len(COMPS)), -1, dtype=np.int8)
    gamma[:, COL["forename"]] = gamma[:, COL["surname"]] = gamma[:, COL["sex"]] = 0
    gamma[:, COL["location"]] = location
    ent = np.array(entity, dtype=np.int64)
    members: dict[int, list[int]] = {}
    for i, e in enumerate(entity):
        members.setdefault(e, []).append(i)
    got, holders = rare_names.queue(t, ST, _model(), COMPS, left, right, gamma,
                                    np.full(len(pairs), "", dtype=object), ent, members,
                                    lambda i, j: conflict)
    return got.tolist(), holders.tolist()


NA = -1


def test_a_full_name_two_persons_hold_with_nothing_against_waits_for_a_person() -> None:
    """OSCAR YATLAND with a date of birth and a home in one agency, by name only in another:
    two persons hold the name (as linked), so even odds that they are one: review."""
    t = _people([("OSCAR", "YATLAND", "19891031", "M", "H1"), ("OSCAR HARRY", "YATLAND", "", "M", "")])
    assert _queue(t, [0, 1], [(0, 1)], [NA]) == ([0], [2])


def test_one_postcode_counts_for_more_persons_than_no_place_on_one_side() -> None:
    """The model's weight for one postcode (two bits here) carries the odds of a name three
    persons hold; with no place on one side it does not."""
    rows = [("ADA", "QUILL", "", "F", "")] * 3
    assert _queue(_people(rows), [0, 1, 2], [(0, 1)], [LOCATION["same_postcode"]]) == ([0], [3])
    assert _queue(_people(rows), [0, 1, 2], [(0, 1)], [NA]) == ([], [])


def test_a_common_full_name_does_not_wait_for_a_person() -> None:
    rows = [("JACK", "SMITH", "", "M", "")] * 6
    assert _queue(_people(rows), [0, 1, 2, 3, 4, 5], [(0, 1)], [NA]) == ([], [])


def test_a_full_name_one_person_holds_in_three_agencies_counts_as_one_person() -> None:
    """Three records already linked as one person, a fourth of the name alone: two persons
    hold it, not four records."""
    rows = [("NELL", "ORMEROD", "19700304", "F", "H1")] * 3 + [("NELL", "ORMEROD", "", "F", "")]
    assert _queue(_people(rows), [0, 0, 0, 3], [(0, 3), (1, 3), (2, 3)], [NA] * 3) == ([0, 1, 2], [2, 2, 2])


@pytest.mark.parametrize("why", ["places apart", "persons apart", "district only", "a rule separates"])
def test_names_only_with_something_against_does_not_wait(why: str) -> None:
    rows = [("OSCAR", "YATLAND", "", "M", "H1"), ("OSCAR", "YATLAND", "", "M", "H2")]
    location, conflict, entity = [LOCATION["none_in_common"]], False, [0, 1]
    if why == "persons apart":
        # The pair itself has no place on one side; the other record of the second person
        # lives elsewhere, and nothing of the two persons is in common.
        rows = [rows[0], ("OSCAR", "YATLAND", "", "M", ""), ("OSCAR", "YATLAND", "", "M", "H2")]
        location, entity = [NA], [0, 1, 1]
    elif why == "district only":
        location = [LOCATION["same_district"]]
    elif why == "a rule separates":
        location, conflict = [NA], True
    assert _queue(_people(rows), entity, [(0, 1)], location, conflict) == ([], [])


def test_a_pair_the_model_keeps_or_one_person_already_holds_is_left_alone() -> None:
    t = _people([("OSCAR", "YATLAND", "", "M", ""), ("OSCAR", "YATLAND", "", "M", "")])
    assert _queue(t, [0, 0], [(0, 1)], [NA]) == ([], [])


def test_name_holders_count_persons_not_records() -> None:
    t = _people([("AMY LOU", "RAY", "", "F", ""), ("AMY", "RAY", "", "F", ""), ("AMY", "RAY", "", "F", ""),
                 ("", "RAY", "", "F", "")])
    assert rare_names.name_holders(t, np.array([0, 0, 2, 3])).tolist() == [2, 2, 2, 0]


def test_explain_says_how_many_persons_hold_the_name(tmp_path: Path) -> None:
    """A pair queued for its full name is explained by the run's count of its holders, which
    a table of two records cannot work out again."""
    import json

    from kglink.linkage.explain import explain
    from kglink.linkage.run import link
    from kglink.loaders.load import load_extracts
    from kglink.workspace import open_workspace

    dirs = []
    for agency, row in (("health", "H1,Oscar,YATLAND,1989-10-31,M"), ("education", "S1,Oscar Harry,YATLAND,,M")):
        d = tmp_path / agency
        d.mkdir()
        (d / "manifest.json").write_text(json.dumps({
            "format": "kglink-extract", "version": 1, "agency": agency, "system": "test",
            "extracted_at": "2026-11-26T02:00:00Z"}))
        (d / "persons.csv").write_text(f"record_id,forenames,surname,dob,sex\n{row}\n")
        dirs.append(d)
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, dirs)
    link(ws)
    # As a run on a workspace large enough for the model to score the pair below review
    # stores it (kglink/linkage/run.py): the levels, and how many persons hold the name.
    levels = [-1] * len(COMPS)
    levels[COL["forename"]] = levels[COL["surname"]] = levels[COL["sex"]] = 0
    ws.conn.execute("DELETE FROM links WHERE kind = 'person'")
    ws.conn.execute("INSERT INTO links (kind, a, b, match_weight, probability, model_status, status, reason, explanation) "
                    "VALUES ('person', 'education:S1', 'health:H1', -0.7, 0.38, 'review', 'review', ?, ?)",
                    (rare_names.REASON, orjson.dumps({"levels": levels, "name_holders": 2}).decode()))
    ex = explain(ws, "health:H1", "education:S1")
    assert (ex.model_status, ex.rule) == ("review", "rule:rare_full_name")
    assert "a full name 2 persons in this workspace hold" in ex.note
    assert math.isfinite(ex.total)
