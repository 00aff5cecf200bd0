"""What the supply-chain scenarios share: the crown-jewel repositories, the time base and
the vendors' terms (imported by the ``*_scenarios`` modules only, never by a run).

The repositories live in a second org of the company, ``northwind-labs``: three named
crown jewels (``labs-frontier-code``, critical) and every ``ml-*`` repository
(``labs-ml-code``, an org-wide glob); ``website`` and ``handbook`` are no jewels.
Addresses are documentation ranges (never our own network); each scenario owns its
logins, addresses and firms.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from crownwatch.testing import github

ORG = "northwind-labs"
SC0 = datetime(2026, 4, 6, tzinfo=UTC)  # a Monday
JEWELS = ("frontier-train", "frontier-evals", "rl-core")
ML = (
    "ml-tokenizer",
    "ml-data",
    "ml-serving",
    "ml-rlhf",
    "ml-infra",
    "ml-safety",
    "ml-kernels",
    "ml-eval-harness",
)
ASSETS = [
    {
        "name": "labs-frontier-code",
        "kind": "source_code",
        "locations": [f"github://{ORG}/{r}" for r in JEWELS],
        "sensitivity": "critical",
    },
    {
        "name": "labs-ml-code",
        "kind": "source_code",
        "locations": [f"https://github.com/{ORG}/ml-*"],
        "sensitivity": "high",
    },
]


def day(d: int, hours: float = 0) -> datetime:
    return SC0 + timedelta(days=d, hours=hours)


def ev(ts: datetime, action: str, actor: str, **kw) -> dict:
    """An audit event of the labs org (``repo`` names a repository of it)."""
    return github.event(ts, action, actor, org=ORG, **kw)


def config(*vendors: dict) -> dict:
    out: dict = {"assets": ASSETS}
    if vendors:
        out["supply_chain"] = {"vendors": list(vendors)}
    return out


def logs(**files: Callable[[], list[dict]]) -> Callable[[], dict[str, str]]:
    """A scenario's ``logs``: ``github/<name>.jsonl`` per keyword, the events its
    builder returns, in time order (as a stream delivers them)."""

    def build() -> dict[str, str]:
        return {
            f"github/{name}.jsonl": github.jsonl(sorted(make(), key=lambda e: e["@timestamp"]))
            for name, make in files.items()
        }

    return build
