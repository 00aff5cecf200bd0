"""Password spray and password guessing from a single source (ATT&CK T1110.003, T1110.001).

**What it looks for.** One source trying passwords against many accounts, few
attempts each — staying under the lockout threshold is the whole point of a spray.
MURKY PANDA's 2025–26 spraying reached more than 340 US organisations. And two
smaller shapes the spray's count misses, seen in real attack logs:

* **machine speed** — a burst of failures no human types: at least
  ``burst_min_attempts`` failures on two or more accounts, each within
  ``burst_gap_seconds`` of the last (a dozen guesses at local accounts in a few
  milliseconds, a tool walking a user list). Whatever the total.
* **guessing from an outside address** — at least ``min_source_attempts`` failures
  that did not recover, on two or more accounts, from a public address that is not
  the organisation's: an Internet host with a couple of dozen failed SSH logins over
  ``root``, ``admin``, ``ubuntu`` is an attack even though no spray threshold is met.

A *source* is the address; for attempts that carry none but name the client machine
(NTLM validation on a domain controller, a local logon: Windows' ``Workstation``) it
is ``host:<name>`` (``_common.origin``), so an address-less burst from one machine
is still one source.

**How.** Credential failures (bad password, unknown user, locked) are grouped per
source into *runs* — bursts separated by more than ``gap_minutes`` of quiet, so a
spray that straddles midnight stays one finding. A run fires as a *spray* when it
holds at least ``min_users`` accounts that did **not** recover — recovery being a
successful sign-in by the same user from the same source within
``recovery_minutes`` (see ``_common.with_recovery``) — with at most
``max_attempts_per_user`` attempts per account on average; as *machine speed* or
*guessing* as above. Bursts count only failures that did not recover.

**False positives and how they are handled.**

* An office NAT the morning after a forced password rotation: dozens of users fail
  once or twice, then sign in. They recover, so they do not count — yet a real spray
  from the same NAT on any day still fires, because sprayed accounts do not recover.
  Suppressing the NAT address outright (what many SIEM rules do) would blind you to it.
  The burst and guessing shapes skip addresses ``org_ip_min_users`` people sign in
  from successfully: a busy NAT's unrelated failures may chain within seconds, and
  its stale phones add up to dozens of unrecovered failures a day.
* A service account retrying a stale password: one account, so never a spray, a
  burst or guessing here (the brute-force detection owns that shape and knows it).
* Authorised testing: list the tester's addresses in ``exclude_src_ips``.

Compared with Elastic's "Potential password spraying" and Sentinel's "Password
spray attack against Azure AD application", which count distinct failed users per
IP in a fixed window, the recovery test keeps the rule quiet after password
rotations without an allowlist of corporate egress IPs.
"""

from __future__ import annotations

import ibis

from crownwatch.detections._evidence import entities, samples, with_ref_samples
from crownwatch.detections._num import rounded
from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import Meta, Params, Tables, shared
from crownwatch.detections.identity._common import (
    burst_runs,
    first_success_at,
    is_private_ip,
    raw_ref,
    run_stats,
    single_source_runs,
    with_recovery,
)

META = Meta(
    id="identity.password_spray",
    title="Password spray or guessing from a single source",
    severity="high",
    attack=("T1110.003",),
    tables=("authentication",),
    description=(
        "One source failing sign-ins against many accounts with few attempts each, at "
        "machine speed, or many times from an outside address."
    ),
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
        "burst_min_attempts": 10,
        "burst_gap_seconds": 2,
        "min_source_attempts": 20,
        "org_ip_min_users": 3,
        "exclude_src_ips": [],
    },
    runbook=(
        (
            "Block the source address at the identity provider, VPN and firewall (a host: source "
            "is a machine to contain); an authorised scanner goes in exclude_src_ips."
        ),
        (
            "Reset the password, revoke the sessions and require MFA for every targeted account "
            "whose password then proved right (identity.success_after_spray names them; also "
            "search for successes from the source)."
        ),
        (
            "Check the targeted accounts for MFA methods registered since the spray began and "
            "remove any their owners do not recognise."
        ),
    ),
)


def _runs(auth: ibis.Table, p: Params) -> tuple[ibis.Table, ibis.Table]:
    def build() -> ibis.Table:
        fails = with_recovery(auth, p.recovery_minutes * 60)
        if p.exclude_src_ips:
            fails = fails.filter(~fails.src_ip.isin(list(p.exclude_src_ips)))
        return single_source_runs(fails, p.gap_minutes * 60)

    # the runs are cut once per run of the detections: the spray exposures
    # (default thresholds) and this detection (configured ones, usually the same)
    key = f"identity.password_spray.runs:{p.recovery_minutes}:{p.gap_minutes}:{sorted(p.exclude_src_ips)}"
    fails = shared(key, build)
    return fails, _hits(auth, fails, p)


