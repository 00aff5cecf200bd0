"""Microsoft Intune device inventory (the intune source), on the real engine: the All
devices export (``DevicesWithInventory`` CSV), Graph ``managedDevice`` pages (with
``detectedApps`` expanded), the per-device discovered-apps export (``AppInvRawData``)
and the tenant-wide aggregates that name no device (``tests/fixtures/intune/README.md``
says where each layout comes from). One lake, ingested once for the module."""

from __future__ import annotations

import gzip
import os
import shutil
from datetime import UTC, datetime

import duckdb
import pytest

from crownwatch.lake import Lake
from crownwatch.sources import intune, sniff
from crownwatch.testing import devices as testing
from tests.conftest import FIXTURES

INTUNE = FIXTURES / "intune"
T = datetime(2026, 3, 4, 9, 12, 33, tzinfo=UTC)
EXPORTED = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)  # the apps export's file time
ANA = "8d2c1f3e-5a6b-4c7d-9e0f-1a2b3c4d5e6f"
KIM = "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("intune")
    apps = root / "AppInvRawData.csv"
    shutil.copy(INTUNE / "app_inv_raw_data.csv", apps)
    os.utime(apps, (EXPORTED.timestamp(), EXPORTED.timestamp()))
    gz = root / "DevicesWithInventory.csv.gz"
    gz.write_bytes(gzip.compress((INTUNE / "devices_with_inventory.csv").read_bytes()))
    aggregate = root / "AppInvAggregate.csv"
    aggregate.write_text(
        '"ApplicationKey","ApplicationName","ApplicationPublisher","ApplicationShortVersion",'
        '"ApplicationVersion","DeviceCount"\n'
        '"0000a1b2","AnyDesk","AnyDesk Software GmbH","8.1.0","8.1.0","3"\n'
        '"0000b2c3","Microsoft Teams","Microsoft Corporation","","24335.206.3314.2418","412"\n'
    )
    written = [
        testing.intune_device(
            f"00000000-0000-4000-8000-00000000000{i}",
            f"hire{i}@northwind-ai.com",
            name=f"NW-LT-10{i}",
            serial=f"5CG00{i}",
            last_sync=T,
            os="macOS" if i else "Windows",
            os_version="14.4.1" if i else "10.0.22631.3447",
        )
        for i in range(2)
    ]
    w_csv, w_page = root / "written.csv", root / "written.json"
    w_csv.write_text(testing.intune_csv(written), encoding="utf-8")
    w_page.write_text(testing.intune_graph_page(written))
    lake = Lake(root / "lake")
    paths = [
        INTUNE / "devices_with_inventory.csv",
        INTUNE / "managed_devices.json",
        apps,
        INTUNE / "detected_apps.json",
        aggregate,
        gz,
        w_csv,
        w_page,
    ]
    results = {r.path.rsplit("/", 1)[-1]: r for r in lake.ingest(paths)}
    return lake, results, {p.name: str(p) for p in paths}


def rows(lake: Lake, table: str, raw_source: str) -> list[dict]:
    return (
        duckdb.sql(
            f"SELECT * FROM {lake.table_sql(table)} "
            "WHERE raw_source = $src ORDER BY raw_offset, "
            + ("name" if table == "device_items" else "raw_id"),
            params={"src": raw_source},
        )
        .to_arrow_table()
        .to_pylist()
    )


def test_every_file_is_intune_and_fully_accounted_for(ingested):
    _, results, _ = ingested
    counts = {}
    for name, r in results.items():
        assert (r.status, r.source) == ("ingested", "intune"), r
        assert r.read == r.routed_rows + r.skipped + r.quarantined, r
        counts[name] = (r.read, r.routed_rows, r.quarantined, r.skipped, r.extra_rows)
    assert counts == {
        "devices_with_inventory.csv": (5, 2, 3, 0, 0),
        "managed_devices.json": (3, 2, 1, 0, 2),  # 2 expanded detectedApps: copies
        "AppInvRawData.csv": (4, 3, 1, 0, 0),
        "detected_apps.json": (2, 0, 0, 2, 0),  # tenant-wide: no device to attach to
        "AppInvAggregate.csv": (2, 0, 0, 2, 0),
        "DevicesWithInventory.csv.gz": (5, 2, 3, 0, 0),
        "written.csv": (2, 2, 0, 0, 0),
        "written.json": (2, 2, 0, 0, 0),
    }


