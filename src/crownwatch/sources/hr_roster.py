"""HR roster exports (CSV) into ``workforce``: who works here, since when, on what
terms, from where they say they work — and their private identifiers, hashed.

**Layouts.** There is no one roster layout: every HR system exports the columns a
report was built with, under the labels that system gives them. Columns are therefore
taken **by header name**, each field from the first of its aliases the header has,
compared without case, spaces or punctuation (``Email - Work``, ``Email_-_Work``,
``work_email`` and ``WORK EMAIL`` are one name; ``#`` reads as "number", so
``Employee #`` is ``employee_number``). The aliases cover the exports people send:

* **Workday** custom reports (``All Active and Terminated Workers``): ``Employee
  ID``, ``Worker``, ``Email - Work``, ``Hire Date``, ``Termination Date``, ``Worker
  Type``, ``Location``, ``Time Zone``, ``Supervisory Organization``, ``Manager``,
  ``Phone - Personal``, ``Email - Home``, ``Primary Home Address`` (one multi-line
  value), ``Payment Election - Account Number`` — also with the report's XML aliases
  (``Email_-_Work``) as a RaaS CSV names them;
* **BambooHR** reports: ``Employee #``, ``First Name``, ``Last Name``, ``Work
  Email``, ``Hire Date``, ``Termination Date``, ``Employment Status``, ``Location``,
  ``Department``, ``Supervisor``, ``Mobile Phone``, ``Home Email``, ``Address Line
  1``/``2``, ``City``, ``State``, ``Zipcode``, ``Country``;
* **Rippling** and generic snake_case exports: ``employee_id``, ``work_email``,
  ``start_date``, ``end_date``, ``employment_type``, ``vendor``/``agency``/``firm``,
  ``location``, ``country``, ``timezone``, ``remote``, ``personal_phone``,
  ``personal_email``, ``payroll_account``/``bank_account``/``iban``,
  ``home_address`` (or ``residential_address_line_1`` … ``_postcode``),
  ``manager_email`` (Rippling: ``Manager - Work email``), ``department``, ``as_of``.

The file is a CSV — comma, semicolon or tab (the one the header uses most), an
optional UTF-8 BOM, RFC 4180 quoting with fields that span lines — whose header names
a work e-mail column and an employee id or start/hire date column (:func:`sniff`). The
header is the first such line among the first 16 records; lines before it are
quarantined, a repeat of it further down (exports run together) is *skipped*.

**Mapping.** ``user`` is the identity key of the work e-mail (the rule of
:func:`crownwatch.tables.authentication.identity_key`), ``email`` the address lower
case. Dates read as ISO (``2024-03-05``, with or without a time), US
(``03/05/2024``, ``3/5/24``), ``5 Mar 2024`` / ``05-Mar-2024`` / ``5 March 2024`` and
``Mar 5, 2024``. ``employment_type``: intern / co-op → ``intern``; vendor / agency /
supplier → ``vendor``; contractor / contingent worker / consultant / temp / contract /
freelance → ``contractor``; full-time / part-time / regular / permanent / employee →
``employee``; a status word (``Active``, ``Terminated``…, what Rippling's "Employment
status" holds) → NULL; anything else lower-cased as written. ``manager``: the
identity key when the column holds an e-mail; else the ``user`` of the roster row
whose employee id, or (unambiguous) display name, it names — Workday and BambooHR
write the manager's name — else NULL. ``remote``: the remote column (yes / true / 1 /
remote vs. no / false / 0 / on-site / office / hybrid), else whether the location says
"remote" (``Remote - US``). ``country``: the country column, else the location's last
part (``Austin, TX, US``, ``Remote - Poland``, ``Remote (Canada)``; a two-part ``City,
ST`` with a US state abbreviation is the US), names and codes alike through the alias
table of :mod:`crownwatch.enrichment.countries`; unknown → NULL. ``timezone`` as
written. ``time`` is the roster's as-of column (``as_of``, ``As of Date``, ``Report
Date``…) where it has one and it reads, else the file's modification time (UTC).

**Private identifiers** are hashed in DuckDB as ``sha256(salt || '|' || value)``, the
salt a query parameter (:mod:`crownwatch.lake_secret`: ``$CROWNWATCH_HASH_SALT`` or the
lake's own ``.secret/hash_salt``), after normalising: phone — digits only, a leading
``+`` kept; personal e-mail — trimmed, lower case; payroll account — letters and
digits only, upper case; home address — the address column, or the split columns
(line 1, line 2, city, state, postal code) joined, lower case, punctuation and
whitespace runs made one space. The home address's city and region are kept in clear as
``home_city`` (``Denver, CO``: the City and State columns, else the formatted address's
city line or what follows the street, postal codes and house numbers taken out). No raw value reaches the lake: a quarantined row keeps
its reason and the row with every private column (those above, and any other phone,
address, bank, birth or national-id column) written ``<redacted>`` — every field, when
the row has another number of fields than the header (its values have shifted, no one
can say where to); a row whose fields cannot be told apart is not kept at all when the
header has private columns. No error message quotes a value either.

**Quarantined**: no work e-mail (or one that is not an address), an unparseable start
or end date, a row with more or fewer fields than the header names (extra *empty*
fields at the end are allowed: a shifted row would put a phone number into a column
stored in the clear), malformed quoting (text after a closing quote), a quoted field
never closed. A quote left open
across more than 100 lines, or to the end of the file, is read as a stray quote: the
file is then read line by line, so only the lines it broke are lost to quarantine.
Blank lines are not records; ``raw_offset`` is the line a record starts on, counting the
lines inside quoted fields; ``raw_id`` the employee id.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crownwatch.lake_secret import hash_salt
from crownwatch.sources.base import Parsed
from crownwatch.sources.private_columns import header_key, is_private
from crownwatch.sources.reader import Reader, _sql_str
from crownwatch.sources.sql_text import inner, trim_short
from crownwatch.tables.authentication import identity_key
from crownwatch.tables.quarantine import RECORD_LIMIT

NAME = "hr_roster"

DELIMITERS = (",", ";", "\t")
HEADER_SEARCH = 16  # records looked at for the header (as far as sniffing looks)
MAX_SPAN = 100  # lines one record may span before its open quote counts as stray
REDACTED = "<redacted>"
MAX_NAME = 64  # characters a column name may have

# Aliases per field, in order of preference, as header keys (see header_key).
ALIASES: dict[str, tuple[str, ...]] = {
    "employee_id": (
        "employeeid",
        "employeenumber",
        "workerid",
        "employeeno",
        "empid",
        "employeecode",
        "eeid",
        "personnumber",
        "staffid",
    ),
    "email": (
        "emailwork",
        "workemail",
        "workemailaddress",
        "emailaddresswork",
        "emailprimarywork",
        "primaryworkemail",
        "businessemail",
        "companyemail",
        "corporateemail",
        "email",
        "emailaddress",
    ),
    "name": (
        "worker",
        "name",
        "fullname",
        "employeename",
        "displayname",
        "workername",
        "legalname",
        "employee",
    ),
    "first_name": ("firstname", "legalfirstname", "preferredfirstname", "givenname"),
    "last_name": ("lastname", "legallastname", "surname", "familyname"),
    "start_date": (
        "hiredate",
        "startdate",
        "originalhiredate",
        "contractstartdate",
        "employmentstartdate",
        "dateofhire",
        "dateofjoining",
        "joindate",
        "joiningdate",
        "firstdayofwork",
    ),
    "end_date": (
        "terminationdate",
        "enddate",
        "contractenddate",
        "separationdate",
        "lastdayofwork",
        "lastday",
        "exitdate",
        "leavingdate",
    ),
    # every one present is read, the first that says something wins: Workday's "Worker
    # Type" is only Employee / Contingent Worker, its "Employee Type" / "Contingent
    # Worker Type" say Intern, Regular, Vendor…
    "employment_type": (
        "employmenttype",
        "contingentworkertype",
        "employeetype",
        "workersubtype",
        "contracttype",
        "employmentcategory",
        "employeeclass",
        "workertype",
        "employmentstatus",
        "timetype",
    ),
    "firm": (
        "vendor",
        "vendorname",
        "agency",
        "agencyname",
        "firm",
        "supplier",
        "suppliername",
        "contingentworkersupplier",
        "staffingagency",
        "vendorcompany",
    ),
    "department": (
        "department",
        "dept",
        "departmentname",
        "supervisoryorganization",
        "organization",
        "team",
        "division",
    ),
    "manager": (
        "managerworkemail",
        "manageremail",
        "supervisorworkemail",
        "supervisoremail",
        "reportstoemail",
        "manager",
        "supervisor",
        "reportingto",
        "reportsto",
        "managername",
        "supervisorname",
        "managerid",
        "manageremployeeid",
        "supervisorid",
        "supervisoreid",
    ),
    "location": (
        "location",
        "worklocation",
        "primaryworklocation",
        "officelocation",
        "businesssite",
        "locationname",
        "worksite",
        "site",
        "office",
    ),
    "country": (
        "workcountry",
        "locationcountry",
        "locationaddresscountry",
        "countrycode",
        "country",
        "countryregion",
    ),
    "timezone": ("timezone", "tz", "worktimezone", "locationtimezone", "ianatimezone"),
    "remote": (
        "remote",
        "isremote",
        "remoteworker",
        "isremoteworker",
        "remotework",
        "workfromhome",
        "remotestatus",
        "workarrangement",
        "worklocationtype",
        "workmodel",
    ),
    "phone": (
        "phonepersonal",
        "personalphone",
        "personalphonenumber",
        "personalmobile",
        "mobilephone",
        "phonemobile",
        "mobilephonenumber",
        "mobile",
        "cellphone",
        "phonecell",
        "homephone",
        "phonehome",
        "phoneprimaryhome",
        "primaryhomephone",
        "homephonenumber",
        "privatephone",
    ),
    "personal_email": (
        "emailhome",
        "homeemail",
        "personalemail",
        "emailpersonal",
        "emailprimaryhome",
        "primaryhomeemail",
        "personalemailaddress",
        "homeemailaddress",
        "privateemail",
    ),
    "payroll": (
        "payrollaccount",
        "payrollaccountnumber",
        "bankaccount",
        "bankaccountnumber",
        "iban",
        "paymentelectionaccountnumber",
        "directdepositaccount",
        "directdepositaccountnumber",
        "accountnumber",
    ),
    "address": (
        "homeaddress",
        "primaryhomeaddress",
        "residentialaddress",
        "address",
        "streetaddress",
        "mailingaddress",
        "fulladdress",
    ),
    "address_line1": (
        "addressline1",
        "address1",
        "street1",
        "homeaddressline1",
        "residentialaddressline1",
        "homestreet",
        "street",
    ),
    "address_line2": (
        "addressline2",
        "address2",
        "street2",
        "homeaddressline2",
        "residentialaddressline2",
    ),
    "address_city": ("city", "homecity", "residentialaddresscity", "town"),
    "address_state": (
        "state",
        "statecode",
        "province",
        "stateprovince",
        "homestate",
        "residentialaddressstate",
    ),
    "address_postal": (
        "zipcode",
        "zip",
        "postalcode",
        "postcode",
        "zippostalcode",
        "homezip",
        "residentialaddresspostcode",
        "residentialaddresspostalcode",
    ),
    "as_of": (
        "asof",
        "asofdate",
        "reportdate",
        "reportasof",
        "snapshotdate",
        "exportdate",
        "extractdate",
        "reporteffectivedate",
    ),
}

_ADDRESS_PARTS = (
    "address_line1",
    "address_line2",
    "address_city",
    "address_state",
    "address_postal",
)
_HASHED = ("phone", "personal_email", "payroll", "address", *_ADDRESS_PARTS)
# Columns whose values a quarantine record must not show: every alias of a hashed field
# and anything else private an export may carry (:mod:`.private_columns`; a test holds
# the aliases to it).

# US state and district abbreviations: "Austin, TX" is in the US (territories keep
# their own ISO codes: "San Juan, PR" is PR).
US_STATES = tuple(
    re.findall(
        "[A-Z]{2}",
        "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE "
        "NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY",
    )
)


@dataclass(frozen=True)
class Header:
    delimiter: str
    names: tuple[str, ...]
    columns: dict[str, int]  # field -> 1-based column index
    types: tuple[int, ...]  # every employment-type column, in order of preference
    private: tuple[int, ...]  # 1-based indexes of columns a quarantine record hides


def _delimiter(line: str) -> str | None:
    """The delimiter the line uses most outside quotes, or None."""
    outside = re.sub(r'"(?:[^"]|"")*"', "", line)
    counts = [(outside.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    n, _, d = max(counts)
    return d if n else None


def read_header(text: str) -> Header | None:
    """The roster header ``text`` is, or None: a delimited line naming a work e-mail
    column and an employee id or start date column."""
    text = text.lstrip("\ufeff")
    # not JSON, XML, a comment or Markdown (a README listing these very column names)
    if not text.strip() or text.lstrip()[:1] in "{[#<|*>-`":
        return None
    delimiter = _delimiter(text.split("\n", 1)[0])
    if delimiter is None:
        return None
    try:
        names = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (csv.Error, StopIteration):
        return None
    if any(len(n) > MAX_NAME for n in names):
        return None  # a sentence, not a column name
    keys = [header_key(n) for n in names]
    columns: dict[str, int] = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            if alias in keys:
                columns[field] = keys.index(alias) + 1
                break
    if "email" not in columns or not ({"employee_id", "start_date"} & columns.keys()):
        return None
    types = tuple(keys.index(a) + 1 for a in ALIASES["employment_type"] if a in keys)
    private = tuple(
        i for i, k in enumerate(keys, start=1) if is_private(k) and i != columns["email"]
    )
    return Header(delimiter, tuple(names), columns, types, private)


def sniff(head: str) -> bool:
    for line in head.lstrip("\ufeff").split("\n"):
        if line.strip():
            return read_header(line.rstrip("\r")) is not None
    return False


# -- SQL pieces ------------------------------------------------------------------------------

_WS = " \t\r\n"
_WS_SQL = _sql_str(_WS)


def _date(v: str) -> str:
    """A DATE from the text ``v`` in one of the forms the module notes list, NULL if
    none reads (or it reads outside 1900–2099: a typo, not a hire date)."""
    return _in_range(_any_date(v))


def _in_range(d: str) -> str:
    """The DATE ``d`` (a column: it is read twice) when within 1900–2099, else NULL."""
    return f"(CASE WHEN ({d}) BETWEEN DATE '1900-01-01' AND DATE '2099-12-31' THEN ({d}) END)"


def _any_date(v: str) -> str:
    """The DATE the text ``v`` reads as in one of the forms the module notes list,
    whatever its year; NULL if none reads."""
    return f"""CASE
        WHEN regexp_full_match({v}, '\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}')
            THEN try_strptime({v}, '%Y-%m-%d')::DATE
        WHEN regexp_full_match({v}, '\\d{{4}}-\\d\\d-\\d\\d[T ].+')
            THEN try_cast({v} AS TIMESTAMPTZ)::DATE
        WHEN regexp_full_match({v}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}')
            THEN try_strptime({v}, '%m/%d/%Y')::DATE
        WHEN regexp_full_match({v}, '\\d{{1,2}}/\\d{{1,2}}/\\d\\d')
            THEN try_strptime({v}, '%m/%d/%y')::DATE
        WHEN regexp_full_match({v}, '\\d{{4}}/\\d{{1,2}}/\\d{{1,2}}')
            THEN try_strptime({v}, '%Y/%m/%d')::DATE
        WHEN regexp_full_match({v}, '\\d{{1,2}}[ -][A-Za-z]{{3,9}}\\.?[ -]\\d{{4}}')
            THEN try_strptime(regexp_replace({v}, '[ .-]+', ' ', 'g'),
                              ['%d %b %Y', '%d %B %Y'])::DATE
        WHEN regexp_full_match({v}, '[A-Za-z]{{3,9}}\\.? \\d{{1,2}},? \\d{{4}}')
            THEN try_strptime(regexp_replace({v}, '[.,]', '', 'g'), ['%b %d %Y', '%B %d %Y'])::DATE
        END"""


def _as_of(v: str) -> str:
    return (
        f"coalesce(CASE WHEN regexp_full_match({v}, '\\d{{4}}-\\d\\d-\\d\\d[T ].+') "
        f"THEN try_cast({v} AS TIMESTAMPTZ) END, ({_date(v)})::TIMESTAMPTZ)"
    )


_TYPE = """CASE
    WHEN {t} IS NULL THEN NULL
    WHEN regexp_matches({t}, '\\bintern(s|ship)?\\b|\\bco-?op\\b') THEN 'intern'
    WHEN regexp_matches({t}, '\\b(vendors?|agency|supplier|outsourced?)\\b') THEN 'vendor'
    WHEN regexp_matches({t},
        '\\b(contractors?|contingent|consultants?|temp|temporary|contract|freelance|freelancer|1099)\\b')
        THEN 'contractor'
    WHEN regexp_matches({t},
        '\\b(full|part)[ -]?time\\b|\\b(regular|employees?|permanent|salaried|fixed[ -]term)\\b')
        THEN 'employee'
    WHEN {t} IN ('active', 'inactive', 'terminated', 'on leave', 'leave of absence', 'hired',
                 'accepted', 'pending', 'suspended') THEN NULL
    ELSE {t} END"""

_TRUE = (
    "('true', 'yes', 'y', '1', 'x', 'remote', 'fully remote', 'full remote', 'full-time remote')"
)
_FALSE = "('false', 'no', 'n', '0', 'on-site', 'onsite', 'on site', 'office', 'in office', 'in-office', 'hybrid')"


def _hash(norm: str) -> str:
    return f"(CASE WHEN nullif({norm}, '') IS NOT NULL THEN sha256($salt || '|' || ({norm})) END)"


def _country_key(v: str) -> str:
    """The alias-table key of a spelling: the value itself when it is an upper-case
    code, else lower case, accents folded, other runs one space (the rule of
    :func:`crownwatch.enrichment.countries.country_key`)."""
    from crownwatch.enrichment.countries import _ACCENTED, _PLAIN

    return (
        f"CASE WHEN regexp_full_match({v}, '[A-Z]{{2}}') THEN {v} "
        f"ELSE trim(regexp_replace(translate(lower({v}), '{_ACCENTED}', '{_PLAIN}'), "
        f"'[^a-z0-9]+', ' ', 'g')) END"
    )


# -- parsing ---------------------------------------------------------------------------------


def parse(reader: Reader, path: Path) -> Parsed:
    try:
        return _parse(reader, path)
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error as exc:
        # the lake prints DuckDB's message, and DuckDB's messages quote values
        raise duckdb.Error(
            f"{type(exc).__name__} while reading an HR roster (message withheld: it may "
            "quote private values)"
        ) from None


def _parse(reader: Reader, path: Path) -> Parsed:
    con = reader.con
    lines = _line_table(reader, path)
    records = _records(reader, lines)
    candidates = con.execute(
        f"""SELECT raw_offset, text FROM {records} WHERE raw_offset > 0
            ORDER BY raw_offset LIMIT {HEADER_SEARCH}"""
    ).fetchall()
    header, header_at, header_text = None, None, None
    for off, text in candidates:
        if (header := read_header(text)) is not None:
            header_at, header_text = off, text
            break
    if header is None:
        return _unreadable(reader, records, path)
    mtime = path.stat().st_mtime
    salt = hash_salt(reader.lake_root) if set(_HASHED) & header.columns.keys() else ""
    countries = _country_table(reader)
    stage = reader.name("hr_stage")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {stage} AS {_stage_sql(header, records, header_at)}",
        {"salt": salt, "mtime": mtime, "header_text": header_text.lstrip("\ufeff")},
    )
    ((n, skipped),) = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _skip) FROM {stage}"
    ).fetchall()
    rows = con.sql(_rows_sql(stage, countries))
    quarantine = con.sql(
        f"""SELECT now() AS time, '{NAME}' AS source, _reject AS reason, _record AS record,
                   {_sql_str(str(path))} AS raw_source, raw_offset, employee_id AS raw_id
            FROM {stage} WHERE _reject IS NOT NULL"""
    )
    return Parsed(records=n, routed={"workforce": rows}, quarantine=quarantine, skipped=skipped)


def _line_table(reader: Reader, path: Path) -> str:
    """The file's non-blank lines with their quote counts, by the fast reader when it
    reads the whole file, else the forgiving one."""
    con = reader.con
    table = reader.name("hr_lines")
    select = "SELECT raw_offset, text, strlen(text) - strlen(replace(text, '\"', '')) AS q FROM {}"
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select.format(reader.lines(path))}")
        if reader._reached_the_end(path, table):
            return table
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error:
        pass
    slow = reader.materialise_lines(path)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select.format(slow)}")
    return table


def _records(reader: Reader, lines: str) -> str:
    """CSV records ``(raw_offset, text, open, marker)`` from the lines: a line starts a
    record when the quotes before it are even (RFC 4180: a quote inside a quoted field
    is doubled, so only a field left open makes the count odd). A record that would
    span more than ``MAX_SPAN`` lines, or stays open to the end, means a stray quote:
    then every line is a record of its own."""
    con = reader.con
    table = reader.name("hr_records")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        WITH p AS (
            SELECT raw_offset, text, q,
                   (sum(q) OVER w - q) % 2 = 0 AS starts,
                   coalesce(raw_offset - lag(raw_offset) OVER w, 1) AS gap
            FROM {lines} WHERE raw_offset > 0
            WINDOW w AS (ORDER BY raw_offset ROWS UNBOUNDED PRECEDING)
        ), g AS (
            SELECT *, sum(starts::INTEGER) OVER (ORDER BY raw_offset ROWS UNBOUNDED PRECEDING) AS rec
            FROM p
        )
        SELECT min(raw_offset) AS raw_offset, max(raw_offset) - min(raw_offset) + 1 AS span,
               -- blank lines inside a quoted field come back as the newlines they were
               string_agg(CASE WHEN starts THEN text ELSE repeat(chr(10), gap::INTEGER) || text END,
                          '' ORDER BY raw_offset) AS text,
               sum(q) % 2 = 1 AS open, false AS marker
        FROM g GROUP BY rec"""
    )
    ((stray,),) = con.execute(
        f"SELECT count(*) FILTER (WHERE open OR span > {MAX_SPAN}) FROM {table}"
    ).fetchall()
    if stray:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT raw_offset, 1 AS span, text, q % 2 = 1 AS open, false AS marker
            FROM {lines} WHERE raw_offset > 0"""
        )
    # the forgiving reader's stand-ins for what it could not read (see Reader)
    con.execute(
        f"""INSERT INTO {table}
            SELECT raw_offset, 1, text, false, true FROM {lines} WHERE raw_offset < 0"""
    )
    con.execute(f"DROP TABLE {lines}")  # the file's text is held once, not twice
    return table


def _unreadable(reader: Reader, records: str, path: Path) -> Parsed:
    """Every record quarantined: no header was found to read them by (sniffing saw
    one, and the file changed, or a cut-off made it unreadable)."""
    con = reader.con
    ((n,),) = con.execute(f"SELECT count(*) FROM {records}").fetchall()
    q = con.sql(
        f"""SELECT now() AS time, '{NAME}' AS source,
                CASE WHEN marker THEN substr(text, 2)
                     ELSE 'no roster header (a line naming a work e-mail column and an '
                          || 'employee id or start date column) in the first {HEADER_SEARCH} records'
                     END AS reason,
                CASE WHEN NOT marker THEN '{REDACTED}' END AS record,
                {_sql_str(str(path))} AS raw_source, raw_offset, NULL AS raw_id
            FROM {records}"""
    )
    return Parsed(records=n, routed={}, quarantine=q)


def _country_table(reader: Reader) -> str:
    from crownwatch.enrichment.countries import alias_arrow

    table = reader.name("hr_countries")
    reader.con.register("_hr_country_alias", alias_arrow())
    try:
        reader.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _hr_country_alias"
        )
    finally:
        reader.con.unregister("_hr_country_alias")
    return table


def _split_sql(d: str) -> str:
    """The raw fields of ``text`` (quotes as written), in list operations: the text
    split at its quotes alternates outside / inside a quoted field (a doubled quote is
    an empty outside piece), so the delimiters of the outside pieces are the field
    breaks — swapped for a unit separator, put back together, split there. A record
    that holds a unit separator itself goes through a regular expression instead (five
    times slower)."""
    delim = _sql_str(d)
    pattern = _sql_str('(?:^|D)("(?:[^"]|"")*"|[^D]*)'.replace("D", "\\t" if d == "\t" else d))
    fast = (
        "string_split(array_to_string(list_transform(string_split(text, '\"'), lambda s, i: "
        f"CASE WHEN i % 2 = 1 THEN replace(s, {delim}, chr(31)) ELSE s END), '\"'), chr(31))"
    )
    slow = f"regexp_extract_all(text, {pattern}, 1)"
    return f"CASE WHEN contains(text, chr(31)) THEN {slow} ELSE {fast} END"


def _well_formed_sql(d: str) -> str:
    """Whether ``text`` is a well-formed record: every field plain (no quote, no
    delimiter) or quoted whole, its own quotes doubled, spaces around it allowed
    (``"Quote"After`` is not). One match without captures: RE2 runs it as a DFA."""
    sep = "\\t" if d == "\t" else d
    pad = "[ ]*" if d == "\t" else "[ \\t]*"
    field = f'{pad}(?:"(?:[^"]|"")*"|[^"{sep}]*){pad}'
    return f"regexp_full_match(text, {_sql_str(f'{field}(?:{sep}{field})*')})"


def _stage_sql(h: Header, records: str, header_at: int) -> str:
    d = h.delimiter
    m = len(h.names)

    # each field the row needs, once, by name (c_<field>); types: t1, t2…
    # Only the columns a row needs are unquoted, one scalar expression each (a lambda
    # over every field of every row cost more than the rest of the stage together).
    wanted = [f for f in ALIASES if f != "employment_type"]
    used = sorted({h.columns[f] for f in wanted if f in h.columns} | set(h.types))
    trimmed = (
        ",\n            ".join(f"{trim_short(f'raw_f[{i}]', _WS)} AS x{i}" for i in used)
        or "NULL AS x0"
    )
    # x<i> is trimmed already: only a quoted value's inside is trimmed again
    unquoted = {
        i: f"""nullif(CASE WHEN starts_with(x{i}, '"') THEN
                trim(replace({inner(f"x{i}")}, '""', '"'), {_WS_SQL}) ELSE x{i} END, '')"""
        for i in used
    }
    picks = ",\n            ".join(
        f"{unquoted[h.columns[f]] if f in h.columns else 'NULL::VARCHAR'} AS c_{f}" for f in wanted
    )
    picks += "".join(f", lower({unquoted[i]}) AS t{n}" for n, i in enumerate(h.types))
    kinds = [_TYPE.format(t=f"t{n}") for n in range(len(h.types))]
    kind = f"coalesce({', '.join(kinds)})" if kinds else "NULL::VARCHAR"
    name = "coalesce(c_name, nullif(concat_ws(' ', c_first_name, c_last_name), ''))"
    phone = (
        "CASE WHEN regexp_matches(c_phone, '[0-9]') THEN "
        "CASE WHEN starts_with(c_phone, '+') THEN '+' ELSE '' END "
        "|| regexp_replace(c_phone, '[^0-9]', '', 'g') END"
    )
    parts = ", ".join(f"c_{p}" for p in _ADDRESS_PARTS)
    address = f"coalesce(c_address, nullif(concat_ws(' ', {parts}), ''))"
    address = f"trim(regexp_replace(lower({address}), '[\\s[:punct:]]+', ' ', 'g'))"
    payroll = "upper(regexp_replace(c_payroll, '[^A-Za-z0-9]', '', 'g'))"
    # the location's parts: "Austin, TX, US", "Remote - US", "Remote (Canada)"
    loc_parts = (
        "list_filter(string_split_regex(c_location, '\\s*(?:,|\\s[-–]\\s|[()/])\\s*'), "
        "lambda x: x <> '')"
    )
    states = "[" + ", ".join(f"'{s}'" for s in US_STATES) + "]"
    loc_country = f"""CASE
        WHEN len(lp) = 2 AND list_contains({states}, lp[2]) AND lower(lp[1]) <> 'remote' THEN 'US'
        WHEN len(lp) >= 1 THEN lp[-1] END"""
    remote = "lower(c_remote)"
    private = "[" + ", ".join(str(i) for i in h.private) + "]"
    record = f"""CASE
        WHEN raw_f IS NULL THEN {"'" + REDACTED + "'" if h.private else f"left(text, {RECORD_LIMIT})"}
        ELSE left(array_to_string(list_transform(raw_f, lambda x, i:
            CASE WHEN NOT aligned OR list_contains({private}, i) THEN '{REDACTED}' ELSE x END),
            {_sql_str(d)}), {RECORD_LIMIT}) END"""
    return f"""
    WITH r AS (
        SELECT raw_offset, text, open, marker,
               CASE WHEN marker OR open OR raw_offset <= {header_at} THEN NULL
                    -- a record with no quote is well-formed, its fields its delimiters' pieces
                    WHEN NOT contains(text, '"') THEN string_split(text, {_sql_str(d)})
                    WHEN {_well_formed_sql(d)} THEN {_split_sql(d)} END AS raw_f
        FROM {records} WHERE raw_offset <> {header_at}
    ), s AS (
        SELECT raw_offset, text, open, marker, raw_f,
            {trimmed}
        FROM r
    ), u AS (
        SELECT raw_offset, text, open, marker, raw_f,
            -- a row of another width is misaligned in a way nothing tells: any of its
            -- values may be a private one, and none is kept (trailing empty fields, as
            -- some spreadsheets add them, do not count)
            len(raw_f) = {m} OR (len(raw_f) > {m} AND len(list_filter(raw_f[{m + 1}:],
                lambda x: trim(x, {_WS_SQL}) NOT IN ('', '""'))) = 0) AS aligned,
            {picks}
        FROM s
    ), w AS (
        SELECT raw_offset, text, open, marker, raw_f, aligned,
            c_employee_id AS employee_id,
            lower(c_email) AS email,
            {name} AS display_name,
            -- each date read once, its range checked in the next step
            c_start_date AS start_raw, {_any_date("c_start_date")} AS start_any,
            c_end_date AS end_raw, {_any_date("c_end_date")} AS end_any,
            {kind} AS employment_type,
            c_firm AS firm, c_department AS department, c_manager AS manager_raw,
            c_location AS location, c_country AS country_raw, {loc_parts} AS lp,
            c_timezone AS timezone,
            coalesce(CASE WHEN {remote} IN {_TRUE} THEN true WHEN {remote} IN {_FALSE} THEN false END,
                     regexp_matches(lower(c_location), '\\bremote\\b')) AS remote,
            {_hash(phone)} AS phone_hash,
            {_hash("lower(c_personal_email)")} AS personal_email_hash,
            {_hash(payroll)} AS payroll_hash,
            {_hash(address)} AS address_hash,
            nullif(concat_ws(', ', c_address_city, c_address_state), '') AS home_split,
            list_filter(list_transform(string_split(c_address, chr(10)), lambda x: trim(x)),
                        lambda x: x <> '') AS home_lines,
            coalesce({_as_of("c_as_of")}, to_timestamp($mtime)) AS time
        FROM u
    )
    SELECT raw_offset, employee_id, email, display_name, start_date, end_date,
        employment_type, firm, department, manager_raw, location, country_raw,
        {loc_country} AS location_country, timezone, remote,
        phone_hash, personal_email_hash, payroll_hash, address_hash, time,
        home_split, home_lines,
        NOT marker AND raw_offset > {header_at} AND text = $header_text AS _skip,
        CASE
            WHEN marker THEN substr(text, 2)
            WHEN raw_offset < {header_at} THEN 'before the roster header'
            WHEN text = $header_text THEN NULL
            WHEN open THEN 'a quoted field is never closed'
            WHEN raw_f IS NULL THEN 'malformed quoting (text after a closing quote)'
            WHEN NOT aligned THEN len(raw_f) || ' fields where the header names {m}'
            WHEN email IS NULL THEN 'no work e-mail'
            WHEN NOT regexp_full_match(email, '[^@\\s]+@[^@\\s]+')
                THEN 'the work e-mail is not an e-mail address'
            WHEN start_raw IS NOT NULL AND start_date IS NULL THEN 'unparseable start date'
            WHEN end_raw IS NOT NULL AND end_date IS NULL THEN 'unparseable end date'
        END AS _reject,
        CASE WHEN marker THEN NULL WHEN raw_offset < {header_at} THEN '{REDACTED}'
             ELSE {record} END AS _record
    FROM (SELECT *, {_in_range("start_any")} AS start_date, {_in_range("end_any")} AS end_date
          FROM w)"""


def _city(address: str) -> str:
    """The city and region of ``address`` in clear: postal codes, house and flat
    numbers (every word holding a digit) and unit words taken out, ``Austin, TX 78751``
    → ``Austin, TX``, ``London SE1 4YH`` → ``London``, ``0155 Oslo`` → ``Oslo``."""
    x = (
        f"regexp_replace({address}, "
        "'(?i)\\b(apt|apartment|suite|ste|unit|floor|room)\\b\\.?|#?\\S*[0-9]\\S*', '', 'g')"
    )
    x = f"regexp_replace(regexp_replace({x}, '\\s+', ' ', 'g'), '\\s*,[\\s,]*', ', ', 'g')"
    return f"nullif(trim({x}, ' ,'), '')"


def _rows_sql(stage: str, countries: str) -> str:
    user = identity_key("email")
    # where the home address names its city: the split City / State columns; else the
    # formatted address's last line (the one before, when the last names a country:
    # "…\nAustin, TX 78751\nUnited States of America"); else, on one line, what follows
    # the street ("12 Elm St, Austin, TX 78701")
    home = """coalesce(g.home_split, CASE
        WHEN len(g.home_lines) >= 3 AND hc._cc_code IS NOT NULL THEN g.home_lines[-2]
        WHEN len(g.home_lines) >= 2 THEN g.home_lines[-1]
        WHEN contains(g.home_lines[1], ',')
            THEN substr(g.home_lines[1], strpos(g.home_lines[1], ',') + 1) END)"""
    return f"""
    WITH g AS (SELECT *, {user} AS "user" FROM {stage} WHERE _reject IS NULL AND NOT _skip),
    ids AS (
        SELECT employee_id AS k, min("user") AS u FROM g WHERE employee_id IS NOT NULL
        GROUP BY 1 HAVING count(DISTINCT "user") = 1
    ), names AS (
        SELECT lower(display_name) AS k, min("user") AS u FROM g WHERE display_name IS NOT NULL
        GROUP BY 1 HAVING count(DISTINCT "user") = 1
    ), spelled AS (
        -- each spelling's alias key once: a roster has a few dozen spellings of its
        -- countries, and the key's regexes per row and column were three quarters
        -- of this statement (3.9 of 5.2 s at a million rows)
        SELECT v, {_country_key("v")} AS k FROM (
            SELECT country_raw AS v FROM g UNION SELECT location_country FROM g
            UNION SELECT home_lines[-1] FROM g
        ) WHERE v IS NOT NULL
    )
    SELECT g.time, '{NAME}' AS source, g.employee_id, g."user", g.email, g.display_name,
        g.start_date, g.end_date, g.employment_type, g.firm, g.department,
        CASE WHEN contains(g.manager_raw, '@') OR contains(g.manager_raw, '\\')
             THEN {identity_key("g.manager_raw")}
             ELSE coalesce(ids.u, names.u) END AS manager,
        g.location, coalesce(cc._cc_code, lc._cc_code) AS country, g.timezone, g.remote,
        g.phone_hash, g.personal_email_hash, g.payroll_hash, g.address_hash,
        {_city(home)} AS home_city,
        g.raw_offset, g.employee_id AS raw_id
    FROM g
    LEFT JOIN ids ON g.manager_raw = ids.k
    LEFT JOIN names ON lower(g.manager_raw) = names.k
    LEFT JOIN spelled cs ON cs.v = g.country_raw
    LEFT JOIN {countries} cc ON cc._cc_key = cs.k
    LEFT JOIN spelled ls ON ls.v = g.location_country
    LEFT JOIN {countries} lc ON lc._cc_key = ls.k
    LEFT JOIN spelled hs ON hs.v = g.home_lines[-1]
    LEFT JOIN {countries} hc ON hc._cc_key = hs.k"""
