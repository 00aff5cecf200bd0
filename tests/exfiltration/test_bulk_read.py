"""exfiltration.bulk_read: a stolen researcher session pulling the whole checkpoint,
beside the nightly job that reads the same bytes every night and a newcomer's first reads."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import by_detection, hunt
from tests.exfiltration._logs import (
    SHARD_BYTES,
    SHARDS,
    T0,
    role,
    s3_line,
    use_registry,
    weights_rhythm,
    write_lines,
)

DET = "exfiltration.bulk_read"


def _run(lake, tmp_path, monkeypatch, extra):
    conf = use_registry(tmp_path, monkeypatch)
    path = write_lines(tmp_path / "logs" / "s3-access.log", weights_rhythm(10) + extra)
    return by_detection(hunt(lake, path, only=[DET], config=conf), DET)


def test_stolen_session_bulk_read_fires(lake, tmp_path, monkeypatch):
    bob = role("AWSReservedSSO_Researcher_0a1b2c3d", "bob@northwind-ai.com")
    day = T0 + timedelta(days=9, hours=3)
    attack = [
        s3_line(
            day + timedelta(minutes=i),
            "nw-model-weights",
            bob,
            k,
            SHARD_BYTES,
            ip="203.0.113.77",
            auth="QueryString",
            ua="rclone/v1.66.0",
        )
        for i, k in enumerate(SHARDS)
    ]
    found = _run(lake, tmp_path, monkeypatch, attack)
    assert len(found) == 1, found
    f = found[0]
    assert f["entities"]["asset"] == ["frontier-weights"]
    assert f["entities"]["principal"] == [bob]
    assert f["severity"] == "critical"
    ev = f["evidence"]
    assert ev["objects"] == 9 and ev["bytes"] >= 8 * SHARD_BYTES
    assert ev["baseline_own_days"] == 9 and ev["ratio_to_own"] > 5
    assert "203.0.113.77" in f["entities"]["src_ip"]
    assert ev["top_keys"][0].startswith("01. frontier/v3/")
    # per-finding ATT&CK/ATLAS: an "attack" row column (evidence until the framework reads it)
    assert ev["timeline"] and "AML.T0048.004" in f["attack"] + ev.get("attack", [])
    assert "T1530" in f["attack"]


def test_nightly_job_and_newcomer_stay_quiet(lake, tmp_path, monkeypatch):
    carol = role("AWSReservedSSO_Researcher_0a1b2c3d", "carol@northwind-ai.com")
    newcomer = [
        s3_line(
            T0 + timedelta(days=9, hours=14, minutes=i),
            "nw-model-weights",
            carol,
            SHARDS[i],
            150_000_000,
        )
        for i in range(2)
    ]
    assert _run(lake, tmp_path, monkeypatch, newcomer) == []
