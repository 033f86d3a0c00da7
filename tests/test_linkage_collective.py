"""Every place a record is tied to as location evidence, and collective linkage through
linked relatives (kglink/linkage/prepare.py, registry.py, relational.py). Synthetic people."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kglink.linkage import relational
from kglink.linkage.entities import entity_map
from kglink.linkage.prepare import NO_CHILD_BORN, Table, person_table
from kglink.linkage.registry import LOCATION, PERSON_COMPARISONS
from kglink.linkage.run import link
from kglink.linkage.settings import person_settings
from kglink.loaders.load import load_extracts
from kglink.workspace import Workspace, open_workspace

HEADERS = {
    "persons.csv": "record_id,forenames,surname,dob,sex",
    "addresses.csv": "record_id,line1,line2,town,postcode,uprn,kind",
    "occupancies.csv": "person_id,address_id,relation,from_date,to_date",
    "relationships.csv": "person_id,other_person_id,relation,from_date,to_date",
    "events.csv": "record_id,type,occurred_at,ended_at,risk,status,reference,description,attributes",
    "event_people.csv": "event_id,person_id,role",
    "event_addresses.csv": "event_id,address_id,role",
}


def _extract(root: Path, agency: str, files: dict[str, list[str]]) -> Path:
    d = root / agency
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps({
        "format": "kglink-extract", "version": 1, "agency": agency, "system": "test",
        "extracted_at": "2026-11-26T02:00:00Z"}))
    for name, header in HEADERS.items():
        (d / name).write_text("\n".join([header, *files.get(name, [])]) + "\n")
    return d


def _linked(tmp_path: Path, *extracts: Path) -> tuple[Workspace, Table]:
    """The extracts loaded and linked, and the person table linkage prepared from them."""
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, list(extracts))
    link(ws)
    return ws, person_table(ws, entity_map(ws, "address"), person_settings().crowded_address_people)


def test_a_victim_with_no_home_on_file_is_placed_at_the_incident_at_her_home(tmp_path: Path) -> None:
    """The issue's shape: a woman in a police extract with a date of birth and no home, the
    victim of a domestic incident at an address; the same woman in an education extract as
    a pupil's contact living at that address, without a date of birth."""
    police = _extract(tmp_path, "police", {
        "persons.csv": ["P1,Dana,OKORO,12/03/1990,F", "P2,Rick,VANCE,01/02/1985,M"],
        "addresses.csv": ["A1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential",
                          "A2,Poole Quay Stores,,Poole,BH15 4AA,,business"],
        "occupancies.csv": ["P2,A1,lives_at,2024-01-01,"],
        "events.csv": ["E1,domestic_abuse,2026-10-01T22:15,,High,open,,,",
                       "E2,incident,2026-10-03T12:00,,,closed,,,"],
        "event_people.csv": ["E1,P1,victim", "E1,P2,perpetrator", "E2,P1,witness"],
        "event_addresses.csv": ["E1,A1,location", "E2,A2,location"],
    })
    school = _extract(tmp_path, "education", {
        "persons.csv": ["S1,Dana,Okoro,,F", "S2,Mia,Okoro,2016-05-04,F"],
        "addresses.csv": ["B1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential"],
        "occupancies.csv": ["S1,B1,lives_at,2024-01-01,", "S2,B1,lives_at,2016-05-04,"],
        "relationships.csv": ["S1,S2,parent_of,,"],
    })
    ws, t = _linked(tmp_path, police, school)
    i, j = t.keys.index("police:P1"), t.keys.index("education:S1")
    assert t.multi["address_entity"][i] == []                    # no home on file
    assert t.multi["event_entity"][i] != []                      # but the victim's incident
    level = PERSON_COMPARISONS["location"].compute(t, np.array([i]), np.array([j]))
    assert level.tolist() == [LOCATION["same_event_place"]]
    # A witness is only passing through: the shop she saw something at is not her place.
    shop = entity_map(ws, "address")["police:A2"].entity_id
    assert shop not in t.multi["event_entity"][i] + t.multi["visit_entity"][i]


