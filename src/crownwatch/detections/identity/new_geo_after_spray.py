"""First sign-in from a new country or network for a sprayed account (ATT&CK T1078).

**What it looks for.** An account that was on the receiving end of a spray (single
source, distributed or stuffing, as the spray detectors define it —
``_spray.spray_exposures``) and then, within ``window_hours``, signs in
successfully from a country or an autonomous system (ASN) it had never signed in
from during the ``baseline_days`` before the spray. A valid-account login from
new ground right after someone was guessing that account's password is the
moment a spray turns into access.

**How.** Per exposed user, the baseline is the set of countries and ASNs of their
successful sign-ins in the ``baseline_days`` before their first spray attempt;
at least ``min_baseline_successes`` are needed (without history, "new" means
nothing — ``identity.success_after_spray`` still covers such accounts). Each
success after the first spray attempt whose country or ASN is outside the baseline
counts; one finding per user.

Exposure counts every spray attempt, recovered or not: the attacker's own success
right after a guess "recovers" the account in the recovery test's sense, and must
not erase the exposure.

**False positives and how they are handled.**

* A traveller signing in from a new country with no spray against their account:
  not exposed, so silent — an impossible-travel rule is the place for that.
* A sprayed user who signs in from home or the office as usual: the baseline
  contains that country and ASN.
* A sprayed user who really does travel within ``window_hours`` of the spray, with
  their own client (a user agent they signed in with before the spray) on an
  ordinary network: quiet — an org-wide spray makes every traveller of the week a
  sprayed user. The price: an attacker who replays the victim's exact user agent
  from a residential network is left to ``success_after_spray`` (its new-ground and
  second-factor rules) and the chain detections. From a hosting or proxy network, or
  with a client the user never used, new ground fires.
* The organisation's own egress — a VPN exit in another country, the office NAT
  (``[organisation] own_asns`` / ``own_cidrs``, private addresses): never new, by the
  rule every "new place" detection shares
  (:func:`crownwatch.enrichment.places.own_network`).

Compared with Sentinel's and Elastic's "sign-in from a new country" anomaly rules,
which fire for every traveller, this asks for the precondition that makes a new
location dangerous; compared with Okta ThreatInsight, it also recognises exposure to
distributed sprays that no single address reveals.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._num import rounded
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.identity._common import earliest, success_places
from crownwatch.detections.identity._spray import exposed_outcomes, run_exposures
from crownwatch.enrichment.hosting import hosting_or_proxy
from crownwatch.enrichment.places import own_network

META = Meta(
    id="identity.new_geo_after_spray",
    title="Sprayed account signed in from a new country or network",
    severity="high",
    attack=("T1078", "T1110.003"),
    tables=("authentication",),
    description=(
        "A successful sign-in from a country or ASN new to the user, within days of a "
        "password spray against that user."
    ),
    false_positives=(
        "A sprayed user who also happens to travel within window_hours of the spray. "
        "Networks several colleagues used before the spray (org_known_asn_users) and users "
        "with too little history (min_baseline_successes) are not judged."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1078/",
        "https://www.cisa.gov/news-events/cybersecurity-advisories/aa24-057a",
    ),
    params={
        "window_hours": 168,
        "baseline_days": 30,
        "min_baseline_successes": 5,
        "org_known_asn_users": 3,
    },
    runbook=(
        (
            "Ask the user out of band (phone or chat, not e-mail) whether they signed in from "
            "that country and network."
        ),
        (
            "If not: reset the password, revoke the sessions, remove MFA methods registered since"
            " the spray, and block the new network's addresses."
        ),
        "Review what the account did from the new place.",
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    auth = t.authentication
    expo = run_exposures(t)
    exposed = expo.group_by("user").aggregate(
        expo_first=expo.ts.min(),
        spray_first=expo.time.min(),
        spray_last=expo.time.max(),
        spray_attempts=expo.count(),
        spray_src_ips=expo.src_ip.collect(),
        spray_kinds=expo.kind.collect(),
    )

    succ = exposed_outcomes(t)
    succ = succ.filter(succ.status == "success")
    succ = succ.select(
        "user",
        "src_ip",
        "src_asn",
        "src_as_org",
        "src_country",
        "user_agent",
        "is_proxy",
        "time",
        "ref",
        "expo_first",
        s_ts=succ.ok_ts,
    )

    base = succ.filter(
        (succ.s_ts < succ.expo_first) & (succ.s_ts >= succ.expo_first - p.baseline_days * 86400)
    )
    base_n = base.group_by("user").aggregate(baseline_successes=base.count())
    base_n = base_n.filter(base_n.baseline_successes >= p.min_baseline_successes)
    base_c = (
        base.filter(base.src_country.notnull())
        .select(bc_user="user", bc=base.src_country)
        .distinct()
    )
    base_a = base.filter(base.src_asn.notnull()).select(ba_user="user", ba=base.src_asn).distinct()
    summary = base.group_by("user").aggregate(
        baseline_countries=base.src_country.collect(),
        baseline_asns=base.src_asn.collect(),
    )

    after = succ.filter(
        (succ.s_ts >= succ.expo_first) & (succ.s_ts - succ.expo_first <= p.window_hours * 3600)
    )
    after = after.semi_join(base_n, "user")
    after = after.left_join(
        base_c, (after.user == base_c.bc_user) & (after.src_country == base_c.bc)
    )
    after = after.left_join(base_a, (after.user == base_a.ba_user) & (after.src_asn == base_a.ba))
    # A network is only "new ground" if it is new to the organisation too: home and
    # mobile ISPs that several colleagues signed in from before the spray are where
    # people work from, not where an attacker comes from (the demo's week of data
    # raised ~50 such findings for one planted intrusion before this test).
    places = success_places(auth)
    org = (
        places.filter(places.src_asn.notnull())
        .group_by(["src_asn", "user"])
        .aggregate(o_first=places.first_ts.min())
    )
    pairs = (
        after.filter(after.src_asn.notnull())
        .select(p_user=after.user, p_asn=after.src_asn, p_expo=after.expo_first)
        .distinct()
    )
    # (each network's first org_known_asn_users + 1 users are enough to tell: a home
    # ISP's thousands joined to each sprayed user on it were quadratic)
    org = earliest(org, "src_asn", "o_first", p.org_known_asn_users + 1)
    known = pairs.join(
        org,
        (pairs.p_asn == org.src_asn) & (org.user != pairs.p_user) & (org.o_first < pairs.p_expo),
    )
    known = known.group_by(["p_user", "p_asn"]).aggregate(o_users=known.user.nunique())
    known = known.filter(known.o_users >= p.org_known_asn_users)
    after = after.left_join(known, (after.user == known.p_user) & (after.src_asn == known.p_asn))
    # Our own egress (a VPN exit abroad, the office NAT: [organisation] own_asns,
    # own_cidrs) is never a new place — the same rule as every "new place" detection.
    own = own_network(after, registry_for(t, p))
    after = after.mutate(
        new_country=after.src_country.notnull() & after.bc.isnull() & ~own,
        new_asn=after.src_asn.notnull() & after.ba.isnull() & after.o_users.isnull() & ~own,
    )
    # New ground with the user's own client, on an ordinary (not hosting, not proxy)
    # network, is the user travelling: an org-wide spray makes every traveller of the
    # week "sprayed", and their hotel or roaming network is not an attacker's.
    clients = places.group_by(["user", "user_agent"]).aggregate(ua_first=places.first_ts.min())
    clients = clients.select(c_user="user", c_ua="user_agent", ua_first="ua_first")
    after = after.left_join(
        clients, (after.user == clients.c_user) & (after.user_agent == clients.c_ua)
    )
    own_client = (after.ua_first.notnull() & (after.ua_first < after.expo_first)).fill_null(False)
    infra = hosting_or_proxy(after.src_as_org, after.is_proxy)
    after = after.mutate(travelling=own_client & ~infra)
    new = after.filter((after.new_country | after.new_asn) & ~after.travelling)

    per_user = new.group_by("user").aggregate(
        first_new_ts=new.s_ts.min(),
        first_new_time=new.time.min(),
        last_seen=new.time.max(),
        new_successes=new.count(),
        new_countries=new.src_country.collect(where=new.new_country),
        new_asns=new.src_asn.collect(where=new.new_asn),
        new_as_orgs=new.src_as_org.collect(),
        new_src_ips=new.src_ip.collect(),
        user_agents=new.user_agent.collect(),
        raw_refs=new.ref.collect(),
    )
    out = per_user.join(exposed, "user").join(base_n, "user").join(summary, "user")
    return out.select(
        key=out.user.concat("@", out.first_new_ts.cast("string")),
        first_seen=out.spray_first,
        last_seen=out.last_seen,
        entity_user=out.user,
        entity_src_ip=out.spray_src_ips.concat(out.new_src_ips),
        new_countries=out.new_countries,
        new_asns=out.new_asns,
        new_as_orgs=out.new_as_orgs,
        new_src_ips=out.new_src_ips,
        first_new_sign_in=out.first_new_time,
        new_successes=out.new_successes,
        hours_after_spray=rounded((out.first_new_ts - out.expo_first) / 3600, 1),
        baseline_countries=out.baseline_countries,
        baseline_asns=out.baseline_asns,
        baseline_successes=out.baseline_successes,
        spray_first_seen=out.spray_first,
        spray_last_seen=out.spray_last,
        spray_attempts=out.spray_attempts,
        spray_src_ips=out.spray_src_ips,
        spray_kinds=out.spray_kinds,
        user_agents=out.user_agents,
        raw_refs=out.raw_refs,
    )


def title(row: dict, p: Params) -> str:
    where = ", ".join(sorted(set(row["new_countries"] or []))) or "AS" + ", AS".join(
        str(a) for a in sorted(set(row["new_asns"] or []))
    )
    return (
        f"Sprayed account {row['entity_user']} signed in from new ground ({where}), "
        f"{row['hours_after_spray']:.1f} h after the spray"
    )
