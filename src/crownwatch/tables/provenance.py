"""Provenance columns that every normalised table ends with."""

import pyarrow as pa

FIELDS = [
    pa.field(
        "raw_source", pa.string(), nullable=False
    ),  # path of the input file, or archive!member
    pa.field("raw_offset", pa.int64()),  # line number (1-based) or record index (0-based)
    pa.field("raw_id", pa.string()),  # the vendor's own event id, when it has one
]