def test_a_contact_with_no_place_on_file_is_placed_at_her_childrens_home(tmp_path: Path) -> None:
    """A pupil's contact with no address and no date of birth; her children live at the
    address where the police know a woman of her name."""
    police = _extract(tmp_path, "police", {
        "persons.csv": ["P1,Dana,OKORO,12/03/1990,F"],
        "addresses.csv": ["A1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential"],
        "occupancies.csv": ["P1,A1,lives_at,2024-01-01,"],
    })
    school = _extract(tmp_path, "education", {
        "persons.csv": ["S1,Dana,Okoro,,F", "S2,Mia,Okoro,2016-05-04,F"],
        "addresses.csv": ["B1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential"],
        "occupancies.csv": ["S2,B1,lives_at,2016-05-04,"],
        "relationships.csv": ["S1,S2,parent_of,,"],
    })
    ws, t = _linked(tmp_path, police, school)
    i, j = t.keys.index("police:P1"), t.keys.index("education:S1")
    assert t.multi["address_entity"][j] == [] and t.multi["household_entity"][j] != []
    level = PERSON_COMPARISONS["location"].compute(t, np.array([i]), np.array([j]))
    assert level.tolist() == [LOCATION["same_household"]]
    # The child has a home of her own: she is not placed through anyone else's.
    assert t.multi["household_entity"][t.keys.index("education:S2")] == []


def _people(rows: list[tuple[str, str, str]], child: dict[int, list[int]],
            partner: dict[int, list[int]] | None = None) -> Table:
    """(first name, sex, agency) per record; child: record -> its children (indexes)."""
    t = Table("person", [f"{a}:{k}" for k, (_, _, a) in enumerate(rows)])
    t.cols["sex"] = np.array([r[1] for r in rows], dtype=object)
    partner = partner or {}
    parents: dict[int, list[int]] = {}
    for p, kids in child.items():
        for c in kids:
            parents.setdefault(c, []).append(p)
    t.multi.update(
        child_records=[[t.keys[c] for c in child.get(k, [])] for k in range(len(rows))],
        partner_records=[[t.keys[c] for c in partner.get(k, [])] for k in range(len(rows))],
        parent_records=[[t.keys[c] for c in parents.get(k, [])] for k in range(len(rows))])
    return t


def test_relatives_levels_say_which_linked_relative_two_records_share() -> None:
    # 0 mother (school), 1 mother (police), 2 child (school), 3 child (police), 4 father
    # (police), 5 a brother of the child (school), 6 a stranger with a child of his own (7),
    # 8 a record naming no relative.
    t = _people([("EMILY", "F", "ed"), ("EMILY", "F", "po"), ("MIA", "F", "ed"), ("MIA", "F", "po"),
                 ("TOM", "M", "po"), ("JACK", "M", "ed"), ("SAM", "M", "po"), ("ZOE", "F", "po"),
                 ("LILY", "F", "ed")],
                child={0: [2, 5], 1: [3], 4: [3], 6: [7]})
    pairs = [(0, 1), (0, 4), (2, 5), (0, 3), (0, 6), (2, 8)]
    left, right = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    comp = PERSON_COMPARISONS["relatives"]
    assert comp.compute(t, left, right).tolist() == [-1] * len(pairs)   # nothing linked yet
    relational.set_entities(t, [0, 1, 2, 2, 4, 5, 6, 7, 8])                # the child is one person
    got = comp.compute(t, left, right).tolist()
    r = relational.RELATIVES
    assert got == [r["same_child"],            # the two mothers name one child: one mother
                   r["other_parent"],          # mother and father share the child
                   r["same_parent"],           # brother and sister share a mother
                   r["each_others_relative"],  # a mother and (a record of) her own child
                   r["none_shared"],           # relatives on both sides, none in common
                   -1]                         # LILY (8) names no relative
    assert comp.compute(t, right, left).tolist() == got
    lo, hi = relational.pairs_sharing_relatives(t, max_block=100)
    assert {(0, 1), (0, 4), (1, 4)} <= set(zip(lo.tolist(), hi.tolist()))


