"""Hydra network: distillation spread over many linked accounts (ATLAS AML.T0024.002,
AML.T0005).

**What it looks for.** Accounts that each look clean alone — a few hundred requests
a day, ordinary chat mixed in, under every rate limit — but are one operation:
opened within hours of each other, paying with the same few cards, coming through
the same residential-proxy pool, using the same client and the same prompt
templates, switching on and off together. Pooled, their traffic is a distillation
harvest.

**Why it matters.** The February 2026 distillation campaigns ran about 24,000
fraudulent accounts through proxy "hydra" networks precisely so that no single
account crossed a threshold. Per-account detection (``inference.distillation_account``)
cannot see them; the network can.

**How.** The engine reduces ``llm_request`` to one row per account (the features of
``_features.account_features`` plus active hour buckets and repeated templates).
``postprocess`` then, in Python on that small table:

1. links accounts that share a billing id, or a source IP *and* something of
   their own — opening within ``created_window_hours`` of each other, or
   synchronised hours — and joins them with union-find. Values shared by more
   than ``max_link_accounts`` accounts (a carrier-grade NAT) are ignored. An
   address alone is not enough: a residential-proxy pool's exits are also real
   people's home connections, and a customer who once came from one must not be
   swept into the network;
2. keeps clusters of at least ``min_accounts`` and measures the corroborating
   links: shared prompt templates, same user agent, accounts opened within
   ``created_window_hours``, and synchronised timing (mean Jaccard overlap of
   active hours);
3. pools the members' traffic into one virtual account and scores it like the
   per-account detection (robust z against the benign population, ``fp_budget``)
   with the absolute floors scaled by ``pooled_floor_scale`` — a hydra dilutes its
   harvest with cover traffic on purpose, and the links supply the rest of the
   evidence. A cluster fires when the pooled traffic shows harvest and
   targeting (at least one harvest signal, two harvest-or-targeting signals) and the
   network has at least ``min_link_kinds`` kinds of link.

**False positives and how they are handled.** A startup with many accounts behind
one office NAT sharing one billing id links into a cluster, and is left alone
because its pooled traffic is ordinary (multi-turn, varied topics, no harvest).
A university class — students opened together behind the campus NAT on one browser,
working one homework set with "show your work" — links and pools to reasoning on
maths and code; it is left alone because its questions are the same ones over and
over: more than ``max_repeated_share`` of its harvest-shaped requests repeat, word
for word, a prompt ``crowd_accounts`` or more accounts sent (a harvest wants each
answer once; measured on the simulator's hydras, 0.35–0.52 of theirs are such crowd
prompts — the common coding questions of their cover chat).
Resellers and platforms that legitimately front many end-customers through one
billing id: list the billing ids in ``exclude_billing``.

No public SIEM rule covers this; it is the graph half of the approach Anthropic
described (classifiers and behavioural fingerprinting across accounts).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import ibis

from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.inference._cohorts import UnionFind
from crownwatch.detections.inference._features import (
    SignalTable,
    account_features,
    network_keys,
    score,
    z_threshold,
)

META = Meta(
    id="inference.hydra_cluster",
    title="Hydra network of accounts distilling a model",
    severity="critical",
    attack=("AML.T0024.002", "AML.T0005"),
    tables=("llm_request",),
    description="Linked accounts (billing, proxies, templates, timing) whose pooled traffic is a distillation harvest.",
    false_positives=(
        "Startups and teams sharing billing behind one NAT (pooled traffic is ordinary); "
        "resellers fronting many customers (exclude_billing)."
    ),
    references=(
        "https://atlas.mitre.org/techniques/AML.T0024.002",
        "https://atlas.mitre.org/techniques/AML.T0005",
        "https://www.anthropic.com/news/detecting-and-preventing-distillation-attacks",
    ),
    params={
        "fp_budget": 0.005,
        "min_requests": 200,
        "min_accounts": 3,
        "max_link_accounts": 200,
        "min_link_kinds": 2,
        "pooled_floor_scale": 0.5,
        "created_window_hours": 24,
        "sync_jaccard": 0.5,
        "template_min_uses": 3,
        "max_repeated_share": 0.8,
        "crowd_accounts": 10,
        "release_grace_hours": 6,
        "release_window_hours": 24,
        "min_cap_tokens": 2048,
        "exclude_billing": [],
    },
    runbook=(
        (
            "Suspend every account in the cluster at once (banning one at a time warns the "
            "operator) and revoke their API keys."
        ),
        (
            "Block the shared billing ids and payment methods, and require extra verification for"
            " sign-ups from the shared addresses and networks."
        ),
        (
            "Keep the evidence (the links, pooled signals, sample prompts, raw records) for "
            "terms-of-service enforcement or legal action."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    acc = account_features(t, p)
    keys = network_keys(t, p)
    return acc.left_join(keys, "account_id").drop("account_id_right")


def _pooled(members: list[dict]) -> dict:
    """The members' traffic as one virtual account (request-weighted shares)."""
    req = sum(m["requests"] for m in members)

    def wmean(k):
        vals = [(m.get(k) or 0.0) * m["requests"] for m in members]
        return sum(vals) / req if req else 0.0

    hours = set()
    for m in members:
        hours.update(m.get("hour_buckets") or [])
    gaps = [m for m in members if m.get("gap_mean")]
    return {
        "requests": req,
        "active_hours": len(hours),
        "hours_of_day": len({h % 24 for h in hours}),
        "out_mean": wmean("out_mean"),
        **{
            k: wmean(k)
            for k in (
                "cot_share",
                "rubric_share",
                "cap_share",
                "multi_share",
                "resample_share",
                "capability_share",
                "single_share",
                "templated_share",
            )
        },
        "window_requests": sum(m.get("window_requests") or 0 for m in members),
        "fresh_requests": sum(m.get("fresh_requests") or 0 for m in members),
        # timing regularity is a per-account property; pooled, take the median member
        "gap_mean": sorted(m["gap_mean"] for m in gaps)[len(gaps) // 2] if gaps else None,
        "gap_std": sorted(m.get("gap_std") or 0 for m in gaps)[len(gaps) // 2] if gaps else None,
        "gaps": sum(m.get("gaps") or 0 for m in members),
    }


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _corroboration(by_id: dict[str, dict], p: Params):
    """``tied(a, b)``: do two accounts that share a source address also share
    something of their own — an opening time or their hours?

    Not a client: stock clients are shared by thousands of customers and any client
    string is one header away (measured: a hydra picking among three common clients
    swept in a customer using one of them). Not a template: a hydra's cover traffic
    is the same common prompts ("Give me a recipe for …") many customers send. Both
    still corroborate a network once it is formed."""
    hours = {a: set(r.get("hour_buckets") or []) for a, r in by_id.items()}
    span = p.created_window_hours * 3600

    def tied(a: str, b: str) -> bool:
        ca, cb = by_id[a].get("account_created"), by_id[b].get("account_created")
        if ca and cb and abs((ca - cb).total_seconds()) <= span:
            return True
        return _jaccard(hours[a], hours[b]) >= p.sync_jaccard

    return tied


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    by_id = {r["account_id"]: r for r in rows}
    excluded = set(p.exclude_billing)
    # 1. strong links
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    keys_of: dict[str, list[tuple[str, str]]] = defaultdict(list)  # account -> its link values
    for r in rows:
        a = r["account_id"]
        for b in r.get("billing_ids") or []:
            if b not in excluded:
                values[("billing", b)].add(a)
                keys_of[a].append(("billing", b))
        for ip in r.get("src_ips") or []:
            values[("src_ip", ip)].add(a)
            keys_of[a].append(("src_ip", ip))
        for tpl in r.get("templates") or []:
            values[("template", tpl)].add(a)
            keys_of[a].append(("template", tpl))
    order = {k: i for i, k in enumerate(values)}
    uf = UnionFind()
    tied = _corroboration(by_id, p)
    for (kind, _v), accts in values.items():
        # infrastructure joins accounts; a shared template only corroborates (common
        # short prompts recur across unrelated customers)
        if kind == "template" or not 2 <= len(accts) <= p.max_link_accounts:
            continue
        first, *rest = ordered = sorted(accts)
        if kind == "billing":
            for a in rest:
                uf.union(first, a)
            continue
        for i, a in enumerate(ordered):  # src_ip: only pairs with a second tie
            for b in ordered[i + 1 :]:
                if tied(a, b):
                    uf.union(a, b)
    clusters: dict[str, list[str]] = defaultdict(list)
    for a in uf.parent:
        clusters[uf.find(a)].append(a)

    signals = SignalTable(rows)
    pop = signals.population()
    zmin = z_threshold(p.fp_budget)
    # (members are also scored alone against everyone, to report how many look clean)
    out = []
    for members_ids in clusters.values():
        if len(members_ids) < p.min_accounts:
            continue
        members = [by_id[a] for a in sorted(members_ids)]
        mset = set(members_ids)
        # 2. which kinds of link hold it together, and corroboration
        links: dict[str, int] = defaultdict(int)
        shared: dict[str, list[str]] = defaultdict(list)
        # only the link values some member has can hold two members (in first-seen order)
        for kind, v in sorted({k for a in members_ids for k in keys_of[a]}, key=order.__getitem__):
            accts = values[(kind, v)]
            inside = accts & mset
            if len(inside) >= 2 and len(accts) <= p.max_link_accounts:
                links[kind] += 1
                shared[kind].append(v)
        uas = defaultdict(int)
        for m in members:
            for ua in m.get("user_agents") or []:
                uas[ua] += 1
        top_ua, ua_n = max(uas.items(), key=lambda kv: (kv[1], kv[0])) if uas else (None, 0)
        if ua_n >= max(2, 0.8 * len(members)):
            links["user_agent"] = 1
        created = sorted(m["account_created"] for m in members if m.get("account_created"))
        created_span_h = None
        if len(created) >= 2:
            best = 1
            j = 0
            for i in range(len(created)):
                while (created[i] - created[j]).total_seconds() > p.created_window_hours * 3600:
                    j += 1
                best = max(best, i - j + 1)
            created_span_h = (created[-1] - created[0]).total_seconds() / 3600
            if best >= max(2, 0.8 * len(created)):
                links["created_together"] = 1
        hour_sets = [set(m.get("hour_buckets") or []) for m in members]
        pairs = [(i, j) for i in range(len(hour_sets)) for j in range(i + 1, len(hour_sets))][:5000]
        sync = (
            sum(_jaccard(hour_sets[i], hour_sets[j]) for i, j in pairs) / len(pairs)
            if pairs
            else 0.0
        )
        if sync >= p.sync_jaccard:
            links["synchronised_timing"] = 1
        if len(links) < p.min_link_kinds:
            continue
        # 3. pooled traffic scored like one account
        pooled = _pooled(members)
        # leave-cluster-out reference: a big network must not set its own baseline
        ref = signals.population(without=mset)
        sc = score(pooled, ref, zmin, p.pooled_floor_scale)
        g = sc["groups"]
        if not (g["harvest"] >= 1 and g["harvest"] + g["targeting"] >= 2):
            continue
        asked = sum(m.get("harvest_requests") or 0 for m in members)
        repeated = sum(m.get("harvest_crowd") or 0 for m in members) / asked if asked else 0.0
        if repeated > p.max_repeated_share:
            continue  # one question set asked over and over: a class, not a harvest
        member_scores = [score(m, pop, zmin) for m in members]
        alone_clean = sum(
            1
            for s in member_scores
            if s["groups"]["harvest"] + s["groups"]["targeting"] < 2 or len(s["signals"]) < 4
        )
        first = min(m["first_seen"] for m in members)
        last = max(m["last_seen"] for m in members)
        out.append(
            {
                "key": "hydra:" + members[0]["account_id"],
                "first_seen": first,
                "last_seen": last,
                "entity_account": [m["account_id"] for m in members],
                "entity_api_key": [k for m in members for k in (m.get("api_keys") or [])],
                "entity_billing": shared.get("billing", []),
                "entity_src_ip": shared.get("src_ip", []),
                "severity": "critical",
                "accounts": len(members),
                "accounts_clean_alone": alone_clean,
                "links": dict(sorted(links.items())),
                "user_agent": top_ua,
                "created_span_hours": round(created_span_h, 2)
                if created_span_h is not None
                else None,
                "timing_sync": round(sync, 4),
                "repeated_share": round(repeated, 4),
                "score": sc["score"],
                "signals": sc["signals"],
                "requests": pooled["requests"],
                "requests_per_account": round(pooled["requests"] / len(members), 1),
                "sample_prompts": sorted({m["sample_cot"] for m in members if m.get("sample_cot")})[
                    :3
                ],
                "raw_refs": sorted({m["ref_cot"] for m in members if m.get("ref_cot")})[:10],
            }
        )
    return out


def title(row: dict, p: Params) -> str:
    return (
        f"Hydra network of {row['accounts']} accounts ({row['accounts_clean_alone']} clean alone) "
        f"linked by {', '.join(row['links'] or [])}: {row['requests']} requests, score {row['score']:.1f}"
    )


_ = datetime  # timestamps arrive as datetime from the engine
