"""Scoring candidate pairs on Spark: the local engine's comparisons, model and evidence
rules, run inside `mapInPandas` over the blocked pairs' partitions.

The prepared table goes to the executors once, as a broadcast (each Python worker
unpickles it on its first task and keeps it with the caches the comparisons fill on it);
every batch of pairs is then compared by `kglink.linkage.registry.comparison_vectors`, so
the levels are the local engine's by construction. A model that must be trained is
trained on the driver as the local engine trains it (u from random pairs, m by EM on each
training rule's sample, the prior over the candidates' levels, which are brought back for
it); the trained model is broadcast and a second pass scores and applies the evidence
rules. The scored pairs come back through Arrow, ordered as the local engine orders
them, and collective linkage goes on on the driver (kglink.linkage.run), clustering on
Spark (`SparkScorer.cluster`, kglink/engines/spark/cluster.py).
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark import Broadcast
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import ByteType, DoubleType, LongType, StringType, StructField, StructType

from kglink.engines.spark.blocking import candidate_pairs
from kglink.engines.spark.cluster import EDGES_PER_GROUP
from kglink.engines.spark.cluster import cluster as spark_cluster
from kglink.linkage import cluster as cl
from kglink.linkage import rules
from kglink.linkage.model import Model, score, train
from kglink.linkage.prepare import Table
from kglink.linkage.registry import comparison_vectors, comparisons_for
from kglink.linkage.run import Laps, Scored
from kglink.linkage.settings import LinkageSettings
from kglink.linkage.variants import of as learnt_variants


def _levels_schema(n_comps: int) -> StructType:
    return StructType([StructField("left", LongType(), False), StructField("right", LongType(), False)]
                      + [StructField(f"g{c}", ByteType(), False) for c in range(n_comps)])


def _scored_schema(n_comps: int) -> StructType:
    return StructType(_levels_schema(n_comps).fields + [
        StructField("weight", DoubleType(), False), StructField("prob", DoubleType(), False),
        StructField("status", StringType(), False), StructField("reason", StringType(), False)])


def shipped(table: Table, model: Model | None = None) -> Table:
    """The table as the executors need it: its columns (and the persons linked so far,
    which the relatives comparison reads), not the caches the driver filled on it; and
    the first-name variants (linkage.variants), learnt once here rather than by every
    executor, or a saved model's, as the local engine reads them."""
    out = Table(table.kind, table.keys, table.cols, table.multi)
    if "entity_of" in table.__dict__:
        out.__dict__["entity_of"] = table.__dict__["entity_of"]
    if model is not None and model.tf.get("forename"):        # as comparisons.slips_of reads a model
        saved = dict(model.tf.get("forename_variants") or {})
        out.derived("forename_variants", lambda: saved)
    else:
        out.derived("forename_variants", lambda: learnt_variants(table))
    return out


def _compare(tables: Broadcast[Table], st: LinkageSettings, models: Broadcast[Model] | None):
    """The function mapInPandas runs on each partition: levels, and with a model the
    weight, probability, status and reason of every pair."""
    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        table = tables.value
        comps = comparisons_for(table.kind, st.comparisons)
        for batch in batches:
            left = batch["left"].to_numpy(np.int64)
            right = batch["right"].to_numpy(np.int64)
            if "g0" in batch:
                gamma = batch[[f"g{c}" for c in range(len(comps))]].to_numpy(np.int8)
            else:
                gamma = comparison_vectors(table, comps, left, right, processes=1)
            out: dict[str, Any] = {"left": left, "right": right}
            out |= {f"g{c}": gamma[:, c] for c in range(len(comps))}
            if models is not None:
                model = models.value
                weight, prob = score(model, table, comps, gamma, left)
                status, reason = rules.apply(table, st, comps, gamma, prob, left, right)
                out |= {"weight": weight, "prob": prob, "status": status, "reason": reason}
            yield pd.DataFrame(out)
    return run


