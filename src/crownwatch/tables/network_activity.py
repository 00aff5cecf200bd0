"""``network_activity`` — OCSF Network Activity (class 4001): flow records."""

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("src_ip", pa.string()),
        pa.field("src_port", pa.int32()),
        pa.field("dst_ip", pa.string()),
        pa.field("dst_port", pa.int32()),
        pa.field("protocol", pa.string()),
        pa.field("bytes_out", pa.int64()),
        pa.field("bytes_in", pa.int64()),
        pa.field("action", pa.string()),
        *PROVENANCE,
    ]
)
