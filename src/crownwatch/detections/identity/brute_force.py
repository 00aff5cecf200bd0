"""Password guessing against one account (ATT&CK T1110.001).

**What it looks for.** Many failed passwords against a single account in one short
run, from one or a few addresses: Hydra, a cracked-hash verifier, or a person with a
wordlist working through an executive's or an admin's account.

**How.** Credential failures (bad password, locked, unknown user) are grouped per
user into runs with no quiet gap longer than ``gap_minutes``. A run fires with at
least ``min_attempts`` failures — or, whatever the total, when it holds a burst at
machine speed: ``burst_min_attempts`` failures each within ``burst_gap_seconds`` of
the last (a tool, not a person: a dozen guesses in a few milliseconds is an attack
on any account, including address-less NTLM/4776 attempts at a domain controller). Severity is *critical* when the same user then got
the password right (success, MFA challenge, conditional-access block) from one of
the run's addresses within ``recovery_minutes`` — the guess landed.

**The benign twin, and the choice made for it.** A service account (a backup job, a
CI runner, a mail relay) whose password was rotated under it retries the stale
password every few minutes for hours: hundreds of failures, one account — the same
shape to a count-based rule. What gives it away is that a *machine* is doing it:

* the attempts come from **one address**, and that address is **internal** (RFC
  1918 / IPv6 unique-local, or a bare machine name where the log names the client
  and no address — Windows' Workstation) or one the account has signed in from
  before; a *resolved* host name with no address (sshd/PAM ``rhost=`` of old
  servers) counts as outside;
* the intervals are **machine-regular** — the coefficient of variation (standard
  deviation ÷ mean) of the time between attempts is at most ``stale_max_cv``;
* and **slow** — at least ``stale_min_interval_seconds`` apart on average; no
  guessing attack worth the name runs at a few attempts an hour.

Such a run is a *stale credential*, not an attack. It is **suppressed by default**
(``report_stale_credentials = false``), because an operations problem is not a
security finding and paging on it is what trains analysts to ignore this rule; set
it to true to get it at severity *low* with the title "Stale credential…" — a
useful hygiene report. Everything else fires: an outside address, more than one
address, bursty timing, or hundreds of attempts in minutes (a fast run never meets
the slow test however regular its timer is), so an attacker on an internal host
with a scripted ``sleep`` is caught by rate unless they throttle below
``stale_min_interval_seconds`` — at which point, at 20 guesses an hour, lockout
policy is the control that matters.

Compared with Elastic's "Attempts to Brute Force an Okta User Account" (3 lockouts
in 3 hours) and the Splunk/Sentinel "N failures per user in 5 minutes" searches,
whose documented false positive is exactly "automated processes that authenticate
with expired credentials and unbounded retries", this separates the two on timing
and origin instead of asking the analyst to allowlist service accounts by name.
"""

from __future__ import annotations

import ibis

from crownwatch.detections._evidence import entities, samples, with_ref_samples
from crownwatch.detections._num import rounded
from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import Meta, Params, Tables, shared
from crownwatch.detections.identity._common import (
    burst_runs,
    first_success_from,
    is_private_ip,
    raw_ref,
    runs,
    with_recovery,
)
from crownwatch.tables.authentication import PASSWORD_CORRECT

META = Meta(
    id="identity.brute_force",
    title="Password guessing against one account",
    severity="high",
    attack=("T1110.001",),
    tables=("authentication",),
    description="Many failed passwords against one account in one short run from one or a few sources.",
    false_positives=(
        "Service accounts retrying a stale password (machine-regular, slow, one internal or "
        "own address: suppressed, or reported as low with report_stale_credentials)."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1110/001/",
        "https://www.elastic.co/guide/en/security/current/attempts-to-brute-force-an-okta-user-account.html",
        "https://help.okta.com/en-us/content/topics/security/policies/configure-lockout.htm",
    ),
    params={
        "min_attempts": 20,
        "burst_min_attempts": 8,
        "burst_gap_seconds": 2,
        "gap_minutes": 15,
        "recovery_minutes": 30,
        "stale_max_cv": 0.25,
        "stale_min_interval_seconds": 60,
        "report_stale_credentials": False,
        "exclude_users": [],
    },
    runbook=(
        (
            "Block the run's source addresses and confirm the identity provider locked out or "
            "throttled the account."
        ),
        (
            "If critical (the password then proved right from an address of the run): reset the "
            "password, revoke sessions and tokens, and review what the account did afterwards."
        ),
        (
            "For a stale credential (low): update the password stored in the service, job or "
            "device the attempts come from; there is nothing to block."
        ),
    ),
)


