"""Working hours that sit, day after day, in a time zone far from the claimed one
(ATT&CK T1078 Valid Accounts — the operator keeps their own clock).

**What it looks for.** The hours of the day (UTC) in which a roster person signed in,
one count per (day, hour) with any successful sign-in, over at least ``min_days``
days. Shifted into the claimed time zone (``workforce.timezone``; its UTC offset in the
middle of the activity, so daylight saving counts), what share falls in working hours
(``work_start``–``work_end`` local)? And which whole UTC offset would put the most of it
there? One finding when the claimed zone puts less than ``max_claimed_share`` in
working hours while the best-fitting offset puts at least ``min_best_share`` there, at
least ``min_shift_hours`` away from the claimed offset.

**Why.** An operator in Pyongyang (UTC+9) who claims to live in Texas (UTC−6) works
his own day: evenings and nights in Texas. The 2022 U.S. guidance lists workers unable
to be reached in normal business hours among its red flags; Mandiant's 2024 reporting
describes the same pattern. A fit over the whole day histogram, not a count of night
sign-ins, keeps night owls and on-call weeks quiet: their days still centre where they
live.

**Evidence.** The claimed time zone and its offset, the best-fitting UTC offset, the
working-hours share under each, active days, the active days per hour of the claimed
local day, raw records (a sample).

**False positives.** Someone on a deliberate night shift (the roster should say so);
a person who moved without telling HR (true, and worth a conversation). Service
accounts are not on the roster.

The shift is scored in ``postprocess`` over one short row per person (24 counts): the
engine does the per-sign-in work.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis

from crownwatch.detections._time import HOUR, epoch
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.workforce._common import people_signins

META = Meta(
    id="workforce.far_timezone_hours",
    title="Employee's working hours fit a time zone far from the claimed one",
    severity="medium",
    attack=("T1078",),
    tables=("workforce", "authentication"),
    description=(
        "A roster person's sign-in hours fall mostly outside working hours in the claimed "
        "time zone and fit working hours in a zone at least six hours away."
    ),
    false_positives="A night shift; an unrecorded move.",
    references=(
        "https://ofac.treasury.gov/media/923126/download?inline",
        "https://cloud.google.com/blog/topics/threat-intelligence/mitigating-dprk-it-worker-threat",
    ),
    params={
        "min_days": 5,
        "work_start": 8,
        "work_end": 19,  # the last working hour: 08:00–19:59
        "max_claimed_share": 0.4,
        "min_best_share": 0.7,
        "min_shift_hours": 6,
        "high_shift_hours": 8,
    },
    runbook=(
        (
            "Compare with the person's calendar and commits: meetings attended live, "
            "messages answered during the claimed working day."
        ),
        ("Review their other signals (crownwatch workforce) before talking to them."),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    s = people_signins(t)
    s = s.filter(s.r_timezone.notnull())
    s = s.mutate(day=s.time.date(), utc_hour=((epoch(s.time) / HOUR).floor() % 24).cast("int64"))
    cells = s.group_by(["user", "day", "utc_hour"]).aggregate(
        first=s.time.min(),
        last=s.time.max(),
        ref=s.ref.min(),
        tz=s.r_timezone.max(),
        location=s.r_location.max(),
    )
    g = cells.group_by("user").aggregate(
        days=cells.day.nunique(),
        hours=cells.utc_hour.collect(),
        first_seen=cells.first.min(),
        last_seen=cells.last.max(),
        timezone=cells.tz.max(),
        claimed_location=cells.location.max(),
        raw_refs=cells.ref.collect(distinct=True),
    )
    g = g.filter(g.days >= p.min_days)
    return g.select(
        key=g.user,
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.user,
        timezone=g.timezone,
        claimed_location=g.claimed_location,
        active_days=g.days,
        hours=g.hours,
        raw_refs=g.raw_refs,
    )


def _offset_hours(tz: str, at: datetime) -> float | None:
    try:
        off = ZoneInfo(tz).utcoffset(at)
    except (ZoneInfoNotFoundError, ValueError, KeyError):
        return None
    return off.total_seconds() / 3600 if off is not None else None


def _share(counts: list[int], offset: float, p: Params) -> float:
    total = sum(counts)
    work = sum(
        c for h, c in enumerate(counts) if p.work_start <= int((h + offset) % 24) <= p.work_end
    )
    return work / total if total else 0.0


def _distance(a: float, b: float) -> float:
    d = abs(a - b) % 24
    return min(d, 24 - d)


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    out = []
    for r in rows:
        first, last = r["first_seen"], r["last_seen"]
        claimed = _offset_hours(r["timezone"] or "", first + (last - first) / 2)
        if claimed is None:
            continue
        counts = [0] * 24
        for h in r.pop("hours") or []:
            counts[int(h)] += 1
        at_claimed = _share(counts, claimed, p)
        fits = {o: _share(counts, o, p) for o in range(-12, 15)}
        best_share = max(fits.values())
        # the offsets that fit equally well form a run (a working day has slack at both
        # ends); its middle is the honest estimate, its ends in the evidence
        ties = [o for o, s in fits.items() if s == best_share]
        best = ties[(len(ties) - 1) // 2]
        shift = _distance(best, claimed)
        if not (
            at_claimed < p.max_claimed_share
            and best_share >= p.min_best_share
            and shift >= p.min_shift_hours
        ):
            continue
        r["claimed_utc_offset"] = claimed
        r["best_fit_utc_offset"] = best
        r["best_fit_range"] = [ties[0], ties[-1]]
        r["shift_hours"] = shift
        r["work_share_claimed"] = round(at_claimed, 2)
        r["work_share_best_fit"] = round(best_share, 2)
        # local hour -> active days (a dict: evidence lists are sets, sorted)
        local = {f"{h:02d}": counts[int((h - claimed) % 24)] for h in range(24)}
        r["local_hour_histogram"] = {h: n for h, n in local.items() if n}
        r["severity"] = "high" if shift >= p.high_shift_hours else "medium"
        out.append(r)
    return out


def title(row: dict, p: Params) -> str:
    best = row["best_fit_utc_offset"]
    return (
        f"{row['entity_user']} works on UTC{best:+d} hours, not {row['timezone']}'s: "
        f"{round(100 * row['work_share_claimed'])}% of active hours in claimed working hours"
    )
