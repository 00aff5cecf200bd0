"""Scenarios of ``exfiltration.delete_after_copy``: a session reads every shard from
outside, then deletes them two hours later; the training job deleting old checkpoints
it wrote (not ones it just read) must stay quiet."""

from __future__ import annotations

from datetime import timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.storage import (
    SHARDS,
    T0,
    registry,
    researcher,
    role,
    s3_line,
    storage_logs,
)

AT = T0 + timedelta(days=9, hours=3)
FRANK = researcher("frank")


def read_then_delete() -> list[str]:
    reads = [
        s3_line(
            AT + timedelta(minutes=i),
            "nw-model-weights",
            FRANK,
            k,
            4_983_245_312,
            ip="203.0.113.79",
        )
        for i, k in enumerate(SHARDS)
    ]
    deletes = [
        s3_line(
            AT + timedelta(hours=2, minutes=i),
            "nw-model-weights",
            FRANK,
            k,
            0,
            op="REST.DELETE.OBJECT",
            status=204,
            ip="203.0.113.79",
        )
        for i, k in enumerate(SHARDS)
    ]
    return reads + deletes


def checkpoint_rotation() -> list[str]:
    return [
        s3_line(
            AT + timedelta(minutes=i),
            "nw-model-weights",
            role("nightly-train", "i-0rotate"),
            f"frontier/v2/model-{i:05d}-of-00008.safetensors",
            0,
            op="REST.DELETE.OBJECT",
            status=204,
        )
        for i in range(8)
    ]


def _deleted(found: list[dict]) -> None:
    [f] = found
    assert f["evidence"]["objects_deleted"] == 8 and "T1485" in f["attack"]


SCENARIOS = [
    Scenario(
        "reads_every_shard_then_deletes_them",
        "attack",
        storage_logs("delete_after_copy", s3=read_then_delete),
        entities={"principal": (FRANK,)},
        expect=_deleted,
        also=("exfiltration.bulk_read",),  # every shard, from outside, is a bulk read too
        config=registry(),
    ),
    Scenario(
        "training_job_rotates_old_checkpoints",
        "benign",
        storage_logs("checkpoint_rotation", s3=checkpoint_rotation),
        config=registry(),
    ),
]
