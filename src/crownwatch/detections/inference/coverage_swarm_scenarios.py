"""Scenarios of ``inference.coverage_swarm`` over a background of 800 ordinary customers
(:mod:`crownwatch.testing.crowds`). Attack: 24 accounts opened during the window, each
sending twelve plain single-turn tasks of one generated list — no task twice, most
with the operator's scaffold — from its own home address and card, then gone.
Look-alikes: a class of 40 newcomers sending one homework set from the campus NAT
("Show your work."), a developer running an evaluation set of their own once, and ten
newcomers wiring up an app by script."""

from __future__ import annotations

import random
from datetime import timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.crowds import DAY0, ask, background_file, residential, tasks

SCAFFOLD = "Return only the final solution, with no commentary before or after it."
SWARM = [f"acct_sw{i:02d}" for i in range(24)]


def swarm() -> dict[str, str]:
    rng = random.Random(1)
    todo = iter(tasks(7, 24 * 12))
    lines = []
    for i, acct in enumerate(SWARM):
        opened = DAY0 + timedelta(hours=6 + 3 * i)
        kw = {
            "ip": residential(rng),
            "ua": ("OpenAI/Python 1.54.3", "python-httpx/0.27.0")[i % 2],
            "billing": f"pm_sw{i:02d}",
            "created": opened,
        }
        t = opened + timedelta(hours=1)
        for k in range(12):
            t += timedelta(minutes=rng.uniform(2, 40))
            p = next(todo)
            lines.append(ask(t, acct, f"{p}\n\n{SCAFFOLD}" if k % 5 else p, **kw))
    return {
        "gateway/crowd_background.jsonl": background_file(),
        "gateway/coverage_swarm.jsonl": "\n".join(lines) + "\n",
    }


def crowds_that_are_not_swarms() -> dict[str, str]:
    rng = random.Random(2)
    homework = tasks(11, 12)
    lines = []
    for i in range(40):  # a class: the same questions, one NAT
        acct, opened = f"acct_cls{i:02d}", DAY0 + timedelta(hours=rng.uniform(0, 20))
        kw = {"ip": "192.0.2.200", "ua": "Mozilla/5.0 (X11; Linux x86_64)", "created": opened}
        t = opened + timedelta(hours=2)
        for q in homework:
            t += timedelta(minutes=rng.uniform(5, 30))
            lines.append(ask(t, acct, f"{q}\nShow your work.", **kw))
    own = "Answer as our grader expects: code only, tests included."
    t = DAY0 + timedelta(days=1, hours=3)
    for k, p in enumerate(tasks(13, 40)):  # one developer's own eval set, once
        lines.append(
            ask(
                t + timedelta(seconds=20 * k),
                "acct_evalset",
                f"{p}\n{own}",
                ip="198.51.100.23",
                ua="python-httpx/0.27.0",
                created=t - timedelta(hours=5),
            )
        )
    for i in range(10):  # newcomers wiring up an app
        acct, opened = f"acct_app{i}", DAY0 + timedelta(hours=rng.uniform(0, 60))
        kw = {"ip": residential(rng), "ua": "OpenAI/Python 1.54.3", "created": opened}
        t = opened + timedelta(hours=1)
        for k in range(10):
            p = (
                "Say hello"
                if k == 0
                else f"Summarise in one sentence: ticket {rng.randint(1, 10**6)}"
            )
            lines.append(ask(t + timedelta(minutes=k), acct, p, **kw))
    return {
        "gateway/crowd_background.jsonl": background_file(),
        "gateway/not_swarms.jsonl": "\n".join(lines) + "\n",
    }


def _swarm(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert sorted(f["entities"]["account"]) == SWARM and f["attack"] == ["AML.T0024.002"]
    assert ev["accounts"] == 24 and ev["distinct_prompts"] == 24 * 12
    assert ev["repeated_share"] == 0.0 and ev["capability_share"] >= 0.8
    assert ev["capability_share"] - ev["platform_capability_share"] >= 0.3
    assert ev["families"] >= 1 and ev["cards"] == 24 and ev["sample_prompts"]


SCENARIOS = [
    Scenario(
        "burner_swarm_walking_a_task_list",
        "attack",
        swarm,
        entities={"account": tuple(SWARM)},
        expect=_swarm,
    ),
    Scenario("class_eval_set_and_app_newcomers", "benign", crowds_that_are_not_swarms),
]
