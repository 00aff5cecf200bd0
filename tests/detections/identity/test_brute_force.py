"""identity.brute_force on Okta System Log: Hydra against one account fires (critical
when the guess lands); a service account retrying a stale password every five
minutes from its internal host stays quiet — but the same cadence from outside, or
a fast run from inside, does not."""

from __future__ import annotations

from datetime import timedelta

from crownwatch.detections.identity.brute_force_scenarios import brute_force, stale_service_account
from crownwatch.testing.okta import INTERNAL, T0, Net, fail, history

from .conftest import hunt_events

DET = "identity.brute_force"


def test_stale_credential_reported_low_when_asked(tmp_path):
    cfg = {"detections": {DET: {"report_stale_credentials": True}}}
    [f] = hunt_events(tmp_path, stale_service_account(), DET, cfg)
    assert f["severity"] == "low" and f["evidence"]["stale_credential"] is True
    assert f["title"].startswith("Stale credential: svc-backup")
    assert f["evidence"]["interval_cv"] < 0.01


def test_guess_that_lands_is_critical(tmp_path):
    [f] = hunt_events(tmp_path, brute_force(land=True), DET)
    assert f["severity"] == "critical"
    assert "success" in f["evidence"]["password_correct_outcomes"]


def test_stale_cadence_from_outside_fires(tmp_path):
    outside = Net("192.0.2.200", 4134, "chinanet")
    ev = history(["svc-backup"], T0, net=INTERNAL)
    ev += [e for i in range(72) for e in fail(T0 + i * timedelta(minutes=5), "svc-backup", outside)]
    [f] = hunt_events(tmp_path, ev, DET)
    assert f["severity"] == "high"


def test_fast_run_from_inside_fires(tmp_path):
    # A script with a fixed sleep on a compromised internal host: regular, but 1 s apart.
    ev = history(["svc-backup"], T0, net=INTERNAL)
    ev += [
        e for i in range(200) for e in fail(T0 + i * timedelta(seconds=1), "svc-backup", INTERNAL)
    ]
    [f] = hunt_events(tmp_path, ev, DET)
    assert f["severity"] == "high" and f["evidence"]["attempts"] == 200


def test_min_attempts_boundary(tmp_path):
    ev = brute_force(attempts=20, user="twenty") + brute_force(attempts=19, user="nineteen")
    [f] = hunt_events(tmp_path, ev, DET)
    assert f["entities"]["user"] == ["twenty"] and f["evidence"]["attempts"] == 20


def test_a_botnet_is_counted_though_its_addresses_are_cut(tmp_path):
    """Guesses at one account from 600 addresses: the finding names the first 500 (what
    an entity list keeps) and its title and evidence count all 600."""
    from crownwatch.detections.base import MAX_ENTITIES

    ips = [f"198.18.{i // 250}.{i % 250 + 1}" for i in range(600)]
    ev = history(["victim"], T0, net=INTERNAL)
    for i, ip in enumerate(ips):
        ev += fail(T0 + timedelta(hours=1, seconds=2 * i), "victim", Net(ip, 4134, "chinanet"))
    [f] = hunt_events(tmp_path, ev, DET)
    assert f["evidence"]["distinct_src_ips"] == 600
    assert f["title"] == "Password guessing against victim: 600 failures from 600 addresses"
    assert f["entities"]["src_ip"] == sorted(ips)[:MAX_ENTITIES]
