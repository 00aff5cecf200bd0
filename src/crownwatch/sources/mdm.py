"""What the MDM sources (:mod:`~crownwatch.sources.jamf`, :mod:`~crownwatch.sources.intune`)
share: how their times, operating systems, ownership and addresses become the columns
of ``devices`` and ``device_items`` — SQL fragments over column expressions, built from
constants only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crownwatch.sources.base import Parsed

if TYPE_CHECKING:
    from crownwatch.sources.reader import Reader

# Formats consoles write besides ISO 8601 (which a TIMESTAMPTZ cast reads, 7-digit
# fractions and "+0000" offsets included): the Intune admin center's en-US export
# ("3/4/2026 9:12:33 AM") and Jamf Pro's display form ("2026-03-04 at 9:12 AM").
# Day-first dates are not guessed at: "04/03/2026" would read as April 3rd, so only the
# US order is tried, and a value that fits none is quarantined.
_LOCAL_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d at %I:%M %p",
    "%Y-%m-%d at %H:%M",
)


def parse_time(x: str) -> str:
    """SQL: the time ``x`` writes, as TIMESTAMPTZ (a time without an offset is UTC, as
    both consoles' exports are), or NULL when it is no time."""
    formats = "[" + ", ".join(f"'{f}'" for f in _LOCAL_FORMATS) + "]"
    return f"""coalesce(try_cast({x} AS TIMESTAMPTZ),
        timezone('UTC', try_strptime({x}, {formats})))"""


def os_name(x: str) -> str:
    """SQL: the operating system as ``devices.os`` names it (``macOS``, ``Windows``,
    ``Linux``, ``iOS``, ``iPadOS``, ``Android``); anything else as written."""
    return f"""CASE
        WHEN lower({x}) LIKE 'mac%' OR lower({x}) LIKE 'os x%' THEN 'macOS'
        WHEN lower({x}) LIKE 'windows%' THEN 'Windows'
        WHEN lower({x}) LIKE 'linux%' OR lower({x}) IN ('ubuntu', 'debian', 'rhel', 'fedora')
            THEN 'Linux'
        WHEN lower({x}) LIKE 'ipados%' THEN 'iPadOS'
        WHEN lower({x}) LIKE 'ios%' THEN 'iOS'
        WHEN lower({x}) LIKE 'android%' THEN 'Android'
        ELSE nullif(trim({x}), '') END"""


def ownership(x: str) -> str:
    """SQL: ``corporate`` | ``personal`` from Intune's ``Corporate``/``company`` and
    ``Personal``/``personal``; NULL for ``unknown`` and anything else."""
    return f"""CASE WHEN lower(trim({x})) IN ('corporate', 'company') THEN 'corporate'
        WHEN lower(trim({x})) = 'personal' THEN 'personal' END"""


# Addresses that say nothing about where a device is: RFC 1918, loopback, link-local,
# CGNAT (100.64/10), "this network", IPv6 ULA and link-local.
_NOT_PUBLIC = (
    r"^(?:10\.|127\.|0\.|169\.254\.|192\.168\.|172\.(?:1[6-9]|2[0-9]|3[01])\."
    r"|100\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|::1$|f[cd][0-9a-f]{2}:|fe[89ab][0-9a-f]:)"
)


def public_ip(*candidates: str) -> str:
    """SQL: the first candidate that is a public address, else the first given.

    Jamf Pro keeps two: ``lastIpAddress`` ("IP Address") and ``lastReportedIp``
    ("Reported IP Address"). One is the address the server saw the device connect from,
    the other what the device reported of its own interface — which, on a home or
    office network, is a private address that places nobody. Choosing the public one
    keeps ``last_ip`` the address the device really came from, whichever field holds
    it in a given Jamf version."""
    vals = [f"nullif(trim({c}), '')" for c in candidates]
    whens = " ".join(
        f"WHEN {v} IS NOT NULL AND NOT regexp_matches(lower({v}), '{_NOT_PUBLIC}') THEN {v}"
        for v in vals
    )
    return f"CASE {whens} ELSE coalesce({', '.join(vals)}) END"


def serial(x: str) -> str:
    return f"upper(nullif(trim({x}), ''))"


def blank_null(x: str) -> str:
    return f"nullif(trim({x}), '')"


def devices_with_apps(
    reader: Reader,
    stage: str,
    source: str,
    path: Path,
    device_columns: str,
    item_columns: str,
    apps: str,
    app_name: str,
) -> Parsed:
    """A staged JSON inventory (one device per record, ``e``) as the lake takes it: each
    good record a ``devices`` row, each of its applications (the list ``e.<apps>``, an
    element ``a`` with a non-blank ``a.<app_name>``) a ``device_items`` row — extra rows
    of the device's record, so ``read = rows + quarantined`` still holds per device."""
    good = f"FROM {stage} WHERE _reject IS NULL"
    devices = reader.con.sql(f"SELECT {device_columns} {good}")
    items = reader.con.sql(
        f"""SELECT {item_columns}
            FROM (SELECT e, raw_offset, unnest(e.{apps}) AS a {good})
            WHERE nullif(trim(a.{app_name}), '') IS NOT NULL"""
    )
    return Parsed(
        records=reader.count(stage),
        routed={"devices": devices},
        copies={"device_items": items},
        quarantine=reader.quarantine(stage, source, path, "e.id"),
    )
