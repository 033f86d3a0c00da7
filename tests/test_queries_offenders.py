"""Offender queries on tiny synthetic extracts, on both stores. Every person is synthetic.

tests/data/queries/offenders holds three extracts (police, nca, visor) of 2026-11-26.
Each person is written once, so the findings do not depend on linkage, except the alias
case, which links a police record to a ViSOR record by a person's decision.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kglink.linkage.review import decide
from kglink.linkage.run import link
from kglink.loaders.load import load_extracts
from kglink.queries.findings import Finding
from kglink.queries.risks import online_offender_child_access as online
from kglink.queries.risks import sex_offenders_by_area as by_area
from kglink.queries.risks.sex_offender_child_contact import rso_level, words
from kglink.queries.runner import run_embedded
from kglink.workspace import Workspace, open_workspace

DATA = Path(__file__).parent / "data" / "queries" / "offenders"
CONTACT, ONLINE, BREACH, AREA = ("sex-offender-child-contact", "online-offender-child-access",
                                 "reactive-rso-breach", "sex-offenders-by-area")
QUERIES = [CONTACT, ONLINE, BREACH, AREA]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, [DATA / "police", DATA / "nca", DATA / "visor"])
    return ws


def subject(f: Finding) -> str:
    """The subject's source records, e.g. 'police:P1' or 'police:P20+visor:V1'."""
    assert f.people[0].role == "subject"
    return "+".join(sorted(f"{r.agency}:{r.record_id}" for r in f.people[0].records))


def by_subject(findings: list[Finding]) -> dict[str, Finding]:
    out = {subject(f): f for f in findings}
    assert len(out) == len(findings), "one finding per subject"
    return out


def roles(f: Finding) -> set[tuple[str, str]]:
    return {(r.role, f"{x.agency}:{x.record_id}") for r in f.people for x in r.records}


def test_words_and_risk_levels() -> None:
    assert words("Risk: VERY-high; children: yes") == " risk very high children yes "
    assert words(None) == " " and words("") == " "
    cases = {("risk: very high; offences against children: yes",): "very high",
             ("Risk level MEDIUM",): "medium", ("Low",): "low", ("",): None, (None,): None,
             ("offences against children: no",): None, ("risk: low", "risk: high"): "high",
             ("highly unusual",): None, ("follow up below",): None}
    for details, level in cases.items():
        assert rso_level(details) == level, details


def test_occupations_of_trust_match_whole_words() -> None:
    terms = online.Params().occupations_of_trust
    for job in ("Primary School Teacher", "teachers", "Teaching-Assistant", "school bus driver",
                "Nursery nurse", "childminder", "Scout leader (volunteer)", "paediatric nurse"):
        assert online.trusted(job, terms), job
    for job in ("bus driver", "nurse", "care assistant", "cleaner", "coach driver", "preacher"):
        assert not online.trusted(job, terms), job
    assert online.Params(occupations_of_trust=(" Bus-Driver ", "")).occupations_of_trust == ("bus driver",)


def test_sex_offender_child_contact(ws: Workspace) -> None:
    found = by_subject(run_embedded(ws, [CONTACT]))
    # P1 lives with a child; P3 partners a mother (edge written from her side); a mother
    # visits P6's home. Decoys: P9 lives alone (adult associate), P11's flag has ended,
    # P13 lives with an adult son, his partnership ended and the mother's visits stopped,
    # and he no longer lives at the house with a child; no ViSOR offender has contact.
    assert set(found) == {"police:P1", "police:P3", "police:P6"}
    assert found["police:P1"].severity == "very high"
    assert ("child", "police:P2") in roles(found["police:P1"])
    assert found["police:P3"].severity == "medium"
    assert {("parent", "police:P4"), ("child", "police:P5")} <= roles(found["police:P3"])
    assert found["police:P6"].severity == "high"          # no level in the detail
    assert {("visiting parent", "police:P7"), ("child", "police:P8")} <= roles(found["police:P6"])
    assert [a.role for a in found["police:P6"].addresses] == ["visited home"]
    assert {(e.fact, e.agency, e.record_id) for e in found["police:P3"].evidence} >= {
        ("partner of", "police", "P4"), ("parent of a child", "police", "P4"),
        ("registered sex offender: Risk level MEDIUM", "police", "P3")}


def test_sex_offender_known_to_police_under_an_alias(ws: Workspace) -> None:
    # ViSOR registers V1; the police know him under another name (P20), partner of a
    # mother. Only once the records are one person does the query see the contact.
    assert "police:P20" not in by_subject(run_embedded(ws, [CONTACT]))
    decide(ws, "visor:V1", "police:P20", "same", user="tester")
    link(ws)
    found = by_subject(run_embedded(ws, [CONTACT]))
    assert "police:P20+visor:V1" in found
    f = found["police:P20+visor:V1"]
    assert f.severity == "high"
    assert {("parent", "police:P21"), ("child", "police:P22")} <= roles(f)


