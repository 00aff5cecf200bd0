"""HR roster exports (the hr_roster source), on the real engine.

One lake ingests every fixture (``tests/fixtures/hr/README.md`` says where each layout
comes from), the test-data writer's three layouts, a gzip and a tab-separated copy and
a file with a stray quote, once for the module; the tests read it back column by
column. Hashes are checked against the rule itself, ``sha256(salt || '|' || value)``
under the salt the lake made for itself."""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from crownwatch import lake_secret
from crownwatch.lake import Lake
from crownwatch.sources import hr_roster, sniff
from crownwatch.testing.hr import employee, roster_csv
from tests.conftest import FIXTURES

HR = FIXTURES / "hr"
MTIME = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # what the export files are dated
AS_OF = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)  # the semicolon export's as_of column
WRITER_AS_OF = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def _staff() -> list[dict]:
    lead = employee(
        "7001",
        "dana.vee@northwind-ai.com",
        date(2020, 5, 4),
        phone="+1 (415) 555-0100",
        address="9 Pine St, San Francisco, CA 94104",
        location="San Francisco, CA",
        timezone="America/Los_Angeles",
    )
    farm = [
        employee(
            f"70{i}",
            f"{n}@northwind-ai.com",
            date(2026, 2, 16),
            kind=kind,
            firm=firm,
            remote=True,
            phone="+1 (904) 555-0177",
            personal_email="Hire.Box@mail.example",
            payroll="0099 1234 5678",
            address="3 Oak Ln, Jacksonville, FL 32202",
            manager="dana.vee@northwind-ai.com",
            timezone="America/New_York",
        )
        for i, n, kind, firm in (
            (10, "sam.reyes", "Full-Time", None),
            (11, "li.chen", "Contractor", "Apex Talent"),
            (12, "ravi.nair", "Intern", None),
            (13, "vera.stone", "Vendor", "Apex Talent"),
        )
    ]
    gone = employee(
        "7020",
        "old.timer@northwind-ai.com",
        date(2015, 1, 5),
        end=date(2025, 12, 19),
        kind="Part-Time",
        manager="cfo@northwind-ai.com",
        department=None,
    )
    return [lead, *farm, gone]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    saved = os.environ.pop(lake_secret.SALT_ENV, None)
    try:
        d = tmp_path_factory.mktemp("hr")
        files = {}
        for src in sorted(HR.glob("*.csv")):
            files[src.name] = d / src.name
            files[src.name].write_bytes(src.read_bytes())
        gz = d / "workday_workers.csv.gz"
        gz.write_bytes(gzip.compress((HR / "workday_workers.csv").read_bytes()))
        files["gz"] = gz
        for layout in ("workday", "bamboohr", "generic"):
            p = d / f"writer_{layout}.csv"
            p.write_text(roster_csv(_staff(), as_of=WRITER_AS_OF, layout=layout), newline="")
            files[layout] = p
        tab = d / "writer_tab.tsv"
        tab.write_text(
            roster_csv(_staff()[:2], layout="generic").replace(",", "\t").replace("\t ", ", ")
        )
        files["tab"] = tab
        stray = d / "stray_quote.csv"
        stray.write_text(
            "employee_id,work_email,start_date,personal_phone\n"
            "1,a.one@northwind-ai.com,2025-01-06,+1 555 010 7001\n"
            '2,b.two@northwind-ai.com,"2025-01-06,+1 555 010 7002\n'  # the quote never closes
            "3,c.three@northwind-ai.com,2025-01-06,+1 555 010 7003\n"
            "4,d.four@northwind-ai.com,2025-01-06,+1 555 010 7004\n"
        )
        files["stray"] = stray
        # another export's row under this header: shorter, its phone where Workday's
        # "Worker Type" is; then a row with two empty fields too many (kept)
        header, first = (HR / "workday_workers.csv").read_text().splitlines()[:2]
        short = d / "short_row.csv"
        short.write_text(
            f"{header}\n"
            '900,Good One,good.one@northwind-ai.com,2025-01-06,Employee,"Austin, TX",'
            '+1 555 010 9011,"1 Main St"\n'
            "21001,Logan McNeil,logan.mcneil@northwind-ai.com,01/09/2019,,Employee,Regular,,,"
            "Engineering,,Austin,United States of America,America/Chicago,,,,,,\n"
        )
        files["short"] = short
        for p in files.values():
            os.utime(p, (MTIME.timestamp(), MTIME.timestamp()))
        lake = Lake(d / "lake")
        results = {Path(r.path).name: r for r in lake.ingest(list(files.values()))}
        salt = lake_secret.salt_path(lake.root).read_text().strip()
        yield lake, files, results, salt
    finally:
        if saved is not None:
            os.environ[lake_secret.SALT_ENV] = saved


