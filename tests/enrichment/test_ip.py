"""Addresses in the engine: the hex form, buckets, private/reserved ranges and CIDR
matching agree with Python's ``ipaddress`` (DuckDB here; Spark in test_view)."""

from __future__ import annotations

import ipaddress
import random

import ibis
import pyarrow as pa

from crownwatch.enrichment.ip import (
    PRIVATE_V4,
    PRIVATE_V6,
    RESERVED_V4,
    RESERVED_V6,
    bucket,
    bucket_expr,
    bucket_rows,
    cidr_match_expr,
    ip_hex,
    network_class,
    network_class_expr,
    with_ip_hex,
)
from crownwatch.enrichment.ranges import Span, flatten

ODD = [
    "1.2.3.4",
    "255.255.255.255",
    "256.1.1.1",
    "1.2.3",
    "::ffff:10.1.2.3",
    "::FFFF:8.8.8.8",
    "2001:DB8:0:0:0:0:0:1",
    "::1",
    "::",
    "0:0:0:0:0:0:0:1",
    "fe80::1%eth0",
    "1::",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "12345::1",
    "garbage",
    "",
    "64:ff9b::192.0.2.33",
    "fd12:3456::1",
    "fd::1",
    "3fff:fff::1",
    "3fff:1000::1",
    "100.64.0.1",
    "100.128.0.1",
    "172.32.0.1",
    "172.31.255.255",
]


def samples() -> list[str]:
    rnd = random.Random(7)
    out = list(ODD)
    for cidr in PRIVATE_V4 + RESERVED_V4 + PRIVATE_V6 + RESERVED_V6:
        n = ipaddress.ip_network(cidr)
        top = 2**32 if n.version == 4 else 2**128
        lo, hi = int(n.network_address), int(n.broadcast_address)
        for a in (lo - 1, lo, hi, hi + 1, rnd.randint(lo, hi)):
            if 0 <= a < top:
                x = ipaddress.ip_address(a) if n.version == 6 else ipaddress.IPv4Address(a)
                out.append(str(x))
                out.append(x.exploded if n.version == 6 else f"::ffff:{x}")
    for _ in range(300):
        out.append(str(ipaddress.IPv4Address(rnd.getrandbits(32))))
        out.append(str(ipaddress.IPv6Address(rnd.getrandbits(128))))
        out.append(str(ipaddress.IPv6Address(rnd.getrandbits(16) << 112 | rnd.getrandbits(16))))
    return out


def run(expr_of, values):
    t = ibis.memtable(pa.table({"ip": pa.array(values, pa.string())}))
    return ibis.duckdb.connect().to_pyarrow(expr_of(t)).to_pylist()


def test_hex_bucket_and_class_match_python():
    values = samples()

    def q(t):
        e = with_ip_hex(t, "ip", "h")
        e = e.mutate(c=network_class_expr(e.ip))
        return e.mutate(b=bucket_expr(e.h))

    rows = run(q, values)
    assert len(rows) == len(values)
    for r in rows:
        h = ip_hex(r["ip"])
        assert r["h"] == h, r
        assert r["b"] == (bucket(h) if h else None), r
        assert r["c"] == network_class(r["ip"].split("%")[0]), r


def test_ipv4_is_ipv4_mapped_ipv6():
    assert ip_hex("192.0.2.1") == ip_hex("::ffff:192.0.2.1") == "00000000000000000000ffffc0000201"
    assert ip_hex("2001:db8::1") == "20010db8000000000000000000000001"
    assert bucket(ip_hex("192.0.2.1")) == "00000000000000000000ffffc000"
    assert bucket(ip_hex("2001:db8::1")) == "20010db8"


def test_classes():
    assert network_class("10.1.2.3") == network_class("::ffff:10.1.2.3") == "private"
    assert network_class("100.64.0.1") == "private"  # CGNAT
    assert network_class("fd00::1") == network_class("fe80::1") == "private"
    assert network_class("198.51.100.7") == network_class("2001:db8::1") == "reserved"
    assert network_class("224.0.0.1") == network_class("ff02::1") == "reserved"
    assert network_class("8.8.8.8") is None and network_class("2606:4700::1") is None


def test_bucket_rows_cover_the_range_once_per_bucket():
    lo = int(ipaddress.ip_address("::ffff:10.0.0.0"))
    hi = int(ipaddress.ip_address("::ffff:10.2.255.255"))
    rows = list(bucket_rows(lo, hi))
    assert [b for b, _, _ in rows] == [bucket(format(lo + (k << 16), "032x")) for k in range(3)]
    assert {(s, e) for _, s, e in rows} == {(format(lo, "032x"), format(hi, "032x"))}
    # an IPv6 range wider than the join can use is skipped, not exploded
    assert list(bucket_rows(0x2000 << 112, (0x2000 << 112) + (1 << 120))) == []


def test_cidr_match():
    cidrs = [
        "198.51.100.0/22",
        "203.0.113.128/25",
        "192.0.2.7/32",
        "2001:db8:5::/48",
        "2600:1900:4000::/44",
    ]
    nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    values = [
        "198.51.100.1",
        "198.51.103.255",
        "198.51.104.0",
        "198.51.99.255",
        "203.0.113.127",
        "203.0.113.128",
        "203.0.113.255",
        "192.0.2.7",
        "192.0.2.70",
        "::ffff:198.51.101.9",
        "2001:db8:5::1",
        "2001:DB8:5:ffff::1",
        "2001:db8:6::1",
        "2001:db8::5",
        "2001:db8:5::",
        "2001:0db8:0005:0000::1",
        "2600:1900:400f:1::1",
        "2600:1900:4010::1",
        "10.0.0.1",
        "x:y",
        None,
    ]
    rows = run(lambda t: t.mutate(m=cidr_match_expr(t.ip, cidrs)), values)
    for r in rows:
        want = False
        if r["ip"] and r["ip"] != "x:y":
            a = ipaddress.ip_address(r["ip"])
            if a.version == 6 and a.ipv4_mapped:
                a = a.ipv4_mapped
            want = any(a in n for n in nets if n.version == a.version)
        assert r["m"] is want, r


def test_flatten_most_specific_then_named_service():
    generic = Span(0, 99, network="aws", service="AMAZON")
    s3 = Span(0, 99, network="aws", service="S3")
    ec2 = Span(10, 19, network="aws", service="EC2")
    ranked = [
        (generic, (99, True)),
        (s3, (99, False)),
        (ec2, (9, False)),
    ]
    out = [(s.lo, s.hi, s.service) for s in flatten(ranked)]
    assert out == [(0, 9, "S3"), (10, 19, "EC2"), (20, 99, "S3")]
