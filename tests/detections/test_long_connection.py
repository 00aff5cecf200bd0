"""``network.long_connection``: durations summed per pair, the internal skip, the
threshold."""

from __future__ import annotations

from crownwatch.detect import run_detections
from crownwatch.detections.contract import Scenario
from crownwatch.engine import Engine
from crownwatch.testing.network import DAY0, conn, jsonl
from crownwatch.testing.scenarios import build_lake

D0 = DAY0.timestamp()
DET = "network.long_connection"


def _logs():
    hourly = [  # 13 one-hour connections: 13 h in total, none long on its own
        conn(
            D0 + 3600 * i,
            "10.78.0.1",
            "198.51.100.71",
            8080,
            500,
            900,
            service=None,
            duration=3599.0,
            sport=42000 + i,
        )
        for i in range(13)
    ]
    eleven = conn(D0, "10.78.0.2", "198.51.100.72", 443, 500, 900, duration=11 * 3600.0)
    internal = conn(
        D0,
        "10.78.0.3",
        "10.78.9.9",
        5432,
        500,
        900,
        service=None,
        duration=20 * 3600.0,
        local_resp=True,
    )
    return {"unit/long/conn.log": jsonl([*hourly, eleven, internal])}


def _run(tmp_path, **params):
    lake, config = build_lake(tmp_path, [Scenario("u", "benign", _logs)])
    if params:
        config["detections"] = {DET: params}
    return {f["entities"]["src_ip"][0]: f for f in run_detections(Engine(lake), config, only=[DET])}


def test_durations_sum_per_pair_and_internal_pairs_are_skipped(tmp_path):
    found = _run(tmp_path)
    assert sorted(found) == ["10.78.0.1"]  # 11 h is under 12 h; 10.78.0.3 talks inside
    ev = found["10.78.0.1"]["evidence"]
    assert ev["total_hours"] == 13.0 and ev["longest_connection_hours"] == 1.0
    assert ev["connections"] == 13 and found["10.78.0.1"]["severity"] == "medium"


def test_include_internal_and_a_lower_bar(tmp_path):
    found = _run(tmp_path, include_internal=True, min_hours=10.0)
    assert sorted(found) == ["10.78.0.1", "10.78.0.2", "10.78.0.3"]


def test_a_pair_of_many_connections_cites_its_first_records_and_counts_them_all(tmp_path):
    """A tunnel that reconnects every two minutes for a day: 720 connections, 24 hours,
    one finding citing the first 25 records in line order, counting the 720."""
    reconnecting = [
        conn(D0 + 120 * i, "10.78.0.4", "198.51.100.74", 443, 500, 900, duration=119.0)
        for i in range(720)
    ]
    lake, config = build_lake(
        tmp_path, [Scenario("u", "attack", lambda: {"unit/tunnel/conn.log": jsonl(reconnecting)})]
    )
    (f,) = run_detections(Engine(lake), config, only=[DET])
    ev = f["evidence"]
    assert ev["connections"] == 720 and ev["raw_records_total"] == 720
    lines = [int(r.rsplit("#", 1)[1]) for r in ev["raw_records"]]
    assert lines == list(range(1, 26))
    assert len(ev["sample_uids"]) == 25 and ev["sample_uids"] == sorted(set(ev["sample_uids"]))