def rows(lake: Lake, path: Path) -> dict[int, dict]:
    got = duckdb.sql(
        f"SELECT * FROM {lake.table_sql('workforce')} WHERE raw_source = $p",
        params={"p": str(path)},
    )
    return {r["raw_offset"]: r for r in got.to_arrow_table().to_pylist()}


def quarantined(lake: Lake, path: Path) -> dict[int, tuple[str, str]]:
    got = duckdb.sql(
        f"SELECT raw_offset, reason, record FROM {lake.table_sql('quarantine')} "
        "WHERE raw_source = $p",
        params={"p": str(path)},
    ).fetchall()
    return {off: (reason, record) for off, reason, record in got}


def h(salt: str, value: str) -> str:
    return hashlib.sha256(f"{salt}|{value}".encode()).hexdigest()


COLUMNS = (
    "employee_id",
    "user",
    "email",
    "display_name",
    "start_date",
    "end_date",
    "employment_type",
    "firm",
    "department",
    "manager",
    "location",
    "country",
    "timezone",
    "remote",
)
HASHES = ("phone_hash", "personal_email_hash", "payroll_hash", "address_hash")


def _check(got: dict, want: dict, salt: str, time: datetime, raw_source: Path) -> None:
    """Every column of ``got`` (row by start line) against ``want``: the plain columns,
    the hashes of the normalised values (None: no hash), time and provenance."""
    assert sorted(got) == sorted(want)
    for line, (plain, hashed) in want.items():
        r = got[line]
        assert tuple(r[c] for c in COLUMNS) == plain, line
        assert tuple(r[c] for c in HASHES) == tuple(
            None if v is None else h(salt, v) for v in hashed
        ), line
        assert (r["time"], r["source"], r["raw_source"], r["raw_id"]) == (
            time,
            "hr_roster",
            str(raw_source),
            plain[0],
        ), line


# -- sniffing ---------------------------------------------------------------------------------


def test_sniffed_from_content_and_steals_nothing(tmp_path):
    for p in HR.glob("*.csv"):
        assert sniff(p) is hr_roster, p
    for layout in ("workday", "bamboohr", "generic"):
        p = tmp_path / layout
        p.write_text(roster_csv(_staff(), layout=layout))
        assert sniff(p) is hr_roster, layout
    others = [
        p
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.parent.name != "hr" and p.suffix not in (".md", ".py")
    ]
    assert others
    for p in others:
        assert sniff(p) is not hr_roster, p
    not_rosters = {
        # a device inventory: an e-mail column, but no employee id or start date
        "jamf.csv": "Computer Name,Serial Number,Email Address,Last Check-in\nmbp-1,C02X,a@b.c,2026-03-01\n",
        # an employee id and a hire date, but no e-mail column at all
        "payroll.csv": "Employee ID,Hire Date,Salary\n1,2024-01-01,100\n",
        "words.txt": "email employee_id start_date\n",  # no delimiter: not a CSV header
        "json.jsonl": '{"work_email": "a@b.c", "employee_id": 1}\n',
        # prose and Markdown that name the columns (this directory's README does)
        "notes.md": "| layout | `Employee #`, `Work Email`, `Hire Date` |\n",
        "prose.txt": "A roster has a Work Email, an Employee ID, a Hire Date and more: "
        "all of them named in its header, which the source reads, Work Email first.\n",
    }
    assert sniff(HR / "README.md") is not hr_roster
    for name, text in not_rosters.items():
        (tmp_path / name).write_text(text)
        assert sniff(tmp_path / name) is not hr_roster, name
    assert hr_roster.sniff("\ufeffEmployee_ID;Email_-_Work;Hire_Date\r\n")  # RaaS XML aliases
    assert hr_roster.sniff("\n\nwork_email\temployee_id\n")


