"""A Spark engine that cannot start says why and what to check, as any other error of the
CLI does, instead of a traceback; a driver memory Spark cannot read is refused before
Spark is asked. (Its own file: no other Spark session may be running in the process.)"""
from __future__ import annotations

import pytest

from kglink.engines import EngineUnavailable, scorer_for


@pytest.mark.parametrize("memory", ["lots", "0g", "-5g", "6 g", "6gb", ""])
def test_a_driver_memory_spark_cannot_read_is_refused_before_spark_starts(memory: str) -> None:
    with pytest.raises(EngineUnavailable, match=r"is not a memory size.*e\.g\. 6g"):
        with scorer_for("spark", spark_memory=memory):
            pass


@pytest.mark.spark
def test_a_master_spark_does_not_know_is_an_error_that_says_what_to_check() -> None:
    from pyspark import SparkContext

    assert SparkContext._active_spark_context is None, "another test left a Spark session running"
    with pytest.raises(EngineUnavailable, match=r"Spark did not start with master 'nonsense://x'.*"
                                                r"Check the master \(local\[N\], spark://HOST:7077"):
        with scorer_for("spark", spark_master="nonsense://x"):
            pass
