"""A laptop farm: several employees' corporate devices, who say they live in different
places, checking in or signing in from one residential address (ATT&CK T1078 Valid
Accounts, T1219 Remote Access Tools — the laptops are driven from elsewhere).

**What it looks for.** The addresses corporate devices reported from (``devices.last_ip``:
Jamf's last reported address) and the addresses roster people signed in from
(``authentication``, successes), outside the organisation's own networks (private
ranges, ``[organisation] own_asns`` / ``own_cidrs``) and outside hosting and proxy
networks (those are the VPN detection's). One finding per address used by at least
``min_people`` people who claim at least ``min_claimed_places`` different places on
the roster (a remote worker's home city, else their time zone, else the work location:
:func:`crownwatch.detections.workforce._common.claimed_place`). ``prefix_v4 = 24``
groups IPv4 addresses by /24 instead (a
residential line whose address the ISP rotates inside a small range).

**Why.** The FBI's 2025 advisory and Mandiant's 2024 reporting describe facilitators
in the United States who receive the company laptops of several North Korean "hires"
at one home and keep them online for operators abroad. Each persona claims its own
home city; the laptops all sit on one residential line.

**Evidence.** The address, the people with their claimed locations, remote flags and
start dates, the devices (serials) and sign-in sources seen there, the days, the AS
organisation, raw records.

**False positives.** A coworking space or a shared office the organisation does not
list as its own: the people there usually claim the *same* city (hence
``min_claimed_places``) — add its range to ``own_cidrs``. A family or housemates at
one company: two people stay under ``min_people``. A conference or hotel network for a
few days: see ``days`` in the evidence.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.identity._common import raw_ref
from crownwatch.detections.workforce._common import people_signins, roster, union_all
from crownwatch.enrichment.hosting import hosting_or_proxy
from crownwatch.enrichment.places import own_network

META = Meta(
    id="workforce.laptop_farm",
    title="Laptop farm: several employees' devices on one residential address",
    severity="high",
    attack=("T1078", "T1219"),
    tables=("workforce",),  # devices, authentication: either is enough
    description=(
        "Corporate devices or sign-ins of several roster people who claim different work "
        "locations come from one address outside the organisation's networks."
    ),
    false_positives=(
        "A coworking space not listed in own_cidrs whose members claim different cities; a "
        "conference network for a few days."
    ),
    references=(
        "https://www.ic3.gov/PSA/2025/PSA250123",
        "https://cloud.google.com/blog/topics/threat-intelligence/mitigating-dprk-it-worker-threat",
    ),
    params={"min_people": 3, "min_claimed_places": 2, "prefix_v4": 32},
    runbook=(
        (
            "Ask each person for a live video check-in with their corporate laptop, and "
            "compare the device's reported address with their claimed home."
        ),
        (
            "Pull the devices' remote-access software and USB history (crownwatch workforce "
            "lists the other signals) and their recent repository and data access."
        ),
        (
            "If the farm is confirmed, disable the accounts together and recover the devices "
            "through legal and HR, not by tipping off one persona at a time."
        ),
    ),
)


def _address_key(ip: ibis.StringValue, prefix_v4: int) -> ibis.StringValue:
    if prefix_v4 == 32:
        return ip
    if prefix_v4 != 24:
        raise ValueError("prefix_v4 must be 32 or 24")
    net = ip.re_extract(r"^(\d+\.\d+\.\d+)\.\d+$", 1)
    return ibis.cases((net != "", net.concat(".0/24")), else_=ip)


def _places(t: Tables) -> ibis.Table:
    """``(ip, person, time, kind, serial, as_org, asn, ref)`` from devices and sign-ins."""
    d = t.table("devices")
    d = d.filter(d.last_ip.notnull() & d.user.notnull())
    dev = d.select(
        src_ip=d.last_ip,
        person=d.user,
        time=d.time,
        kind=d.source.concat(" check-in"),
        serial=d.serial,
        as_org=ibis.null("string"),
        src_asn=ibis.null("int64"),
        ref=raw_ref(d),
    )
    s = people_signins(t)
    sig = s.select(
        src_ip=s.src_ip,
        person=s.user,
        time=s.time,
        kind=s.source.concat(" sign-in"),
        serial=ibis.null("string"),
        as_org=s.src_as_org,
        src_asn=s.src_asn,
        ref=s.ref,
    )
    return union_all(dev, sig)


def query(t: Tables, p: Params) -> ibis.Table:
    reg = registry_for(t, p)
    ev = _places(t)
    ev = ev.filter(ev.src_ip.notnull() & ~own_network(ev, reg))
    ev = ev.filter(~hosting_or_proxy(ev.as_org).fill_null(False))
    r = roster(t)
    r = r.select(r_user=r.user, claimed=r.claimed_place, remote=r.remote, start=r.start_date)
    ev = ev.join(r, ev.person == r.r_user)
    ev = ev.mutate(address=_address_key(ev.src_ip, int(p.prefix_v4)), day=ev.time.date())
    g = ev.group_by("address").aggregate(
        people_count=ev.person.nunique(),
        claimed_places=ev.claimed.lower().nunique(),
        people=ev.person.collect(distinct=True),
        claimed_locations=ev.claimed.collect(distinct=True),
        remote_people=ev.person.collect(distinct=True, where=ev.remote.fill_null(False)),
        start_dates=ev.start.cast("string").collect(distinct=True),
        devices=ev.serial.collect(distinct=True),
        seen_by=ev.kind.collect(distinct=True),
        src_ips=ev.src_ip.collect(distinct=True),
        as_orgs=ev.as_org.collect(distinct=True),
        days=ev.day.nunique(),
        first_seen=ev.time.min(),
        last_seen=ev.time.max(),
        raw_refs=ev.ref.collect(distinct=True),
    )
    g = g.filter((g.people_count >= p.min_people) & (g.claimed_places >= p.min_claimed_places))
    return g.select(
        key=g.address,
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.people,
        entity_src_ip=g.src_ips,
        address=g.address,
        people_count=g.people_count,
        claimed_locations=g.claimed_locations,
        remote_people=g.remote_people,
        start_dates=g.start_dates,
        devices=g.devices,
        seen_by=g.seen_by,
        as_orgs=g.as_orgs,
        days=g.days,
        raw_refs=g.raw_refs,
    )


LISTS = (
    "claimed_locations",
    "remote_people",
    "start_dates",
    "devices",
    "seen_by",
    "as_orgs",
    "raw_refs",
)


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, LISTS)


def title(row: dict, p: Params) -> str:
    places = "; ".join(sorted(row["claimed_locations"]))
    return (
        f"{row['people_count']} employees claiming different homes ({places}) are online from "
        f"{row['address']}"
    )
