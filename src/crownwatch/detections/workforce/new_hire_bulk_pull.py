"""A new hire pulling crown-jewel repositories or data far beyond what colleagues pull,
in their first weeks (ATT&CK T1213.003 Code Repositories, T1530 Data from Cloud Storage).

**What it looks for.** For each roster person whose first ``first_days`` days after the
start date lie in the data: the distinct crown jewels they copied in that window —
repositories of the registry (``github://`` locations) cloned, fetched or downloaded
as a zip (``repo_activity``), and crown-jewel objects read (``api_activity`` through
the registry, the principal linked to the person by the identity links). It fires when
the count is at least ``min_items`` and more than ``factor`` times the
``percentile``-th percentile of what every *other* roster person copied over the whole
data — a baseline a new hire's first weeks should sit well inside.

**Who.** A repository event's person is ``actor_user`` (the SSO identity behind the
login) or, without SSO, a login equal to the person's identity key; a cloud call's is
the person the identity links name (an SSO role session named after their e-mail).

**Why.** The FBI's 2025 advisory reports North Korean IT workers copying source code
and data soon after being hired, and later extorting the employer with it; an insider
who joined to take something takes it before anyone notices. A real new hire reads a
few repositories for their team.

**Evidence.** Start date and window, the repositories and assets copied with counts,
the peers' percentile and how many peers, raw records (a sample).

**Severity.** ``high``; ``critical`` when the copied jewels include ``critical``
sensitivity ones.

**False positives.** A new platform engineer who mirrors every repository for a build
system (their role says so: raise ``factor`` or list the service in the registry's
``expected_readers``); a re-hire whose start date is their return.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for, tag_repos
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import (
    READ_OPS,
    empty_lists,
    jewel_activity,
    order_stat,
)
from crownwatch.detections.identity._common import raw_ref
from crownwatch.detections.workforce._common import roster, union_all
from crownwatch.enrichment.identities import identity_links
from crownwatch.tables.repo_activity import READ_ACTIONS

META = Meta(
    id="workforce.new_hire_bulk_pull",
    title="New hire copying crown jewels far beyond peers in the first weeks",
    severity="high",
    attack=("T1213.003", "T1530"),
    tables=("workforce",),  # repo_activity, api_activity: either is enough
    description=(
        "In their first weeks, a new hire clones or reads more distinct crown-jewel "
        "repositories and objects than colleagues do over the whole period."
    ),
    false_positives=(
        "A platform engineer mirroring repositories for a build system; a returning "
        "employee's start date."
    ),
    references=(
        "https://www.ic3.gov/PSA/2025/PSA250123",
        "https://attack.mitre.org/techniques/T1213/003/",
    ),
    params={"first_days": 28, "min_items": 5, "factor": 2.0, "percentile": 90},
    runbook=(
        (
            "Ask the hiring manager which repositories and data the person's work needs; "
            "compare with the evidence."
        ),
        (
            "Review the person's other signals (crownwatch workforce) and where the copies "
            "went (devices, addresses)."
        ),
        ("Suspend the person's tokens and keys while it is looked at (repository access too)."),
    ),
)


def _copies(t: Tables, p: Params) -> ibis.Table:
    """``(person, time, item, asset, sensitivity, ref)`` for every crown-jewel copy."""
    reg = registry_for(t, p)
    r = t.table("repo_activity")
    r = tag_repos(r.filter(r.action.isin(list(READ_ACTIONS))), reg)
    r = r.filter(r.asset.notnull())
    repos = r.select(
        person=r.actor_user.coalesce(r.actor),
        time=r.time,
        item=ibis.literal("github://").concat(r.repo.lower()),
        asset=r.asset,
        sensitivity=r.asset_sensitivity,
        ref=raw_ref(r),
    )
    if not reg.assets:
        return repos
    a = jewel_activity(t, reg)
    a = a.filter(a.api_operation.isin(list(READ_OPS)))
    links = identity_links(t, reg)
    links = links.select(l_user=links.user, l_principal=links.principal).distinct()
    a = a.join(links, a.principal == links.l_principal)
    objects = a.select(
        person=a.l_user,
        time=a.time,
        item=a.resource,
        asset=a.asset,
        sensitivity=a.asset_sensitivity,
        ref=raw_ref(a),
    )
    return union_all(repos, objects)


def query(t: Tables, p: Params) -> ibis.Table:
    c = _copies(t, p)
    ro = roster(t)
    ro = ro.select(
        r_user=ro.user, start=ro.start_date, location=ro.claimed_place, kind=ro.employment_type
    )
    c = c.join(ro, c.person == ro.r_user)
    data_start = c.time.min().as_scalar()
    window_end = c.start + ibis.interval(days=int(p.first_days))
    # only people whose first day is inside the data: an old hand's first weeks
    # are not in the lake, and their later weeks are not a new hire's
    new = c.filter(
        (c.time.date() >= c.start) & (c.time.date() < window_end) & (c.start >= data_start.date())
    )
    per_new = new.group_by("person").aggregate(
        items=new.item.nunique(),
        first_seen=new.time.min(),
        last_seen=new.time.max(),
        repos=new.item.collect(distinct=True, where=new.item.startswith("github://")),
        assets=new.asset.collect(distinct=True),
        critical=(new.sensitivity == "critical").fill_null(False).any(),
        start_date=new.start.max(),
        claimed_location=new.location.max(),
        employment_type=new.kind.max(),
        raw_refs=new.ref.collect(distinct=True),
    )
    everyone = c.group_by("person").aggregate(items=c.item.nunique())
    pairs = per_new.select(n_person=per_new.person).cross_join(everyone)
    pairs = pairs.filter(pairs.n_person != pairs.person)
    base = order_stat(pairs, ["n_person"], "items", int(p.percentile), "peer_items")
    g = per_new.left_join(base, per_new.person == base.n_person)
    peer = g.peer_items.fill_null(0)
    g = g.filter((g.items >= p.min_items) & (g.items > peer * p.factor))
    return g.select(
        key=g.person,
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.person,
        entity_asset=g.assets,
        severity=ibis.cases((g.critical, "critical"), else_="high"),
        items=g.items,
        peer_percentile_items=peer,
        peers=g.peer_items_n.fill_null(0),
        repos=g.repos,
        assets=g.assets,
        start_date=g.start_date.cast("string"),
        claimed_location=g.claimed_location,
        employment_type=g.employment_type,
        raw_refs=g.raw_refs,
    )


LISTS = ("repos", "assets", "raw_refs")


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, LISTS)


def title(row: dict, p: Params) -> str:
    return (
        f"{row['entity_user']} copied {row['items']} crown jewels in their first "
        f"{p.first_days} days (peers' p{p.percentile}: {row['peer_percentile_items']})"
    )
