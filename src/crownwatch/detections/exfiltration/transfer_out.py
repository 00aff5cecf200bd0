"""Staging and transfer out of crown jewels to somebody else's account
(ATT&CK T1537 Transfer Data to Cloud Account, T1567 Exfiltration Over Web Service).

**What it looks for.** The quiet ways data leaves a cloud estate without a download:

* ``replication_out`` — ``PutBucketReplication`` whose destination is an account not in
  ``[organisation] own_accounts``;
* ``grant_foreign`` / ``grant_public`` — a bucket policy, bucket/object ACL or GCS IAM
  change (``PutBucketPolicy``, ``PutBucketAcl``, ``PutObjectAcl``,
  ``storage.setIamPermissions``) granting a foreign account, ``*``, ``AllUsers`` /
  ``AuthenticatedUsers`` or ``allUsers`` / ``allAuthenticatedUsers``;
* ``share_snapshot`` / ``share_image`` — ``ModifySnapshotAttribute``
  (``createVolumePermission``), ``ModifyImageAttribute`` (``launchPermission``) or
  ``ModifyDBSnapshotAttribute`` adding a foreign account or ``all``: a disk of the
  training cluster handed to another account is the whole dataset in one call;
* ``copy_out`` — a crown-jewel object copied into a foreign account (Azure ``CopyBlob``
  to a storage account not ours; S3 ``CopyObject`` recorded in a foreign account), or read
  by a principal of a foreign account;
* ``presigned_burst`` — ``presigned_burst`` or more presigned-URL / SAS reads of a crown
  jewel by one principal within one hour: links minted in bulk to hand the data over.

Where a policy names a bucket that holds a registered asset the finding is ``critical``.

**How.** Foreign accounts are found in the request parameters *in the engine*: our own
account ids (and the account the event was logged in) are removed from the JSON text and
what remains is searched for a 12-digit account in a principal / ``userId`` /
``Account`` position. No own accounts configured → only the logging account is ours.

**False positives and how they are handled.**

* The owner's replica to the DR account: the DR account is in ``own_accounts`` — quiet.
* Vendor access granted on purpose (a labelling contractor's account): add it to
  ``own_accounts`` — that is a decision someone should write down.
* CDN origins that need public reads of a website bucket: the bucket holds no crown
  jewel, so the finding is ``medium``, not ``critical``; disable per bucket with
  ``exclude_buckets``.

Compared with Elastic's "AWS EC2 Snapshot Shared with Another Account" / "AWS S3 Bucket
Replicated to Another Account" and Sentinel's "Changes to AWS S3 bucket policy", which
fire on every such call, the own-accounts list removes the replica-to-DR noise without
turning the rule off.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import bucket_assets
from crownwatch.detections._evidence import entities, samples, with_ref_samples
from crownwatch.detections._time import hour_number
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import (
    COPY_OPS,
    PRESIGNED_AUTH,
    READ_OPS,
    empty_lists,
    jewel_activity,
    principal_key,
    raw_ref,
    registry,
)

META = Meta(
    id="exfiltration.transfer_out",
    title="Crown jewels staged or transferred to another account",
    severity="high",
    attack=("T1537", "T1567"),
    tables=("api_activity",),
    description=(
        "Replication, grants, snapshot/image shares or copies to an account that is not "
        "ours, and bursts of presigned URLs on crown jewels."
    ),
    false_positives="Replicas to own accounts (own_accounts); sanctioned public website buckets (exclude_buckets).",
    references=(
        "https://attack.mitre.org/techniques/T1537/",
        "https://attack.mitre.org/techniques/T1567/",
        "https://www.elastic.co/guide/en/security/current/aws-ec2-snapshot-shared-with-another-account.html",
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html",
    ),
    params={
        "presigned_burst": 50,
        "exclude_buckets": [],
    },
    runbook=(
        (
            "Undo the change: delete the replication rule, remove the grant from the policy or "
            "ACL (and turn on Block Public Access), or take the account off the snapshot or image"
            " share."
        ),
        (
            "Identify the target account: ours or a sanctioned partner goes in [organisation] "
            "own_accounts; otherwise report it to the cloud provider."
        ),
        "Revoke the credentials of the principal that made the change and review its other calls.",
    ),
)

GRANT_OPS = (
    "PutBucketPolicy",
    "PutBucketAcl",
    "PutObjectAcl",
    "PutAccessPointPolicy",
    "storage.setIamPermissions",
    "storage.buckets.setIamPolicy",
    "SetContainerACL",
)
SHARE_OPS = {
    "ModifySnapshotAttribute": "share_snapshot",
    "ModifyImageAttribute": "share_image",
    "ModifyDBSnapshotAttribute": "share_snapshot",
    "ModifyDBClusterSnapshotAttribute": "share_snapshot",
}
REPLICATION_OPS = ("PutBucketReplication",)

_PUBLIC = (
    r'"Principal"\s*:\s*"\*"|"AWS"\s*:\s*"\*"|"AWS"\s*:\s*\[\s*"\*"|global/AllUsers|global/AuthenticatedUsers'
    r'|"group"\s*:\s*"all"|"valuesToAdd"\s*:\s*\[[^\]]*"all"|allUsers|allAuthenticatedUsers'
)
_FOREIGN = (
    r'(?:arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:|"(?:userId|Account|AWS|accountId|UserId)"\s*:\s*\[?\s*"'
    r'|"valuesToAdd"\s*:\s*\[[^\]]*")(\d{12})'
)


def _foreign_account(t: ibis.Table, own: list[str]) -> ibis.Value:
    text = t.request_parameters.fill_null("")
    for acct in own:
        text = text.replace(acct, "")
    text = text.replace(t.account.fill_null("#none#"), "")
    return text.re_extract(_FOREIGN, 1).nullif("")


def _summary(ev: ibis.Table) -> dict[str, ibis.Value]:
    """One finding's evidence from its events (a transfer out, or an hour of presigned
    URLs): the lists collected distinct, cut to what the finding keeps in the select
    (the references: :func:`with_ref_samples`, beside it)."""
    return dict(
        first_seen=ev.time.min(),
        last_seen=ev.time.max(),
        events=ev.count(),
        operations=ev.api_operation.collect(distinct=True),
        resources=ev.resource.collect(distinct=True),
        assets=ev.asset.collect(distinct=True),
        principals=ev.principal.collect(distinct=True),
        accounts=ev.account.collect(distinct=True),
        src_ips=ev.src_ip.collect(distinct=True),
        user_agents=ev.user_agent.collect(distinct=True),
        bytes=ev.bytes_out.fill_null(0).sum(),
        objects=ev.object_key.nunique(),
        jewel_events=ev.asset.count(),
    )


def query(t: Tables, p: Params) -> ibis.Table:
    reg = registry(t, p)
    own = list(reg.organisation.own_accounts)
    a = t.api_activity.filter(t.api_activity.status == "success")
    if p.exclude_buckets:
        a = a.filter(~a.bucket.fill_null("").isin(list(p.exclude_buckets)))

    # -- control-plane changes: replication, grants, shares ----------------------------
    ops = list(GRANT_OPS) + list(SHARE_OPS) + list(REPLICATION_OPS)
    cp = a.filter(a.api_operation.isin(ops))
    cp = bucket_assets(cp, reg).mutate(
        foreign=ibis.coalesce(
            ibis.ifelse(
                cp.target_account.isin(own) | (cp.target_account == cp.account),
                ibis.null("string"),
                cp.target_account,
            ),
            _foreign_account(cp, own),
        ),
        public=cp.request_parameters.fill_null("").re_search(_PUBLIC),
    )
    share = ibis.cases(
        *[(cp.api_operation == op, kind) for op, kind in SHARE_OPS.items()], else_=None
    )
    kind = ibis.cases(
        (cp.api_operation.isin(list(REPLICATION_OPS)), "replication_out"),
        (share.notnull() & cp.public, share.concat("_public")),
        (share.notnull(), share),
        (cp.public, "grant_public"),
        else_="grant_foreign",
    )
    cp = cp.filter(cp.foreign.notnull() | cp.public).mutate(
        kind=kind, target=ibis.coalesce(cp.foreign, ibis.literal("public"))
    )

    # -- data plane: copies into / reads by foreign accounts ----------------------------
    jw = jewel_activity(t, reg)
    jw = jw.filter(jw.status == "success")
    if p.exclude_buckets:
        jw = jw.filter(~jw.bucket.fill_null("").isin(list(p.exclude_buckets)))
    dp = jw.filter(jw.api_operation.isin(READ_OPS + COPY_OPS))
    # Azure logs the caller's *tenant* there, not a subscription: not comparable
    foreign_reader = (
        (dp.cloud != "azure")
        & dp.principal_account.notnull()
        & ~dp.principal_account.isin(own)
        & (dp.principal_account != dp.account.fill_null(""))
    )
    if not own:
        foreign_reader = dp.is_cross_account.fill_null(False)
    foreign_dest = dp.target_account.notnull() & ~dp.target_account.isin(own)
    copy_acct_foreign = (
        dp.api_operation.isin(list(COPY_OPS)) & dp.account.notnull() & ~dp.account.isin(own)
        if own
        else ibis.literal(False)
    )
    dp = dp.filter(foreign_reader | foreign_dest | copy_acct_foreign).mutate(
        kind=ibis.literal("copy_out"),
        target=ibis.coalesce(
            ibis.ifelse(foreign_dest, dp.target_account, ibis.null("string")),
            ibis.ifelse(foreign_reader, dp.principal_account, ibis.null("string")),
            dp.account,
        ),
    )

    cols = [
        "time",
        "principal",
        "principal_account",
        "account",
        "api_operation",
        "resource",
        "asset",
        "src_ip",
        "user_agent",
        "bytes_out",
        "object_key",
        "kind",
        "target",
        "raw_source",
        "raw_offset",
        "raw_id",
    ]
    ev = cp.select(*cols).union(dp.select(*cols))
    ev = ev.mutate(pkey=principal_key(ev))
    keys = ["pkey", "kind", "target"]
    # the references as rows, not a list: a copy of a million objects is one finding
    g = with_ref_samples(ev.group_by(keys).aggregate(**_summary(ev)), ev, keys, raw_ref(ev))

    # -- presigned bursts ----------------------------------------------------------------
    ps = jw.filter(jw.auth_method.isin(list(PRESIGNED_AUTH)) & jw.api_operation.isin(READ_OPS))
    ps = ps.mutate(hour=hour_number(ps.time))
    bursts = ps.group_by(["pkey", "hour"]).aggregate(n=ps.count())
    bursts = bursts.filter(bursts.n >= p.presigned_burst)
    b = ps.semi_join(bursts, ["pkey", "hour"])
    bg = b.group_by(["pkey", "hour"]).aggregate(**_summary(b))
    bg = with_ref_samples(bg, b, ["pkey", "hour"], raw_ref(b))
    bg = bg.mutate(kind=ibis.literal("presigned_burst"), target=bg.hour.cast("string")).drop("hour")
    allg = g.union(bg.select(*g.columns))

    return allg.select(
        key=allg.pkey.concat("|", allg.kind, "|", allg.target),
        first_seen=allg.first_seen,
        last_seen=allg.last_seen,
        # every event's values were collected: cut in the engine to what the finding
        # keeps (a copy of a million objects is one finding)
        entity_principal=entities(allg.principals),
        entity_asset=entities(allg.assets),
        entity_account=entities(allg.accounts),
        entity_src_ip=entities(allg.src_ips),
        severity=ibis.ifelse(
            (allg.jewel_events > 0) | allg.kind.endswith("_public") | (allg.kind == "grant_public"),
            "critical",
            "high",
        ),
        kind=allg.kind,
        principal_key=allg.pkey,
        target_account=ibis.ifelse(
            allg.kind == "presigned_burst", ibis.null("string"), allg.target
        ),
        events=allg.events,
        operations=samples(allg.operations),
        resources=samples(allg.resources),
        bytes=allg.bytes,
        objects=allg.objects,
        user_agents=samples(allg.user_agents),
        raw_refs=allg.raw_refs,
        raw_refs_total=allg.raw_refs_total,
    )


_WHAT = {
    "replication_out": "replication configured to",
    "grant_foreign": "access granted to",
    "grant_public": "access granted to",
    "share_snapshot": "snapshot shared with",
    "share_image": "image shared with",
    "share_snapshot_public": "snapshot made",
    "share_image_public": "image made",
    "copy_out": "crown-jewel data copied to",
}


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, ("operations", "resources", "user_agents", "raw_refs"))


def title(row: dict, p: Params) -> str:
    if row["kind"] == "presigned_burst":
        return f"{row['principal_key']} used {row['events']} presigned URLs/SAS on crown jewels within an hour"
    target = row["target_account"]
    return f"{row['principal_key']}: {_WHAT.get(row['kind'], row['kind'])} {target}"
