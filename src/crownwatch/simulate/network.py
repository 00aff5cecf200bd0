"""A day of an AI lab's egress as its Zeek sensor logs it, with an implant beaconing
from a training node beside the periodic traffic every organisation has.

Writes, in the layout ``zeekctl`` archives (hourly rotation, gzip, Zeek 6/7 default
fields, TSV with the ``#fields`` header)::

    zeek/2026-03-05/conn.00:00:00-01:00:00.log.gz   …  conn.23:00:00-00:00:00.log.gz
    zeek/2026-03-05/ssl.00:00:00-01:00:00.log.gz    …

The day (UTC), by host:

* **Training nodes** ``10.20.4.11``–``.18`` (the ``training-cluster`` crown jewel's
  hosts): a metrics agent pushing to its SaaS intake every 15 s (TLS, SNI, ~1.8 kB),
  ``apt`` fetching the package mirror once an hour, ``ntpd`` polling a pool server
  (64 → 1024 s).
* **Workstations** ``10.30.1.10``–``.39``: people browsing and using SaaS in their
  working hours — bursts of connections to a dozen sites, irregular gaps, heavy-tailed
  sizes — and NTP.
* **The implant** (``attacks=True``) on training node ``10.20.4.14``: a TLS check-in to
  ``cdn-sync.updates-cache.net`` every 300 s ± 30 s, all day, ~310 bytes out.

The organisation's registry (``crownwatch.toml``, written beside the logs) lists the
metrics intake and the package mirror as known services — how an organisation tells
crownwatch what it runs — and the training cluster's hosts. NTP is ignored by the
beacon detection's default. ``truth.json`` names the implant and the look-alikes that
must stay quiet.

Destinations sit in ``198.19.255.184``–``.254`` (RFC 2544 benchmarking space, never in
the identity simulator's address book), so no address here is one of its attackers'.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

DAY = datetime(2026, 3, 5, tzinfo=UTC)  # a Thursday of the simulated week
TRAINING = [f"10.20.4.{i}" for i in range(11, 19)]
WORKSTATIONS = [f"10.30.1.{i}" for i in range(10, 40)]
IMPLANT_HOST = "10.20.4.14"
C2 = ("198.19.255.200", "cdn-sync.updates-cache.net")
METRICS = ("198.19.255.201", "intake.metrics.example-saas.com")
MIRROR = ("198.19.255.202", "mirror.pkgs.example.org")
NTP_POOL = "198.19.255.211"
SITES = [
    (f"198.19.255.{220 + i}", name)
    for i, name in enumerate(
        (
            "mail.example-suite.com",
            "docs.example-suite.com",
            "chat.example-im.com",
            "news.example.com",
            "code.example-git.com",
            "papers.example-arxiv.org",
            "search.example.com",
            "video.example-meet.com",
            "cdn.example-static.net",
            "wiki.example.org",
            "issues.example-track.com",
            "pypi.example-mirror.org",
        )
    )
]

REGISTRY_TOML = f"""[organisation]
name = "Northwind AI"
# what the organisation runs that calls out on a clock (network.beaconing stays quiet)
known_services = ["{METRICS[1]}", "{MIRROR[0]}/32"]

