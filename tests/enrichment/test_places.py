"""One own-network rule: private addresses, [organisation] own_asns and own_cidrs are
never "a new place" — and first_access uses it."""

from __future__ import annotations

from datetime import timedelta

import ibis
import pyarrow as pa
import pytest

from crownwatch.assets import RegistryError, load_registry
from crownwatch.enrichment import own_network
from crownwatch.testing.storage import (
    REGISTRY_TOML,
    SHARDS,
    T0,
    role,
    s3_line,
    use_registry,
    weights_rhythm,
    write_lines,
)
from tests.conftest import by_detection, hunt

REG = load_registry(
    {
        "organisation": {
            "own_asns": [64500],
            "own_cidrs": ["198.51.100.0/24", "2001:db8:5::/48", "192.0.2.9"],
        }
    }
)

ROWS = [
    # (src_ip, src_asn, own?)
    ("10.1.2.3", None, True),  # private
    ("fd00::7", None, True),
    ("203.0.113.5", 64500, True),  # own ASN
    ("198.51.100.200", 7922, True),  # own CIDR
    ("::ffff:198.51.100.1", None, True),
    ("2001:db8:5:1::1", None, True),
    ("192.0.2.9", None, True),  # a single address
    ("192.0.2.10", None, False),
    ("2001:db8:6::1", None, False),
    ("203.0.113.5", 7922, False),
    ("8.8.8.8", None, False),
    (None, None, False),
    (None, 64500, True),
]


def _table(with_network: bool = False):
    data = {
        "src_ip": pa.array([r[0] for r in ROWS], pa.string()),
        "src_asn": pa.array([r[1] for r in ROWS], pa.int64()),
        "n": pa.array(range(len(ROWS)), pa.int64()),
    }
    if with_network:
        data["src_network"] = pa.array(["private" if r[0] == "203.0.113.5" else None for r in ROWS])
    return ibis.memtable(pa.table(data))


def _own(t, reg=REG):
    rows = ibis.duckdb.connect().to_pyarrow(t.mutate(own=own_network(t, reg)).order_by("n"))
    return [r["own"] for r in rows.to_pylist()]


def test_own_network():
    assert _own(_table()) == [r[2] for r in ROWS]


def test_nothing_configured_only_private_is_own():
    assert _own(_table(), load_registry({})) == [r[0] in ("10.1.2.3", "fd00::7") for r in ROWS]


def test_the_views_src_network_decides_private():
    got = _own(_table(with_network=True), load_registry({}))
    assert got == [r[0] == "203.0.113.5" for r in ROWS]


def test_a_bad_cidr_is_a_registry_error():
    with pytest.raises(RegistryError, match="own_cidrs"):
        load_registry({"organisation": {"own_cidrs": ["10.0.0.0/33"]}})
    assert load_registry(
        {"organisation": {"own_cidrs": ["10.1.2.3/8"]}}
    ).organisation.own_cidrs == ["10.0.0.0/8"]


def _presigned_read(lake, tmp_path, monkeypatch, registry: str):
    alice = role("AWSReservedSSO_Researcher_0a1b2c3d", "alice@northwind-ai.com")
    link = s3_line(
        T0 + timedelta(days=9, hours=23),
        "nw-model-weights",
        alice,
        SHARDS[0],
        300_000_000,
        ip="203.0.113.77",
        auth="QueryString",
        ua="curl/8.5.0",
    )
    conf = use_registry(tmp_path, monkeypatch, registry)
    logs = write_lines(tmp_path / "logs" / "s3.log", [*weights_rhythm(10), link])
    det = "exfiltration.first_access"
    return by_detection(hunt(lake, logs, only=[det], config=conf), det)


def test_first_access_link_from_an_own_cidr_is_not_outside(lake, tmp_path, monkeypatch):
    found = _presigned_read(lake, tmp_path, monkeypatch, REGISTRY_TOML)
    assert [f["evidence"]["reasons"] for f in found] == [["presigned_outside"]]
    vpn = REGISTRY_TOML.replace(
        "[organisation]\n", '[organisation]\nown_cidrs = ["203.0.113.0/25"]\n', 1
    )
    assert _presigned_read(lake, tmp_path / "vpn", monkeypatch, vpn) == []