def test_header_names_compare_without_case_or_punctuation():
    keys = [hr_roster.header_key(n) for n in ("Employee #", "Email - Work", "Email_-_Work")]
    assert keys == ["employeenumber", "emailwork", "emailwork"]
    h = hr_roster.read_header('"Employee #";"WORK E-MAIL";"Start Date";"Mobile Phone";Notes')
    assert h.delimiter == ";"
    assert (h.columns["employee_id"], h.columns["email"], h.columns["start_date"]) == (1, 2, 3)
    assert h.private == (4,)


# -- counts and provenance --------------------------------------------------------------------


def test_read_is_rows_plus_skipped_plus_quarantined(ingested):
    _, _, results, _ = ingested
    counts = {
        name: (r.status, r.source, r.read, r.routed_rows, r.skipped, r.quarantined)
        for name, r in results.items()
    }
    assert counts == {
        "workday_workers.csv": ("ingested", "hr_roster", 6, 6, 0, 0),
        "workday_workers.csv.gz": ("ingested", "hr_roster", 6, 6, 0, 0),
        "bamboohr_report.csv": ("ingested", "hr_roster", 5, 5, 0, 0),
        "generic_semicolon.csv": ("ingested", "hr_roster", 5, 5, 0, 0),
        # 9 records: the repeated header is skipped, 5 rows are quarantined
        "malformed.csv": ("ingested", "hr_roster", 9, 3, 1, 5),
        "writer_workday.csv": ("ingested", "hr_roster", 6, 6, 0, 0),
        "writer_bamboohr.csv": ("ingested", "hr_roster", 6, 6, 0, 0),
        "writer_generic.csv": ("ingested", "hr_roster", 6, 6, 0, 0),
        "writer_tab.tsv": ("ingested", "hr_roster", 2, 2, 0, 0),
        # the stray quote: read line by line, only its own line is lost
        "stray_quote.csv": ("ingested", "hr_roster", 4, 3, 0, 1),
        "short_row.csv": ("ingested", "hr_roster", 2, 1, 0, 1),
    }
    for r in results.values():
        assert r.note is None, r


def test_quarantine_keeps_reason_and_line_with_private_fields_redacted(ingested):
    lake, files, _, _ = ingested
    assert quarantined(lake, files["malformed.csv"]) == {
        3: (
            "no work e-mail",
            '901,No Mail,,2025-01-06,Employee,"Austin, TX",<redacted>,<redacted>',
        ),
        5: (
            "unparseable start date",
            "902,Bad Start,bad.start@northwind-ai.com,2025-13-45,Employee,"
            '"Austin, TX",<redacted>,<redacted>',
        ),
        # the unquoted comma shifted the phone one column right: no field can be
        # trusted to be what its column says, so none is shown
        6: ("9 fields where the header names 8", ",".join(["<redacted>"] * 9)),
        11: ("malformed quoting (text after a closing quote)", "<redacted>"),
        14: (
            "the work e-mail is not an e-mail address",
            "907,Not Mail,not-an-address,2025-01-06,Employee,x,<redacted>,<redacted>",
        ),
    }
    assert quarantined(lake, files["short"]) == {
        2: ("8 fields where the header names 18", ",".join(["<redacted>"] * 8))
    }
    assert [r["employee_id"] for r in rows(lake, files["short"]).values()] == ["21001"]
    assert quarantined(lake, files["stray"]) == {
        3: ("a quoted field is never closed", "<redacted>")
    }


def test_line_numbers_count_the_lines_inside_quoted_fields(ingested):
    lake, files, _, _ = ingested
    # the Workday addresses span 2-3 lines; the BOM and CRLF line ends change nothing
    assert sorted(rows(lake, files["workday_workers.csv"])) == [2, 4, 7, 10, 11, 12]
    assert sorted(rows(lake, files["gz"])) == [2, 4, 7, 10, 11, 12]
    got = rows(lake, files["malformed.csv"])
    assert sorted(got) == [2, 7, 13]  # 7-10 is one record, blank line 9 inside it
    assert got[7]["display_name"] == "Multi\nLine"
    assert sorted(rows(lake, files["stray"])) == [2, 4, 5]


# -- every column, per layout ------------------------------------------------------------------

