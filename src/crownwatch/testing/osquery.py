"""osquery scheduled-query results (``osqueryd.results.log``, one JSON object per line)
for device-inventory scenarios and tests: ``usb_devices``, ``programs`` (Windows),
``apps`` (macOS), ``deb_packages`` (Linux) and ``system_info`` rows, as differential
``added`` events and as snapshot records.

Field for field as osqueryd's filesystem logger writes them (and as Fleet and Kolide
forward them): the envelope keys in osquery's order — ``name``, ``hostIdentifier``,
``calendarTime`` (``Mon Jan  8 14:51:55 2018 UTC``, day padded with a space),
``unixTime`` (an integer since osquery 3), ``epoch``, ``counter``, ``numerics``,
``decorations``, then ``columns`` and ``action``; a snapshot puts ``snapshot`` and
``action`` first. Column values are strings (``numerics`` false), every column of the
table present, ``""`` where the platform has no value, keys sorted as osquery's row
map sorts them. USB ids are 4 lower-case hex digits, as osquery formats them.

The decorations are the ones fleet managers configure: ``host_uuid`` and ``hostname``
(``SELECT uuid AS host_uuid, hostname FROM system_info``), plus ``hardware_serial`` and
``username`` when the caller names them.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

_NS = uuid.UUID("6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")


def calendar_time(ts: datetime) -> str:
    """osquery's ``calendarTime``: asctime in UTC with a ``UTC`` suffix."""
    t = _utc(ts)
    return t.strftime("%a %b ") + f"{t.day:2d}" + t.strftime(" %H:%M:%S %Y UTC")


def host_uuid(host: str) -> str:
    """A stable SMBIOS-style UUID for a host name (upper case, as macOS reports it)."""
    return str(uuid.uuid5(_NS, host)).upper()


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _decorations(host: str, hardware_serial: str | None, username: str | None) -> dict:
    dec = {"host_uuid": host_uuid(host), "hostname": host}
    if hardware_serial is not None:
        dec["hardware_serial"] = hardware_serial
    if username is not None:
        dec["username"] = username
    return dec


def _envelope(ts: datetime, host: str, query: str, decorations: dict) -> dict:
    t = _utc(ts)
    return {
        "name": query,
        "hostIdentifier": host,
        "calendarTime": calendar_time(t),
        "unixTime": int(t.timestamp()),
        "epoch": 0,
        "counter": 1,
        "numerics": False,
        "decorations": decorations,
    }


def _added(ts, host, query, row, hardware_serial, username) -> dict:
    rec = _envelope(ts, host, query, _decorations(host, hardware_serial, username))
    rec["columns"] = row
    rec["action"] = "added"
    return rec


# -- rows --------------------------------------------------------------------------


def usb_row(
    vendor_id: str,
    model_id: str,
    *,
    vendor: str = "",
    model: str = "",
    serial: str = "",
    usb_address: str = "1",
    usb_port: str = "2",
) -> dict:
    """One ``usb_devices`` row (osquery's Linux layout: udev's bus/device numbers)."""
    return {
        "class": "0",
        "model": model,
        "model_id": model_id,
        "protocol": "0",
        "removable": "1",
        "serial": serial,
        "subclass": "0",
        "usb_address": usb_address,
        "usb_port": usb_port,
        "vendor": vendor,
        "vendor_id": vendor_id,
        "version": "0100",
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower()) or "app"


