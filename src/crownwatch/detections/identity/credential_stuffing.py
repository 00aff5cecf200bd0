"""Credential stuffing (ATT&CK T1110.004).

**What it looks for.** Username/password pairs from other sites' breaches replayed
against the sign-in page from a proxy pool: many addresses, many accounts, about one
attempt per pair — and a large share of names that do not exist here. A stuffing
list for ``@northwind-ai.com`` holds everyone who ever used that address anywhere:
people who left, people who never worked here, typos in the breach itself. A spray
list is built from the directory (or a guessed ``first.last`` format), so its
unknown-user share is small. That share is the tell.

**How.**

1. Credential failures from addresses new to the failing account
   (``_common.stranger_failures``).
2. Grouped by target ``service`` only — stuffing tools (OpenBullet, SilverBullet)
   randomise the user agent per request, so a user-agent signature would shatter the
   campaign — into clusters with no gap longer than ``gap_hours``, sliced to
   ``lookback_hours``.
3. Stuck clients (more than ``max_attempts_per_user`` attempts) and single-source
   sprays (more than ``max_users_per_ip`` users on one address) are set aside.
4. Fires with at least ``min_users`` accounts that did not recover, from at least
   ``min_src_ips`` addresses, an unknown-user share of at least
   ``min_unknown_user_share`` and at least ``min_reasons`` kinds of failure (bad
   password *and* unknown user at least — a list of only unknown names is a
   directory-harvesting probe, not a replay of real pairs).

**False positives and how they are handled.**

* Users mistyping their own name: they fail from their own addresses and recover.
* A newly federated domain whose users are not provisioned yet: unknown-user
  failures from the users' own addresses, before any success there — these do look
  like strangers. They share one or two addresses (the office), so ``min_src_ips``
  holds them back; raise it if your staff work from many home addresses.
* Breach-notification or password-manager health checks run by your own security
  team: list their user agents in ``exclude_user_agents``.

Compared with Sentinel's Okta "Failed Logins from Unknown or Invalid User" (15
``VERIFICATION_ERROR`` per user and IP in 5 minutes — a botnet sends one) and
Elastic's Okta device-token stuffing rule (one client address), this needs neither
one address nor one device: the unknown-user share over a pool of addresses is what
separates a breach list from a spray list.
"""

from __future__ import annotations

import ibis

from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.identity._common import (
    cluster_details,
    cluster_stats,
    clusters,
    stranger_failures,
)

META = Meta(
    id="identity.credential_stuffing",
    title="Credential stuffing from a pool of addresses",
    severity="high",
    attack=("T1110.004",),
    tables=("authentication",),
    description=(
        "Many addresses replaying many credential pairs, a large share of them for accounts "
        "that do not exist."
    ),
    false_positives=(
        "Typos (recovery, own-address tests); unprovisioned federated users (min_src_ips); "
        "own breach-check tooling (exclude_user_agents)."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1110/004/",
        "https://owasp.org/www-community/attacks/Credential_stuffing",
        "https://github.com/Azure/Azure-Sentinel/tree/master/Solutions/Okta%20Single%20Sign-On/Analytic%20Rules",
    ),
    params={
        "min_users": 20,
        "min_src_ips": 5,
        "min_unknown_user_share": 0.3,
        "min_reasons": 2,
        "max_users_per_ip": 9,
        "max_attempts_per_user": 3,
        "gap_hours": 2,
        "lookback_hours": 24,
        "recovery_minutes": 30,
        "critical_users": 500,
        "exclude_user_agents": [],
    },
    runbook=(
        (
            "Turn on bot protection or rate limiting for the targeted service (CAPTCHA, the "
            "identity provider's bot detection, throttling per network)."
        ),
        (
            "Force a password reset for the accounts in the list that exist here (their passwords"
            " are in someone's breach dump) and revoke the sessions of any that then signed in."
        ),
        (
            "Require MFA for those accounts and remove MFA methods registered since the campaign "
            "began."
        ),
    ),
)

SIGNATURE = ["service"]


def _clustered(auth: ibis.Table, p: Params) -> tuple[ibis.Table, ibis.Table]:
    fails = stranger_failures(auth, p.recovery_minutes * 60)
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
        & (s.unknown_user_share >= p.min_unknown_user_share)
        & (s.reasons >= p.min_reasons)
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
        unknown_user_attempts=out.unknown_user_attempts,
        unknown_user_share=out.unknown_user_share,
        bad_password_attempts=out.bad_password_attempts,
        locked_attempts=out.locked_attempts,
        distinct_reasons=out.reasons,
        attempts_per_ip=out.attempts_per_ip,
        distinct_asns=out.asns,
        distinct_countries=out.countries,
        user_agents=out.user_agents,
        user_domains=out.user_domains,
        services=out.services,
        src_as_orgs=out.src_as_orgs,
        src_countries=out.src_countries,
        sources=out.sources,
        raw_refs=out.raw_refs,
        raw_refs_total=out.raw_refs_total,
    )


def title(row: dict, p: Params) -> str:
    return (
        f"Credential stuffing: {row['distinct_users']} accounts from {row['distinct_src_ips']} "
        f"addresses, {row['unknown_user_share']:.0%} of them unknown names"
    )