def test_all_devices_export_every_column(ingested):
    lake, _, src = ingested
    ana, kim = rows(lake, "devices", src["devices_with_inventory.csv"])
    assert ana == {
        "time": T,  # Last check-in "2026-03-04 09:12:33.0000000"
        "source": "intune",
        "device_uid": ANA,
        "device_name": "NW-LT-0042",
        "serial": "5CG1234XYZ",
        "user": "ana.lee",  # Primary user UPN's identity key
        "os": "Windows",
        "os_version": "10.0.22631.3447",
        "last_ip": None,  # Intune has none (the Wi-Fi address is the LAN's)
        "enrolled_time": datetime(2025, 9, 14, 8, 8, 39, tzinfo=UTC),
        "ownership": "corporate",
        "raw_source": src["devices_with_inventory.csv"],
        "raw_offset": 2,  # the header is line 1
        "raw_id": ANA,
    }
    # en-US "3/3/2026 6:45:12 PM"; no UPN: the e-mail; Personal
    assert (kim["time"], kim["user"], kim["os"], kim["ownership"], kim["raw_offset"]) == (
        datetime(2026, 3, 3, 18, 45, 12, tzinfo=UTC),
        "kim.ortiz",
        "macOS",
        "personal",
        3,
    )


def test_graph_page_devices_and_expanded_apps(ingested):
    lake, _, src = ingested
    ana, kim = rows(lake, "devices", src["managed_devices.json"])
    assert {k: v for k, v in ana.items() if k != "raw_source"} == {
        "time": datetime(2026, 3, 4, 9, 12, 33, 512000, tzinfo=UTC),
        "source": "intune",
        "device_uid": ANA,
        "device_name": "NW-LT-0042",
        "serial": "5CG1234XYZ",
        "user": "ana.lee",
        "os": "Windows",
        "os_version": "10.0.22631.3447",
        "last_ip": None,
        "enrolled_time": datetime(2025, 9, 14, 8, 8, 39, 123456, tzinfo=UTC),
        "ownership": "corporate",  # "company"
        "raw_offset": 0,
        "raw_id": ANA,
    }
    # a blank UPN: the e-mail; no serial; "unknown" owner and a 0001-01-01 enrolment: NULL
    assert (kim["user"], kim["serial"], kim["ownership"], kim["enrolled_time"]) == (
        "kim.ortiz",
        None,
        None,
        None,
    )
    items = rows(lake, "device_items", src["managed_devices.json"])
    assert [(i["name"], i["version"], i["publisher"]) for i in items] == [
        ("AnyDesk", "8.1.0", "AnyDesk Software GmbH"),
        ("Microsoft Teams", "24335.206.3314.2418", "Microsoft Corporation"),
    ]
    assert {
        k: v for k, v in items[0].items() if k not in ("name", "version", "publisher", "raw_source")
    } == {
        "time": datetime(2026, 3, 4, 9, 12, 33, 512000, tzinfo=UTC),
        "source": "intune",
        "device_uid": ANA,
        "device_name": "NW-LT-0042",
        "serial": "5CG1234XYZ",
        "user": "ana.lee",
        "item_type": "application",
        "vendor_id": None,
        "product_id": None,
        "path": None,
        "raw_offset": 0,
        "raw_id": ANA,
    }


