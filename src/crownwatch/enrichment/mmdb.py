"""Offline IP databases in the MaxMind DB format (``.mmdb``) as range tables.

The file is read with the ``maxminddb`` library by walking its networks **once**
into a range table in the lake (:mod:`.ranges`); the engine joins that table — no
per-row lookup in Python. The walk skips the aliases a MaxMind IPv6 tree keeps for
IPv4 (``::ffff:0:0/96``, 6to4 ``2002::/16``): IPv4 is found through the IPv4-mapped
form every address is joined in.

Record layouts understood (the first field present wins):

=====================  ===========================================================
ASN                    ``autonomous_system_number`` (GeoLite2/GeoIP2 ASN, DB-IP
                       ASN Lite), ``asn`` (IPinfo Lite ``"AS15169"``, IPinfo ASN),
                       ``traits.autonomous_system_number`` (GeoIP2 Enterprise)
AS organisation        ``autonomous_system_organization``, ``as_name`` (IPinfo
                       Lite), ``name`` (IPinfo ASN), ``traits.autonomous_system_
                       organization``
country                ``country.iso_code`` (GeoLite2/GeoIP2 Country and City,
                       DB-IP Country/City Lite), then ``registered_country.iso_code``,
                       ``country_code`` (IPinfo Lite), ``country`` as text (IPinfo
                       ``country_asn``: ``"US"``; any name goes through
                       :func:`.countries.country_code`)
=====================  ===========================================================

Walking GeoLite2-Country or an ASN database takes seconds; a City database
(millions of networks) a minute or two — once per database release.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crownwatch.enrichment.countries import country_code
from crownwatch.enrichment.ip import network_int_range
from crownwatch.enrichment.ranges import Span, write_spans


class DatabaseError(ValueError):
    """An IP database cannot be used; the message says which file and why."""


def _asn(rec: dict[str, Any]) -> int | None:
    for v in (
        rec.get("autonomous_system_number"),
        rec.get("asn"),
        (rec.get("traits") or {}).get("autonomous_system_number")
        if isinstance(rec.get("traits"), dict)
        else None,
    ):
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            return v if 0 < v < 2**32 else None
        if isinstance(v, str):
            s = v.strip().upper().removeprefix("AS")
            if s.isdigit() and 0 < int(s) < 2**32:
                return int(s)
    return None


def _org(rec: dict[str, Any]) -> str | None:
    traits = rec.get("traits") if isinstance(rec.get("traits"), dict) else {}
    for v in (
        rec.get("autonomous_system_organization"),
        rec.get("as_name"),
        rec.get("name") if ("asn" in rec or "autonomous_system_number" in rec) else None,
        traits.get("autonomous_system_organization"),
    ):
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def _iso(v: Any) -> str | None:
    return country_code(v) if isinstance(v, str) else None


def _country(rec: dict[str, Any]) -> str | None:
    for key in ("country", "registered_country"):
        sub = rec.get(key)
        if isinstance(sub, dict) and (code := _iso(sub.get("iso_code"))):
            return code
    for v in (rec.get("country_code"), rec.get("country")):
        if code := _iso(v):
            return code
    return None


def record_fields(rec: Any) -> tuple[int | None, str | None, str | None]:
    """``(asn, as_org, country)`` from one database record of any layout above."""
    if not isinstance(rec, dict):
        return None, None, None
    return _asn(rec), _org(rec), _country(rec)


def open_reader(path: Path, what: str):
    """The ``maxminddb`` reader for ``path``, or :class:`DatabaseError` saying why not."""
    import maxminddb

    if not path.is_file():
        raise DatabaseError(f"{what}: no such file: {path}")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:2] == b"\x1f\x8b":
        raise DatabaseError(
            f"{what}: {path} is gzip-compressed; decompress it (the .mmdb inside the "
            "download) and point to that"
        )
    try:
        return maxminddb.open_database(str(path))
    except (OSError, ValueError, RuntimeError) as exc:  # InvalidDatabaseError is a RuntimeError
        raise DatabaseError(f"{what}: {path} is not a MaxMind DB (.mmdb) file ({exc})") from exc


def spans(path: Path, roles: frozenset[str], what: str) -> Iterator[Span]:
    """The database's networks in address order, as spans carrying only what
    ``roles`` asks for (``asn`` → ASN and organisation, ``country`` → country)."""
    reader = open_reader(path, what)
    want_asn, want_cc = "asn" in roles, "country" in roles
    try:
        for net, rec in reader:
            asn, org, cc = record_fields(rec)
            if not want_asn:
                asn = org = None
            if not want_cc:
                cc = None
            if asn is None and org is None and cc is None:
                continue
            lo, hi = network_int_range(net)
            yield Span(lo, hi, asn=asn, as_org=org, country=cc)
    except (OSError, ValueError, RuntimeError, TypeError) as exc:
        raise DatabaseError(f"{what}: {path} is damaged ({exc})") from exc
    finally:
        reader.close()


def build(path: Path, roles: frozenset[str], out: Path, what: str) -> dict[str, int]:
    """Walk the database at ``path`` into the range table ``out``. A database that
    holds none of what ``roles`` asks for is an error (an ASN database configured as
    ``country_db``, say), not an empty table."""
    counts = write_spans(spans(path, roles, what), out)
    if counts["ranges"] == 0:
        out.unlink(missing_ok=True)
        wanted = " and ".join(
            {"asn": "ASN", "country": "country"}[r]
            for r in sorted(roles)
            if r in ("asn", "country")
        )
        raise DatabaseError(
            f"{what}: {path} holds no {wanted} data in any layout crownwatch reads "
            "(MaxMind GeoLite2/GeoIP2, DB-IP Lite, IPinfo); is it the right file?"
        )
    return counts
