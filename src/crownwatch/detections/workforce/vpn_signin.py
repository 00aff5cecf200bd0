"""A roster person signing in, from onboarding on, through a VPN service, a proxy, or a
network watched for this tradecraft (ATT&CK T1090 Proxy, T1078 Valid Accounts).

**What it looks for.** Successful sign-ins (``authentication``) of people on the roster,
no earlier than ``grace_days`` before their start date, from outside the organisation's
own networks and either

* through an AS organisation matching ``vpn_as_orgs`` (a name match on
  ``src_as_org``, lower case — Astrill VPN by default: Mandiant's 2024 reporting names it
  as the VPN DPRK IT workers favour),
* from an ASN in ``watched_asns`` (by default AS131279, Star Joint Venture — North
  Korea's own address space, reached through China Unicom: RIPE Labs' study, republished
  on the APNIC blog in 2015), or
* flagged as a proxy by the identity provider (``is_proxy``: Okta's
  ``securityContext.isProxy`` covers anonymisers and residential proxies), when
  ``use_proxy_flag``.

One finding per person with at least ``min_signins`` such sign-in events (an Okta
sign-in is two: the session start and the SSO into the app).

**Why.** An operator abroad must look local: Mandiant and the FBI describe DPRK IT
workers signing in through commercial VPNs and proxies from their first day, and the
2022 U.S. guidance lists logins from many addresses worldwide as a red flag. An
ordinary employee uses the corporate VPN (own network: never counted) or none.

**Evidence.** Sign-ins through such networks, all of the person's sign-ins since
onboarding and the share, the providers (AS organisations), ASNs and countries, the
days since the start date of the first one, sources, raw records.

**Severity.** ``high`` from a watched ASN, or when at least ``high_share`` of the
person's sign-ins since onboarding went this way; otherwise ``medium``.

**False positives.** Privacy-minded employees on a personal VPN (medium, a low share);
a travelling employee behind a hotel's proxy (a few sign-ins). Add the organisation's
own VPN egress to ``[organisation] own_asns`` / ``own_cidrs``.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._num import rounded
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.workforce._common import people_signins
from crownwatch.enrichment.places import own_network

META = Meta(
    id="workforce.vpn_signin",
    title="Employee signing in through a VPN service, proxy or watched network",
    severity="medium",
    attack=("T1090", "T1078"),
    tables=("workforce", "authentication"),
    description=(
        "From onboarding on, a roster person's successful sign-ins come through a VPN service "
        "(Astrill by default), a watched ASN or an address the identity provider calls a proxy."
    ),
    false_positives=(
        "Employees on a personal VPN; the organisation's own VPN when it is not listed in "
        "own_asns / own_cidrs."
    ),
    references=(
        "https://cloud.google.com/blog/topics/threat-intelligence/mitigating-dprk-it-worker-threat",
        "https://www.ic3.gov/PSA/2025/PSA250123",
        "https://blog.apnic.net/2015/08/31/the-internet-in-north-korea-hanging-by-a-single-thread",
        "https://developer.okta.com/docs/reference/api/system-log/",
    ),
    params={
        "vpn_as_orgs": ["astrill"],
        "watched_asns": [131279],
        "use_proxy_flag": True,
        "grace_days": 14,
        "min_signins": 2,
        "high_share": 0.5,
    },
    runbook=(
        (
            "Ask the person which VPN they use and why; compare the provider's exit countries "
            "with their claimed location."
        ),
        (
            "Look at the person's other signals (crownwatch workforce) and the devices they "
            "sign in from."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    reg = registry_for(t, p)
    s = people_signins(t)
    since = s.r_start - ibis.interval(days=int(p.grace_days))
    s = s.filter((s.r_start.isnull() | (s.time.date() >= since)) & ~own_network(s, reg))
    org = s.src_as_org.lower().fill_null("")
    by_name = ibis.literal(False)
    for name in p.vpn_as_orgs:
        by_name = by_name | org.contains(str(name).lower())
    watched = s.src_asn.isin([int(a) for a in p.watched_asns]).fill_null(False)
    proxy = s.is_proxy.fill_null(False) if p.use_proxy_flag else ibis.literal(False)
    s = s.mutate(hit=by_name | watched | proxy, watched=watched)
    g = s.group_by("user").aggregate(
        vpn_signins=s.hit.sum(),
        signins=s.count(),
        watched_signins=s.watched.sum(),
        first_seen=s.time.min(where=s.hit),
        last_seen=s.time.max(where=s.hit),
        providers=s.src_as_org.collect(distinct=True, where=s.hit),
        asns=s.src_asn.cast("string").collect(distinct=True, where=s.hit),
        countries=s.src_country.collect(distinct=True, where=s.hit),
        src_ips=s.src_ip.collect(distinct=True, where=s.hit),
        sources=s.source.collect(distinct=True, where=s.hit),
        start_date=s.r_start.max(),
        claimed_location=s.r_location.max(),
        raw_refs=s.ref.collect(distinct=True, where=s.hit),
    )
    g = g.filter(g.vpn_signins >= p.min_signins)
    share = g.vpn_signins / g.signins
    days_in = g.first_seen.date().delta(g.start_date, unit="day")
    return g.select(
        key=g.user,
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.user,
        entity_src_ip=g.src_ips,
        severity=ibis.cases(
            ((g.watched_signins > 0) | (share >= p.high_share), "high"), else_="medium"
        ),
        vpn_signins=g.vpn_signins,
        signins=g.signins,
        share=rounded(share, 2),
        providers=g.providers,
        asns=g.asns,
        countries=g.countries,
        sources=g.sources,
        start_date=g.start_date.cast("string"),
        days_after_start=days_in,
        claimed_location=g.claimed_location,
        raw_refs=g.raw_refs,
    )


LISTS = ("providers", "asns", "countries", "sources", "raw_refs")


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, LISTS)


def title(row: dict, p: Params) -> str:
    via = ", ".join(sorted(row["providers"])) or "proxies"
    return (
        f"{row['entity_user']} signs in through {via}: {row['vpn_signins']} of "
        f"{row['signins']} sign-ins"
    )
