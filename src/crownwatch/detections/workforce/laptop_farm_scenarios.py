"""Scenarios of ``workforce.laptop_farm``. Attack: three remote contractors who claim
homes in Austin, Denver and Seattle; their MacBooks report the same residential address
to Jamf and they sign in to Okta from it every working day. Look-alikes: two siblings
on different teams at one home, and four Austin engineers at one coworking space (one
claimed city)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing import okta
from crownwatch.testing.devices import jamf_computer, jamf_inventory_json
from crownwatch.testing.hr import employee, roster_csv

DOMAIN = "northwind-ai.com"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
AS_OF = datetime(2026, 3, 13, 18, 0, tzinfo=UTC)
FARM = okta.Net(
    "203.0.113.201", 7922, "comcast cable communications llc", "United States", "Arizona", "Phoenix"
)
HOME = okta.Net(
    "198.51.100.77",
    7018,
    "at&t services inc.",
    "United States",
    "California",
    "Oakland",
    domain="att.net",
)
COWORK = okta.Net(
    "192.0.2.150",
    11427,
    "charter communications inc",
    "United States",
    "Texas",
    "Austin",
    domain="spectrum.com",
)


def _people(rows: list[dict], net: okta.Net, prefix: str) -> tuple[list[dict], list[dict]]:
    """Sign-ins from ``net`` on ten working days, and each person's laptop in Jamf."""
    events, computers = [], []
    for i, r in enumerate(rows):
        user = r["_login"]
        for d in range(12):
            day = T0 + timedelta(days=d)
            if day.weekday() < 5:
                events += okta.success(day + timedelta(minutes=7 * i), user, net)
        computers.append(
            jamf_computer(
                f"C02{prefix.upper()}{i:05d}",
                f"{user}@{DOMAIN}",
                name=f"{user}-mbp",
                last_ip=net.ip,
                last_contact=T0 + timedelta(days=11, hours=i),
                apps=[("Slack", "4.41.105"), ("Google Chrome", "133.0.6943.142")],
            )
        )
    return events, computers


def _row(emp_id: str, login: str, location: str, **kw) -> dict:
    row = employee(
        emp_id, f"{login}@{DOMAIN}", kw.pop("start", date(2026, 2, 16)), location=location, **kw
    )
    row["_login"] = login
    return row


def _files(name: str, rows: list[dict], events: list[dict], computers: list[dict]) -> dict:
    clean = [{k: v for k, v in r.items() if k != "_login"} for r in rows]
    return {
        f"hr/{name}.csv": roster_csv(clean, as_of=AS_OF),
        f"jamf/{name}.json": jamf_inventory_json(computers),
        f"okta/{name}.jsonl": okta.jsonl(events),
    }


def farm() -> dict[str, str]:
    rows = [
        _row(
            "C-801",
            "lf.austin",
            "Austin, TX",
            kind="Contractor",
            remote=True,
            timezone="America/Chicago",
            address="4410 Red River St, Austin, TX 78751",
        ),
        _row(
            "C-802",
            "lf.denver",
            "Denver, CO",
            kind="Contractor",
            remote=True,
            timezone="America/Denver",
            address="1601 Blake St, Denver, CO 80202",
        ),
        _row(
            "C-803",
            "lf.seattle",
            "Seattle, WA",
            kind="Contractor",
            remote=True,
            timezone="America/Los_Angeles",
            address="901 Pine St, Seattle, WA 98101",
        ),
    ]
    events, computers = _people(rows, FARM, "lf")
    return _files("laptop_farm_attack", rows, events, computers)


def siblings_and_coworking() -> dict[str, str]:
    sib = [
        _row("E-901", "lb.sister", "Oakland, CA", department="Research", start=date(2024, 5, 1)),
        _row("E-902", "lb.brother", "Oakland, CA", department="Finance", start=date(2025, 8, 4)),
    ]
    cow = [
        _row(
            f"E-91{i}",
            f"lb.austin{i}",
            "Austin, TX",
            remote=True,
            address=f"{200 + i} Congress Ave, Austin, TX 78701",
        )
        for i in range(4)
    ]
    e1, c1 = _people(sib, HOME, "lbs")
    e2, c2 = _people(cow, COWORK, "lbc")
    return _files("laptop_farm_benign", sib + cow, e1 + e2, c1 + c2)


def _attack(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert ev["address"] == FARM.ip and ev["people_count"] == 3
    assert sorted(ev["claimed_locations"]) == ["Austin, TX", "Denver, CO", "Seattle, WA"]
    assert len(ev["devices"]) == 3 and ev["days"] >= 8
    assert {"jamf check-in", "okta sign-in"} <= set(ev["seen_by"])
    assert sorted(ev["remote_people"]) == ["lf.austin", "lf.denver", "lf.seattle"]


SCENARIOS = [
    Scenario(
        "three_remote_hires_one_residential_line",
        "attack",
        farm,
        entities={"user": ("lf.austin", "lf.denver", "lf.seattle"), "src_ip": (FARM.ip,)},
        expect=_attack,
    ),
    Scenario("siblings_at_home_and_a_coworking_space", "benign", siblings_and_coworking),
]
