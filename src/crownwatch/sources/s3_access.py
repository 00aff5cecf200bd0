"""Amazon S3 server access logs — the space-separated text records S3 delivers to a
logging bucket (``<prefix>YYYY-mm-DD-HH-MM-SS-<UniqueString>``), one request a line::

    79a59df9…ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3
    79a59df9…ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1"
    200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrF…1234= SigV4 ECDHE-RSA-AES128-GCM-SHA256
    AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2
    arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes us-east-1

Fields, in AWS's order (https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html):
bucket owner, bucket, [time], remote IP, requester, request ID, operation, key,
"Request-URI", HTTP status, error code, bytes sent, object size, total time,
turn-around time, "referer", "user-agent", version id, host id, signature version,
cipher suite, authentication type, host header, TLS version, access point ARN,
ACL required, source region. Older records stop after the version id or the host id;
AWS says new fields are only ever appended, so anything after the known ones is
ignored, not rejected. Any field may be ``-``.

Mapping: ``requester`` (an IAM ARN, a canonical user id, or ``-`` for anonymous —
logged as ``anonymous``) → ``principal``; the account inside an ARN →
``principal_account``; ``bytes sent`` → ``bytes_out`` (``-`` means zero);
``object size`` → ``object_size``; authentication type ``QueryString`` means a
presigned URL, ``AuthHeader`` a signed request → ``auth_method`` verbatim; the
operation (``REST.GET.OBJECT``…) is kept verbatim in ``api_operation``. The key is
URL-encoded in the log and decoded into ``resource`` = ``s3://bucket/key``.
``is_cross_account`` is set when the access point ARN names the bucket's account and
the requester's ARN another one; otherwise the registry's ``own_accounts`` decide at
detection time.

Parsing happens in DuckDB in one pass per file (:func:`_stage`): each line is split
once on quotes and then spaces (the 27-group grammar regex only for the rare line whose
quoted fields hold escaped quotes), every derived value (time, the two ARN accounts, the
decoded key, the region) is computed once, and the finished api_activity columns are
kept beside the line's fate; a line that does not fit the grammar is quarantined with
its text. Log values are only ever column data, never SQL text.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader, _sql_str
from crownwatch.sources.sql_text import trim_spaces
from crownwatch.tables.quarantine import RECORD_LIMIT

NAME = "s3_access"

_Q = r'"((?:[^"\\]|\\.)*)"'  # a quoted field, backslash escapes allowed
_QD = r'(?:"((?:[^"\\]|\\.)*)"|(-))'  # quoted, or a bare "-"

# (group name, pattern) in log order; the first 18 are always present.
_FIELDS = [
    ("bucket_owner", r"(\S+)"),
    ("bucket", r"(\S+)"),
    ("time", r"\[([^\]]+)\]"),
    ("remote_ip", r"(\S+)"),
    ("requester", r"(\S+)"),
    ("request_id", r"(\S+)"),
    ("operation", r"(\S+)"),
    ("key", r"(\S+)"),
    ("request_uri", _QD),
    ("http_status", r"(\S+)"),
    ("error_code", r"(\S+)"),
    ("bytes_sent", r"(\S+)"),
    ("object_size", r"(\S+)"),
    ("total_time", r"(\S+)"),
    ("turnaround", r"(\S+)"),
    ("referer", _QD),
    ("user_agent", _QD),
    ("version_id", r"(\S+)"),
]
_OPTIONAL = [
    "host_id",
    "signature_version",
    "cipher_suite",
    "auth_type",
    "host_header",
    "tls_version",
    "access_point_arn",
    "acl_required",
    "source_region",
]


def _pattern() -> tuple[str, list[str]]:
    names: list[str] = []
    parts: list[str] = []
    for name, pat in _FIELDS:
        parts.append(pat)
        if pat == _QD:
            names += [name, name + "_dash"]
        else:
            names.append(name)
    head = " ".join(parts)
    # optional trailing fields nest, so each one needs the one before it
    tail = ""
    for _ in _OPTIONAL:
        tail = r"(?: (\S+)" + tail + ")?"
    names += _OPTIONAL
    return "^" + head + tail + r"(?: .*)?$", names


PATTERN, GROUPS = _pattern()

_SNIFF = re.compile(
    r"^\S+ \S+ \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] \S+ \S+ \S+ "
    r"(?:REST|SOAP|WEBSITE|BATCH|S3)\.[A-Z_.]+ "
)


def sniff(head: str) -> bool:
    first = head.lstrip("\ufeff").split("\n", 1)[0]
    return bool(_SNIFF.match(first))


def _dash(col: str) -> str:
    """A field as logged, NULL where S3 wrote ``-`` (not logged) or nothing."""
    return f"CASE WHEN m.{col} IN ('-', '') THEN NULL ELSE m.{col} END"


# The account inside the requester's IAM/STS ARN and inside the access point ARN.
_ARN_ACCT = r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):"
_AP_ACCT = r"^arn:aws[a-z-]*:s3:[a-z0-9-]*:(\d{12}):"
_REGION = r"s3[.-](?:dualstack\.)?([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws"

# request_parameters: the logged fields api_activity has no column for.
_PARAMS = f"""json_object('request_uri', m.request_uri, 'http_status', m.http_status,
        'version_id', {_dash("version_id")}, 'host_id', {_dash("host_id")},
        'signature_version', {_dash("signature_version")},
        'cipher_suite', {_dash("cipher_suite")}, 'host_header', host,
        'access_point_arn', ap_arn,
        'total_time_ms', try_cast(m.total_time AS BIGINT),
        'referer', CASE WHEN m.referer IN ('', '-') THEN NULL ELSE m.referer END)::VARCHAR"""


# Normalised api_activity columns, each computed once per line in the stage from the
# split fields (m) and the values derived from them (f): no regex runs twice.
_COLUMNS = f"""
    ts AS time,
    ap_acct AS account,
    coalesce(nullif(regexp_extract(host, '{_REGION}', 1), ''), {_dash("source_region")}) AS region,
    m.operation AS api_operation,
    CASE WHEN m.requester = '-' THEN 'anonymous' ELSE m.requester END AS principal,
    CASE WHEN m.requester = '-' THEN 'Anonymous'
         WHEN m.requester LIKE 'arn:%:assumed-role/%' THEN 'AssumedRole'
         WHEN m.requester LIKE 'arn:%:user/%' THEN 'IAMUser'
         WHEN m.requester LIKE 'arn:%:root' THEN 'Root'
         WHEN strlen(m.requester) = 64 AND regexp_full_match(m.requester, '[0-9a-f]{{64}}') THEN 'CanonicalUser'
         ELSE 'Unknown' END AS principal_type,
    p_acct AS principal_account,
    {_dash("remote_ip")} AS src_ip,
    CASE WHEN m.user_agent IN ('', '-') THEN NULL ELSE m.user_agent END AS user_agent,
    {_dash("auth_type")} AS auth_method,
    CASE WHEN okey IS NULL THEN 's3://' || m.bucket ELSE 's3://' || m.bucket || '/' || okey END AS resource,
    m.bucket AS bucket,
    okey AS object_key,
    coalesce(try_cast(m.bytes_sent AS BIGINT), 0) AS bytes_out,
    try_cast(m.object_size AS BIGINT) AS object_size,
    CASE WHEN try_cast(m.http_status AS INTEGER) < 400 THEN 'success' ELSE 'failure' END AS status,
    {_dash("error_code")} AS error_code,
    CASE WHEN ap_acct IS NULL OR p_acct IS NULL THEN NULL ELSE ap_acct <> p_acct END AS is_cross_account,
    {_PARAMS} AS request_parameters,
    {_dash("tls_version")} AS tls_version,
    m.request_id AS raw_id"""

OUT_COLUMNS = [
    "time",
    "account",
    "region",
    "api_operation",
    "principal",
    "principal_type",
    "principal_account",
    "src_ip",
    "user_agent",
    "auth_method",
    "resource",
    "bucket",
    "object_key",
    "bytes_out",
    "object_size",
    "status",
    "error_code",
    "is_cross_account",
    "request_parameters",
    "tls_version",
    "raw_id",
    "raw_offset",
]


def parse(reader: Reader, path: Path) -> Parsed:
    con = reader.con
    stage = reader.name("s3acc")
    try:
        _stage(con, stage, reader.lines(path))
    except duckdb.Error:
        # the fast reader refused the file (odd bytes, truncated gzip): the slow one keeps every good line
        _stage(con, stage, reader.materialise_lines(path))
    rows = con.sql(
        f"""SELECT '{NAME}' AS source, 'aws' AS cloud, 's3.amazonaws.com' AS api_service,
                   {", ".join(OUT_COLUMNS)}
            FROM {stage} WHERE _reject IS NULL"""
    )
    quarantine = con.sql(
        f"""SELECT now() AS time, '{NAME}' AS source, _reject AS reason, _record AS record,
                   {_sql_str(str(path))} AS raw_source, raw_offset, nullif(raw_id, '') AS raw_id
            FROM {stage} WHERE _reject IS NOT NULL"""
    )
    return Parsed(records=reader.count(stage), routed={"api_activity": rows}, quarantine=quarantine)


def _fast() -> str:
    """The same struct as the regex, from splitting on quotes then spaces: a record has
    exactly three quoted fields (Request-URI, Referer, User-Agent), so splitting on
    ``"`` gives 7 parts whenever no field holds an escaped quote — and those rare lines
    take the regex. An order of magnitude faster than one 27-group regex per line."""
    head = [
        "bucket_owner",
        "bucket",
        None,
        None,
        "remote_ip",
        "requester",
        "request_id",
        "operation",
        "key",
    ]
    mid = ["http_status", "error_code", "bytes_sent", "object_size", "total_time", "turnaround"]
    fields = {}
    for i, name in enumerate(head, start=1):
        if name:
            fields[name] = f"a[{i}]"
    fields["time"] = "substr(a[3], 2) || ' ' || rtrim(a[4], ']')"
    fields["request_uri"] = "q[2]"
    fields["request_uri_dash"] = "''"
    for i, name in enumerate(mid, start=1):
        fields[name] = f"b[{i + 1}]"
    fields["referer"] = "q[4]"
    fields["referer_dash"] = "''"
    fields["user_agent"] = "q[6]"
    fields["user_agent_dash"] = "''"
    fields["version_id"] = "coalesce(c[1], '')"
    for i, name in enumerate(_OPTIONAL, start=2):
        fields[name] = f"coalesce(c[{i}], '')"
    assert list(fields) == GROUPS or sorted(fields) == sorted(GROUPS), (list(fields), GROUPS)
    return "struct_pack(" + ", ".join(f"{g} := {fields[g]}" for g in GROUPS) + ")"


FAST = _fast()


def _stage(con, stage: str, lines: str) -> None:
    """One pass over the lines: split each once (quotes, then spaces; the regex only
    for lines the split cannot take), derive each value once, decide the line's fate,
    and keep the finished api_activity columns — the routed SELECT only filters."""
    names = "[" + ", ".join(f"'{g}'" for g in GROUPS) + "]"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {stage} AS
        WITH q AS (
            SELECT raw_offset, text, string_split(text, '"') AS q FROM {lines}
        ), s AS (
            SELECT raw_offset, text, q,
                   CASE WHEN len(q) = 7 THEN string_split(q[1], ' ') END AS a,
                   CASE WHEN len(q) = 7 THEN string_split(q[3], ' ') END AS b,
                   CASE WHEN len(q) = 7 THEN string_split({trim_spaces("q[7]")}, ' ') END AS c
            FROM q
        ), p AS (
            SELECT raw_offset, text,
                CASE WHEN len(a) = 10 AND a[10] = '' AND starts_with(a[3], '[') AND ends_with(a[4], ']')
                          AND len(b) = 8 AND b[1] = '' AND b[8] = '' AND q[5] = ' ' AND a[1] <> ''
                     THEN {FAST}
                     ELSE regexp_extract(text, '{PATTERN}', {names}) END AS m
            FROM s
        ), f AS (
            SELECT raw_offset, text, m,
                try_strptime(m.time, '%d/%b/%Y:%H:%M:%S %z') AS ts,
                CASE WHEN starts_with(m.requester, 'arn:')
                     THEN nullif(regexp_extract(m.requester, '{_ARN_ACCT}', 1), '') END AS p_acct,
                CASE WHEN m.access_point_arn IN ('-', '') THEN NULL ELSE m.access_point_arn END AS ap_arn,
                CASE WHEN m.key = '-' THEN NULL WHEN contains(m.key, '%') THEN url_decode(m.key)
                     ELSE m.key END AS okey,
                CASE WHEN m.host_header IN ('-', '') THEN NULL ELSE m.host_header END AS host
            FROM p
        ), r AS (
            SELECT *,
                CASE WHEN starts_with(ap_arn, 'arn:')
                     THEN nullif(regexp_extract(ap_arn, '{_AP_ACCT}', 1), '') END AS ap_acct,
                CASE WHEN raw_offset < 0 THEN substr(text, 2)
                     WHEN m.bucket_owner = '' THEN 'not an S3 server access log record'
                     WHEN ts IS NULL THEN 'unparseable time'
                     WHEN m.http_status <> '-' AND try_cast(m.http_status AS INTEGER) IS NULL
                          THEN 'non-numeric HTTP status'
                END AS _reject
            FROM f
        )
        SELECT raw_offset, _reject,
               CASE WHEN _reject IS NOT NULL THEN left(text, {RECORD_LIMIT}) END AS _record,
               {_COLUMNS}
        FROM r"""
    )
