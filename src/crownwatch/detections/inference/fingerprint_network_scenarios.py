"""Scenarios of ``inference.fingerprint_network`` over a background of 800 ordinary
customers (:mod:`crownwatch.testing.crowds`). Attack: 20 accounts opened over six weeks,
each on its own card, mostly chatting, that share two residential /24s, an old SDK
version string sent over a Go TLS stack, and one preamble around a stream of distinct
capability tasks. Look-alikes: three customers still on that SDK version (its own TLS
stack), a class of 40 on the campus NAT with one homework set, and 15 engineers of one
company sending capability tasks through their in-house client from the office."""

from __future__ import annotations

import random
from datetime import timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.crowds import DAY0, JA4, ask, background_file, chat, residential, tasks

OLD_SDK = "OpenAI/Python 1.12.0"
PREAMBLE = (
    "You are helping build a study guide. Provide a complete, correct and self-contained answer."
)
NETWORK = [f"acct_fn{i:02d}" for i in range(20)]


def network() -> dict[str, str]:
    rng = random.Random(3)
    todo = iter(tasks(17, 20 * 6))
    lines = []
    for i, acct in enumerate(NETWORK):
        prefix = ("198.18.77", "198.19.140")[i % 2]
        kw = {
            "ip": f"{prefix}.{rng.randint(2, 254)}",
            "ua": OLD_SDK,
            "tls": JA4["go"],
            "billing": f"pm_fn{i:02d}",
            "created": DAY0 - timedelta(days=rng.uniform(3, 45)),
        }
        for d in range(3):
            t = DAY0 + timedelta(days=d, hours=rng.uniform(8, 20))
            lines += chat(t, acct, rng, **kw)
            for k in range(2):
                t += timedelta(minutes=rng.uniform(5, 30))
                lines.append(
                    ask(t, acct, f"{PREAMBLE}\n\nItem {i * 6 + d * 2 + k}: {next(todo)}", **kw)
                )
    for i in range(3):  # customers on the same old SDK, over its own TLS stack
        kw = {"ip": residential(rng), "ua": OLD_SDK, "billing": f"pm_old{i}"}
        lines += chat(DAY0 + timedelta(days=1, hours=9 + i), f"acct_oldsdk{i}", rng, **kw)
    return {
        "gateway/crowd_background.jsonl": background_file(),
        "gateway/fingerprint_network.jsonl": "\n".join(lines) + "\n",
    }


def shared_places_without_a_harvest() -> dict[str, str]:
    rng = random.Random(4)
    homework = tasks(11, 12)
    lines = []
    for i in range(40):  # a class: one NAT, a browser, the same questions
        kw = {"ip": "192.0.2.200", "ua": "Mozilla/5.0 (X11; Linux x86_64)"}
        t = DAY0 + timedelta(hours=rng.uniform(0, 20))
        for q in homework:
            t += timedelta(minutes=rng.uniform(5, 30))
            lines.append(ask(t, f"acct_cls{i:02d}", f"{q}\nShow your work.", **kw))
    todo = iter(tasks(19, 15 * 6))
    for i in range(15):  # one company's engineers: one org, one egress, an in-house client
        acct = f"acct_acme{i:02d}"
        kw = {
            "ip": "203.0.113.7",
            "ua": "acme-assistant/2.1",
            "org": "org_acme",
            "billing": "pm_acme",
        }
        for d in range(3):
            t = DAY0 + timedelta(days=d, hours=rng.uniform(8, 17))
            lines += chat(t, acct, rng, **kw)
            for k in range(2):
                lines.append(
                    ask(t + timedelta(minutes=10 + k), acct, f"{PREAMBLE}\n\n{next(todo)}", **kw)
                )
    return {
        "gateway/crowd_background.jsonl": background_file(),
        "gateway/not_networks.jsonl": "\n".join(lines) + "\n",
    }


def _network(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert sorted(f["entities"]["account"]) == NETWORK and f["severity"] == "critical"
    assert ev["link_kinds"] == ["prefix", "template", "tls", "user_agent"]
    assert ev["ua_tls_mismatch"]["mismatch"] and ev["ua_tls_mismatch"]["network_tls"] == JA4["go"]
    assert ev["template_harvest"]["distinct_prompts"] == 120
    assert ev["template_harvest"]["repeated_share"] == 0.0 and ev["cards"] == 20
    assert {v["kind"] for v in ev["core_values"]} == {"prefix", "tls", "user_agent"}


SCENARIOS = [
    Scenario(
        "camouflaged_network_on_a_rare_client",
        "attack",
        network,
        entities={"account": tuple(NETWORK)},
        expect=_network,
    ),
    Scenario("class_and_one_company_on_shared_places", "benign", shared_places_without_a_harvest),
]
