"""The simulated inference API of the distillation scenarios: gateway JSON lines in the
layout of docs/interfaces.md ("LLM gateway log"), written by
:func:`crownwatch.simulate.inference.generate_inference`."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path


@cache
def simulated(seed: int = 11, accounts: int = 90, days: int = 2) -> tuple[str, dict]:
    """(the gateway log, the truth manifest). Seed 11 is the seed the thresholds were
    tuned on; the attackers and benign look-alikes share one population, because the
    detections judge an account against everyone else's traffic."""
    from crownwatch.simulate.inference import generate_inference

    with tempfile.TemporaryDirectory() as d:
        truth = generate_inference(Path(d), seed=seed, accounts=accounts, days=days)
        return (Path(d) / "gateway.jsonl").read_text(), truth


def gateway_logs() -> dict[str, str]:
    """A scenario's ``logs``: the simulated population, one file every inference
    scenario shares."""
    return {"gateway/simulated_seed11.jsonl": simulated()[0]}


def truth() -> dict:
    return simulated()[1]
