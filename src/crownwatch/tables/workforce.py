"""``workforce`` — the HR roster: who works here, since when, on what terms, from
where they say they work, and the private identifiers (hashed) that tie records to a
real person. No OCSF class holds HR records; the names follow OCSF's User object
(``uid``, ``email_addr``) flattened, plus what workforce-integrity checks compare.

A roster is a **snapshot**: each export is a full list as of one moment. ``time`` is
that moment — the export's own "as of"/report-date column when it has one, else the
file's modification time — so a later export supersedes an earlier one row by row
(a detection takes each employee's latest row), and changes (a phone number that
moves to another employee's record) stay visible in the lake.

**Private identifiers are never stored.** Personal phone, personal e-mail, payroll
account and home address are normalised (digits only for phones and accounts, lower
case and trimmed for e-mail, collapsed whitespace and case for addresses) and hashed at
ingest with SHA-256 under the lake's own secret salt (``<lake>/.secret/hash_salt``,
made on first use, or ``$CROWNWATCH_HASH_SALT``), so two employees sharing a phone have
equal hashes, while the lake, its Parquet files and every finding hold no number a
reader could dial or reverse from a small space (phone numbers are few enough to
enumerate unsalted hashes).

==================  ============================================================
column              meaning
==================  ============================================================
``time``            the roster's as-of time (UTC)
``source``          ``hr_roster``
``employee_id``     the HR system's id (``Employee ID``, ``Employee #``, ``Worker ID``)
``user``            the identity key of the work e-mail (joins ``authentication.user``)
``email``           the work e-mail as written, lower case
``display_name``
``start_date``      first day (hire / contract start)
``end_date``        last day (termination / contract end); NULL while current
``employment_type`` ``employee`` | ``contractor`` | ``vendor`` | ``intern`` | other text
``firm``            the vendor or agency a contractor comes through
``department``
``manager``         the manager's identity key
``location``        the claimed work location as written (``Austin, TX, US``)
``country``         ISO 3166-1 alpha-2 of the claimed location
``timezone``        IANA time zone of the claimed location (``America/Chicago``)
``remote``          true when the roster marks the person remote
``phone_hash``      hashed personal phone
``personal_email_hash``
``payroll_hash``    hashed payroll account (bank account / IBAN)
``address_hash``    hashed home address
``home_city``       the home address's city and region in clear (``Denver, CO``) —
                    where a remote worker claims to live (``location`` says only
                    ``Remote - US``); the street stays hashed
==================  ============================================================
"""

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

EMPLOYMENT_TYPES = ("employee", "contractor", "vendor", "intern")

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("employee_id", pa.string()),
        pa.field("user", pa.string()),
        pa.field("email", pa.string()),
        pa.field("display_name", pa.string()),
        pa.field("start_date", pa.date32()),
        pa.field("end_date", pa.date32()),
        pa.field("employment_type", pa.string()),
        pa.field("firm", pa.string()),
        pa.field("department", pa.string()),
        pa.field("manager", pa.string()),
        pa.field("location", pa.string()),
        pa.field("country", pa.string()),
        pa.field("timezone", pa.string()),
        pa.field("remote", pa.bool_()),
        pa.field("phone_hash", pa.string()),
        pa.field("personal_email_hash", pa.string()),
        pa.field("payroll_hash", pa.string()),
        pa.field("address_hash", pa.string()),
        pa.field("home_city", pa.string()),
        *PROVENANCE,
    ]
)
