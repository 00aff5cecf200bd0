"""Password spray through explicit credentials on one host (ATT&CK T1110.003).

**What it looks for.** One logged-on account on one Windows host supplying the
credentials of many *other* accounts in a short run. Windows logs event 4648 ("a
logon was attempted using explicit credentials") on the machine where the
credentials were typed or scripted, before it knows whether they work — so a spray
run from a foothold (DomainPasswordSpray binding to LDAP with each name in turn,
``runas``/``net use`` loops, SMB or WinRM scripts) leaves one 4648 per try on the
attacker's host, whatever the domain controllers log, and even when the passwords
are wrong. It is DeepBlueCLI's "Distributed Account Explicit Credential Use
(Password Spray Attack)", which alerts on more than six target accounts in one
Security log.

**How.** ``authentication`` rows with ``activity = 'explicit_credentials'`` (the
Windows source's 4648s: ``actor_user`` the subject, ``user`` the account whose
credentials were used, ``service`` the target server, the logging computer in
``status_detail`` as ``computer=``). Two kinds of 4648 are set aside first, because
they are not one account using another's credentials:

* **own credentials** — ``user`` is the subject itself (a drive mapped or an RDP
  session opened with one's own saved password);
* **the operating system logging someone on** — the subject is the computer's own
  machine account (``NAME$``, i.e. SYSTEM) *and* the target is the computer itself
  (``localhost``): winlogon/svchost at every interactive or RDP logon, the Service
  Control Manager and Task Scheduler starting a service or task under its
  configured account, IIS/Exchange logging users on. An RDS host logs one per person
  every morning; counting them would make every terminal server a "spray". SYSTEM
  supplying credentials to *another* server (a tool run as SYSTEM binding to the
  DC) still counts.

The rest are grouped per **subject and logging host** into runs with no quiet gap
longer than ``gap_minutes``. The host belongs in the key: the identity key drops the
domain, so ``WS-1\\administrator`` and ``WS-2\\administrator`` (two local accounts,
two people) would otherwise merge, and a spray runs from one foothold — an attacker
using two gives two findings. The target server is *not* in the key: a spray tool
that rotates through domain controllers is still one spray. A run fires with at
least ``min_targets`` distinct target accounts; *critical* from
``critical_targets``.

**Tuning, against what a real week of 4648s holds.**

* An administrator's ``runas`` / UAC elevation ("Run as different user",
  ``consent.exe``) to her admin accounts: Microsoft's tiered admin model gives one
  person at most four accounts (standard, tier 2, tier 1, tier 0), so at most three
  *other* targets; in practice one or two. ``min_targets = 6`` leaves room above that
  and sits at DeepBlueCLI's "more than six".
* Services, scheduled tasks, backup and deployment agents: one configured account,
  the same target again and again — one distinct target however many events.
  Started by SYSTEM on its own machine they are not counted at all (above).
* Helpdesk over-the-shoulder elevation: the technician's one admin account per
  session.
* Privileged-access brokers (CyberArk PSM, jump-server connection managers) that
  open sessions with many vaulted accounts under one service identity do look like
  this: list that identity in ``exclude_actors``.
* A DeepBlueCLI-style "more than six uses per account" condition is deliberately
  not copied: a spray tries each account once or twice, which is the point of it.

A slow spray, one account every couple of hours, splits into runs below threshold;
widen ``gap_minutes`` if that matters more than an admin's week of runas. On the
domain controllers the same spray usually shows as failures too (4771/4776/4625),
which ``identity.password_spray`` reads by source address; this detection sees it
from the host, by account, and also when those failures are not collected.
"""

from __future__ import annotations

import ibis

from crownwatch.detections._evidence import entities, samples, with_ref_samples
from crownwatch.detections._num import rounded
from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.identity._common import raw_ref, runs

