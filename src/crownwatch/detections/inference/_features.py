"""Per-account features of inference-API traffic, and the scoring that explains itself.

``account_features(t, p)`` is one Ibis expression (DuckDB and Spark alike) that
reduces ``llm_request`` to one row per account — a few thousand rows however many
millions of requests went in. The detections' ``postprocess`` hands that small
table to :func:`score_accounts`, which in plain Python:

1. turns features into **signals** (share of CoT prompts, output harvested, timing
   regularity…), each oriented so that higher is more distillation-like;
2. scores each signal against the **benign population** with a robust z-score
   (median and MAD — a few dozen attackers among thousands of customers do not move
   them) *and* an absolute floor (a signal that is unusual but harmless in absolute
   terms — 3 % CoT prompts where the median is 0 — does not fire);
3. derives the z threshold from a **false-positive budget** (``fp_budget``: the share
   of benign accounts allowed to trip any one signal by chance, assuming a roughly
   normal benign tail), so tightening or loosening the detector is one number.

Signals come in three groups, and a finding needs all three kinds of evidence:

* **harvest** — what only extraction needs: chain-of-thought or rubric elicitation,
  outputs at the ``max_tokens`` cap, large outputs, ``n`` > 1, temperature sweeps;
* **targeting** — what it goes after: code/maths/agentic share, chasing a new model;
* **automation** — how it is driven: volume, round-the-clock activity, machine-regular
  timing, single-turn requests, templated prompts.

That split is what keeps the look-alikes quiet: an enterprise batch pipeline is all
automation and no harvest; a heavy coding-assistant user is all targeting, no
harvest; a benchmark run has harvest and targeting but is one burst (the
``min_active_hours`` gate).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from statistics import NormalDist

import ibis

# A model's cap is taken as the largest max_tokens any client asked of it in the
# window — providers' caps differ per model and are not in the logs.
CAP_FRACTION = 0.9
# A prompt is "templated" when its masked head or tail repeats this often in the account.
TEMPLATE_REPEATS = 5
# Gaps longer than this end a session; regularity is measured within sessions.
SESSION_GAP_S = 1800
# Accounts with fewer requests than this have shares too noisy to describe the
# population (one request is 0 % or 100 % CoT); they are scored, not used as reference.
POP_MIN_REQUESTS = 20


def _ref(t: ibis.Table, where=None) -> ibis.Value:
    r = t.raw_source.concat("#", t.raw_offset.cast("string").fill_null("?"))
    return r.min(where=where)


def account_features(t, p) -> ibis.Table:
    """One row per account with everything the inference detections score —
    computed once per detection run and shared by both inference detections."""
    from crownwatch.detect import shared

    key = "inference.account_features:" + ":".join(
        str(getattr(p, k, None))
        for k in ("min_cap_tokens", "release_grace_hours", "release_window_hours")
    )
    return shared(key, lambda: _account_features(t, p))


def _account_features(t, p) -> ibis.Table:
    r = t.llm_request
    r = r.filter(r.account_id.notnull())
    r = r.mutate(
        ts=r.time.epoch_seconds(),
        hour_bucket=(r.time.epoch_seconds() / 3600).floor().cast("int64"),
        single=(r.n_user_turns.fill_null(1) <= 1),
        cot=r.elicit_cot.fill_null(False),
        rubric=r.elicit_rubric.fill_null(False),
        capab=(r.cap_code.fill_null(False) | r.cap_math.fill_null(False)
               | r.cap_agentic.fill_null(False)),
    )

    # model caps and first appearances (small per-model aggregate, joined back)
    window_start = r.ts.min().as_scalar()
    models = r.group_by(r.gen_ai_request_model).aggregate(
        model_cap=r.gen_ai_request_max_tokens.max(), model_first=r.ts.min()
    )
    models = models.mutate(
        released=models.model_first > window_start + p.release_grace_hours * 3600
    )
    r = r.left_join(models, "gen_ai_request_model").drop("gen_ai_request_model_right")
    r = r.mutate(
        at_cap=(r.gen_ai_request_max_tokens.notnull()
                & (r.gen_ai_request_max_tokens >= r.model_cap * CAP_FRACTION)
                & (r.model_cap >= p.min_cap_tokens)),
        fresh=(r.released.fill_null(False) & (r.ts <= r.model_first + p.release_window_hours * 3600)),
    )
    # any release in the data: requests made inside a release window, on any model
    windows = models.filter(models.released)
    in_window = r.select("request_id", "ts", "raw_source", "raw_offset").cross_join(
        windows.select(w_start=windows.model_first)
    )
    in_window = in_window.filter(
        (in_window.ts >= in_window.w_start)
        & (in_window.ts <= in_window.w_start + p.release_window_hours * 3600)
    ).select("raw_source", "raw_offset").distinct()
    in_window = in_window.mutate(in_release_window=ibis.literal(True))
    r = r.left_join(in_window, ["raw_source", "raw_offset"]).drop(
        "raw_source_right", "raw_offset_right"
    )
    r = r.mutate(in_release_window=r.in_release_window.fill_null(False))

    # template repetition (single-turn prompts) and temperature re-sampling
    w_head = ibis.window(group_by=[r.account_id, r.prompt_skeleton])
    w_tail = ibis.window(group_by=[r.account_id, r.prompt_skeleton_tail])
    w_sim = ibis.window(group_by=[r.account_id, r.prompt_simhash])
    r = r.mutate(
        head_n=r.count().over(w_head),
        tail_n=r.count().over(w_tail),
        # min < max rather than a distinct count: Spark has no DISTINCT window functions
        sim_tmin=r.gen_ai_request_temperature.min().over(w_sim),
        sim_tmax=r.gen_ai_request_temperature.max().over(w_sim),
    )
    r = r.mutate(
        templated=(r.single & r.prompt_skeleton.notnull()
                   & ((r.head_n >= TEMPLATE_REPEATS) | (r.tail_n >= TEMPLATE_REPEATS))),
        resampled=(r.prompt_simhash.notnull() & (r.sim_tmax > r.sim_tmin).fill_null(False)),
    )

    # inter-arrival gaps within sessions
    w_time = ibis.window(group_by=r.account_id, order_by=[r.ts, r.raw_source, r.raw_offset])
    r = r.mutate(gap=r.ts - r.ts.lag().over(w_time))
    r = r.mutate(sgap=ibis.ifelse(r.gap <= SESSION_GAP_S, r.gap, ibis.null("float64")))

    acc = r.group_by(r.account_id).aggregate(
        first_seen=r.time.min(),
        last_seen=r.time.max(),
        requests=r.count(),
        api_keys=r.api_key_id.collect(distinct=True),
        billing_ids=r.billing_id.collect(distinct=True),
        src_ips=r.src_ip.collect(distinct=True),
        user_agents=r.user_agent.collect(distinct=True),
        org_id=r.org_id.max(),
        account_created=r.account_created.min(),
        active_hours=r.hour_bucket.nunique(),
        hours_of_day=r.time.hour().nunique(),
        out_tokens=r.gen_ai_usage_output_tokens.sum(),
        out_mean=r.gen_ai_usage_output_tokens.mean(),
        cap_share=r.at_cap.cast("float64").mean(),
        multi_share=(r.gen_ai_request_choice_count.fill_null(1) > 1).cast("float64").mean(),
        temps=r.gen_ai_request_temperature.nunique(),
        resample_share=r.resampled.cast("float64").mean(),
        gap_mean=r.sgap.mean(),
        gap_std=r.sgap.std(),
        gaps=r.sgap.count(),
        single_share=r.single.cast("float64").mean(),
        templated_share=r.templated.cast("float64").mean(),
        cot_share=r.cot.cast("float64").mean(),
        rubric_share=r.rubric.cast("float64").mean(),
        code_share=r.cap_code.fill_null(False).cast("float64").mean(),
        math_share=r.cap_math.fill_null(False).cast("float64").mean(),
        agentic_share=r.cap_agentic.fill_null(False).cast("float64").mean(),
        capability_share=r.capab.cast("float64").mean(),
        window_requests=r.in_release_window.cast("int64").sum(),
        fresh_requests=r.fresh.cast("int64").sum(),
        models=r.gen_ai_request_model.collect(distinct=True),
        sample_cot=r.prompt_sample.min(where=r.cot),
        sample_capability=r.prompt_sample.min(where=r.capab & ~r.cot),
        sample_any=r.prompt_sample.max(),
        ref_cot=_ref(r, r.cot),
        ref_any=_ref(r),
    )
    # topic spread: normalised entropy and the top topic's share
    tp = r.group_by([r.account_id, r.prompt_topic]).aggregate(c=r.count())
    tot = tp.group_by(tp.account_id).aggregate(tot=tp.c.sum())
    tp = tp.join(tot, "account_id")
    tp = tp.mutate(pr=tp.c / tp.tot)
    topics = tp.group_by(tp.account_id).aggregate(
        topic_entropy=(-(tp.pr * tp.pr.ln())).sum(),
        top_topic_share=tp.pr.max(),
        n_topics=tp.prompt_topic.nunique(),
    )
    acc = acc.left_join(topics, "account_id").drop("account_id_right")
    return acc


def network_keys(t, p) -> ibis.Table:
    """Per account, the values that can tie it to other accounts: the active hour
    buckets (synchronised timing) and the prompt templates it used repeatedly."""
    r = t.llm_request
    r = r.filter(r.account_id.notnull())
    r = r.mutate(hour_bucket=(r.time.epoch_seconds() / 3600).floor().cast("int64"))
    hours = r.group_by([r.account_id, r.hour_bucket]).aggregate(c=r.count())
    hours = hours.group_by(hours.account_id).aggregate(
        hour_buckets=hours.hour_bucket.collect(distinct=True)
    )
    sk = r.filter(r.prompt_skeleton.notnull() & (r.n_user_turns.fill_null(1) <= 1))
    sk = sk.group_by([sk.account_id, sk.prompt_skeleton]).aggregate(c=sk.count())
    sk = sk.filter(sk.c >= p.template_min_uses)
    sk = sk.group_by(sk.account_id).aggregate(
        templates=sk.prompt_skeleton.cast("string").collect(distinct=True)
    )
    return hours.left_join(sk, "account_id").drop("account_id_right")


# -- scoring --------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    name: str
    group: str  # harvest | targeting | automation
    floor: float  # absolute minimum before it can fire
    scale: float  # smallest robust spread assumed (a population with MAD 0 is common)
    weight: float
    what: str


SIGNALS: tuple[Signal, ...] = (
    Signal("cot_elicitation", "harvest", 0.30, 0.05, 1.5, "share of prompts eliciting chain-of-thought"),
    Signal("rubric_elicitation", "harvest", 0.20, 0.05, 1.0, "share of prompts asking to grade/judge answers"),
    Signal("max_tokens_at_cap", "harvest", 0.50, 0.05, 1.0, "share of requests with max_tokens at the model cap"),
    Signal("output_harvest", "harvest", 1500.0, 150.0, 1.0, "mean output tokens per request"),
    Signal("multi_sample", "harvest", 0.10, 0.02, 0.7, "share of requests with n > 1"),
    Signal("temperature_sweep", "harvest", 0.10, 0.02, 0.7, "share of prompts re-sent at other temperatures"),
    Signal("capability_targeting", "targeting", 0.60, 0.10, 1.0, "share of prompts on code, maths or agentic tasks"),
    Signal("release_chasing", "targeting", 0.50, 0.10, 1.0, "share of post-release traffic on the new model within a day"),
    Signal("volume", "automation", 400.0, 20.0, 0.7, "requests per active day"),
    Signal("round_the_clock", "automation", 0.85, 0.10, 0.7, "share of the 24 hours of day with traffic"),
    Signal("machine_timing", "automation", 0.50, 0.10, 0.7, "inter-arrival regularity (1 - coefficient of variation)"),
    Signal("single_turn", "automation", 0.90, 0.05, 0.5, "share of single-turn requests"),
    Signal("templated", "automation", 0.50, 0.05, 0.7, "share of prompts sharing a masked template"),
)


def signal_values(row: dict) -> dict[str, float | None]:
    req = row.get("requests") or 0
    days = max(1.0, (row.get("active_hours") or 0) / 24)
    cv = None
    if (row.get("gaps") or 0) >= 20 and row.get("gap_mean"):
        cv = (row.get("gap_std") or 0.0) / row["gap_mean"]
    win = row.get("window_requests") or 0
    return {
        "cot_elicitation": row.get("cot_share"),
        "rubric_elicitation": row.get("rubric_share"),
        "max_tokens_at_cap": row.get("cap_share"),
        "output_harvest": row.get("out_mean"),
        "multi_sample": row.get("multi_share"),
        "temperature_sweep": row.get("resample_share"),
        "capability_targeting": row.get("capability_share"),
        "release_chasing": (row.get("fresh_requests") or 0) / win if win >= 20 else None,
        "volume": req / days,
        "round_the_clock": (row.get("hours_of_day") or 0) / 24 if req >= 100 else None,
        "machine_timing": max(0.0, 1.0 - cv) if cv is not None else None,
        "single_turn": row.get("single_share"),
        "templated": row.get("templated_share"),
    }


def z_threshold(fp_budget: float) -> float:
    return NormalDist().inv_cdf(1.0 - min(max(fp_budget, 1e-9), 0.5))


def population(rows: list[dict], min_requests: int = POP_MIN_REQUESTS) -> dict[str, tuple[float, float]]:
    """Median and MAD-based spread of each signal over accounts with enough traffic."""
    vals: dict[str, list[float]] = {s.name: [] for s in SIGNALS}
    for row in rows:
        if (row.get("requests") or 0) < min_requests:
            continue
        for k, v in signal_values(row).items():
            if v is not None:
                vals[k].append(float(v))
    out = {}
    for s in SIGNALS:
        xs = vals[s.name]
        if not xs:
            out[s.name] = (0.0, s.scale)
            continue
        med = statistics.median(xs)
        mad = statistics.median([abs(x - med) for x in xs])
        out[s.name] = (med, max(1.4826 * mad, s.scale))
    return out


def score(row: dict, pop: dict[str, tuple[float, float]], zmin: float,
          floor_scale: float = 1.0) -> dict:
    """Which signals fired for this account, how strongly, and the totals.

    ``floor_scale`` lowers the absolute floors (the hydra detection scores a
    network's pooled traffic, diluted on purpose with cover requests, at half)."""
    fired = {}
    vals = signal_values(row)
    total = 0.0
    groups = {"harvest": 0, "targeting": 0, "automation": 0}
    for s in SIGNALS:
        v = vals[s.name]
        if v is None:
            continue
        med, spread = pop[s.name]
        z = (v - med) / spread
        if v >= s.floor * floor_scale and z >= zmin:
            strength = min(1.0, z / (3 * zmin))
            fired[s.name] = {"value": round(float(v), 4), "z": round(min(z, 99.0), 2),
                             "strength": round(strength, 3), "what": s.what}
            total += s.weight * (0.5 + 0.5 * strength)
            groups[s.group] += 1
    return {"signals": fired, "score": round(total, 3), "groups": groups, "values": vals}


def score_accounts(rows: list[dict], p) -> list[dict]:
    """Score every account; returns rows with ``_score`` (see :func:`score`) added."""
    pop = population(rows)
    zmin = z_threshold(p.fp_budget)
    out = []
    for row in rows:
        s = score(row, pop, zmin)
        out.append({**row, "_score": s, "_zmin": zmin})
    return out


def is_distiller(sc: dict, row: dict, p) -> bool:
    g = sc["groups"]
    return (
        (row.get("requests") or 0) >= p.min_requests
        and (row.get("active_hours") or 0) >= p.min_active_hours
        and g["harvest"] >= 1
        and g["harvest"] + g["targeting"] >= 2
        and len(sc["signals"]) >= p.min_signals
        and sc["score"] >= p.min_score
    )


def entropy_norm(row: dict) -> float | None:
    n = row.get("n_topics") or 0
    if n <= 1 or row.get("topic_entropy") is None:
        return 0.0 if n == 1 else None
    return float(row["topic_entropy"]) / math.log(n)
