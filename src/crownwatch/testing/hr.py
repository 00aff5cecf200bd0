"""Build HR roster exports (CSV) for workforce scenarios and tests, in the layouts the
``hr_roster`` source reads (see ``tests/fixtures/hr/README.md`` for where each comes
from):

``workday``
    a Workday custom report (data source *All Active and Terminated Workers*) exported
    as CSV: ``Employee ID``, ``Worker``, ``Email - Work``, ``Hire Date`` (MM/DD/YYYY),
    ``Worker Type`` (Employee / Contingent Worker) with ``Employee Type`` and
    ``Contingent Worker Type`` beside it, ``Supervisory Organization``, ``Manager``
    (the manager's name), ``Location`` (``Remote - <country>`` for a remote worker),
    ``Primary Home Address`` as Workday formats it — one value over several lines —
    and CRLF line ends;
``bamboohr``
    a BambooHR custom report: ``Employee #``, ``First Name``, ``Last Name``, ``Work
    Email``, ``Hire Date`` (YYYY-MM-DD), ``Employment Status`` (the kind as written),
    ``Supervisor`` (a name), ``Mobile Phone``, ``Home Email`` and the home address
    split into ``Address Line 1``, ``City``, ``State``, ``Zipcode``, ``Country``; the
    agency, bank account and time zone as the custom fields a company adds;
``generic``
    snake_case columns as Rippling-style and hand-made exports have them
    (``employee_id``, ``work_email``, ``start_date``, ``employment_type``, ``vendor``,
    ``remote``, ``personal_phone``, ``payroll_account``, ``home_address``,
    ``manager_email``…), LF line ends.

An employee is a plain dict (:func:`employee`) so a scenario can tweak one with
``{**e, "phone": ...}``; :func:`roster_csv` renders a list of them as one export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import iso3166

LAYOUTS = ("workday", "bamboohr", "generic")


def employee(
    employee_id: str,
    email: str,
    start: date,
    *,
    end: date | None = None,
    kind: str = "Full-Time",
    firm: str | None = None,
    location: str = "Austin, TX",
    country: str = "US",
    timezone: str = "America/Chicago",
    remote: bool = False,
    phone: str | None = None,
    personal_email: str | None = None,
    payroll: str | None = None,
    address: str | None = None,
    manager: str | None = None,
    department: str | None = "Engineering",
    name: str | None = None,
) -> dict:
    """One roster row. ``manager`` is the manager's work e-mail; ``name`` defaults to
    the e-mail's local part as a name (``dana.vee@…`` → ``Dana Vee``); ``address`` is
    one line, ``"12 Elm St, Austin, TX 78701"``."""
    return {
        "employee_id": employee_id,
        "email": email,
        "start": start,
        "end": end,
        "kind": kind,
        "firm": firm,
        "location": location,
        "country": country,
        "timezone": timezone,
        "remote": remote,
        "phone": phone,
        "personal_email": personal_email,
        "payroll": payroll,
        "address": address,
        "manager": manager,
        "department": department,
        "name": name or _name_from(email),
    }


def _name_from(email: str) -> str:
    local = email.split("@", 1)[0]
    return " ".join(p.capitalize() for p in re.split(r"[._-]+", local) if p) or local


def _kind(kind: str) -> str:
    """What the source makes of ``kind`` (its employment_type rule, in short)."""
    k = kind.lower()
    if re.search(r"\bintern(s|ship)?\b|\bco-?op\b", k):
        return "intern"
    if re.search(r"\b(vendors?|agency|supplier|outsourced?)\b", k):
        return "vendor"
    if re.search(
        r"\b(contractors?|contingent|consultants?|temp|temporary|contract|freelancer?|1099)\b", k
    ):
        return "contractor"
    if re.search(r"\b(full|part)[ -]?time\b|\b(regular|employees?|permanent)\b", k):
        return "employee"
    return "other"


def _country_name(code: str) -> str:
    c = iso3166.countries.get(code, None)
    return c.name if c else code


def _us(d: date | None) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year}" if d else ""


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _split_address(address: str | None) -> tuple[str, str, str, str]:
    """``12 Elm St, Austin, TX 78701`` → (street, city, state, zip); anything else all
    in the street line."""
    if not address:
        return "", "", "", ""
    m = re.fullmatch(r"\s*(.+?),\s*([^,]+?),\s*([A-Za-z]{2})\s+(\S+)\s*", address)
    if not m:
        return address, "", "", ""
    return m.group(1), m.group(2), m.group(3).upper(), m.group(4)


# the columns of a Workday worker report, in its order (the bench writes the same report)
WORKDAY_COLUMNS = (
    "Employee ID",
    "Worker",
    "Email - Work",
    "Hire Date",
    "Termination Date",
    "Worker Type",
    "Employee Type",
    "Contingent Worker Type",
    "Contingent Worker Supplier",
    "Supervisory Organization",
    "Manager",
    "Location",
    "Location Address - Country",
    "Time Zone",
    "Phone - Personal",
    "Email - Home",
    "Primary Home Address",
    "Payment Election - Account Number",
)


def _workday(rows: list[dict], names: dict[str, str], as_of: datetime | None) -> list[list[str]]:
    header = list(WORKDAY_COLUMNS)
    if as_of is not None:
        header.append("As of Date")
    out = [header]
    for r in rows:
        k = _kind(r["kind"])
        contingent = k in ("contractor", "vendor")
        worker_type = (
            "Contingent Worker" if contingent else "Employee" if k != "other" else r["kind"]
        )
        employee_type = "Intern" if k == "intern" else "Regular" if k == "employee" else ""
        cw_type = ("Vendor" if k == "vendor" else r["kind"]) if contingent else ""
        # Workday formats an address as its lines: street, then "City, ST ZIP"
        home = (r["address"] or "").replace(", ", "\n", 1)
        location = f"Remote - {r['country']}" if r["remote"] else r["location"]
        row = [
            r["employee_id"],
            r["name"],
            r["email"],
            _us(r["start"]),
            _us(r["end"]),
            worker_type,
            employee_type,
            cw_type,
            r["firm"] or "",
            r["department"] or "",
            names.get(r["manager"] or "", ""),
            location,
            _country_name(r["country"]),
            r["timezone"] or "",
            r["phone"] or "",
            r["personal_email"] or "",
            home,
            r["payroll"] or "",
        ]
        if as_of is not None:
            row.append(_stamp(as_of))
        out.append(row)
    return out


def _bamboohr(rows: list[dict], names: dict[str, str], as_of: datetime | None) -> list[list[str]]:
    header = [
        "Employee #",
        "First Name",
        "Last Name",
        "Work Email",
        "Hire Date",
        "Termination Date",
        "Employment Status",
        "Agency",
        "Location",
        "Department",
        "Supervisor",
        "Time Zone",
        "Mobile Phone",
        "Home Email",
        "Address Line 1",
        "City",
        "State",
        "Zipcode",
        "Country",
        "Bank Account #",
    ]
    if as_of is not None:
        header.append("As Of")
    out = [header]
    for r in rows:
        first, _, last = r["name"].partition(" ")
        street, city, state, zipcode = _split_address(r["address"])
        location = f"Remote - {r['country']}" if r["remote"] else r["location"]
        row = [
            r["employee_id"],
            first,
            last,
            r["email"],
            _iso(r["start"]),
            _iso(r["end"]),
            r["kind"],
            r["firm"] or "",
            location,
            r["department"] or "",
            names.get(r["manager"] or "", ""),
            r["timezone"] or "",
            r["phone"] or "",
            r["personal_email"] or "",
            street,
            city,
            state,
            zipcode,
            _country_name(r["country"]),
            r["payroll"] or "",
        ]
        if as_of is not None:
            row.append(_stamp(as_of))
        out.append(row)
    return out


def _generic(rows: list[dict], names: dict[str, str], as_of: datetime | None) -> list[list[str]]:
    header = [
        "employee_id",
        "name",
        "work_email",
        "start_date",
        "end_date",
        "employment_type",
        "vendor",
        "department",
        "manager_email",
        "location",
        "country",
        "timezone",
        "remote",
        "personal_phone",
        "personal_email",
        "payroll_account",
        "home_address",
    ]
    if as_of is not None:
        header.append("as_of")
    out = [header]
    for r in rows:
        row = [
            r["employee_id"],
            r["name"],
            r["email"],
            _iso(r["start"]),
            _iso(r["end"]),
            r["kind"],
            r["firm"] or "",
            r["department"] or "",
            r["manager"] or "",
            r["location"],
            r["country"],
            r["timezone"] or "",
            "true" if r["remote"] else "false",
            r["phone"] or "",
            r["personal_email"] or "",
            r["payroll"] or "",
            r["address"] or "",
        ]
        if as_of is not None:
            row.append(_stamp(as_of))
        out.append(row)
    return out


_WRITERS = {"workday": _workday, "bamboohr": _bamboohr, "generic": _generic}


def roster_csv(rows: list[dict], *, as_of: datetime | None = None, layout: str = "workday") -> str:
    """The export of ``rows`` (from :func:`employee`) in ``layout``. ``as_of`` adds the
    report's as-of column (the source reads it as the snapshot's time; without it, the
    file's modification time is used). A manager is written as the layout does: a name
    (the manager's row's name, or one made from the e-mail) for Workday and BambooHR,
    the e-mail for ``generic``."""
    if layout not in _WRITERS:
        raise ValueError(f"layout {layout!r}: expected one of {', '.join(LAYOUTS)}")
    names = {r["email"]: r["name"] for r in rows}
    for r in rows:
        if r["manager"] and r["manager"] not in names:
            names[r["manager"]] = _name_from(r["manager"])
    table = _WRITERS[layout](rows, names, as_of)
    buf = io.StringIO()
    line_end = "\n" if layout == "generic" else "\r\n"
    csv.writer(buf, lineterminator=line_end).writerows(table)
    return buf.getvalue()
