"""First access to a crown jewel, and access to one from a new place or through a
link used from outside (ATT&CK T1530; ATLAS AML.T0048.004 for AI assets).

**What it looks for.** Per principal, asset and UTC day, any of:

* ``first_access`` — the principal has never touched this asset before (in the lake),
  is not one of the asset's ``expected_readers``, and read more than ``modest_bytes``
  that day. Campaigns that hold access for months reach for the prize with identities
  that never had a reason to.
* ``new_asn`` / ``new_country`` — a principal with history reads the asset from an
  autonomous system or country it has never been seen from (any API call counts as
  "seen"), not from our own network (``[organisation] own_asns`` / ``own_cidrs`` or a
  private address — :func:`crownwatch.enrichment.places.own_network`).
* ``presigned_outside`` — a presigned URL (S3 ``QueryString``) or SAS token used on the
  asset from outside our own network: whoever holds the link is the caller, and
  links are how data leaves without an identity attached.

Days earlier than ``min_baseline_days`` after the asset's first logged access are not
judged (everyone is "new" on the first day of logs).

**Evidence.** Which reasons fired, bytes and objects that day, the new ASNs/countries,
the source IPs and auth methods, whether the principal is an expected reader, raw records.

**False positives and how they are handled.**

* A new team member's first reads of a dataset they were granted: listed in
  ``expected_readers`` (quiet whatever the volume of a first day), or not listed but
  modest (≤ ``modest_bytes``) — quiet. Their first *bulk* day is bulk_read's to judge.
* Travel and new ISPs: ``new_asn`` needs ASN data — the source's own (Okta) or the
  ``[enrichment]`` ASN database's; without either (CloudTrail and the storage logs
  carry none) it stays silent rather than guessing from raw IP ranges.
* Corporate VPN exits abroad, office NAT: ``own_asns`` / ``own_cidrs`` — never new.
* Sanctioned sharing with partners through presigned links: list the partner's ASNs in
  ``own_asns`` (ranges in ``own_cidrs``) or set ``presigned_outside = false``.

Compared with Sentinel's "New user accessing storage" style UEBA anomalies, which judge
any first access, the expected-reader list and the modest-volume bar keep onboarding
quiet without suppressing the rule per user.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import AI_KINDS
from crownwatch.detections._evidence import entities, samples, with_ref_samples
from crownwatch.detections._time import day_number
from crownwatch.detections.contract import Meta, Params, Tables, shared
from crownwatch.detections.exfiltration._common import (
    COPY_OPS,
    PRESIGNED_AUTH,
    READ_OPS,
    empty_lists,
    jewel_events,
    raw_ref,
    with_principal_keys,
)
from crownwatch.enrichment.places import own_network

META = Meta(
    id="exfiltration.first_access",
    title="First access to a crown jewel, or access from a new place or an outside link",
    severity="medium",
    attack=("T1530", "AML.T0048.004"),
    tables=("api_activity",),
    description=(
        "A principal touched a crown jewel for the first time, from a new ASN/country, or "
        "through a presigned URL / SAS used from outside."
    ),
    false_positives="Onboarding (expected_readers, modest volume); partner links (own_asns).",
    references=(
        "https://attack.mitre.org/techniques/T1530/",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html",
        "https://learn.microsoft.com/azure/storage/common/storage-sas-overview",
    ),
    params={
        "min_baseline_days": 3,
        "modest_bytes": 5368709120,  # 5 GiB
        "presigned_outside": True,
    },
    runbook=(
        (
            "Ask the asset's owners whether the principal should read it: if yes, add it to the "
            "asset's expected_readers; if not, remove its access and revoke its sessions."
        ),
        (
            "For new_asn or new_country: confirm with the person behind the principal that the "
            "place is theirs."
        ),
        (
            "For presigned_outside: find who minted the link and invalidate it (rotate the "
            "credentials that signed it, or the storage account key or SAS policy)."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    ev, reg = jewel_events(t, p)
    ev = ev.filter(ev.api_operation.isin(READ_OPS + COPY_OPS) & (ev.status == "success")).drop(
        "peer"
    )

    # history of the principal across every API call: where it has been seen from
    seen = principal_history(t)
    p_day0 = seen.group_by("pkey").aggregate(p_day0=seen.day0.min())
    s_asn = seen.filter(seen.src_asn.notnull())
    asn0 = s_asn.group_by(["pkey", "src_asn"]).aggregate(asn_day0=s_asn.day0.min())
    s_cc = seen.filter(seen.src_country.notnull())
    cc0 = s_cc.group_by(["pkey", "src_country"]).aggregate(cc_day0=s_cc.day0.min())

    # Rows that look alike for every reason collapse first: per principal key, asset, day,
    # ASN, country, outside-link use and expected-reader flag. The per-row lookups then
    # join a table of a few rows per principal-day instead of every request.
    # our own network (own_asns, own_cidrs, private addresses) is never a new place
    ev = ev.mutate(_own=own_network(ev, reg))
    ev = ev.mutate(
        _link=ev.auth_method.isin(list(PRESIGNED_AUTH)).fill_null(False)
        & ev.src_ip.notnull()
        & ~ev._own
    )
    gkeys = ["pkey", "asset", "day", "src_asn", "src_country", "_own", "_link", "expected_reader"]
    g = shared(
        "exfiltration.first_access.groups:" + reg.model_dump_json(),
        lambda: ev.group_by(gkeys).aggregate(
            first_seen=ev.time.min(),
            last_seen=ev.time.max(),
            bytes=ev.bytes_out.fill_null(0).sum(),
            requests=ev.count(),
        ),
    )
    pa0 = g.group_by(["pkey", "asset"]).aggregate(pa_day0=g.day.min())
    a0 = g.group_by("asset").aggregate(a_day0=g.day.min())

    def flags(x: ibis.Table) -> ibis.Table:
        e = x.join(pa0, ["pkey", "asset"]).join(a0, "asset").join(p_day0, "pkey")
        e = e.left_join(asn0, ["pkey", "src_asn"]).drop("pkey_right", "src_asn_right")
        e = e.left_join(cc0, ["pkey", "src_country"]).drop("pkey_right", "src_country_right")
        judged = (e.day - e.a_day0) >= p.min_baseline_days
        has_history = e.p_day0 < e.day
        return e.mutate(
            _judged=judged,
            _new_asn=judged & has_history & e.src_asn.notnull() & (e.asn_day0 == e.day) & ~e._own,
            _new_cc=judged & has_history & e.src_country.notnull() & (e.cc_day0 == e.day) & ~e._own,
            _presigned=judged & e._link if p.presigned_outside else ibis.literal(False),
        )

    keys = ["pkey", "asset", "day"]
    e = flags(g)
    daily = e.group_by(keys).aggregate(
        first_seen=e.first_seen.min(),
        last_seen=e.last_seen.max(),
        is_first_day=(e.pa_day0 == e.day).any() & e._judged.any(),
        expected=e.expected_reader.any(),
        new_asn=e._new_asn.any(),
        new_country=e._new_cc.any(),
        presigned_outside=e._presigned.any(),
        bytes=e.bytes.sum(),
        requests=e.requests.sum(),
    )
    first = daily.is_first_day & ~daily.expected & (daily.bytes > p.modest_bytes)
    daily = daily.mutate(first_access=first)
    hits = daily.filter(
        daily.first_access | daily.new_asn | daily.new_country | daily.presigned_outside
    )

    d = flags(ev.semi_join(hits, keys))
    details = d.group_by(keys).aggregate(
        principals=d.principal.collect(distinct=True),
        principal_account=d.principal_account.max(),
        asset_kind=d.asset_kind.max(),
        objects=d.object_key.nunique(),
        src_ips=d.src_ip.collect(distinct=True),
        new_asns=d.src_asn.cast("string").collect(distinct=True, where=d._new_asn),
        new_countries=d.src_country.collect(distinct=True, where=d._new_cc),
        presigned_ips=d.src_ip.collect(distinct=True, where=d._presigned),
        auth_methods=d.auth_method.collect(distinct=True),
        user_agents=d.user_agent.collect(distinct=True),
        sample_keys=d.object_key.collect(distinct=True),
    )
    out = hits.join(details, keys)
    # the references as rows, not a list: a first read of a dataset is every object of it
    out = with_ref_samples(out, d, keys, raw_ref(d))
    reasons = ibis.array(
        [
            ibis.ifelse(out.first_access, "first_access", ibis.null("string")),
            ibis.ifelse(out.new_asn, "new_asn", ibis.null("string")),
            ibis.ifelse(out.new_country, "new_country", ibis.null("string")),
            ibis.ifelse(out.presigned_outside, "presigned_outside", ibis.null("string")),
        ]
    )
    n_reasons = (
        out.first_access.cast("int64")
        + out.new_asn.cast("int64")
        + out.new_country.cast("int64")
        + out.presigned_outside.cast("int64")
    )
    is_ai = out.asset_kind.isin(list(AI_KINDS))
    return out.select(
        key=out.pkey.concat("|", out.asset, "|", out.day.cast("string")),
        first_seen=out.first_seen,
        last_seen=out.last_seen,
        # every event's values were collected: cut in the engine to what the finding keeps
        entity_principal=entities(out.principals),
        entity_asset=out.asset,
        entity_account=out.principal_account,
        entity_src_ip=entities(out.src_ips),
        severity=ibis.ifelse(n_reasons >= 2, "high", "medium"),
        attack=ibis.ifelse(
            is_ai, ibis.literal(["T1530", "AML.T0048.004"]), ibis.literal(["T1530"])
        ),
        reasons=reasons,
        principal_key=out.pkey,
        asset_kind=out.asset_kind,
        expected_reader=out.expected,
        bytes=out.bytes,
        objects=out.objects,
        requests=out.requests,
        new_asns=samples(out.new_asns),
        new_countries=samples(out.new_countries),
        presigned_ips=samples(out.presigned_ips),
        auth_methods=samples(out.auth_methods),
        user_agents=samples(out.user_agents),
        sample_keys=samples(out.sample_keys),
        raw_refs=out.raw_refs,
        raw_refs_total=out.raw_refs_total,
    )


def principal_history(t: Tables) -> ibis.Table:
    """``(pkey, src_asn, src_country, day0)``: the first day each principal key was seen
    from each ASN and country, over every API call. Aggregated per raw principal first
    (one pass over api_activity), keyed on the small result; computed once per run."""

    def build() -> ibis.Table:
        a = t.api_activity
        seen = a.group_by(["principal", "src_asn", "src_country"]).aggregate(
            day0=day_number(a.time).min()
        )
        return with_principal_keys(seen).drop("peer")

    return shared("exfiltration.principal_history", build)


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(
        rows,
        (
            "new_asns",
            "new_countries",
            "presigned_ips",
            "auth_methods",
            "user_agents",
            "sample_keys",
            "raw_refs",
        ),
    )


def title(row: dict, p: Params) -> str:
    why = ", ".join(r.replace("_", " ") for r in sorted(x for x in (row["reasons"] or []) if x))
    return f"{row['principal_key']} on {row['entity_asset']}: {why} ({row['objects']} objects)"
