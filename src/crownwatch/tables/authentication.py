"""``authentication`` — OCSF Authentication (class 3002), one row per sign-in attempt.

``reason`` is the one normalised outcome every identity detection keys on, mapped
from each vendor's codes by its source module:

==================  ==========================================================
reason              meaning
==================  ==========================================================
success             the credential was accepted and the session started
bad_password        the account exists, the secret was wrong
unknown_user        the account does not exist (typical of stuffing lists)
locked              the account is locked out (incl. Entra smart lockout)
disabled            the account is disabled
expired             the password or account has expired
mfa_required        first factor accepted, second factor demanded — the
                    password was right
ca_blocked          first factor accepted, a conditional-access policy blocked
                    the sign-in — the password was right
other               any other failure (kept with its vendor code)
unknown             the record is an attempt, not a verdict (Windows 4648: a
                    logon *with explicit credentials* was made; whether it
                    worked is logged elsewhere) — ``status`` is ``unknown`` too
==================  ==========================================================

**One identity key per person.** The same person is ``CORP\\alice`` in one Windows
event, ``alice@corp.example`` (UPN) in Entra and Okta, ``ALICE@CORP.EXAMPLE`` (the
Kerberos realm) in a 4768 and plain ``alice`` in a 4771, a 4776 or sshd. A brute
force seen as ``alice`` and the success that follows as ``alice@corp.example`` must
join, so every source writes its user through :func:`identity_columns`:

==============  =============================================================
column          value
==============  =============================================================
``user``        the **key**: the account name lower-cased, without a
                ``DOMAIN\\`` prefix and without an ``@domain`` / ``@REALM``
                suffix — ``alice`` for all four forms above
``user_raw``    the name exactly as the record wrote it
``user_domain`` the domain that went with it, lower-cased: the NetBIOS
                domain, the UPN suffix or the Kerberos realm (a source may
                pass a separate domain field, e.g. Windows ``TargetDomainName``)
==============  =============================================================

The rule is deliberately simple and the same for every source, so the join needs no
directory: ``alice@corp.example`` and ``alice@corp-labs.example`` share the key
``alice``. Inside one organisation that is what people mean (and what Kerberos
needs, since 4771 and 4776 carry no domain); ``user_domain`` keeps them apart for
anyone who must. ``-`` and empty names (Windows' "no name") become NULL.
:func:`user_key` is the same rule in Python, for keys from configuration
(``identity_map``) and from simulators' truth.
"""

import re

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

REASONS = (
    "success",
    "bad_password",
    "unknown_user",
    "locked",
    "disabled",
    "expired",
    "mfa_required",
    "ca_blocked",
    "other",
    "unknown",
)

# Outcomes that prove the attacker knew the password even though no session started.
PASSWORD_CORRECT = ("success", "mfa_required", "ca_blocked")

# The identity-key rule in SQL: the part after the last backslash, up to the first "@".
_NAME = "nullif(nullif(trim({x}), ''), '-')"


_BACKSLASH = "\\"


def _part(x: str, sep: str, n: int) -> str:
    """SQL: ``split_part(x, sep, n)`` for a field that always has an ``n``-th part (1,
    or -1: the last) — as a list element. DuckDB's ``split_part`` is a macro that
    repeats ``x`` three times, and nested in the key it had DuckDB bind the name's trim
    36 times: binding the three identity columns took 14.5 ms, 6.8 ms so — paid by every
    statement of every file, however small. The same values on a million names, in the
    same time."""
    return f"string_split({x}, '{sep}')[{n}]"


def identity_key(name_sql: str, verbatim_when: str | None = None) -> str:
    """The ``"user"`` key of :func:`identity_columns` alone, as one SQL expression: for
    tables that name a person beside other columns (``api_activity``'s ``actor_user``
    and ``target_user``) and must join ``authentication`` by the same rule."""
    raw = _NAME.format(x=name_sql)
    # after the last backslash, up to the first @ — split, not a regex: the
    # backtracking pattern cost ~2 s per million sign-ins at ingest
    key = f"lower(nullif({_part(_part(raw, _BACKSLASH, -1), '@', 1)}, ''))"
    if verbatim_when:
        key = f"CASE WHEN {verbatim_when} THEN lower({raw}) ELSE {key} END"
    return key


