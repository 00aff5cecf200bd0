"""``devices`` — the corporate device inventory (OCSF Device Inventory Info, class 5001,
its ``device`` object flattened): each managed laptop or desktop, whom it is assigned
to, and when and from where it last checked in.

Rows come from MDM exports — Microsoft Intune (the portal's CSV export and Graph
``managedDevice`` JSON) and Jamf Pro (Advanced Search CSV and the
``/api/v1/computers-inventory`` JSON) — and from osquery's ``system_info`` snapshot.
Like the roster, an export is a snapshot: ``time`` is the device's last check-in (the
MDM's ``Last check-in`` / ``lastSyncDateTime`` / ``lastContactTime``), and a later
export adds a row per device rather than replacing one, so a device's check-in
history builds up export by export.

==================  ============================================================
column              meaning
==================  ============================================================
``time``            last check-in (UTC)
``source``          ``intune`` | ``jamf`` | ``osquery``
``device_uid``      the MDM's device id (Intune ``id``, Jamf computer id,
                    osquery ``host_identifier``)
``device_name``
``serial``          hardware serial number, upper case
``user``            identity key of the assigned / primary user
``os``              ``Windows`` | ``macOS`` | ``Linux`` …
``os_version``
``last_ip``         the public address the device last checked in from — of
                    Jamf's two, ``IP Address`` (``lastIpAddress``: what the Jamf
                    server saw) and ``Reported IP Address`` (``lastReportedIp``: the
                    Mac's own interface, usually a home LAN address), the one that
                    is public; NULL where the export has none (Intune)
``enrolled_time``   when the device enrolled in management
``ownership``       ``corporate`` | ``personal``
==================  ============================================================
"""

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("device_uid", pa.string()),
        pa.field("device_name", pa.string()),
        pa.field("serial", pa.string()),
        pa.field("user", pa.string()),
        pa.field("os", pa.string()),
        pa.field("os_version", pa.string()),
        pa.field("last_ip", pa.string()),
        pa.field("enrolled_time", pa.timestamp("us", tz="UTC")),
        pa.field("ownership", pa.string()),
        *PROVENANCE,
    ]
)