WORKDAY = {
    2: (
        (
            "21001",
            "logan.mcneil",
            "logan.mcneil@northwind-ai.com",
            "Logan McNeil",
            date(2019, 1, 9),
            None,
            "employee",
            None,
            "Engineering (Logan McNeil)",
            None,
            "Austin, TX",
            "US",
            "America/Chicago",
            False,
        ),
        (
            "+15125550147",
            "logan.mcneil@gmail.example",
            "004417902231",
            "4100 speedway austin tx 78751",
        ),
    ),
    4: (
        (
            "21007",
            "priya.raman",
            "priya.raman@northwind-ai.com",
            "Priya Raman",
            date(2026, 3, 2),
            None,
            "employee",
            None,
            "Engineering (Logan McNeil)",
            "logan.mcneil",  # "Logan McNeil", by name from his own row
            "Remote - US",
            "US",
            "America/New_York",
            True,
        ),
        (
            "+15125550199",
            "p.raman.dev@mail.example",
            "881200045613",
            "77 harbor rd apt 4 norfolk va 23510",
        ),
    ),
    7: (
        (
            "21008",
            "jon.park",
            "jon.park@northwind-ai.com",
            "Jon Park",
            date(2026, 3, 2),
            None,
            "employee",
            None,
            "Engineering (Logan McNeil)",
            "logan.mcneil",
            "Remote - US",
            "US",
            "America/Los_Angeles",
            True,
        ),
        # written differently, the same phone, e-mail, account and address as Priya's
        (
            "+15125550199",
            "p.raman.dev@mail.example",
            "881200045613",
            "77 harbor rd apt 4 norfolk va 23510",
        ),
    ),
    10: (
        (
            "21012",
            "mara.quint",
            "mara.quint@northwind-ai.com",
            "Mara Quint",
            date(2025, 6, 16),
            None,
            "intern",  # Worker Type "Employee", Employee Type "Intern"
            None,
            "Research (Ana Ruiz)",
            "ana.ruiz",
            "Seattle, WA",
            "US",
            "America/Los_Angeles",
            False,
        ),
        ("2065550110", None, None, None),  # no leading +: digits only
    ),
    11: (
        (
            "21015",
            "ana.ruiz",
            "ana.ruiz@northwind-ai.com",
            "Ana Ruiz",
            date(2021, 11, 4),
            date(2026, 2, 27),
            "employee",
            None,
            "Research (Ana Ruiz)",
            "logan.mcneil",
            "London, UK",
            "GB",
            "Europe/London",
            False,
        ),
        (
            "+442079460321",
            "ana.ruiz@proton.example",
            "GB29NWBK60161331926819",
            "14 cole street london se1 4yh",
        ),
    ),
    12: (
        (
            "C-3020",
            "t.wolski",
            "t.wolski@northwind-ai.com",
            "Tomasz Wolski",
            date(2026, 1, 12),
            date(2026, 12, 31),
            "contractor",
            "Vistula Code Sp. z o.o.",
            "Engineering (Logan McNeil)",
            "logan.mcneil",
            "Remote - Poland",
            "PL",
            "Europe/Warsaw",
            True,
        ),
        ("+48601555014", None, None, None),
    ),
}

BAMBOO = {
    2: (
        (
            "104",
            "grace.hopper",
            "grace.hopper@northwind-ai.com",
            "Grace Hopper",  # First Name + Last Name
            date(2022, 8, 15),
            None,
            "employee",
            None,
            "Platform",
            None,
            "Denver, Colorado",
            "US",  # from the Country column
            None,
            False,
        ),
        ("7205550101", "grace.h@home.example", None, "1200 larimer st unit 5 denver co 80204"),
    ),
    3: (
        (
            "117",
            "kenji.w",
            "kenji.w@northwind-ai.com",
            "Kenji Watanabe",
            date(2025, 11, 3),
            None,
            "employee",  # Part-Time
            None,
            "Platform",
            "grace.hopper",
            "Remote",
            "JP",
            None,
            True,
        ),
        ("+819055550123", None, None, None),
    ),
    4: (
        (
            "118",
            "lina.haddad",
            "lina.haddad@northwind-ai.com",
            "Lina Haddad",
            date(2026, 2, 16),
            None,
            "contractor",
            None,
            "Platform",
            "grace.hopper",
            "Remote - US",
            "US",
            None,
            True,
        ),
        # Grace's phone and address ("St." and "St" alike)
        ("7205550101", None, None, "1200 larimer st unit 5 denver co 80204"),
    ),
    5: (
        (
            "121",
            "omar.farouk",
            "omar.farouk@northwind-ai.com",
            "Omar Farouk",
            date(2024, 4, 1),
            date(2026, 1, 31),
            "employee",
            None,
            "Sales",
            "grace.hopper",
            "Boston, MA",
            "US",
            None,
            False,
        ),
        ("+16175550142", "omar.f@mail.example", None, None),
    ),
    6: (
        (
            "130",
            "rhea.castell",
            "rhea.castell@northwind-ai.com",
            "Rhea Castell",
            date(2026, 1, 20),
            None,
            "vendor",
            None,
            "Platform",
            "grace.hopper",
            "Toronto, ON",
            "CA",
            None,
            False,
        ),
        ("+15125550199", None, None, None),  # Priya's phone, in another export
    ),
}

