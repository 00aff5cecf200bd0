"""Tiny IP databases and cloud feeds for the enrichment tests, written by the tests.

Every network is a documentation range (RFC 5737 / RFC 3849) except the cloud
prefixes, which are the providers' real ones (AWS 3.5.140.0/22 and 52.95.0.0/16,
Google 34.80.0.0/15, Azure 20.38.0.0/16) — the tests never go on the Internet.
"""

from __future__ import annotations

import json
from pathlib import Path

from mmdb_writer import MmdbU32, MMDBWriter
from netaddr import IPSet

# network -> (asn, as org, country)
NETWORKS = {
    "198.51.100.0/24": (64501, "Example Office ISP", "US"),
    "203.0.113.0/24": (64502, "Example Hosting BV", "NL"),
    "192.0.2.0/24": (64503, "Example Carrier GmbH", "DE"),
    "2001:db8:1::/48": (64504, "Example V6 KK", "JP"),
}
NAMES = {"US": "United States", "NL": "Netherlands", "DE": "Germany", "JP": "Japan"}


def _writer(kind: str) -> MMDBWriter:
    return MMDBWriter(ip_version=6, database_type=kind, ipv4_compatible=True, languages=["en"])


def write_asn_db(path: Path) -> Path:
    """GeoLite2-ASN / DB-IP ASN Lite layout."""
    w = _writer("GeoLite2-ASN")
    for net, (asn, org, _) in NETWORKS.items():
        w.insert_network(
            IPSet([net]),
            {"autonomous_system_number": MmdbU32(asn), "autonomous_system_organization": org},
        )
    w.to_db_file(str(path))
    return path


def write_country_db(path: Path) -> Path:
    """GeoLite2-Country / City layout (``country.iso_code``, localised names)."""
    w = _writer("GeoLite2-Country")
    for net, (_, _, cc) in NETWORKS.items():
        country = {"iso_code": cc, "names": {"en": NAMES[cc], "de": NAMES[cc]}}
        w.insert_network(
            IPSet([net]),
            {"continent": {"code": "EU"}, "country": country, "registered_country": country},
        )
    w.to_db_file(str(path))
    return path


def write_ipinfo_lite(path: Path) -> Path:
    """IPinfo Lite layout: ASN and country in one record, ``asn`` as text."""
    w = _writer("ipinfo lite")
    for net, (asn, org, cc) in NETWORKS.items():
        w.insert_network(
            IPSet([net]),
            {
                "asn": f"AS{asn}",
                "as_name": org,
                "as_domain": "example.com",
                "country_code": cc,
                "country": NAMES[cc],
                "continent_code": "EU",
                "continent": "Europe",
            },
        )
    w.to_db_file(str(path))
    return path


def write_city_only_db(path: Path) -> Path:
    """A database with neither ASN nor country (wrong file for either setting)."""
    w = _writer("Something-Else")
    w.insert_network(IPSet(["198.51.100.0/24"]), {"city": {"names": {"en": "Springfield"}}})
    w.to_db_file(str(path))
    return path


AWS = {
    "syncToken": "1767225600",
    "createDate": "2026-03-01-10-00-00",
    "prefixes": [
        {
            "ip_prefix": "3.5.140.0/22",
            "region": "ap-northeast-2",
            "service": "AMAZON",
            "network_border_group": "ap-northeast-2",
        },
        {
            "ip_prefix": "3.5.140.0/22",
            "region": "ap-northeast-2",
            "service": "S3",
            "network_border_group": "ap-northeast-2",
        },
        {
            "ip_prefix": "52.95.0.0/16",
            "region": "us-east-1",
            "service": "AMAZON",
            "network_border_group": "us-east-1",
        },
        {
            "ip_prefix": "52.95.110.0/24",
            "region": "us-east-1",
            "service": "EC2",
            "network_border_group": "us-east-1",
        },
    ],
    "ipv6_prefixes": [
        {
            "ipv6_prefix": "2600:1f14::/35",
            "region": "us-west-2",
            "service": "EC2",
            "network_border_group": "us-west-2",
        },
    ],
}
GCP = {
    "syncToken": "1767225600000",
    "creationTime": "2026-03-02T11:43:57.000000",
    "prefixes": [
        {"ipv4Prefix": "34.80.0.0/15", "service": "Google Cloud", "scope": "asia-east1"},
        {"ipv6Prefix": "2600:1900:4000::/44", "service": "Google Cloud", "scope": "us-central1"},
    ],
}
AZURE = {
    "changeNumber": 321,
    "cloud": "Public",
    "values": [
        {
            "name": "AzureCloud",
            "id": "AzureCloud",
            "properties": {
                "changeNumber": 1,
                "region": "",
                "platform": "Azure",
                "systemService": "",
                "addressPrefixes": ["20.38.0.0/16"],
            },
        },
        {
            "name": "Storage.WestEurope",
            "id": "Storage.WestEurope",
            "properties": {
                "changeNumber": 1,
                "region": "westeurope",
                "platform": "Azure",
                "systemService": "AzureStorage",
                "addressPrefixes": ["20.38.108.0/23"],
            },
        },
    ],
}


def write_feed(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path
