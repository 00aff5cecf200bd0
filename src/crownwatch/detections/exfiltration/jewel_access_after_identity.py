"""Crown-jewel access by a principal whose identity was just attacked — the chain from
the way in to the prize (ATT&CK T1078 Valid Accounts → T1530; ATLAS AML.T0048.004).

**What it looks for.** An identity finding earlier in the same run (password spray
exposure, success after spray, any ``identity.*`` detection naming a user) followed,
within ``window_days`` after that finding began, by the same person's cloud principal
reading a crown jewel. Alone, each half is ordinary: people get sprayed every day and
researchers read weights every day. Together they are MURKY-PANDA-style tradecraft —
spray the workforce, then walk into the model bucket with what worked.

**How.** ``t.findings()`` gives the run's earlier findings, one row per (finding,
entity); their ``user`` entities are matched to cloud principals in the engine: the
principal contains the login (``…/assumed-role/Researcher/alice@corp.com``,
``alice@corp.com`` in GCS/Azure) or ends in ``/<local part>`` (``…:user/alice``), or
matches one of the globs in ``[organisation] identity_map`` for that login. Access is
any successful read/copy of a registered asset at or after the identity finding's
``first_seen``.

**Evidence.** The identity findings (ids, detections), the crown jewels reached, bytes,
objects, first access after the finding, delay, source IPs, raw records.

**False positives and how they are handled.**

* A sprayed user who was *not* compromised keeps working: their usual reads follow the
  spray. This is why the finding is ``high`` and not ``critical``, and why it lists the
  source IPs — compare them with the spray's. It turns ``critical`` when the identity
  finding said the attacker got in (``success_after_spray``-style detections carry
  ``compromise`` in their id) or when the access comes from the spraying address.

Compared with Sentinel's fusion incidents (multi-stage correlation of sign-in anomalies
with data access), this runs on exported logs, not a SIEM, and names the asset.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import glob_to_regex
from crownwatch.detections._time import epoch_s
from crownwatch.detections.base import Meta
from crownwatch.detections.exfiltration._common import (
    COPY_OPS,
    READ_OPS,
    empty_lists,
    jewel_events,
    raw_ref,
)

META = Meta(
    id="exfiltration.jewel_access_after_identity",
    title="Crown-jewel access by a principal with an identity finding",
    severity="high",
    attack=("T1078", "T1530", "AML.T0048.004"),
    tables=("api_activity",),
    description="A user named in an identity finding then read a crown jewel.",
    false_positives="Sprayed but uncompromised users keep working (severity high, compare IPs).",
    references=(
        "https://attack.mitre.org/techniques/T1078/",
        "https://attack.mitre.org/techniques/T1530/",
    ),
    params={
        "window_days": 14,
        "identity_prefix": "identity.",
    },
)


def query(t, p) -> ibis.Table:
    ev, reg = jewel_events(t, p)
    ev = ev.filter(ev.api_operation.isin(READ_OPS + COPY_OPS) & (ev.status == "success"))
    f = t.findings()
    idf = f.filter(f.detection.startswith(p.identity_prefix))
    users = idf.filter(idf.kind == "user").select(
        finding_id=idf.finding_id,
        detection=idf.detection,
        user=idf.value.lower(),
        f_first=idf.first_seen,
        f_last=idf.last_seen,
    )
    ips = (
        idf.filter(idf.kind == "src_ip")
        .group_by("finding_id")
        .aggregate(finding_ips=idf.value.collect())
    )
    users = users.left_join(ips, "finding_id").drop("finding_id_right")

    pr = ev.principal.lower()
    local = users.user.re_extract(r"^([^@]+)", 1)
    mapped = [
        (
            users.user == u.lower(),
            pr.re_search("|".join("(" + glob_to_regex(g.lower()) + ")" for g in globs)),
        )
        for u, globs in reg.organisation.identity_map.items()
        if globs
    ]
    by_map = ibis.cases(*mapped, else_=False) if mapped else ibis.literal(False)
    cond = [
        pr.contains(users.user) | pr.endswith(ibis.literal("/").concat(local)) | by_map,
        ev.time >= users.f_first,
        epoch_s(ev.time) <= epoch_s(users.f_first) + p.window_days * 86400,
    ]
    j = ev.join(users, cond)
    j = j.mutate(from_attack_ip=j.finding_ips.contains(j.src_ip).fill_null(False))
    g = j.group_by(["user", "asset"]).aggregate(
        first_seen=j.time.min(),
        last_seen=j.time.max(),
        identity_first_seen=j.f_first.min(),
        finding_ids=j.finding_id.collect(),
        identity_detections=j.detection.collect(),
        principals=j.principal.collect(),
        principal_account=j.principal_account.max(),
        src_ips=j.src_ip.collect(),
        bytes=j.bytes_out.fill_null(0).sum(),
        objects=j.object_key.nunique(),
        requests=j.count(),
        compromise=j.detection.contains("compromise").any() | j.detection.contains("success").any(),
        from_attack_ip=j.from_attack_ip.any(),
        raw_refs=raw_ref(j).collect(),
    )
    return g.select(
        key=g.user.concat("|", g.asset),
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.user,
        entity_principal=g.principals,
        entity_asset=g.asset,
        entity_account=g.principal_account,
        entity_src_ip=g.src_ips,
        severity=ibis.ifelse(g.compromise | g.from_attack_ip, "critical", "high"),
        identity_findings=g.finding_ids,
        identity_detections=g.identity_detections,
        identity_first_seen=g.identity_first_seen,
        hours_identity_to_access=(
            (epoch_s(g.first_seen) - epoch_s(g.identity_first_seen)) / 3600
        ).round(1),
        from_attack_ip=g.from_attack_ip,
        bytes=g.bytes,
        objects=g.objects,
        requests=g.requests,
        raw_refs=g.raw_refs,
    )


def postprocess(rows: list[dict], p) -> list[dict]:
    return empty_lists(rows, ("identity_findings", "identity_detections", "raw_refs"))


def title(row, p) -> str:
    dets = ", ".join(sorted(set(row["identity_detections"] or [])))
    return (
        f"{row['entity_user']} ({dets}) then read {row['entity_asset']}: {row['objects']} objects"
    )
