"""Camouflaged network: accounts that share nothing an operator thinks of hiding — no
card, no address, no opening time — but the same rare client, address prefixes and
one prompt template that carries a harvest (ATLAS AML.T0024.002).

**What it looks for.** Per account, the values it cannot easily vary: the /24 (IPv4)
or /48 (IPv6: the first three groups as written — an address compressed with ``::``
inside them keys on its shorter form, since neither engine expands addresses the same
way) prefixes it comes from, keyed with the ASN where the gateway logs it;
its user-agent strings; its TLS fingerprints (JA3/JA4); the prompt-template families
it uses (``_cohorts.template_families``). Each value is weighted by its rarity in
the platform's own population, ``ln(accounts / accounts holding it)``; values held by
more than ``max_link_accounts`` accounts (a campus NAT, a stock SDK) link nothing.

Accounts that share values of two different kinds whose weights add up to
``min_link_weight`` form a **seed** when at least ``min_accounts`` of them do —
grouped on each pair of values (one key per pair of kinds), so a value held by a
hundred accounts costs a hundred entries, never five thousand pairs. A seed's *core*
values are those held by at least ``core_share`` of it, at least half of whose
holders are in it; its **members** are the accounts holding ``min_member_kinds`` kinds of
core values (membership by kinds, not by a chain of pairwise links, which on a real
platform percolates through chance co-locations into one giant component). Seeds
whose members overlap by half are one network. A network is a finding when

* it has at least ``min_accounts`` members — a customer who happens to sit in one of
  the network's prefixes on the same SDK holds two kinds, not three, and a stock
  client or a common prompt that some members also use is not a core value;
* it is not one tenant: no org or billing id covers half of the members;
* a template family used by at least ``core_share`` of the members carries a
  harvest: at most ``max_repeat_share`` of its requests repeat a prompt, at least
  ``min_family_capability`` are code, maths or agent tasks, and the members are at
  least half of the family's users.

The finding also says whether the network's client lies about itself: its TLS
fingerprint is not the one most other accounts presenting the same user-agent
family present (``ua_tls_mismatch``; severity critical when it does).

**Why.** The published hydra detections (shared cards, addresses, opening times) are
what a well-funded operator reads first and removes: a hundred accounts on their own
cards, opened over weeks, mostly chatting at human hours. What it keeps is its
tooling — one client build, a few residential exits, one generator for the prompts it
is there for. Rare values shared across otherwise unrelated accounts are the
behavioural fingerprint Anthropic described linking distillation accounts by.

**Evidence.** The members, every core value with how many members and how many
accounts on the platform hold it and its weight, the mismatch, the harvesting
family's statistics, sample prompts and raw records.

**False positives.** A university class (one campus NAT, one homework set): its
family repeats the same questions — no harvest. A company's staff on their own
accounts behind one egress with an in-house client: one org or billing id, or no
capability-walking template. A company behind a TLS-intercepting proxy presents
one fingerprint under many user agents (a mismatch) but still needs the harvest
template to fire. Without TLS fingerprints or ASNs in the logs those kinds are
absent and the others carry the links.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from itertools import combinations

import ibis

from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.inference._cohorts import (
    crowd_evidence,
    family_stats,
    template_families,
)
from crownwatch.detections.inference._features import account_features

META = Meta(
    id="inference.fingerprint_network",
    title="Accounts tied by a rare client, address prefixes and a harvesting template",
    severity="high",
    attack=("AML.T0024.002",),
    tables=("llm_request",),
    description=(
        "Accounts with their own cards and opening times that share rare address prefixes, "
        "client strings and TLS fingerprints, and one prompt template walking a capability task list."
    ),
    false_positives=(
        "Staff of one company on personal accounts with an in-house client (one org or billing id "
        "is left alone); classes sharing one homework set (repeats, no harvest)."
    ),
    references=(
        "https://atlas.mitre.org/techniques/AML.T0024.002",
        "https://www.anthropic.com/news/detecting-and-preventing-distillation-attacks",
        "https://github.com/FoxIO-LLC/ja4",
    ),
    params={
        "max_link_accounts": 200,
        "min_link_weight": 4.0,
        "min_accounts": 10,
        "min_member_kinds": 3,
        "core_share": 0.3,
        "family_min_uses": 2,
        "max_repeat_share": 0.1,
        "min_family_capability": 0.6,
        "release_grace_hours": 6,
        "release_window_hours": 24,
        "min_cap_tokens": 2048,
    },
    runbook=(
        (
            "Suspend the members together and block the client fingerprint (user agent with "
            "its TLS fingerprint) at the gateway for new accounts."
        ),
        (
            "Rate-limit or challenge sign-ups and traffic from the core prefixes; they are "
            "residential exits, so do not block them outright."
        ),
        "Keep the template family's sample prompts: they show what was being distilled.",
    ),
)

KINDS = ("prefix", "user_agent", "tls", "template")


def query(t: Tables, p: Params) -> ibis.Table:
    acc = account_features(t, p)
    r = t.llm_request.select("account_id", "src_ip", "src_asn", "tls_fingerprint")
    # an account's few distinct addresses, not its every request, go through the regexes
    r = r.filter(r.account_id.notnull()).distinct()
    v4 = r.src_ip.re_extract(r"^([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})\.[0-9]{1,3}$", 1)
    v6 = r.src_ip.re_extract(r"^([0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4})", 1)
    net = ibis.cases(
        (v4.length() > 0, v4.concat(".0/24")),
        (r.src_ip.contains(":") & (v6.length() > 0), v6.lower().concat("::/48")),
        else_=ibis.null("string"),
    )
    asn = ibis.literal("AS").concat(r.src_asn.cast("string")).concat(" ")
    r = r.mutate(prefix=asn.fill_null("").concat(net))
    nets = r.group_by("account_id").aggregate(
        prefixes=r.prefix.collect(distinct=True), tls=r.tls_fingerprint.collect(distinct=True)
    )
    fam = template_families(t, p)
    stats = family_stats(t, p)
    fam = fam.join(stats, "family")
    fam = fam.filter((fam.accounts >= 2) & (fam.accounts <= p.max_link_accounts))
    fams = fam.group_by("account_id").aggregate(
        families=ibis.struct(
            {
                "family": fam.family,
                "uses": fam.uses,
                "accounts": fam.accounts,
                "requests": fam.requests,
                "prompts": fam.prompts,
                "capability_share": fam.capability_share,
            }
        ).collect()
    )
    a = acc.select(
        "account_id",
        "first_seen",
        "last_seen",
        "account_created",
        "requests",
        "org_id",
        "billing_ids",
        "user_agents",
        "api_keys",
        "src_ips",
        "sample_capability",
        "ref_any",
    )
    a = a.left_join(nets, "account_id").drop("account_id_right")
    return a.left_join(fams, "account_id").drop("account_id_right")


def _values(row: dict) -> dict[str, set[str]]:
    return {
        "prefix": set(row.get("prefixes") or []),
        "user_agent": set(row.get("user_agents") or []),
        "tls": set(row.get("tls") or []),
        "template": {f["family"] for f in row.get("families") or []},
    }


def _ua_family(ua: str) -> str:
    """The product a user agent names, without its version: ``OpenAI/Python 1.12.0``
    → ``openai/python``; browsers → ``mozilla``."""
    u = ua.lower()
    if u.startswith("openai/python"):  # the SDK names its language after a slash
        return "openai/python"
    return u.split(" ", 1)[0].split("/", 1)[0]


def _mismatch(members: list[dict], rows: list[dict], mset: set[str]) -> dict | None:
    """Does the network's client present a TLS fingerprint other than the one most
    other accounts on the same user-agent family present?"""
    stacks = Counter(
        (_ua_family(u), f)
        for m in members
        for u in m.get("user_agents") or []
        for f in m.get("tls") or []
    )
    if not stacks:
        return None
    (family, tls), n = stacks.most_common(1)[0]
    outside = Counter(
        f
        for r in rows
        if r["account_id"] not in mset
        and any(_ua_family(u) == family for u in r.get("user_agents") or [])
        for f in r.get("tls") or []
    )
    if sum(outside.values()) < 2:
        return None
    usual, held = outside.most_common(1)[0]
    return {
        "ua_family": family,
        "network_tls": tls,
        "members_presenting": n,
        "usual_tls": usual,
        "others_presenting_usual": held,
        "mismatch": usual != tls and outside[tls] * 2 < held,
    }


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    n_all = len(rows)
    by_id = {r["account_id"]: r for r in rows}
    values = {r["account_id"]: _values(r) for r in rows}
    holders: dict[tuple[str, str], int] = Counter(
        (k, v) for vals in values.values() for k, vs in vals.items() for v in vs
    )

    def weight(kind: str, v: str) -> float:
        k = holders[(kind, v)]
        return math.log(n_all / k) if 2 <= k <= p.max_link_accounts else 0.0

    # 1. seeds: the accounts sharing one value of each of two kinds whose weights
    # reach min_link_weight, when at least min_accounts do (one key per pair of kinds
    # and values, so a value held by a hundred accounts costs a hundred entries)
    index: dict[tuple[str, str], list[str]] = defaultdict(list)
    groups: dict[tuple, list[str]] = defaultdict(list)
    for a, vals in values.items():
        rare = {k: [(v, weight(k, v)) for v in vals[k] if weight(k, v) > 0] for k in KINDS}
        for k in KINDS:
            for v, _w in rare[k]:
                index[(k, v)].append(a)
        for k1, k2 in combinations(KINDS, 2):
            for v1, w1 in rare[k1]:
                for v2, w2 in rare[k2]:
                    if w1 + w2 >= p.min_link_weight:
                        groups[(k1, v1, k2, v2)].append(a)

    def _core(ids: set[str]) -> set[tuple[str, str]]:
        """Rare values held by core_share of the group that the group mostly owns:
        a stock client or a common prompt that a few members also use is not the
        network's (measured: a hydra's cover chat shares prompt families with
        hundreds of customers, and its stock client with a hundred more)."""
        need = p.core_share * len(ids)
        held = Counter((k, v) for a in ids for k, vs in values[a].items() for v in vs)
        return {
            kv for kv, c in held.items() if c >= need and weight(*kv) > 0 and c * 2 >= holders[kv]
        }

    def members_of(ids: set[str]) -> set[str]:
        """The accounts holding min_member_kinds kinds of the group's core values —
        each of them held by core_share of the group. Membership by kinds, not by a
        chain of pairwise links: a customer in one of the network's prefixes who
        shares one template with it is linked to it, and is not one of it."""
        core = _core(ids)
        kinds_of: dict[str, set[str]] = defaultdict(set)
        for kv in core:
            for a in index[kv]:
                kinds_of[a].add(kv[0])
        return {a for a, ks in kinds_of.items() if len(ks) >= p.min_member_kinds}

    nets: list[set[str]] = []
    for accts in sorted(groups.values(), key=len, reverse=True):
        if len(accts) < p.min_accounts:
            break
        seed = set(accts)
        if any(len(net & seed) * 2 >= len(seed) for net in nets):
            continue  # a network already found, seen through another pair of its values
        found = members_of(seed)
        if len(found) < p.min_accounts:
            continue
        for net in nets:  # the same network seen through another pair of its values
            if len(net & found) * 2 >= min(len(net), len(found)):
                net |= found
                break
        else:
            nets.append(found)

    out = []
    for net in nets:
        members = [by_id[a] for a in sorted(net)]
        mset = {m["account_id"] for m in members}
        # 2. not one tenant
        orgs = Counter(m["org_id"] for m in members if m.get("org_id"))
        cards = Counter(b for m in members for b in set(m.get("billing_ids") or []))
        top = max([*orgs.values(), *cards.values(), 0])
        if top * 2 >= len(members):
            continue
        # 3. a template family of the members' that walks a capability task list
        fams: dict[str, dict] = {}
        users: Counter = Counter()
        for m in members:
            for f in m.get("families") or []:
                fams[f["family"]] = f
                users[f["family"]] += 1
        harvest = None
        for fam, n in users.most_common():
            f = fams[fam]
            repeat = 1 - f["prompts"] / f["requests"] if f["requests"] else 1.0
            if (
                n >= p.core_share * len(members)
                and n * 2 >= f["accounts"]
                and repeat <= p.max_repeat_share
                and f["capability_share"] >= p.min_family_capability
            ):
                harvest = {
                    "members_using": n,
                    "accounts_using": f["accounts"],
                    "requests": f["requests"],
                    "distinct_prompts": f["prompts"],
                    "repeated_share": round(repeat, 4),
                    "capability_share": round(f["capability_share"], 3),
                }
                break
        if harvest is None:
            continue
        core = _core(mset)
        kinds = sorted({k for k, v in core})
        mismatch = _mismatch(members, rows, mset)
        lying = bool(mismatch and mismatch["mismatch"])
        core_values = [
            {
                "kind": k,
                "value": v,
                "members": sum(1 for m in members if v in values[m["account_id"]][k]),
                "accounts": holders[(k, v)],
                "weight": round(weight(k, v), 2),
            }
            for k, v in sorted(core)
            if k != "template"
        ]
        out.append(
            {
                "key": "fingerprint:" + min(mset),
                **crowd_evidence(members),
                "severity": "critical" if lying else "high",
                "link_kinds": kinds,
                "core_values": core_values,
                "ua_tls_mismatch": mismatch,
                "template_harvest": harvest,
                "requests": sum(m["requests"] for m in members),
            }
        )
    return out


def title(row: dict, p: Params) -> str:
    lie = " (client lies about itself)" if (row["ua_tls_mismatch"] or {}).get("mismatch") else ""
    return (
        f"Network of {row['accounts']} accounts on {row['cards']} cards tied by "
        f"{', '.join(row['link_kinds'])}{lie}; template walks "
        f"{row['template_harvest']['distinct_prompts']} distinct capability prompts"
    )