GENERIC = {
    2: (
        (
            "E-501",
            "sven.olsen",
            "sven.olsen@northwind-ai.com",
            "Sven Olsen",
            date(2023, 9, 1),
            None,
            "employee",
            None,
            "Data",
            None,
            "Oslo, Norway",
            "NO",
            "Europe/Oslo",
            False,
        ),
        ("+4791234567", "sven@olsen.example", "NO9386011117947", "storgata 1 0155 oslo"),
    ),
    3: (
        (
            "E-502",
            "ines.duarte",
            "ines.duarte@northwind-ai.com",
            "Ines Duarte",
            date(2024, 3, 5),  # "5 Mar 2024"
            None,
            "contractor",  # Consultant
            "Ribeira Labs Lda",
            "Data",
            "sven.olsen",
            "Remote - Portugal",
            "PT",  # no country column value: from the location
            "Europe/Lisbon",
            True,
        ),
        (None, None, None, None),
    ),
    4: (
        (
            "E-503",
            "kofi.mensah",
            "kofi.mensah@northwind-ai.com",
            "Kofi Mensah",
            date(2026, 2, 17),  # "02/17/2026"
            None,
            "contractor",  # Temp
            None,
            "Data",
            "sven.olsen",
            "Accra, Ghana",
            "GH",
            "Africa/Accra",
            True,
        ),
        (None, None, None, None),
    ),
    5: (
        (
            "E-504",
            "yuki.sato",
            "yuki.sato@northwind-ai.com",
            "Yuki Sato",
            date(2026, 1, 5),
            date(2026, 6, 30),  # "30 Jun 2026"
            "vendor",  # Agency
            "Blue Harbor Staffing",
            "Support",
            "sven.olsen",  # SVEN.OLSEN@…
            "Tokyo, Japan",
            "JP",
            "Asia/Tokyo",
            False,  # hybrid
        ),
        (None, None, "DE89370400440532013000", None),
    ),
    6: (
        (
            "E-505",
            "bea.lima",
            "bea.lima@northwind-ai.com",
            'Beatriz "Bea" Lima',
            date(2026, 2, 2),
            None,
            "seasonal",  # no category of its own: as written, lower case
            None,
            "Support",
            "yuki.sato",
            "São Paulo; Brazil",
            "BR",
            "America/Sao_Paulo",
            False,
        ),
        ("+5511955550134", None, "DE89370400440532013000", None),  # Yuki's IBAN, unspaced
    ),
}


def test_workday_custom_report_every_column(ingested):
    lake, files, _, salt = ingested
    _check(
        rows(lake, files["workday_workers.csv"]), WORKDAY, salt, MTIME, files["workday_workers.csv"]
    )
    _check(rows(lake, files["gz"]), WORKDAY, salt, MTIME, files["gz"])


def test_bamboohr_report_every_column(ingested):
    lake, files, _, salt = ingested
    _check(
        rows(lake, files["bamboohr_report.csv"]), BAMBOO, salt, MTIME, files["bamboohr_report.csv"]
    )


def test_generic_semicolon_export_every_column(ingested):
    lake, files, _, salt = ingested
    p = files["generic_semicolon.csv"]
    _check(rows(lake, p), GENERIC, salt, AS_OF, p)  # time from its as_of column


