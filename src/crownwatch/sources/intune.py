"""Microsoft Intune device inventory into ``devices`` and ``device_items``. Shapes read:

* **All devices export** — the admin center's *Devices > All devices > Export*, the
  ``DevicesWithInventory`` report (also what ``deviceManagement/reports/exportJobs``
  writes for it): CSV, every field quoted, columns by name in any order —
  ``Device ID``, ``Device name``, ``Enrollment date``, ``Last check-in``, ``OS``,
  ``OS version``, ``Serial number``, ``Primary user UPN``, ``Primary user email
  address``, ``Ownership`` are read (``Microsoft Entra Device ID`` / the older ``Azure
  AD Device ID``, ``Compliance``, ``Managed by``, ``Model``… are not needed). Times as
  the export writes them, ``2026-03-04 09:12:33.0000000`` (UTC), ISO 8601, or the
  en-US form ``3/4/2026 9:12:33 AM``.
* **Microsoft Graph** ``managedDevice`` objects — the ``GET
  /deviceManagement/managedDevices`` page ``{"@odata.context": …, "value": [...]}``, a
  top-level array, or JSON lines. A device fetched with ``$expand=detectedApps``
  (beta) brings its discovered applications along.
* **Discovered apps, per device** — the ``AppInvRawData`` report (*Apps > Monitor >
  Discovered apps > Export*, or ``exportJobs``): CSV of ``ApplicationKey``,
  ``ApplicationName``, ``ApplicationPublisher``, ``ApplicationShortVersion``,
  ``ApplicationVersion``, ``DeviceId``, ``DeviceName``, ``OSDescription``,
  ``OSVersion``, ``Platform``, ``UserId``, ``EmailAddress``, ``UserName``; one
  application on one device a row. The report states no time, so its rows carry the
  file's modification time (when the export was written or downloaded).
* Tenant-wide aggregates — Graph ``detectedApps`` pages (``id``, ``displayName``,
  ``version``, ``publisher``, ``platform``, ``deviceCount``) and the ``AppInvAggregate``
  export (``DeviceCount``) — name no device: recognised and *skipped*.

**Field by field** (Graph name; the export's column in brackets):

=============  ====================================================================
devices        Intune
=============  ====================================================================
time           ``lastSyncDateTime`` [Last check-in]
device_uid     ``id`` [Device ID] — the Intune device id
device_name    ``deviceName`` [Device name]
serial         ``serialNumber`` [Serial number], upper case
user           ``userPrincipalName`` [Primary user UPN], else ``emailAddress``
               [Primary user email address], as an identity key
os             ``operatingSystem`` [OS] (``Windows``, ``macOS``, ``iOS``, ``Android``…)
os_version     ``osVersion`` [OS version]
last_ip        NULL: Intune records no address a device checked in from
enrolled_time  ``enrolledDateTime`` [Enrollment date]
ownership      ``managedDeviceOwnerType`` ``company`` / [Ownership] ``Corporate`` →
               ``corporate``; ``personal`` → ``personal``; ``unknown`` → NULL
raw_id         ``id``
=============  ====================================================================

``device_items`` rows (``item_type`` ``application``): from ``AppInvRawData``
``ApplicationName``, ``ApplicationVersion``, ``ApplicationPublisher`` with the row's
``DeviceId``, ``DeviceName`` and ``EmailAddress`` (each row is a record of its own);
from an expanded ``detectedApps`` list, ``displayName``, ``version``, ``publisher`` at
the device's check-in — *copies* of the device's record (:attr:`Parsed.copies`).

**Quarantined:** a device with neither an id nor a serial number, with no check-in time
or one that does not parse (Graph's ``0001-01-01`` — never checked in — included); an
application row without a device id or a name; malformed JSON or CSV rows.
"""

from __future__ import annotations

import re
from pathlib import Path

from crownwatch.sources import csv_export, mdm
from crownwatch.sources.base import Parsed, SourceError
from crownwatch.sources.reader import Reader, head_text
from crownwatch.tables.authentication import identity_key

NAME = "intune"

STRUCTURE = {
    "id": "VARCHAR",
    "deviceName": "VARCHAR",
    "userPrincipalName": "VARCHAR",
    "emailAddress": "VARCHAR",
    "serialNumber": "VARCHAR",
    "operatingSystem": "VARCHAR",
    "osVersion": "VARCHAR",
    "lastSyncDateTime": "VARCHAR",
    "enrolledDateTime": "VARCHAR",
    "managedDeviceOwnerType": "VARCHAR",
    "detectedApps": [{"displayName": "VARCHAR", "version": "VARCHAR", "publisher": "VARCHAR"}],
}

