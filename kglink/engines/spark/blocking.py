"""Blocking rules as Spark joins.

Each rule's key values per record are worked out on the driver by the same key functions
as the local engine (kglink.linkage.blocking: one pass over the records, each (record,
value) entry a dense code) and handed to Spark as one Arrow table of (rule, code, rec)
entries. Spark does what grows with the pairs, for all rules at once: it counts every
block, leaves out blocks of one record and blocks over their rule's size limit, counts
the pairs each rule would make (refusing a rule past `max_pairs_per_rule`, as the local
engine does), and joins every kept block with itself. The pairs of all rules are one
DataFrame of distinct (left, right), left < right.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from kglink.linkage.blocking import RuleCount, _combine, _exploded
from kglink.linkage.prepare import Table
from kglink.linkage.settings import LinkageSettings


def _entries(table: Table, st: LinkageSettings, side: NDArray[np.int64] | None,
             only: NDArray[np.bool_] | None) -> pa.Table:
    """(rule, code, rec[, side][, only]) for every value combination of every rule's keys."""
    parts: dict[str, list[np.ndarray]] = {"rule": [], "code": [], "rec": [], "side": [], "only": []}
    for r, rule in enumerate(st.blocking_rules):
        e = _exploded(table, rule.keys[0])
        for k in rule.keys[1:]:
            e = _combine(e, _exploded(table, k), table.n)
        parts["rule"].append(np.full(len(e.rec), r, dtype=np.int32))
        parts["code"].append(e.code)
        parts["rec"].append(e.rec)
        if side is not None:
            parts["side"].append(side[e.rec])
        if only is not None:
            parts["only"].append(only[e.rec])
    return pa.table({name: np.concatenate(arrs) for name, arrs in parts.items() if arrs})


def candidate_pairs(spark: SparkSession, table: Table, st: LinkageSettings,
                    only: NDArray[np.bool_] | None = None) -> tuple[DataFrame, list[RuleCount]]:
    """Unique (left, right), left < right, from every rule that is not refused, and each
    rule's count; `only` as in kglink.linkage.blocking.candidate_pairs (one side of each
    pair in it)."""
    rules = st.blocking_rules
    empty = spark.createDataFrame([], "left long, right long")
    if not rules:
        return empty, []
    side = None
    if st.link_only_between:
        _, inv = np.unique(table.cols[st.link_only_between].astype(str), return_inverse=True)
        side = inv.astype(np.int64)
    # Held in Spark's block store once (localCheckpoint): a DataFrame made from an Arrow
    # table is decoded from its Arrow batches again by every job that reads it, and the
    # entries are read three times (block sizes, the semi-join, the self-join): at 100k
    # that decoding was most of blocking's time.
    entries = spark.createDataFrame(_entries(table, st, side, only)).localCheckpoint()
    limits = spark.createDataFrame(
        [(r, rule.max_block_size or st.max_block_size) for r, rule in enumerate(rules)],
        "rule int, limit long")
    sizes = (entries.groupBy("rule", "code").agg(F.count(F.lit(1)).alias("size"))
             .join(F.broadcast(limits), "rule").cache())
    try:
        big = F.col("size") > F.col("limit")
        kept = (F.col("size") > 1) & ~big
        per_rule = {row["rule"]: row for row in sizes.groupBy("rule").agg(
            F.sum(F.when(kept, F.col("size") * (F.col("size") - 1) / 2).otherwise(0))
             .cast("long").alias("pairs"),
            F.sum(F.when(kept, 1).otherwise(0)).alias("blocks"),
            F.sum(F.when(big, 1).otherwise(0)).alias("big"),
            F.sum(F.when(big, F.col("size")).otherwise(0)).alias("in_big")).collect()}
        counts = []
        for r, rule in enumerate(rules):
            row = per_rule.get(r)
            pairs = int(row["pairs"]) if row else 0
            counts.append(RuleCount(rule.name, pairs, int(row["blocks"]) if row else 0,
                                    int(row["big"]) if row else 0, int(row["in_big"]) if row else 0,
                                    pairs > st.max_pairs_per_rule))
        allowed = [r for r, rc in enumerate(counts) if not rc.refused]
        if not allowed:
            return empty, counts
        blocks = sizes.where(kept & F.col("rule").isin(allowed)).select("rule", "code")
        e = entries.join(blocks, ["rule", "code"], "left_semi")
        a, b = e.alias("a"), e.alias("b")
        cond = ((F.col("a.rule") == F.col("b.rule")) & (F.col("a.code") == F.col("b.code"))
                & (F.col("a.rec") < F.col("b.rec")))
        if side is not None:
            cond &= F.col("a.side") != F.col("b.side")
        if only is not None:
            cond &= F.col("a.only") | F.col("b.only")
        pairs_df = (a.join(b, cond).select(F.col("a.rec").alias("left"), F.col("b.rec").alias("right"))
                    .distinct())
        return pairs_df, counts
    finally:
        # The pairs are computed later from `entries`, not from this cache.
        sizes.unpersist()
