"""Which columns of a tabular export hold private values — one rule for the HR roster
source (what it hashes or redacts) and for the lake (what a quarantine record of a file
no source could read may show).

A column is private when its name, compared as :func:`header_key` writes it, names a
phone, an address or a part of one, an account, a national or tax id, a birth date, pay,
or a home / personal / private e-mail. A work e-mail is not private (it is who the
record is about)."""

from __future__ import annotations

import re

_PRIVATE = re.compile(
    r"phone|mobile|cell|fax|address|street|zip|postal|postcode|bank|iban|account|payroll|"
    r"routing|sortcode|ssn|socialsecurity|nationalid|taxid|passport|birth|dob|salary|"
    r"payrate|compensation|(?:home|personal|private).*email|email.*(?:home|personal|private)"
)
# names the pattern cannot tell by a part: a home address's place, national insurance
# (UK NIN) and social insurance (Canada SIN) numbers
_PRIVATE_NAMES = frozenset(
    {"city", "homecity", "homestate", "town", "province", "state", "statecode", "stateprovince"}
    | {"nin", "sin"}
)


def header_key(name: str) -> str:
    """A column name as compared: lower case, ``#`` as "number", nothing but letters
    and digits (``Email - Work`` → ``emailwork``, ``Employee #`` → ``employeenumber``)."""
    return re.sub(r"[^a-z0-9]+", "", name.lower().replace("#", "number"))


def is_private(key: str) -> bool:
    """Whether a column named ``key`` (a :func:`header_key`) holds private values."""
    return key in _PRIVATE_NAMES or bool(_PRIVATE.search(key))


def withhold_private(head: str) -> str | None:
    """For a file no source recognised: when its first line is a CSV header naming a
    private column, the header alone with a note — what a quarantine record may show of
    an export it could not read — else None (the head may be shown as it is)."""
    first = next((ln for ln in head.lstrip("\ufeff").splitlines() if ln.strip()), "")
    for delimiter in (",", ";", "\t"):
        names = [n.strip().strip('"') for n in first.split(delimiter)]
        if len(names) >= 3 and any(is_private(header_key(n)) for n in names):
            return (
                first[:2000] + "\n[values withheld: the header names private columns; the "
                "file itself was not read]"
            )
    return None
