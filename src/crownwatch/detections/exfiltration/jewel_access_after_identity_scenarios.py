"""Scenarios of ``exfiltration.jewel_access_after_identity``, each with its own Okta
spray (the identity finding the chain starts from) and its own researcher. Attacks: the
guess works and the user pulls every shard from the spraying address (critical); no
sign of compromise on the identity side, but the pull comes from a network and client
the user never used (high). Look-alikes: everyone sprayed and the user keeps reading
as every day; sprayed short names (ml, ai, admin) that match roles but are nobody's;
too few accounts tried to be a spray."""

from __future__ import annotations

from datetime import timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.detections.identity._common import SPRAY_CHAIN
from crownwatch.testing.storage import (
    SHARDS,
    T0,
    okta_spray,
    okta_success,
    registry,
    researcher,
    role,
    s3_line,
    storage_logs,
)

DAY9 = T0 + timedelta(days=9)
SPRAYED_AT = DAY9 - timedelta(hours=6)


def staff(prefix: str, who: str) -> list[str]:
    return [f"{prefix}{i:02d}@northwind-ai.com" for i in range(14)] + [f"{who}@northwind-ai.com"]


def pulls(who: str, ip: str, ua: str) -> list[str]:
    return [
        s3_line(
            DAY9 + timedelta(hours=2, minutes=i),
            "nw-model-weights",
            researcher(who),
            k,
            4_983_245_312,
            ip=ip,
            ua=ua,
        )
        for i, k in enumerate(SHARDS)
    ]


def guessed_then_pulled() -> dict:
    spray = okta_spray(SPRAYED_AT, staff("ja", "gina"), ip="198.51.100.66")
    spray.append(okta_success(DAY9 - timedelta(hours=5), "gina@northwind-ai.com", "198.51.100.66"))
    return {"okta": spray, "s3": pulls("gina", "198.51.100.66", "python-requests/2.31.0")}


def new_network_and_client() -> dict:
    spray = okta_spray(SPRAYED_AT, staff("jb", "hana"), ip="198.51.100.67")
    return {"okta": spray, "s3": pulls("hana", "203.0.113.150", "rclone/v1.66.0")}


def _critical(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    assert f["entities"]["asset"] == ["frontier-weights"]
    ev = f["evidence"]
    assert "compromise:identity.success_after_spray" in ev["reasons"]
    assert "attack_address" in ev["reasons"]
    assert ev["links"] == ["role_session"]


def _high(found: list[dict]) -> None:
    # no compromise on the identity side: high, on the access side's evidence alone
    assert [(f["severity"], f["evidence"]["reasons"]) for f in found] == [
        ("high", ["access:exfiltration.bulk_read", "new_network_and_client"])
    ]


def _logs(name: str, build) -> object:
    return storage_logs(name, s3=lambda: build()["s3"], okta=lambda: build()["okta"])


SHORT = ["ml", "ai", "admin", "dev", "test", "ops", "data", "research", "infer", "train"]

SCENARIOS = [
    Scenario(
        "guessed_password_then_weights_from_the_spraying_address",
        "attack",
        _logs("jewel_guessed", guessed_then_pulled),
        entities={"user": ("gina",)},
        expect=_critical,
        also=(*SPRAY_CHAIN, "exfiltration.bulk_read"),
        config=registry(),
    ),
    Scenario(
        "sprayed_user_pulls_from_new_network_and_client",
        "attack",
        _logs("jewel_new_network", new_network_and_client),
        entities={"user": ("hana",)},
        expect=_high,
        also=(*SPRAY_CHAIN, "exfiltration.bulk_read"),
        config=registry(),
    ),
    Scenario(
        "org_wide_spray_then_reads_as_every_day",
        "benign",
        storage_logs(
            "jewel_org_wide_spray",
            okta=lambda: okta_spray(
                SPRAYED_AT,
                staff("jc", "alice") + [f"eng{i:03d}@northwind-ai.com" for i in range(200)],
                ip="198.51.100.68",
            ),
        ),
        also=SPRAY_CHAIN,
        config=registry(),
    ),
    Scenario(
        "short_sprayed_names_match_no_principal",
        "benign",
        storage_logs(
            "jewel_short_names",
            okta=lambda: okta_spray(
                SPRAYED_AT, [f"{n}@northwind-ai.com" for n in SHORT], ip="198.51.100.69"
            ),
            s3=lambda: [
                s3_line(
                    DAY9 + timedelta(hours=2, minutes=i),
                    "nw-model-weights",
                    role("ml-serving", "botocore-session-1772499999"),
                    k,
                    1_000,
                    ip="203.0.113.9",
                )
                for i, k in enumerate(SHARDS)
            ],
        ),
        also=SPRAY_CHAIN,
        config=registry(),
    ),
    Scenario(
        "too_few_sprayed_for_a_spray",
        "benign",
        storage_logs(
            "jewel_no_spray",
            okta=lambda: okta_spray(SPRAYED_AT, staff("jd", "alice")[:4], ip="198.51.100.70"),
        ),
        also=SPRAY_CHAIN,
        config=registry(),
    ),
]
