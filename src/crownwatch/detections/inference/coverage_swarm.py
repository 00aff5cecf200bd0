"""Coverage swarm: hundreds of short-lived accounts that together walk one capability
task list (ATLAS AML.T0024.002, extracting a model through its inference API).

**What it looks for.** *Burner* accounts — opened shortly before their first request
(within ``new_account_days``, or at most ``burn_days`` before the log begins),
active for at most ``burn_days``, at least ``min_requests`` prompts, all single-turn
(``single_turn_share``), mostly code, maths or agent tasks (``capability_share``),
almost none of them a prompt any other account sent (``max_shared_share``) — linked
into cohorts by the prompt-template families they share (the masked head or tail of
their prompts, used ``family_min_uses`` times; a family counts when burners are at
least half of the accounts using it). A cohort is a finding when it has at least
``min_members`` members and, pooled, its prompts *tile a task list*:

* near-zero overlap — at most ``max_shared_share`` of its requests repeat a prompt
  any other account (member or not) sent;
* broad coverage — at least ``min_distinct_prompts`` distinct prompts;
* capability-skewed against the platform — its capability share at least
  ``min_skew`` above the platform's (the mean over accounts with ``min_requests``
  or more, so that a few heavy batch keys do not set it).

The families are the prompt's masked head and masked tail (``prompt_skeleton``,
``prompt_skeleton_tail``: digits and quotes masked, 64 characters) — locality-sensitive
hashing with two bands, matched exactly in the engine, so no pair of accounts is ever
compared. SimHash bands are not used (a decision, not a measurement): they would join
paraphrases, and with them the common phrasings every newcomer uses.

**Why.** A rival lab that has read how distillation is caught sends no harvest
signal at all: plain prompts, default settings, a few dozen per account, a thousand
accounts opened over two months, each burnt after a few days. No account and no
pair of accounts is unusual; the campaign is visible only as a crowd of newcomers
whose prompts fit together like tiles — each task asked once, by someone, all of
them on the capabilities a frontier model is valued for. The task list comes out of
one generator, and generators leave their scaffold on the prompts.

**Evidence.** The members (every account), the families that tie them, the pooled
statistics beside the platform's (capability share, distinct prompts, repeated
share), when the members were opened and how long each lived, how many cards and
addresses they used, sample prompts and raw records.

**False positives.**

* A university class (hundreds of newcomers, one homework set, one campus NAT,
  "show your work"): every student sends questions the others send — the overlap
  rule keeps them out of any cohort.
* A developer running an evaluation set of their own once: unique capability prompts
  from a new account, but its scaffold is its own — no family, no cohort.
* Newcomers trying the API by script: their prompts are not capability-shaped, or
  are the ones everybody sends ("Say hello").
* A hackathon or a bootcamp whose participants each get a different exercise from
  one generated list would look like this: it is, by construction, a task list
  walked by a crowd. Check the accounts' sign-up details before suspending.

**Out of reach.** A swarm whose prompts carry no common scaffold at all (every
prompt paraphrased by a model) forms no cohort here; the creation-cohort excess over
the platform's sign-up rate would need weeks of history this detection does not keep.
Without ``account_created`` in the logs an account counts as new when its first
request comes after the window's first ``new_account_days``.
"""

from __future__ import annotations

from collections import defaultdict

import ibis

from crownwatch.detections._time import DAY, epoch
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.inference._cohorts import (
    UnionFind,
    crowd_evidence,
    exact_prompts,
    family_stats,
    template_families,
)
from crownwatch.detections.inference._features import account_features

