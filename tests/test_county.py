"""End to end on the synthetic county: linkage quality and hard negatives, incremental
linking, human decisions, and every risk query on both stores against the truth."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import county_extracts
from kglink.linkage.members import all_memberships
from kglink.linkage.review import decide
from kglink.linkage.run import link
from kglink.loaders.load import load_extracts
from kglink.queries.runner import run_embedded, run_neo4j
from kglink.synth.truth import Truth, apply_true_linkage, score
from kglink.workspace import open_workspace

# Scenarios kglink's own linkage is known to miss, with why. Each needs a better model,
# not a special case: keep this list short and honest.
KNOWN_LINKAGE_GAPS = {
    # 'Bill' in social care and 'William James' in police, same date of birth, living at
    # different addresses: the model learns from the county that matches share an address.
    "household-member-in-social-care",
}


def _entities(ws) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Person entities: entity id -> member record keys."""
    groups: dict[str, list[str]] = defaultdict(list)
    for eid, kind, agency, rid in all_memberships(ws):
        if kind == "person":
            groups[eid].append(f"{agency}:{rid}")
    return groups


def _partition(ws, kind: str) -> set[frozenset[str]]:  # type: ignore[no-untyped-def]
    groups: dict[str, set[str]] = defaultdict(set)
    for eid, k, agency, rid in all_memberships(ws):
        if k == kind:
            groups[eid].add(f"{agency}:{rid}")
    return {frozenset(g) for g in groups.values()}


def test_a_model_fitted_before_the_extracts_were_loaded_is_fitted_again(county: Path, tmp_path: Path) -> None:
    """`kglink link` run on an empty workspace (a load that failed first) fits a model on
    nothing; once the extracts are loaded the next link fits again, and links as a first
    link on the loaded workspace does. The model after that is reused."""
    ws = open_workspace(tmp_path / "ws")
    link(ws)
    load_extracts(ws, county_extracts(county))
    after = link(ws)
    assert all(k.model_trained for k in after.kinds)
    fresh = open_workspace(tmp_path / "fresh")
    load_extracts(fresh, county_extracts(county))
    link(fresh)
    assert _partition(ws, "person") == _partition(fresh, "person")
    assert not any(k.model_trained for k in link(ws).kinds)


def test_every_query_finds_every_planted_scenario_given_true_linkage(county: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, county_extracts(county))
    truth = Truth.read(county)
    apply_true_linkage(ws, truth)
    result = score(run_embedded(ws), truth)
    assert not result.missed, [(m["query"], m["scenario"]) for m in result.missed]
    assert not result.decoys_flagged, [(m["query"], m["scenario"]) for m in result.decoys_flagged]
    assert {m["query"] for m in result.found} >= {i["query"] for i in truth.items}


def test_with_kglink_linkage_no_decoy_is_flagged_and_only_known_gaps_are_missed(county: Path, county_ws) -> None:  # type: ignore[no-untyped-def]
    result = score(run_embedded(county_ws), Truth.read(county))
    assert not result.decoys_flagged, [(m["query"], m["scenario"]) for m in result.decoys_flagged]
    assert {m["scenario"] for m in result.missed} <= KNOWN_LINKAGE_GAPS


def test_linkage_quality_and_hard_negatives(county: Path, county_ws) -> None:  # type: ignore[no-untyped-def]
    truth = Truth.read(county)
    data = {f"{a}:{k}": d for a, k, d in county_ws.records("person")}
    true_pairs, pred_pairs = set(), set()
    by_true: dict[str, list[str]] = defaultdict(list)
    for key, t in truth.person.items():
        by_true[t].append(key)
    for members in by_true.values():
        true_pairs |= {(a, b) for a in members for b in members if a < b}
    mixed_family = []
    for members in _entities(county_ws).values():
        pred_pairs |= {(a, b) for a in members for b in members if a < b}
        people = {truth.person[m] for m in members if m in truth.person}
        if len(people) > 1:
            dobs = {data[m]["dob"] for m in members if m in data and data[m]["dob"]}
            years = {int(d[:4]) for d in dobs}
            if years and max(years) - min(years) >= 12:
                mixed_family.append(sorted(members))          # a father and son, say
    tp = len(true_pairs & pred_pairs)
    precision, recall = tp / len(pred_pairs), tp / len(true_pairs)
    f1 = 2 * precision * recall / (precision + recall)
    # A regression guard, well below what benchmarks/scale.py measures (RESULTS.md).
    assert f1 >= 0.97, (precision, recall)
    assert not mixed_family


