"""An outsider pulling crown-jewel repositories beyond its own and its firm's habit, or
from new ground (ATT&CK T1199 Trusted Relationship, T1213.003 Code Repositories).

**What it looks for.** Per outsider login (a vendor's, a contractor's or an outside
collaborator's: :mod:`crownwatch.detections.supply_chain._common`) and UTC day, its
clones, fetches and zip downloads (``git.clone``, ``git.fetch``,
``repo.download_zip``) of crown-jewel repositories (``[[assets]]`` locations
``github://org/repo`` or ``github://org/*``), and any of:

* ``new_repo`` — a crown-jewel repository nobody of the firm pulled in the
  ``lookback_days`` before (a vendor's new engineer cloning what colleagues clone every
  week is the firm's habit), and not granted to the login in that time
  (``repo.add_member`` naming it and the repository): onboarding onto a repository
  starts with a grant;
* ``spree`` — more distinct crown-jewel repositories in the day than
  ``spree_factor`` × the firm's busiest login-day of the lookback, and at least
  ``min_spree_repos``. With no history at all, ``min_spree_repos`` alone: a brand-new
  outsider account pulling many jewels on its first day is the pattern;
* ``new_address`` / ``new_country`` — a pull from an ``actor_ip`` (a country) no login of
  the firm was seen on — in any audit event — in the lookback, and not our own network
  (``[organisation] own_cidrs`` / ``own_asns``, private addresses).

``new_repo`` and new ground are judged only once the firm has ``min_baseline_days`` of
history before the day (everyone is new on the first day of logs); ``spree`` always.

**Why.** Development firms hold keys to the code by contract, so their pulls are valid
— and their compromise is the supply-chain route into the client (a firm's laptop, its
CI, its staff's tokens). A firm's CI clones the same repositories from the same
addresses every night; an intruder behind its account takes everything it can reach,
from wherever they are.

**Evidence.** The login, firm, how it is known to be an outsider, the crown-jewel
repositories and assets pulled, which of them are new to the firm, the day's count
against the firm's busiest day and the threshold, new addresses and countries with the
addresses the firm is known on, actions, credentials (access types, token ids), user
agents, raw records.

**Severity.** ``critical`` for a spree from new ground; ``high`` for a spree, or two of
new repository / new ground; ``medium`` for one.

**False positives.** A vendor starting on a new repository without a grant in the
logs (the grant predates them: add the firm's work to the baseline by widening
``lookback_days``, or the grant is the org's own base permission); a contractor working
from a new home address or on travel (``new_address_alone = false`` keeps a new address
quiet unless something else fired; a vendor's office egress can be listed in
``own_cidrs``); a firm's migration that mirrors every repository once (a spree; the
runbook's first step).
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._evidence import entities, ref_samples, samples
from crownwatch.detections._time import day_number
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.supply_chain._common import (
    PULL_ACTIONS,
    basis,
    outsiders,
    raw_ref,
    tagged,
    with_previous_day,
)
from crownwatch.enrichment.places import own_network

META = Meta(
    id="supply_chain.outsider_repo_pull",
    title="An outsider pulled crown-jewel repositories beyond its firm's habit or from new ground",
    severity="medium",
    attack=("T1199", "T1213.003"),
    tables=("repo_activity",),
    description=(
        "A vendor, contractor or outside collaborator cloned, fetched or downloaded crown-jewel "
        "repositories its firm never pulled, more of them than the firm's busiest day, or from "
        "an address or country the firm was never seen on."
    ),
    false_positives=(
        "A vendor's first work on a repository granted before the logs begin; a contractor's "
        "new home address or travel; a firm mirroring every repository once in a migration."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1199/",
        "https://attack.mitre.org/techniques/T1213/003/",
        "https://docs.github.com/en/enterprise-cloud@latest/admin/monitoring-activity-in-your-enterprise/reviewing-audit-logs-for-your-enterprise/audit-log-events-for-your-enterprise",
    ),
    params={
        "lookback_days": 30,
        "min_baseline_days": 3,
        "spree_factor": 3.0,
        "min_spree_repos": 5,
        "new_address_alone": True,
    },
    runbook=(
        (
            "Ask the firm's contact (the contract owner) whether the login's work needed these "
            "repositories, on this day, from these addresses; a migration or a new project has "
            "a ticket."
        ),
        (
            "If not: suspend the login (remove the outside collaborator or the vendor's team "
            "access), revoke its personal access tokens and SSH keys, and ask the firm to "
            "check the machine and account behind it."
        ),
        (
            "Treat the repositories in the evidence as disclosed: rotate secrets committed to "
            "them and check the pull's tokens for other use (supply_chain.token_from_new_ground)."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    reg = registry_for(t, p)
    lookback = int(p.lookback_days)
    o = outsiders(t)
    o = o.select(
        "login",
        "person",
        "firm",
        "firm_key",
        "outsider_kind",
        "via_config",
        "via_roster",
        "via_collaborator",
    )

    # every audit event of an outsider: the firm's history of days, repositories, places
    ra = t.repo_activity
    ev = ra.filter(ra.actor.notnull()).mutate(login=ra.actor.lower())
    ev = ev.join(o, "login")
    ev = ev.mutate(day=day_number(ev.time))

    firm_day0 = ev.group_by("firm_key").aggregate(firm_day0=ev.day.min())

    pulls = ev.filter(ev.action.isin(list(PULL_ACTIONS)) & ev.repo.notnull())
    pulls = pulls.mutate(repo=pulls.repo.lower())

    # the repositories the firm pulled, day by day (any repository: a crown jewel is new
    # to the firm when nobody of it pulled the repository, whatever its tag)
    fr = pulls.select("firm_key", "repo", "day").distinct()
    fr = with_previous_day(fr, ["firm_key", "repo"])
    fr = fr.rename(fr_firm="firm_key", fr_repo="repo", fr_day="day", fr_prev="prev_day")

    grants = ra.filter(
        (ra.action == "repo.add_member") & ra.target_user.notnull() & ra.repo.notnull()
    )
    grants = grants.select(
        g_login=grants.target_user.lower(),
        g_repo=grants.repo.lower(),
        g_day=day_number(grants.time),
    ).distinct()

    jewels = tagged(t, pulls, reg)
    jewels = jewels.filter(jewels.asset.notnull())

    # per (login, repo, day): new to the firm? granted in the lookback?
    lrd = jewels.select("login", "firm_key", "repo", "day").distinct()
    lrd = lrd.left_join(
        fr, (lrd.firm_key == fr.fr_firm) & (lrd.repo == fr.fr_repo) & (lrd.day == fr.fr_day)
    )
    lrd = lrd.left_join(
        grants,
        (lrd.login == grants.g_login)
        & (lrd.repo == grants.g_repo)
        & (grants.g_day <= lrd.day)
        & (grants.g_day >= lrd.day - lookback),
    )
    lrd = lrd.group_by(["login", "firm_key", "repo", "day"]).aggregate(
        firm_prev=lrd.fr_prev.max(), granted=lrd.g_login.notnull().any()
    )
    lrd = lrd.mutate(
        new_to_firm=(lrd.firm_prev.isnull() | (lrd.firm_prev < lrd.day - lookback)) & ~lrd.granted
    )

    # the places the firm was seen on, day by day, over every event
    fi = ev.filter(ev.actor_ip.notnull()).select("firm_key", ip=ev.actor_ip, day=ev.day).distinct()
    fi = with_previous_day(fi, ["firm_key", "ip"])
    fi = fi.rename(fi_firm="firm_key", fi_ip="ip", fi_day="day", fi_prev="prev_day")
    fc = ev.filter(ev.actor_country.notnull())
    fc = fc.select("firm_key", cc=fc.actor_country.upper(), day=fc.day).distinct()
    fc = with_previous_day(fc, ["firm_key", "cc"])
    fc = fc.rename(fc_firm="firm_key", fc_cc="cc", fc_day="day", fc_prev="prev_day")

    j = jewels.mutate(cc=jewels.actor_country.upper(), src_ip=jewels.actor_ip)
    j = j.mutate(_own=own_network(j, reg))
    j = j.join(firm_day0, "firm_key")
    j = j.left_join(
        fi, (j.firm_key == fi.fi_firm) & (j.actor_ip == fi.fi_ip) & (j.day == fi.fi_day)
    )
    j = j.left_join(fc, (j.firm_key == fc.fc_firm) & (j.cc == fc.fc_cc) & (j.day == fc.fc_day))
    nr = lrd.select(n_login=lrd.login, n_repo=lrd.repo, n_day=lrd.day, new_to_firm=lrd.new_to_firm)
    j = j.left_join(nr, (j.login == nr.n_login) & (j.repo == nr.n_repo) & (j.day == nr.n_day))
    judged = (j.day - j.firm_day0) >= int(p.min_baseline_days)
    j = j.mutate(
        _new_repo=judged & j.new_to_firm.fill_null(False),
        _new_ip=(
            judged
            & j.actor_ip.notnull()
            & ~j._own
            & (j.fi_prev.isnull() | (j.fi_prev < j.day - lookback))
        ),
        _new_cc=(
            judged
            & j.cc.notnull()
            & ~j._own
            & (j.fc_prev.isnull() | (j.fc_prev < j.day - lookback))
        ),
    )

    keys = ["login", "day"]
    daily = j.group_by(keys).aggregate(
        first_seen=j.time.min(),
        last_seen=j.time.max(),
        firm_key=j.firm_key.max(),
        jewel_repos=j.repo.nunique(),
        new_repos=j.repo.nunique(where=j._new_repo),
        new_address=j._new_ip.any(),
        new_country=j._new_cc.any(),
    )

    # the firm's busiest login-day in the lookback before this day
    per = jewels.group_by(["firm_key", "login", "day"]).aggregate(n=jewels.repo.nunique())
    per = per.rename(b_firm="firm_key", b_login="login", b_day="day", b_n="n")
    busy = daily.left_join(
        per,
        (daily.firm_key == per.b_firm)
        & (per.b_day < daily.day)
        & (per.b_day >= daily.day - lookback),
    )
    busy = busy.group_by(keys).aggregate(busiest=busy.b_n.max().fill_null(0))
    daily = daily.join(busy, keys)
    threshold = (daily.busiest * float(p.spree_factor)).ceil().cast("int64")
    threshold = ibis.greatest(threshold, int(p.min_spree_repos))
    daily = daily.mutate(
        threshold=threshold,
        new_repo=daily.new_repos > 0,
        spree=(daily.jewel_repos >= int(p.min_spree_repos))
        & (daily.jewel_repos > daily.busiest * float(p.spree_factor)),
    )
    ground = daily.new_address | daily.new_country
    if not p.new_address_alone:
        ground = daily.new_country | (daily.new_address & (daily.new_repo | daily.spree))
    hits = daily.filter(daily.new_repo | daily.spree | ground)

    d = j.semi_join(hits, keys)
    # each list distinct and cut below to what the finding keeps: a vendor's build
    # farm on new ground clones every repository, every run
    details = d.group_by(keys).aggregate(
        person=d.person.max(),
        firm=d.firm.max(),
        outsider_kind=d.outsider_kind.max(),
        via_config=d.via_config.any(),
        via_roster=d.via_roster.any(),
        via_collaborator=d.via_collaborator.any(),
        repos=d.repo.collect(distinct=True),
        assets=d.asset.collect(distinct=True),
        sensitivities=d.asset_sensitivity.collect(distinct=True),
        new_repo_names=d.repo.collect(where=d._new_repo, distinct=True),
        src_ips=d.actor_ip.collect(distinct=True),
        new_ips=d.actor_ip.collect(where=d._new_ip, distinct=True),
        countries=d.cc.collect(distinct=True),
        new_countries=d.cc.collect(where=d._new_cc, distinct=True),
        actions=d.action.collect(distinct=True),
        access_types=d.access_type.collect(distinct=True),
        token_ids=d.token_id.collect(distinct=True),
        user_agents=d.user_agent.collect(distinct=True),
        transports=d.transport.collect(distinct=True),
        pulls=d.count(),
        raw_refs=raw_ref(d).collect(),
    )
    # where the firm is known from: its addresses in the lookback before the day
    k = hits.select(k_login=hits.login, k_day=hits.day, k_firm=hits.firm_key)
    known = k.join(
        fi, (k.k_firm == fi.fi_firm) & (fi.fi_day < k.k_day) & (fi.fi_day >= k.k_day - lookback)
    )
    known = known.group_by(kn_login=known.k_login, kn_day=known.k_day).aggregate(
        known_ips=known.fi_ip.collect(distinct=True)
    )
    out = hits.join(details, keys)
    out = out.left_join(known, (out.login == known.kn_login) & (out.day == known.kn_day))
    new_ground = out.new_address | out.new_country
    reasons = ibis.array(
        [
            ibis.ifelse(out.new_repo, "new_repo", ibis.null("string")),
            ibis.ifelse(out.spree, "spree", ibis.null("string")),
            ibis.ifelse(out.new_address, "new_address", ibis.null("string")),
            ibis.ifelse(out.new_country, "new_country", ibis.null("string")),
        ]
    )
    n = out.new_repo.cast("int64") + out.spree.cast("int64") + new_ground.cast("int64")
    return out.select(
        key=out.login.concat("|", out.day.cast("string")),
        first_seen=out.first_seen,
        last_seen=out.last_seen,
        # the login, and the person behind it where the roster or SSO names one
        entity_user=ibis.array([out.login, out.person]),
        entity_src_ip=entities(out.src_ips),
        entity_asset=entities(out.assets),
        severity=ibis.cases(
            (out.spree & new_ground, "critical"),
            (out.spree | (n >= 2), "high"),
            else_="medium",
        ),
        reasons=reasons,
        login=out.login,
        firm=out.firm,
        outsider_kind=out.outsider_kind,
        basis=basis(out),
        jewel_repos=out.jewel_repos,
        firm_busiest_day=out.busiest,
        spree_threshold=out.threshold,
        repos=samples(out.repos),
        new_repos=samples(out.new_repo_names),
        asset_sensitivities=samples(out.sensitivities),
        new_ips=samples(out.new_ips),
        new_countries=samples(out.new_countries),
        countries=samples(out.countries),
        known_ips=samples(out.known_ips),
        actions=samples(out.actions),
        access_types=samples(out.access_types),
        token_ids=samples(out.token_ids),
        user_agents=samples(out.user_agents),
        transports=samples(out.transports),
        pulls=out.pulls,
        **ref_samples(out.raw_refs),
    )


LISTS = (
    "repos",
    "new_repos",
    "asset_sensitivities",
    "new_ips",
    "new_countries",
    "countries",
    "known_ips",
    "actions",
    "access_types",
    "token_ids",
    "user_agents",
    "transports",
    "basis",
    "raw_refs",
)


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, LISTS)


def title(row: dict, p: Params) -> str:
    why = ", ".join(r.replace("_", " ") for r in sorted(x for x in (row["reasons"] or []) if x))
    firm = f" ({row['firm']})" if row.get("firm") else ""
    n = row["jewel_repos"]
    what = "crown-jewel repository" if n == 1 else "crown-jewel repositories"
    return f"outsider {row['login']}{firm} pulled {n} {what}: {why}"
