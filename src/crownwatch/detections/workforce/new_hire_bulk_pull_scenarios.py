"""Scenarios of ``workforce.new_hire_bulk_pull``. Attack: a contractor in their first
week clones twelve crown-jewel repositories; eight colleagues each clone two or three
over the month. Look-alike: another new hire who clones the two repositories of their
team."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing import github
from crownwatch.testing.hr import employee, roster_csv

DOMAIN = "northwind-ai.com"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
AS_OF = datetime(2026, 3, 27, 18, 0, tzinfo=UTC)
REPOS = [
    f"nh-{name}"
    for name in (
        "train",
        "eval",
        "data",
        "infra",
        "tokenizer",
        "serving",
        "rlhf",
        "safety",
        "kernels",
        "sharding",
        "ckpt",
        "rtl",
    )
]
CONFIG = {
    "assets": [
        {
            "name": "nh-frontier-code",
            "kind": "source_code",
            "locations": [f"github://{github.ORG}/nh-*"],
            "sensitivity": "high",
        }
    ]
}


def _team(prefix: str) -> tuple[list[dict], list[dict]]:
    rows, events = [], []
    for i in range(8):
        login = f"{prefix}.peer{i}"
        rows.append(employee(f"E-87{i}", f"{login}@{DOMAIN}", date(2023, 3, 6)))
        for k in range(2 + i % 2):
            events.append(
                github.event(
                    T0 + timedelta(days=3 * k + i, hours=i),
                    "git.clone",
                    login,
                    repo=REPOS[(i + k) % 4],
                    ip=f"198.51.100.{30 + i}",
                    transport="ssh",
                )
            )
    return rows, events


def first_week_sweep() -> dict[str, str]:
    rows, events = _team("nh")
    rows.append(
        employee("C-879", f"nh.newhire@{DOMAIN}", date(2026, 3, 9), kind="Contractor", remote=True)
    )
    for k, repo in enumerate(REPOS):
        events.append(
            github.event(
                T0 + timedelta(days=8, minutes=9 * k),
                "git.clone",
                "nh.newhire",
                repo=repo,
                ip="203.0.113.140",
                access_type="Personal access token (classic)",
                token_id="9911",
                transport="http",
            )
        )
    return {
        "hr/new_hire_attack.csv": roster_csv(rows, as_of=AS_OF),
        "github/new_hire_attack.jsonl": github.jsonl(events),
    }


def team_repos_only() -> dict[str, str]:
    rows, events = _team("nb")
    rows.append(employee("E-889", f"nb.newhire@{DOMAIN}", date(2026, 3, 9)))
    for k, repo in enumerate(REPOS[:2]):
        events.append(
            github.event(
                T0 + timedelta(days=8, hours=k),
                "git.clone",
                "nb.newhire",
                repo=repo,
                ip="198.51.100.49",
                transport="ssh",
            )
        )
    return {
        "hr/new_hire_benign.csv": roster_csv(rows, as_of=AS_OF),
        "github/new_hire_benign.jsonl": github.jsonl(events),
    }


def _attack(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert ev["items"] == 12 and ev["peer_percentile_items"] == 3 and ev["peers"] == 8
    assert len(ev["repos"]) == 12 and ev["assets"] == ["nh-frontier-code"]
    assert ev["start_date"] == "2026-03-09" and ev["employment_type"] == "contractor"


SCENARIOS = [
    Scenario(
        "contractor_clones_twelve_jewels_in_week_one",
        "attack",
        first_week_sweep,
        entities={"user": ("nh.newhire",), "asset": ("nh-frontier-code",)},
        expect=_attack,
        config=CONFIG,
        # a contractor is a trusted outsider too: the same sweep is their spree
        also=("supply_chain.outsider_repo_pull",),
    ),
    Scenario("new_hire_clones_their_teams_repos", "benign", team_repos_only, config=CONFIG),
]