def test_per_device_discovered_apps_export(ingested):
    lake, _, src = ingested
    items = rows(lake, "device_items", src["AppInvRawData.csv"])
    assert [
        (i["device_uid"], i["name"], i["version"], i["publisher"], i["user"]) for i in items
    ] == [
        (ANA, "AnyDesk", "8.1.0", "AnyDesk Software GmbH", "ana.lee"),
        (ANA, "Microsoft Teams", "24335.206.3314.2418", "Microsoft Corporation", "ana.lee"),
        # no ApplicationVersion: the short version
        (KIM, "RustDesk", "1.3.8", "Purslane Ltd.", "kim.ortiz"),
    ]
    first = items[0]
    assert (first["time"], first["device_name"], first["serial"], first["item_type"]) == (
        EXPORTED,  # the report has no time: the file's
        "NW-LT-0042",
        None,
        "application",
    )
    assert (first["raw_offset"], first["raw_id"]) == (
        2,
        "00002c1a9e5d7f3b4a6c8e0d2f4b6a8c0e2d4f6b0000",
    )


def test_quarantine_reasons_and_provenance(ingested):
    lake, _, src = ingested
    got = {
        (name, r["raw_offset"]): (r["reason"], r["raw_id"])
        for name in ("devices_with_inventory.csv", "managed_devices.json", "AppInvRawData.csv")
        for r in rows(lake, "quarantine", src[name])
    }
    assert got == {
        ("devices_with_inventory.csv", 4): (
            "no Last check-in",
            "44aa55bb-66cc-47dd-88ee-99ff00112233",
        ),
        ("devices_with_inventory.csv", 5): ("no device id and no serial number", None),
        ("devices_with_inventory.csv", 6): (
            "4 fields where the header names 43",
            "aa11bb22-cc33-4d44-9e55-66ff77889900",
        ),
        ("managed_devices.json", 2): (
            "never checked in (lastSyncDateTime 0001-01-01)",
            "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
        ),
        ("AppInvRawData.csv", 5): ("no DeviceId", "0000e1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b50000"),
    }
    (cut,) = [
        r
        for r in rows(lake, "quarantine", src["devices_with_inventory.csv"])
        if r["raw_offset"] == 6
    ]
    assert cut["record"].startswith('"aa11bb22-cc33-4d44-9e55-66ff77889900","NW-LT-0101"')


def test_gzip_reads_like_the_plain_file(ingested):
    lake, _, src = ingested
    strip = lambda rs: [{k: v for k, v in r.items() if k != "raw_source"} for r in rs]  # noqa: E731
    assert strip(rows(lake, "devices", src["DevicesWithInventory.csv.gz"])) == strip(
        rows(lake, "devices", src["devices_with_inventory.csv"])
    )


def test_the_writers_export_and_page_read_alike(ingested):
    lake, _, src = ingested
    keep = ("time", "device_uid", "device_name", "serial", "user", "os", "os_version", "ownership")
    from_csv = [{k: r[k] for k in keep} for r in rows(lake, "devices", src["written.csv"])]
    from_page = [{k: r[k] for k in keep} for r in rows(lake, "devices", src["written.json"])]
    assert from_csv == from_page
    assert from_csv[0] == {
        "time": T,
        "device_uid": "00000000-0000-4000-8000-000000000000",
        "device_name": "NW-LT-100",
        "serial": "5CG000",
        "user": "hire0",
        "os": "Windows",
        "os_version": "10.0.22631.3447",
        "ownership": "corporate",
    }


def test_sniffing():
    for name in (
        "devices_with_inventory.csv",
        "managed_devices.json",
        "app_inv_raw_data.csv",
        "detected_apps.json",
    ):
        assert sniff(INTUNE / name) is intune, name
    assert not intune.sniff(
        '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns"}'
    )
    assert not intune.sniff(
        '{"createdDateTime": "2026-03-04T09:00:00Z", "userPrincipalName": "a@b"}'
    )
    assert not intune.sniff("Computer Name,Serial Number\n")
    assert not intune.sniff("ApplicationName,Version\n")
