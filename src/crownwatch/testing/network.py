"""Network records for scenarios and tests: Zeek JSON (``LogAscii::use_json=T``)
``conn.log`` connections and the ``ssl.log`` records that name their server, field for
field as Zeek writes them (see :mod:`crownwatch.sources.zeek_json`), and VPC Flow Logs
records in the default format as S3 delivers them."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime

from crownwatch.sources import vpc_flow

# A Tuesday: every scenario's day, in UTC (the beacon score spans one UTC day).
DAY0 = datetime(2026, 3, 3, tzinfo=UTC)


def uid(*parts) -> str:
    """A Zeek-style connection uid (``C`` + 17 base62-ish characters), stable per input."""
    h = hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()
    return "C" + h[:17]


def conn(
    ts: float,
    src: str,
    dst: str,
    dport: int,
    orig_bytes: int,
    resp_bytes: int = 0,
    proto: str = "tcp",
    service: str | None = "ssl",
    duration: float = 0.25,
    sport: int = 49152,
    local_resp: bool = False,
) -> dict:
    """One ``conn.log`` record (a completed connection, state SF)."""
    rec = {
        "ts": round(ts, 6),
        "uid": uid(ts, src, dst, dport, sport),
        "id.orig_h": src,
        "id.orig_p": sport,
        "id.resp_h": dst,
        "id.resp_p": dport,
        "proto": proto,
    }
    if service:
        rec["service"] = service
    rec.update(
        {
            "duration": duration,
            "orig_bytes": orig_bytes,
            "resp_bytes": resp_bytes,
            "conn_state": "SF",
            "local_orig": True,
            "local_resp": local_resp,
            "missed_bytes": 0,
            "history": "ShADadFf" if proto == "tcp" else "Dd",
            "orig_pkts": 6 if proto == "tcp" else 1,
            "orig_ip_bytes": orig_bytes + (320 if proto == "tcp" else 28),
            "resp_pkts": 5 if proto == "tcp" else 1,
            "resp_ip_bytes": resp_bytes + (268 if proto == "tcp" else 28),
            "tunnel_parents": [],
        }
    )
    return rec


def ssl(c: dict, server_name: str) -> dict:
    """The ``ssl.log`` record of connection ``c`` with its SNI."""
    return {
        "ts": round(c["ts"] + 0.01, 6),
        "uid": c["uid"],
        "id.orig_h": c["id.orig_h"],
        "id.orig_p": c["id.orig_p"],
        "id.resp_h": c["id.resp_h"],
        "id.resp_p": c["id.resp_p"],
        "version": "TLSv13",
        "cipher": "TLS_AES_128_GCM_SHA256",
        "curve": "x25519",
        "server_name": server_name,
        "resumed": False,
        "established": True,
        "ssl_history": "CsiI",
    }


def jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)


def periodic(start: float, end: float, every: float, jitter: float, seed: int) -> list[float]:
    """Times from ``start`` to ``end`` every ``every`` seconds ± ``jitter`` (uniform)."""
    rnd = random.Random(seed)
    out, t = [], start
    while t < end:
        out.append(t)
        t += every + rnd.uniform(-jitter, jitter)
    return out


def pair_logs(
    prefix: str,
    src: str,
    dst: str,
    times: Iterable[float],
    sizes: Iterable[int],
    dport: int = 443,
    sni: str | None = None,
    proto: str = "tcp",
    service: str | None = "ssl",
) -> dict[str, str]:
    """``{prefix}/conn.log`` (and ``{prefix}/ssl.log`` with ``sni``) for connections at
    ``times`` sending ``sizes`` bytes."""
    conns = [
        conn(t, src, dst, dport, b, 4 * b + 100, proto=proto, service=service, sport=40000 + i)
        for i, (t, b) in enumerate(zip(times, sizes, strict=True))
    ]
    out = {f"{prefix}/conn.log": jsonl(conns)}
    if sni:
        out[f"{prefix}/ssl.log"] = jsonl(ssl(c, sni) for c in conns)
    return out


#: the S3 header line of the default format, as the source defines it
VPC_HEADER = " ".join(vpc_flow.DEFAULT)


def vpc_flow(
    start: float,
    src: str,
    dst: str,
    sport: int,
    dport: int,
    packets: int,
    nbytes: int,
    *,
    window: int = 60,
    eni: str = "eni-0a1b2c3d4e5f60040",
    account: str = "111122223333",
) -> str:
    """One VPC Flow Logs record in the default (v2) format: the flow's packets in one
    direction within one aggregation window (``start``: its first packet, ``end``: the
    window's end; a Nitro instance's window is at most 60 s)."""
    end = (int(start) // window + 1) * window
    return (
        f"2 {account} {eni} {src} {dst} {sport} {dport} 6 {packets} {nbytes} "
        f"{int(start)} {end} ACCEPT OK"
    )


def vpc_file(records: Iterable[str]) -> str:
    """An S3-delivered flow log file: the header line naming the fields, then the records."""
    return VPC_HEADER + "\n" + "".join(r + "\n" for r in records)
