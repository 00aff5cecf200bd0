"""The exfiltration detections raise identical findings on DuckDB and on Spark — ids,
detections, severities, entities, titles and evidence — over a small storage lake:
five days of the simulated lab's CloudTrail, S3 server access, GCS audit and Azure blob
logs with the planted campaign, the example registry, and a password spray to chain on.

Kept small on purpose (under 400 records): CI has two cores, and on Spark the cost is
per query, not per row. The spray finding comes from one DuckDB run and is handed to
both engines' exfiltration runs alike, so the identity detections (their own parity
test) are not paid for twice. It requires every detection to fire, so it cannot pass
by both engines finding nothing.
"""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from crownwatch.detect import Tables, run_detections
from crownwatch.engine import Engine
from crownwatch.lake import Lake
from crownwatch.simulate.storage import START, generate_storage
from tests.conftest import HAS_SPARK
from tests.exfiltration._logs import jsonl, okta_spray

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(
        not HAS_SPARK, reason="PySpark and a Java runtime are needed for the Spark engine"
    ),
]

MUST_FIRE = {
    "exfiltration.bulk_read",
    "exfiltration.first_access",
    "exfiltration.transfer_out",
    "exfiltration.delete_after_copy",
    "exfiltration.jewel_access_after_identity",
}
STAFF = [f"user{i:02d}@northwind-ai.com" for i in range(14)] + ["bob@northwind-ai.com"]


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    d = tmp_path_factory.mktemp("exfil_parity")
    out = generate_storage(d / "sim", seed=5, days=5)
    lake = Lake(d / "lake")
    # bob's password was sprayed the day before his session pulls the checkpoint
    spray = okta_spray(START + timedelta(days=3, hours=22), STAFF)
    lake.ingest([d / "sim" / s for s in ("aws", "gcp", "azure")] + [jsonl(d / "okta.jsonl", spray)])
    return lake, tomllib.loads(Path(out["config"]).read_text()), out["config"]


_FINDINGS = Tables.findings


def _exfiltration(engine, conf, identity, monkeypatch) -> dict[str, dict]:
    # the run sees the spray finding as if identity.password_spray had run before it
    monkeypatch.setattr(
        Tables,
        "findings",
        lambda self: _FINDINGS(SimpleNamespace(_findings=identity + self._findings)),
    )
    return {f["id"]: f for f in run_detections(engine, conf, only=["exfiltration"])}


def test_exfiltration_detections_agree_on_duckdb_and_spark(storage, monkeypatch):
    lake, conf, path = storage
    monkeypatch.setenv("CROWNWATCH_CONFIG", path)
    if "SPARK_SHUFFLE_PARTITIONS" not in os.environ:  # read when the session starts
        monkeypatch.setenv("SPARK_SHUFFLE_PARTITIONS", "1")
    spark_engine = Engine(lake, "spark")
    session = spark_engine.backend._session
    session.sparkContext.setLogLevel("ERROR")
    # tiny data: compiling Java for each of many small stages costs more than running them
    session.conf.set("spark.sql.codegen.wholeStage", "false")

    duck_engine = Engine(lake, "duckdb")
    identity = run_detections(duck_engine, conf, only=["identity.password_spray"])
    assert identity, "the spray must be found for the chain to be tested"
    duck = _exfiltration(duck_engine, conf, identity, monkeypatch)
    spark = _exfiltration(spark_engine, conf, identity, monkeypatch)

    fired = {f["detection"] for f in duck.values()}
    assert fired >= MUST_FIRE, fired
    assert sorted(duck) == sorted(spark), {
        "only_duckdb": sorted(
            (duck[i]["detection"], duck[i]["title"]) for i in set(duck) - set(spark)
        ),
        "only_spark": sorted(
            (spark[i]["detection"], spark[i]["title"]) for i in set(spark) - set(duck)
        ),
    }
    for fid, f in duck.items():
        g = spark[fid]
        assert (f["detection"], f["severity"], f["entities"]) == (
            g["detection"],
            g["severity"],
            g["entities"],
        ), fid
        ev, gv = f["evidence"], g["evidence"]
        assert ev == gv, (
            fid,
            {k: (ev.get(k), gv.get(k)) for k in set(ev) | set(gv) if ev.get(k) != gv.get(k)},
        )
        assert f == g, fid
