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
==================  ==========================================================
"""

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
)

# Outcomes that prove the attacker knew the password even though no session started.
PASSWORD_CORRECT = ("success", "mfa_required", "ca_blocked")

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # okta, entra, cloudtrail, sshd, windows
        pa.field("activity", pa.string()),  # logon | logoff | mfa | lock | other
        pa.field("user", pa.string()),  # lower-cased login (UPN, email, sAMAccountName)
        pa.field("user_uid", pa.string()),
        pa.field("src_ip", pa.string()),
        pa.field("src_asn", pa.int64()),
        pa.field("src_as_org", pa.string()),
        pa.field("src_country", pa.string()),
        pa.field("src_city", pa.string()),
        pa.field("user_agent", pa.string()),
        pa.field("service", pa.string()),  # app / host / resource signed in to
        pa.field("auth_protocol", pa.string()),  # password, kerberos, ntlm, publickey, saml…
        pa.field("status", pa.string(), nullable=False),  # success | failure
        pa.field("reason", pa.string(), nullable=False),  # see REASONS
        pa.field("status_code", pa.string()),  # vendor code, verbatim
        pa.field("status_detail", pa.string()),  # vendor message, verbatim
        pa.field("is_proxy", pa.bool_()),
        pa.field("session_uid", pa.string()),
        *PROVENANCE,
    ]
)