META = Meta(
    id="identity.explicit_credential_spray",
    title="Password spray with explicit credentials from one host",
    severity="high",
    attack=("T1110.003",),
    tables=("authentication",),
    description=(
        "One account on one Windows host supplying many other accounts' credentials "
        "(event 4648) in one short run."
    ),
    false_positives=(
        "Privileged-access brokers opening sessions with many vaulted accounts "
        "(exclude_actors). Admin runas, services, tasks and the OS logging users on "
        "are below threshold or set aside."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1110/003/",
        "https://learn.microsoft.com/en-us/windows/security/threat-protection/auditing/event-4648",
        "https://github.com/sans-blue-team/DeepBlueCLI",
        "https://github.com/dafthack/DomainPasswordSpray",
    ),
    params={
        "min_targets": 6,
        "gap_minutes": 60,
        "critical_targets": 50,
        "exclude_actors": [],
    },
    runbook=(
        (
            "Contain the logging host (EDR network isolation) and collect the process named in "
            "the evidence: a spray run from a host makes it a foothold."
        ),
        (
            "Disable or reset the subject account (actor_user) and find how it reached the host "
            "(its logons there before the run)."
        ),
        "Reset the passwords of the target accounts that logged on anywhere after the run.",
    ),
)

# The logging computer and the process, from the Windows source's status_detail
# (``… process=C:\\…\\x.exe subject=… target_server=… computer=HOST``). The process
# path may hold spaces: it runs up to the next key the source writes after it.
_HOST = r"(?:^| )computer=([^ ]+)"
_PROCESS = r"(?:^| )process=(.*?)(?: (?:subject|target_server|service_name|computer)=|$)"
_FIRST_LABEL = r"^([^.]*)"


def _explicit_uses(auth: ibis.Table, p: Params) -> ibis.Table:
    e = auth.filter(
        (auth.activity == "explicit_credentials") & auth.actor_user.notnull() & auth.user.notnull()
    )
    e = e.select(
        "time",
        "user",
        "actor_user",
        "service",
        "source",
        "raw_source",
        "raw_offset",
        "raw_id",
        host=e.status_detail.re_extract(_HOST, 1).nullif("").fill_null(e.service),
        process=e.status_detail.re_extract(_PROCESS, 1).nullif(""),
        ts=epoch_s(e.time),
    )
    own = e.user == e.actor_user
    local = e.service.lower().re_extract(_FIRST_LABEL, 1) == e.host.lower().re_extract(
        _FIRST_LABEL, 1
    )
    os_logon = e.actor_user.endswith("$") & local.fill_null(False)
    e = e.filter(~own & ~os_logon)
    if p.exclude_actors:
        e = e.filter(~e.actor_user.isin([a.lower() for a in p.exclude_actors]))
    return runs(e, ["actor_user", "host"], p.gap_minutes * 60)


def query(t: Tables, p: Params) -> ibis.Table:
    e = _explicit_uses(t.authentication, p)
    keys = ["actor_user", "host", "run"]
    per_run = e.group_by(keys).aggregate(
        first_seen=e.time.min(),
        last_seen=e.time.max(),
        attempts=e.count(),
        targets=e.user.nunique(),
        target_servers=e.service.nunique(),
    )
    hits = per_run.filter(per_run.targets >= p.min_targets)

    # Details only for the runs that fired, each list distinct and cut in the engine to
    # what the finding keeps, the references as rows: a script walking the directory
    # tries every account
    d = e.semi_join(hits, keys)
    details = d.group_by(keys).aggregate(
        entity_user=d.user.collect(distinct=True),
        services=d.service.collect(distinct=True),
        processes=d.process.collect(distinct=True),
        sources=d.source.collect(distinct=True),
    )
    out = with_ref_samples(hits.join(details, keys), d, keys, raw_ref(d))
    duration = epoch_s(out.last_seen) - epoch_s(out.first_seen)
    return out.select(
        key=out.actor_user.concat("@", out.host, "@", epoch_s(out.first_seen).cast("string")),
        first_seen=out.first_seen,
        last_seen=out.last_seen,
        entity_user=entities(out.entity_user),
        entity_actor_user=out.actor_user,
        entity_host=out.host,
        severity=ibis.ifelse(out.targets >= p.critical_targets, "critical", "high"),
        subject=out.actor_user,
        host=out.host,
        distinct_targets=out.targets,
        attempts=out.attempts,
        distinct_target_servers=out.target_servers,
        attempts_per_minute=rounded(out.attempts * 60.0 / ibis.greatest(duration, 1), 2),
        target_servers=samples(out.services),
        processes=samples(out.processes),
        sources=samples(out.sources),
        raw_refs=out.raw_refs,
        raw_refs_total=out.raw_refs_total,
    )


def title(row: dict, p: Params) -> str:
    return (
        f"{row['subject']} on {row['host']} used explicit credentials for "
        f"{row['distinct_targets']} accounts ({row['attempts']} attempts)"
    )
