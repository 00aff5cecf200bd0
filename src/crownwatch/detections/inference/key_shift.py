"""One API key of a legitimate tenant that, from one day on, turns into a harvest: far
more requests than it ever sent, single-turn and benchmark-shaped where it used to be
conversational — while the tenant's other keys carry on as before (ATLAS AML.T0024.002,
extracting the model through its inference API).

**What it looks for.** Per API key and UTC day: requests, the share that are
single-turn (one user turn, at most one system message), the share aimed at a
capability or drawing out reasoning (code, maths, agentic, chain-of-thought, rubric).
A day is *shifted* when the key has at least ``min_baseline_days`` earlier days of
traffic in the ``baseline_days`` before it, sends at least ``min_requests`` requests
and ``factor`` times its earlier daily mean, at least ``single_turn_share`` single-turn
and ``benchmark_share`` capability-shaped, where its earlier days were at most
``baseline_single_turn_share`` single-turn — and at most half of the keys the tenant
used in the window changed that day (a tenant moving its whole workload to a batch job
is not one key going rogue). The first such day is the change point: it fixes the
baseline, and every later day of that shape with ``factor`` times the baseline counts
as shifted (a trailing mean would soon be inflated by the harvest itself). One finding
per key with at least ``min_days`` shifted days.

``baseline_single_turn_share`` is 0.8 because people chatting open a conversation with
half or more of their requests (office workers' days measured 0.25–0.83 single-turn in
the simulator's tenant, 0.62 on average); a key that was single-turn all along (a QA
suite, a batch job) has no conversational past to depart from.

**Why.** An insider's key (or one stolen from a customer) distils the model from
inside a trusted tenant: the account's history is clean, its egress is the tenant's
usual one, its billing real — every per-account harvest signal is diluted by months
of ordinary use. A change point per key, against the key's own past and the
tenant's other keys, is what stays visible.

**Evidence.** The key, its tenant and account, the change day, the earlier daily mean
and single-turn share beside the shifted days' volume and shares, the shifted days,
the other keys of the tenant that day, raw records (a sample).

**False positives.** A team that starts running a regression suite on a key that used
to serve a chat app (tell them to use a key of its own); a QA suite run every night
from the first day has no earlier conversational baseline and stays quiet; a tenant
migrating all its keys at once stays quiet (the half-of-the-keys rule).
"""

from __future__ import annotations

import ibis

from crownwatch.detections._num import rounded
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.identity._common import raw_ref
from crownwatch.detections.inference._features import capability