[[assets]]
name = "training-cluster"
kind = "model_weights"
locations = ["s3://nw-train-scratch/"]
hosts = ["10.20.4.0/24"]
sensitivity = "critical"
description = "The GPU nodes that hold the frontier checkpoint while training."
"""

# the #fields and #types lines of Zeek 6/7's default conn.log and ssl.log
CONN_HEADER = (
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes "
    "resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts "
    "orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents",
    "time string addr port addr port enum string interval count count string bool bool "
    "count string count count count count set[string]",
)
SSL_HEADER = (
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p version cipher curve server_name "
    "resumed last_alert next_protocol established ssl_history cert_chain_fps "
    "client_cert_chain_fps sni_matches_cert",
    "time string addr port addr port string string string string bool string string bool "
    "string vector[string] vector[string] bool",
)


def _uid(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "C" + "".join(rng.choice(alphabet) for _ in range(17))


class _Sensor:
    """Connections as the sensor logs them, bucketed by the hour they start in."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.conn: dict[int, list[tuple[float, str]]] = defaultdict(list)
        self.ssl: dict[int, list[tuple[float, str]]] = defaultdict(list)

    def tls(self, ts: float, src: str, dst: tuple[str, str], out_b: int, in_b: int) -> None:
        uid = self._conn(ts, src, dst[0], 443, "tcp", "ssl", out_b, in_b)
        ssl = [
            f"{ts + 0.012:.6f}",
            uid,
            src,
            str(self._port),
            dst[0],
            "443",
            "TLSv13",
            "TLS_AES_128_GCM_SHA256",
            "x25519",
            dst[1],
            "F",
            "-",
            "-",
            "T",
            "CsiI",
            hashlib.sha256(dst[1].encode()).hexdigest(),
            "(empty)",
            "T",
        ]
        self.ssl[self._hour(ts)].append((ts, "\t".join(ssl)))

    def ntp(self, ts: float, src: str) -> None:
        self._conn(ts, src, NTP_POOL, 123, "udp", "ntp", 48, 48)

    def _hour(self, ts: float) -> int:
        return int((ts - DAY.timestamp()) // 3600)

    def _conn(
        self, ts: float, src: str, dst: str, port: int, proto: str, service: str, o: int, r: int
    ) -> str:
        rng = self.rng
        uid = _uid(rng)
        self._port = rng.randrange(32768, 60999)
        tcp = proto == "tcp"
        opk, rpk = (rng.randint(5, 9), rng.randint(4, 8)) if tcp else (1, 1)
        row = [
            f"{ts:.6f}",
            uid,
            src,
            str(self._port),
            dst,
            str(port),
            proto,
            service,
            f"{rng.uniform(0.05, 0.9) if tcp else 0.02:.6f}",
            str(o),
            str(r),
            "SF",
            "T",
            "F",
            "0",
            "ShADadFf" if tcp else "Dd",
            str(opk),
            str(o + (52 * opk if tcp else 28)),
            str(rpk),
            str(r + (52 * rpk if tcp else 28)),
            "(empty)",
        ]
        self.conn[self._hour(ts)].append((ts, "\t".join(row)))
        return uid

    def write(self, root: Path) -> list[str]:
        folder = root / "zeek" / DAY.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for path, (fields, types), by_hour in (
            ("conn", CONN_HEADER, self.conn),
            ("ssl", SSL_HEADER, self.ssl),
        ):
            for h in range(24):
                opened = DAY + timedelta(hours=h)
                closed = opened + timedelta(hours=1)
                head = [
                    "#separator \\x09",
                    "#set_separator\t,",
                    "#empty_field\t(empty)",
                    "#unset_field\t-",
                    f"#path\t{path}",
                    f"#open\t{opened:%Y-%m-%d-%H-%M-%S}",
                    "#fields\t" + fields.replace(" ", "\t"),
                    "#types\t" + types.replace(" ", "\t"),
                ]
                rows = [line for _ts, line in sorted(by_hour.get(h, []))]
                text = "\n".join([*head, *rows, f"#close\t{closed:%Y-%m-%d-%H-%M-%S}"]) + "\n"
                name = f"{path}.{opened:%H:%M:%S}-{closed:%H:%M:%S}.log.gz"
                (folder / name).write_bytes(
                    gzip.compress(text.encode(), compresslevel=6, mtime=closed.timestamp())
                )
                out.append(str(folder / name))
        return out


def _every(rng: random.Random, start: float, end: float, every: float, jitter: float):
    t = start
    while t < end:
        yield t
        t += every + rng.uniform(-jitter, jitter)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_network(out_dir: str | Path, *, seed: int = 11, attacks: bool = True) -> dict:
    """Write the day's Zeek logs under ``out_dir``; returns ``{"files", "truth",
    "config"}`` and writes ``truth.json`` and ``crownwatch.toml`` beside the logs."""
    rng = random.Random(seed)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    s = _Sensor(rng)
    d0, d1 = DAY.timestamp(), DAY.timestamp() + 86_400

    for host in TRAINING:
        for t in _every(rng, d0 + rng.uniform(0, 15), d1, 15, 0.2):
            s.tls(t, host, METRICS, 1800 + rng.randint(-60, 60), 220)
        for h in range(24):  # apt: the mirror's indexes, sometimes packages
            t = d0 + h * 3600 + rng.uniform(60, 600)
            for _ in range(rng.randint(1, 3)):
                size = rng.choice((412, 530, 1_200, 48_000))
                s.tls(t, host, MIRROR, size, rng.choice((2_300, 48_000, 2_400_000)))
                t += rng.uniform(1, 20)
    for host in TRAINING + WORKSTATIONS:
        t, poll = d0 + rng.uniform(0, 60), 64.0
        while t < d1:
            s.ntp(t, host)
            t += poll + rng.uniform(-2, 2)
            poll = min(poll * 2, 1024) if rng.random() < 0.3 else poll
    for host in WORKSTATIONS:
        # a person's day: morning and afternoon at the desk (UTC here; the team is in
        # several offices), bursts per page or sync
        begin = rng.uniform(6, 10) * 3600
        for a, b in ((begin, begin + 3.5 * 3600), (begin + 4.5 * 3600, begin + 8.5 * 3600)):
            t = d0 + a
            sites = rng.sample(SITES, 7)
            while t < d0 + b:
                site = rng.choice(sites)
                for _ in range(rng.randint(1, 3)):
                    s.tls(t, host, site, int(rng.lognormvariate(7.0, 1.0)), 20_000)
                    t += rng.uniform(0.2, 4)
                t += rng.expovariate(1 / 240)

    truth: dict = {"attacks": [], "benign": []}
    if attacks:
        times = list(_every(rng, d0 + 137, d1 - 60, 300, 30))
        for t in times:
            s.tls(t, IMPLANT_HOST, C2, 310 + rng.randint(-8, 8), 96 + rng.randint(0, 40))
        truth["attacks"].append(
            {
                "id": "beacon-training-node",
                "kind": "command_and_control",
                "technique": ["T1071", "T1573"],
                "detection": "network.beaconing",
                "description": (
                    "An implant on training node 10.20.4.14 checks in with its controller over "
                    "TLS every five minutes (± 30 s) all day, sending about 310 bytes each time."
                ),
                "src_ips": [IMPLANT_HOST],
                "dst_ips": [C2[0]],
                "first_seen": _iso(times[0]),
                "last_seen": _iso(times[-1]),
                "details": {"server_name": C2[1], "connections": len(times)},
            }
        )
    for item_id, what, dst in (
        ("benign-metrics-agent", "a metrics agent on every training node, every 15 s", METRICS),
        ("benign-package-mirror", "apt fetching the package mirror hourly", MIRROR),
        ("benign-ntp", "ntpd polling a pool server", (NTP_POOL, "")),
    ):
        truth["benign"].append(
            {
                "id": item_id,
                "kind": "periodic_service",
                "detection": "network.beaconing",
                "description": what + " — periodic by design; must stay quiet.",
                "dst_ips": [dst[0]],
                "first_seen": _iso(d0),
                "last_seen": _iso(d1 - 1),
            }
        )
    truth["benign"].append(
        {
            "id": "benign-browsing",
            "kind": "browsing",
            "detection": "network.beaconing",
            "description": "Thirty people browsing and using SaaS in working hours.",
            "src_ips": WORKSTATIONS,
            "first_seen": _iso(d0),
            "last_seen": _iso(d1 - 1),
        }
    )
    files = s.write(root)
    (root / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    (root / "crownwatch.toml").write_text(REGISTRY_TOML)
    return {"files": files, "truth": truth, "config": str(root / "crownwatch.toml")}
