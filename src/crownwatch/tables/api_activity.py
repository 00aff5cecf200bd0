"""``api_activity`` — OCSF API Activity (class 6003): cloud control-plane and storage
data events (CloudTrail, S3 server access logs, GCS audit logs, Azure StorageBlobLogs)
and directory administration (Okta's admin and lifecycle events, Entra ID audit logs).

**Who acted, on whom.** ``principal`` is the caller as its log names it (an ARN, an
email, an Entra UPN or app name). Where the log names a *person* acting or acted on,
``actor_user`` / ``target_user`` hold that person's identity key — the rule of
:func:`crownwatch.tables.authentication.identity_key`, so they join
``authentication.user`` directly (an MFA factor registered for the account that was
just sprayed). Entra and Okta fill them; CloudTrail leaves them NULL: a role session's
name is a person only sometimes, and ``enrichment.identities`` links principals to
people with evidence instead.

**What changed.** ``modified_properties`` is JSON text, an array of
``{"target": i, "name": …, "old": …, "new": …}`` — ``target`` the 0-based index of the
target the property belongs to, the values verbatim as the vendor logged them (Entra
writes them JSON-encoded: ``"\\"Global Administrator\\""``). Text, not a list of
structs: only Entra logs before/after pairs (CloudTrail's request, which has no
"before", stays in ``request_parameters``; Okta's System Log names no old values), and
JSON text reads the same in every engine and Parquet reader. NULL when nothing was
listed.
"""

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("cloud", pa.string()),  # aws | gcp | azure | okta
        pa.field("account", pa.string()),  # account/project/subscription/tenant that logged it
        pa.field("region", pa.string()),
        pa.field("api_service", pa.string()),  # s3.amazonaws.com, Core Directory…
        pa.field("api_operation", pa.string()),  # GetObject, Add member to role…
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
        # directory administration (Entra audit logs, Okta); NULL where not logged
        pa.field("actor_user", pa.string()),  # identity key of the person who acted
        pa.field("target_user", pa.string()),  # identity key of the person acted on
        pa.field("target_type", pa.string()),  # User, ServicePrincipal, Application, Role…
        pa.field("target_id", pa.string()),  # the target's object id
        pa.field("status_detail", pa.string()),  # vendor message, verbatim (Entra resultReason)
        pa.field("correlation_id", pa.string()),  # ties one request's records together
        pa.field("modified_properties", pa.string()),  # JSON text, see above
        *PROVENANCE,
    ]
)
