"""Jamf Pro computer inventory into ``devices`` and ``device_items``. Shapes read:

* **Jamf Pro API** ``GET /api/v1/computers-inventory`` (also ``/v2``, ``/v3``) — the
  page ``{"totalCount": n, "results": [ComputerInventory…]}`` with the sections
  ``GENERAL``, ``HARDWARE``, ``USER_AND_LOCATION``, ``OPERATING_SYSTEM`` and
  ``APPLICATIONS``; a top-level array of those objects; JSON lines of them (one per
  line, as a sync job stores them); and ``/computers-inventory-detail/{id}`` objects,
  pretty-printed one after another.
* **Advanced Computer Search** exported as CSV: one row per computer, columns named by
  the display fields chosen (``Computer Name``, ``Serial Number``, ``JSS Computer ID``,
  ``Username``, ``Full Name``, ``Email Address``, ``Last Check-in``, ``Last Inventory
  Update``, ``IP Address``, ``Reported IP Address`` / ``Last Reported IP Address``,
  ``Operating System`` / ``Operating System Name``, ``Operating System Version``,
  ``Last Enrollment``), in any order; columns not listed here are ignored.
  Installed applications are not read from the search export: it has no one layout
  for them (the API's ``applications`` section is the inventory to export).

**Field by field** (API name; the search export's column in brackets):

=============  ====================================================================
devices        Jamf
=============  ====================================================================
time           ``general.lastContactTime`` [Last Check-in] — the last check-in;
               ``general.reportDate`` [Last Inventory Update] when there is none
device_uid     ``id`` [JSS Computer ID]
device_name    ``general.name`` [Computer Name]
serial         ``hardware.serialNumber`` [Serial Number], upper case
user           ``userAndLocation.email`` [Email Address], else ``username``
               [Username], as an identity key
os             ``operatingSystem.name`` (``macOS``, ``Mac OS X`` → ``macOS``); a Mac
               (``general.platform``) without one is ``macOS``
os_version     ``operatingSystem.version`` [Operating System Version]
last_ip        the public one of ``general.lastReportedIp`` [Reported IP Address]
               and ``general.lastIpAddress`` [IP Address], the reported one first
               (see :func:`crownwatch.sources.mdm.public_ip`)
enrolled_time  ``general.lastEnrolledDate`` [Last Enrollment]
ownership      NULL (Jamf records none)
raw_id         ``id``
=============  ====================================================================

Every ``applications[]`` entry of a computer is a ``device_items`` row
(``item_type`` ``application``; ``name`` as Jamf writes it, ``AnyDesk.app``;
``version``; ``publisher`` the ``bundleId``; ``path``) at the computer's time, with its
id, name, serial and user. Those rows are *copies* of the computer's record
(:attr:`Parsed.copies`): one computer with 80 applications is 1 record read, 1
``devices`` row and 80 ``device_items`` rows.

**Quarantined:** a computer with neither an id nor a serial number, one with no time
(neither a last contact nor a report date) or one that does not parse, and malformed
JSON or CSV rows — each with its reason; the rest of the file is kept. Times without an
offset (the search export) are taken as UTC.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from crownwatch.sources import csv_export, mdm
from crownwatch.sources.base import Parsed, SourceError
from crownwatch.sources.reader import Reader, _sql_str, head_text, is_gzip
from crownwatch.tables.authentication import identity_key

NAME = "jamf"

STRUCTURE = {
    "id": "VARCHAR",
    "udid": "VARCHAR",
    "general": {
        "name": "VARCHAR",
        "lastIpAddress": "VARCHAR",
        "lastReportedIp": "VARCHAR",
        "lastReportedIpV4": "VARCHAR",
        "lastContactTime": "VARCHAR",
        "reportDate": "VARCHAR",
        "lastEnrolledDate": "VARCHAR",
        "platform": "VARCHAR",
    },
    "hardware": {"serialNumber": "VARCHAR"},
    "userAndLocation": {"username": "VARCHAR", "realname": "VARCHAR", "email": "VARCHAR"},
    "operatingSystem": {"name": "VARCHAR", "version": "VARCHAR"},
    "applications": [
        {"name": "VARCHAR", "version": "VARCHAR", "bundleId": "VARCHAR", "path": "VARCHAR"}
    ],
}

_WHEN = (
    "coalesce(nullif(trim(e.general.lastContactTime), ''), nullif(trim(e.general.reportDate), ''))"
)
_TIME = mdm.parse_time(_WHEN)

REJECT = f"""CASE
    WHEN e.id IS NULL AND {mdm.serial("e.hardware.serialNumber")} IS NULL
        THEN 'no computer id and no serial number'
    WHEN {_WHEN} IS NULL THEN 'no lastContactTime or reportDate'
    WHEN {_TIME} IS NULL THEN 'unparseable lastContactTime'
END"""

_DEVICE = f"""
    {_TIME} AS time, '{NAME}' AS source,
    e.id AS device_uid, {mdm.blank_null("e.general.name")} AS device_name,
    {mdm.serial("e.hardware.serialNumber")} AS serial,
    {identity_key(f"coalesce({mdm.blank_null('e.userAndLocation.email')}, e.userAndLocation.username)")}
        AS "user"
