"""Distributed, low-and-slow password spray (ATT&CK T1110.003).

**What it looks for.** The same spray as ``identity.password_spray``, spread over
many addresses (residential proxies, a botnet, cloud hosts that rotate every few
attempts) and over hours to days, so that no single address ever crosses a per-IP
threshold. MURKY PANDA and Midnight Blizzard both sprayed this way: each address
touches a handful of accounts, the campaign as a whole touches hundreds.

**Why it is findable.** What the addresses share is the *tool*: one user agent, one
target (the Okta sign-in, one app's legacy endpoint), and the same failure. And the
accounts they touch do not recover — nobody behind them is trying to sign in.

**How.**

1. Credential failures (bad password, unknown user, locked) from an address the
   failing user had never signed in from before (``_common.stranger_failures``): the
   real owner fails from their own devices, a botnet from addresses new to everyone.
2. Grouped by signature — ``user_agent`` + ``service`` — into clusters: runs with no
   quiet gap longer than ``gap_hours``, cut into ``lookback_hours`` slices so an
   unrelated trickle never accumulates into one cluster over weeks.
3. Inside a cluster, users with more than ``max_attempts_per_user`` attempts (a
   stuck phone) and addresses with more than ``max_users_per_ip`` users (a
   single-source spray — ``identity.password_spray`` reports it) are set aside.
4. A cluster fires with at least ``min_users`` accounts that did not recover (no
   successful sign-in within ``recovery_minutes``), from at least ``min_src_ips``
   addresses, at most ``max_attempts_per_ip`` attempts per address on average, and an
   unknown-user share below ``max_unknown_user_share`` — above it, the list is a
   breach dump, not a directory, and ``identity.credential_stuffing`` reports it.

**False positives and how they are handled.**

* An office NAT or VPN after a password rotation: those users fail from addresses
  they own and then sign in — neither stranger failures nor unrecovered.
* Phones retrying a stale password from changing carrier addresses: many attempts
  per user — set aside by ``max_attempts_per_user``.
* Ordinary typos by travellers on new hotel networks: they recover, and they do not
  share one signature in volume.
* The first day of a source's logs, when nobody has an address of their own yet: for
  ``_common.WARMUP_SECONDS`` (24 h) an address the user signs in from at any time
  inside that day counts as theirs (without it, a 40,000-user tenant's first day of
  ordinary typos fired three clusters on the 10M benchmark).
* A day of Kerberos unlock typos from desks and VPN pools (no user agent, one domain
  controller: one "signature"): internal addresses are not clustered at all —
  rotating spray infrastructure is on the Internet; an internal spray from one host is
  ``identity.password_spray``'s.
* An attacker who rotates user agents splits the cluster; ``identity.credential_stuffing``
  groups by target alone, and the after-spray detections still key on the user.

Compared with Sentinel's "Password spray attack against Microsoft Entra ID
application", Splunk ESCU's "Okta Multiple Users Failing To Authenticate From Ip"
(more than 10 users from one IP in 5 minutes) and Elastic's Okta rules and
"Password Spraying from Repeat Source" hunt — all keyed on one source address, so
blind by construction to an address that tries three users a day — this counts
across addresses, and it needs no allowlist of corporate egress addresses because an
address becomes a user's own only once that user has signed in from it.
"""

from __future__ import annotations

import ibis

from crownwatch.detections._num import rounded
from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.identity._common import (
    cluster_details,
    cluster_stats,
    clusters,
    is_private_ip,
    stranger_failures,
)

