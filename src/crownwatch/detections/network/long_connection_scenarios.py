"""Scenarios of ``network.long_connection``: a reverse tunnel from a training node held
open for 14 hours; beside it the organisation's VPN tunnel (a known service), an
engineer's two-hour SSH session and a few short web requests, which stay quiet."""

from __future__ import annotations

import random

from crownwatch.detections.contract import Scenario
from crownwatch.detections.network.beaconing_scenarios import TRAINING_ASSET
from crownwatch.testing.network import DAY0, conn, jsonl

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
        "vpn_ssh_session_and_web",
        "benign",
        quiet,
        config={"organisation": {"known_services": ["192.0.2.10/32"]}},
    ),
]