_NEVER = "0001-01-01"  # Graph's DateTimeOffset.MinValue: never happened


def _time(x: str) -> str:
    return f"CASE WHEN NOT starts_with(trim({x}), '{_NEVER}') THEN {mdm.parse_time(x)} END"


def _reject(uid: str, serial: str, when: str, label: str) -> str:
    return f"""CASE
    WHEN {mdm.blank_null(uid)} IS NULL AND {mdm.serial(serial)} IS NULL
        THEN 'no device id and no serial number'
    WHEN {mdm.blank_null(when)} IS NULL THEN 'no {label}'
    WHEN starts_with(trim({when}), '{_NEVER}') THEN 'never checked in ({label} {_NEVER})'
    WHEN {_time(when)} IS NULL THEN 'unparseable {label}'
END"""


REJECT = _reject("e.id", "e.serialNumber", "e.lastSyncDateTime", "lastSyncDateTime")

_GRAPH_DEVICE = f"""
    {_time("e.lastSyncDateTime")} AS time, '{NAME}' AS source,
    {mdm.blank_null("e.id")} AS device_uid, {mdm.blank_null("e.deviceName")} AS device_name,
    {mdm.serial("e.serialNumber")} AS serial,
    {identity_key(f"coalesce({mdm.blank_null('e.userPrincipalName')}, e.emailAddress)")} AS "user"
"""
GRAPH_DEVICE_COLUMNS = f"""{_GRAPH_DEVICE},
    {mdm.os_name("e.operatingSystem")} AS os, {mdm.blank_null("e.osVersion")} AS os_version,
    NULL::VARCHAR AS last_ip, {_time("e.enrolledDateTime")} AS enrolled_time,
    {mdm.ownership("e.managedDeviceOwnerType")} AS ownership,
    e.id AS raw_id, raw_offset"""
GRAPH_ITEM_COLUMNS = f"""{_GRAPH_DEVICE},
    'application' AS item_type, {mdm.blank_null("a.displayName")} AS name,
    {mdm.blank_null("a.version")} AS version, {mdm.blank_null("a.publisher")} AS publisher,
    e.id AS raw_id, raw_offset"""

# -- the All devices export (DevicesWithInventory) ----------------------------------

CSV_COLUMNS = {
    "id": ("Device ID", "DeviceId"),
    "name": ("Device name", "DeviceName"),
    "enrolled": ("Enrollment date", "Enrolled date", "CreatedDate"),
    "checkin": ("Last check-in", "LastContact"),
    "os": ("OS", "DeviceType"),
    "os_version": ("OS version", "OSVersion"),
    "serial": ("Serial number", "SerialNumber"),
    "upn": ("Primary user UPN", "UPN"),
    "email": ("Primary user email address", "UserEmail"),
    "ownership": ("Ownership", "OwnerType"),
}
CSV_REJECT = _reject("id", "serial", "checkin", "Last check-in")
CSV_DEVICE = f"""
    {_time("checkin")} AS time, '{NAME}' AS source, id AS device_uid, name AS device_name,
    {mdm.serial("serial")} AS serial, {identity_key("coalesce(upn, email)")} AS "user",
    {mdm.os_name("os")} AS os, os_version, NULL::VARCHAR AS last_ip,
    {_time("enrolled")} AS enrolled_time, {mdm.ownership("ownership")} AS ownership,
    id AS raw_id, raw_offset"""

# -- discovered apps per device (AppInvRawData) -------------------------------------

APPS_COLUMNS = {
    "key": ("ApplicationKey",),
    "app": ("ApplicationName",),
    "publisher": ("ApplicationPublisher",),
    "version": ("ApplicationVersion",),
    "short_version": ("ApplicationShortVersion",),
    "device_id": ("DeviceId",),
    "device_name": ("DeviceName",),
    "email": ("EmailAddress",),
}
APPS_REJECT = """CASE
    WHEN device_id IS NULL THEN 'no DeviceId'
    WHEN app IS NULL THEN 'no ApplicationName'
END"""


