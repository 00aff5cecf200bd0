"""A cloud workload's credentials used from somewhere the workload is not (ATT&CK
T1552.005 Cloud Instance Metadata API, T1078.004 Cloud Accounts).

**What it looks for.** The temporary credentials of a machine — an EC2 instance's role
(CloudTrail names the session after the instance:
``arn:aws:sts::…:assumed-role/<role>/i-0abc…``), an ECS task's role (the session is the
32-hex task id), a Lambda function's role (a principal whose own calls carry
``exec-env/AWS_Lambda_…`` in the user agent), the Compute Engine default service account
(``<project-number>-compute@developer.gserviceaccount.com``) — calling the cloud's API
from an address that is not the workload's:

* **outside the provider** — a public address outside the provider's published ranges
  (stored by ``crownwatch feeds update``) and outside the organisation's own
  (``[organisation] own_asns`` / ``own_cidrs``, private addresses:
  :func:`crownwatch.enrichment.places.own_network`). Credentials taken from the
  metadata service through an SSRF in a model-serving app, or copied off a compromised
  training box, are replayed from the attacker's machine: GuardDuty's
  ``InstanceCredentialExfiltration.OutsideAWS``. Needs the provider's ranges in the
  lake; without them this reason stays silent (the finding cannot tell a workload's
  own public address from anybody else's);
* **two places at once** — one instance's or task's session calling from two public
  addresses within ``concurrent_minutes``, the later one being the copy. A machine
  has one way out (its public address or its NAT gateway), so a second address at
  the same time is somebody else holding its keys — also from inside the provider
  (an attacker's own EC2 instance: GuardDuty's ``…InsideAWS``). Needs no ranges file.
  Only for per-machine sessions: a Lambda role or the Compute Engine default account
  is shared by every concurrent invocation or VM, each with its own address.

**Why it matters here.** Training and inference hosts hold the roles that read model
weights and datasets; their credentials are the shortest way to the crown jewels
that involves no person, no password and no sign-in log.

**Evidence.** The workload (kind, role, instance/task/function, account), the outside
addresses with their network, ASN and country, the calls made from them (operations,
resources, count, user agents), the workload's own addresses, raw records.

**False positives.**

* A developer who copies an instance role's credentials to a laptop to debug: that is
  the finding — it is also how keys leak. Sanctioned tooling that does this on purpose
  from a known place belongs in ``own_cidrs``.
* A workload whose public address changes (an instance stopped and started, a NAT
  gateway replaced) within ``concurrent_minutes``: list the role in ``exclude_roles``.
* A stale ranges file: a new provider range missing from it reads as "outside". Run
  ``crownwatch feeds update`` weekly; the evidence names each address's network so a
  responder sees it.
* Calls the provider makes for the workload (``sourceIPAddress`` a service name such
  as ``ec2.amazonaws.com``) carry no address and are never counted.

Left out: Azure managed identities — the Azure activity and sign-in logs crownwatch
reads do not carry the managed-identity claims that would name one.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._evidence import entities, samples, with_ref_samples
from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.identity._common import raw_ref
from crownwatch.enrichment.places import own_network

META = Meta(
    id="identity.workload_credentials_outside",
    title="Cloud workload credentials used from outside the workload",
    severity="high",
    attack=("T1552.005", "T1078.004"),
    tables=("api_activity",),
    description=(
        "An EC2 instance, ECS task, Lambda function or Compute Engine identity calling the "
        "cloud's API from outside its provider and the organisation, or from two places "
        "at once."
    ),
    false_positives=(
        "Credentials copied to a laptop for debugging; a workload whose address changed "
        "within the hour (exclude_roles); a stale ranges file (feeds update)."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1552/005/",
        "https://attack.mitre.org/techniques/T1078/004/",
        "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html",
    ),
    params={"concurrent_minutes": 60, "exclude_roles": []},
    runbook=(
        (
            "Revoke the role's active sessions (AWS IAM 'Revoke active sessions'; Google Cloud: "
            "stop the VM or rotate the service account) and block the outside addresses."
        ),
        (
            "Find how the credentials left the workload: require IMDSv2 with a hop limit of 1, "
            "check the serving app for SSRF, look for credential files copied off the host."
        ),
        (
            "Review the calls made from the outside addresses (operations and resources in the "
            "evidence) for data read and persistence created: new users, access keys, roles."
        ),
    ),
)

# an STS assumed-role session: account, role, session name
_SESSION = r"^arn:aws[a-z-]*:sts::(\d+):assumed-role/([^/]+)/([^/]+)$"
# sessions that belong to one machine (an instance, a task), not to a shared role
_PER_MACHINE = ("ec2_instance", "ecs_task")


def workloads(api: ibis.Table) -> ibis.Table:
    """``(principal, kind, provider, role, workload)`` for every principal that is a
    machine's identity. The patterns run once per distinct principal, not per call."""
    lam = api.filter(api.user_agent.contains("exec-env/AWS_Lambda").fill_null(False))
    lam = lam.select(l_principal=lam.principal).distinct()
    names = api.filter(api.principal.notnull()).select("principal").distinct()
    names = names.left_join(lam, names.principal == lam.l_principal)
    arn = names.principal
    role = arn.re_extract(_SESSION, 2)
    session = arn.re_extract(_SESSION, 3)
    kind = ibis.cases(
        (session.re_search(r"^i-[0-9a-f]{8}([0-9a-f]{9})?$"), "ec2_instance"),
        (session.re_search(r"^[0-9a-f]{32}$"), "ecs_task"),
        ((role != "") & names.l_principal.notnull(), "lambda"),
        (arn.re_search(r"^\d+-compute@developer\.gserviceaccount\.com$"), "gce_default"),
        else_=ibis.null("string"),
    )
    names = names.mutate(kind=kind)
    names = names.filter(names.kind.notnull())
    return names.select(
        "principal",
        "kind",
        provider=ibis.ifelse(names.kind == "gce_default", "gcp", "aws"),
        role=ibis.ifelse(role != "", role, names.principal),
        workload=ibis.ifelse(session != "", session, names.principal),
    )