def _runs(auth: ibis.Table, p: Params) -> ibis.Table:
    """Each user's credential failures cut into runs, with whether the address was
    already the account's own."""
    fails = with_recovery(auth, p.recovery_minutes * 60)
    fails = fails.filter(fails.user.notnull())
    if p.exclude_users:
        fails = fails.filter(~fails.user.isin([u.lower() for u in p.exclude_users]))
    fails = runs(fails, "user", p.gap_minutes * 60)

    # Was this source (address, or client name) already the account's own when the
    # run began?
    known = first_success_from(auth)
    fails = fails.left_join(known, ["user", "origin"])
    fails = fails.mutate(own_ip=fails.first_ok.notnull() & (fails.first_ok < fails.ts))
    return fails.drop("user_right", "origin_right", "first_ok")


def query(t: Tables, p: Params) -> ibis.Table:
    auth = t.authentication
    # read three times below (the run statistics, the details, the guess that
    # landed): kept once rather than re-sorted for each
    key = (
        f"identity.brute_force.runs:{p.recovery_minutes}:{p.gap_minutes}:{sorted(p.exclude_users)}"
    )
    fails = shared(key, lambda: _runs(auth, p))

    # Only a run of at least this many attempts can be reported (a brute force, or a
    # burst inside a shorter run): the run statistics below — two distinct counts per
    # run — are computed for those runs alone. Most runs are one or two mistyped
    # passwords; over all of them the statistics took twice as long.
    least = min(p.min_attempts, p.burst_min_attempts)
    sizes = fails.group_by(["user", "run"]).aggregate(n=fails.count())
    candidates = fails.semi_join(sizes.filter(sizes.n >= least), ["user", "run"])

    per_run = candidates.group_by(["user", "run"]).aggregate(
        first_seen=candidates.time.min(),
        last_seen=candidates.time.max(),
        attempts=candidates.count(),
        src_ips=candidates.src_ip.nunique(),
        # an attempt with no address at all (NTLM validation on a DC, event 4776) is
        # no evidence of an outside guesser: only addressed attempts can be untrusted
        # An attempt known only by a *resolved* host name (sshd/PAM rhost:
        # 220-135-151-1.hinet-ip.hinet.net) is as untrusted as an address; a bare
        # machine name (Windows' Workstation: SQL01) is one of the organisation's.
        untrusted_attempts=(
            (
                candidates.src_ip.notnull()
                | (candidates.src_ip.isnull() & candidates.src_host.contains(".").fill_null(False))
            )
            & ~(is_private_ip(candidates.src_ip) | candidates.own_ip)
        ).sum(),
        reasons=candidates.reason.nunique(),
        locked_attempts=(candidates.reason == "locked").sum(),
        start_ts=candidates.ts.min(),
        end_ts=candidates.ts.max(),
    )
    # machine speed: a burst inside the run, whatever the run's total
    small = per_run.filter(
        (per_run.attempts < p.min_attempts) & (per_run.attempts >= p.burst_min_attempts)
    )
    b = fails.semi_join(small, ["user", "run"]).select("user", "run", "ts")
    bursts = burst_runs(
        b.mutate(ur=b.user.concat("#", b.run.cast("string"))),
        "ur",
        p.burst_gap_seconds,
        p.burst_min_attempts,
    )
    bursts = bursts.group_by("ur").aggregate(burst_attempts=bursts.b_attempts.max())
    per_run = per_run.mutate(ur=per_run.user.concat("#", per_run.run.cast("string")))
    per_run = per_run.left_join(bursts, "ur").drop("ur", "ur_right")
    per_run = per_run.filter(
        (per_run.attempts >= p.min_attempts) | per_run.burst_attempts.notnull()
    )

    # Interval statistics from the distinct attempt times: the mean of consecutive
    # gaps telescopes to (last - first) / (attempts - 1), and attempts at the same
    # second add gaps of zero, which count in n but not in the sum of squares.
    k = fails.semi_join(per_run, ["user", "run"]).select("user", "run", "ts").distinct()
    k = k.mutate(gap=k.ts - k.ts.lag().over(ibis.window(group_by=[k.user, k.run], order_by=k.ts)))
    sq = k.group_by(["user", "run"]).aggregate(sum_sq=(k.gap * k.gap).sum().cast("float64"))
    per_run = per_run.join(sq, ["user", "run"])
    n = per_run.attempts - 1
    mean = ibis.ifelse(n > 0, (per_run.end_ts - per_run.start_ts) / n, ibis.null("float64"))
    per_run = per_run.mutate(mean_interval=mean)
    var = per_run.sum_sq.fill_null(0) / n - per_run.mean_interval * per_run.mean_interval
    per_run = per_run.mutate(sd_interval=ibis.greatest(var, 0.0).sqrt())
    cv = per_run.sd_interval / ibis.ifelse(per_run.mean_interval > 0, per_run.mean_interval, 1.0)
    per_run = per_run.mutate(interval_cv=rounded(cv, 3))
    stale = (
        (per_run.src_ips <= 1)
        & (per_run.untrusted_attempts == 0)
        & (per_run.interval_cv <= p.stale_max_cv)
        & (per_run.mean_interval >= p.stale_min_interval_seconds)
    )
    per_run = per_run.mutate(stale=stale)
    if not p.report_stale_credentials:
        per_run = per_run.filter(~per_run.stale)

    # each list distinct and cut in the engine to what the finding keeps (a botnet's
    # guesses at one account come from as many addresses as it has)
    d = fails.semi_join(per_run, ["user", "run"])
    details = d.group_by(["user", "run"]).aggregate(
        entity_src_ip=d.src_ip.collect(distinct=True),
        user_agents=d.user_agent.collect(distinct=True),
        src_countries=d.src_country.collect(distinct=True),
        services=d.service.collect(distinct=True),
        sources=d.source.collect(distinct=True),
    )

    # The guess landed: a password-correct outcome from one of the run's addresses.
    ok = auth.filter(auth.reason.isin(PASSWORD_CORRECT) & auth.user.notnull()).select(
        "user", "src_ip", "reason", ok_ts=epoch_s(auth.time)
    )
    run_ips = d.select("user", "run", "src_ip").distinct()
    landed = run_ips.join(ok, ["user", "src_ip"]).join(
        per_run.select("user", "run", "end_ts"), ["user", "run"]
    )
    landed = landed.filter(
        (landed.ok_ts >= landed.end_ts) & (landed.ok_ts - landed.end_ts <= p.recovery_minutes * 60)
    )
    landed = landed.group_by(["user", "run"]).aggregate(
        password_correct_outcomes=landed.reason.collect(),
        password_correct_at=landed.ok_ts.min(),
    )

    out = per_run.join(details, ["user", "run"]).left_join(landed, ["user", "run"])
    # the references as rows, not a list: a botnet guesses millions of times
    out = with_ref_samples(out, d, ["user", "run"], raw_ref(d))
    duration = epoch_s(out.last_seen) - epoch_s(out.first_seen)
    return out.select(
        key=out.user.concat("@", epoch_s(out.first_seen).cast("string")),
        first_seen=out.first_seen,
        last_seen=out.last_seen,
        entity_user=out.user,
        entity_src_ip=entities(out.entity_src_ip),
        severity=ibis.cases(
            (out.stale, "low"),
            (out.password_correct_at.notnull(), "critical"),
            else_="high",
        ),
        stale_credential=out.stale,
        attempts=out.attempts,
        distinct_src_ips=out.src_ips,
        attempts_per_minute=rounded(out.attempts * 60.0 / ibis.greatest(duration, 1), 2),
        machine_speed_burst=out.burst_attempts,
        mean_interval_seconds=rounded(out.mean_interval, 1),
        interval_cv=out.interval_cv,
        locked_attempts=out.locked_attempts,
        password_correct_outcomes=out.password_correct_outcomes,
        user_agents=samples(out.user_agents),
        src_countries=samples(out.src_countries),
        services=samples(out.services),
        sources=samples(out.sources),
        raw_refs=out.raw_refs,
        raw_refs_total=out.raw_refs_total,
    )


def title(row: dict, p: Params) -> str:
    # the count, not the address list: that is cut to the first 500
    n = row["distinct_src_ips"]
    ips = [ip for ip in row["entity_src_ip"] or [] if ip]  # an empty one names nobody
    src = ips[0] if n == 1 and ips else f"{n} addresses"
    if row["stale_credential"]:
        return f"Stale credential: {row['entity_user']} retrying every {row['mean_interval_seconds']:.0f} s from {src}"
    landed = " — then signed in" if row.get("password_correct_outcomes") else ""
    return f"Password guessing against {row['entity_user']}: {row['attempts']} failures from {src}{landed}"
