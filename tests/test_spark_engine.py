"""The Spark engine in local mode gives the local engine's links and entities on a small
synthetic county (every person invented), scoring and clustering on Spark. Skipped,
saying why, without pyspark."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from kglink.linkage.run import link
from kglink.loaders.load import load_extracts
from kglink.workspace import Workspace, open_workspace

from conftest import county_extracts


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from kglink.engines.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def small_county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kglink.synth import generate

    out = tmp_path_factory.mktemp("spark-county") / "county"
    generate(out, households=250, seed=1)      # a county where clustering refuses links
    return out


def _linked(root: Path, county: Path, **kwargs: Any) -> Workspace:
    ws = open_workspace(root)
    load_extracts(ws, county_extracts(county))
    link(ws, **kwargs)
    return ws


def _result(ws: Workspace) -> tuple[list[Any], list[Any]]:
    members = ws.conn.execute("SELECT kind, entity_id, agency, record_id FROM entity_members "
                              "ORDER BY kind, agency, record_id").fetchall()
    links = ws.conn.execute("SELECT * FROM links ORDER BY 1, 2, 3").fetchall()
    return [tuple(r) for r in members], [tuple(r) for r in links]


@pytest.mark.spark
def test_spark_links_as_the_local_engine(spark: Any, small_county: Path, tmp_path: Path) -> None:
    from kglink.engines.spark import SparkScorer

    local = _linked(tmp_path / "local", small_county)
    on_spark = _linked(tmp_path / "spark", small_county, scorer=SparkScorer(spark))
    members, links = _result(on_spark)
    assert len(members) > 1000 and sum(r[6] == "link" for r in links) > 100
    # Contradictions split components: links the clustering on Spark refused, as locally.
    assert sum(r[6] == "conflict" for r in links) >= 2
    assert (members, links) == _result(local)
    # The saved model is the same too: a rerun on either reuses it.
    model = "SELECT kind, settings, parameters FROM models ORDER BY kind"
    assert on_spark.conn.execute(model).fetchall() == local.conn.execute(model).fetchall()


@pytest.mark.spark
def test_every_candidate_pair_is_scored_as_the_local_engine_scores_it(
        spark: Any, small_county: Path, tmp_path: Path) -> None:
    """All of Scored, dropped pairs too: pairs, rule counts, levels, weights, statuses,
    reasons; with and without a mask of changed records, with a trained and a given model."""
    import numpy as np

    from kglink.engines.spark import SparkScorer
    from kglink.linkage.entities import entity_map
    from kglink.linkage.prepare import address_table, person_table
    from kglink.linkage.run import score_pairs
    from kglink.linkage.settings import default_settings

    ws = _linked(tmp_path / "ws", small_county)
    p_st = default_settings("person")
    tables = [(address_table(ws), default_settings("address")),
              (person_table(ws, entity_map(ws, "address"), p_st.crowded_address_people), p_st)]
    on_spark = SparkScorer(spark, partitions=3)
    for table, st in tables:
        only = np.random.default_rng(1).random(table.n) < 0.3
        trained = None
        for mask in (None, only):
            want = score_pairs(table, st, trained, mask)
            got = on_spark(table, st, trained, mask)
            assert got.rule_counts == want.rule_counts
            for name in ("left", "right", "gamma", "weight", "prob", "status", "reason"):
                assert np.array_equal(getattr(got, name), getattr(want, name)), (table.kind, name)
            assert got.model.to_json() == want.model.to_json()
            trained = want.model
        assert len(want.left) > 100 and (want.status == "").any()


@pytest.mark.spark
def test_an_incremental_relink_on_spark_matches_the_local_one(spark: Any, small_county: Path,
                                                             tmp_path: Path) -> None:
    """Only the changed records' pairs are scored (blocking joins filtered to them)."""
    from kglink.engines.spark import SparkScorer

    runs = {}
    for name, scorer in (("local", None), ("spark", SparkScorer(spark))):
        ws = open_workspace(tmp_path / name)
        extracts = county_extracts(small_county)
        load_extracts(ws, [e for e in extracts if e.name != "health"])
        link(ws)                                   # both start from the local engine's run
        load_extracts(ws, [e for e in extracts if e.name == "health"])
        report = link(ws, scorer=scorer)
        assert 0 < report.kinds[1].changed < report.kinds[1].records
        runs[name] = _result(ws)
    assert runs["spark"] == runs["local"]


@pytest.mark.spark
def test_the_cli_links_on_spark(spark: Any, small_county: Path, tmp_path: Path) -> None:
    """(The command uses the session the tests started, and leaves it running.)"""
    from typer.testing import CliRunner

    from kglink.cli import app

    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["--workspace", str(ws), "load", *map(str, county_extracts(small_county))]
                         ).exit_code == 0
    done = runner.invoke(app, ["--workspace", str(ws), "link", "--engine", "spark",
                               "--spark-master", "local[2]"])
    assert done.exit_code == 0, done.output
    linked = open_workspace(ws, create=False)
    assert linked.conn.execute("SELECT COUNT(*) FROM links WHERE kind = 'person' AND status = 'link'"
                               ).fetchone()[0] > 100