def test_online_offender_child_access(ws: Workspace) -> None:
    found = by_subject(run_embedded(ws, [ONLINE]))
    # P30 lives with a baby; N1 a teacher, N8 a teaching assistant; N2 a school bus
    # driver who applied to foster; N3 a cleaner at a school. Decoys: N4 a bus driver
    # living alone, N5 a nurse, N6 a teacher only named as an associate, N7 whose school
    # job and foster application have ended, P32 whose child-household is in the past.
    assert set(found) == {"police:P30", "nca:N1", "nca:N2", "nca:N3", "nca:N8"}
    assert found["police:P30"].severity == "high"         # the referral's risk
    assert found["nca:N3"].severity == "low"
    assert found["nca:N1"].severity == "high"             # no grading: the query's
    assert ("child", "police:P31") in roles(found["police:P30"])
    assert [a.role for a in found["nca:N3"].addresses] == ["school workplace"]
    facts = {e.fact for e in found["nca:N2"].evidence}
    assert {"occupation of trust: school bus driver", "foster carer applicant: applied to foster",
            "NCA referral: B"} <= facts
    assert [(e.agency, e.record_id, e.type) for e in found["nca:N2"].events] == [
        ("nca", "NE2", "nca_referral")]
    wider = by_subject(run_embedded(ws, [ONLINE], {ONLINE: {"occupations_of_trust": ["Bus Driver"]}}))
    assert "nca:N4" in wider and "nca:N1" not in wider


def test_reactive_rso_breach(ws: Workspace) -> None:
    found = by_subject(run_embedded(ws, [BREACH]))
    # V10 (subject) and V11 (offender) breached this year. Decoys: V12's breach is older
    # than a year, V14 is not under reactive management, V15's reactive management ended,
    # V16 is only an associate of the breach.
    assert set(found) == {"visor:V10", "visor:V11"}
    assert {f.severity for f in found.values()} == {"low"}
    assert [e.record_id for e in found["visor:V11"].events] == ["VE11"]
    assert "breach: failed to notify foreign travel" in {e.fact for e in found["visor:V11"].evidence}
    recent = by_subject(run_embedded(ws, [BREACH], {BREACH: {"days": 60}}))
    assert set(recent) == {"visor:V11"}


def test_sex_offenders_by_area(ws: Workspace) -> None:
    findings = run_embedded(ws, [AREA])
    area = {(subject(f), f.role) for f in findings}
    assert area == {
        ("police:P1", "BH15"), ("police:P3", "BH15"), ("police:P6", "BH20"), ("police:P9", "DT1"),
        ("police:P13", "DT2"), ("visor:V1", "BH14"), ("visor:V10", "BH15"), ("visor:V11", "BH15"),
        ("visor:V12", "DT1"), ("visor:V14", "DT2"), ("visor:V15", "BH20"),
        ("visor:V16", by_area.NO_DISTRICT),           # a caravan with no postcode
        ("visor:V20", by_area.NO_HOME),               # registration ended, no new address
        ("visor:V21", "BH15"), ("visor:V21", "DT1"),  # registered in one, lives in another
    }                                                 # P11's registration has ended
    v10 = next(f for f in findings if subject(f) == "visor:V10")
    # the newest home visit, not the newer remote one
    assert "last home visit: 2026-03-01" in {e.fact for e in v10.evidence}
    assert [e.record_id for e in v10.events] == ["VV1"]
    assert "270 days before 2026-11-26, the newest extract's date" in v10.summary and v10.severity == "low"
    v21 = [f for f in findings if subject(f) == "visor:V21"]
    assert {e.record_id for f in v21 for e in f.events} == {"VV4"}   # visit_type "Home"
    assert all(f.addresses and f.addresses[0].role == "home" for f in v21)


@pytest.mark.neo4j
def test_both_stores_give_the_same_findings(ws: Workspace, neo4j_db) -> None:  # type: ignore[no-untyped-def]
    from kglink.graph.neo4j_store import sync
    from kglink.queries.runner import run_neo4j

    def same() -> None:
        for name in QUERIES:
            emb = [f.model_dump() for f in run_embedded(ws, [name])]
            neo = [f.model_dump() for f in run_neo4j(ws, neo4j_db, [name])]
            assert emb, name
            assert neo == emb, name

    sync(ws, neo4j_db)
    same()
    decide(ws, "visor:V1", "police:P20", "same", user="tester")
    link(ws)
    sync(ws, neo4j_db)
    same()
    params: dict[str, dict[str, Any]] = {ONLINE: {"occupations_of_trust": ["bus driver"]},
                                         BREACH: {"days": 60}}
    for name in (ONLINE, BREACH):
        assert [f.model_dump() for f in run_neo4j(ws, neo4j_db, [name], params)] == \
            [f.model_dump() for f in run_embedded(ws, [name], params)]
