"""Model distillation from one account (ATLAS AML.T0024.002, AML.T0005).

**What it looks for.** An API account whose traffic is a training-data harvest:
prompts that draw out chain-of-thought or grade answers against a rubric, outputs
taken at the ``max_tokens`` cap, several samples per prompt and temperature sweeps,
aimed at the capabilities a frontier model is valued for (code, maths, agentic tool
use), moving to a new model within hours of its release, driven by a script —
round the clock, machine-regular, single-turn, templated.

**Why it matters.** In February 2026 Anthropic reported about 24,000 fraudulent
accounts and more than 16 million exchanges used by rival labs to distil its models;
the prompts elicited reasoning and targeted coding, agentic and reasoning skills,
and moved to each new model within a day of release. A model provider sees all of
it in its own gateway logs — if it looks.

**How.** ``_features.account_features`` reduces ``llm_request`` to one row per
account in the engine (DuckDB or Spark). ``postprocess`` scores that small table in
Python: each of thirteen signals is compared with the benign population by a robust
z-score (median/MAD) and an absolute floor; the z threshold comes from
``fp_budget`` (the share of benign accounts allowed to trip a signal by chance).
A finding needs at least one *harvest* signal, two *harvest or targeting* signals,
``min_signals`` in all, ``min_requests`` requests and ``min_active_hours`` distinct
active hours. The finding lists every signal that fired, its value, z and strength,
with sample prompts (at most 200 characters, masked at ingest) and raw records.

**False positives and how they are handled.**

* An enterprise batch pipeline (one template, high volume, round the clock): all
  automation, no harvest — never enough on its own.
* A heavy coding-assistant user (thousands of code requests with tools): targeting
  and volume, but multi-turn, human-timed and with no harvest signal.
* A team running a public benchmark once (GSM8K "let's think step by step",
  HumanEval, on the new model the day it ships): harvest and targeting fire, but the
  run is one burst — under ``min_active_hours``.
* A QA team re-running its fixed regression suite every night, at several
  temperatures, on the new model within hours of release: harvest (the temperature
  re-runs, "think step by step") and targeting fire, but most of its prompts are ones
  it also sent, word for word, on another day (all of them once two nights are in
  the window). A distiller wants new outputs and re-sends a prompt within the minute
  it sweeps it. At most ``max_replay_share`` of the account's requests may repeat a
  prompt of another day — set high, because a distiller drawing on a small task space
  repeats itself over weeks (the simulator's two distillers: 0.31 and 0.65 over
  twelve days). An attacker who pads its harvest with replays pays for them, and
  the share is in the finding's evidence when it still fires.
* Customers who legitimately generate synthetic data with permission: list their
  accounts in ``exclude_accounts``.

Elastic and Sentinel have no rule for this (their LLM rules look at prompt
injection and token abuse per request); the nearest published practice is rate and
spend anomaly alerting per key, which a hydra network stays under by design — see
``inference.hydra_cluster`` for the network view.
"""

from __future__ import annotations

import ibis

from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.inference._features import (
    account_features,
    is_distiller,
    score_accounts,
    topic_mix,
)

META = Meta(
    id="inference.distillation_account",
    title="Model distillation from an API account",
    severity="high",
    attack=("AML.T0024.002", "AML.T0005"),
    tables=("llm_request",),
    description="An account harvesting reasoning outputs at scale, aimed at a model's key capabilities.",
    false_positives=(
        "Batch pipelines (no harvest), coding assistants (multi-turn, no harvest), one-off "
        "benchmark runs (min_active_hours), nightly regression suites (max_replay_share); sanctioned synthetic-data customers (exclude_accounts)."
    ),
    references=(
        "https://atlas.mitre.org/techniques/AML.T0024.002",
        "https://atlas.mitre.org/techniques/AML.T0005",
        "https://www.anthropic.com/news/detecting-and-preventing-distillation-attacks",
    ),
    params={
        "fp_budget": 0.005,
        "min_requests": 200,
        "min_active_hours": 6,
        "min_signals": 4,
        "min_score": 3.0,
        "critical_score": 6.0,
        "release_grace_hours": 6,
        "release_window_hours": 24,
        "min_cap_tokens": 2048,
        "max_replay_share": 0.9,
        "exclude_accounts": [],
    },
    runbook=(
        (
            "Suspend the account's API keys (or cut its rate limit) and keep its logs and sample "
            "prompts as evidence for terms-of-service enforcement."
        ),
        (
            "Look for its siblings: accounts sharing its billing id, addresses, user agent or "
            "prompt templates (inference.hydra_cluster); suspend them together."
        ),
        "Stop the payment method and identity details behind it from opening new accounts.",
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    return account_features(t, p)


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    out = []
    excluded = set(p.exclude_accounts)
    for row in score_accounts(rows, p):
        sc = row["_score"]
        if row["account_id"] in excluded or not is_distiller(sc, row, p):
            continue
        out.append(
            {
                "key": row["account_id"],
                "first_seen": row["first_seen"],
                "last_seen": row["last_seen"],
                "entity_account": row["account_id"],
                "entity_api_key": row["api_keys"],
                "entity_billing": row["billing_ids"],
                "entity_src_ip": row["src_ips"],
                "severity": "critical" if sc["score"] >= p.critical_score else "high",
                "score": sc["score"],
                "signals": sc["signals"],
                "signal_groups": sc["groups"],
                "z_threshold": round(row["_zmin"], 3),
                "requests": row["requests"],
                "output_tokens": row["out_tokens"],
                "active_hours": row["active_hours"],
                "replay_share": round(float(row.get("replay_share") or 0.0), 3),
                "models": row["models"],
                "topics": topic_mix(row),
                "user_agents": row["user_agents"],
                "sample_prompts": [s for s in (row["sample_cot"], row["sample_capability"]) if s],
                "raw_refs": [r for r in (row["ref_cot"], row["ref_any"]) if r],
            }
        )
    return out


def title(row: dict, p: Params) -> str:
    top = sorted(row["signals"].items(), key=lambda kv: -kv[1]["strength"])[:3]
    return (
        f"Distillation from account {row['entity_account']}: {row['requests']} requests, "
        f"score {row['score']:.1f} ({', '.join(k for k, _ in top)})"
    )