def _collect(df: DataFrame, n: int, n_comps: int) -> dict[str, np.ndarray]:
    """The DataFrame's columns as numpy arrays, pairs ordered by (left, right)."""
    tbl: pa.Table = df.toArrow()
    left = tbl.column("left").to_numpy().astype(np.int64)
    right = tbl.column("right").to_numpy().astype(np.int64)
    order = np.argsort(left * np.int64(n) + right, kind="stable")
    out = {"left": left[order], "right": right[order],
           "gamma": (np.column_stack([tbl.column(f"g{c}").to_numpy() for c in range(n_comps)])
                     .astype(np.int8)[order] if len(order) else np.zeros((0, n_comps), np.int8))}
    for name in ("weight", "prob"):
        if name in tbl.column_names:
            out[name] = tbl.column(name).to_numpy()[order]
    for name in ("status", "reason"):
        if name in tbl.column_names:
            out[name] = _labels(tbl.column(name))[order]
    return out


def _labels(col: pa.ChunkedArray) -> np.ndarray:
    """A column of a few distinct labels as an object array whose cells share one str per
    label (as the local engine's are): a million records' 18M pairs as separate str
    objects would take gigabytes of the driver's memory."""
    parts = [np.zeros(0, dtype=object)]
    for chunk in col.chunks:
        coded = pc.dictionary_encode(chunk)
        names = np.array([sys.intern(s) for s in coded.dictionary.to_pylist()], dtype=object)
        parts.append(names[coded.indices.to_numpy(zero_copy_only=False)])
    return np.concatenate(parts)


class SparkScorer:
    """A `scorer=` for kglink.linkage.run.link: the same Scored as `score_pairs`, from Spark.

    `partitions`: how many pieces the pairs are compared in (default: the session's
    default parallelism times four, so a slow partition does not hold up the rest);
    `cluster_group_edges`: link edges clustered in one task (kglink/engines/spark/cluster.py);
    past that, the edges' connected components are worked out on Spark and clustered in
    groups of about that many edges."""

    def __init__(self, spark: SparkSession, partitions: int | None = None,
                 cluster_group_edges: int = EDGES_PER_GROUP) -> None:
        self.spark = spark
        self.partitions = partitions or 4 * spark.sparkContext.defaultParallelism
        self.cluster_group_edges = cluster_group_edges
        self._clustering: tuple[Table, Broadcast[Table]] | None = None

    def cluster(self, table: Table, st: LinkageSettings, edges: list[cl.Edge], conflict: cl.Conflict,
                different: set[tuple[int, int]]) -> tuple[list[int], list[cl.Edge]]:
        """A `clusterer` for kglink.linkage.run (the scorer's, there): the clusters of
        cl.cluster, from Spark (kglink/engines/spark/cluster.py; the conflict tests run
        there, so `conflict` is not used). The table is broadcast once for every
        clustering of it (collective linkage clusters once a round)."""
        if self._clustering is None or self._clustering[0] is not table:
            self.done()
            self._clustering = (table, self.spark.sparkContext.broadcast(
                Table(table.kind, table.keys, table.cols, table.multi)))
        return spark_cluster(self.spark, self._clustering[1], st, table.n, edges, different,
                             self.partitions, self.cluster_group_edges)

    def done(self) -> None:
        """Let go of what the last clustering broadcast."""
        if self._clustering is not None:
            self._clustering[1].unpersist()
            self._clustering = None

    def __call__(self, table: Table, st: LinkageSettings, model: Model | None = None,
                 only: np.ndarray | None = None) -> Scored:
        laps = Laps()
        lap, stages = laps.lap, laps.stages
        sc = self.spark.sparkContext
        comps = comparisons_for(table.kind, st.comparisons)
        k = len(comps)
        pairs, counts = candidate_pairs(self.spark, table, st, only)
        pairs = pairs.repartition(self.partitions, "left")
        tables = sc.broadcast(shipped(table, model))
        try:
            if model is None:
                levels = pairs.mapInPandas(_compare(tables, st, None), _levels_schema(k)).cache()
                got = _collect(levels, table.n, k)
                lap("blocking and comparing (spark)")
                model = train(table, comps, got["gamma"], st)
                lap("training")
                source = levels
            else:
                source = pairs
            models = sc.broadcast(model)
            try:
                scored = source.mapInPandas(_compare(tables, st, models), _scored_schema(k))
                got = _collect(scored, table.n, k)
            finally:
                models.unpersist()
                if source is not pairs:
                    source.unpersist()
            lap("scoring and rules (spark)")
        finally:
            tables.unpersist()
        return Scored(got["left"], got["right"], counts, got["gamma"], got["weight"], got["prob"],
                      got["status"], got["reason"], model, stages)
