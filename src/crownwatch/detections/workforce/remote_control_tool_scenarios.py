"""Scenarios of ``workforce.remote_control_tool``. Attack: a remote contractor's MacBook
runs AnyDesk (Jamf inventory) and has a PiKVM plugged in (osquery ``usb_devices``,
matched to the laptop by its serial). Look-alikes: an office-based IT admin with
TeamViewer for support, and a remote engineer with only Zoom and Slack."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing import osquery
from crownwatch.testing.devices import jamf_computer, jamf_inventory_json
from crownwatch.testing.hr import employee, roster_csv

DOMAIN = "northwind-ai.com"
T0 = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
AS_OF = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
SERIAL = "C02RC00001MD"


def driven_from_afar() -> dict[str, str]:
    rows = [
        employee(
            "C-811",
            f"rc.remote@{DOMAIN}",
            date(2026, 2, 16),
            kind="Contractor",
            location="Denver, CO",
            remote=True,
        )
    ]
    mac = jamf_computer(
        SERIAL,
        f"rc.remote@{DOMAIN}",
        name="rc-remote-mbp",
        last_ip="198.51.100.61",
        last_contact=T0,
        apps=[("AnyDesk", "8.1.0"), ("Slack", "4.41.105")],
    )
    usb = osquery.usb_added(
        T0 + timedelta(hours=2),
        "rc-remote-mbp",
        "1d6b",
        "0104",
        vendor="PiKVM",
        model="PiKVM Composite Device",
        serial="CAFEBABE",
        hardware_serial=SERIAL,
    )
    return {
        "hr/remote_control_attack.csv": roster_csv(rows, as_of=AS_OF),
        "jamf/remote_control_attack.json": jamf_inventory_json([mac]),
        "osquery/remote_control_attack.log": osquery.jsonl([usb]),
    }


def sanctioned_support_and_ordinary_apps() -> dict[str, str]:
    rows = [
        employee(
            "E-821",
            f"rc.itadmin@{DOMAIN}",
            date(2022, 4, 4),
            location="San Francisco, CA",
            department="IT",
            remote=False,
        ),
        employee(
            "E-822", f"rc.engineer@{DOMAIN}", date(2024, 9, 9), location="Boise, ID", remote=True
        ),
    ]
    macs = [
        jamf_computer(
            "C02RC00002MD",
            f"rc.itadmin@{DOMAIN}",
            name="rc-itadmin-mbp",
            last_ip="198.51.100.62",
            last_contact=T0,
            apps=[("TeamViewer", "15.51.5"), ("Slack", "4.41.105")],
        ),
        jamf_computer(
            "C02RC00003MD",
            f"rc.engineer@{DOMAIN}",
            name="rc-engineer-mbp",
            last_ip="198.51.100.63",
            last_contact=T0,
            apps=[("zoom.us", "6.3.11"), ("Slack", "4.41.105")],
        ),
    ]
    return {
        "hr/remote_control_benign.csv": roster_csv(rows, as_of=AS_OF),
        "jamf/remote_control_benign.json": jamf_inventory_json(macs),
    }


def _attack(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert f["severity"] == "critical"  # software and a KVM on one person's devices
    assert [t.split()[0] for t in ev["tools"]] == ["AnyDesk.app"]  # as Jamf names it
    assert len(ev["kvm_devices"]) == 1 and "1d6b:0104" in ev["kvm_devices"][0]
    assert ev["devices"] == [SERIAL] and ev["remote"] is True
    assert {"jamf", "osquery"} <= set(ev["sources"])


SCENARIOS = [
    Scenario(
        "anydesk_and_a_pikvm_on_a_remote_contractor",
        "attack",
        driven_from_afar,
        entities={"user": ("rc.remote",)},
        expect=_attack,
    ),
    Scenario(
        "office_it_admin_teamviewer_and_a_remote_engineer",
        "benign",
        sanctioned_support_and_ordinary_apps,
    ),
]
