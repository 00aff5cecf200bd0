"""The normalised tables of the lake, one module each.

Every table is OCSF-aligned where OCSF has a class (names flattened with ``_`` so
that every engine and every Parquet reader can see them without struct access),
and every row keeps ``raw_source`` (the file), ``raw_offset`` (1-based line number
for line formats, 0-based record index for documents) and ``raw_id`` (the vendor's
own event id) so that a finding can cite the exact log record behind it.
"""

from __future__ import annotations

import pyarrow as pa

from crownwatch.tables import (
    api_activity,
    authentication,
    device_items,
    devices,
    llm_request,
    network_activity,
    network_names,
    quarantine,
    repo_activity,
    workforce,
)

SCHEMAS: dict[str, pa.Schema] = {
    "authentication": authentication.SCHEMA,
    "api_activity": api_activity.SCHEMA,
    "network_activity": network_activity.SCHEMA,
    "network_names": network_names.SCHEMA,
    "llm_request": llm_request.SCHEMA,
    "repo_activity": repo_activity.SCHEMA,
    "workforce": workforce.SCHEMA,
    "devices": devices.SCHEMA,
    "device_items": device_items.SCHEMA,
    "quarantine": quarantine.SCHEMA,
}

TS = pa.timestamp("us", tz="UTC")

__all__ = ["SCHEMAS", "TS"]
