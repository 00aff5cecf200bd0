"""A person who, day after day, signs in from another country than the one the roster
says they work in (ATT&CK T1078 Valid Accounts — the claimed identity and the real
operator part ways).

**What it looks for.** A roster person's successful sign-ins from outside the
organisation's networks whose country (the identity provider's or the enrichment's
``src_country``) is not the claimed ``country``: one finding per person with at least
``min_days`` such days, making up at least ``min_share`` of the days they signed in at
all.

**Why.** The 2022 U.S. guidance on DPRK IT workers lists inconsistencies between a
worker's claimed location and where they log in from among its red flags. Most
operators hide behind VPNs and laptop farms (their own detections); this catches the
ones whose disguise slips — and, as plainly, anyone working from a country they were
not hired to work from.

**Evidence.** The claimed location and country, the countries seen with their days,
the days away and the share, addresses and AS organisations, raw records.

**Severity.** ``high`` when the share is at least ``high_share``; else ``medium``.

**False positives.** Travel: a trip is a few days and a small share of the month
(hence ``min_days`` and ``min_share``); a long assignment abroad that HR did not record
(fix the roster). A VPN whose exit is abroad — the VPN detection names it.
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
    id="workforce.location_contradiction",
    title="Employee working from another country than the claimed one",
    severity="medium",
    attack=("T1078",),
    tables=("workforce", "authentication"),
    description=(
        "On most of the days they sign in, a roster person's sign-ins come from a country "
        "other than the claimed work location's."
    ),
    false_positives="A long trip or assignment abroad not on the roster; a VPN exit abroad.",
    references=(
        "https://ofac.treasury.gov/media/923126/download?inline",
        "https://cloud.google.com/blog/topics/threat-intelligence/mitigating-dprk-it-worker-threat",
    ),
    params={"min_days": 5, "min_share": 0.5, "high_share": 0.8},
    runbook=(
        (
            "Check HR and travel records for an assignment or trip covering the days in the "
            "evidence."
        ),
        (
            "If none explains it, ask the person for a live video check-in and review their "
            "other signals (crownwatch workforce)."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    reg = registry_for(t, p)
    s = people_signins(t)
    s = s.filter(s.src_country.notnull() & s.r_country.notnull() & ~own_network(s, reg))
    s = s.mutate(day=s.time.date(), away=s.src_country.upper() != s.r_country.upper())
    per_country = s.filter(s.away).group_by(["user", "src_country"]).aggregate(n=s.day.nunique())
    per_country = per_country.group_by("user").aggregate(
        countries=per_country.src_country.concat(
            " (", per_country.n.cast("string"), " days)"
        ).collect()
    )
    g = s.group_by("user").aggregate(
        days=s.day.nunique(),
        days_away=s.day.nunique(where=s.away),
        first_seen=s.time.min(where=s.away),
        last_seen=s.time.max(where=s.away),
        claimed_location=s.r_location.max(),
        claimed_country=s.r_country.max(),
        src_ips=s.src_ip.collect(distinct=True, where=s.away),
        as_orgs=s.src_as_org.collect(distinct=True, where=s.away),
        raw_refs=s.ref.collect(distinct=True, where=s.away),
    )
    share = g.days_away / g.days
    g = g.filter((g.days_away >= p.min_days) & (share >= p.min_share))
    g = g.join(per_country, "user")
    share = g.days_away / g.days
    return g.select(
        key=g.user,
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.user,
        entity_src_ip=g.src_ips,
        severity=ibis.cases((share >= p.high_share, "high"), else_="medium"),
        claimed_location=g.claimed_location,
        claimed_country=g.claimed_country,
        countries=g.countries,
        days=g.days,
        days_away=g.days_away,
        share_away=rounded(share, 2),
        as_orgs=g.as_orgs,
        raw_refs=g.raw_refs,
    )


LISTS = ("countries", "as_orgs", "raw_refs")


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, LISTS)


def title(row: dict, p: Params) -> str:
    return (
        f"{row['entity_user']} claims {row['claimed_country']} but signs in from "
        f"{', '.join(sorted(row['countries']))} on {row['days_away']} of {row['days']} days"
    )
