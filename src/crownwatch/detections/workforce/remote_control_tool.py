"""A remote-control stack on a remote worker's corporate device: remote-desktop software
(AnyDesk, RustDesk, TeamViewer, Chrome Remote Desktop…) or a hardware KVM-over-IP
device (PiKVM, TinyPilot…) seen by the device inventory (ATT&CK T1219 Remote Access
Tools; T1200 Hardware Additions for the KVM).

**What it looks for.** ``device_items``: an application whose name matches one of
``tools`` (case-insensitive regular expressions over the names the inventories report),
or a USB device whose vendor and product id are one of ``kvm_usb_ids`` or whose vendor
or product string matches ``kvm_names``. The device's person is the inventory's user,
else the MDM record's user of the same serial or name
(:func:`crownwatch.detections.workforce._common.items_with_owner`). Fires for a person
the roster marks remote (``remote_only``: set false to watch everyone), or for any
person when the item is a KVM.

**Why.** A laptop in a farm is driven from abroad: Mandiant's 2024 reporting and the
FBI's 2025 advisory describe remote-desktop tools installed on the company laptops,
and IP-KVMs plugged into them so that nothing needs installing at all. A KVM's USB
gadget shows up in an inventory's USB list with its maker's strings; PiKVM and
TinyPilot present Linux's composite-gadget ids (``1d6b:0104``) by default.

**Evidence.** The person, their claimed location and start date, the devices
(serials, names), the tools and USB devices with versions and ids, first and last
inventory times, raw records.

**Severity.** ``critical`` for a remote-desktop tool *and* a KVM on one person's
devices; ``high`` for a KVM or two or more tools; ``medium`` for one tool.

**False positives.** IT staff using a sanctioned tool for support: list it in
``sanctioned`` (``{"tool": "TeamViewer", "users": ["it-*"]}``; ``users`` globs over the
identity key, empty for everyone) or the tool's regular expression in
``sanctioned_tools`` when the whole company uses it. A developer's Linux USB gadget
test board: the evidence names it.
"""

from __future__ import annotations

import ibis

from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.identity._common import raw_ref
from crownwatch.detections.workforce._common import items_with_owner, roster

META = Meta(
    id="workforce.remote_control_tool",
    title="Remote-control software or a KVM on a remote worker's corporate device",
    severity="medium",
    attack=("T1219", "T1200"),
    tables=("device_items",),
    description=(
        "The device inventory shows remote-desktop software or a KVM-over-IP USB device on "
        "the corporate device of a remote worker."
    ),
    false_positives=(
        "IT support's sanctioned tool (list it in sanctioned or sanctioned_tools); "
        "a developer's USB gadget board."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1219/",
        "https://cloud.google.com/blog/topics/threat-intelligence/mitigating-dprk-it-worker-threat",
        "https://www.ic3.gov/PSA/2025/PSA250123",
        "https://docs.pikvm.org/",
    ),
    params={
        "tools": [
            r"\banydesk\b",
            r"\brustdesk\b",
            r"\bteamviewer\b",
            r"chrome remote desktop",
            r"\bsplashtop\b",
            r"\bscreenconnect\b|connectwise control",
            r"\bremotepc\b",
            r"\bparsec\b",
            r"\bzoho assist\b",
        ],
        "kvm_usb_ids": ["1d6b:0104"],
        "kvm_names": [r"pikvm", r"tinypilot", r"jetkvm", r"blikvm"],
        "remote_only": True,
        "sanctioned": [],
        "sanctioned_tools": [],
    },
    runbook=(
        ("Ask the person why the tool or device is there; confirm with IT whether it was issued."),
        (
            "Collect the tool's connection logs from the device (AnyDesk ad.trace, TeamViewer "
            "Connections_incoming.txt) and the addresses that connected."
        ),
        ("Remove unsanctioned tools by MDM policy and block their installers."),
    ),
)