def test_each_others_relative_is_a_related_records_contradiction() -> None:
    from kglink.linkage import rules
    from kglink.linkage.registry import comparisons_for

    st = person_settings()
    comps = comparisons_for("person", st.comparisons)
    c = st.comparisons.index("relatives")
    t = _people([("EMILY", "F", "ed"), ("EMILY", "F", "po")], child={})
    t.multi["related"] = [[], []]
    gamma = np.full((2, len(comps)), -1, dtype=np.int8)
    gamma[:, c] = [relational.RELATIVES["each_others_relative"], relational.RELATIVES["same_child"]]
    status, reason = rules.apply(t, st.model_copy(update={"evidence_rules": ("related_records",)}),
                                 comps, gamma, np.array([0.999, 0.999]), np.array([0, 0]), np.array([1, 1]))
    assert status.tolist() == ["", "link"] and reason.tolist()[0] == "rule:related_records"


def test_a_perpetrator_is_not_a_baby_of_his_name(tmp_path: Path) -> None:
    """A man with no date of birth, the perpetrator of a domestic incident in 2025, and a
    baby of his name born in 2026 at his home (a son named after his father) are two people:
    the roles a record is in bound its year of birth (prepare.ROLE_MIN_AGE)."""
    from kglink.linkage import cluster as cl
    from kglink.linkage.rules import birth_year_ranges

    police = _extract(tmp_path, "police", {
        "persons.csv": ["P1,Marco,BIANCHI,,M", "P2,Anna,BIANCHI,02/02/1994,F"],
        "addresses.csv": ["A1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential"],
        "occupancies.csv": ["P1,A1,lives_at,2024-01-01,", "P2,A1,lives_at,2024-01-01,"],
        "events.csv": ["E1,domestic_abuse,2025-10-01T22:15,,High,open,,,"],
        "event_people.csv": ["E1,P2,victim", "E1,P1,perpetrator"],
        "event_addresses.csv": ["E1,A1,location"],
    })
    health = _extract(tmp_path, "health", {
        "persons.csv": ["H1,Marco,Bianchi,2026-06-04,M"],
        "addresses.csv": ["B1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential"],
        "occupancies.csv": ["H1,B1,lives_at,2026-06-04,"],
    })
    ws, t = _linked(tmp_path, police, health)
    i, j = t.keys.index("police:P1"), t.keys.index("health:H1")
    st = person_settings()
    lo, hi = birth_year_ranges(t, st.parent_gap_years)
    assert hi[i] == 2025 - 16               # a domestic abuse perpetrator is 16 or over
    assert cl.conflict_for(t, st)(i, j)
    assert entity_map(ws, "person")["police:P1"].entity_id != entity_map(ws, "person")["health:H1"].entity_id


def test_names_written_the_wrong_way_round_at_one_home_are_compared(tmp_path: Path) -> None:
    """One agency wrote the surname first, and has no date of birth: neither initial nor
    year of birth blocks the two records together, their home and the two names do."""
    from kglink.linkage.blocking import candidate_pairs

    police = _extract(tmp_path, "police", {
        "persons.csv": ["P1,Oliver,GOODWIN,16/03/1991,M"],
        "addresses.csv": ["A1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential"],
        "occupancies.csv": ["P1,A1,lives_at,2024-01-01,"],
    })
    school = _extract(tmp_path, "education", {
        "persons.csv": ["S1,Goodwin,Oliver,,M"],
        "addresses.csv": ["B1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential"],
        "occupancies.csv": ["S1,B1,lives_at,2024-01-01,"],
    })
    ws, t = _linked(tmp_path, police, school)
    st = person_settings()
    left, right, _ = candidate_pairs(t, st)
    pair = tuple(sorted((t.keys.index("police:P1"), t.keys.index("education:S1"))))
    assert pair in set(zip(left.tolist(), right.tolist()))
    without = st.model_copy(update={"blocking_rules": tuple(
        r for r in st.blocking_rules if r.name != "place+names_any_order")})
    left, right, _ = candidate_pairs(t, without)
    assert pair not in set(zip(left.tolist(), right.tolist()))