def test_twins_stay_apart(county: Path, county_ws) -> None:  # type: ignore[no-untyped-def]
    truth = Truth.read(county)
    data = {f"{a}:{k}": d for a, k, d in county_ws.records("person")}
    twins_merged = []
    for members in _entities(county_ws).values():
        dobs: dict[str, set[str]] = defaultdict(set)      # true person -> recorded dobs
        for m in members:
            if data[m]["dob"]:
                dobs[truth.person[m]].add(data[m]["dob"])
        people = sorted(dobs)
        if any(dobs[p] & dobs[q] for i, p in enumerate(people) for q in people[i + 1:]):
            twins_merged.append(sorted(members))          # two people, one date of birth
    assert not twins_merged


def test_incremental_link_gives_the_clusters_of_a_full_relink(county: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    dirs = county_extracts(county)
    first, later = [d for d in dirs if d.name != "health"], [d for d in dirs if d.name == "health"]
    load_extracts(ws, first)
    link(ws)
    ids_before = {k: e for e, _, a, r in all_memberships(ws) for k in [f"{a}:{r}"]}
    load_extracts(ws, later)
    report = link(ws)
    person = next(k for k in report.kinds if k.kind == "person")
    assert 0 < person.changed < person.records                # only new and changed records
    incremental = {k: _partition(ws, k) for k in ("person", "address")}
    ids_after = {k: e for e, _, a, r in all_memberships(ws) for k in [f"{a}:{r}"]}
    full = next(k for k in link(ws, full=True).kinds if k.kind == "person")
    assert {k: _partition(ws, k) for k in ("person", "address")} == incremental
    # Incremental with collective linkage too: the changed records' pairs, the pairs kept
    # last time and those of records whose relatives moved, not every candidate pair.
    assert person.candidate_pairs < full.candidate_pairs
    # Entities that gained nothing keep their ids.
    kept = [k for k in ids_before if ids_after.get(k) == ids_before[k]]
    assert len(kept) / len(ids_before) > 0.9


def test_a_kind_nothing_changed_in_stands_as_saved_until_someone_decides(county: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, county_extracts(county))
    first = next(k for k in link(ws).kinds if k.kind == "address")

    def saved() -> tuple[list[tuple], list[tuple]]:
        return (sorted(ws.conn.execute("SELECT * FROM links WHERE kind = 'address'")),
                sorted(ws.conn.execute("SELECT * FROM entity_members WHERE kind = 'address'")))
    rows = saved()
    again = next(k for k in link(ws).kinds if k.kind == "address")
    assert saved() == rows and again.changed == 0 and again.candidate_pairs == 0
    assert (again.links, again.review, again.entities, again.multi_record_entities) == (
        first.links, first.review, first.entities, first.multi_record_entities)
    # A decision between two runs is a change: the next run clusters again and keeps it.
    groups: dict[str, list[str]] = defaultdict(list)
    for eid, kind, agency, rid in all_memberships(ws):
        if kind == "address":
            groups[eid].append(f"{agency}:{rid}")
    a, b = next(sorted(m)[:2] for m in groups.values() if len(m) >= 2)
    decide(ws, a, b, "different", "tester")
    link(ws)
    ents = {f"{ag}:{r}": e for e, k, ag, r in all_memberships(ws) if k == "address"}
    assert ents[a] != ents[b]
    incremental = _partition(ws, "address")
    link(ws, full=True)
    assert _partition(ws, "address") == incremental


def test_a_different_decision_is_never_overridden_by_any_rerun(county: Path, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, county_extracts(county))
    link(ws)
    a, b = next(sorted(m)[:2] for m in _entities(ws).values() if len(m) >= 2 and m[0].startswith(("police", "child")))
    decide(ws, a, b, "different", "tester")
    for kwargs in ({}, {"full": True}, {"retrain": True}):
        link(ws, **kwargs)
        ents = {k: e for e, _, ag, r in all_memberships(ws) for k in [f"{ag}:{r}"]}
        assert ents[a] != ents[b], kwargs
    row = ws.conn.execute("SELECT decided_by, decision FROM decisions").fetchone()
    assert tuple(row) == ("tester", "different")


@pytest.mark.neo4j
def test_both_stores_give_identical_findings_on_the_county(county_ws, neo4j_db) -> None:  # type: ignore[no-untyped-def]
    from kglink.graph.neo4j_store import sync

    sync(county_ws, neo4j_db)
    embedded = [f.model_dump() for f in run_embedded(county_ws)]
    neo = [f.model_dump() for f in run_neo4j(county_ws, neo4j_db)]
    assert len(embedded) > 30
    assert json.dumps(neo, sort_keys=True) == json.dumps(embedded, sort_keys=True)


@pytest.mark.neo4j
def test_neo4j_finds_every_planted_scenario_given_true_linkage(county: Path, tmp_path: Path, neo4j_db) -> None:  # type: ignore[no-untyped-def]
    from kglink.graph.neo4j_store import sync

    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, county_extracts(county))
    truth = Truth.read(county)
    apply_true_linkage(ws, truth)
    sync(ws, neo4j_db)
    neo = run_neo4j(ws, neo4j_db)
    result = score(neo, truth)
    assert not result.missed, [(m["query"], m["scenario"]) for m in result.missed]
    assert not result.decoys_flagged, [(m["query"], m["scenario"]) for m in result.decoys_flagged]
    assert [f.model_dump() for f in neo] == [f.model_dump() for f in run_embedded(ws)]


