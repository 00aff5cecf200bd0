"""Crown-jewel access by a person whose identity was attacked, when there is evidence it
was not them — the chain from the way in to the prize (ATT&CK T1078 Valid Accounts →
T1530; ATLAS AML.T0048.004).

**What it looks for.** An identity finding earlier in the same run naming a user,
followed within ``window_days`` by one of that person's cloud principals reading or
copying a crown jewel — **and** evidence that the access is the attacker's:

* the identity side shows **compromise**: a detection in ``compromise_detections``
  (the password was right after the spray — success, MFA challenge,
  conditional-access block; new ground after the spray); or
* the access side is **anomalous for that principal**: from an address the identity
  finding names (the attacking infrastructure); from a network *and* a client
  (user agent) neither the principal nor the person had used before the identity
  finding began; or the same principal has an earlier exfiltration finding in this
  run (``bulk_read``, ``first_access``, ``delete_after_copy``: volume far above its own
  baseline, a first read of the asset, a presigned link used from outside).

Being sprayed is not being compromised. A MURKY-PANDA-size spray tries everyone in the
directory; everyone who then opens the model bucket as usual must not become a
finding (they did, before this rule: 180 of 275 findings of a held-out week).

**Who is whom.** Users meet principals through the identity links
(:mod:`crownwatch.enrichment.identities`): a role session named after the person, an
IAM user of the same name, the person's e-mail, or a glob of ``[organisation]
identity_map`` — always by equality of the identity key, never because a principal
*contains* a short name.

**Evidence.** The identity findings (ids, detections), how the principal was linked,
why the access counts (``reasons``), the crown jewels reached, bytes, objects, delay,
source addresses, raw records.

**Severity.** ``critical`` when compromise and an anomalous access come together, or
the access comes from the attacking address; ``high`` otherwise.

**False positives.** A compromised-then-reset account whose owner keeps working is
quiet unless the owner's access is anomalous too. A sprayed researcher who starts
work from a new laptop on a new network right after the spray fires (new network and
new client): the evidence says so; confirm with the person.

Compared with Sentinel's fusion incidents (multi-stage correlation of sign-in anomalies
with data access), this runs on exported logs, not a SIEM, and names the asset.
"""

from __future__ import annotations

import ibis

from crownwatch.detections._evidence import entities, samples, with_ref_samples
from crownwatch.detections._num import rounded
from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import (
    COPY_OPS,
    READ_OPS,
    empty_lists,
    jewel_events,
    raw_ref,
)
from crownwatch.detections.identity._common import success_places
from crownwatch.enrichment.identities import identity_links
from crownwatch.enrichment.places import own_network
from crownwatch.tables.authentication import PASSWORD_CORRECT

META = Meta(
    id="exfiltration.jewel_access_after_identity",
    title="Crown-jewel access by an attacked identity, with evidence it was the attacker",
    severity="high",
    attack=("T1078", "T1530", "AML.T0048.004"),
    tables=("api_activity",),
    description=(
        "A user named in an identity finding then read a crown jewel, and either the identity "
        "was compromised or the access is anomalous for that principal."
    ),
    false_positives=(
        "A sprayed user starting work on a new device and network right after the spray "
        "(reasons: new_network_and_client)."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1078/",
        "https://attack.mitre.org/techniques/T1530/",
    ),
    params={
        "window_days": 14,
        "identity_prefix": "identity.",
        "compromise_detections": [
            "identity.success_after_spray",
            "identity.new_geo_after_spray",
        ],
        "access_detections": [
            "exfiltration.bulk_read",
            "exfiltration.first_access",
            "exfiltration.delete_after_copy",
        ],
    },
    runbook=(
        (
            "Contain the identity: reset the person's password and revoke their sessions, and the"
            " sessions and access keys of the linked cloud principals."
        ),
        (
            "Establish what was taken: the assets, objects and bytes in the evidence; treat them "
            "as disclosed when the reasons include compromise."
        ),
        (
            "When the only reason is new_network_and_client, confirm with the person before "
            "escalating."
        ),
    ),
)


def _first_seen(rows: ibis.Table, who: str, what: str, ts: ibis.Value) -> ibis.Table:
    """``(who, what, first)``: when each principal or user first used each place/client."""
    r = rows.filter(rows[what].notnull())
    return r.group_by([who, what]).aggregate(**{f"{what}_first": ts.min()})


