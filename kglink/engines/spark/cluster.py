"""Clustering with the evidence rules on Spark: the link edges' connected components by
label propagation in DataFrames, then the local engine's clustering (kglink.linkage.cluster:
strongest edge first, never across a contradiction) of each component in `applyInPandas`.

Clustering merges along edges only, and decides each edge on the clusters of its two
records, which lie in that edge's component: so clustering each component alone, its
edges in the same order, gives the clusters and the refused edges of clustering all of
them at once. The conflict tests run on the executors against the broadcast prepared
table; only each clustered record's cluster (its smallest record) and the refused edges
come back to the driver.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark import Broadcast
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DoubleType, LongType, StructField, StructType

from kglink.linkage import cluster as cl
from kglink.linkage.prepare import Table
from kglink.linkage.run import _canonical
from kglink.linkage.settings import LinkageSettings

# Edges per applyInPandas group: components are grouped into buckets of about this many
# edges, each bucket's components clustered one after the other in one Python call (a
# group per component would cost a pandas frame per household). No more edges than this
# in all are clustered in one task, without working out the components (each round of
# label propagation is several Spark jobs: tens of seconds on a busy machine).
EDGES_PER_GROUP = 50_000

_OUT = StructType([StructField("i", LongType(), False), StructField("j", LongType(), False),
                   StructField("p", DoubleType(), False), StructField("refused", BooleanType(), False)])


def components(edges: DataFrame) -> DataFrame:
    """(rec, label) for every record of an edge (i, j): label the smallest record of its
    connected component. Each round every record takes the smallest label among its own
    and its neighbours', then its label's label (so a long chain takes rounds in the log
    of its length, not its length), until no label changes; each round is checkpointed
    so the plan does not grow with the rounds."""
    both = (edges.select(F.col("i").alias("a"), F.col("j").alias("b"))
            .union(edges.select(F.col("j").alias("a"), F.col("i").alias("b")))
            .where(F.col("a") != F.col("b")).distinct().localCheckpoint())
    labels = both.groupBy("a").agg(F.least(F.col("a"), F.min("b")).alias("label")).withColumnRenamed("a", "rec")
    while True:
        nb = (both.join(labels.withColumnRenamed("rec", "b"), "b")
              .groupBy("a").agg(F.min("label").alias("nb")).withColumnRenamed("a", "rec"))
        step = labels.join(nb, "rec").select("rec", F.least("label", "nb").alias("label"),
                                             F.col("label").alias("old"))
        jump = step.select(F.col("rec").alias("to"), F.col("label").alias("jump"))
        nxt = (step.join(jump, F.col("label") == F.col("to"))
               .select("rec", F.col("jump").alias("label"), "old").localCheckpoint())
        labels = nxt.select("rec", "label")
        if nxt.where(F.col("label") != F.col("old")).isEmpty():
            return labels


def _cluster_groups(tables: Broadcast[Table], st: LinkageSettings,
                    apart: Broadcast[dict[int, set[int]]]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function applyInPandas runs on each bucket of components: cl.cluster on each
    component, its records numbered in their order (so its edges sort as they do among
    all edges)."""
    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        table = tables.value
        conflict = table.derived("spark_conflict", lambda: cl.conflict_for(table, st))
        different = apart.value
        pdf = pdf.sort_values("comp", kind="stable")
        comp = pdf["comp"].to_numpy(np.int64)
        starts = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1]])
        ends = np.r_[starts[1:], len(comp)]
        i_all, j_all = pdf["i"].to_numpy(np.int64), pdf["j"].to_numpy(np.int64)
        p_all, f_all = pdf["p"].to_numpy(np.float64), pdf["forced"].to_numpy(bool)
        out: list[tuple[int, int, float, bool]] = []
        for s, e in zip(starts.tolist(), ends.tolist()):
            i, j = i_all[s:e], j_all[s:e]
            recs = np.unique(np.concatenate((i, j)))
            li, lj = np.searchsorted(recs, i).tolist(), np.searchsorted(recs, j).tolist()
            r = recs.tolist()
            pos = {x: k for k, x in enumerate(r)}
            local_apart = {(a, pos[y]) for a, x in enumerate(r) for y in different.get(x, ()) if y in pos}
            edges = [cl.Edge(a, b, q, f) for a, b, q, f in zip(li, lj, p_all[s:e].tolist(), f_all[s:e].tolist())]
            roots, refused = cl.cluster(len(r), edges, conflict.renumbered(r), local_apart)
            low = _canonical(roots)
            out += [(x, r[low[k]], 0.0, False) for k, x in enumerate(r)]
            out += [(r[x.i], r[x.j], x.probability, True) for x in refused]
        return pd.DataFrame(out, columns=["i", "j", "p", "refused"]).astype(
            {"i": np.int64, "j": np.int64, "p": np.float64, "refused": bool})
    return run


def cluster(spark: SparkSession, tables: Broadcast[Table], st: LinkageSettings, n: int,
            edges: Sequence[cl.Edge], different: set[tuple[int, int]], groups: int,
            edges_per_group: int = EDGES_PER_GROUP) -> tuple[list[int], list[cl.Edge]]:
    """As cl.cluster(n, edges, conflict, different), on Spark: (cluster root per record,
    edges refused because of a conflict). `tables`: the prepared table, broadcast;
    `groups`: at least this many groups of components (when there are more edges than
    `edges_per_group`)."""
    roots = np.arange(n, dtype=np.int64)
    if not edges:
        return roots.tolist(), []
    df = spark.createDataFrame(pa.table({
        "i": np.array([e.i for e in edges], dtype=np.int64), "j": np.array([e.j for e in edges], dtype=np.int64),
        "p": np.array([e.probability for e in edges], dtype=np.float64),
        "forced": np.array([e.forced for e in edges], dtype=bool)}))
    apart: dict[int, set[int]] = {}
    for a, b in different:
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)
    held = spark.sparkContext.broadcast(apart)
    try:
        if len(edges) <= edges_per_group:
            # One component as far as clustering is concerned: the same clusters.
            grouped = df.withColumn("comp", F.lit(0).cast("long")).withColumn("bucket", F.col("comp"))
        else:
            comp = components(df).select(F.col("rec").alias("i"), F.col("label").alias("comp"))
            buckets = max(groups, len(edges) // edges_per_group + 1)
            grouped = df.join(comp, "i").withColumn("bucket", F.col("comp") % buckets)
        got = grouped.groupBy("bucket").applyInPandas(_cluster_groups(tables, st, held), _OUT).toArrow()
    finally:
        held.unpersist()
    i, j = got.column("i").to_numpy(), got.column("j").to_numpy()
    p, refused = got.column("p").to_numpy(), got.column("refused").to_numpy(zero_copy_only=False)
    member = ~refused
    roots[i[member]] = j[member]
    return roots.tolist(), [cl.Edge(int(a), int(b), float(q)) for a, b, q in
                            zip(i[refused], j[refused], p[refused])]
