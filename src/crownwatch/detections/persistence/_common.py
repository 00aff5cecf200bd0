"""What every persistence detection asks of a directory or cloud change: was the person
it concerns compromised a moment ago, and did it come from the attacker's ground?

**Compromise evidence** is an identity finding in ``p.compromise_detections``
(the sprayed password was right; new ground after the spray) naming the person, with
the change no earlier than the finding began and at most ``p.window_hours`` after it
ended.

**The attacker's ground** is judged per change, against the person's own sign-in
history *before the attack began* (the first spray attempt on the account or the
first compromise finding, whichever is earlier; the change itself when neither):

* ``from_spray_ip``: an address that took part in a spray (the identity family's own
  definition, :func:`crownwatch.detections.identity._spray.run_exposures`), not the
  person's own address and not the organisation's network;
* ``from_infrastructure``: a hosting provider's network or an address the identity
  provider called a proxy, on an address and a network the person had never signed in
  from. The AS organisation is the change's own (enrichment) or, when the directory log
  carries none (Okta's admin events, Entra audits), what the sign-in logs said of the
  same address: the attacker signs in before changing anything.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._num import rounded
from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import Params, Tables
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.identity._common import first_success_at, raw_ref, success_places
from crownwatch.detections.identity._spray import run_exposures
from crownwatch.enrichment.hosting import hosting_or_proxy
from crownwatch.enrichment.identities import identity_links
from crownwatch.enrichment.places import own_network

COMPROMISE_DETECTIONS = ["identity.success_after_spray", "identity.new_geo_after_spray"]


def changes(api: ibis.Table, operations: list[str]) -> ibis.Table:
    """Successful ``api_activity`` rows whose operation is one of ``operations``, with
    ``ts`` (epoch seconds) and ``ref`` (the raw record). Names are compared trimmed:
    Entra logs some activities with a trailing space, verbatim in the table."""
    ops = [o.strip() for o in operations]
    ev = api.filter(api.api_operation.strip().isin(ops) & (api.status == "success"))
    return ev.mutate(ts=epoch_s(ev.time), ref=raw_ref(ev))


def judged(t: Tables, p: Params, ev: ibis.Table) -> ibis.Table:
    """``ev`` (one row per change, with ``ref``, ``ts``, ``subject`` — the person the
    change concerns — ``src_ip``, ``src_asn``) with, per change: ``compromise_ids`` and
    ``compromise_detections`` (the compromise findings it follows), ``compromise_first_ts``
    (epoch seconds), ``from_spray_ip``, ``from_infrastructure``, ``as_org``. One row per
    change; callers aggregate."""
    auth = t.authentication
    expo = run_exposures(t)
    f = t.findings()
    comp = f.filter(f.detection.isin(list(p.compromise_detections)) & (f.kind == "user"))
    comp = comp.select(
        c_user=comp.value.lower(),
        c_id=comp.finding_id,
        c_detection=comp.detection,
        c_first=epoch_s(comp.first_seen),
        c_last=epoch_s(comp.last_seen),
    )
    comp_first = comp.group_by(cf_user=comp.c_user).aggregate(cf_ts=comp.c_first.min())
    expo_first = expo.group_by(x_user=expo.user).aggregate(x_ts=expo.ts.min())
    spray_ips = expo.select(spray_ip=expo.src_ip).distinct()

    e = ev.left_join(comp_first, ev.subject == comp_first.cf_user)
    e = e.left_join(expo_first, e.subject == expo_first.x_user)
    # the person's history is what they did before the attack began
    cutoff = e.ts
    cutoff = ibis.ifelse(e.x_ts.notnull() & (e.x_ts < cutoff), e.x_ts, cutoff)
    cutoff = ibis.ifelse(e.cf_ts.notnull() & (e.cf_ts < cutoff), e.cf_ts, cutoff)
    e = e.mutate(cutoff=cutoff).drop("cf_user", "cf_ts", "x_user", "x_ts")

    seen_ip = first_success_at(auth)
    seen_ip = seen_ip.select(k_user=seen_ip.user, k_ip=seen_ip.src_ip, k_first=seen_ip.first_ok)
    places = success_places(auth)
    places = places.filter(places.src_asn.notnull())
    seen_asn = places.group_by(n_user=places.user, n_asn=places.src_asn).aggregate(
        n_first=places.first_ts.min()
    )
    ok = auth.filter(auth.src_ip.notnull())
    ip_info = ok.group_by(i_ip=ok.src_ip).aggregate(
        i_as_org=ok.src_as_org.max(), i_proxy=ok.is_proxy.fill_null(False).any()
    )
    e = e.left_join(seen_ip, (e.subject == seen_ip.k_user) & (e.src_ip == seen_ip.k_ip))
    e = e.left_join(seen_asn, (e.subject == seen_asn.n_user) & (e.src_asn == seen_asn.n_asn))
    e = e.left_join(ip_info, e.src_ip == ip_info.i_ip)
    e = e.left_join(spray_ips, e.src_ip == spray_ips.spray_ip)
    as_org = e.src_as_org.coalesce(e.i_as_org) if "src_as_org" in e.columns else e.i_as_org
    known_ip = (e.k_first.notnull() & (e.k_first < e.cutoff)).fill_null(False)
    known_net = (e.n_first.notnull() & (e.n_first < e.cutoff)).fill_null(False)
    own = own_network(e, registry_for(t, p))
    e = e.mutate(
        as_org=as_org,
        from_spray_ip=(e.spray_ip.notnull() & ~known_ip & ~own).fill_null(False),
        from_infrastructure=(
            hosting_or_proxy(as_org, e.i_proxy) & ~known_ip & ~known_net & ~own
        ).fill_null(False),
    )
    e = e.drop("k_user", "k_ip", "k_first", "n_user", "n_asn", "n_first", "i_ip", "i_as_org")
    e = e.drop("i_proxy", "spray_ip", "cutoff")

    j = e.left_join(
        comp,
        (e.subject == comp.c_user)
        & (e.ts >= comp.c_first)
        & (e.ts <= comp.c_last + int(p.window_hours) * 3600),
    )
    return j.drop("c_user", "c_last")


def severity(g: ibis.Table) -> ibis.Value:
    """``critical`` from a spray address, or after compromise evidence from a hosting or
    proxy network; ``high`` after compromise evidence; ``medium`` otherwise (a hosting
    or proxy network new to a person nobody attacked)."""
    return ibis.cases(
        (g.from_spray_ip | (g.compromise & g.from_infrastructure), "critical"),
        (g.compromise, "high"),
        else_="medium",
    )


def reasons(row: dict) -> list[str]:
    """Why a change counts, for the evidence and the title."""
    return sorted(
        {f"compromise:{d}" for d in row["compromise_detections"]}
        | ({"spray_address"} if row["from_spray_ip"] else set())
        | ({"hosting_or_proxy_network"} if row["from_infrastructure"] else set())
    )


def judgement(j: ibis.Table) -> dict[str, ibis.Value]:
    """The aggregates every per-person persistence finding keeps of :func:`judged` rows:
    the compromise findings it follows, the attacker's marks, the changes and their raw
    records (``**judgement(j)`` inside a ``group_by("subject").aggregate``)."""
    compromise = j.c_id.notnull()
    return {
        "compromise_findings": j.c_id.collect(),
        "compromise_detections": j.c_detection.collect(),
        "compromise_first_ts": j.c_first.min(),
        "first_change_after_compromise_ts": j.ts.min(where=compromise),
        "compromise": compromise.any(),
        "from_spray_ip": j.from_spray_ip.any(),
        "from_infrastructure": j.from_infrastructure.any(),
        "changes": j.ref.nunique(),
        "raw_refs": j.ref.collect(),
    }


def by_actor(t: Tables, p: Params) -> ibis.Table:
    """The findings of a change judged by *who made it* — a credential minted, a role
    granted, an account created: one per person, from the successful ``p.operations``
    the person made (directory logs: ``actor_user``) or a cloud principal of theirs
    made (the identity links: an SSO role session named after the person, an IAM user
    of the same name — by equality of the identity key only), kept when the person has
    compromise evidence or acted from the attacker's ground (:func:`judged`). Evidence:
    the operations, the principals, what they were made on (target, resource, request
    parameters, modified properties), sources, accounts, addresses and AS
    organisations, the compromise findings and the hours from them, raw records."""
    ev = changes(t.api_activity, p.operations)
    links = identity_links(t, registry_for(t, p))
    links = links.select(l_user=links.user, l_principal=links.principal).distinct()
    ev = ev.left_join(links, ev.principal == links.l_principal)
    ev = ev.mutate(subject=ev.actor_user.coalesce(ev.l_user)).drop("l_user", "l_principal")
    ev = ev.filter(ev.subject.notnull())
    j = judged(t, p, ev)
    g = j.group_by("subject").aggregate(
        first_seen=j.time.min(),
        last_seen=j.time.max(),
        operations=j.api_operation.strip().collect(),
        principals=j.principal.collect(),
        targets=j.target_user.coalesce(j.resource).coalesce(j.target_id).collect(),
        target_types=j.target_type.collect(),
        request_parameters=j.request_parameters.collect(),
        modified_properties=j.modified_properties.collect(),
        sources=j.source.collect(),
        accounts=j.account.collect(),
        src_ips=j.src_ip.collect(),
        as_orgs=j.as_org.collect(),
        **judgement(j),
    )
    g = g.filter(g.compromise | g.from_spray_ip | g.from_infrastructure)
    return g.select(
        key=g.subject,
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.subject,
        entity_principal=g.principals,
        entity_src_ip=g.src_ips,
        severity=severity(g),
        operations=g.operations,
        targets=g.targets,
        target_types=g.target_types,
        request_parameters=g.request_parameters,
        modified_properties=g.modified_properties,
        sources=g.sources,
        accounts=g.accounts,
        as_orgs=g.as_orgs,
        compromise_findings=g.compromise_findings,
        compromise_detections=g.compromise_detections,
        from_spray_ip=g.from_spray_ip,
        from_infrastructure=g.from_infrastructure,
        hours_after_compromise=rounded(
            (g.first_change_after_compromise_ts - g.compromise_first_ts) / 3600, 1
        ),
        changes=g.changes,
        raw_refs=g.raw_refs,
    )


#: the evidence lists of a :func:`by_actor` finding
BY_ACTOR_LISTS = (
    "operations",
    "targets",
    "target_types",
    "request_parameters",
    "modified_properties",
    "sources",
    "accounts",
    "as_orgs",
    "compromise_findings",
    "compromise_detections",
    "raw_refs",
)


def by_actor_rows(rows: list[dict]) -> list[dict]:
    """``postprocess`` of a :func:`by_actor` detection: empty lists as lists, and the
    reasons."""
    rows = empty_lists(rows, BY_ACTOR_LISTS)
    for r in rows:
        r["reasons"] = reasons(r)
    return rows
