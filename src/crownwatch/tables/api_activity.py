"""``api_activity`` — OCSF API Activity (class 6003): cloud control-plane and storage
data events (CloudTrail, S3 server access logs, GCS audit logs, Azure StorageBlobLogs)."""

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("cloud", pa.string()),  # aws | gcp | azure
        pa.field("account", pa.string()),  # the account/project/subscription that logged it
        pa.field("region", pa.string()),
        pa.field("api_service", pa.string()),  # s3.amazonaws.com, storage.googleapis.com…
        pa.field("api_operation", pa.string()),  # GetObject, PutBucketPolicy…
        pa.field("principal", pa.string()),  # ARN / email / object id of the caller
        pa.field("principal_type", pa.string()),
        pa.field("principal_account", pa.string()),  # account the caller belongs to
        pa.field("src_ip", pa.string()),
        pa.field("src_asn", pa.int64()),
        pa.field("src_country", pa.string()),
        pa.field("user_agent", pa.string()),
        pa.field("auth_method", pa.string()),  # AuthHeader, QueryString (presigned), SAS…
        pa.field("resource", pa.string()),  # canonical URL: s3://bucket/key, gs://…
        pa.field("bucket", pa.string()),
        pa.field("object_key", pa.string()),
        pa.field("bytes_out", pa.int64()),  # bytes sent to the caller
        pa.field("bytes_in", pa.int64()),
        pa.field("status", pa.string(), nullable=False),  # success | failure
        pa.field("error_code", pa.string()),
        pa.field("is_cross_account", pa.bool_()),
        pa.field("request_parameters", pa.string()),  # JSON text, verbatim
        # storage data events (S3 access logs, GCS, Azure Blob); NULL where not logged
        pa.field("object_size", pa.int64()),  # size of the whole object (bytes_out may be a range)
        pa.field("target_account", pa.string()),  # account a grant/replica/share points at
        pa.field("tls_version", pa.string()),
        *PROVENANCE,
    ]
)
