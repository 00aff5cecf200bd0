"""What the workforce detections share: the roster's current row per person, the person
each corporate device belongs to, and which sign-ins are a roster person's.

**The roster is a series of snapshots** (``tables/workforce.py``): a person's current
row is their latest by the export's as-of time. People are matched by identity key
(``workforce.user`` = ``authentication.user`` = ``devices.user``).

**A device's person** is the user its inventory record names; an osquery result whose
decorations name nobody takes the person of the MDM record with the same serial, else
the same device name.
"""

from __future__ import annotations

import ibis

from crownwatch.detections._roster import latest_rows
from crownwatch.detections.contract import Tables, shared
from crownwatch.detections.identity._common import raw_ref


def roster(t: Tables) -> ibis.Table:
    """Each person's latest roster row, with ``ref`` (the raw record)."""

    def build() -> ibis.Table:
        w = latest_rows(t.table("workforce"), "user")
        # one row when a snapshot lists a person twice (a re-hire's two employee ids)
        order = [w.raw_source.desc(), w.raw_offset.desc()]
        w = w.mutate(_rn=ibis.row_number().over(group_by=w.user, order_by=order))
        w = w.filter(w._rn == 0).drop("_rn")
        return w.mutate(ref=raw_ref(w), claimed_place=claimed_place(w))

    return shared("workforce.roster", build)


def claimed_place(w: ibis.Table) -> ibis.StringValue:
    """Where a person says they are: the home city of a remote worker (Workday writes
    ``Remote - US`` as the location), else their claimed time zone, else the work
    location as written."""
    remote = w.location.lower().startswith("remote").fill_null(False)
    return w.home_city.coalesce(ibis.ifelse(remote, w.timezone.coalesce(w.location), w.location))


def device_owners(t: Tables) -> ibis.Table:
    """``(serial, device_name, device_uid, owner)``: each device's latest named user."""

    def build() -> ibis.Table:
        d = t.table("devices")
        d = d.filter(d.user.notnull())
        order = [d.time.desc(), d.raw_source.desc(), d.raw_offset.desc()]
        d = d.mutate(
            _rn=ibis.row_number().over(
                group_by=d.serial.coalesce(d.device_uid).coalesce(d.device_name), order_by=order
            )
        )
        d = d.filter(d._rn == 0)
        return d.select(
            o_serial=d.serial.upper(),
            o_name=d.device_name.lower(),
            o_uid=d.device_uid,
            owner=d.user,
        )

    return shared("workforce.device_owners", build)


def items_with_owner(t: Tables) -> ibis.Table:
    """``device_items`` with ``person``: the item's own user, else the owner of the
    device with the same serial, else of the same device name."""
    it = t.table("device_items")
    own = device_owners(t)
    by_serial = own.select(s_serial=own.o_serial, s_owner=own.owner).distinct()
    by_name = own.select(n_name=own.o_name, n_owner=own.owner).distinct()
    j = it.left_join(by_serial, it.serial.upper() == by_serial.s_serial)
    j = j.left_join(by_name, j.device_name.lower() == by_name.n_name)
    j = j.mutate(person=j.user.coalesce(j.s_owner).coalesce(j.n_owner))
    return j.drop("s_serial", "s_owner", "n_name", "n_owner")


def people_signins(t: Tables) -> ibis.Table:
    """Successful sign-ins of people on the roster, with their roster columns
    (``r_``-prefixed) and ``ref``."""
    a = t.authentication
    a = a.filter((a.status == "success") & a.user.notnull())
    r = roster(t)
    r = r.select(
        r_user=r.user,
        r_start=r.start_date,
        r_end=r.end_date,
        r_type=r.employment_type,
        r_location=r.claimed_place,
        r_country=r.country,
        r_timezone=r.timezone,
        r_remote=r.remote,
        r_ref=r.ref,
    )
    j = a.join(r, a.user == r.r_user)
    return j.mutate(ref=raw_ref(j))


def union_all(*tables: ibis.Table) -> ibis.Table:
    """``UNION ALL`` of tables with the same columns, whatever each column's
    nullability (a lake column declared NOT NULL beside a computed one)."""
    loose = [t.cast({c: typ.copy(nullable=True) for c, typ in t.schema().items()}) for t in tables]
    return ibis.union(*loose)
