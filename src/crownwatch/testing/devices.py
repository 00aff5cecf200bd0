"""Build MDM device inventories — Jamf Pro computers and Microsoft Intune managed
devices — in the layouts the consoles export, for detection scenarios, the simulator
and tests.

* Jamf Pro API ``GET /api/v1/computers-inventory`` results (sections ``general``,
  ``hardware``, ``userAndLocation``, ``operatingSystem``, ``applications``), keys and
  value forms as Jamf's own reference example and live responses write them: string
  ids, ``"2026-03-04T09:12:33.512Z"`` times, ``null`` for unknown values. Jamf keeps
  two addresses: ``lastIpAddress`` — the address the Jamf Pro server saw the check-in
  come from — and ``lastReportedIp`` / ``lastReportedIpV4``, what the Mac reported of
  its own interface. A remote worker's laptop on a home network reports a private
  192.168.x address; its public address is ``lastIpAddress``.
* Microsoft Graph ``managedDevice`` objects (``GET /deviceManagement/managedDevices``,
  v1.0), every property the list call returns, times with Graph's seven-digit
  fractions; the page ``{"@odata.context", "@odata.count", "value"}``.
* The Intune admin center's *Devices > All devices > Export* CSV — the
  ``DevicesWithInventory`` report: the columns Microsoft documents for it, in its order,
  every field quoted, times as ``2026-03-04 09:12:33.0000000`` (UTC).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from datetime import UTC, datetime

# Real bundle ids and install paths of applications detections look for.
_MAC_APPS = {
    "anydesk": ("com.philandro.anydesk", "AnyDesk.app"),
    "rustdesk": ("com.carriez.rustdesk", "RustDesk.app"),
    "teamviewer": ("com.teamviewer.TeamViewer", "TeamViewer.app"),
    "teamviewerhost": ("com.teamviewer.TeamViewerHost", "TeamViewerHost.app"),
    "chrome remote desktop host": (
        "com.google.chrome.remote_desktop.remoting_me2me_host",
        "Chrome Remote Desktop Host.app",
    ),
    "google chrome": ("com.google.Chrome", "Google Chrome.app"),
    "slack": ("com.tinyspeck.slackmacgap", "Slack.app"),
    "zoom.us": ("us.zoom.xos", "zoom.us.app"),
    "microsoft teams": ("com.microsoft.teams2", "Microsoft Teams.app"),
    "visual studio code": ("com.microsoft.VSCode", "Visual Studio Code.app"),
    "safari": ("com.apple.Safari", "Safari.app"),
    "1password 7": ("com.agilebits.onepassword7", "1Password 7.app"),
}
_DEFAULT_VERSION = "1.0"


def _h(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def _iso_ms(t: datetime) -> str:
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _graph_time(t: datetime | None) -> str:
    if t is None:
        return "0001-01-01T00:00:00Z"  # Graph's "never"
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}0Z"


def _export_time(t: str) -> str:
    """A Graph time as the DevicesWithInventory export writes it."""
    if t.startswith("0001-01-01"):
        return ""
    dt = datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond:06d}0"


def _application(app: str | tuple[str, str]) -> dict:
    name, version = (app, _DEFAULT_VERSION) if isinstance(app, str) else app
    bare = name[:-4] if name.endswith(".app") else name
    bundle, file = _MAC_APPS.get(bare.lower(), (None, f"{bare}.app"))
    return {
        "name": file,
        "path": f"/Applications/{file}",
        "version": version,
        "macAppStore": False,
        "sizeMegabytes": 1 + _h(file)[0],
        "bundleId": bundle,
        "updateAvailable": False,
        "externalVersionId": "0",
    }


def jamf_computer(
    serial: str,
    user_email: str,
    *,
    name: str | None = None,
    last_ip: str | None = None,
    last_contact: datetime,
    apps: list[str] | list[tuple[str, str]] = (),
    os_version: str = "14.4.1",
    computer_id: str | None = None,
) -> dict:
    """One ``results`` entry of ``GET /api/v1/computers-inventory`` with the
    ``GENERAL``, ``HARDWARE``, ``USER_AND_LOCATION``, ``OPERATING_SYSTEM`` and
    ``APPLICATIONS`` sections. ``last_ip`` is the address Jamf Pro saw the last
    check-in come from (``lastIpAddress``); the Mac reports a home-network address of
    its own (``lastReportedIp``). ``apps`` are names (``"AnyDesk"``) or
    ``(name, version)`` pairs; known ones get their real bundle id."""
    h = _h(serial)
    local = user_email.split("@", 1)[0]
    realname = " ".join(p.capitalize() for p in local.replace("_", ".").split(".") if p)
    cid = computer_id or str(1 + int.from_bytes(h[:3], "big") % 90000)
    reported = f"192.168.{h[3] % 8}.{2 + h[4] % 250}" if last_ip else None
    contact = _iso_ms(last_contact)
    enrolled = _iso_ms(datetime(2025, 9, 1 + h[5] % 28, 14, h[6] % 60, tzinfo=UTC))
    build = {"14.4.1": "23E224", "14.5": "23F79", "15.3.2": "24D81"}.get(os_version, "23E224")
    return {
        "id": cid,
        "udid": str(uuid.UUID(bytes=h[:16])).upper(),
        "general": {
            "name": name or f"{realname.split(' ')[0]}'s MacBook Pro",
            "lastIpAddress": last_ip,
            "lastReportedIp": reported,
            "lastReportedIpV4": reported,
            "lastReportedIpV6": None,
            "jamfBinaryVersion": "11.4.1-t1712591696",
            "platform": "Mac",
            "barcode1": None,
            "barcode2": None,
            "assetTag": f"NW-{int.from_bytes(h[7:9], 'big') % 10000:04d}",
            "remoteManagement": {"managed": True, "managementUsername": None},
            "supervised": True,
            "mdmCapable": {
                "capable": True,
                "capableUsers": [local],
                "userManagementInfo": [],
            },
            "reportDate": contact,
            "lastContactTime": contact,
            "lastCloudBackupDate": None,
            "lastEnrolledDate": enrolled,
            "mdmProfileExpiration": "2027-09-01T14:00:00.000Z",
            "initialEntryDate": enrolled[:10],
            "distributionPoint": None,
            "enrollmentMethod": {
                "id": "1",
                "objectName": "Northwind Macs",
                "objectType": "Automated Device Enrollment",
            },
            "site": {"id": "-1", "name": "None"},
            "itunesStoreAccountActive": False,
            "enrolledViaAutomatedDeviceEnrollment": True,
            "userApprovedMdm": True,
            "declarativeDeviceManagementEnabled": True,
            "extensionAttributes": [],
            "managementId": str(uuid.UUID(bytes=h[16:32])),
        },
        "hardware": {
            "make": "Apple",
            "model": "MacBook Pro (14-inch, M3, Nov 2023)",
            "modelIdentifier": "Mac15,3",
            "serialNumber": serial,
            "processorType": "Apple M3",
            "processorArchitecture": "arm64",
            "appleSilicon": True,
            "totalRamMegabytes": 16384,
            "macAddress": ":".join(f"{b:02X}" for b in h[10:16]),
            "altMacAddress": None,
            "extensionAttributes": [],
        },
        "userAndLocation": {
            "username": local,
            "realname": realname,
            "email": user_email,
            "position": None,
            "phone": None,
            "departmentId": None,
            "buildingId": None,
            "room": None,
            "extensionAttributes": [],
        },
        "operatingSystem": {
            "name": "macOS",
            "version": os_version,
            "build": build,
            "supplementalBuildVersion": None,
            "rapidSecurityResponse": None,
            "activeDirectoryStatus": "Not Bound",
            "fileVault2Status": "BOOT_ENCRYPTED",
            "softwareUpdateDeviceId": "J516sAP",
            "extensionAttributes": [],
        },
        "applications": [_application(a) for a in apps],
    }


def jamf_inventory_json(computers: list[dict]) -> str:
    """The API page ``{"totalCount": n, "results": [...]}`` as Jamf Pro returns it."""
    return json.dumps({"totalCount": len(computers), "results": computers}, indent=2) + "\n"


def intune_device(
    device_id: str,
    upn: str,
    *,
    name: str,
    serial: str,
    last_sync: datetime,
    os: str = "Windows",
    os_version: str = "10.0.22631.3447",
    enrolled: datetime | None = None,
) -> dict:
    """One Graph ``managedDevice`` (v1.0), corporate-owned and Intune-managed."""
    h = _h(device_id)
    local = upn.split("@", 1)[0]
    display = " ".join(p.capitalize() for p in local.replace("_", ".").split(".") if p)
    mac = os.lower().startswith("mac")
    enrolled = enrolled or datetime(2025, 9, 1 + h[0] % 28, 8, h[1] % 60, h[2] % 60, tzinfo=UTC)
    return {
        "id": device_id,
        "userId": str(uuid.UUID(bytes=h[:16])),
        "deviceName": name,
        "managedDeviceOwnerType": "company",
        "enrolledDateTime": _graph_time(enrolled),
        "lastSyncDateTime": _graph_time(last_sync),
        "operatingSystem": os,
        "complianceState": "compliant",
        "jailBroken": "Unknown" if mac else "False",
        "managementAgent": "mdm",
        "osVersion": os_version,
        "easActivated": False,
        "easDeviceId": "",
        "easActivationDateTime": "0001-01-01T00:00:00Z",
        "azureADRegistered": True,
        "deviceEnrollmentType": "appleBulkWithUser" if mac else "windowsAzureADJoin",
        "activationLockBypassCode": None,
        "emailAddress": upn,
        "azureADDeviceId": str(uuid.UUID(bytes=h[16:32])),
        "deviceRegistrationState": "registered",
        "deviceCategoryDisplayName": "Unknown Category",
        "isSupervised": mac,
        "exchangeLastSuccessfulSyncDateTime": "0001-01-01T00:00:00Z",
        "exchangeAccessState": "none",
        "exchangeAccessStateReason": "none",
        "remoteAssistanceSessionUrl": None,
        "remoteAssistanceSessionErrorDetails": None,
        "isEncrypted": True,
        "userPrincipalName": upn,
        "model": "MacBookPro18,3" if mac else "Latitude 7440",
        "manufacturer": "Apple" if mac else "Dell Inc.",
        "imei": "",
        "complianceGracePeriodExpirationDateTime": "9999-12-31T23:59:59Z",
        "serialNumber": serial,
        "phoneNumber": "",
        "androidSecurityPatchLevel": "",
        "userDisplayName": display,
        "configurationManagerClientEnabledFeatures": None,
        "wiFiMacAddress": "".join(f"{b:02x}" for b in h[2:8]),
        "deviceHealthAttestationState": None,
        "subscriberCarrier": "",
        "meid": "",
        "totalStorageSpaceInBytes": 511_101_108_224,
        "freeStorageSpaceInBytes": 300_000_000_000 + int.from_bytes(h[8:12], "big"),
        "managedDeviceName": f"{local}_{os}_{enrolled:%m/%d/%Y_%I:%M %p}",
        "partnerReportedThreatState": "unknown",
        "requireUserEnrollmentApproval": None,
        "managementCertificateExpirationDate": "2026-09-01T08:00:00Z",
        "iccid": None,
        "udid": None,
        "notes": None,
        "ethernetMacAddress": None,
        "physicalMemoryInBytes": 0,
        "enrollmentProfileName": None,
        "deviceActionResults": [],
    }


# The DevicesWithInventory export's columns, in its order (Microsoft's "Columns
# received"), and the managedDevice property each one holds ("" for none).
_CSV = (
    ("Device ID", "id"),
    ("Device name", "deviceName"),
    ("Enrollment date", "enrolledDateTime"),
    ("Last check-in", "lastSyncDateTime"),
    ("Microsoft Entra Device ID", "azureADDeviceId"),
    ("OS version", "osVersion"),
    ("Microsoft Entra registered", "azureADRegistered"),
    ("EAS activation ID", "easDeviceId"),
    ("Serial number", "serialNumber"),
    ("Manufacturer", "manufacturer"),
    ("Model", "model"),
    ("EAS activated", "easActivated"),
    ("IMEI", "imei"),
    ("Last EAS sync time", ""),
    ("EAS reason", ""),
    ("EAS status", ""),
    ("Compliance grace period expiration", ""),
    ("Security patch level", "androidSecurityPatchLevel"),
    ("Wi-Fi MAC", "wiFiMacAddress"),
    ("MEID", "meid"),
    ("Subscriber carrier", "subscriberCarrier"),
    ("Total storage", ""),
    ("Free storage", ""),
    ("Management name", "managedDeviceName"),
    ("Category", "deviceCategoryDisplayName"),
    ("UserId", "userId"),
    ("Primary user UPN", "userPrincipalName"),
    ("Primary user email address", "emailAddress"),
    ("Primary user display name", "userDisplayName"),
    ("WiFiIPv4Address", ""),
    ("WiFiSubnetID", ""),
    ("Compliance", "complianceState"),
    ("Managed by", "managementAgent"),
    ("Ownership", "managedDeviceOwnerType"),
    ("Device state", ""),
    ("Intune registered", ""),
    ("Supervised", "isSupervised"),
    ("Encrypted", "isEncrypted"),
    ("OS", "operatingSystem"),
    ("SkuFamily", ""),
    ("JoinType", ""),
    ("Phone number", "phoneNumber"),
    ("Jailbroken", "jailBroken"),
)
_LABELS = {
    "company": "Corporate",
    "personal": "Personal",
    "compliant": "Compliant",
    "noncompliant": "Not Compliant",
    "mdm": "Intune",
    "registered": "Registered",
}


def _csv_value(d: dict, column: str, prop: str) -> str:
    if column in ("Total storage", "Free storage"):
        key = "totalStorageSpaceInBytes" if column == "Total storage" else "freeStorageSpaceInBytes"
        return str(d.get(key, 0) // (1 << 20))  # MB, as the export writes them
    if column == "Device state":
        return "Managed"
    if column == "Intune registered":
        return "Yes"
    if column == "JoinType":
        return "Microsoft Entra joined" if d.get("operatingSystem") == "Windows" else ""
    if column == "Compliance grace period expiration":
        return "9999-12-31 23:59:59.0000000"
    if not prop:
        return ""
    v = d.get(prop)
    if isinstance(v, bool):
        return "Yes" if v else "No"
    if v is None:
        return ""
    if prop.endswith("DateTime"):
        return _export_time(v)
    return _LABELS.get(v, str(v))


def intune_csv(devices: list[dict]) -> str:
    """The All devices export (``DevicesWithInventory``) of these managed devices."""
    out = io.StringIO()
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow([c for c, _ in _CSV])
    for d in devices:
        w.writerow([_csv_value(d, c, p) for c, p in _CSV])
    return "\ufeff" + out.getvalue()


def intune_graph_page(devices: list[dict]) -> str:
    """The ``GET /deviceManagement/managedDevices`` page holding these devices."""
    return (
        json.dumps(
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices",
                "@odata.count": len(devices),
                "value": devices,
            },
            indent=2,
        )
        + "\n"
    )