def test_two_records_one_agency_names_in_one_event_are_two_people(tmp_path: Path) -> None:
    """A father and son of one name, no dates of birth, at one home: the police name both
    in one incident (one reported it, the other was a witness), so they are two people,
    whatever their names and home add up to. The agency names each person in an event once."""
    police = _extract(tmp_path, "police", {
        "persons.csv": ["P1,Wilbur,FENWICK,,M", "P2,Wilbur,FENWICK,,M"],
        "addresses.csv": ["A1,3 Heron Close,,Poole,BH15 2AB,100040000003,residential"],
        "occupancies.csv": ["P1,A1,lives_at,2020-01-01,", "P2,A1,lives_at,2020-01-01,"],
        "events.csv": ["E1,incident,2026-10-01T22:15,,,closed,,,"],
        "event_people.csv": ["E1,P1,reporting_person", "E1,P2,witness"],
        "event_addresses.csv": ["E1,A1,location"],
    })
    ws, t = _linked(tmp_path, police)
    assert t.multi["related"][t.keys.index("police:P1")] == ["police:P2"]
    people = entity_map(ws, "person")
    assert people["police:P1"].entity_id != people["police:P2"].entity_id
    row = ws.conn.execute("SELECT status, reason FROM links WHERE kind='person'").fetchone()
    assert row is None or row == ("", "rule:related_records") or row[1] == "rule:related_records"


def test_a_name_alone_is_corroborated_by_a_relative_in_common_as_linked() -> None:
    """The same father with a date of birth in one agency and without one in the other,
    no place on file in either: a name alone waits for a person, unless both name the same
    child (or partner, or parent) as linked: a child has one father."""
    from kglink.linkage import rules
    from kglink.linkage.registry import comparisons_for

    st = person_settings()
    comps = comparisons_for("person", st.comparisons)
    t = _people([("TOBIAS", "M", "cs"), ("TOBIAS", "M", "ed")], child={})
    t.cols["dob"] = np.array(["19840211", ""], dtype=object)
    t.multi["related"] = [[], []]
    gamma = np.full((3, len(comps)), -1, dtype=np.int8)
    names = {c.name: k for k, c in enumerate(comps)}
    gamma[:, names["forename"]] = gamma[:, names["surname"]] = 0
    r = relational.RELATIVES
    gamma[:, names["relatives"]] = [r["same_child"], r["none_shared"], r["same_partner"]]
    only = st.model_copy(update={"evidence_rules": ("names_only",)})
    status, reason = rules.apply(t, only, comps, gamma, np.full(3, 0.999), np.zeros(3, dtype=np.int64),
                                 np.ones(3, dtype=np.int64))
    assert status.tolist() == ["link", "review", "link"]
    assert reason.tolist() == ["model", "rule:names_only", "model"]


