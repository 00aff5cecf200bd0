"""The enrichment view end to end on the real engine: a lake with sshd, CloudTrail,
S3 access logs and Okta, a tiny MaxMind-format database written by the test, tiny
cloud feeds — and what the detections then read."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta

import ibis
import pytest
from typer.testing import CliRunner

from crownwatch.assets import load_registry
from crownwatch.cli import app
from crownwatch.detect import Tables
from crownwatch.engine import Engine
from crownwatch.enrichment import Enrichment, EnrichmentError, feeds, own_network
from crownwatch.enrichment.view import COLUMNS
from crownwatch.lake import Lake
from crownwatch.tables import SCHEMAS
from crownwatch.testing import okta as _okta
from crownwatch.testing.storage import cloudtrail, ct_event, role, s3_line, write_lines
from tests.conftest import HAS_SPARK
from tests.enrichment._data import (
    AWS,
    AZURE,
    GCP,
    write_asn_db,
    write_city_only_db,
    write_country_db,
    write_ipinfo_lite,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = role("AWSReservedSSO_Researcher_0a1b2c3d", "alice@northwind-ai.com")

# address -> (asn, as org, country, network, cloud service) the view must give
API_EXPECT = {
    "198.51.100.10": (64501, "Example Office ISP", "US", "reserved", None),  # in the test databases
    "3.5.140.7": (None, None, None, "aws", "S3"),  # AWS lists it as AMAZON and as S3
    "52.95.110.9": (None, None, None, "aws", "EC2"),
    "52.95.3.3": (None, None, None, "aws", "AMAZON"),
    "2600:1f14::9": (None, None, None, "aws", "EC2"),
    "34.80.1.1": (None, None, None, "gcp", "Google Cloud"),
    "20.38.108.5": (None, None, None, "azure", "AzureStorage"),
    "20.38.1.1": (None, None, None, "azure", "AzureCloud"),
    "8.8.8.8": (None, None, None, None, None),
    "10.20.0.5": (None, None, None, "private", None),
}


def _sshd(path):
    lines = [
        "2026-03-02T10:00:01.000000+00:00 train-login-2 sshd[4410]: Accepted password for ops "
        "from 203.0.113.9 port 52000 ssh2",
        "2026-03-02T10:00:02.000000+00:00 train-login-2 sshd[4411]: Failed password for root "
        "from 10.1.2.3 port 4444 ssh2",
        "2026-03-02T10:00:03.000000+00:00 train-login-2 sshd[4412]: Accepted publickey for ops "
        "from 2001:db8:1::5 port 52001 ssh2: ED25519 SHA256:Zx8Cv7Bn6Mq5Wl4Ek3Rj2Ty1Ui0Op9As8Df7Gh6Jk5L",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _okta_log(path):
    us = _okta.Net("192.0.2.50", 7922, "comcast cable communications llc", "United States")
    bare = _okta.Net("203.0.113.20", None, None, None, None, None)
    kr = _okta.Net("198.51.100.77", 4766, "korea telecom", "Korea, Republic of")
    events = (
        _okta.success(T0, "alice", us)
        + _okta.success(T0 + timedelta(minutes=1), "bob", bare)
        + _okta.success(T0 + timedelta(minutes=2), "carol", kr)
    )
    return _okta.write(path, events)


def _cloudtrail(path):
    recs = [
        ct_event(
            T0 + timedelta(minutes=i),
            "GetObject",
            "s3.amazonaws.com",
            ALICE,
            {"bucketName": "nw-datasets", "key": f"pretrain/shard-{i}.parquet"},
            ip=ip,
            data=True,
        )
        for i, ip in enumerate(a for a in API_EXPECT if a != "10.20.0.5")
    ]
    return cloudtrail(path, recs)


def _s3(path):
    line = s3_line(T0, "nw-datasets", ALICE, "pretrain/a.parquet", 1000, ip="10.20.0.5")
    return write_lines(path, [line])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("enrich")
    logs = d / "logs"
    lake = Lake(d / "lake")
    res = lake.ingest(
        [
            _sshd(logs / "auth.log"),
            _okta_log(logs / "okta.jsonl"),
            _cloudtrail(logs / "ct.json.gz"),
            _s3(logs / "s3.log"),
        ]
    )
    assert all(r.status == "ingested" for r in res), res
    asn_db = write_asn_db(d / "GeoLite2-ASN.mmdb")
    country_db = write_country_db(d / "GeoLite2-Country.mmdb")
    for doc in (AWS, GCP, AZURE):
        feeds.store(lake.root, json.dumps(doc).encode(), "ServiceTags_Public_20260302.json")
    config = {"enrichment": {"asn_db": str(asn_db), "country_db": str(country_db)}}
    return lake, config, d


def _rows(engine: Engine, config, table: str) -> list[dict]:
    t = Tables(engine, config).table(table)
    return engine.execute(t)


def _by_ip(rows):
    out = {}
    for r in rows:
        out.setdefault(r["src_ip"], r)
    return out


def test_sign_ins_without_geo_get_asn_and_country(world):
    lake, config, _ = world
    auth = _by_ip(_rows(Engine(lake), config, "authentication"))
    # sshd carries neither ASN nor country: both from the databases, IPv4 and IPv6
    r = auth["203.0.113.9"]
    assert (r["source"], r["src_asn"], r["src_as_org"], r["src_country"]) == (
        "sshd",
        64502,
        "Example Hosting BV",
        "NL",
    )
    r = auth["2001:db8:1::5"]
    assert (r["src_asn"], r["src_as_org"], r["src_country"]) == (64504, "Example V6 KK", "JP")
    assert auth["10.1.2.3"]["src_network"] == "private" and auth["10.1.2.3"]["src_asn"] is None
    assert auth["203.0.113.9"]["src_network"] == "reserved"  # a documentation range


def test_a_sources_own_geo_wins_and_is_iso(world):
    lake, config, _ = world
    auth = _by_ip(_rows(Engine(lake), config, "authentication"))
    # Okta wrote "United States" and AS7922; the database says AS64503 / DE: Okta wins
    r = auth["192.0.2.50"]
    assert (r["src_asn"], r["src_as_org"], r["src_country"]) == (
        7922,
        "comcast cable communications llc",
        "US",
    )
    assert auth["198.51.100.77"]["src_country"] == "KR"  # "Korea, Republic of"
    # Okta without geo: filled from the databases
    r = auth["203.0.113.20"]
    assert (r["src_asn"], r["src_as_org"], r["src_country"]) == (64502, "Example Hosting BV", "NL")


def test_cloud_addresses_and_api_calls(world):
    lake, config, _ = world
    api = _by_ip(_rows(Engine(lake), config, "api_activity"))
    assert set(api) == set(API_EXPECT)
    for ip, want in API_EXPECT.items():
        r = api[ip]
        got = (
            r["src_asn"],
            r["src_as_org"],  # api_activity has no such column: the view adds it
            r["src_country"],
            r["src_network"],
            r["src_cloud_service"],
        )
        assert got == want, ip
    assert api["3.5.140.7"]["src_cloud_region"] == "ap-northeast-2"
    assert api["20.38.108.5"]["src_cloud_region"] == "westeurope"


def test_every_column_kept_with_its_type_and_every_row(world):
    lake, config, _ = world
    engine = Engine(lake)
    tables = Tables(engine, config)
    for name in ("authentication", "api_activity", "llm_request", "network_activity"):
        view = tables.table(name)
        schema = view.schema()
        for f in SCHEMAS[name]:
            assert schema[f.name] == ibis.dtype(f.type).copy(nullable=schema[f.name].nullable), (
                name,
                f.name,
            )
        assert list(view.columns[: len(SCHEMAS[name])]) == SCHEMAS[name].names
        for c, typ in COLUMNS.items():
            assert schema[c] == ibis.dtype(typ), (name, c)
        base = engine.table(name)
        assert (
            engine.execute(view.count().name("n").as_table())[0]["n"]
            == engine.execute(base.count().name("n").as_table())[0]["n"]
        )


def test_without_configuration_no_range_join(world):
    lake, _, d = world
    empty = Lake(d / "no-feeds-lake")
    empty.root.mkdir(exist_ok=True)
    # the same tables, no [enrichment] and no feeds: nothing but the ISO mapping and
    # the private/reserved classification
    engine = Engine(lake)
    enr = Enrichment.prepare(empty.root, {})
    assert enr.ranges == []
    auth = enr.enrich(engine, "authentication")
    sql = ibis.to_sql(auth, dialect="duckdb")
    # one join: the table's distinct src_country spellings with their codes (kept for
    # the run); no range table
    assert sql.upper().count(" JOIN ") == 1
    net = enr.enrich(engine, "network_activity")
    assert " JOIN " not in ibis.to_sql(net, dialect="duckdb").upper()
    rows = _by_ip(engine.execute(auth))
    assert rows["192.0.2.50"]["src_country"] == "US"
    assert rows["203.0.113.9"]["src_asn"] is None  # no database, nothing to fill
    assert rows["10.1.2.3"]["src_network"] == "private"


def test_cached_ranges_rebuilt_only_when_the_database_changes(tmp_path):
    # a lake of its own: the cache is keyed by content, and the module's shared lake may
    # already hold this database's table from a test that ran earlier on the worker
    root = tmp_path / "lake"
    root.mkdir()
    db = write_asn_db(tmp_path / "asn.mmdb")
    config = {"enrichment": {"asn_db": str(db), "cloud_feeds": False}}
    first = Enrichment.prepare(root, config).ranges
    assert len(first) == 1 and first[0].built and first[0].path.parent == root / "enrichment"
    again = Enrichment.prepare(root, config).ranges
    assert again[0].path == first[0].path and not again[0].built
    # a new release of the file (other content) is walked again, the old table dropped
    write_ipinfo_lite(db)
    os.utime(db, ns=(1, 1))
    third = Enrichment.prepare(root, config).ranges
    assert third[0].built and third[0].path != first[0].path
    assert not first[0].path.exists()


def test_one_database_for_asn_and_country(world, tmp_path):
    lake, _, _ = world
    db = write_ipinfo_lite(tmp_path / "ipinfo_lite.mmdb")
    config = {"enrichment": {"asn_db": str(db), "country_db": str(db), "cloud_feeds": False}}
    enr = Enrichment.prepare(lake.root, config)
    assert len(enr.ranges) == 1
    engine = Engine(lake)
    rows = _by_ip(engine.execute(enr.enrich(engine, "authentication")))
    assert (rows["203.0.113.9"]["src_asn"], rows["203.0.113.9"]["src_country"]) == (64502, "NL")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b"this is not a database\n" * 100) and p, "not a MaxMind DB"),
        (lambda p: p.write_bytes(gzip.compress(b"x" * 100)) and p, "gzip-compressed"),
        (lambda p: p.with_name("missing.mmdb"), "no such file"),
        (write_city_only_db, "holds no ASN data"),
    ],
)
def test_bad_database_is_a_clear_error(world, tmp_path, make, message):
    lake, _, _ = world
    path = make(tmp_path / "GeoLite2-ASN.mmdb")
    with pytest.raises(EnrichmentError, match=message) as exc:
        Enrichment.prepare(lake.root, {"enrichment": {"asn_db": str(path)}})
    assert "enrichment.asn_db" in str(exc.value)


def test_unknown_setting_is_an_error(world):
    lake, _, _ = world
    with pytest.raises(EnrichmentError, match="asn_database"):
        Enrichment.prepare(lake.root, {"enrichment": {"asn_database": "x.mmdb"}})


def test_cli_exit_2_on_a_bad_database(world, tmp_path):
    lake, _, _ = world
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"\x00" * 64)
    cfg = tmp_path / "crownwatch.toml"
    cfg.write_text(f'[enrichment]\nasn_db = "{bad}"\n')
    for args in (
        ["detect", "--lake", lake.root, "--config", cfg, "--only", "identity.brute_force"],
        ["feeds", "list", "--lake", lake.root, "--config", cfg],
    ):
        r = CliRunner().invoke(app, [str(a) for a in args])
        assert r.exit_code == 2, r.output
        out = " ".join(r.output.split())
        assert "enrichment.asn_db" in out and "not a MaxMind DB" in out, out
        assert "Traceback" not in out
        assert not isinstance(r.exception, EnrichmentError)


# slow: a Spark session over the whole enrichment view (the operations it is built from
# are compared on both engines in tests/test_engine_parity_ops.py by default)
@pytest.mark.slow
@pytest.mark.spark
@pytest.mark.skipif(not HAS_SPARK, reason="PySpark and a Java runtime are needed")
def test_spark_gives_the_same_view(world):
    lake, config, _ = world
    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "1")
    spark = Engine(lake, "spark")
    session = spark.backend._session
    session.sparkContext.setLogLevel("ERROR")
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    duck = Engine(lake)
    reg = load_registry(
        {"organisation": {"own_asns": [64502], "own_cidrs": ["52.95.110.0/24", "2001:db8:1::/48"]}}
    )

    def rows(engine, name):
        t = Tables(engine, config).table(name)
        return engine.execute(t.mutate(own=own_network(t, reg)))

    cols = ["src_ip", "source", "raw_offset", "own", *COLUMNS]
    for name in ("authentication", "api_activity"):
        key = lambda r: (str(r["src_ip"]), r["source"], r["raw_offset"])  # noqa: E731
        d = sorted(({c: r[c] for c in cols} for r in rows(duck, name)), key=key)
        s = sorted(({c: r[c] for c in cols} for r in rows(spark, name)), key=key)
        assert d == s, name
        assert any(r["own"] for r in d) and not all(r["own"] for r in d)