def _partition(roots: list[int]) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(roots):
        groups.setdefault(r, []).append(i)
    return sorted(groups.values())


@pytest.mark.spark
def test_clusters_on_spark_are_the_local_clusters_contradictions_and_all(spark: Any) -> None:
    """Father and son chained through a record without a date of birth, twins, a person's
    "different" over a forced "same", a chain (rounds of label propagation) and a random
    graph: the same partition and the same refused edges as cl.cluster. The first graph
    in groups of at most 8 edges (its components worked out on Spark), the other in one."""
    import random

    from kglink.engines.spark import SparkScorer
    from kglink.linkage import cluster as cl
    from kglink.linkage.prepare import Table, _obj
    from kglink.linkage.settings import person_settings

    rows = ([("JOHN", "SMITH", "19600101"), ("JOHN", "SMITH", "19900101"), ("JOHN", "SMITH", ""),
             ("AMELIA", "KHAN", "20150505"), ("ZARA", "KHAN", "20150505"),
             ("JON", "SMITH", "19850403"), ("JONATHAN", "SMITH", "19850403"), ("J", "SMITH", "19850403")]
            + [("A", "B", "")] * 40 + [("ANN", "LEE", f"1970{m:02d}01") for m in range(1, 13)])
    n = len(rows)
    t = Table("person", [f"t:{i:03d}" for i in range(n)])
    t.cols.update(forenames_all=_obj([r[0] for r in rows]), surname=_obj([r[1] for r in rows]),
                  dob=_obj([r[2] for r in rows]), **{c: _obj([""] * n) for c in
                                                     ("nhs_number", "pnc_id", "upn", "phone", "email")})
    t.multi["names"] = [[f"{r[0]}\x1f{r[1]}"] for r in rows]
    st = person_settings()
    fixed = [cl.Edge(0, 2, 0.99), cl.Edge(1, 2, 0.98), cl.Edge(0, 1, 0.97),       # father, son
             cl.Edge(3, 4, 0.99),                                                    # twins
             cl.Edge(5, 6, 0.999), cl.Edge(6, 7, 0.99), cl.Edge(5, 7, 0.99),
             cl.Edge(5, 6, 1.0, forced=True)]                                        # decided different
    chain = [cl.Edge(i, i + 1, 0.9) for i in range(8, 20)]                          # one longer component
    rng = random.Random(3)
    scorers = [SparkScorer(spark, partitions=3, cluster_group_edges=8), SparkScorer(spark)]
    graphs = [fixed + chain, fixed + [cl.Edge(a, b, round(rng.uniform(0.5, 1.0), 2)) for a, b in
                                      (sorted(rng.sample(range(8, n), 2)) for _ in range(60))]]
    for scorer, edges in zip(scorers, graphs):
        want_roots, want_refused = cl.cluster(n, edges, cl.conflict_for(t, st), {(5, 6)})
        got_roots, got_refused = scorer.cluster(t, st, edges, cl.conflict_for(t, st), {(5, 6)})
        assert _partition(got_roots) == _partition(want_roots)
        assert sorted((e.i, e.j) for e in got_refused) == sorted((e.i, e.j) for e in want_refused)
    assert got_roots[0] != got_roots[1] and got_roots[2] == got_roots[0]
    assert got_roots[3] != got_roots[4] and got_roots[5] != got_roots[6]
    assert len(_partition(want_roots)) < n - 40
    for scorer in scorers:
        scorer.done()


@pytest.mark.spark
def test_the_driver_takes_back_as_much_as_its_memory_holds(spark: Any) -> None:
    """A million records' scored pairs come back to the driver: Spark's own 1 GB cap on
    collected results would abort them, so the cap is the driver's memory."""
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.maxResultSize") == conf.get("spark.driver.memory") == "2g"


@pytest.mark.spark
def test_collected_labels_share_one_string_per_label() -> None:
    import numpy as np
    import pyarrow as pa

    from kglink.engines.spark.scoring import _labels

    col = pa.chunked_array([["link", "", "review (model)", "link"], ["link", ""], []], pa.string())
    got = _labels(col)
    assert got.dtype == object
    assert list(got) == ["link", "", "review (model)", "link", "link", ""]
    assert got[0] is got[3] is got[4] and got[1] is got[5]
    assert len(_labels(pa.chunked_array([], pa.string()))) == 0


def test_without_pyspark_the_spark_engine_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import kglink.engines as engines
    from kglink.engines import EngineUnavailable, scorer_for

    monkeypatch.setattr(engines, "find_spec", lambda name: None)
    with pytest.raises(EngineUnavailable, match=r"pip install 'kglink\[spark\]'"):
        with scorer_for("spark"):
            pass
