"""The same detections, the same lake, two engines: DuckDB and Spark must raise
identical findings — ids, titles, severities, times, entities and evidence.

Detections are written once as Ibis expressions; this is the test that keeps them
honest (no backend-specific function, no timestamp-to-string key, no order-dependent
sample). The lake holds every identity scenario — attacks and their benign
look-alikes, in Okta System Log form (tests/detections/identity/_scenarios.py) — plus
the Windows explicit-credential spray and its benign week
(tests/fixtures/windows/explicit_credential_*.xml, written by make_fixtures.py), which
``identity.explicit_credential_spray`` needs: 4648 events have no Okta form — and a
CloudTrail trail with an EC2 instance role stolen and used outside AWS beside the same
role used from inside, with AWS's published ranges stored in the lake, which
``identity.workload_credentials_outside`` needs. The test
also requires every identity detection to fire on it, so it cannot pass by both
engines finding nothing. One Spark session serves the module; it is left
running for any later Spark test in the same process (startup is the expensive part).
"""

from __future__ import annotations

import json
import os

import pytest

from crownwatch.detect import run_detections
from crownwatch.detections import all_detections
from crownwatch.engine import Engine
from crownwatch.enrichment import feeds
from crownwatch.lake import Lake
from tests.conftest import FIXTURES, HAS_SPARK
from tests.detections.identity._okta import write
from tests.detections.identity._scenarios import all_scenario_events
from tests.detections.identity.test_workload_credentials import (
    AWS_RANGES,
    same_role_inside_aws,
    stolen_instance_role,
    write_trail,
)

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(
        not HAS_SPARK, reason="PySpark and a Java runtime are needed for the Spark engine"
    ),
]

IDENTITY = sorted(d.id for d in all_detections() if d.id.startswith("identity."))


@pytest.fixture(scope="module")
def identity_lake(tmp_path_factory) -> Lake:
    d = tmp_path_factory.mktemp("parity")
    lake = Lake(d / "lake")
    feeds.store(lake.root, json.dumps(AWS_RANGES).encode(), "ip-ranges.json")
    lake.ingest(
        [
            write(d / "okta_system_log.jsonl", all_scenario_events()),
            write_trail(d / "trail.json", stolen_instance_role() + same_role_inside_aws()),
            FIXTURES / "windows" / "explicit_credential_spray.xml",
            FIXTURES / "windows" / "explicit_credential_benign.xml",
        ]
    )
    return lake


@pytest.fixture(scope="module")
def spark_engine(identity_lake) -> Engine:
    # Test-sized data: one shuffle partition, and no whole-stage code generation —
    # compiling Java for each of hundreds of tiny stages costs more than running them.
    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "1")
    engine = Engine(identity_lake, "spark")
    session = engine.backend._session
    session.sparkContext.setLogLevel("ERROR")
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    return engine


def _by_id(findings: list[dict]) -> dict[str, dict]:
    return {f["id"]: f for f in findings}


def test_identity_detections_agree_on_duckdb_and_spark(identity_lake, spark_engine):
    duck = run_detections(Engine(identity_lake, "duckdb"), {}, only=["identity"])
    spark = run_detections(spark_engine, {}, only=["identity"])

    assert {f["detection"] for f in duck} == set(IDENTITY), (
        "every identity detection must fire on the scenarios"
    )
    d, s = _by_id(duck), _by_id(spark)
    assert sorted(d) == sorted(s), {
        "only_duckdb": sorted((d[i]["detection"], d[i]["title"]) for i in set(d) - set(s)),
        "only_spark": sorted((s[i]["detection"], s[i]["title"]) for i in set(s) - set(d)),
    }
    for fid in d:
        assert d[fid] == s[fid], fid
