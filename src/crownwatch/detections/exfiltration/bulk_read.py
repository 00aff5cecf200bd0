"""Bulk read of a crown jewel, far above the reader's own baseline and its peers'
(ATT&CK T1530 Data from Cloud Storage; ATLAS AML.T0048.004 when the asset is model
weights or a dataset — theft of the model / its training data).

**What it looks for.** One principal, one day, one crown jewel (see
``crownwatch.assets``): the bytes it read are far above what *it* reads on a normal
day **and** far above what the principals in its peer group read of that asset. This is
the moment a campaign that has held access for weeks finally takes the prize — a
researcher's stolen SSO session pulling every shard of the frontier checkpoint at 03:00.

**How.**

1. Reads (``GetObject``, ``REST.GET.OBJECT``, ``storage.objects.get``, ``GetBlob``…)
   that succeeded, tagged with their asset *in the engine*, summed per principal, asset
   and UTC day. When the same requests arrive twice (CloudTrail data events *and* S3
   access logs for one bucket) the day takes the larger source's total, not the sum.
   Machine role sessions (``assumed-role/nightly-train/i-0abc…``) count as the role.
2. **Own baseline**: over the ``lookback_days`` before, the principal's active days on
   that asset → median and MAD (median absolute deviation), exact, by rank.
3. **Peer baseline**: the same asset's daily volumes by *other* principals of the same
   peer group (the same AWS role, the same GCP project's service accounts, the same
   e-mail domain…) → 95th percentile by nearest rank.
4. Fires when the day's bytes are ≥ ``min_bytes``, above ``own median + mad_k × MAD``
   and ≥ ``own_ratio`` × own median, and ≥ ``peer_ratio`` × peer p95. A principal with
   no history on the asset has baseline 0 (every byte is new); no peers → no peer bar.
   Days earlier than ``min_baseline_days`` after the asset's first logged read are not
   judged — a lake with two days of logs has no baselines to speak of.

**Evidence.** Bytes, objects and requests that day; the baselines used (own median,
MAD, active days; peer p95, peer days); the ratios; top keys by bytes; an hourly
timeline; source IPs, user agents, auth methods; raw records.

**False positives and how they are handled.**

* The nightly training job that reads the whole weights bucket: its own median *is*
  the whole bucket, so the same read tomorrow is not above it. A job that grows 10 % a
  night stays under ``own_ratio``.
* A new team member's first reads of a dataset they were granted: no own history, so
  the peer bar decides — a modest day is below ``peer_ratio`` × the team's p95 and
  below ``min_bytes``. (First *access* is its own, quieter detection.)
* A migration or re-index that legitimately reads everything once: rare, large, and
  worth a look; list the principal in ``exclude_principals`` for its duration.

Compared with fixed-volume rules (Sentinel "Mass download from storage", Elastic's
"Unusual S3 data volume" ML job uses a learned model per bucket), the per-principal
*and* per-peer robust baselines tolerate heavy but steady machine readers without an
allowlist, and still fire on a quiet human identity that suddenly reads like a job.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import AI_KINDS
from crownwatch.detections._evidence import entities, samples, with_ref_samples
from crownwatch.detections._num import rounded
from crownwatch.detections._time import hour_number
from crownwatch.detections.contract import Meta, Params, Tables, shared
from crownwatch.detections.exfiltration._common import (
    READ_OPS,
    empty_lists,
    jewel_events,
    order_stat,
    raw_ref,
)

META = Meta(
    id="exfiltration.bulk_read",
    title="Bulk read of a crown jewel far above the reader's baseline",
    severity="high",
    attack=("T1530", "AML.T0048.004"),
    tables=("api_activity",),
    description=(
        "A principal read far more of a crown-jewel asset in one day than its own robust "
        "baseline and its peer group's."
    ),
    false_positives=(
        "Steady machine readers are absorbed by their own baseline; one-off migrations "
        "(exclude_principals)."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1530/",
        "https://atlas.mitre.org/techniques/AML.T0048.004",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html",
    ),
    params={
        "lookback_days": 30,
        "min_baseline_days": 3,
        "min_bytes": 1073741824,  # 1 GiB: below this a day is never "bulk"
        "mad_k": 6.0,
        "own_ratio": 5.0,
        "peer_ratio": 3.0,
        "critical_bytes": 107374182400,  # 100 GiB
        "top_keys": 10,
        "exclude_principals": [],
    },
    runbook=(
        (
            "Ask the principal's owner (or the asset's owners) whether the day's read was "
            "expected; if not, revoke the principal's sessions and its access to the asset."
        ),
        (
            "Find where the bytes went: the source addresses and user agents in the evidence, and"
            " any identity finding on the person behind the principal."
        ),
        (
            "If it was not expected, treat the asset as disclosed and tell its owners (owners in "
            "[[assets]])."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    ev, reg = jewel_events(t, p)
    reads = ev.filter(
        ev.api_operation.isin(READ_OPS) & (ev.status == "success") & (ev.bytes_out > 0)
    )
    if p.exclude_principals:
        reads = reads.filter(~reads.principal.isin(list(p.exclude_principals)))

    keys = ["pkey", "asset", "day"]
    # the daily volumes feed the candidates and both baselines: one pass over the reads
    daily = shared(
        f"exfiltration.bulk_read.daily:{reg.model_dump_json()}:{sorted(p.exclude_principals)}",
        lambda: _daily(reads, keys),
    )
    starts = daily.group_by("asset").aggregate(first_day=daily.day.min())
    cand = daily.join(starts, "asset")
    cand = cand.filter(
        (cand.bytes >= p.min_bytes) & ((cand.day - cand.first_day) >= p.min_baseline_days)
    ).drop("first_day")

    # -- own baseline: the principal's active days on this asset before the day ---------
    hist = daily.select(
        h_pkey=daily.pkey, h_asset=daily.asset, h_day=daily.day, h_bytes=daily.bytes
    )
    c = cand.select(*keys)
    own = c.join(
        hist,
        [
            c.pkey == hist.h_pkey,
            c.asset == hist.h_asset,
            hist.h_day < c.day,
            hist.h_day >= c.day - p.lookback_days,
        ],
    ).select(*keys, v=hist.h_bytes)
    own_med = order_stat(own, keys, "v", 50, "own_median")
    dev = own.join(own_med, keys).select(*keys, v=(own.v - own_med.own_median).abs())
    own_mad = order_stat(dev, keys, "v", 50, "own_mad").drop("own_mad_n")

    # -- peer baseline: other principals of the same peer group on this asset ------------
    peer_p95 = _peer_p95(cand, daily, keys, p.lookback_days)

    j = cand.left_join(own_med, keys).drop([f"{k}_right" for k in keys])
    j = j.left_join(own_mad, keys).drop([f"{k}_right" for k in keys])
    j = j.left_join(peer_p95, keys).drop([f"{k}_right" for k in keys])
    j = j.mutate(
        own_median=j.own_median.fill_null(0),
        own_mad=j.own_mad.fill_null(0),
        own_days=j.own_median_n.fill_null(0),
        peer_p95=j.peer_p95.fill_null(0),
        peer_days=j.peer_p95_n.fill_null(0),
    ).drop("own_median_n", "peer_p95_n")
    hits = j.filter(
        (j.bytes > j.own_median + j.own_mad * p.mad_k)
        & (j.bytes >= j.own_median * p.own_ratio)
        & (j.bytes >= j.peer_p95 * p.peer_ratio)
    )
    # a handful of rows, read four times below: decide them once
    hits = shared(
        f"exfiltration.bulk_read.hits:{reg.model_dump_json()}:{sorted(vars(p).items())}",
        lambda: hits,
    )

    # -- evidence for the hits only -----------------------------------------------------
    d = reads.semi_join(hits, keys)
    per_key = d.group_by([*keys, "object_key"]).aggregate(kb=d.bytes_out.sum())
    wk = ibis.window(
        group_by=[per_key[k] for k in keys], order_by=[per_key.kb.desc(), per_key.object_key]
    )
    per_key = per_key.mutate(_r=ibis.row_number().over(wk))
    top = per_key.filter(per_key._r < p.top_keys)
    top = top.group_by(keys).aggregate(
        top_keys=top.object_key.fill_null("-")
        .concat(" (", top.kb.cast("string"), " bytes)")
        .collect()
    )
    hour = hour_number(d.time)
    dh = d.mutate(hour=hour)
    per_hour = dh.group_by([*keys, "hour"]).aggregate(hb=dh.bytes_out.sum(), hn=dh.count())
    timeline = per_hour.group_by(keys).aggregate(
        timeline=per_hour.hour.cast("string")
        .concat(":", per_hour.hb.cast("string"), ":", per_hour.hn.cast("string"))
        .collect()
    )
    details = d.group_by(keys).aggregate(
        first_seen=d.time.min(),
        last_seen=d.time.max(),
        # each list distinct, cut below to what the finding keeps: a dataset copied
        # object by object is millions of reads in one finding
        principals=d.principal.collect(distinct=True),
        principal_account=d.principal_account.max(),
        asset_kind=d.asset_kind.max(),
        asset_sensitivity=d.asset_sensitivity.max(),
        src_ips=d.src_ip.collect(distinct=True),
        src_asns=d.src_asn.collect(distinct=True),
        src_countries=d.src_country.collect(distinct=True),
        user_agents=d.user_agent.collect(distinct=True),
        auth_methods=d.auth_method.collect(distinct=True),
        sources=d.source.collect(distinct=True),
    )
    out = hits.join(details, keys).join(top, keys).join(timeline, keys)
    # the references as rows, not a list: a copy of millions of objects is that many
    out = with_ref_samples(out, d, keys, raw_ref(d))
    is_ai = out.asset_kind.isin(list(AI_KINDS))
    return out.select(
        key=out.pkey.concat("|", out.asset, "|", out.day.cast("string")),
        first_seen=out.first_seen,
        last_seen=out.last_seen,
        entity_principal=entities(out.principals),
        entity_asset=out.asset,
        entity_account=out.principal_account,
        entity_src_ip=entities(out.src_ips),
        severity=ibis.ifelse(
            (out.bytes >= p.critical_bytes) | (out.asset_sensitivity == "critical"),
            "critical",
            "high",
        ),
        attack=ibis.ifelse(
            is_ai, ibis.literal(["T1530", "AML.T0048.004"]), ibis.literal(["T1530"])
        ),
        asset_kind=out.asset_kind,
        principal_key=out.pkey,
        peer_group=out.peer,
        bytes=out.bytes,
        objects=out.objects,
        requests=out.requests,
        baseline_own_median_bytes=out.own_median,
        baseline_own_mad_bytes=out.own_mad,
        baseline_own_days=out.own_days,
        baseline_peer_p95_bytes=out.peer_p95,
        baseline_peer_days=out.peer_days,
        lookback_days=ibis.literal(p.lookback_days),
        # NULL when there is no baseline: "new reader", not a ratio over zero
        ratio_to_own=ibis.ifelse(
            out.own_median > 0, rounded(out.bytes / out.own_median, 1), ibis.null("float64")
        ),
        ratio_to_peers=ibis.ifelse(
            out.peer_p95 > 0, rounded(out.bytes / out.peer_p95, 1), ibis.null("float64")
        ),
        top_keys=out.top_keys,
        timeline=out.timeline,
        src_asns=samples(out.src_asns),
        src_countries=samples(out.src_countries),
        user_agents=samples(out.user_agents),
        auth_methods=samples(out.auth_methods),
        sources=samples(out.sources),
        raw_refs=out.raw_refs,
        raw_refs_total=out.raw_refs_total,
    )


def _peer_p95(cand: ibis.Table, daily: ibis.Table, keys: list[str], lookback: int) -> ibis.Table:
    """Per candidate ``keys``: the 95th percentile by nearest rank (``peer_p95``) of the
    daily volumes on its asset by the *other* principals of its peer group over the
    ``lookback`` days before, and how many there were (``peer_p95_n``).

    Exactly what ranking every (candidate, peer day) pair would give, without building
    them: in a big peer group every member's busy day is a candidate, and the pairs grow
    with the square of the group. The nearest rank ``ceil(0.95 n)`` of ``n`` values is
    the ``floor(n / 20)``-th largest (0-based), so per (asset, peer group, day) only the
    ``floor(n_all / 20) + lookback`` largest volumes can be it — a candidate's own days,
    at most ``lookback`` of them, are taken out of those, and the rank is read there."""
    cd = cand.select("asset", "peer", "day").distinct()
    h = daily.select(
        q_pkey=daily.pkey,
        q_asset=daily.asset,
        q_peer=daily.peer,
        q_day=daily.day,
        q_bytes=daily.bytes,
    )
    win = cd.join(
        h,
        [
            cd.asset == h.q_asset,
            cd.peer == h.q_peer,
            h.q_day < cd.day,
            h.q_day >= cd.day - lookback,
        ],
    ).select("asset", "peer", "day", "q_pkey", "q_bytes")
    grp = ["asset", "peer", "day"]
    w = ibis.window(group_by=[win[k] for k in grp], order_by=[win.q_bytes.desc()])
    wn = ibis.window(group_by=[win[k] for k in grp])
    win = win.mutate(_r=ibis.row_number().over(w), _n_all=win.q_bytes.count().over(wn))
    top = win.filter(win._r <= (win._n_all / 20).floor().cast("int64") + lookback).drop("_r")
    n_all = win.group_by(grp).aggregate(n_all=win.count())
    n_self = win.group_by([*grp, "q_pkey"]).aggregate(n_self=win.count())

    c = cand.select(*keys, "peer")
    c = c.join(n_all, grp).left_join(
        n_self,
        [
            c.asset == n_self.asset,
            c.peer == n_self.peer,
            c.day == n_self.day,
            c.pkey == n_self.q_pkey,
        ],
    )
    c = c.select(*keys, "peer", n=c.n_all - c.n_self.fill_null(0))
    c = c.filter(c.n > 0).mutate(k=(c.n / 20).floor().cast("int64"))
    j = c.join(
        top, [c.asset == top.asset, c.peer == top.peer, c.day == top.day, c.pkey != top.q_pkey]
    )
    wr = ibis.window(group_by=[j[k] for k in keys], order_by=[j.q_bytes.desc()])
    j = j.mutate(_k=ibis.row_number().over(wr))
    j = j.filter(j._k == j.k)
    return j.select(*keys, peer_p95=j.q_bytes, peer_p95_n=j.n)


def _daily(reads: ibis.Table, keys: list[str]) -> ibis.Table:
    """Bytes, requests and objects per principal key, asset and day. When the same
    requests arrive through two sources (CloudTrail data events and S3 access logs) the
    day takes the larger source's figures, not their sum."""
    per_source = reads.group_by([*keys, "peer", "source"]).aggregate(
        bytes=reads.bytes_out.sum(), requests=reads.count(), objects=reads.object_key.nunique()
    )
    return per_source.group_by([*keys, "peer"]).aggregate(
        bytes=per_source.bytes.max(),
        requests=per_source.requests.max(),
        objects=per_source.objects.max(),
    )


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    """Hour numbers → ISO hours, and top keys in byte order (the engine collected them
    unordered; the framework would otherwise sort them alphabetically)."""
    from datetime import UTC, datetime

    for r in rows:
        tl = []
        for item in r.get("timeline") or []:
            h, b, n = item.split(":")
            ts = datetime.fromtimestamp(int(h) * 3600, UTC).strftime("%Y-%m-%dT%H:00Z")
            tl.append(f"{ts} {n} reads {_human(int(b))}")
        r["timeline"] = sorted(tl)
        tk = r.get("top_keys") or []
        tk.sort(key=lambda s: (-int(s.rsplit("(", 1)[1].split()[0]), s))
        # a rank prefix keeps the byte order through the framework's sort
        r["top_keys"] = [f"{i + 1:02d}. {s}" for i, s in enumerate(tk)]
    return empty_lists(
        rows, ("src_asns", "src_countries", "user_agents", "auth_methods", "sources", "raw_refs")
    )


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return str(n)


def title(row: dict, p: Params) -> str:
    principal = row.get("principal_key") or "?"
    own = f"{row['ratio_to_own']}x own baseline" if row.get("ratio_to_own") else "no earlier reads"
    peers = f"{row['ratio_to_peers']}x peers" if row.get("ratio_to_peers") else "no peers"
    return (
        f"Bulk read of {row['entity_asset']} by {principal}: {_human(int(row['bytes']))} "
        f"in {row['objects']} objects ({own}, {peers})"
    )