def test_a_name_is_corroborated_by_a_phone_or_email_two_agencies_recorded() -> None:
    """The same name and phone: across two agencies, with no places on file that say they
    live apart, it is one person; within one agency (a family's landline, a father and son
    of one name), or with places on file and none in common, it waits for a person."""
    from kglink.linkage import rules
    from kglink.linkage.registry import comparisons_for

    st = person_settings()
    comps = comparisons_for("person", st.comparisons)
    t = _people([("TOBIAS", "M", "cs"), ("TOBIAS", "M", "ed"), ("TOBIAS", "M", "ed")], child={})
    t.cols["dob"] = np.array(["19840211", "", ""], dtype=object)
    t.multi["related"] = [[], [], []]
    names = {c.name: k for k, c in enumerate(comps)}
    gamma = np.full((4, len(comps)), -1, dtype=np.int8)
    gamma[:, names["forename"]] = gamma[:, names["surname"]] = 0
    gamma[:, names["contact"]] = comps[names["contact"]].labels.index("same phone or email")
    gamma[1, names["location"]] = comps[names["location"]].labels.index("no address in common")
    gamma[3, names["contact"]] = -1
    left, right = np.array([0, 0, 1, 0]), np.array([1, 1, 2, 1])
    only = st.model_copy(update={"evidence_rules": ("names_only",)})
    status, reason = rules.apply(t, only, comps, gamma, np.full(4, 0.999), left, right)
    assert status.tolist() == ["link", "review", "review", "review"]
    assert reason.tolist() == ["model", "rule:names_only", "rule:names_only", "rule:names_only"]


def test_a_woman_at_her_home_since_2007_is_not_a_baby_of_her_name(tmp_path: Path) -> None:
    """A record its agency has at an address from 2007, or as the witness of an incident in
    2009, was born by then: not the baby of her name born in 2025 at that home. A date on
    1 January (a year with no date, or none at all) bounds nothing, nor does an event about
    a child who may not be born yet."""
    from kglink.linkage import cluster as cl
    from kglink.linkage.rules import birth_year_ranges

    police = _extract(tmp_path, "police", {
        "persons.csv": ["P1,Fatema,UDDIN,,F", "P2,Amira,KHAN,,F", "P3,Sara,KHAN,,F", "P4,Ruby,KHAN,,F"],
        "addresses.csv": ["A1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential",
                          "A2,9 Elm Road,,Poole,BH15 2BB,100040000009,residential"],
        "occupancies.csv": ["P1,A1,lives_at,2007-10-29,", "P3,A2,lives_at,2001-01-01,"],
        "events.csv": ["E1,domestic_abuse,2009-03-01T22:15,,High,open,,,",
                       "E2,referral,2024-03-01T10:00,,Medium,open,,,"],
        "event_people.csv": ["E1,P2,witness", "E2,P4,involved_child"],
        "event_addresses.csv": ["E1,A2,location", "E2,A2,location"],
    })
    health = _extract(tmp_path, "health", {
        "persons.csv": ["H1,Fatema,Uddin,2025-05-01,F"],
        "addresses.csv": ["B1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential"],
        "occupancies.csv": ["H1,B1,lives_at,2025-05-01,"],
    })
    ws, t = _linked(tmp_path, police, health)
    st = person_settings()
    _, hi = birth_year_ranges(t, st.parent_gap_years)
    at = t.keys.index
    assert hi[at("police:P1")] == 2007 and hi[at("police:P2")] == 2009
    assert hi[at("police:P3")] == NO_CHILD_BORN and hi[at("police:P4")] == NO_CHILD_BORN
    assert cl.conflict_for(t, st)(at("police:P1"), at("health:H1"))
    ents = entity_map(ws, "person")
    assert ents["police:P1"].entity_id != ents["health:H1"].entity_id


