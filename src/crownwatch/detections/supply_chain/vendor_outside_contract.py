"""A vendor or contractor active before its contract starts or after it ends
(ATT&CK T1199 Trusted Relationship, T1078 Valid Accounts).

**What it looks for.** Outsiders with a contract window — a ``[supply_chain] vendors``
entry's ``contract_start`` / ``contract_end``, else the HR roster's start and end dates
for a contractor or vendor (:mod:`crownwatch.detections.supply_chain._common`) — and
any activity of theirs more than ``grace_days`` outside it:

* a GitHub audit event by the outsider's login (a clone, a token made, a setting
  changed: any action);
* a successful sign-in (``authentication``, reason ``success``) by the linked person:
  the roster's identity key, or the SSO identity of the login where the audit log names
  it (``actor_user``).

The contract's last day counts as inside; a missing end means a contract still running.

**Why.** Offboarding a firm's staff is the step most often missed: the contract ends,
the outside collaborator, the SSO account and the personal access tokens stay. An
account used after its contract is either a former contractor helping themselves or
someone who took over an account nobody watches any more. Activity before the start
is an account provisioned early — access nobody has agreed to yet.

**Evidence.** The login(s) and person, firm, employee id, the contract window, which
side of it the activity is and how many days beyond, sign-ins and audit events
counted apart, the repositories and crown-jewel assets touched, actions, addresses and
countries, raw records.

**Severity.** ``critical`` after the end with crown-jewel repositories pulled;
``high`` after the end, or before the start with crown-jewel pulls; ``medium`` before
the start.

**False positives.** A contract extended on paper but not yet in the roster or the
configuration (update the dates); a vendor's CI still running the night after the
last day (``grace_days``); an end date typed as the notice date.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._time import day_number
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.supply_chain._common import (
    PULL_ACTIONS,
    basis,
    outsiders,
    raw_ref,
    roster_outsiders,
    tagged,
)

META = Meta(
    id="supply_chain.vendor_outside_contract",
    title="A vendor or contractor account active outside its contract window",
    severity="high",
    attack=("T1199", "T1078"),
    # authentication and workforce are read when present; the runner skips a detection
    # when any table listed here is empty, and the GitHub audit log is what it needs
    tables=("repo_activity",),
    description=(
        "An outsider's GitHub login acted, or the person behind it signed in, before its "
        "contract started or after it ended."
    ),
    false_positives=(
        "A contract extended but not yet updated in the roster or the configuration; a "
        "vendor's CI running the night after the last day (grace_days)."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1199/",
        "https://attack.mitre.org/techniques/T1078/",
    ),
    params={"grace_days": 1},
    runbook=(
        (
            "Check the contract with its owner: if it was extended, correct the end date in "
            "the roster or [supply_chain] vendors."
        ),
        (
            "If not: disable the person's SSO account, remove the login from the org (outside "
            "collaborator, team), and revoke its personal access tokens, SSH keys and "
            "OAuth grants."
        ),
        (
            "Review what the account did outside the window (the repositories in the "
            "evidence) and treat what it pulled as disclosed."
        ),
    ),
)

_NONE = ibis.literal([], "array<string>")

_ACCOUNT = (
    "login",
    "person",
    "firm",
    "employee_id",
    "outsider_kind",
    "via_config",
    "via_roster",
    "via_collaborator",
    "contract_start",
    "contract_end",
)


def query(t: Tables, p: Params) -> ibis.Table:
    reg = registry_for(t, p)
    grace = int(p.grace_days)
    o = outsiders(t)
    o = o.filter(o.contract_start.notnull() | o.contract_end.notnull())

    # the login's own audit events
    ra = t.repo_activity
    ev = ra.filter(ra.actor.notnull()).mutate(login=ra.actor.lower())
    ev = tagged(t, ev.join(o, "login"), reg)
    repo_rows = ev.select(
        subject=ev.person.coalesce(ev.login),
        **{c: ev[c] for c in _ACCOUNT},
        time=ev.time,
        src_ip=ev.actor_ip,
        country=ev.actor_country.upper(),
        what=ev.action,
        repo=ev.repo.lower(),
        asset=ev.asset,
        pull=ev.action.isin(list(PULL_ACTIONS)) & ev.asset.notnull(),
        sign_in=ibis.literal(False),
        ref=raw_ref(ev),
    )

    # the linked person's sign-ins: outsiders' persons (config or roster terms), and the
    # roster's contractors and vendors with no GitHub login in the logs
    linked = o.filter(o.person.notnull())
    linked = linked.group_by("person").aggregate(
        login=linked.login.min(),
        firm=linked.firm.min(),
        employee_id=linked.employee_id.min(),
        outsider_kind=linked.outsider_kind.min(),
        via_config=linked.via_config.any(),
        via_roster=linked.via_roster.any(),
        via_collaborator=linked.via_collaborator.any(),
        contract_start=linked.contract_start.min(),
        contract_end=linked.contract_end.max(),
    )
    r = roster_outsiders(t)
    r = r.filter(r.start_date.notnull() | r.end_date.notnull())
    r = r.anti_join(linked, r.person == linked.person)
    r = r.select(
        person=r.person,
        login=ibis.null("string"),
        firm=r.firm,
        employee_id=r.employee_id,
        outsider_kind=r.employment_type,
        via_config=ibis.literal(False),
        via_roster=ibis.literal(True),
        via_collaborator=ibis.literal(False),
        contract_start=r.start_date,
        contract_end=r.end_date,
    )
    people = linked.select(*r.columns).union(r)
    auth = t.authentication
    auth = auth.filter((auth.reason == "success") & auth.user.notnull())
    a = auth.join(people, auth.user == people.person)
    auth_rows = a.select(
        subject=a.person,
        **{c: a[c] for c in _ACCOUNT},
        time=a.time,
        src_ip=a.src_ip,
        country=a.src_country.upper(),
        what=ibis.literal("sign-in:").concat(a.source),
        repo=ibis.null("string"),
        asset=ibis.null("string"),
        pull=ibis.literal(False),
        sign_in=ibis.literal(True),
        ref=raw_ref(a),
    )

    x = repo_rows.union(auth_rows)
    day = day_number(x.time)
    start = x.contract_start.epoch_days()
    end = x.contract_end.epoch_days()
    x = x.mutate(
        side=ibis.cases(
            (start.notnull() & (day < start - grace), "before"),
            (end.notnull() & (day > end + grace), "after"),
            else_=ibis.null("string"),
        ),
        days_beyond=ibis.cases(
            (start.notnull() & (day < start), start - day),
            (end.notnull() & (day > end), day - end),
            else_=0,
        ),
    )
    x = x.filter(x.side.notnull())

    g = x.group_by(["subject", "side"]).aggregate(
        first_seen=x.time.min(),
        last_seen=x.time.max(),
        logins=x.login.collect(),
        persons=x.person.collect(),
        firm=x.firm.max(),
        employee_id=x.employee_id.max(),
        outsider_kind=x.outsider_kind.max(),
        via_config=x.via_config.any(),
        via_roster=x.via_roster.any(),
        via_collaborator=x.via_collaborator.any(),
        contract_start=x.contract_start.min(),
        contract_end=x.contract_end.max(),
        days_beyond=x.days_beyond.max(),
        events=x.count(),
        sign_ins=x.sign_in.cast("int64").sum(),
        jewel_pulls=x.pull.cast("int64").sum(),
        repos=x.repo.collect(),
        assets=x.asset.collect(),
        actions=x.what.collect(),
        src_ips=x.src_ip.collect(),
        countries=x.country.collect(),
        raw_refs=x.ref.collect(),
    )
    after = g.side == "after"
    jewels = g.jewel_pulls > 0
    return g.select(
        key=g.subject.concat(
            "|",
            g.side,
            "|",
            g.contract_start.cast("string").fill_null(""),
            "|",
            g.contract_end.cast("string").fill_null(""),
        ),
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.logins.fill_null(_NONE).concat(g.persons.fill_null(_NONE)),
        entity_src_ip=g.src_ips,
        entity_asset=g.assets,
        severity=ibis.cases(
            (after & jewels, "critical"),
            (after | jewels, "high"),
            else_="medium",
        ),
        side=g.side,
        days_beyond=g.days_beyond,
        contract_start=g.contract_start,
        contract_end=g.contract_end,
        person=g.subject,
        firm=g.firm,
        employee_id=g.employee_id,
        outsider_kind=g.outsider_kind,
        basis=basis(g),
        events=g.events,
        sign_ins=g.sign_ins,
        repo_events=g.events - g.sign_ins,
        jewel_pulls=g.jewel_pulls,
        repos=g.repos,
        actions=g.actions,
        countries=g.countries,
        raw_refs=g.raw_refs,
    )


LISTS = ("repos", "actions", "countries", "basis", "raw_refs")


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, LISTS)


def title(row: dict, p: Params) -> str:
    firm = f" ({row['firm']})" if row.get("firm") else ""
    if row["side"] == "after":
        when = f"{row['days_beyond']} days after the contract ended {row['contract_end']}"
    else:
        when = f"{row['days_beyond']} days before the contract starts {row['contract_start']}"
    return f"{row['person']}{firm} active {when}: {row['events']} events"
