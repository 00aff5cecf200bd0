"""Scenarios of ``exfiltration.first_access``: a principal that never read the weights
and is no expected reader takes three full shards; a researcher's presigned link used
from outside. A newcomer's two modest reads and a new session of the training job (an
expected reader, however much it reads) must stay quiet."""

from __future__ import annotations

from datetime import timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.detections.exfiltration.bulk_read_scenarios import newcomer
from crownwatch.testing.storage import (
    SHARDS,
    T0,
    registry,
    researcher,
    role,
    s3_line,
    storage_logs,
)

DAY9 = T0 + timedelta(days=9)
EVE = role("ml-inference", "botocore-session-1772400000")
KOJI = researcher("koji")


def unexpected_principal() -> list[str]:
    return [
        s3_line(DAY9 + timedelta(hours=2, minutes=i), "nw-model-weights", EVE, k, 4_983_245_312)
        for i, k in enumerate(SHARDS[:3])
    ]


def presigned_outside() -> list[str]:
    return [
        s3_line(
            DAY9 + timedelta(hours=23),
            "nw-model-weights",
            KOJI,
            SHARDS[0],
            300_000_000,
            ip="203.0.113.78",
            auth="QueryString",
            ua="curl/8.5.0",
        )
    ]


def new_training_session() -> list[str]:
    return [
        s3_line(
            DAY9 + timedelta(hours=5, minutes=i),
            "nw-model-weights",
            role("nightly-train", "i-0fresh"),
            k,
            4_983_245_312,
        )
        for i, k in enumerate(SHARDS)
    ]


def _reasons(*reasons):
    def check(found: list[dict]) -> None:
        assert [f["evidence"]["reasons"] for f in found] == [list(reasons)]

    return check


SCENARIOS = [
    Scenario(
        "unexpected_principal_reads_shards",
        "attack",
        storage_logs("first_access_unexpected", s3=unexpected_principal),
        entities={"principal": (EVE,), "asset": ("frontier-weights",)},
        expect=_reasons("first_access"),
        also=("exfiltration.bulk_read",),  # three full shards with no earlier reads
        config=registry(),
    ),
    Scenario(
        "presigned_link_used_from_outside",
        "attack",
        storage_logs("first_access_presigned_outside", s3=presigned_outside),
        entities={"principal": (KOJI,)},
        expect=_reasons("presigned_outside"),
        config=registry(),
    ),
    Scenario(
        "newcomer_modest_first_reads",
        "benign",
        storage_logs("newcomer", s3=newcomer),
        config=registry(),
    ),
    Scenario(
        "new_session_of_an_expected_reader",
        "benign",
        storage_logs("first_access_new_training_session", s3=new_training_session),
        config=registry(),
    ),
]
