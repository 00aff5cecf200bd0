"""Scenarios of ``supply_chain.vendor_outside_contract``.

Attacks: Quill Labs' contract (``quill-*`` in ``[supply_chain]``) ended on 10 April;
its developer's login keeps fetching the RL code from the firm's office every day after
(critical: crown-jewel pulls after the end). A contractor on the HR roster whose last
day was 9 April signs in through Okta on the 14th and clones the data pipeline with the
GitHub login single sign-on ties to them (critical). Look-alikes: Pike Systems'
developer working inside its window, its CI's last run the night after the last day
(inside ``grace_days``); a roster contractor who started on the first day of the logs
signs in and clones every day.
"""

from __future__ import annotations

import json
from datetime import date

from crownwatch.detections.contract import Scenario
from crownwatch.detections.supply_chain._scenario_kit import SC0, config, day, ev, logs
from crownwatch.testing import github
from crownwatch.testing.okta import Net, success

QUILL = {
    "firm": "Quill Labs",
    "github_logins": ["quill-*"],
    "contract_start": "2025-10-01",
    "contract_end": "2026-04-10",
}
PIKE = {
    "firm": "Pike Systems",
    "github_logins": ["pike-*"],
    "contract_start": "2026-03-01",
    "contract_end": "2026-04-13",
}
QUILL_OFFICE = "203.0.113.50"


def quill_after_end() -> list[dict]:
    return [
        ev(day(d, 8), "git.fetch", "quill-dev", repo="rl-core", ip=QUILL_OFFICE, country="GB")
        for d in range(10)
    ]


def pike_inside() -> list[dict]:
    out = [
        ev(day(d, 9), "git.fetch", "pike-dev", repo="ml-infra", ip="203.0.113.60", country="FR")
        for d in range(8)
    ]
    # the CI's last nightly run, the night after the last day (inside grace_days)
    out += [
        ev(day(d, 23), "git.clone", "pike-ci", repo="ml-infra", ip="203.0.113.61", country="FR")
        for d in range(9)
    ]
    return out


ORBIT_IP = "203.0.113.70"
ORBIT = Net(ORBIT_IP, 64496, "orbit labs sp. z o.o.", "Poland", "Mazowieckie", "Warsaw")


def roster(*rows: dict) -> str:
    from crownwatch.testing import hr

    return hr.roster_csv(list(rows), as_of=SC0, layout="workday")


def contractor_after_end() -> dict[str, str]:
    from crownwatch.testing import hr

    dok = hr.employee(
        "CW-7101",
        "dokafor@northwind-ai.com",
        date(2025, 11, 3),
        end=date(2026, 4, 9),
        kind="Contractor",
        firm="Orbit Labs",
        location="Warsaw",
        country="PL",
        timezone="Europe/Warsaw",
        remote=True,
    )
    # the GitHub login is no company handle: SSO names the person behind it
    sso = {"ip": ORBIT_IP, "country": "PL", "sso_identity": "dokafor@northwind-ai.com"}
    gh = [ev(day(d, 9), "git.fetch", "okafor-dev", repo="ml-data", **sso) for d in range(4)]
    gh.append(ev(day(8, 10), "git.clone", "okafor-dev", repo="ml-data", **sso))
    okta = success(day(8, 9.5), "dokafor@northwind-ai.com", ORBIT)
    return {
        "hr/orbit_roster.csv": roster(dok),
        "github/contractor_after_end.jsonl": github.jsonl(gh),
        "okta/contractor_after_end.jsonl": "".join(json.dumps(e) + "\n" for e in okta),
    }


def contractor_inside() -> dict[str, str]:
    from crownwatch.testing import hr

    sel = hr.employee(
        "CW-7102",
        "srenner@northwind-ai.com",
        SC0.date(),
        kind="Contractor",
        firm="Fjord Consulting",
        location="Oslo",
        country="NO",
        timezone="Europe/Oslo",
        remote=True,
    )
    fjord = Net("203.0.113.71", 64497, "fjord consulting as", "Norway", "Oslo", "Oslo")
    gh = [
        ev(day(d, 9), "git.clone", "srenner", repo="ml-rlhf", ip="203.0.113.71", country="NO")
        for d in range(8)
    ]
    okta = [e for d in range(8) for e in success(day(d, 8.5), "srenner@northwind-ai.com", fjord)]
    return {
        "hr/fjord_roster.csv": roster(sel),
        "github/contractor_inside.jsonl": github.jsonl(gh),
        "okta/contractor_inside.jsonl": "".join(json.dumps(e) + "\n" for e in okta),
    }


def _quill(found: list[dict]) -> None:
    [f] = found
    ev_ = f["evidence"]
    assert f["severity"] == "critical"
    assert ev_["side"] == "after" and ev_["contract_end"] == "2026-04-10"
    # 12 April onwards: the 11th is the grace day
    assert ev_["events"] == 4 and ev_["days_beyond"] == 5 and ev_["sign_ins"] == 0
    assert ev_["firm"] == "Quill Labs" and ev_["basis"] == ["config"]
    assert f["first_seen"].startswith("2026-04-12")


def _orbit(found: list[dict]) -> None:
    [f] = found
    ev_ = f["evidence"]
    assert f["severity"] == "critical"
    assert ev_["side"] == "after" and ev_["contract_end"] == "2026-04-09"
    # the Okta session start and the SSO into the app it opened, and the clone
    assert ev_["sign_ins"] == 2 and ev_["repo_events"] == 1 and ev_["jewel_pulls"] == 1
    assert ev_["employee_id"] == "CW-7101" and ev_["firm"] == "Orbit Labs"
    assert ev_["basis"] == ["roster"] and ev_["outsider_kind"] == "contractor"


SCENARIOS = [
    Scenario(
        "vendor_login_keeps_pulling_after_the_contract_ended",
        "attack",
        logs(quill_after_end=quill_after_end),
        entities={
            "user": ("quill-dev",),
            "src_ip": (QUILL_OFFICE,),
            "asset": ("labs-frontier-code",),
        },
        expect=_quill,
        config=config(QUILL),
    ),
    Scenario(
        "roster_contractor_signs_in_and_clones_after_the_last_day",
        "attack",
        contractor_after_end,
        entities={"user": ("okafor-dev", "dokafor"), "src_ip": (ORBIT_IP,)},
        expect=_orbit,
        config=config(),
    ),
    Scenario(
        "vendor_inside_its_window_and_ci_the_night_after",
        "benign",
        logs(pike_inside=pike_inside),
        config=config(PIKE),
    ),
    Scenario(
        "roster_contractor_working_from_the_first_day",
        "benign",
        contractor_inside,
        config=config(),
    ),
]
