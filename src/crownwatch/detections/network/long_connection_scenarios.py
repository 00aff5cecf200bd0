"""Scenarios of ``network.long_connection``: a reverse tunnel from a training node held
open for 14 hours, in Zeek's log and again in VPC Flow Logs (a record a minute, each
way); beside it the organisation's VPN tunnel (a known service), an
engineer's two-hour SSH session and a few short web requests, which stay quiet."""

from __future__ import annotations

import random

from crownwatch.detections.contract import Scenario
from crownwatch.detections.network.beaconing_scenarios import TRAINING_ASSET
from crownwatch.testing.network import DAY0, conn, jsonl, vpc_file, vpc_flow

D0 = DAY0.timestamp()
TUNNEL_SRC = "10.40.0.22"  # a training node (TRAINING_ASSET hosts)
TUNNEL_DST = "203.0.113.51"


def tunnel() -> dict[str, str]:
    """One connection to port 8443, 14 h long, logged by Zeek when it closed."""
    c = conn(
        D0 + 3600,
        TUNNEL_SRC,
        TUNNEL_DST,
        8443,
        2_400_000,
        310_000_000,
        service=None,
        duration=14 * 3600.0,
        sport=51111,
    )
    return {"longconn/tunnel/conn.log": jsonl([c])}


def quiet() -> dict[str, str]:
    vpn = conn(
        D0 + 600,
        "10.40.3.4",
        "192.0.2.10",
        443,
        9_000_000,
        80_000_000,
        proto="udp",
        service=None,
        duration=20 * 3600.0,
        sport=51820,
    )
    ssh = conn(
        D0 + 9 * 3600,
        "10.40.3.5",
        "198.51.100.22",
        22,
        80_000,
        400_000,
        service="ssh",
        duration=2 * 3600.0,
        sport=50022,
    )
    rnd = random.Random(6)
    starts = sorted(D0 + 8 * 3600 + rnd.uniform(0, 9 * 3600) for _ in range(15))
    web = [
        conn(
            t,
            "10.40.3.6",
            "198.51.100.90",
            443,
            rnd.randint(400, 4000),
            40_000,
            duration=rnd.uniform(0.5, 30),
            sport=41000 + i,
        )
        for i, t in enumerate(starts)
    ]
    return {"longconn/quiet/conn.log": jsonl([vpn, ssh, *web])}


FLOW_TUNNEL_SRC = "10.40.0.25"
FLOW_TUNNEL_DST = "203.0.113.55"


def tunnel_in_flow_logs() -> dict[str, str]:
    """An SSH tunnel out to port 22 held 14 hours, as the node's flow log reports it:
    a record in every one-minute window, the answers from port 22 beside the requests."""
    rnd = random.Random(8)
    records = []
    for m in range(14 * 60):
        t = D0 + 7200 + m * 60 + rnd.uniform(0, 1)
        records.append(vpc_flow(t, FLOW_TUNNEL_SRC, FLOW_TUNNEL_DST, 48022, 22, 40, 9_000))
        records.append(vpc_flow(t + 0.02, FLOW_TUNNEL_DST, FLOW_TUNNEL_SRC, 22, 48022, 90, 120_000))
    return {"longconn/vpc/tunnel.log": vpc_file(records)}


def _flow_tunnel(found: list[dict]) -> None:
    # one finding, the side that opened it: the answers from port 22 are the same tunnel
    [f] = found
    ev = f["evidence"]
    assert f["entities"]["src_ip"] == [FLOW_TUNNEL_SRC] and ev["dst_port"] == 22
    assert 13.5 <= ev["total_hours"] <= 14.0 and ev["connections"] == 14 * 60


def _tunnel(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert ev["total_hours"] == 14.0 and ev["longest_connection_hours"] == 14.0
    assert ev["crown_jewel_host"] is True and f["severity"] == "high"
    assert ev["dst_port"] == 8443 and ev["raw_records"]


SCENARIOS = [
    Scenario(
        "reverse_tunnel_from_a_training_node",
        "attack",
        tunnel,
        entities={"src_ip": (TUNNEL_SRC,), "dst_ip": (TUNNEL_DST,)},
        expect=_tunnel,
        config={"assets": [TRAINING_ASSET]},
    ),
    Scenario(
        "ssh_tunnel_held_open_in_vpc_flow_logs",
        "attack",
        tunnel_in_flow_logs,
        entities={"src_ip": (FLOW_TUNNEL_SRC,), "dst_ip": (FLOW_TUNNEL_DST,)},
        expect=_flow_tunnel,
    ),
    Scenario(
        "vpn_ssh_session_and_web",
        "benign",
        quiet,
        config={"organisation": {"known_services": ["192.0.2.10/32"]}},
    ),
]
