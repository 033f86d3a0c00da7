"""Engines that score candidate pairs somewhere other than this process.

Each gives `kglink.linkage.run.link` a `scorer=`: the same block → compare → train →
score → evidence rules as `kglink.linkage.run.score_pairs`, and the same scored pairs.
`local` is that function itself; `spark` is kglink/engines/spark (the `spark` extra).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec

from kglink.errors import KglinkError
from kglink.linkage.run import Scorer, score_pairs

ENGINES = ("local", "spark")
# A JVM memory size as Spark takes it: a whole number, and k, m, g or t (bytes without one).
MEMORY = re.compile(r"[1-9][0-9]*[kmgt]?", re.IGNORECASE)


class EngineUnavailable(KglinkError, ValueError):
    """An engine was asked for that is unknown or not installed."""


@contextmanager
def scorer_for(engine: str, *, spark_master: str = "local[2]",
               spark_memory: str | None = None) -> Iterator[Scorer]:
    """The named engine's scorer for the length of the block (a Spark session is stopped
    at the end)."""
    if engine == "local":
        yield score_pairs
        return
    if engine != "spark":
        raise EngineUnavailable(f"unknown engine {engine}. Use one of: {', '.join(ENGINES)}")
    if spark_memory is not None and not MEMORY.fullmatch(spark_memory):
        raise EngineUnavailable(f"spark memory {spark_memory!r} is not a memory size. Give a whole "
                                "number and k, m, g or t, e.g. 6g for a million records")
    if find_spec("pyspark") is None:
        raise EngineUnavailable("the spark engine needs pyspark, which is not installed. "
                                "Install it with pip install 'kglink[spark]'")
    from pyspark import SparkContext

    from kglink.engines.spark import SparkScorer, spark_session

    ours = SparkContext._active_spark_context is None    # else a session this process runs
    try:
        spark = spark_session(spark_master, driver_memory=spark_memory)
    except Exception as e:   # the JVM would not start, or Spark refused the master
        first = (str(e).strip().splitlines() or [type(e).__name__])[0].rstrip(".")
        raise EngineUnavailable(
            f"Spark did not start with master {spark_master!r}: {first}. Check the master "
            "(local[N], spark://HOST:7077, yarn or k8s://...), that Java 17 or newer is on the "
            "PATH, and Spark's own message above") from e
    try:
        yield SparkScorer(spark)
    finally:
        if ours:
            spark.stop()