def test_home_city_in_clear_from_split_or_formatted_addresses(ingested):
    lake, files, _, _ = ingested
    home = {
        name: {r["employee_id"]: r["home_city"] for r in rows(lake, files[name]).values()}
        for name in ("workday_workers.csv", "bamboohr_report.csv", "generic_semicolon.csv")
    }
    assert home == {
        "workday_workers.csv": {
            "21001": "Austin, TX",  # the formatted address's last line, ZIP taken out
            "21007": "Norfolk, VA",
            "21008": "Norfolk, VA",
            "21012": None,
            "21015": "London",  # one line: what follows the street, postcode out
            "C-3020": None,
        },
        "bamboohr_report.csv": {  # City and State
            "104": "Denver, CO",
            "117": None,
            "118": "Denver, CO",
            "121": None,
            "130": None,
        },
        "generic_semicolon.csv": {
            "E-501": "Oslo",
            "E-502": None,
            "E-503": None,
            "E-504": None,
            "E-505": None,
        },
    }
    # the same city from each writer layout
    for layout in ("workday", "bamboohr", "generic"):
        got = {r["employee_id"]: r["home_city"] for r in rows(lake, files[layout]).values()}
        assert got["7001"] == "San Francisco, CA" and got["7010"] == "Jacksonville, FL", layout
        assert got["7020"] is None


def test_malformed_file_keeps_its_good_rows(ingested):
    lake, files, _, salt = ingested
    got = rows(lake, files["malformed.csv"])
    assert {
        k: (r["employee_id"], r["start_date"], r["employment_type"], r["remote"])
        for k, r in got.items()
    } == {
        2: ("900", date(2025, 1, 6), "employee", False),
        7: ("904", date(2025, 2, 3), "employee", False),
        13: ("906", date(2025, 3, 3), "contractor", True),  # "Mar 3, 2025", Remote - US
    }
    # the blank line inside the quoted address is part of the value
    assert got[7]["address_hash"] == h(salt, "5 main st suite 2")


# -- the test-data writer ------------------------------------------------------------------------


def test_writer_layouts_read_back_the_same(ingested):
    lake, files, _, salt = ingested
    by_layout = {}
    for layout in ("workday", "bamboohr", "generic"):
        got = rows(lake, files[layout])
        by_layout[layout] = {
            r["employee_id"]: tuple(r[c] for c in (*COLUMNS[1:], *HASHES)) for r in got.values()
        }
        assert {r["time"] for r in got.values()} == {WRITER_AS_OF}
    # the same people in three layouts: the same rows, except what a layout cannot say
    # (Workday and BambooHR write a remote worker's location as "Remote - <country>")
    generic = by_layout["generic"]
    for layout in ("workday", "bamboohr"):
        for eid, row in by_layout[layout].items():
            want = list(generic[eid])
            if want[COLUMNS.index("remote") - 1]:
                want[COLUMNS.index("location") - 1] = "Remote - US"
            if eid == "7020":  # a manager named, not in the roster: unresolved
                want[COLUMNS.index("manager") - 1] = None
            assert list(row) == want, (layout, eid)
    farm = {eid: generic[eid] for eid in ("7010", "7011", "7012", "7013")}
    kinds = {eid: r[COLUMNS.index("employment_type") - 1] for eid, r in farm.items()}
    assert kinds == {"7010": "employee", "7011": "contractor", "7012": "intern", "7013": "vendor"}
    for r in farm.values():
        assert r[COLUMNS.index("manager") - 1] == "dana.vee"
        assert r[-4:] == (
            h(salt, "+19045550177"),
            h(salt, "hire.box@mail.example"),
            h(salt, "009912345678"),
            h(salt, "3 oak ln jacksonville fl 32202"),
        )
    assert generic["7020"][COLUMNS.index("end_date") - 1] == date(2025, 12, 19)
    assert generic["7020"][COLUMNS.index("manager") - 1] == "cfo"  # an e-mail: its key
    # Workday and BambooHR name managers; one outside the roster cannot be resolved
    assert by_layout["workday"]["7020"][COLUMNS.index("manager") - 1] is None
    tab = rows(lake, files["tab"])
    assert [r["employee_id"] for r in sorted(tab.values(), key=lambda r: r["raw_offset"])] == [
        "7001",
        "7010",
    ]
    assert tab[2]["location"] == "San Francisco, CA"


def test_writer_rejects_an_unknown_layout():
    with pytest.raises(ValueError, match="layout"):
        roster_csv([], layout="sap")


# -- hashing and privacy ------------------------------------------------------------------------