def identity_columns(
    name_sql: str, domain_sql: str | None = None, verbatim_when: str | None = None
) -> str:
    """SELECT items ``"user", user_raw, user_domain`` for a user name expression
    (DuckDB SQL over the source's stage) and, optionally, a separate domain field.

    ``verbatim_when`` is a condition under which the lower-cased name is the key as
    it stands: for names that are not a person's directory name (CloudTrail's
    ``root@<account>``, one root user per AWS account, not a login called root).

    ``name_sql`` appears seven times in what this returns: give a column or a field,
    not a computed expression — compute that in a layer of its own first (CloudTrail's
    console user, a CASE, took DuckDB 100 ms to plan inlined seven times, 8 ms so)."""
    raw = _NAME.format(x=name_sql)
    key = identity_key(name_sql, verbatim_when)
    parsed_domain = (
        f"CASE WHEN contains({raw}, '\\') THEN nullif({_part(raw, _BACKSLASH, 1)}, '') "
        f"WHEN contains({raw}, '@') THEN nullif({_part(raw, '@', -1)}, '') END"
    )
    given = f", {_NAME.format(x=domain_sql)}" if domain_sql else ""
    domain = f"lower(coalesce({parsed_domain}{given}))"
    return f'{key} AS "user", {raw} AS user_raw, {domain} AS user_domain'


# after the last backslash (newlines included: (?s)), up to the first @ — the same
# rule as identity_columns' split_part and enrichment.identities' regex
_KEY = re.compile(r"^(?s:.*\\)?([^@\\]*)")


def user_key(name: str | None) -> str | None:
    """:func:`identity_columns`' key in Python (``CORP\\Alice`` → ``alice``)."""
    if name is None:
        return None
    name = name.strip(" ")  # DuckDB's trim(): spaces only
    if name in ("", "-"):
        return None
    return _KEY.match(name).group(1).lower() or None


SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # okta, entra, cloudtrail, sshd, windows
        pa.field(
            "activity", pa.string()
        ),  # logon | logoff | mfa | lock | explicit_credentials | other
        pa.field("user", pa.string()),  # the identity key (see above): alice
        pa.field("user_raw", pa.string()),  # the name as logged: CORP\\Alice, alice@corp.example
        pa.field("user_domain", pa.string()),  # corp, corp.example
        pa.field("user_uid", pa.string()),
        pa.field("src_ip", pa.string()),
        # the client's host name where the log names the client but no address (Windows
        # WorkstationName/Workstation on NTLM and local logons, sshd's rhost as a name)
        pa.field("src_host", pa.string()),
        pa.field("src_asn", pa.int64()),
        pa.field("src_as_org", pa.string()),
        pa.field("src_country", pa.string()),
        pa.field("src_city", pa.string()),
        pa.field("user_agent", pa.string()),
        pa.field("service", pa.string()),  # app / host / resource signed in to
        pa.field("auth_protocol", pa.string()),
        # Windows logon type as logged (2 interactive, 3 network, 10 remote interactive…)
        pa.field("logon_type", pa.int32()),  # password, kerberos, ntlm, publickey, saml…
        pa.field("status", pa.string(), nullable=False),  # success | failure | unknown
        pa.field("reason", pa.string(), nullable=False),  # see REASONS
        pa.field("status_code", pa.string()),  # vendor code, verbatim
        pa.field("status_detail", pa.string()),  # vendor message, verbatim
        pa.field("is_proxy", pa.bool_()),
        pa.field("session_uid", pa.string()),
        # who acted, when that is not the account signed in to (Windows 4648's subject:
        # the logged-on user who typed another account's credentials), as an identity key
        pa.field("actor_user", pa.string()),
        # the vendor's own name for the event where the columns above do not keep it
        # (Okta's eventType: user.session.start, user.authentication.sso…), for Sigma
        # rules written against it (crownwatch.sigma); NULL for the other sources
        pa.field("event_type", pa.string()),
        *PROVENANCE,
    ]
)