def test_queued_pairs_raise_findings_only_marked_unconfirmed(county_ws) -> None:  # type: ignore[no-untyped-def]
    from kglink.queries.unconfirmed import queued_pairs, unconfirmed_findings

    before = (county_ws.state_token(), county_ws.conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT entity_id) FROM entity_members").fetchone())
    confirmed = run_embedded(county_ws)
    extra = unconfirmed_findings(county_ws, confirmed)
    assert queued_pairs(county_ws)
    assert extra and all(f.unconfirmed_link and f.summary.startswith("UNCONFIRMED LINK") for f in extra)
    # Most probable first: each says the lowest probability of the queued pairs it rests on.
    shown = [float(f.summary.split("p = ", 1)[1].split(")", 1)[0]) for f in extra]
    assert shown == sorted(shown, reverse=True) and all(0.0 < p <= 1.0 for p in shown)
    assert not {f.id for f in extra} & {f.id for f in confirmed}
    assert not any(f.unconfirmed_link for f in confirmed)
    after = (county_ws.state_token(), county_ws.conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT entity_id) FROM entity_members").fetchone())
    assert after == before          # the what-if graph was rolled back


@pytest.mark.neo4j
def test_research_pack_is_the_same_from_both_stores(county_ws, neo4j_db) -> None:  # type: ignore[no-untyped-def]
    from kglink.graph.neo4j_store import sync
    from kglink.queries.service import all_findings
    from kglink.reports.profile import build_profile

    sync(county_ws, neo4j_db)
    findings = all_findings(county_ws)
    children = sorted({p.entity_id for f in findings for p in f.people if p.role == "child"})[:8]
    assert children
    for uid in children:
        embedded = build_profile(county_ws, uid, "test", findings).model_dump()
        neo = build_profile(county_ws, uid, "test", findings, neo4j_db).model_dump()
        assert neo == embedded, uid


@pytest.mark.neo4j
@pytest.mark.parametrize("hub", [2, 6, 500])
def test_neighbourhood_is_the_same_from_both_stores(county_ws, neo4j_db, monkeypatch, hub) -> None:  # type: ignore[no-untyped-def]
    """The pack's subgraph, nodes and relationships with their properties, read hop by hop
    from Neo4j equals the embedded store's, hubs (more than `hub` relationships) included."""
    from kglink.graph.neo4j_store import sync
    from kglink.reports import profile

    sync(county_ws, neo4j_db)
    monkeypatch.setattr(profile, "HUB_DEGREE", hub)
    people = [uid for (uid,) in county_ws.conn.execute(
        "SELECT DISTINCT entity_id FROM entity_members WHERE kind = 'person' ORDER BY entity_id LIMIT 40")]
    sizes = set()
    for uid in people:
        embedded = profile.subgraph(county_ws, uid)
        # the embedded store also reads the source-record nodes, which packs do not use
        embedded.remove_nodes_from([n for n, d in list(embedded.nodes(data=True))
                                    if d["label"] in ("PersonRecord", "AddressRecord")])
        neo = profile.subgraph(county_ws, uid, neo4j_db)
        assert dict(neo.nodes(data=True)) == dict(embedded.nodes(data=True)), uid
        assert (sorted(neo.edges(keys=True, data=True), key=lambda e: e[2])
                == sorted(embedded.edges(keys=True, data=True), key=lambda e: e[2])), uid
        sizes.add(neo.number_of_nodes())
    assert len(sizes) > 3          # neighbourhoods of different shapes were compared


def test_comparisons_and_scores_are_symmetric(county_ws) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from kglink.linkage.entities import entity_map
    from kglink.linkage.model import score as fs_score
    from kglink.linkage.prepare import person_table
    from kglink.linkage.registry import comparison_vectors, comparisons_for
    from kglink.linkage.store import saved_model

    model = saved_model(county_ws, "person")
    assert model is not None
    st = model.settings
    table = person_table(county_ws, entity_map(county_ws, "address"), st.crowded_address_people)
    comps = comparisons_for("person", st.comparisons)
    rng = np.random.default_rng(3)
    left = rng.integers(0, table.n, 5000)
    right = rng.integers(0, table.n, 5000)
    g1 = comparison_vectors(table, comps, left, right)
    g2 = comparison_vectors(table, comps, right, left)
    assert (g1 == g2).all()
    w1, p1 = fs_score(model, table, comps, g1, left)
    w2, p2 = fs_score(model, table, comps, g2, right)
    assert np.allclose(w1, w2) and np.allclose(p1, p2)
