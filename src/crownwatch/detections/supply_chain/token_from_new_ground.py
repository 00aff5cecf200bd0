"""A personal access token or SSH key created, or put to use, from an address never seen
for the account (ATT&CK T1098.001 Additional Cloud Credentials, T1078 Valid Accounts).

**What it looks for.** Each credential creation in the GitHub audit log — a personal
access token (``personal_access_token.create``, a fine-grained token's
``personal_access_token.request_created``: ``token_actions``) or an SSH key
(``public_key.create``: ``key_actions``) — by an account with at least
``min_history_days`` of audit history before it, where

* ``created_from_new_address`` — the creation came from an ``actor_ip`` the account had
  never used before it; or
* ``used_from_new_address`` — within ``window_hours`` after it, the new credential was
  used from such an address. A use is an event of the account carrying the creation's
  ``token_id`` or ``hashed_token``; when the creation carries neither (a key made in the
  web UI), an event of the account over a credential it had never shown before: for a
  key, any ``ssh`` transport event; for a token, a personal-access-token event.

Our own network (``[organisation] own_cidrs`` / ``own_asns``, private addresses) is
never a new address.

An account that created more than ``max_creations_paired`` credentials in the logs
read is automation, not a person: its creations are judged by where they were made
from only, and their uses are not paired. Pairing compares each creation of an account
with each of its events in the window after it: for an account minting 90,909 tokens
in two weeks (or one token id logged that often) that ran for minutes without an end.

**Why.** An intruder holding a session or a password mints a credential of their own
before the session ends: a token or key outlives a password reset and a revoked
session, works from any machine, and is how stolen access to source code is kept
(the Internet Archive's and many CI breaches ran on tokens found or minted). An
engineer makes a token at the desk and uses it from the same desk or the company's CI.

**Evidence.** The credential (kind, action, token id, hashed token), where it was
created from and whether that was new, the new addresses and countries it was used
from, the hours to the first such use, the repositories it touched, the addresses the
account was known on before, how many credentials the account created in all, whether
the account is an outsider (and its firm), raw records of the creation and the uses
from new ground.

**Severity.** ``high`` when the creation and a use both come from new addresses, when
either comes from a country the account was never seen in, or when the account is an
outsider's; ``medium`` otherwise.

**False positives.** A token made at the desk for a CI system that runs from a cloud
range (the uses come from the CI's addresses: list the runners' egress in
``own_cidrs``); a key added on a new laptop at a new home address.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._num import rounded
from crownwatch.detections._time import DAY, epoch_s
from crownwatch.detections.contract import Meta, Params, Tables, shared
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.supply_chain._common import outsiders, raw_ref
from crownwatch.enrichment.places import own_network

_NONE = ibis.literal([], "array<string>")

META = Meta(
    id="supply_chain.token_from_new_ground",
    title="A personal access token or SSH key created or used from an address new to the account",
    severity="medium",
    attack=("T1098.001", "T1078"),
    tables=("repo_activity",),
    description=(
        "A personal access token or SSH key was created from an address the account never "
        "used before, or used from one within hours of its creation."
    ),
    false_positives=(
        "A token made for CI that runs from a cloud range (list the runners' egress in "
        "own_cidrs); a key added from a new laptop at a new address."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1098/001/",
        "https://attack.mitre.org/techniques/T1078/",
        "https://docs.github.com/en/enterprise-cloud@latest/admin/monitoring-activity-in-your-enterprise/reviewing-audit-logs-for-your-enterprise/identifying-audit-log-events-performed-by-an-access-token",
    ),
    params={
        "window_hours": 72,
        "min_history_days": 7,
        "token_actions": ["personal_access_token.create", "personal_access_token.request_created"],
        "key_actions": ["public_key.create"],
        "max_creations_paired": 200,
    },
    runbook=(
        (
            "Ask the account's owner, on a channel other than GitHub, whether they created "
            "the token or key, and from where."
        ),
        (
            "If not: revoke the credential (the token id or the key in the evidence), the "
            "account's other tokens and keys and its sessions, and reset its password and "
            "second factor."
        ),
        (
            "Search the audit log for the credential's uses (its hashed_token) and treat the "
            "repositories it reached as disclosed."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    reg = registry_for(t, p)
    token_actions = [a.strip() for a in p.token_actions]
    key_actions = [a.strip() for a in p.key_actions]
    ra = t.repo_activity
    ev = ra.filter(ra.actor.notnull())
    ev = ev.mutate(
        login=ev.actor.lower(),
        ts=epoch_s(ev.time),
        ref=raw_ref(ev),
        cred=ev.token_id.coalesce(ev.hashed_token),
        cc=ev.actor_country.upper(),
    )

    # "our own network" is a regex per row: judged on the creations and their uses only
    cre = ev.filter(ev.action.isin(token_actions + key_actions))
    cre = cre.mutate(src_ip=cre.actor_ip)
    cre = cre.mutate(_own=own_network(cre, reg))
    cre = cre.select(
        c_login=cre.login,
        c_time=cre.time,
        c_ts=cre.ts,
        c_ref=cre.ref,
        c_id=cre.event_id.coalesce(cre.ref),
        c_action=cre.action,
        c_kind=ibis.ifelse(cre.action.isin(key_actions), "ssh_key", "personal_access_token"),
        c_token_id=cre.token_id,
        c_hashed=cre.hashed_token,
        c_ip=cre.actor_ip,
        c_cc=cre.cc,
        c_own=cre._own,
        c_sso=cre.actor_user if "actor_user" in cre.columns else ibis.null("string"),
        c_creations=cre.count().over(group_by=cre.login),
    )
    cre = shared(
        f"supply_chain.token_from_new_ground.creations:{sorted(token_actions + key_actions)}",
        lambda: cre,
    )

    # the account's history: when it first used each address, country and credential.
    # Each is kept on its own (shared): the statement below then reads the audit log
    # once — referenced six times, DuckDB held all 10M events of it as one common
    # table expression (7.9 GiB unbounded, 1.85x the time bounded).
    first_ip = shared(
        "supply_chain.first_seen:ip",
        lambda: _first(ev, "actor_ip", "h"),
    )
    first_cc = shared("supply_chain.first_seen:cc", lambda: _first(ev, "cc", "q"))
    first_cred = shared(
        "supply_chain.first_seen:cred",
        lambda: _first(ev, "cred", "k"),
    )
    acct0 = shared(
        "supply_chain.first_seen:account",
        lambda: ev.group_by(a_login=ev.login).aggregate(a_first=ev.ts.min()),
    )

    c = cre.join(acct0, cre.c_login == acct0.a_login).drop("a_login")
    c = c.filter(c.a_first <= c.c_ts - int(p.min_history_days) * DAY)
    c = c.left_join(first_ip, (c.c_login == first_ip.h_login) & (c.c_ip == first_ip.h_ip))
    c = c.left_join(first_cc, (c.c_login == first_cc.q_login) & (c.c_cc == first_cc.q_cc))
    c = c.mutate(
        c_new_ip=(c.c_ip.notnull() & ~c.c_own & (c.h_first >= c.c_ts)).fill_null(False),
        c_new_cc=(c.c_cc.notnull() & ~c.c_own & (c.q_first >= c.c_ts)).fill_null(False),
    ).drop("h_login", "h_ip", "h_first", "q_login", "q_cc", "q_first")

    # the uses of each new credential in the window after its creation
    window = int(p.window_hours) * 3600
    u = ev.select(
        u_login=ev.login,
        u_time=ev.time,
        u_ts=ev.ts,
        u_ref=ev.ref,
        u_action=ev.action,
        u_repo=ev.repo,
        u_ip=ev.actor_ip,
        u_cc=ev.cc,
        u_token_id=ev.token_id,
        u_hashed=ev.hashed_token,
        u_cred=ev.cred,
        u_transport=ev.transport.lower(),
        u_access=ev.access_type.lower(),
    )
    u = u.left_join(first_cred, (u.u_login == first_cred.k_login) & (u.u_cred == first_cred.k_cred))
    u = u.drop("k_login", "k_cred")
    # an account's creations are paired with its uses only while they are a person's few
    pc = c.filter(c.c_creations <= int(p.max_creations_paired))
    same = (pc.c_token_id.notnull() & (u.u_token_id == pc.c_token_id)) | (
        pc.c_hashed.notnull() & (u.u_hashed == pc.c_hashed)
    )
    unnamed = pc.c_token_id.isnull() & pc.c_hashed.isnull()
    new_cred = u.u_cred.isnull() | (u.k_first >= pc.c_ts)
    by_kind = ibis.ifelse(
        pc.c_kind == "ssh_key",
        u.u_transport == "ssh",
        u.u_access.contains("personal access token"),
    )
    uses = pc.join(
        u,
        (u.u_login == pc.c_login)
        & (u.u_ts >= pc.c_ts)
        & (u.u_ts <= pc.c_ts + window)
        & (u.u_ref != pc.c_ref)
        & (same.fill_null(False) | (unnamed & new_cred & by_kind.fill_null(False))),
    )
    uses = uses.select(
        "c_id",
        "c_ts",
        "u_login",
        "u_time",
        "u_ts",
        "u_ref",
        "u_action",
        "u_repo",
        "u_ip",
        "u_cc",
    )
    uses = uses.mutate(src_ip=uses.u_ip)
    uses = uses.mutate(u_own=own_network(uses, reg))
    uses = uses.left_join(
        first_ip, (uses.u_login == first_ip.h_login) & (uses.u_ip == first_ip.h_ip)
    )
    uses = uses.left_join(
        first_cc, (uses.u_login == first_cc.q_login) & (uses.u_cc == first_cc.q_cc)
    )
    new_ip = (uses.u_ip.notnull() & ~uses.u_own & (uses.h_first >= uses.c_ts)).fill_null(False)
    new_cc = (uses.u_cc.notnull() & ~uses.u_own & (uses.q_first >= uses.c_ts)).fill_null(False)
    uses = uses.mutate(u_new_ip=new_ip, u_new_cc=new_cc, u_new=new_ip | new_cc)
    ug = uses.group_by(g_id=uses.c_id).aggregate(
        uses=uses.count(),
        uses_from_new_ground=uses.u_new.cast("int64").sum(),
        first_new_use_ts=uses.u_ts.min(where=uses.u_new),
        last_use=uses.u_time.max(),
        new_use_ips=uses.u_ip.collect(where=uses.u_new_ip),
        new_use_countries=uses.u_cc.collect(where=uses.u_new_cc),
        repos=uses.u_repo.collect(),
        use_actions=uses.u_action.collect(),
        use_refs=uses.u_ref.collect(where=uses.u_new),
    )

    r = c.left_join(ug, c.c_id == ug.g_id).drop("g_id")
    r = r.mutate(
        used_new=(r.uses_from_new_ground > 0).fill_null(False),
        used_new_cc=(r.new_use_countries.length() > 0).fill_null(False),
    )
    r = r.filter(r.c_new_ip | r.used_new)

    k = r.select(k_id=r.c_id, k_login=r.c_login, k_ts=r.c_ts)
    known = k.join(first_ip, k.k_login == first_ip.h_login)
    known = known.filter(known.h_first < known.k_ts)
    known = known.group_by(kn_id=known.k_id).aggregate(known_ips=known.h_ip.collect())
    r = r.left_join(known, r.c_id == known.kn_id).drop("kn_id")

    o = outsiders(t)
    o = o.select(o_login=o.login, o_person=o.person, firm=o.firm, outsider_kind=o.outsider_kind)
    r = r.left_join(o, r.c_login == o.o_login)
    r = r.mutate(outsider=r.o_login.notnull()).drop("o_login")

    both = r.c_new_ip & r.used_new
    return r.select(
        key=r.c_login.concat("|", r.c_id),
        first_seen=r.c_time,
        last_seen=ibis.greatest(r.c_time, r.last_use.coalesce(r.c_time)),
        # the login, and the person behind it where the roster or SSO names one
        entity_user=ibis.array([r.c_login, r.o_person.coalesce(r.c_sso)]),
        login=r.c_login,
        entity_src_ip=ibis.array([r.c_ip]).concat(r.new_use_ips.fill_null(_NONE)),
        severity=ibis.ifelse(both | r.c_new_cc | r.used_new_cc | r.outsider, "high", "medium"),
        credential_kind=r.c_kind,
        action=r.c_action,
        token_id=r.c_token_id,
        hashed_token=r.c_hashed,
        created_from=r.c_ip,
        created_country=r.c_cc,
        created_from_new_address=r.c_new_ip,
        created_from_new_country=r.c_new_cc,
        used_from_new_address=r.used_new,
        new_use_ips=r.new_use_ips,
        new_use_countries=r.new_use_countries,
        hours_to_first_new_use=rounded((r.first_new_use_ts - r.c_ts) / 3600, 1),
        uses=r.uses.fill_null(0),
        uses_from_new_ground=r.uses_from_new_ground.fill_null(0),
        repos=r.repos,
        use_actions=r.use_actions,
        known_ips=r.known_ips,
        outsider=r.outsider,
        firm=r.firm,
        outsider_kind=r.outsider_kind,
        account_creations=r.c_creations,
        raw_refs=ibis.array([r.c_ref]).concat(r.use_refs.fill_null(_NONE)),
    )


def _first(ev: ibis.Table, column: str, p: str) -> ibis.Table:
    """``(<p>_login, <p>_<what>, <p>_first)``: when each account first showed each
    value of ``column`` (an address, a country, a credential)."""
    name = {"h": "ip", "q": "cc", "k": "cred"}[p]
    g = ev.filter(ev[column].notnull())
    return g.group_by(**{f"{p}_login": g.login, f"{p}_{name}": g[column]}).aggregate(
        **{f"{p}_first": g.ts.min()}
    )


LISTS = ("new_use_ips", "new_use_countries", "repos", "use_actions", "known_ips", "raw_refs")


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    rows = empty_lists(rows, LISTS)
    for r in rows:
        r["reasons"] = sorted(
            ({"created_from_new_address"} if r["created_from_new_address"] else set())
            | ({"used_from_new_address"} if r["used_from_new_address"] else set())
        )
    return rows


def title(row: dict, p: Params) -> str:
    what = "SSH key" if row["credential_kind"] == "ssh_key" else "personal access token"
    where = []
    if row["created_from_new_address"]:
        where.append(f"created from new address {row['created_from']}")
    if row["used_from_new_address"]:
        ips = ", ".join(sorted(set(row["new_use_ips"]))) or "a new country"
        where.append(f"used from {ips}")
    return f"{row['login']}'s new {what} " + " and ".join(where)
