"""The compact graph the risk queries read holds exactly what networkx holds."""
from __future__ import annotations

import json
from typing import Any

from kglink.graph.embedded import load_compact, load_graph
from kglink.queries.base import QueryContext
from kglink.queries.runner import reference_date
from kglink.queries.view import View


def _edges(pairs: Any) -> list[tuple[str, str]]:
    return sorted((other, json.dumps(data, sort_keys=True)) for other, data in pairs)


def test_the_compact_graph_holds_the_networkx_graph(county_ws: Any) -> None:
    ctx = QueryContext(reference_date(county_ws))
    nx_view, compact = View(load_graph(county_ws), ctx), View(load_compact(county_ws), ctx)
    assert compact.g.number_of_nodes() == nx_view.g.number_of_nodes() > 1000
    assert compact.g.number_of_edges() == nx_view.g.number_of_edges()
    for label in ("Person", "Address", "Event", "Flag", "PersonRecord", "AddressRecord"):
        assert compact.nodes(label) == nx_view.nodes(label) != []
    for uid in nx_view.g.nodes:
        assert compact.props(uid) == nx_view.props(uid), uid
        assert compact.label(uid) == nx_view.label(uid)
        assert _edges(compact.all_out(uid)) == _edges(nx_view.all_out(uid)), uid
        assert _edges(compact.all_in(uid)) == _edges(nx_view.all_in(uid)), uid
        assert sorted(compact.store.adjacent(uid)) == sorted(nx_view.store.adjacent(uid)), uid
    assert not compact.has("per_not_there") and list(compact.out("per_not_there", "LIVES_AT")) == []


def test_indexes_name_the_nodes_a_scan_would(county_ws: Any) -> None:
    ctx = QueryContext(reference_date(county_ws))
    v = View(load_compact(county_ws), ctx)
    for kind in ("custody", "missing_episode", "domestic_abuse"):
        scan = [e for e in v.nodes("Event") if v.props(e).get("type") == kind]
        assert v.where("Event", "type", kind) == scan != []
    both = v.where("Event", "type", "custody", "missing_episode")
    assert both == sorted(v.where("Event", "type", "custody") + v.where("Event", "type", "missing_episode"))
    for flag in ("wanted", "registered_sex_offender"):
        scan = [p for p in v.nodes("Person") if any(v.props(f).get("flag") == flag for f, _ in v.out(p, "HAS_FLAG"))]
        assert v.flagged(flag) == scan != []


def test_a_subgraph_from_the_compact_graph_is_the_one_read_from_the_tables(county_ws: Any) -> None:
    """The research pack's subgraph: the same nodes, relationships and properties, added
    in the same order, from the graph in memory as from the tables; hubs (here any node
    with more than 20 relationships) included but not stepped through."""
    from kglink.graph.embedded import neighbourhood

    g = load_compact(county_ws)
    people = g.by_label("Person")
    for hops, hub in ((3, 500), (3, 20), (2, None)):
        for uid in people[::97]:
            a = neighbourhood(county_ws, [uid], hops=hops, max_degree=hub)
            b = g.neighbourhood([uid], hops=hops, max_degree=hub)
            assert list(a.nodes(data=True)) == list(b.nodes(data=True)), uid
            assert list(a.edges(keys=True, data=True)) == list(b.edges(keys=True, data=True)), uid
            # ... and each relationship is there from its end as from its start.
            assert sorted(b.in_edges(keys=True, data=True), key=lambda e: e[2]) == sorted(
                a.edges(keys=True, data=True), key=lambda e: e[2]), uid
    # A pack's changes to its subgraph do not reach the shared graph.
    sub = g.neighbourhood([people[0]], hops=1)
    sub.nodes[people[0]]["name"] = "changed"
    assert g.props(people[0])["name"] != "changed"


def test_research_packs_from_the_compact_graph_are_byte_for_byte_the_same(
        county_ws: Any, tmp_path: Any) -> None:
    from kglink.queries.runner import run_embedded
    from kglink.reports.nightly import write_packs

    found = run_embedded(county_ws)
    tables = write_packs(county_ws, found, tmp_path / "tables", "2026-12-05")
    memory = write_packs(county_ws, found, tmp_path / "memory", "2026-12-05",
                         graph=load_compact(county_ws))
    assert tables == memory and len(set(tables.values())) > 20
    for link in set(tables.values()):
        assert (tmp_path / "memory" / link).read_bytes() == (tmp_path / "tables" / link).read_bytes()


def _reads(store: Any, uid: str) -> list[Any]:
    """Everything a research pack can ask of a store about one node, in the order given."""
    return [uid in store, store.props(uid), store.label(uid), list(store.out(uid)), list(store.into(uid)),
            list(store.out(uid, ("LIVES_AT", "HAS_FLAG"))), list(store.into(uid, ("INVOLVED_IN",))),
            list(store.neighbours(uid)), list(store.adjacent(uid))]


def test_a_neighbourhood_read_in_place_answers_as_the_networkx_copy(county_ws: Any) -> None:
    """What the nightly packs read (CompactGraph.around): the same answers as the copy
    `neighbourhood` makes, in the same order (a pack's tables follow it), for every node
    in it, and nothing for a node outside it; its properties the pack's own."""
    from kglink.queries.view import _Networkx

    g = load_compact(county_ws)
    people = g.by_label("Person")
    checked = 0
    for hops, hub in ((3, 500), (3, 20), (1, None)):
        for uid in people[::97]:
            copy, hood = _Networkx(g.neighbourhood([uid], hops=hops, max_degree=hub)), g.around([uid], hops, hub)
            for label in ("Person", "Address", "Event", "Flag"):
                assert hood.by_label(label) == copy.by_label(label), (uid, label)
            for node in copy.g.nodes:
                assert _reads(hood, node) == _reads(copy, node), (uid, node)
                checked += 1
            outside = next(u for u in g.uids if u not in copy.g)
            assert outside not in hood and list(hood.out(outside)) == list(hood.neighbours(outside)) == []
    assert checked > 1000
    # Properties decoded for one neighbourhood are its own: not the graph's, not another's.
    one, two = g.around([people[0]], 1, None), g.around([people[0]], 1, None)
    one.props(people[0])["name"] = "changed"
    assert g.props(people[0])["name"] != "changed" and two.props(people[0])["name"] != "changed"
