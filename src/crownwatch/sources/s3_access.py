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

Parsing is one ``regexp_extract`` per line in DuckDB into named groups; a line that
does not match the grammar is quarantined with its text.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader, _sql_str
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
    "host_id", "signature_version", "cipher_suite", "auth_type", "host_header",
    "tls_version", "access_point_arn", "acl_required", "source_region",
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
    return f"CASE WHEN m.{col} IN ('-', '') THEN NULL ELSE m.{col} END"


def parse(reader: Reader, path: Path) -> Parsed:
    con = reader.con
    stage = reader.name("s3acc")
    try:
        _stage(con, stage, reader.lines(path))
    except duckdb.Error:
        # the fast reader refused the file (odd bytes, truncated gzip): the slow one keeps every good line
        _stage(con, stage, reader.materialise_lines(path))
    arn_acct = r"'^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):'"
    ap_acct = r"'^arn:aws[a-z-]*:s3:[a-z0-9-]*:(\d{12}):'"
    key = "CASE WHEN m.key = '-' THEN NULL ELSE url_decode(m.key) END"
    rows = con.sql(
        f"""SELECT
            ts AS time, '{NAME}' AS source, 'aws' AS cloud,
            nullif(regexp_extract(coalesce(m.access_point_arn, ''), {ap_acct}, 1), '') AS account,
            coalesce(nullif(regexp_extract(coalesce(m.host_header, ''),
                         's3[.-](?:dualstack\\.)?([a-z]{{2}}(?:-[a-z]+)+-\\d)\\.amazonaws', 1), ''),
                     {_dash('source_region')}) AS region,
            's3.amazonaws.com' AS api_service,
            m.operation AS api_operation,
            CASE WHEN m.requester = '-' THEN 'anonymous' ELSE m.requester END AS principal,
            CASE WHEN m.requester = '-' THEN 'Anonymous'
                 WHEN m.requester LIKE 'arn:%:assumed-role/%' THEN 'AssumedRole'
                 WHEN m.requester LIKE 'arn:%:user/%' THEN 'IAMUser'
                 WHEN m.requester LIKE 'arn:%:root' THEN 'Root'
                 WHEN regexp_full_match(m.requester, '[0-9a-f]{{64}}') THEN 'CanonicalUser'
                 ELSE 'Unknown' END AS principal_type,
            nullif(regexp_extract(m.requester, {arn_acct}, 1), '') AS principal_account,
            {_dash('remote_ip')} AS src_ip,
            CASE WHEN m.user_agent IN ('', '-') THEN NULL ELSE m.user_agent END AS user_agent,
            {_dash('auth_type')} AS auth_method,
            's3://' || m.bucket || CASE WHEN m.key = '-' THEN '' ELSE '/' || url_decode(m.key) END AS resource,
            m.bucket AS bucket,
            {key} AS object_key,
            coalesce(try_cast(m.bytes_sent AS BIGINT), 0) AS bytes_out,
            try_cast(m.object_size AS BIGINT) AS object_size,
            CASE WHEN try_cast(m.http_status AS INTEGER) < 400 THEN 'success' ELSE 'failure' END AS status,
            {_dash('error_code')} AS error_code,
            CASE WHEN nullif(regexp_extract(coalesce(m.access_point_arn, ''), {ap_acct}, 1), '') IS NULL
                   OR nullif(regexp_extract(m.requester, {arn_acct}, 1), '') IS NULL THEN NULL
                 ELSE regexp_extract(m.access_point_arn, {ap_acct}, 1)
                      <> regexp_extract(m.requester, {arn_acct}, 1) END AS is_cross_account,
            json_object('request_uri', m.request_uri, 'http_status', m.http_status,
                        'version_id', {_dash('version_id')}, 'host_id', {_dash('host_id')},
                        'signature_version', {_dash('signature_version')},
                        'cipher_suite', {_dash('cipher_suite')}, 'host_header', {_dash('host_header')},
                        'access_point_arn', {_dash('access_point_arn')},
                        'total_time_ms', try_cast(m.total_time AS BIGINT),
                        'referer', CASE WHEN m.referer IN ('', '-') THEN NULL ELSE m.referer END)::VARCHAR AS request_parameters,
            {_dash('tls_version')} AS tls_version,
            m.request_id AS raw_id, raw_offset
        FROM {stage} WHERE _reject IS NULL"""
    )
    quarantine = con.sql(
        f"""SELECT now() AS time, '{NAME}' AS source, _reject AS reason, _record AS record,
                   {_sql_str(str(path))} AS raw_source, raw_offset,
                   nullif(m.request_id, '') AS raw_id
            FROM {stage} WHERE _reject IS NOT NULL"""
    )
    return Parsed(records=reader.count(stage), routed={"api_activity": rows}, quarantine=quarantine)


def _fast() -> str:
    """The same struct as the regex, from splitting on quotes then spaces: a record has
    exactly three quoted fields (Request-URI, Referer, User-Agent), so splitting on
    ``"`` gives 7 parts whenever no field holds an escaped quote — and those rare lines
    take the regex. An order of magnitude faster than one 27-group regex per line."""
    head = ["bucket_owner", "bucket", None, None, "remote_ip", "requester", "request_id", "operation", "key"]
    mid = ["http_status", "error_code", "bytes_sent", "object_size", "total_time", "turnaround"]
    fields = {}
    for i, name in enumerate(head, start=1):
        if name:
            fields[name] = f"a[{i}]"
    fields["time"] = "substr(a[3], 2) || ' ' || rtrim(a[4], ']')"
    fields["request_uri"] = "q[2]"
    fields["request_uri_dash"] = "''"
    for i, name in enumerate(mid, start=1):
        fields[name] = f"b[{i}]"
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
    names = "[" + ", ".join(f"'{g}'" for g in GROUPS) + "]"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {stage} AS
        WITH q AS (
            SELECT raw_offset, text, string_split(text, '"') AS q FROM {lines}
        ), s AS (
            SELECT raw_offset, text, q,
                   CASE WHEN len(q) = 7 THEN string_split(q[1], ' ') END AS a,
                   CASE WHEN len(q) = 7 THEN string_split(trim(q[3]), ' ') END AS b,
                   CASE WHEN len(q) = 7 THEN string_split(trim(q[7]), ' ') END AS c
            FROM q
        ), p AS (
            SELECT raw_offset, text,
                CASE WHEN len(a) = 10 AND a[10] = '' AND starts_with(a[3], '[') AND ends_with(a[4], ']')
                          AND len(b) = 6 AND trim(q[5]) = '' AND a[1] <> ''
                     THEN {FAST}
                     ELSE regexp_extract(text, '{PATTERN}', {names}) END AS m
            FROM s
        ), r AS (
            SELECT raw_offset, text, m,
                try_strptime(m.time, '%d/%b/%Y:%H:%M:%S %z') AS ts,
                CASE WHEN raw_offset < 0 THEN substr(text, 2)
                     WHEN m.bucket_owner = '' THEN 'not an S3 server access log record'
                     WHEN try_strptime(m.time, '%d/%b/%Y:%H:%M:%S %z') IS NULL THEN 'unparseable time'
                     WHEN m.http_status <> '-' AND try_cast(m.http_status AS INTEGER) IS NULL
                          THEN 'non-numeric HTTP status'
                END AS _reject
            FROM p
        )
        SELECT raw_offset, m, ts, _reject,
               CASE WHEN _reject IS NOT NULL THEN left(text, {RECORD_LIMIT}) END AS _record
        FROM r"""
    )