META = Meta(
    id="inference.key_shift",
    title="API key of a trusted tenant turns into a harvest",
    severity="high",
    attack=("AML.T0024.002",),
    tables=("llm_request",),
    description=(
        "From one day on, an API key sends many times its usual volume, single-turn and "
        "capability-shaped where it was conversational, while the tenant's other keys do not."
    ),
    false_positives=(
        "A test suite moved onto a chat application's key; whole-tenant migrations stay quiet."
    ),
    references=(
        "https://atlas.mitre.org/techniques/AML.T0024.002",
        "https://www.anthropic.com/news/detecting-and-preventing-distillation-attacks",
    ),
    params={
        "baseline_days": 14,
        "min_baseline_days": 5,
        "min_requests": 500,
        "factor": 5.0,
        "single_turn_share": 0.9,
        "benchmark_share": 0.5,
        "baseline_single_turn_share": 0.8,
        "min_days": 2,
    },
    runbook=(
        (
            "Ask the tenant's administrator who holds the key and what it was used for from "
            "the change day; compare with the sample prompts."
        ),
        ("Rotate the key and rate-limit the tenant's new keys until the holder is known."),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    r = t.table("llm_request")
    r = r.filter(r.api_key_id.notnull())
    single = (r.n_user_turns.fill_null(1) <= 1) & (r.n_messages.fill_null(1) <= 2)
    shaped = capability(r) | r.elicit_cot.fill_null(False) | r.elicit_rubric.fill_null(False)
    r = r.mutate(
        tenant=r.org_id.coalesce(r.billing_id).coalesce(r.account_id),
        day=r.time.date(),
        single=single.cast("float64"),
        shaped=shaped.cast("float64"),
        ref=raw_ref(r),
    )
    d = r.group_by(["api_key_id", "tenant", "day"]).aggregate(
        n=r.count(),
        single_share=r.single.mean(),
        shaped_share=r.shaped.mean(),
        account=r.account_id.min(),
        first=r.time.min(),
        last=r.time.max(),
        ref=r.ref.min(),
    )
    w = ibis.window(group_by=d.api_key_id, order_by=d.day, rows=(-int(p.baseline_days), -1))
    d = d.mutate(
        base_n=d.n.mean().over(w),
        base_single=d.single_share.mean().over(w),
        base_days=d.n.count().over(w),
    )
    # the shape of a harvest day, whatever came before
    harvest = (
        (d.n >= p.min_requests)
        & (d.single_share >= p.single_turn_share)
        & (d.shaped_share >= p.benchmark_share)
    )
    change = (
        harvest
        & (d.base_days >= p.min_baseline_days)
        & (d.n >= d.base_n * p.factor)
        & (d.base_single <= p.baseline_single_turn_share)
    )
    # a tenant's size is the keys it used in the whole window, not that day: one key
    # turning on a Sunday, when nobody else works, is still one key of thirty
    keys = r.group_by("tenant").aggregate(tenant_keys=r.api_key_id.nunique())
    d = d.join(keys, "tenant").mutate(harvest=harvest, change=change)
    org = ibis.window(group_by=[d.tenant, d.day])
    d = d.mutate(tenant_changed=d.change.cast("int64").sum().over(org))
    c = d.filter(d.change & (d.tenant_changed * 2 <= d.tenant_keys))
    # the first change day fixes the baseline; later harvest days are measured against
    # it, not against a trailing mean that the harvest itself has since inflated
    at = c.group_by("api_key_id").aggregate(
        change_day=c.day.min(),
        daily_mean_before=c.base_n.argmin(c.day),
        single_turn_before=c.base_single.argmin(c.day),
    )
    s = d.join(at, "api_key_id")
    s = s.filter(s.harvest & (s.day >= s.change_day) & (s.n >= s.daily_mean_before * p.factor))
    g = s.group_by(["api_key_id", "tenant"]).aggregate(
        shifted_days=s.day.nunique(),
        first_seen=s.first.min(),
        last_seen=s.last.max(),
        change_day=s.change_day.min().cast("string"),
        requests_shifted=s.n.sum(),
        daily_mean_before=s.daily_mean_before.min(),
        single_turn_before=s.single_turn_before.min(),
        single_turn_after=s.single_share.mean(),
        capability_share_after=s.shaped_share.mean(),
        tenant_keys=s.tenant_keys.max(),
        accounts=s.account.collect(distinct=True),
        raw_refs=s.ref.collect(distinct=True),
    )
    g = g.filter(g.shifted_days >= p.min_days)
    return g.select(
        key=g.api_key_id,
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_api_key=g.api_key_id,
        entity_account=g.accounts,
        tenant=g.tenant,
        change_day=g.change_day,
        shifted_days=g.shifted_days,
        requests_shifted=g.requests_shifted,
        daily_mean_before=rounded(g.daily_mean_before, 1),
        single_turn_before=rounded(g.single_turn_before, 2),
        single_turn_after=rounded(g.single_turn_after, 2),
        capability_share_after=rounded(g.capability_share_after, 2),
        tenant_keys=g.tenant_keys,
        raw_refs=g.raw_refs,
    )


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, ("raw_refs",))


def title(row: dict, p: Params) -> str:
    return (
        f"API key {row['entity_api_key']} of {row['tenant']} turned into a harvest on "
        f"{row['change_day']}: {row['requests_shifted']} single-turn requests in "
        f"{row['shifted_days']} days (before: {row['daily_mean_before']} a day)"
    )
