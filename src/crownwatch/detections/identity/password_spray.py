"""Password spray from one source (ATT&CK T1110.003).

**What it looks for.** One source address trying passwords against many accounts,
few attempts each — staying under the lockout threshold is the whole point of a
spray. MURKY PANDA's 2025–26 spraying reached more than 340 US organisations.

**How.** Credential failures (bad password, unknown user, locked) are grouped per
source IP into *runs* — bursts separated by more than ``gap_minutes`` of quiet, so a
spray that straddles midnight stays one finding. A run fires when it holds at least
``min_users`` accounts that did **not** recover — recovery being a successful
sign-in by the same user within ``recovery_minutes`` (see ``_common.with_recovery``)
— with at most ``max_attempts_per_user`` attempts per account on average.

**False positives and how they are handled.**

* An office NAT the morning after a forced password rotation: dozens of users fail
  once or twice, then sign in. They recover, so they do not count — yet a real spray
  from the same NAT on any day still fires, because sprayed accounts do not recover.
  Suppressing the NAT address outright (what many SIEM rules do) would blind you to it.
* A service account retrying a stale password: one account, so never a spray (the
  brute-force detection owns that shape and knows it).
* Authorised testing: list the tester's addresses in ``exclude_src_ips``.

Compared with Elastic's "Potential password spraying" and Sentinel's "Password
spray attack against Azure AD application", which count distinct failed users per
IP in a fixed window, the recovery test keeps the rule quiet after password
rotations without an allowlist of corporate egress IPs.
"""

from __future__ import annotations

import ibis

from crownwatch.detect import shared
from crownwatch.detections._time import epoch_s
from crownwatch.detections.base import Meta
from crownwatch.detections.identity._common import (
    raw_ref,
    single_source_runs,
    spray_runs,
    with_recovery,
)

META = Meta(
    id="identity.password_spray",
    title="Password spray from a single source",
    severity="high",
    attack=("T1110.003",),
    tables=("authentication",),
    description="One source IP failing sign-ins against many accounts with few attempts each.",
    false_positives=(
        "Office NAT after a password rotation (suppressed by the recovery test); "
        "vulnerability scanners and red teams (exclude_src_ips)."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1110/003/",
        "https://www.elastic.co/guide/en/security/current/potential-password-spraying-attack.html",
        "https://learn.microsoft.com/en-us/entra/identity/authentication/howto-password-smart-lockout",
    ),
    params={
        "min_users": 10,
        "max_attempts_per_user": 5.0,
        "gap_minutes": 60,
        "recovery_minutes": 30,
        "critical_users": 100,
        "exclude_src_ips": [],
    },
)


def _runs(auth, p) -> tuple[ibis.Table, ibis.Table]:
    def build() -> ibis.Table:
        fails = with_recovery(auth, p.recovery_minutes * 60)
        if p.exclude_src_ips:
            fails = fails.filter(~fails.src_ip.isin(list(p.exclude_src_ips)))
        return single_source_runs(fails, p.gap_minutes * 60)

    # the runs are cut once per run of the detections: the spray exposures
    # (default thresholds) and this detection (configured ones, usually the same)
    key = f"identity.password_spray.runs:{p.recovery_minutes}:{p.gap_minutes}:{sorted(p.exclude_src_ips)}"
    fails = shared(key, build)
    return fails, spray_runs(fails, p.min_users, p.max_attempts_per_user)


def firing_attempts(auth, p) -> ibis.Table:
    """Every failure in a run that fires — what the after-spray detections call
    'exposure' (``identity.success_after_spray``, ``identity.new_geo_after_spray``)."""
    fails, hits = _runs(auth, p)
    return fails.semi_join(hits, ["src_ip", "run"])


def query(t, p) -> ibis.Table:
    fails, hits = _runs(t.authentication, p)

    # Details only for the runs that fired: the join keeps the heavy collect() small.
    d = fails.semi_join(hits, ["src_ip", "run"])
    details = d.group_by(["src_ip", "run"]).aggregate(
        entity_user=d.user.collect(),
        sources=d.source.collect(),
        src_asn=d.src_asn.max(),
        src_country=d.src_country.max(),
        user_agents=d.user_agent.collect(),
        raw_refs=raw_ref(d).collect(),
    )
    out = hits.join(details, ["src_ip", "run"])
    return out.select(
        key=out.src_ip.concat("@", epoch_s(out.first_seen).cast("string")),
        first_seen=out.first_seen,
        last_seen=out.last_seen,
        entity_src_ip=out.src_ip,
        entity_user=out.entity_user,
        severity=ibis.ifelse(out.unrecovered_users >= p.critical_users, "critical", "high"),
        attempts=out.attempts,
        distinct_users=out.users,
        unrecovered_users=out.unrecovered_users,
        attempts_per_user=out.attempts_per_user.round(2),
        unknown_user_attempts=out.unknown_user_attempts,
        locked_attempts=out.locked_attempts,
        src_asn=out.src_asn,
        src_country=out.src_country,
        user_agents=out.user_agents,
        sources=out.sources,
        raw_refs=out.raw_refs,
    )


def title(row, p) -> str:
    return (
        f"Password spray from {row['entity_src_ip']}: {row['unrecovered_users']} accounts, "
        f"{row['attempts_per_user']:.1f} attempts each"
    )
