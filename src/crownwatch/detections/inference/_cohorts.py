"""What the cohort detections share: accounts that act together without one account
showing a harvest signal (``coverage_swarm``, ``fingerprint_network``).

* :func:`template_families` — the prompt-template families each account uses: the
  masked head or tail of its single-turn prompts (``prompt_skeleton`` /
  ``prompt_skeleton_tail``, computed at ingest) used at least ``family_min_uses``
  times. A prompt generator bolts the same scaffold onto every task; people do not.
* :func:`family_stats` — per family, over the whole platform: how many accounts use
  it, how many requests and distinct prompts it carries, how capability-shaped they
  are. A harvest walks a task list (distinct prompts, capability-heavy); a class or a
  QA suite repeats one (few distinct prompts).
* :class:`UnionFind` — cohorts are the connected components of accounts linked by
  shared values; linking by value (not by pair) keeps a value held by hundreds of
  accounts linear.

All three are computed in the engine (DuckDB or Spark) down to one row per account or
per family, then joined in Python on those small tables.
"""

from __future__ import annotations

import ibis

from crownwatch.detections.contract import Params, Tables, shared
from crownwatch.detections.inference._features import capability


def exact_prompts(t: Tables) -> ibis.Table:
    """``(account_id, prompt)``: the hash of each request's whole last user turn — the
    SimHash where a lake written before ``prompt_hash`` existed has none (coarser:
    prompts sharing a long scaffold collide)."""
    r = t.llm_request
    r = r.select("account_id", prompt=_prompt(r))
    return r.filter(r.account_id.notnull() & r.prompt.notnull())


def _prompt(r: ibis.Table) -> ibis.Value:
    return r.prompt_hash.coalesce(r.prompt_simhash)


def _single_turn(t: Tables) -> ibis.Table:
    r = t.llm_request
    r = r.filter(r.account_id.notnull() & (r.n_user_turns.fill_null(1) <= 1))
    return r.mutate(prompt=_prompt(r), capab=capability(r).cast("int64"))


def _families(t: Tables, p: Params) -> ibis.Table:
    r = _single_turn(t)
    parts = []
    for tag, col in (("h:", "prompt_skeleton"), ("t:", "prompt_skeleton_tail")):
        q = r.filter(r[col].notnull())
        q = q.mutate(family=ibis.literal(tag).concat(q[col].cast("string")))
        parts.append(q.select("account_id", "family", "prompt", "capab"))
    return parts[0].union(parts[1])


def _by_account(t: Tables, p: Params) -> ibis.Table:
    """``(account_id, family, uses, capab)`` for every family an account used."""

    def build():
        f = _families(t, p)
        return f.group_by(["account_id", "family"]).aggregate(uses=f.count(), capab=f.capab.sum())

    return shared("inference.families_by_account", build)


def template_families(t: Tables, p: Params) -> ibis.Table:
    """``(account_id, family, uses)``: the families an account used at least
    ``family_min_uses`` times in single-turn prompts (family = ``h:<head hash>`` or
    ``t:<tail hash>``)."""
    f = _by_account(t, p)
    return f.filter(f.uses >= p.family_min_uses).select("account_id", "family", "uses")


def family_stats(t: Tables, p: Params) -> ibis.Table:
    """``(family, accounts, requests, prompts, capability_share)`` over the platform,
    for the families some account uses at least ``family_min_uses`` times and more
    than one account uses at all (the only ones that can tie accounts)."""

    def build():
        fa = _by_account(t, p)
        per = fa.group_by("family").aggregate(
            accounts=fa.count(),
            requests=fa.uses.sum(),
            capability_share=fa.capab.sum() / fa.uses.sum(),
            top=fa.uses.max(),
        )
        per = per.filter((per.accounts >= 2) & (per.top >= p.family_min_uses)).drop("top")
        # distinct prompts need the requests again, only those of these families
        f = _families(t, p).semi_join(per.select("family"), "family")
        prompts = f.group_by("family").aggregate(prompts=f.prompt.nunique())
        return per.join(prompts, "family")

    return shared(f"inference.family_stats:{p.family_min_uses}", build)


def crowd_evidence(members: list[dict]) -> dict:
    """What every cohort finding says about its members: who (accounts and keys), when
    (first and last request, first and last opening), how many cards, and sample
    prompts and raw records (members' rows carry ``sample_capability``, ``ref_any``)."""
    opened = sorted(m["account_created"] or m["first_seen"] for m in members)
    return {
        "first_seen": min(m["first_seen"] for m in members),
        "last_seen": max(m["last_seen"] for m in members),
        "entity_account": sorted(m["account_id"] for m in members),
        "entity_api_key": sorted({k for m in members for k in (m.get("api_keys") or [])}),
        "accounts": len(members),
        "cards": len({b for m in members for b in (m.get("billing_ids") or [])}),
        "opened_from": opened[0],
        "opened_to": opened[-1],
        "sample_prompts": sorted(
            {m["sample_capability"] for m in members if m.get("sample_capability")}
        )[:5],
        "raw_refs": sorted({m["ref_any"] for m in members if m.get("ref_any")})[:10],
    }


class UnionFind:
    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[str]]:
        out: dict[str, list[str]] = {}
        for a in self.parent:
            out.setdefault(self.find(a), []).append(a)
        return [sorted(v) for v in out.values()]