"""

DEVICE_COLUMNS = f"""{_DEVICE},
    {mdm.os_name("coalesce(e.operatingSystem.name, CASE WHEN lower(e.general.platform) = 'mac' THEN 'macOS' END)")}
        AS os,
    {mdm.blank_null("e.operatingSystem.version")} AS os_version,
    {mdm.public_ip("coalesce(e.general.lastReportedIp, e.general.lastReportedIpV4)", "e.general.lastIpAddress")}
        AS last_ip,
    {mdm.parse_time("e.general.lastEnrolledDate")} AS enrolled_time,
    NULL::VARCHAR AS ownership,
    e.id AS raw_id, raw_offset"""

ITEM_COLUMNS = f"""{_DEVICE},
    'application' AS item_type, {mdm.blank_null("a.name")} AS name,
    {mdm.blank_null("a.version")} AS version, {mdm.blank_null("a.bundleId")} AS publisher,
    {mdm.blank_null("a.path")} AS path,
    e.id AS raw_id, raw_offset"""

# -- the Advanced Search CSV export -------------------------------------------------

CSV_COLUMNS = {
    "id": ("JSS Computer ID", "Jamf Pro Computer ID", "Computer ID", "ID"),
    "name": ("Computer Name",),
    "serial": ("Serial Number",),
    "username": ("Username",),
    "email": ("Email Address",),
    "contact": ("Last Check-in",),
    "report": ("Last Inventory Update",),
    "ip": ("IP Address",),
    "reported_ip": ("Reported IP Address", "Last Reported IP Address"),
    "os": ("Operating System Name", "Operating System"),
    "os_version": ("Operating System Version",),
    "enrolled": ("Last Enrollment",),
    "platform": ("Platform",),
}
_CSV_WHEN = "coalesce(contact, report)"
_CSV_TIME = mdm.parse_time(_CSV_WHEN)
CSV_REJECT = f"""CASE
    WHEN id IS NULL AND serial IS NULL THEN 'no computer id and no serial number'
    WHEN {_CSV_WHEN} IS NULL THEN 'no Last Check-in or Last Inventory Update'
    WHEN {_CSV_TIME} IS NULL THEN 'unparseable Last Check-in'
END"""
CSV_DEVICE = f"""
    {_CSV_TIME} AS time, '{NAME}' AS source, id AS device_uid, name AS device_name,
    {mdm.serial("serial")} AS serial, {identity_key("coalesce(email, username)")} AS "user",
    {mdm.os_name("coalesce(nullif(regexp_extract(os, '^(macOS|Mac OS X|OS X|Windows|Linux)', 1), ''), CASE WHEN lower(platform) = 'mac' THEN 'macOS' END, os)")}
        AS os,
    coalesce(os_version, nullif(regexp_extract(os, '([0-9]+(?:\\.[0-9]+)+)', 1), '')) AS os_version,
    {mdm.public_ip("reported_ip", "ip")} AS last_ip,
    {mdm.parse_time("enrolled")} AS enrolled_time,
    id AS raw_id, raw_offset"""


def _is_csv_header(names: list[str]) -> bool:
    folded = {n.lower() for n in names}
    return "computer name" in folded and (
        "serial number" in folded or "jss computer id" in folded or "last check-in" in folded
    )


def sniff(head: str) -> bool:
    h = head.lstrip("\ufeff").lstrip()
    if h[:1] in "[{":
        return '"general"' in h and any(
            k in h for k in ('"userAndLocation"', '"lastContactTime"', '"lastReportedIp"')
        )
    return _is_csv_header(csv_export.header_names(h))


# the page: scalar members ("totalCount") and then the results array
_PAGE = re.compile(r'\A\s*\{(?:\s*"[^"]*"\s*:\s*[^"{}\[\],]*,)*\s*"results"\s*:\s*\[')


def parse(reader: Reader, path: Path) -> Parsed:
    head = head_text(path, 4096).lstrip()
    if head[:1] not in "[{":
        return _parse_csv(reader, path)
    first = head.split("\n", 1)[0].strip()
    if head.startswith("{") and first.endswith("}") and not _PAGE.match(head):
        stage = reader.stage_json_lines(path, STRUCTURE, REJECT)
    else:
        stage = reader.stage_json(_records(reader, path, head), STRUCTURE, REJECT)
    return mdm.devices_with_apps(
        reader, stage, NAME, path, DEVICE_COLUMNS, ITEM_COLUMNS, "applications", "name"
    )


def _records(reader: Reader, path: Path, head: str) -> str:
    """The computers of a JSON document as ``(raw_offset, text)``: the page's
    ``results`` or an array's elements (index), or — pretty-printed detail records —
    each top-level object in turn (index)."""
    if _PAGE.match(head):
        return reader.json_document(path, "results")
    if head.startswith("["):
        return reader.json_document(path, None)
    name = reader.name("objs")
    try:
        reader.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {name} AS
            SELECT ordinality - 1 AS raw_offset, json::VARCHAR AS text
            FROM read_json_objects({_sql_str(str(path))}, format='unstructured',
                compression='{"gzip" if is_gzip(path) else "none"}',
                maximum_object_size=16777216) WITH ORDINALITY"""
        )
    except duckdb.Error as exc:
        raise SourceError(
            f"not readable as JSON objects: {str(exc).splitlines()[0][:300]}"
        ) from exc
    return name


def _parse_csv(reader: Reader, path: Path) -> Parsed:
    header = csv_export.read_header(path)
    if header is None or not _is_csv_header(list(header.names)):
        raise SourceError("no Advanced Search export header (Computer Name, Serial Number …)")
    stage, skipped = csv_export.stage(reader, path, header, CSV_COLUMNS, CSV_REJECT)
    devices = reader.con.sql(f"SELECT {CSV_DEVICE} FROM {stage} WHERE _reject IS NULL")
    return Parsed(
        records=reader.count(stage) + skipped,
        routed={"devices": devices},
        quarantine=reader.quarantine(stage, NAME, path, "id"),
        skipped=skipped,
    )