def _apps_select(mtime: float) -> str:
    return f"""to_timestamp({mtime!r}) AS time, '{NAME}' AS source,
        device_id AS device_uid, device_name, {identity_key("email")} AS "user",
        'application' AS item_type, app AS name,
        coalesce(version, short_version) AS version, publisher,
        key AS raw_id, raw_offset"""


# -- sniffing -----------------------------------------------------------------------

_CONTEXT = re.compile(r'"@odata\.context"\s*:\s*"([^"]*)"')


def _kind(names: list[str]) -> str | None:
    """Which export a CSV header is: ``devices``, ``apps`` (per device), ``aggregate``."""
    folded = {n.lower() for n in names}
    if (
        "device id" in folded
        and "device name" in folded
        and ("last check-in" in folded or "enrollment date" in folded)
    ):
        return "devices"
    if "applicationname" in folded and (
        "applicationkey" in folded or "applicationversion" in folded
    ):
        return "apps" if "deviceid" in folded else "aggregate" if "devicecount" in folded else None
    return None


def _graph_kind(head: str) -> str | None:
    m = _CONTEXT.search(head)
    if m:
        ctx = m.group(1)
        if re.search(r"managedDevices(?:\(.*\))?(?:/\$entity)?$", ctx):
            return "devices"
        if re.search(r"detectedApps(?:\([^)]*\))?(?:/\$entity)?$", ctx):
            return "apps"
        return None
    bare = '"deviceName"' in head and '"lastSyncDateTime"' in head
    if bare and any(k in head for k in ('"managedDeviceOwnerType"', '"azureADDeviceId"')):
        return "devices"
    return None


def sniff(head: str) -> bool:
    h = head.lstrip("\ufeff").lstrip()
    if h[:1] in "[{":
        return _graph_kind(h) is not None
    return _kind(csv_export.header_names(h)) is not None


def parse(reader: Reader, path: Path) -> Parsed:
    head = head_text(path, 4096).lstrip()
    if head[:1] in "[{":
        return _parse_graph(reader, path, head)
    header = csv_export.read_header(path)
    kind = _kind(list(header.names)) if header else None
    if kind == "devices":
        stage, skipped = csv_export.stage(reader, path, header, CSV_COLUMNS, CSV_REJECT)
        routed = {
            "devices": reader.con.sql(f"SELECT {CSV_DEVICE} FROM {stage} WHERE _reject IS NULL")
        }
        raw_id = "id"
    elif kind == "apps":
        stage, skipped = csv_export.stage(reader, path, header, APPS_COLUMNS, APPS_REJECT)
        rows = f"SELECT {_apps_select(path.stat().st_mtime)} FROM {stage} WHERE _reject IS NULL"
        routed = {"device_items": reader.con.sql(rows)}
        raw_id = "key"
    elif kind == "aggregate":
        stage, skipped = csv_export.stage(reader, path, header, {}, "NULL")
        n = reader.count(stage)
        rejected = f"(SELECT * FROM {stage} WHERE _reject IS NOT NULL)"
        ((bad,),) = reader.con.execute(f"SELECT count(*) FROM {rejected}").fetchall()
        return Parsed(
            records=n + skipped,
            routed={},
            quarantine=reader.quarantine(stage, NAME, path),
            skipped=skipped + n - bad,
        )
    else:
        raise SourceError("no Intune export header (Device ID, Device name, Last check-in …)")
    return Parsed(
        records=reader.count(stage) + skipped,
        routed=routed,
        quarantine=reader.quarantine(stage, NAME, path, raw_id),
        skipped=skipped,
    )


def _parse_graph(reader: Reader, path: Path, head: str) -> Parsed:
    document = head.startswith("[") or _CONTEXT.search(head) is not None
    if _graph_kind(head) == "apps":
        # a tenant's (or a device's) detected apps: no device, or none named in the records
        records = reader.json_document(path, None if head.startswith("[") else "value")
        n = reader.count(records)
        return Parsed(records=n, routed={}, skipped=n)
    if document:
        records = reader.json_document(path, None if head.startswith("[") else "value")
        stage = reader.stage_json(records, STRUCTURE, REJECT)
    else:
        stage = reader.stage_json_lines(path, STRUCTURE, REJECT)
    return mdm.devices_with_apps(
        reader,
        stage,
        NAME,
        path,
        GRAPH_DEVICE_COLUMNS,
        GRAPH_ITEM_COLUMNS,
        "detectedApps",
        "displayName",
    )