def program_row(
    name: str, *, version: str = "", publisher: str = "", platform: str = "windows"
) -> dict:
    """One installed-application row: Windows ``programs``, macOS ``apps`` (``name`` is
    the bundle's file name, ``X.app``; ``publisher`` becomes the bundle identifier when
    it is one — reverse DNS — else ``com.<publisher>.<name>``) or Debian ``deb_packages``
    (``publisher`` as the package's maintainer)."""
    if platform == "windows":
        return {
            "identifying_number": "{" + str(uuid.uuid5(_NS, name + version)).upper() + "}",
            "install_date": "20260302",
            "install_location": f"C:\\Program Files\\{name}\\",
            "install_source": "",
            "language": "1033",
            "name": name,
            "publisher": publisher,
            "uninstall_string": f'"C:\\Program Files\\{name}\\uninstall.exe"',
            "upgrade_code": "",
            "version": version,
        }
    if platform == "darwin":
        bundle = name if name.endswith(".app") else name + ".app"
        stem = bundle[:-4]
        if "." in publisher and " " not in publisher:
            ident = publisher
        else:
            ident = f"com.{_slug(publisher or stem)}.{_slug(stem)}"
        return {
            "applescript_enabled": "0",
            "bundle_executable": stem,
            "bundle_identifier": ident,
            "bundle_name": stem,
            "bundle_package_type": "APPL",
            "bundle_short_version": version,
            "bundle_version": version,
            "category": "public.app-category.productivity",
            "compiler": "com.apple.compilers.llvm.clang.1_0",
            "copyright": "",
            "development_region": "en",
            "display_name": stem,
            "element": "",
            "environment": "",
            "info_string": "",
            "last_opened_time": "-1.0",
            "minimum_system_version": "11.0",
            "name": bundle,
            "path": f"/Applications/{bundle}",
        }
    if platform == "linux":
        return {
            "admindir": "/var/lib/dpkg",
            "arch": "amd64",
            "maintainer": publisher,
            "name": name,
            "priority": "optional",
            "revision": "",
            "section": "net",
            "size": "10240",
            "source": "",
            "status": "install ok installed",
            "version": version,
        }
    raise ValueError(f"platform must be windows, darwin or linux, not {platform!r}")


def system_info_row(
    host: str,
    hardware_serial: str,
    *,
    hardware_vendor: str = "Dell Inc.",
    hardware_model: str = "Latitude 7440",
    computer_name: str | None = None,
) -> dict:
    """One ``system_info`` row."""
    return {
        "board_model": "",
        "board_serial": "",
        "board_vendor": hardware_vendor,
        "board_version": "",
        "computer_name": computer_name if computer_name is not None else host,
        "cpu_brand": "13th Gen Intel(R) Core(TM) i7-1365U",
        "cpu_logical_cores": "12",
        "cpu_microcode": "0x4121",
        "cpu_physical_cores": "10",
        "cpu_sockets": "1",
        "cpu_subtype": "186",
        "cpu_type": "x86_64",
        "hardware_model": hardware_model,
        "hardware_serial": hardware_serial,
        "hardware_vendor": hardware_vendor,
        "hardware_version": "",
        "hostname": host,
        "local_hostname": host,
        "physical_memory": "34359738368",
        "uuid": host_uuid(host),
    }


# -- records -----------------------------------------------------------------------


def usb_added(
    ts: datetime,
    host: str,
    vendor_id: str,
    model_id: str,
    *,
    vendor: str = "",
    model: str = "",
    serial: str = "",
    hardware_serial: str | None = None,
    username: str | None = None,
) -> dict:
    """A differential ``added`` record of ``SELECT * FROM usb_devices``: the device
    appeared between two runs of the query (``serial`` is the USB device's own)."""
    row = usb_row(vendor_id, model_id, vendor=vendor, model=model, serial=serial)
    return _added(ts, host, "usb_devices", row, hardware_serial, username)


def program_added(
    ts: datetime,
    host: str,
    name: str,
    *,
    version: str = "",
    publisher: str = "",
    hardware_serial: str | None = None,
    username: str | None = None,
    platform: str = "windows",
) -> dict:
    """A differential ``added`` record of the platform's installed-software query
    (``programs``, ``apps`` or ``deb_packages``; see :func:`program_row`)."""
    row = program_row(name, version=version, publisher=publisher, platform=platform)
    query = {"windows": "programs", "darwin": "apps", "linux": "deb_packages"}[platform]
    return _added(ts, host, query, row, hardware_serial, username)


def snapshot(
    ts: datetime,
    host: str,
    query: str,
    rows: list[dict],
    *,
    hardware_serial: str | None = None,
    username: str | None = None,
) -> dict:
    """A snapshot record (a query scheduled with ``"snapshot": true``): every row of one
    run in ``snapshot``, ``action`` ``snapshot``."""
    rec = {"snapshot": list(rows), "action": "snapshot"}
    rec.update(_envelope(ts, host, query, _decorations(host, hardware_serial, username)))
    return rec


def jsonl(records: list[dict]) -> str:
    """The records as osqueryd writes its results log: compact JSON, one per line."""
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