META = Meta(
    id="identity.distributed_spray",
    title="Distributed password spray across many addresses",
    severity="high",
    attack=("T1110.003",),
    tables=("authentication",),
    description=(
        "Many addresses, each below any per-IP threshold, failing sign-ins against many "
        "accounts with one tool signature over hours to days."
    ),
    false_positives=(
        "Password rotations (recovery and own-address tests); phones with stale passwords "
        "(max_attempts_per_user); authorised testing (exclude_user_agents)."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1110/003/",
        "https://www.microsoft.com/en-us/security/blog/2024/01/25/midnight-blizzard-guidance-for-responders-on-nation-state-attack/",
        "https://github.com/Azure/Azure-Sentinel/blob/master/Solutions/Microsoft%20Entra%20ID/Analytic%20Rules/SigninPasswordSpray.yaml",
        "https://github.com/splunk/security_content/blob/develop/detections/application/okta_multiple_users_failing_to_authenticate_from_ip.yml",
    ),
    params={
        "min_users": 10,
        "min_src_ips": 5,
        "max_attempts_per_ip": 10.0,
        "max_users_per_ip": 9,
        "max_attempts_per_user": 6,
        "max_unknown_user_share": 0.3,
        "gap_hours": 6,
        "lookback_hours": 72,
        "recovery_minutes": 30,
        "critical_users": 100,
        "exclude_user_agents": [],
    },
    runbook=(
        (
            "Block or challenge the campaign's signature at the identity provider: its user agent"
            " on the targeted service and the hosting or proxy networks of its addresses; turn "
            "off legacy authentication if the service is a legacy endpoint."
        ),
        (
            "Reset the password and revoke the sessions of every targeted account with a later "
            "success or MFA challenge (identity.success_after_spray, "
            "identity.new_geo_after_spray); require MFA for the rest."
        ),
        (
            "Check the targeted accounts for MFA methods registered since the campaign began and "
            "remove unrecognised ones."
        ),
    ),
)

SIGNATURE = ["user_agent", "service"]


def _clustered(auth: ibis.Table, p: Params) -> tuple[ibis.Table, ibis.Table]:
    fails = stranger_failures(auth, p.recovery_minutes * 60)
    # Rotating infrastructure is on the Internet. Inside, a day of Kerberos unlock
    # typos from VPN pools and desks (no user agent, one domain controller) would
    # share a "signature" and read as one slow distributed spray.
    fails = fails.filter(~is_private_ip(fails.src_ip))
    if p.exclude_user_agents:
        fails = fails.filter(~fails.user_agent.isin(list(p.exclude_user_agents)))
    fails = clusters(
        fails,
        SIGNATURE,
        p.gap_hours * 3600,
        p.lookback_hours * 3600,
        p.max_attempts_per_user,
        p.max_users_per_ip,
    )
    s = cluster_stats(fails)
    hits = s.filter(
        (s.unrecovered_users >= p.min_users)
        & (s.src_ips >= p.min_src_ips)
        & (s.attempts_per_ip <= p.max_attempts_per_ip)
        & (s.unknown_user_share < p.max_unknown_user_share)
    )
    return fails, hits


def firing_attempts(auth: ibis.Table, p: Params) -> ibis.Table:
    """Every failure in a cluster that fires (the after-spray detections' exposure)."""
    fails, hits = _clustered(auth, p)
    return fails.semi_join(hits, "cluster")


def query(t: Tables, p: Params) -> ibis.Table:
    fails, hits = _clustered(t.authentication, p)
    out = hits.join(cluster_details(fails, hits), "cluster")
    return out.select(
        key=out.cluster,
        first_seen=out.first_seen,
        last_seen=out.last_seen,
        entity_src_ip=out.entity_src_ip,
        entity_user=out.entity_user,
        severity=ibis.ifelse(out.unrecovered_users >= p.critical_users, "critical", "high"),
        attempts=out.attempts,
        distinct_users=out.users,
        unrecovered_users=out.unrecovered_users,
        distinct_src_ips=out.src_ips,
        attempts_per_ip=out.attempts_per_ip,
        users_per_ip=out.users_per_ip,
        distinct_asns=out.asns,
        distinct_countries=out.countries,
        unknown_user_share=out.unknown_user_share,
        duration_hours=rounded((epoch_s(out.last_seen) - epoch_s(out.first_seen)) / 3600, 1),
        user_agents=out.user_agents,
        services=out.services,
        src_as_orgs=out.src_as_orgs,
        src_countries=out.src_countries,
        sources=out.sources,
        raw_refs=out.raw_refs,
        raw_refs_total=out.raw_refs_total,
    )


def title(row: dict, p: Params) -> str:
    return (
        f"Distributed password spray: {row['unrecovered_users']} accounts from "
        f"{row['distinct_src_ips']} addresses over {row['duration_hours']:.1f} h"
    )