def query(t: Tables, p: Params) -> ibis.Table:
    api = t.api_activity
    reg = registry_for(t, p)
    w = workloads(api)
    if p.exclude_roles:
        w = w.filter(~w.role.isin(list(p.exclude_roles)))
    calls = api.join(w, "principal")
    # no address (a provider's service calling for the workload) or our own: not a place
    calls = calls.filter(calls.src_ip.notnull())
    calls = calls.filter(
        ~own_network(calls, reg) & (calls.src_network != "reserved").fill_null(True)
    )
    calls = calls.mutate(ts=epoch_s(calls.time))

    # Outside the provider — only where this run holds that provider's ranges.
    providers = sorted(t.enrichment.providers)
    outside = calls.provider.isin(providers) & (calls.src_network.fill_null("") != calls.provider)

    # Two places at once: the session's first public address is the machine's; any
    # other address used while the first was still in use is a copy.
    own_first = calls.group_by("principal").aggregate(f_ts=calls.ts.min())
    first_ip = calls.join(
        own_first, [calls.principal == own_first.principal, calls.ts == own_first.f_ts]
    )
    first_ip = first_ip.select(m_principal=first_ip.principal, m_ip=first_ip.src_ip).distinct()
    machine = calls.join(
        first_ip, [calls.principal == first_ip.m_principal, calls.src_ip == first_ip.m_ip]
    )
    machine = machine.select(c_principal=machine.principal, c_ts=machine.ts)
    calls = calls.left_join(
        first_ip, [calls.principal == first_ip.m_principal, calls.src_ip == first_ip.m_ip]
    )
    other = calls.filter(calls.m_ip.isnull() & calls.kind.isin(list(_PER_MACHINE)))
    overlap = other.join(
        machine,
        [
            other.principal == machine.c_principal,
            (other.ts - machine.c_ts).abs() <= p.concurrent_minutes * 60,
        ],
    )
    overlap = overlap.select(o_principal=overlap.principal, o_ip=overlap.src_ip).distinct()
    calls = calls.left_join(
        overlap, [calls.principal == overlap.o_principal, calls.src_ip == overlap.o_ip]
    )
    calls = calls.mutate(outside=outside, two_places=overlap.o_ip.notnull())
    calls = calls.mutate(suspect=calls.outside | calls.two_places)
    bad = calls.filter(calls.suspect)

    # each list distinct and cut below to what the finding keeps, the references as
    # rows: a stolen key used from outside is every call the thief makes
    keys = ["principal", "kind", "role", "workload", "provider"]
    g = bad.group_by(keys).aggregate(
        first_seen=bad.time.min(),
        last_seen=bad.time.max(),
        src_ips=bad.src_ip.collect(distinct=True),
        src_networks=bad.src_network.collect(distinct=True),
        src_asns=bad.src_asn.collect(distinct=True),
        src_as_orgs=bad.src_as_org.collect(distinct=True),
        src_countries=bad.src_country.collect(distinct=True),
        account=bad.principal_account.max(),
        operations=bad.api_operation.collect(distinct=True),
        resources=bad.resource.collect(distinct=True),
        calls=bad.count(),
        user_agents=bad.user_agent.collect(distinct=True),
        outside_provider=bad.outside.any(),
        two_places=bad.two_places.any(),
    )
    g = with_ref_samples(g, bad, keys, raw_ref(bad))
    good = calls.filter(~calls.suspect)
    own_ips = good.group_by(h_principal=good.principal).aggregate(
        workload_src_ips=good.src_ip.collect(distinct=True)
    )
    out = g.left_join(own_ips, g.principal == own_ips.h_principal)
    return out.select(
        key=out.principal.concat("@", epoch_s(out.first_seen).cast("string")),
        first_seen=out.first_seen,
        last_seen=out.last_seen,
        severity=ibis.ifelse(out.outside_provider, "critical", "high"),
        entity_principal=out.principal,
        entity_account=out.account,
        entity_src_ip=entities(out.src_ips),
        workload_kind=out.kind,
        role=out.role,
        workload=out.workload,
        provider=out.provider,
        outside_provider=out.outside_provider,
        two_places_at_once=out.two_places,
        calls=out.calls,
        operations=samples(out.operations),
        resources=samples(out.resources),
        src_networks=samples(out.src_networks),
        src_asns=samples(out.src_asns),
        src_as_orgs=samples(out.src_as_orgs),
        src_countries=samples(out.src_countries),
        user_agents=samples(out.user_agents),
        workload_src_ips=samples(out.workload_src_ips),
        raw_refs=out.raw_refs,
        raw_refs_total=out.raw_refs_total,
    )


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    for r in rows:
        for c in (
            "workload_src_ips",
            "resources",
            "src_networks",
            "src_asns",
            "src_as_orgs",
            "src_countries",
            "user_agents",
            "operations",
        ):
            r[c] = sorted(r.get(c) or [], key=str)
    return rows


def title(row: dict, p: Params) -> str:
    where = (
        f"outside {row['provider'].upper()}" if row["outside_provider"] else "two places at once"
    )
    kind = row["workload_kind"].replace("_", " ")
    ips = ", ".join(sorted(set(row["entity_src_ip"] or [])))
    return (
        f"{kind} credentials of {row['role']} ({row['workload']}) used {where}: "
        f"{row['calls']} calls from {ips}"
    )
