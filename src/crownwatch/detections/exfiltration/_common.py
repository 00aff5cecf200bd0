"""Building blocks the exfiltration detections share (Ibis expressions, both engines).

Operation names stay as each vendor logged them (``GetObject`` in CloudTrail,
``REST.GET.OBJECT`` in S3 server access logs, ``storage.objects.get`` in GCS audit
logs, ``GetBlob`` in Azure), so the sets below list every spelling once.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import Registry, expected_reader, registry_for, tag_assets
from crownwatch.detections._time import day_number
from crownwatch.detections.contract import Params, Tables, shared
from crownwatch.detections.identity._common import raw_ref

READ_OPS = (
    "GetObject",
    "SelectObjectContent",
    "GetObjectTorrent",
    "REST.GET.OBJECT",
    "REST.COPY.OBJECT_GET",
    "REST.COPY.PART_GET",
    "REST.POST.SELECT",
    "storage.objects.get",
    "GetBlob",
    "CopyBlobSource",
    "ReadFile",
)
COPY_OPS = (
    "CopyObject",
    "UploadPartCopy",
    "REST.COPY.OBJECT",
    "REST.COPY.PART",
    "storage.objects.rewrite",
    "storage.objects.copy",
    "storage.objects.compose",
    "CopyBlob",
    "CopyBlobDestination",
    "PutBlobFromURL",
    "StartCopyBlob",
    "SyncCopyBlob",
)
DELETE_OPS = (
    "DeleteObject",
    "DeleteObjects",
    "DeleteBucket",
    "DeleteObjectVersion",
    "REST.DELETE.OBJECT",
    "REST.DELETE.BUCKET",
    "REST.POST.MULTI_OBJECT_DELETE",
    "BATCH.DELETE.OBJECT",
    "storage.objects.delete",
    "storage.buckets.delete",
    "DeleteBlob",
    "DeleteContainer",
    "DeleteFile",
    "DeleteDirectory",
)
# Authentication that travels in the URL: whoever holds the link is the caller.
PRESIGNED_AUTH = (
    "QueryString",
    "SAS",
    "DelegationSas",
    "UserDelegationSas",
    "ServiceSas",
    "AccountSas",
)

AI_ATTACK = ("T1530", "AML.T0048.004")
NON_AI_ATTACK = ("T1530",)


def registry(t: Tables, p: Params) -> Registry:
    return registry_for(t, p)


def principal_key(t: ibis.Table) -> ibis.Value:
    """The principal a baseline belongs to.

    AWS role sessions named after a person (``…/assumed-role/Role/alice@corp``) stay
    per person; machine sessions (``…/assumed-role/nightly-train/i-0abc…``,
    ``botocore-session-17…``) collapse to the role, whose rhythm is what repeats."""
    pr = t.principal.fill_null("unknown")
    role = pr.re_extract(r"^(arn:aws[a-z-]*:sts::\d+:assumed-role/[^/]+)/", 1)
    session = pr.re_extract(r"^arn:aws[a-z-]*:sts::\d+:assumed-role/[^/]+/(.*)$", 1)
    return ibis.ifelse((role != "") & ~session.contains("@"), role, pr)


def peer_group(t: ibis.Table) -> ibis.Value:
    """Who a principal is compared with: the people in the same role, the same kind of
    identity in the same place.

    * AWS role session → the role name (``role:AWSReservedSSO_Researcher_…``)
    * IAM user → ``iam-user:<account>``
    * GCP service account → ``gcp-sa:<project>``; a person's e-mail → ``user:<domain>``
    * Azure object id without UPN → ``azure-oauth``; SAS/anonymous → the auth method
    """
    pr = t.principal.fill_null("unknown").lower()
    role = pr.re_extract(r"^arn:aws[a-z-]*:sts::\d+:assumed-role/([^/]+)", 1)
    iam_acct = pr.re_extract(r"^arn:aws[a-z-]*:iam::(\d+):user/", 1)
    sa_proj = pr.re_extract(r"@([^@]+)\.iam\.gserviceaccount\.com$", 1)
    domain = pr.re_extract(r"^[^@]+@([^@]+)$", 1)
    return ibis.cases(
        (role != "", ibis.literal("role:").concat(role)),
        (iam_acct != "", ibis.literal("iam-user:").concat(iam_acct)),
        (sa_proj != "", ibis.literal("gcp-sa:").concat(sa_proj)),
        (domain != "", ibis.literal("user:").concat(domain)),
        (pr.re_search(r"^[0-9a-f]{8}-[0-9a-f]{4}-"), ibis.literal("azure-oauth")),
        else_=ibis.literal("other"),
    )


def with_principal_keys(t: ibis.Table) -> ibis.Table:
    """``t`` with ``pkey`` and ``peer`` — the regexes run once per distinct principal
    (a small table), not once per event, then join back."""
    names = t.select(principal=t.principal.fill_null("unknown")).distinct()
    names = names.mutate(pkey=principal_key(names), peer=peer_group(names))
    t = t.mutate(_pn=t.principal.fill_null("unknown"))
    return t.join(names, t._pn == names.principal).drop("_pn", "principal_right")


# The api_activity columns the crown-jewel detections read; the wide ones they never
# touch (request_parameters, region, tls_version…) stay in the lake.
JEWEL_COLUMNS = (
    "time",
    "source",
    "cloud",
    "account",
    "api_operation",
    "principal",
    "principal_account",
    "src_ip",
    "src_asn",
    "src_country",
    "user_agent",
    "auth_method",
    "resource",
    "bucket",
    "object_key",
    "bytes_out",
    "status",
    "is_cross_account",
    "target_account",
    "raw_source",
    "raw_offset",
    "raw_id",
)


def jewel_events(t: Tables, p: Params) -> tuple[ibis.Table, Registry]:
    """api_activity rows that touch a crown jewel, tagged with the asset (``asset``,
    ``asset_kind``, ``asset_sensitivity``, ``expected_reader``) and keyed for baselines
    (``pkey``, ``peer``, ``day``) — see :func:`jewel_activity`."""
    reg = registry(t, p)
    return jewel_activity(t, reg), reg


def jewel_activity(t: Tables, reg: Registry) -> ibis.Table:
    """:func:`_jewel_activity` of this run's api_activity, computed once per run and
    shared by every exfiltration detection (the asset match is the expensive part of
    each of them, and the same for all)."""
    key = reg.model_dump_json()
    return shared(
        "exfiltration.jewel_activity:" + key,
        lambda: _jewel_activity(t.api_activity, reg, key),
        on_disk=True,  # a row per crown-jewel event: 10 GB resident at 10M, 257 MB as Parquet
    )


def _jewel_activity(api: ibis.Table, reg: Registry, key: str) -> ibis.Table:
    """The crown-jewel rows of ``api`` with their tags and keys.

    The asset ``CASE`` runs once per row and the rows off the registry leave at once;
    the regexes (expected readers, principal key, peer group) run once per distinct
    (principal, asset) pair — a small table — and join back.

    The pairs are computed on their own (``shared``), by a second scan of the tagged
    rows, so that the rows are used once in the statement that keeps them. Used twice,
    DuckDB materialises them as a common table expression: 10M rows at 10M events,
    which under the default memory bound spilled 5 GB and took 16 s against 10 s
    unbounded."""
    a = _tagged(api, reg)
    pairs = shared("exfiltration.jewel_pairs:" + key, lambda: _pairs(_tagged(api, reg), reg))
    j = a.join(pairs, [a._pn == pairs.q_pn, a._pnull == pairs.q_pnull, a.asset == pairs.q_asset])
    return j.drop("_pn", "_pnull", "q_pn", "q_pnull", "q_asset")


def _tagged(api: ibis.Table, reg: Registry) -> ibis.Table:
    a = tag_assets(api.select(*JEWEL_COLUMNS), reg, readers=False)
    a = a.filter(a.asset.notnull())
    return a.mutate(
        _pn=a.principal.fill_null("unknown"), _pnull=a.principal.isnull(), day=day_number(a.time)
    )


def _pairs(a: ibis.Table, reg: Registry) -> ibis.Table:
    pairs = a.select("principal", "asset", "_pn", "_pnull").distinct()
    return pairs.select(
        q_pn=pairs._pn,
        q_pnull=pairs._pnull,
        q_asset=pairs.asset,
        expected_reader=expected_reader(pairs, reg),
        pkey=principal_key(pairs),
        peer=peer_group(pairs),
    )


def empty_lists(rows: list[dict], cols: tuple[str, ...]) -> list[dict]:
    """``collect()`` over no non-NULL value is NULL on DuckDB and ``[]`` on Spark; the
    evidence says ``[]`` on both (a detection's ``postprocess`` calls this)."""
    for r in rows:
        for c in cols:
            if r.get(c) is None:
                r[c] = []
    return rows


def order_stat(t: ibis.Table, keys: list[str], value: str, pct: int, name: str) -> ibis.Table:
    """Per ``keys`` group, the value at the ``pct``-th percentile by rank (nearest-rank,
    lower median for 50) and the group size ``<name>_n``.

    Exact and identical on every engine — approximate percentiles (Spark's
    ``percentile_approx``) would make DuckDB and Spark findings disagree."""
    w = ibis.window(group_by=[t[k] for k in keys], order_by=[t[value]])
    wn = ibis.window(group_by=[t[k] for k in keys])
    r = t.mutate(_rn=ibis.row_number().over(w), _n=t[value].count().over(wn))
    # nearest rank: ceil(pct/100 * n), 1-based; row_number() is 0-based
    target = ((r._n * pct + 99) / 100).floor().cast("int64") - 1
    target = ibis.greatest(target, 0) if pct != 50 else ((r._n - 1) / 2).floor().cast("int64")
    r = r.filter(r._rn == target)
    return r.select(*[r[k] for k in keys], **{name: r[value], f"{name}_n": r._n})


__all__ = [
    "AI_ATTACK",
    "COPY_OPS",
    "DELETE_OPS",
    "NON_AI_ATTACK",
    "PRESIGNED_AUTH",
    "READ_OPS",
    "JEWEL_COLUMNS",
    "empty_lists",
    "jewel_activity",
    "jewel_events",
    "with_principal_keys",
    "order_stat",
    "peer_group",
    "principal_key",
    "raw_ref",
    "registry",
]
