"""Scenarios of ``network.beaconing``: an implant on a training node checking in every
~5 minutes with jitter and a constant ~300-byte request; beside it the periodic traffic
every organisation has — NTP, a metrics agent, an hourly package-mirror fetch — and a
person browsing, all of which must stay quiet."""

from __future__ import annotations

import random

from crownwatch.detections.contract import Scenario
from crownwatch.testing.network import DAY0, pair_logs, periodic

D0 = DAY0.timestamp()
IMPLANT_SRC = "10.40.0.21"  # a training node
IMPLANT_DST = "203.0.113.50"
IMPLANT_SNI = "cdn-sync.example.net"

TRAINING_ASSET = {
    "name": "beacon-training-cluster",
    "kind": "model_weights",
    "locations": ["s3://nw-beacon-train-ckpt/"],
    "hosts": ["10.40.0.0/24"],
    "sensitivity": "high",
}


def implant() -> dict[str, str]:
    times = periodic(D0 + 137, D0 + 86_000, 300, 30, seed=18)
    rnd = random.Random(1)
    sizes = [300 + rnd.randint(-6, 6) for _ in times]
    return pair_logs("beacon/implant", IMPLANT_SRC, IMPLANT_DST, times, sizes, sni=IMPLANT_SNI)


def ntp() -> dict[str, str]:
    """ntpd polling a pool server: the interval climbs from 64 s to 1024 s and stays."""
    rnd = random.Random(2)
    times, t, poll = [], D0 + 30, 64
    while t < D0 + 86_000:
        times.append(t)
        t += poll + rnd.uniform(-2, 2)
        poll = min(poll * 2, 1024) if rnd.random() < 0.3 else poll
    return pair_logs(
        "beacon/ntp",
        "10.40.1.5",
        "198.51.100.123",
        times,
        [48] * len(times),
        dport=123,
        proto="udp",
        service="ntp",
    )


def metrics_agent() -> dict[str, str]:
    """A metrics agent pushing to the monitoring SaaS every minute, all day (agents push
    every 15–60 s; a minute keeps the scenario small)."""
    times = periodic(D0 + 20, D0 + 86_380, 60, 0.5, seed=3)
    rnd = random.Random(3)
    sizes = [1800 + rnd.randint(-40, 40) for _ in times]
    return pair_logs(
        "beacon/metrics",
        "10.40.1.6",
        "198.51.100.200",
        times,
        sizes,
        sni="eu.intake.metrics.example.com",
    )


def package_mirror() -> dict[str, str]:
    """apt fetching the mirror's indexes and packages at the top of every hour."""
    rnd = random.Random(4)
    times, sizes = [], []
    for h in range(24):
        for k in range(rnd.randint(1, 3)):
            times.append(D0 + h * 3600 + 5 + k * rnd.uniform(1, 20))
            sizes.append(rnd.choice([412, 530, 1_200, 48_000, 2_400_000]))
    return pair_logs(
        "beacon/mirror", "10.40.1.7", "192.0.2.80", times, sizes, sni="mirror.pkgs.example.org"
    )


def browsing() -> dict[str, str]:
    """A person reading a news site in working hours, with a lunch break: a page view
    every few minutes (one to three connections — HTTP/2 keeps most requests on one),
    page weights heavy-tailed as the web's are."""
    rnd = random.Random(5)
    times: list[float] = []
    for start, end in ((9 * 3600, 12.5 * 3600), (13.5 * 3600, 17.5 * 3600)):
        t = D0 + start
        while t < D0 + end:
            for _ in range(rnd.randint(1, 3)):
                times.append(t)
                t += rnd.uniform(0.2, 4)
            t += rnd.expovariate(1 / 300)  # reading
    sizes = [int(rnd.lognormvariate(7.5, 1.0)) for _ in times]
    return pair_logs(
        "beacon/browsing", "10.40.2.9", "203.0.113.90", times, sizes, sni="news.example.com"
    )


def _implant(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert ev["pair_kind"] == "sni" and ev["destination"] == IMPLANT_SNI
    assert ev["score"] >= 0.9 and ev["ds_score"] >= 0.9 and ev["dur_score"] == 1.0
    assert 270 <= ev["interval_median_s"] <= 330 and 294 <= ev["size_median_bytes"] <= 306
    assert ev["crown_jewel_host"] is True
    assert f["severity"] == "critical"  # high by score, one up for the training node
    assert f["entities"]["dst_ip"] == [IMPLANT_DST]
    assert ev["sample_uids"] and ev["raw_records"]


SCENARIOS = [
    Scenario(
        "implant_on_a_training_node",
        "attack",
        implant,
        entities={"src_ip": (IMPLANT_SRC,)},
        expect=_implant,
        config={"assets": [TRAINING_ASSET]},
    ),
    Scenario(
        "ntp_metrics_mirror_and_browsing",
        "benign",
        lambda: {**ntp(), **metrics_agent(), **package_mirror(), **browsing()},
        config={"organisation": {"known_services": ["metrics.example.com", "192.0.2.80/32"]}},
    ),
]
