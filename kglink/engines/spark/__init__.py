"""Linkage on Apache Spark (pyspark, the `spark` extra: `pip install 'kglink[spark]'`).

Blocking rules run as Spark joins and comparisons, the model and the evidence rules
inside `mapInPandas` over the blocked pairs, giving the local engine's scored pairs
(blocking.py, scoring.py); clustering with the evidence rules runs on Spark too, the
link edges' connected components by label propagation and the local clustering of each
in `applyInPandas` (cluster.py), for the final entities and each relatives round.
Training (on samples, as the local engine) and the relatives rounds' rescoring stay on
the driver for now (kglink.linkage.run). docs/scale.md says where each stage runs from
1M to 100M records.

    from kglink.engines.spark import SparkScorer, spark_session
    link(ws, scorer=SparkScorer(spark_session("local[2]")))
"""
from __future__ import annotations

from kglink.engines.spark.scoring import SparkScorer
from kglink.engines.spark.session import spark_session

__all__ = ["SparkScorer", "spark_session"]
