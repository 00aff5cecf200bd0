"""Scenarios of ``identity.brute_force``: Hydra against one executive from one outside
address; a backup job retrying a rotated password every five minutes from the one
internal host it runs on must stay quiet."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.okta import (
    DAY,
    INTERNAL,
    MIN,
    T0,
    fail,
    history,
    hosting,
    lock,
    success,
    system_log,
)


def brute_force(
    t0: datetime = T0 + 7 * DAY, attempts: int = 60, user: str = "cfo.kim", land: bool = False
) -> list[dict]:
    """Hydra against one executive from one outside address: a few seconds apart,
    jittered, lockout tripping after 10."""
    rng = random.Random(11)
    src = hosting(900, "Mozilla/5.0 (Hydra)", country="Russia")
    ev = history([user], t0)
    at = t0
    for i in range(attempts):
        at += timedelta(seconds=rng.uniform(1.0, 9.0))
        ev += fail(at, user, src, "LOCKED_OUT" if i >= 10 else "INVALID_CREDENTIALS")
        if i == 9:
            ev += lock(at + timedelta(milliseconds=40), user, src)
    if land:
        ev += success(at + 4 * MIN, user, src)
    return ev


def stale_service_account(
    t0: datetime = T0 + 7 * DAY, attempts: int = 72, user: str = "svc-backup"
) -> list[dict]:
    """Benign: a backup job retrying a rotated password every 5 minutes for 6 hours
    from the one internal host it runs on."""
    ev = history([user], t0, net=INTERNAL)
    for i in range(attempts):
        ev += fail(t0 + i * 5 * MIN + timedelta(milliseconds=(i * 137) % 900), user, INTERNAL)
    return ev


def _hydra(found: list[dict]) -> None:
    [f] = found
    assert f["entities"]["user"] == ["cfo.kim"]
    assert f["entities"]["src_ip"] == [hosting(900).ip]
    assert f["attack"] == ["T1110.001"] and f["severity"] == "high"
    ev = f["evidence"]
    assert ev["attempts"] == 60 and ev["locked_attempts"] == 50
    assert ev["attempts_per_minute"] > 5 and not ev["stale_credential"]
    assert "cfo.kim" in f["title"] and "60 failures" in f["title"]


SCENARIOS = [
    Scenario(
        "hydra_against_one_executive",
        "attack",
        system_log("brute_force", brute_force),
        entities={"user": ("cfo.kim",), "src_ip": (hosting(900).ip,)},
        expect=_hydra,
    ),
    Scenario(
        "stale_service_account",
        "benign",
        system_log("stale_service_account", stale_service_account),
    ),
]