def query(t: Tables, p: Params) -> ibis.Table:
    ev, reg = jewel_events(t, p)
    ev = ev.filter(ev.api_operation.isin(READ_OPS + COPY_OPS) & (ev.status == "success"))
    f = t.findings()
    idf = f.filter(f.detection.startswith(p.identity_prefix))
    users = idf.filter(idf.kind == "user").select(
        finding_id=idf.finding_id,
        detection=idf.detection,
        user=idf.value.lower(),
        f_first=idf.first_seen,
        compromise=idf.detection.isin(list(p.compromise_detections)),
    )
    ips = (
        idf.filter(idf.kind == "src_ip")
        .group_by("finding_id")
        .aggregate(finding_ips=idf.value.collect())
    )
    users = users.left_join(ips, "finding_id").drop("finding_id_right")

    # who is whom: by equality of the identity key only
    links = identity_links(t, reg)
    lu = users.join(
        links.select(l_user=links.user, l_principal=links.principal, link=links.how),
        users.user == links.user,
    )
    j = ev.join(
        lu,
        [
            ev.principal == lu.l_principal,
            ev.time >= lu.f_first,
            epoch_s(ev.time) <= epoch_s(lu.f_first) + p.window_days * 86400,
        ],
    )
    j = j.mutate(ts=epoch_s(j.time), f_ts=epoch_s(j.f_first))

    # Was the place and the client the principal's (or the person's) before the
    # identity finding began? History of the linked principals only: a few rows.
    api = t.api_activity
    mine = api.semi_join(lu, api.principal == lu.l_principal)
    mine = mine.mutate(h_ts=epoch_s(mine.time))
    p_ip = _first_seen(mine, "principal", "src_ip", mine.h_ts)
    p_asn = _first_seen(mine, "principal", "src_asn", mine.h_ts)
    p_ua = _first_seen(mine, "principal", "user_agent", mine.h_ts)
    places = success_places(t.authentication)
    u_ip = (
        places.filter(places.src_ip.notnull())
        .group_by(["user", "src_ip"])
        .aggregate(u_ip_first=places.first_ts.min())
    )
    u_asn = (
        places.filter(places.src_asn.notnull())
        .group_by(["user", "src_asn"])
        .aggregate(u_asn_first=places.first_ts.min())
    )
    j = j.left_join(p_ip, [j.principal == p_ip.principal, j.src_ip == p_ip.src_ip])
    j = j.drop(*[c for c in j.columns if c.endswith("_right")])
    j = j.left_join(p_asn, [j.principal == p_asn.principal, j.src_asn == p_asn.src_asn])
    j = j.drop(*[c for c in j.columns if c.endswith("_right")])
    j = j.left_join(p_ua, [j.principal == p_ua.principal, j.user_agent == p_ua.user_agent])
    j = j.drop(*[c for c in j.columns if c.endswith("_right")])
    j = j.left_join(u_ip, [j.user == u_ip.user, j.src_ip == u_ip.src_ip])
    j = j.drop(*[c for c in j.columns if c.endswith("_right")])
    j = j.left_join(u_asn, [j.user == u_asn.user, j.src_asn == u_asn.src_asn])
    j = j.drop(*[c for c in j.columns if c.endswith("_right")])

    # The addresses a compromise finding about the person names are the attacker's,
    # and the compromise begins with the first password-correct outcome from one of
    # them (not with the spray, which is where the finding's first_seen points): the
    # person's own reads before that moment are theirs.
    comp = idf.filter((idf.kind == "user") & idf.detection.isin(list(p.compromise_detections)))
    comp = comp.select(c_id=comp.finding_id, c_user=comp.value.lower())
    named = idf.filter(idf.kind == "src_ip").select(n_id=idf.finding_id, c_ip=idf.value)
    attacker_ips = comp.join(named, comp.c_id == named.n_id).select("c_user", "c_ip").distinct()
    au = t.authentication
    got_in = au.filter(au.reason.isin(PASSWORD_CORRECT) & au.user.notnull() & au.src_ip.notnull())
    got_in = got_in.select(k_user=got_in.user, k_ip=got_in.src_ip, k_ts=epoch_s(got_in.time))
    got_in = attacker_ips.join(
        got_in, [attacker_ips.c_user == got_in.k_user, attacker_ips.c_ip == got_in.k_ip]
    )
    got_in = got_in.group_by(g_user=got_in.c_user).aggregate(compromised_at=got_in.k_ts.min())
    j = j.left_join(got_in, j.user == got_in.g_user).drop("g_user")
    j = j.left_join(attacker_ips, [j.user == attacker_ips.c_user, j.src_ip == attacker_ips.c_ip])
    j = j.drop("c_user")

    def before(col: ibis.Value, ts: ibis.Value | None = None) -> ibis.Value:
        return (col.notnull() & (col < (j.f_ts if ts is None else ts))).fill_null(False)

    # A place is the person's when they (or the principal) had used it before the
    # identity finding began — or when the person had signed in from that address
    # before this access and no compromise finding names it as the attacker's: an
    # org-wide spray starts a day into the logs, and everyone's home and office
    # after it must not count as new ground.
    known_network = (
        j.src_ip.isnull()
        | own_network(j, reg)  # private, own_asns, own_cidrs: the one shared rule
        | before(j.src_ip_first)
        | before(j.u_ip_first)
        | before(j.src_asn_first)
        | before(j.u_asn_first)
        | (before(j.u_ip_first, j.ts) & j.c_ip.isnull())
    )
    known_client = j.user_agent.isnull() | before(j.user_agent_first)
    from_attack_ip = j.finding_ips.contains(j.src_ip).fill_null(False)
    j = j.mutate(compromise=j.compromise & (j.compromised_at.isnull() | (j.ts >= j.compromised_at)))

    # an exfiltration finding on the same principal that began before this read
    acc = f.filter(f.detection.isin(list(p.access_detections)) & (f.kind == "principal"))
    acc = acc.select(
        a_principal=acc.value, a_detection=acc.detection, a_first=acc.first_seen
    ).distinct()
    j = j.left_join(acc, [j.principal == acc.a_principal, acc.a_first <= j.time])
    j = j.mutate(
        from_attack_ip=from_attack_ip,
        new_ground=~known_network & ~known_client,
        flagged_access=j.a_detection.notnull(),
    )
    j = j.mutate(anomalous=j.from_attack_ip | j.new_ground | j.flagged_access)
    j = j.filter(j.compromise | j.anomalous)

    # Each read once, however many identity findings it joined; and the same read
    # logged twice (CloudTrail data event and S3 server access log) counted once:
    # the source that saw the most bytes stands for the volume.
    reads = j.select("user", "asset", "source", "raw_source", "raw_offset", "bytes_out").distinct()
    per_source = reads.group_by(["user", "asset", "source"]).aggregate(
        s_bytes=reads.bytes_out.fill_null(0).sum(), s_requests=reads.count()
    )
    volume = per_source.group_by(["user", "asset"]).aggregate(
        bytes=per_source.s_bytes.max(), requests=per_source.s_requests.max()
    )
    # Every list distinct, and the evidence-only ones cut below to what the finding
    # keeps: a sprayed account that copies the weights object by object is a million
    # reads, each joined to every identity finding about the account.
    g = j.group_by(["user", "asset"]).aggregate(
        first_seen=j.time.min(),
        last_seen=j.time.max(),
        identity_first_seen=j.f_first.min(),
        finding_ids=j.finding_id.collect(distinct=True),
        identity_detections=j.detection.collect(distinct=True),
        compromise_detections=j.detection.collect(where=j.compromise, distinct=True),
        links=j.link.collect(distinct=True),
        access_findings=j.a_detection.collect(distinct=True),
        principals=j.principal.collect(distinct=True),
        principal_account=j.principal_account.max(),
        src_ips=j.src_ip.collect(distinct=True),
        new_ground_src_ips=j.src_ip.collect(where=j.new_ground, distinct=True),
        objects=j.object_key.nunique(),
        compromise=j.compromise.any(),
        anomalous=j.anomalous.any(),
        from_attack_ip=j.from_attack_ip.any(),
        new_ground=j.new_ground.any(),
    )
    g = g.join(volume, ["user", "asset"])
    # the references as rows, not a list: a copy of millions of objects is that many
    g = with_ref_samples(g, j, ["user", "asset"], raw_ref(j))
    return g.select(
        key=g.user.concat("|", g.asset),
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.user,
        entity_principal=entities(g.principals),
        entity_asset=g.asset,
        entity_account=g.principal_account,
        entity_src_ip=entities(g.src_ips),
        severity=ibis.ifelse((g.compromise & g.anomalous) | g.from_attack_ip, "critical", "high"),
        identity_findings=samples(g.finding_ids),
        identity_detections=samples(g.identity_detections),
        compromise_detections=g.compromise_detections,
        identity_first_seen=g.identity_first_seen,
        links=samples(g.links),
        from_attack_ip=g.from_attack_ip,
        new_network_and_client=g.new_ground,
        new_ground_src_ips=samples(g.new_ground_src_ips),
        access_findings=g.access_findings,
        hours_identity_to_access=rounded(
            (epoch_s(g.first_seen) - epoch_s(g.identity_first_seen)) / 3600, 1
        ),
        bytes=g.bytes,
        objects=g.objects,
        requests=g.requests,
        raw_refs=g.raw_refs,
        raw_refs_total=g.raw_refs_total,
    )


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    rows = empty_lists(
        rows,
        (
            "identity_findings",
            "identity_detections",
            "compromise_detections",
            "links",
            "access_findings",
            "new_ground_src_ips",
            "raw_refs",
        ),
    )
    for r in rows:
        r["reasons"] = sorted(
            {f"compromise:{d}" for d in r["compromise_detections"]}
            | ({"attack_address"} if r["from_attack_ip"] else set())
            | ({"new_network_and_client"} if r["new_network_and_client"] else set())
            | {f"access:{d}" for d in r["access_findings"]}
        )
    return rows


def title(row: dict, p: Params) -> str:
    why = ", ".join(row["reasons"])
    return f"{row['entity_user']} then read {row['entity_asset']} ({row['objects']} objects): {why}"
