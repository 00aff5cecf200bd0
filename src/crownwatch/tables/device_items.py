"""``device_items`` — what is installed in and plugged into each device: applications
and USB devices, one row per item per inventory (OCSF Device Inventory Info's
``device.…`` software and peripheral lists, flattened to rows).

From Intune's discovered-apps and Graph ``detectedApps``, Jamf Pro's inventory
``applications`` (and its Advanced Search ``Applications`` column), and osquery's
``programs`` / ``apps`` / ``deb_packages`` / ``rpm_packages`` and ``usb_devices``
results (the scheduled-query results log: snapshot or differential ``added``
records).

==================  ============================================================
column              meaning
==================  ============================================================
``time``            the inventory's time (check-in, or the query's
                    ``unixTime``) (UTC)
``source``          ``intune`` | ``jamf`` | ``osquery``
``device_uid``      as in ``devices``
``device_name``
``serial``
``user``            identity key of the device's user, when the record names one
``item_type``       ``application`` | ``usb_device``
``name``            application name, or the USB device's product string
``version``         application version
``publisher``       application publisher / bundle id; USB vendor string
``vendor_id``       USB vendor id, 4 lower-case hex digits (``1d6b``)
``product_id``      USB product id, 4 lower-case hex digits (``0104``)
``path``            install path, where given
==================  ============================================================
"""

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

ITEM_TYPES = ("application", "usb_device")

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("device_uid", pa.string()),
        pa.field("device_name", pa.string()),
        pa.field("serial", pa.string()),
        pa.field("user", pa.string()),
        pa.field("item_type", pa.string()),
        pa.field("name", pa.string()),
        pa.field("version", pa.string()),
        pa.field("publisher", pa.string()),
        pa.field("vendor_id", pa.string()),
        pa.field("product_id", pa.string()),
        pa.field("path", pa.string()),
        *PROVENANCE,
    ]
)