def _hits(auth: ibis.Table, fails: ibis.Table, p: Params) -> ibis.Table:
    """One row per firing run, with which shapes it has (spray, burst, guessing)."""
    per_run = run_stats(fails)
    spray = (per_run.unrecovered_users >= p.min_users) & (
        per_run.attempts_per_user <= p.max_attempts_per_user
    )
    small = min(p.burst_min_attempts, p.min_source_attempts)
    cand = per_run.filter(~spray & (per_run.unrecovered_attempts >= small) & (per_run.users >= 2))

    # The organisation's own addresses: ones several people sign in from. Counted over
    # the whole log, not only before the run: an office NAT's failures never pause for
    # an hour, so its run can start with the log itself, before anyone had signed in.
    # An outside guesser does not get several accounts' passwords right from its own
    # address (and if it did, success_after_spray has it).
    known = first_success_at(auth)
    seen = cand.select("origin", "run").distinct().join(known, cand.origin == known.src_ip)
    seen = seen.group_by(["origin", "run"]).aggregate(known_users=seen.user.nunique())
    cand = cand.left_join(seen, ["origin", "run"]).drop("origin_right", "run_right")
    org = cand.known_users.fill_null(0) >= p.org_ip_min_users

    # machine speed: unrecovered failures of this source chained within seconds
    un = fails.filter(~fails.recovered).semi_join(cand, ["origin", "run"])
    bursts = burst_runs(un, "origin", p.burst_gap_seconds, p.burst_min_attempts)
    inside = cand.select("origin", "run", "start_ts", "end_ts").join(bursts, "origin")
    inside = inside.filter((inside.b_start >= inside.start_ts) & (inside.b_start <= inside.end_ts))
    inside = inside.group_by(["origin", "run"]).aggregate(
        burst_attempts=inside.b_attempts.max(),
        burst_seconds=(inside.b_end - inside.b_start).max(),
    )
    cand = cand.left_join(inside, ["origin", "run"]).drop("origin_right", "run_right")
    outside = cand.src_ip.notnull() & ~is_private_ip(cand.src_ip) & ~org
    cand = cand.mutate(
        machine_speed=cand.burst_attempts.notnull() & ~org,
        guessing=outside & (cand.unrecovered_attempts >= p.min_source_attempts),
    )
    cand = cand.filter(cand.machine_speed | cand.guessing)
    cols = [c for c in per_run.columns]
    sprays = per_run.filter(spray).mutate(
        machine_speed=ibis.literal(False),
        guessing=ibis.literal(False),
        burst_attempts=ibis.null("int64"),
        burst_seconds=ibis.null("int64"),
    )
    extra = ["machine_speed", "guessing", "burst_attempts", "burst_seconds"]
    return ibis.union(sprays.select(*cols, *extra), cand.select(*cols, *extra))


def firing_attempts(auth: ibis.Table, p: Params) -> ibis.Table:
    """Every failure in a run that fires — what the after-spray detections call
    'exposure' (``identity.success_after_spray``, ``identity.new_geo_after_spray``)."""
    fails, hits = _runs(auth, p)
    return fails.semi_join(hits, ["origin", "run"])


def query(t: Tables, p: Params) -> ibis.Table:
    fails, hits = _runs(t.authentication, p)

    # Details only for the runs that fired: the join keeps the heavy collect() small.
    # Each list distinct and cut in the engine to what the finding keeps of it: an
    # org-wide spray is a run of as many failures as the organisation has accounts.
    d = fails.semi_join(hits, ["origin", "run"])
    details = d.group_by(["origin", "run"]).aggregate(
        entity_user=d.user.collect(distinct=True),
        sources=d.source.collect(distinct=True),
        src_asn=d.src_asn.max(),
        src_country=d.src_country.max(),
        user_agents=d.user_agent.collect(distinct=True),
        services=d.service.collect(distinct=True),
    )
    out = hits.join(details, ["origin", "run"])
    # the references as rows, not a list: an org-wide spray is millions of failures
    out = with_ref_samples(out, d, ["origin", "run"], raw_ref(d))
    spray = ~out.machine_speed & ~out.guessing
    shape = ibis.cases((spray, "spray"), (out.machine_speed, "machine_speed"), else_="guessing")
    return out.select(
        key=out.origin.concat("@", epoch_s(out.first_seen).cast("string")),
        first_seen=out.first_seen,
        last_seen=out.last_seen,
        entity_src_ip=out.src_ip,
        entity_host=out.src_host,
        entity_user=entities(out.entity_user),
        severity=ibis.ifelse(out.unrecovered_users >= p.critical_users, "critical", "high"),
        attack=ibis.ifelse(
            out.attempts_per_user > p.max_attempts_per_user,
            ibis.literal(["T1110.001"]),
            ibis.literal(["T1110.003"]),
        ),
        shape=shape,
        source_of_attempts=out.origin,
        attempts=out.attempts,
        distinct_users=out.users,
        unrecovered_users=out.unrecovered_users,
        unrecovered_attempts=out.unrecovered_attempts,
        attempts_per_user=rounded(out.attempts_per_user, 2),
        burst_attempts=out.burst_attempts,
        burst_seconds=out.burst_seconds,
        unknown_user_attempts=out.unknown_user_attempts,
        locked_attempts=out.locked_attempts,
        src_asn=out.src_asn,
        src_country=out.src_country,
        user_agents=samples(out.user_agents),
        services=samples(out.services),
        sources=samples(out.sources),
        raw_refs=out.raw_refs,
        raw_refs_total=out.raw_refs_total,
    )


def title(row: dict, p: Params) -> str:
    src = row["entity_src_ip"] or row["entity_host"]
    if row["shape"] == "machine_speed":
        return (
            f"Machine-speed guessing from {src}: {row['burst_attempts']} failures within "
            f"{row['burst_seconds']} s on {row['distinct_users']} accounts"
        )
    if row["shape"] == "guessing":
        return (
            f"Password guessing from {src}: {row['unrecovered_attempts']} failed attempts on "
            f"{row['distinct_users']} accounts"
        )
    return (
        f"Password spray from {src}: {row['unrecovered_users']} accounts, "
        f"{row['attempts_per_user']:.1f} attempts each"
    )