def _any(value: ibis.StringValue, patterns: list[str]) -> ibis.BooleanValue:
    if not patterns:
        return ibis.literal(False)
    return value.lower().re_search("|".join(f"(?:{x})" for x in patterns)).fill_null(False)


def _sanctioned(t: ibis.Table, p: Params) -> ibis.BooleanValue:
    cond = _any(t.name, list(p.sanctioned_tools))
    for rule in p.sanctioned:
        tool = _any(t.name, [str(rule["tool"]).lower()])
        users = [str(u).lower() for u in rule.get("users") or []]
        who = (
            ibis.literal(True) if not users else ibis.or_(*[t.person.like(_like(u)) for u in users])
        )
        cond = cond | (tool & who.fill_null(False))
    return cond


def _like(glob: str) -> str:
    return glob.replace("%", r"\%").replace("_", r"\_").replace("*", "%").replace("?", "_")


def query(t: Tables, p: Params) -> ibis.Table:
    it = items_with_owner(t)
    it = it.filter(it.person.notnull())
    usb_id = it.vendor_id.lower().concat(":", it.product_id.lower())
    is_kvm = (it.item_type == "usb_device") & (
        usb_id.isin([str(x).lower() for x in p.kvm_usb_ids]).fill_null(False)
        | _any(it.name.coalesce("").concat(" ", it.publisher.coalesce("")), list(p.kvm_names))
    )
    is_tool = (it.item_type == "application") & _any(it.name, list(p.tools))
    it = it.mutate(is_kvm=is_kvm, is_tool=is_tool)
    it = it.filter((it.is_kvm | it.is_tool) & ~_sanctioned(it, p))
    r = roster(t)
    r = r.select(r_user=r.user, claimed=r.claimed_place, remote=r.remote, start=r.start_date)
    it = it.left_join(r, it.person == r.r_user)
    if p.remote_only:
        it = it.filter(it.is_kvm | it.remote.fill_null(False))
    label = ibis.cases(
        (it.is_kvm, "USB " + it.vendor_id.coalesce("?") + ":" + it.product_id.coalesce("?")),
        else_="",
    )
    it = it.mutate(
        item=it.name.coalesce("?").concat(
            ibis.cases((it.version.notnull(), " " + it.version), else_=""),
            ibis.cases((label != "", " (" + label + ")"), else_=""),
        ),
        ref=raw_ref(it),
    )
    g = it.group_by("person").aggregate(
        first_seen=it.time.min(),
        last_seen=it.time.max(),
        tools=it.item.collect(distinct=True, where=it.is_tool),
        kvm_devices=it.item.collect(distinct=True, where=it.is_kvm),
        n_tools=it.name.lower().nunique(where=it.is_tool),
        n_kvm=it.item.nunique(where=it.is_kvm),
        devices=it.serial.coalesce(it.device_name).collect(distinct=True),
        claimed_location=it.claimed.max(),
        remote=it.remote.fill_null(False).any(),
        start_date=it.start.max().cast("string"),
        sources=it.source.collect(distinct=True),
        raw_refs=it.ref.collect(distinct=True),
    )
    sev = ibis.cases(
        ((g.n_kvm > 0) & (g.n_tools > 0), "critical"),
        ((g.n_kvm > 0) | (g.n_tools >= 2), "high"),
        else_="medium",
    )
    return g.select(
        key=g.person,
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.person,
        severity=sev,
        tools=g.tools,
        kvm_devices=g.kvm_devices,
        devices=g.devices,
        claimed_location=g.claimed_location,
        remote=g.remote,
        start_date=g.start_date,
        sources=g.sources,
        raw_refs=g.raw_refs,
    )


LISTS = ("tools", "kvm_devices", "devices", "sources", "raw_refs")


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, LISTS)


def title(row: dict, p: Params) -> str:
    what = ", ".join(sorted(row["tools"]) + sorted(row["kvm_devices"]))
    return f"{row['entity_user']}'s corporate device runs remote control: {what}"
