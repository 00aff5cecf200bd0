"""The inference detections give the same findings on Spark as on DuckDB."""

from __future__ import annotations

import pytest

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from tests.conftest import HAS_SPARK


@pytest.mark.slow
@pytest.mark.spark
@pytest.mark.skipif(not HAS_SPARK, reason="needs PySpark and a JVM")
def test_same_findings_on_spark(scenario):
    spark = run_detections(Engine(scenario["lake"], "spark"), {}, only=["inference"])

    def shape(fs):
        return sorted(
            (
                f["id"],
                f["severity"],
                tuple(sorted(f["entities"]["account"])),
                tuple(sorted(f["evidence"]["signals"])),
            )
            for f in fs
        )

    assert shape(spark) == shape(scenario["findings"]) != []
