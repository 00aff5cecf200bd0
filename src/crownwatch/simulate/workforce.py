"""A month of an AI lab's people, devices and code access — with a North Korean
laptop farm among the hires and a vendor's developer sweeping the repositories.

Writes, in the layouts the systems export (built with the record writers of
:mod:`crownwatch.testing`, which emit the vendors' own layouts field for field):

* ``hr/roster.csv`` — the HR roster (Workday custom-report layout), as of the month's end;
* ``jamf/computers_inventory.json`` — Jamf Pro ``/api/v1/computers-inventory``;
* ``osquery/usb_devices.log`` — osquery's results log, ``usb_devices`` differential rows;
* ``okta/system_log.jsonl`` — Okta sign-ins;
* ``github/audit.jsonl`` — the GitHub Enterprise audit log stream.

The month (2026-03-02 to 2026-03-27, four working weeks), by who:

* **Forty employees** in San Francisco, Austin and New York (a third remote), each
  signing in on working days in their own office hours from the office (listed in
  ``own_cidrs``) or from home, with a MacBook in Jamf reporting their home address and
  an ordinary USB keyboard or security key; they clone their team's repositories a few
  times a month.
* **The laptop farm** (``attacks=True``): three contractors placed by one staffing firm,
  starting on the first day, claiming homes in Austin, Denver and Seattle. Their
  laptops all report one residential address in Phoenix; they sign in from it (and
  one of them through Astrill VPN) on Korea's working day; one laptop runs AnyDesk
  with a PiKVM plugged in; all three give HR one payroll account; one clones twelve
  crown-jewel repositories in the first week.
* **The vendor** (``Acme Dev``): its CI account clones two repositories every night from
  the vendor's build address (benign), and — attack — one of its developers clones nine
  crown-jewel repositories in an afternoon from an address the firm never used.
* **Look-alikes** that must stay quiet: an Austin engineer at a conference in Tokyo for
  three days; two siblings on different teams who live together; an IT admin in the
  office with TeamViewer for support; the vendor's nightly CI clone.

``crownwatch.toml`` beside the logs registers the repositories as crown jewels, the
offices as own networks and the vendor with its contract; ``truth.json`` lists every
planted signal with the detection that should raise it.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from crownwatch.testing import github, okta, osquery
from crownwatch.testing.devices import jamf_computer, jamf_inventory_json
from crownwatch.testing.hr import employee, roster_csv

DOMAIN = "northwind-ai.com"
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
DAYS = 26
AS_OF = START + timedelta(days=DAYS, hours=-6)
ORG = github.ORG

# Addresses from 198.19.254.0/24 (RFC 2544 benchmarking space), skipping the two the
# identity simulator's address pool can hand out (.64, .161): no address here is anyone
# else's in the demo.
_POOL = [f"198.19.254.{i}" for i in range(1, 251) if i not in (64, 161)]
OFFICES = {
    "San Francisco, CA": (
        "America/Los_Angeles",
        okta.Net(
            _POOL[0], 7018, "at&t services inc.", "United States", "California", "San Francisco"
        ),
    ),
    "Austin, TX": (
        "America/Chicago",
        okta.Net(_POOL[1], 7018, "at&t services inc.", "United States", "Texas", "Austin"),
    ),
    "New York, NY": (
        "America/New_York",
        okta.Net(_POOL[2], 701, "verizon business", "United States", "New York", "New York"),
    ),
}
FARM = okta.Net(
    _POOL[3], 7922, "comcast cable communications llc", "United States", "Arizona", "Phoenix"
)
ASTRILL = okta.Net(_POOL[4], 400328, "Astrill VPN", "United States", "Texas", "Dallas")
TOKYO = okta.Net(_POOL[5], 2516, "kddi corporation", "Japan", "Tokyo", "Tokyo", domain=None)
VENDOR_CI = _POOL[6]
VENDOR_NEW_GROUND = _POOL[7]
TEAMS = {
    "training": ["frontier-train", "frontier-data", "frontier-ckpt", "tokenizer"],
    "inference": ["frontier-serving", "kernels", "sharding", "frontier-eval"],
    "platform": ["infra", "ci-config", "frontier-rlhf", "safety-evals"],
}
JEWELS = sorted({r for rs in TEAMS.values() for r in rs})
VENDOR_REPOS = ["ci-config", "infra"]
APPS = [("Slack", "4.41.105"), ("Google Chrome", "133.0.6943.142"), ("zoom.us", "6.3.11")]

REGISTRY_TOML = f"""[organisation]
name = "Northwind AI"
own_cidrs = [{", ".join(f'"{net.ip}/32"' for _tz, net in OFFICES.values())}]