def test_the_salt_is_the_lakes_own_secret(ingested, tmp_path, monkeypatch):
    lake, files, _, salt = ingested
    path = lake_secret.salt_path(lake.root)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(salt) == 64 and lake_secret.hash_salt(lake.root) == salt  # made once
    # another salt, another hash for the same phone
    monkeypatch.setenv(lake_secret.SALT_ENV, "another lake's salt")
    other = Lake(tmp_path / "other")
    other.ingest([files["bamboohr_report.csv"]])
    assert not lake_secret.salt_path(other.root).exists()  # the variable wins
    mine = rows(lake, files["bamboohr_report.csv"])[2]["phone_hash"]
    theirs = rows(other, files["bamboohr_report.csv"])[2]["phone_hash"]
    assert theirs == h("another lake's salt", "7205550101") != mine
    monkeypatch.delenv(lake_secret.SALT_ENV)
    with pytest.raises(lake_secret.SaltError):
        lake_secret.hash_salt(None)  # outside a lake, only the variable can give one
    bad = tmp_path / "bad"
    lake_secret.salt_path(bad).parent.mkdir(parents=True)
    lake_secret.salt_path(bad).write_text("")
    with pytest.raises(lake_secret.SaltError, match="not a hash salt"):
        lake_secret.hash_salt(bad)


PLANTED = (
    # the malformed file's phones, in rows that became rows and rows quarantined
    "555 010 9001",
    "555 010 9002",
    "555 010 9004",
    "555 010 9006",
    "555 010 9011",
    "5550109004",
    # the fixtures' private values
    "512) 555-0147",
    "5125550199",
    "p.raman.dev",
    "GB29 NWBK",
    "004417902231",
    "4100 Speedway",
    "Larimer",
    "DE89",
    "Hire.Box",
    "hire.box",
    "Oak Ln",
)


def test_no_private_value_reaches_the_lake(ingested):
    lake, _, _, _ = ingested
    files = [p for p in lake.root.rglob("*") if p.is_file() and ".secret" not in p.parts]
    assert any(p.suffix == ".parquet" for p in files)
    for p in files:
        data = p.read_bytes()
        for value in PLANTED:
            assert value.encode() not in data, (p, value)
    # and not in any value as the Parquet files hold them, decompressed
    for table in ("workforce", "quarantine"):
        text = duckdb.sql(
            f"SELECT string_agg(CAST(columns(*) AS VARCHAR), '|') FROM {lake.table_sql(table)}"
        ).fetchall()
        blob = " ".join(str(v) for row in text for v in row)
        assert "@northwind-ai.com" in blob or table == "quarantine"
        for value in PLANTED:
            assert value not in blob, (table, value)


def test_an_unreadable_roster_like_file_is_quarantined_without_its_values(tmp_path):
    """A CSV no source recognises (no work e-mail column) whose header names private
    columns: the quarantine shows the header, never a row."""
    path = tmp_path / "payroll_export.csv"
    path.write_text(
        "Name,Mobile Phone,Bank Account #,Home Address\n"
        "Ana Lee,+1 512 555 0199,DE89370400440532013000,12 Elm St\n"
    )
    lake = Lake(tmp_path / "lake")
    [res] = lake.ingest([path])
    assert res.status == "unrecognised" and res.quarantined == 1
    [(record,)] = duckdb.sql(f"SELECT record FROM {lake.table_sql('quarantine')}").fetchall()
    assert record.startswith("Name,Mobile Phone,Bank Account #,Home Address\n")
    assert "555 0199" not in record and "DE89" not in record and "values withheld" in record
    # an ordinary unrecognised file still shows its head
    other = tmp_path / "notes.txt"
    other.write_text("just some notes\nnothing private here\n")
    [res] = lake.ingest([other])
    rows = duckdb.sql(
        f"SELECT record FROM {lake.table_sql('quarantine')} ORDER BY record"
    ).fetchall()
    assert ("just some notes\nnothing private here\n",) in rows


def test_every_alias_of_a_hashed_field_is_a_private_column():
    """The roster's hashed fields and the lake's withholding rule are one rule
    (sources/private_columns.py): none of the aliases escapes it."""
    from crownwatch.sources.private_columns import is_private

    for field in hr_roster._HASHED:
        for alias in hr_roster.ALIASES[field]:
            assert is_private(alias), (field, alias)
    assert not is_private("emailwork") and not is_private("employeenumber")
