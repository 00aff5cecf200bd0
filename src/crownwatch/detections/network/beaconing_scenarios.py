"""Scenarios of ``network.beaconing``: an implant on a training node checking in every
~5 minutes with jitter and a constant ~300-byte request, in Zeek's logs and again in VPC
Flow Logs (each check-in a new connection, both directions recorded); beside it the
periodic traffic every organisation has — NTP, a metrics agent, an hourly package-mirror
fetch —, a person browsing, and an instance agent's websocket held all day, which a flow
log reports every minute: all of which must stay quiet."""

from __future__ import annotations

import random

from crownwatch.detections.contract import Scenario
from crownwatch.testing.network import DAY0, pair_logs, periodic, vpc_file, vpc_flow

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


VPC_IMPLANT_SRC = "10.40.0.24"
VPC_IMPLANT_DST = "203.0.113.54"


def implant_in_flow_logs() -> dict[str, str]:
    """The implant on another node, as the node's interface's flow log shows it: each
    check-in a new connection from a new ephemeral port, the request and the answer
    each a record."""
    rnd = random.Random(6)
    records = []
    for t in periodic(D0 + 211, D0 + 86_000, 300, 30, seed=19):
        port = rnd.randint(32768, 60999)
        records.append(
            vpc_flow(t, VPC_IMPLANT_SRC, VPC_IMPLANT_DST, port, 443, 7, 1010 + rnd.randint(-8, 8))
        )
        records.append(
            vpc_flow(
                t + 0.04,
                VPC_IMPLANT_DST,
                VPC_IMPLANT_SRC,
                443,
                port,
                6,
                4300 + rnd.randint(-60, 60),
            )
        )
    return {"beacon/vpc/implant.log": vpc_file(records)}


def agent_websocket_in_flow_logs() -> dict[str, str]:
    """An instance agent (SSM's) holding one websocket to its service all day: the flow
    log reports it in every one-minute window it carries packets, both ways."""
    rnd = random.Random(7)
    src, dst, port = "10.40.0.31", "52.94.133.10", 51234
    records = []
    for m in range(1440):
        t = D0 + m * 60 + rnd.uniform(0, 2)
        records.append(vpc_flow(t, src, dst, port, 443, 3, 420 + rnd.randint(-10, 10)))
        records.append(vpc_flow(t + 0.05, dst, src, 443, port, 3, 380 + rnd.randint(-10, 10)))
    return {"beacon/vpc/agent.log": vpc_file(records)}


def _vpc_implant(found: list[dict]) -> None:
    # one finding: the request half's pair, not the answers from port 443 back to it
    [f] = found
    ev = f["evidence"]
    assert ev["pair_kind"] == "ip" and ev["destination"] == VPC_IMPLANT_DST
    assert 270 <= ev["interval_median_s"] <= 330 and 1002 <= ev["size_median_bytes"] <= 1018
    assert f["entities"]["src_ip"] == [VPC_IMPLANT_SRC]


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
        "implant_beacons_in_vpc_flow_logs",
        "attack",
        implant_in_flow_logs,
        entities={"src_ip": (VPC_IMPLANT_SRC,)},
        expect=_vpc_implant,
    ),
    Scenario(
        "agent_websocket_held_all_day_in_vpc_flow_logs",
        "benign",
        agent_websocket_in_flow_logs,
        # a connection held all day is what network.long_connection reports, rightly
        also=("network.long_connection",),
    ),
    Scenario(
        "ntp_metrics_mirror_and_browsing",
        "benign",
        lambda: {**ntp(), **metrics_agent(), **package_mirror(), **browsing()},
        config={"organisation": {"known_services": ["metrics.example.com", "192.0.2.80/32"]}},
    ),
]
