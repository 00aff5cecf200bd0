"""Scenarios of ``exfiltration.bulk_read``: a stolen researcher session pulling the
whole checkpoint through presigned links; beside the nightly job that reads the same
bytes every night, a newcomer's first modest reads must stay quiet."""

from __future__ import annotations

from datetime import timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.storage import (
    SHARD_BYTES,
    SHARDS,
    T0,
    registry,
    researcher,
    s3_line,
    storage_logs,
)

DAY9 = T0 + timedelta(days=9)
BOB = researcher("bob")


def stolen_session() -> list[str]:
    """bob's session, from an outside address with rclone, takes every shard."""
    return [
        s3_line(
            DAY9 + timedelta(hours=3, minutes=i),
            "nw-model-weights",
            BOB,
            k,
            SHARD_BYTES,
            ip="203.0.113.77",
            auth="QueryString",
            ua="rclone/v1.66.0",
        )
        for i, k in enumerate(SHARDS)
    ]


def newcomer() -> list[str]:
    """carol, new on the team, reads two shards from her desk."""
    return [
        s3_line(
            DAY9 + timedelta(hours=14, minutes=i),
            "nw-model-weights",
            researcher("carol"),
            SHARDS[i],
            150_000_000,
        )
        for i in range(2)
    ]


def _stolen(found: list[dict]) -> None:
    [f] = found
    assert f["entities"]["asset"] == ["frontier-weights"]
    assert f["entities"]["principal"] == [BOB]
    assert f["severity"] == "critical"
    ev = f["evidence"]
    assert ev["objects"] == 9 and ev["bytes"] >= 8 * SHARD_BYTES
    assert ev["baseline_own_days"] == 9 and ev["ratio_to_own"] > 5
    assert "203.0.113.77" in f["entities"]["src_ip"]
    assert ev["top_keys"][0].startswith("01. frontier/v3/")
    assert ev["timeline"] and "AML.T0048.004" in f["attack"] and "T1530" in f["attack"]


SCENARIOS = [
    Scenario(
        "stolen_session_pulls_the_checkpoint",
        "attack",
        storage_logs("bulk_read_stolen_session", s3=stolen_session),
        entities={"principal": (BOB,), "asset": ("frontier-weights",)},
        expect=_stolen,
        also=("exfiltration.first_access",),  # presigned links used from outside
        config=registry(),
    ),
    Scenario(
        "nightly_job_and_a_newcomer",
        "benign",
        storage_logs("newcomer", s3=newcomer),
        config=registry(),
    ),
]