[[assets]]
name = "frontier-code"
kind = "source_code"
locations = [{", ".join(f'"github://{ORG}/{r}"' for r in JEWELS)}]
sensitivity = "critical"
description = "The frontier model's training, serving and evaluation code."

[supply_chain]
vendors = [
  {{ firm = "Acme Dev", github_logins = ["acme-*"], contract_start = "2025-06-01", contract_end = "2026-12-31" }},
]
"""


@dataclass
class _Person:
    login: str
    location: str
    team: str
    remote: bool
    home: okta.Net
    tz: str
    start: date = date(2024, 1, 8)
    kind: str = "Full-Time"
    firm: str | None = None
    department: str = "Engineering"
    payroll: str = ""
    phone: str = ""
    address: str = ""
    apps: list = field(default_factory=lambda: list(APPS))
    hours_utc: tuple[float, float] = (16.0, 23.5)  # the working day, in UTC


class _Month:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.people: list[_Person] = []
        self.okta: list[dict] = []
        self.git: list[dict] = []
        self.usb: list[dict] = []
        self.pool = iter(_POOL[16:])
        self.truth: dict = {"attacks": [], "benign": []}

    def home(self, city: str) -> okta.Net:
        return okta.Net(
            next(self.pool), 7922, "comcast cable communications llc", "United States", None, city
        )

    def workdays(self):
        for d in range(DAYS):
            day = START + timedelta(days=d)
            if day.weekday() < 5:
                yield day

    def sign_in(self, p: _Person, at: datetime, net: okta.Net) -> None:
        self.okta += okta.success(at, p.login, net)

    def clone(self, at: datetime, login: str, repo: str, ip: str, **kw) -> dict:
        ev = github.event(at, "git.clone", login, repo=repo, ip=ip, **kw)
        self.git.append(ev)
        return ev

    def item(self, malicious: bool, **kw) -> None:
        self.truth["attacks" if malicious else "benign"].append(kw)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _staff(m: _Month) -> None:
    rng = m.rng
    places = list(OFFICES)
    for i in range(40):
        location = places[i % 3]
        tz, office = OFFICES[location]
        remote = i % 3 == 2
        team = list(TEAMS)[i % 3]
        offset = {"America/Los_Angeles": 16.0, "America/Chicago": 14.0, "America/New_York": 13.0}[
            tz
        ]
        m.people.append(
            _Person(
                login=f"{rng.choice(('ana', 'ben', 'chen', 'dara', 'eli', 'fay', 'gus', 'hana'))}.{i:02d}",
                location=location,
                team=team,
                remote=remote,
                home=m.home(location.split(",")[0]),
                tz=tz,
                start=date(2022 + i % 3, 1 + i % 12, 1 + i % 27),
                payroll=f"US{rng.getrandbits(40):012d}",
                phone=f"+1 415 555 {2000 + i:04d}",
                address=f"{100 + i} Main St, {location}",
                hours_utc=(offset + rng.uniform(0, 1), offset + 8.5),
            )
        )


def _ordinary_month(m: _Month, people: list[_Person]) -> None:
    rng = m.rng
    for p in people:
        tz_office = OFFICES.get(p.location, (None, None))[1]
        for day in m.workdays():
            net = p.home if p.remote or tz_office is None or rng.random() < 0.3 else tz_office
            for _ in range(2):
                at = day + timedelta(hours=rng.uniform(*p.hours_utc))
                m.sign_in(p, at, net)
        for _ in range(rng.randint(2, 4)):
            m.clone(
                START + timedelta(days=rng.randrange(DAYS), hours=rng.uniform(*p.hours_utc)),
                p.login,
                rng.choice(TEAMS[p.team]),
                p.home.ip if p.remote else tz_office.ip,
                transport="ssh",
            )


def _farm(m: _Month) -> list[_Person]:
    """Three contractors, one facilitator: one address, one payroll account, Korea's
    working day (00:00–09:00 UTC), AnyDesk and a PiKVM on one laptop, one new-hire sweep."""
    fakes = [
        _Person(
            login=f"{name}.{suffix}",
            location=loc,
            team="training",
            remote=True,
            home=FARM,
            tz=tz,
            start=START.date(),
            kind="Contractor",
            firm="Bluepeak Staffing",
            payroll="US-ACCT 0001234567",
            phone=f"+1 602 555 {3100 + i:04d}",
            address=addr,
            hours_utc=(0.2, 8.8),
            apps=list(APPS) + ([("AnyDesk", "8.1.0")] if i == 0 else []),
        )
        for i, (name, suffix, loc, tz, addr) in enumerate(
            (
                ("jin", "park", "Austin, TX", "America/Chicago", "4410 Red River St, Austin, TX"),
                ("leo", "han", "Denver, CO", "America/Denver", "1601 Blake St, Denver, CO"),
                ("max", "lee", "Seattle, WA", "America/Los_Angeles", "901 Pine St, Seattle, WA"),
            )
        )
    ]
    for i, p in enumerate(fakes):
        for day in m.workdays():
            for k in range(3):
                at = day + timedelta(hours=m.rng.uniform(*p.hours_utc))
                m.sign_in(p, at, ASTRILL if (i == 1 and k == 0) else FARM)
    sweep_at = START + timedelta(days=3, hours=2)
    for k, repo in enumerate(JEWELS):
        m.clone(
            sweep_at + timedelta(minutes=6 * k),
            fakes[2].login,
            repo,
            FARM.ip,
            access_type="Personal access token (classic)",
            token_id="4401",
            transport="http",
        )
    kvm_at = START + timedelta(days=5, hours=1)
    m.usb.append(
        osquery.usb_added(
            kvm_at,
            f"{fakes[0].login}-mbp",
            "1d6b",
            "0104",
            vendor="PiKVM",
            model="PiKVM Composite Device",
            serial="PIKVM0001",
            hardware_serial=_serial(fakes[0]),
        )
    )
    users = [f"{p.login}@{DOMAIN}" for p in fakes]
    end = START + timedelta(days=DAYS)
    base = {"related": ["laptop-farm"], "first_seen": _iso(START), "last_seen": _iso(end)}
    for det, who, what in (
        ("workforce.laptop_farm", users, "three contractors' laptops on one residential line"),
        ("workforce.shared_identifiers", users, "one payroll account for three hires"),
        ("workforce.far_timezone_hours", users, "Korea's working day, claimed in US zones"),
        ("workforce.remote_control_tool", users[:1], "AnyDesk and a PiKVM on one laptop"),
        ("workforce.vpn_signin", users[1:2], "daily sign-ins through Astrill VPN"),
        ("workforce.new_hire_bulk_pull", users[2:3], "twelve crown-jewel repositories in week one"),
        # a contractor is also a trusted outsider: the same sweep is a spree for its firm
        ("supply_chain.outsider_repo_pull", users[2:3], "the staffing firm's contractor's spree"),
    ):
        item_id = (
            "laptop-farm" if det == "workforce.laptop_farm" else "laptop-farm " + det.split(".")[1]
        )
        m.item(
            True,
            id=item_id,
            kind="insider_hire",
            technique=["T1078"],
            detection=det,
            description=what,
            users=who,
            **({**base, "related": []} if item_id == "laptop-farm" else base),
        )
    return fakes


def _serial(p: _Person) -> str:
    return "C02" + "".join(c for c in p.login.upper() if c.isalnum())[:7].ljust(7, "X") + "MD"


def _vendor(m: _Month, attacks: bool) -> None:
    for d in range(DAYS):
        night = START + timedelta(days=d, hours=7, minutes=5)
        for k, repo in enumerate(VENDOR_REPOS):
            m.clone(
                night + timedelta(minutes=k),
                "acme-ci",
                repo,
                VENDOR_CI,
                access_type="Personal access token (classic)",
                token_id="7001",
                transport="http",
            )
    # the vendor's developer, on the usual ground, now and then
    for d in (1, 8, 15):
        m.clone(
            START + timedelta(days=d, hours=15),
            "acme-jdoe",
            "ci-config",
            VENDOR_CI,
            transport="ssh",
        )
    m.item(
        False,
        id="benign-vendor-nightly-ci",
        kind="vendor_ci",
        detection="supply_chain.outsider_repo_pull",
        description="the vendor's nightly CI clone",
        users=["acme-ci"],
        first_seen=_iso(START),
        last_seen=_iso(START + timedelta(days=DAYS)),
    )
    if not attacks:
        return
    spree = START + timedelta(days=19, hours=20)
    for k, repo in enumerate(JEWELS[:9]):
        m.clone(
            spree + timedelta(minutes=4 * k),
            "acme-jdoe",
            repo,
            VENDOR_NEW_GROUND,
            country="RU",
            transport="http",
            access_type="Personal access token (classic)",
            token_id="7042",
        )
    m.item(
        True,
        id="vendor-clone-spree",
        kind="trusted_outsider",
        technique=["T1199", "T1213.003"],
        detection="supply_chain.outsider_repo_pull",
        description="a vendor developer clones nine crown-jewel repositories from new ground",
        users=["acme-jdoe"],
        src_ips=[VENDOR_NEW_GROUND],
        first_seen=_iso(spree),
        last_seen=_iso(spree + timedelta(minutes=40)),
    )


def _lookalikes(m: _Month) -> list[_Person]:
    """The traveller, the siblings and the IT admin (the vendor's CI is in _vendor)."""
    traveller, admin = m.people[1], m.people[0]  # an Austin engineer, an SF engineer
    trip = [START + timedelta(days=d) for d in (8, 9, 10)]
    for day in trip:
        m.sign_in(traveller, day + timedelta(hours=3), TOKYO)
    admin.remote, admin.department = False, "IT"
    admin.apps = list(APPS) + [("TeamViewer", "15.51.5")]
    home = m.home("Oakland")
    siblings = [
        _Person(
            login=f"{name}.okafor",
            location="San Francisco, CA",
            team=team,
            remote=True,
            home=home,
            tz="America/Los_Angeles",
            department=dept,
            address="1200 Elm Street, Apt 4, Oakland, CA 94607",
            payroll=f"US{m.rng.getrandbits(40):012d}",
            phone=f"+1 510 555 {i:04d}",
        )
        for i, (name, team, dept) in enumerate(
            (("ada", "training", "Research"), ("obi", "platform", "Finance"))
        )
    ]
    end = START + timedelta(days=DAYS)
    for item_id, det, who, first, last, what in (
        (
            "benign-conference-trip",
            "workforce.location_contradiction",
            [traveller],
            trip[0],
            trip[-1] + timedelta(hours=4),
            "three days in Tokyo",
        ),
        (
            "benign-siblings",
            "workforce.laptop_farm",
            siblings,
            START,
            end,
            "two siblings, one home",
        ),
        (
            "benign-siblings-identifiers",
            "workforce.shared_identifiers",
            siblings,
            START,
            end,
            "one home address, nothing else shared",
        ),
        (
            "benign-it-admin-teamviewer",
            "workforce.remote_control_tool",
            [admin],
            START,
            end,
            "the office IT admin's support tool",
        ),
    ):
        m.item(
            False,
            id=item_id,
            kind="lookalike",
            detection=det,
            description=what,
            users=[f"{p.login}@{DOMAIN}" for p in who],
            first_seen=_iso(first),
            last_seen=_iso(last),
        )
    return siblings


def generate_workforce(out_dir: str | Path, *, seed: int = 19, attacks: bool = True) -> dict:
    """Write the month under ``out_dir``; returns ``{"files", "truth", "config"}`` and
    writes ``truth.json`` and ``crownwatch.toml`` beside the logs."""
    root = Path(out_dir)
    m = _Month(seed)
    _staff(m)
    siblings = _lookalikes(m)
    people = m.people + siblings
    _ordinary_month(m, people)
    if attacks:
        people += _farm(m)
    _vendor(m, attacks)
    for p in m.people[3:9]:  # security keys and keyboards: USB devices nobody minds
        m.usb.append(
            osquery.usb_added(
                START + timedelta(days=2),
                f"{p.login}-mbp",
                "1050",
                "0407",
                vendor="Yubico",
                model="YubiKey OTP+FIDO+CCID",
                hardware_serial=_serial(p),
            )
        )
    rows = [
        employee(
            f"E-{1000 + i}",
            f"{p.login}@{DOMAIN}",
            p.start,
            kind=p.kind,
            firm=p.firm,
            location=p.location,
            timezone=p.tz,
            remote=p.remote,
            phone=p.phone,
            personal_email=f"{p.login}@example.com",
            payroll=p.payroll,
            address=p.address,
            department=p.department,
        )
        for i, p in enumerate(people)
    ]
    computers = [
        jamf_computer(
            _serial(p),
            f"{p.login}@{DOMAIN}",
            name=f"{p.login}-mbp",
            last_ip=p.home.ip,
            last_contact=START + timedelta(days=DAYS - 1, hours=m.rng.uniform(14, 22)),
            apps=p.apps,
        )
        for p in people
    ]
    files = {
        "hr/roster.csv": roster_csv(rows, as_of=AS_OF),
        "jamf/computers_inventory.json": jamf_inventory_json(computers),
        "osquery/usb_devices.log": osquery.jsonl(m.usb),
        "okta/system_log.jsonl": okta.jsonl(m.okta),
        "github/audit.jsonl": github.jsonl(sorted(m.git, key=lambda e: e["@timestamp"])),
    }
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(str(path))
    (root / "truth.json").write_text(json.dumps(m.truth, indent=2) + "\n")
    (root / "crownwatch.toml").write_text(REGISTRY_TOML)
    return {"files": written, "truth": m.truth, "config": str(root / "crownwatch.toml")}