META = Meta(
    id="inference.coverage_swarm",
    title="Swarm of burner accounts walking one capability task list",
    severity="high",
    attack=("AML.T0024.002",),
    tables=("llm_request",),
    description=(
        "Short-lived new accounts, each sending a few dozen plain single-turn prompts, that "
        "share prompt scaffolds and together cover a capability task list with no prompt asked twice."
    ),
    false_positives=(
        "A bootcamp or hackathon handing each participant a different generated exercise; "
        "classes (shared questions) and one-off personal eval sets (own scaffold) stay quiet."
    ),
    references=(
        "https://atlas.mitre.org/techniques/AML.T0024.002",
        "https://www.anthropic.com/news/detecting-and-preventing-distillation-attacks",
    ),
    params={
        "new_account_days": 3,
        "burn_days": 6,
        "min_requests": 5,
        "single_turn_share": 0.95,
        "capability_share": 0.5,
        "max_shared_share": 0.05,
        "family_min_uses": 2,
        "min_members": 10,
        "min_distinct_prompts": 150,
        "min_skew": 0.3,
        "release_grace_hours": 6,
        "release_window_hours": 24,
        "min_cap_tokens": 2048,
    },
    runbook=(
        (
            "Suspend the members together (one at a time warns the operator) and keep the sample "
            "prompts: the task list is the evidence of what was being distilled."
        ),
        (
            "Look at the sign-up path the members share (payment processor, e-mail domain, "
            "phone verification vendor, sign-up IP ranges) and gate it."
        ),
        (
            "Watch for the family's scaffold on new accounts: the next cohort of the same "
            "generator carries it from its first request."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    acc = account_features(t, p)
    start = epoch(acc.first_seen).min().as_scalar()
    # the platform's mix as its accounts have it, one account one vote: a few heavy
    # batch or benchmark keys must not set what "capability-skewed" means
    platform_capability = acc.capability_share.mean(
        where=acc.requests >= p.min_requests
    ).as_scalar()
    first, last = epoch(acc.first_seen), epoch(acc.last_seen)
    opened = acc.account_created
    # opened shortly before its first request — or, already active when the log
    # begins, opened so shortly before that its first days may be outside the log
    new = ibis.ifelse(
        opened.isnull(),
        first >= start + p.new_account_days * DAY,
        ((first - epoch(opened)) <= p.new_account_days * DAY)
        | (epoch(opened) >= start - p.burn_days * DAY),
    )
    burners = acc.filter(
        new
        & ((last - first) <= p.burn_days * DAY)
        & (acc.requests >= p.min_requests)
        & (acc.single_share >= p.single_turn_share)
        & (acc.capability_share >= p.capability_share)
    )
    ids = burners.select("account_id")

    # how many of each burner's requests repeat a prompt another account sent
    r = exact_prompts(t)
    mine = r.semi_join(ids, "account_id")
    owners = r.semi_join(mine.select("prompt").distinct(), "prompt")
    owners = owners.group_by("prompt").aggregate(owners=owners.account_id.nunique())
    mine = mine.join(owners, "prompt")
    sharing = mine.group_by("account_id").aggregate(
        shared=(mine.owners >= 2).cast("int64").sum(), prompts=mine.prompt.nunique()
    )

    # the families burners make up at least half the users of
    fam = template_families(t, p).semi_join(ids, "account_id")
    by_burners = fam.group_by("family").aggregate(burners=fam.account_id.nunique())
    stats = family_stats(t, p)
    keep = by_burners.join(stats, "family")
    keep = keep.filter((keep.burners >= 2) & (keep.burners * 2 >= keep.accounts))
    fam = fam.semi_join(keep.select("family"), "family")
    fams = fam.group_by("account_id").aggregate(families=fam.family.collect(distinct=True))

    b = burners.join(sharing, "account_id").left_join(fams, "account_id")
    return b.select(
        "account_id",
        "first_seen",
        "last_seen",
        "account_created",
        "requests",
        "capability_share",
        "single_share",
        "code_share",
        "math_share",
        "agentic_share",
        "api_keys",
        "billing_ids",
        "src_ips",
        "user_agents",
        "sample_capability",
        "sample_any",
        "ref_any",
        b.shared,
        b.prompts,
        b.families,
        platform_capability=platform_capability,
    )


def _pooled(members: list[dict]) -> dict:
    req = sum(m["requests"] for m in members)

    def share(k: str) -> float:
        return sum((m.get(k) or 0.0) * m["requests"] for m in members) / req

    return {
        "requests": req,
        "prompts": sum(m["prompts"] for m in members),
        "shared_share": sum(m["shared"] for m in members) / req,
        "capability_share": share("capability_share"),
        "code_share": share("code_share"),
        "math_share": share("math_share"),
        "agentic_share": share("agentic_share"),
    }


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    by_id = {r["account_id"]: r for r in rows}
    uf = UnionFind()
    users: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        for f in r.get("families") or []:
            users[f].append(r["account_id"])
    for accts in users.values():
        for a in accts[1:]:
            uf.union(accts[0], a)
    out = []
    for ids in uf.groups():
        # a member's own prompts must be new to the platform, not only to the cohort
        members = [
            by_id[a] for a in ids if by_id[a]["shared"] <= p.max_shared_share * by_id[a]["requests"]
        ]
        if len(members) < p.min_members:
            continue
        pooled = _pooled(members)
        base = float(members[0].get("platform_capability") or 0.0)
        if (
            pooled["shared_share"] > p.max_shared_share
            or pooled["prompts"] < p.min_distinct_prompts
            or pooled["capability_share"] < base + p.min_skew
        ):
            continue
        mset = {m["account_id"] for m in members}
        families = sorted(f for f, accts in users.items() if len(mset.intersection(accts)) >= 2)
        lives = sorted((m["last_seen"] - m["first_seen"]).total_seconds() / DAY for m in members)
        out.append(
            {
                "key": "swarm:" + members[0]["account_id"],
                **crowd_evidence(members),
                "requests": pooled["requests"],
                "distinct_prompts": pooled["prompts"],
                "repeated_share": round(pooled["shared_share"], 4),
                "capability_share": round(pooled["capability_share"], 3),
                "platform_capability_share": round(base, 3),
                "topic_mix": {
                    k: round(pooled[f"{k}_share"], 3) for k in ("code", "math", "agentic")
                },
                "families": len(families),
                "median_life_days": round(lives[len(lives) // 2], 2),
                "addresses": len({i for m in members for i in (m.get("src_ips") or [])}),
                "user_agents": sorted({u for m in members for u in (m.get("user_agents") or [])}),
            }
        )
    return out


def title(row: dict, p: Params) -> str:
    return (
        f"Swarm of {row['accounts']} burner accounts walking one task list: "
        f"{row['distinct_prompts']} distinct prompts, {row['capability_share']:.0%} capability-shaped "
        f"(platform {row['platform_capability_share']:.0%}), {row['repeated_share']:.1%} repeated"
    )