def test_twins_one_agency_names_as_one_parents_children_stay_apart(tmp_path: Path) -> None:
    """Twins AMARA and AMARI SMITH, born one day at one home, named by health as children
    of one mother: near spellings of one name to the forename comparison, two children to
    the agency. Two records of one first name under one parent may be its duplicate of one
    child: not kept apart by this."""
    from kglink.linkage import cluster as cl

    rows = ["M1,Grace,SMITH,1990-02-02,F", "H1,Amara,SMITH,2024-09-03,F", "H2,Amari,SMITH,2024-09-03,F",
            "M2,Lucy,JONES,1988-03-03,F", "D1,Ava,JONES,2023-01-05,F", "D2,Ava,JONES,2023-01-05,F"]
    health = _extract(tmp_path, "health", {
        "persons.csv": rows,
        "addresses.csv": ["A1,7 Larch Way,,Poole,BH15 1AA,100040000007,residential",
                          "A2,9 Elm Road,,Poole,BH15 2BB,100040000009,residential"],
        "occupancies.csv": [f"{r.split(',')[0]},{'A1' if i < 3 else 'A2'},lives_at,2024-09-03,"
                            for i, r in enumerate(rows)],
        "relationships.csv": ["M1,H1,parent_of,,", "M1,H2,parent_of,,", "M2,D1,parent_of,,", "M2,D2,parent_of,,"],
    })
    ws, t = _linked(tmp_path, health)
    at = t.keys.index
    assert "health:H2" in t.multi["related"][at("health:H1")]
    assert "health:D2" not in t.multi["related"][at("health:D1")]
    assert cl.conflict_for(t, person_settings())(at("health:H1"), at("health:H2"))
    ents = entity_map(ws, "person")
    assert ents["health:H1"].entity_id != ents["health:H2"].entity_id


def test_twins_two_agencies_each_name_link_to_their_own_names_not_across(tmp_path: Path) -> None:
    """Twins OLIVIA and OLIVER RUSSELL, both recorded as girls, born one day at one home,
    each agency naming both as one mother's children. OLIVIA against OLIVER is a near
    spelling, the rest agrees: the pairs across (OLIVIA in one agency, OLIVER in the other)
    score as high as the right ones, and clustering once joined the twins crossed. The
    other record's first name is exactly that of the one's twin as its agency records
    them: that twin (rule twin_name). Each twin is one person across the agencies."""
    from kglink.linkage import cluster as cl
    from kglink.linkage import rules
    from kglink.linkage.registry import comparison_vectors, comparisons_for

    def extract(agency: str, p: str) -> Path:
        return _extract(tmp_path, agency, {
            "persons.csv": [f"{p}M,Jane,RUSSELL,1984-05-06,F", f"{p}1,Olivia,RUSSELL,2011-10-11,F",
                            f"{p}2,Oliver,RUSSELL,2011-10-11,F"],
            "addresses.csv": [f"{p}A,7 Larch Way,,Poole,BH15 1AA,100040000007,residential"],
            "occupancies.csv": [f"{p}{x},{p}A,lives_at,2011-10-11," for x in ("M", "1", "2")],
            "relationships.csv": [f"{p}M,{p}1,parent_of,,", f"{p}M,{p}2,parent_of,,"],
        })
    ws, t = _linked(tmp_path, extract("health", "H"), extract("police", "P"))
    at = t.keys.index
    st = person_settings()
    conflict = cl.conflict_for(t, st)
    comps = comparisons_for("person", st.comparisons)
    for a, b in (("health:H1", "police:P2"), ("health:H2", "police:P1")):
        assert conflict(at(a), at(b)), (a, b)
        left, right = np.array([at(a)]), np.array([at(b)])
        gamma = comparison_vectors(t, comps, left, right)
        status, reason = rules.apply(t, st, comps, gamma, np.array([0.999]), left, right)
        assert (status[0], reason[0]) == ("", "rule:twin_name")
    for a, b in (("health:H1", "police:P1"), ("health:H2", "police:P2")):
        assert not conflict(at(a), at(b)), (a, b)
    ents = entity_map(ws, "person")
    for a, b in (("health:H1", "police:P2"), ("health:H2", "police:P1"), ("health:H1", "health:H2")):
        assert ents[a].entity_id != ents[b].entity_id, (a, b)
    # `kglink explain` (a table of the pair) reads the twin from the records the pair's
    # agencies relate to them, as the run's whole table holds them.
    pair = person_table(ws, entity_map(ws, "address"), st.crowded_address_people,
                        only={"health:H1", "police:P2"}, with_related=True)
    assert {"health:H2", "police:P1"} <= set(pair.keys)
    at = pair.keys.index
    assert cl.conflict_for(pair, st)(at("health:H1"), at("police:P2"))
