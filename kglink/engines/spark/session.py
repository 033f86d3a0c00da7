"""The Spark session kglink links on.

`local[N]` runs Spark inside this machine (N cores), which is how the tests and the
benchmarks run it; `spark://HOST:7077`, `yarn` or `k8s://...` name a cluster. Settings
that must be there before the JVM starts (driver memory) are given here; the rest can
come from `spark-defaults.conf` or `SPARK_CONF_DIR` as for any Spark job.
"""
from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

# Rows per Arrow batch handed to mapInPandas: comparisons work on distinct values per
# batch, so bigger batches share more of them (Spark's default is 10,000).
ARROW_BATCH = 100_000


def spark_session(master: str = "local[2]", *, driver_memory: str | None = None,
                  shuffle_partitions: int | None = None, app: str = "kglink") -> SparkSession:
    """A Spark session for linking (the one already running in this process if any)."""
    # Executors run this interpreter (and its installed kglink), not whatever python3 is first
    # on the PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    b = (SparkSession.builder.master(master).appName(app)
         .config("spark.sql.execution.arrow.pyspark.enabled", "true")
         .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH))
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.adaptive.enabled", "true"))
    # In local mode the executors live in the driver's JVM: its heap is theirs (Spark's
    # default, 1 GB, is too small at 100k records). On a cluster the deployment's own
    # spark-defaults.conf or spark-submit settings stand unless one is given here.
    if driver_memory or master.startswith("local"):
        memory = driver_memory or "2g"
        # The scored pairs come back to the driver (the relatives rounds and the saving
        # run there): Spark's 1 GB cap on collected results aborts a million records'
        # 18M pairs, so the cap is the driver's own memory, the real bound.
        b = (b.config("spark.driver.memory", memory)
             .config("spark.driver.maxResultSize", memory))
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if shuffle_partitions or master.startswith("local"):
        # Spark's default of 200 shuffle partitions is for a cluster: on a few local cores
        # each costs a task start per stage for little work.
        spark.conf.set("spark.sql.shuffle.partitions",
                       str(shuffle_partitions or 4 * spark.sparkContext.defaultParallelism))
    return spark
