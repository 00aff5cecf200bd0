"""``quarantine`` — every input record that could not become a row, with the reason.

Ingest never drops a record silently: ``read = rows + quarantined`` per file.
``record`` keeps at most 4 KiB of the offending text so a responder can see it."""

import pyarrow as pa

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),  # when it was quarantined
        pa.field("source", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("record", pa.string()),
        pa.field("raw_source", pa.string(), nullable=False),
        pa.field("raw_offset", pa.int64()),
        pa.field("raw_id", pa.string()),
    ]
)

RECORD_LIMIT = 4096
