"""One private identifier on several employees' HR records: the same personal phone,
personal e-mail or payroll account behind different people (ATT&CK T1585 Establish
Accounts, T1078 Valid Accounts — personas built to be hired).

**What it looks for.** In each person's current roster row (``workforce``), the hashed
personal phone, personal e-mail and payroll account (``phone_hash``,
``personal_email_hash``, ``payroll_hash``); one finding per identifier that two or more
different people share.

**Why.** A North Korean IT-worker cell runs several "employees" through one
facilitator, and the payroll has to reach the facilitator somehow: the 2022 U.S.
government guidance on DPRK IT workers (State, Treasury, FBI) lists one bank account
used for several developers among its red flags, and the FBI's 2025 advisory and
Mandiant's 2024 reporting describe the same contact details and accounts behind
several personas. A real employee shares none of these with a colleague (even spouses at one company have
their own phones, and a shared *home address* — siblings, a couple, housemates — is
deliberately not one of the identifiers).

**Privacy.** Values are hashed at ingest under the lake's salt; this detection compares
hashes and keeps only their first 12 characters in the evidence (enough to find the
other records, nothing to dial).

**Evidence.** Which identifier, the people (identity keys, employee ids, start dates,
departments, managers, claimed locations, employment types) and the roster records.

**Severity.** ``critical`` for a shared payroll account (money going to one place);
``high`` for a shared phone or personal e-mail.

**False positives.** HR data-entry placeholders (``000-000-0000``, ``n/a@…``) — the
source drops empty values, and ``ignore_hash_prefixes`` silences a known placeholder;
a re-hire with a new employee id is one person (same identity key), not two.
"""

from __future__ import annotations

import ibis

from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.workforce._common import roster, union_all

META = Meta(
    id="workforce.shared_identifiers",
    title="Private identifier shared by several employees",
    severity="high",
    attack=("T1585", "T1078"),
    tables=("workforce",),
    description=(
        "Two or more people on the HR roster share a personal phone, personal e-mail or "
        "payroll account (compared hashed)."
    ),
    false_positives=(
        "HR placeholders entered for several people (silence their hash prefix in "
        "ignore_hash_prefixes)."
    ),
    references=(
        "https://ofac.treasury.gov/media/923126/download?inline",
        "https://www.ic3.gov/PSA/2025/PSA250123",
        "https://cloud.google.com/blog/topics/threat-intelligence/mitigating-dprk-it-worker-threat",
    ),
    params={
        "identifiers": ["phone", "personal_email", "payroll"],
        "min_people": 2,
        "ignore_hash_prefixes": [],
    },
    runbook=(
        (
            "Compare the people's hiring records (interview recordings, identity checks, "
            "references) and who referred or placed them."
        ),
        (
            "Ask payroll and HR to verify the identifier with each person directly, by a "
            "channel the records do not supply."
        ),
        (
            "Until cleared, review the people's access to crown-jewel repositories and data "
            "(crownwatch workforce lists their other signals)."
        ),
    ),
)

COLUMNS = {
    "phone": "phone_hash",
    "personal_email": "personal_email_hash",
    "payroll": "payroll_hash",
}


def query(t: Tables, p: Params) -> ibis.Table:
    r = roster(t)
    parts = []
    for kind in p.identifiers:
        h = r[COLUMNS[kind]]
        parts.append(
            r.filter(h.notnull() & (h != "")).select(
                "user",
                "employee_id",
                "start_date",
                "department",
                "manager",
                "location",
                "employment_type",
                "time",
                "ref",
                identifier=ibis.literal(kind),
                h=h,
            )
        )
    u = union_all(*parts)
    for prefix in p.ignore_hash_prefixes:
        u = u.filter(~u.h.startswith(str(prefix)))
    g = u.group_by(["identifier", "h"]).aggregate(
        people_count=u.user.nunique(),
        people=u.user.collect(distinct=True),
        employee_ids=u.employee_id.collect(distinct=True),
        start_dates=u.start_date.cast("string").collect(distinct=True),
        departments=u.department.collect(distinct=True),
        managers=u.manager.collect(distinct=True),
        claimed_locations=u.location.collect(distinct=True),
        employment_types=u.employment_type.collect(distinct=True),
        first_seen=u.time.min(),
        last_seen=u.time.max(),
        raw_refs=u.ref.collect(distinct=True),
    )
    g = g.filter(g.people_count >= p.min_people)
    return g.select(
        # the people, not the hash: the salt (so the hash) is the lake's own
        key=g.identifier.concat(":", g.people.sort().join(",")),
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.people,
        severity=ibis.cases((g.identifier == "payroll", "critical"), else_="high"),
        identifier=g.identifier,
        hash_prefix=g.h.substr(0, 12),
        people_count=g.people_count,
        employee_ids=g.employee_ids,
        start_dates=g.start_dates,
        departments=g.departments,
        managers=g.managers,
        claimed_locations=g.claimed_locations,
        employment_types=g.employment_types,
        raw_refs=g.raw_refs,
    )


LISTS = (
    "employee_ids",
    "start_dates",
    "departments",
    "managers",
    "claimed_locations",
    "employment_types",
    "raw_refs",
)


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, LISTS)


def title(row: dict, p: Params) -> str:
    what = row["identifier"].replace("_", " ")
    people = ", ".join(sorted(row["entity_user"]))
    return f"{row['people_count']} employees share one {what}: {people}"
