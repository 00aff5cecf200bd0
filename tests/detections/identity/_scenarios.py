"""Attack and benign look-alike scenarios in Okta System Log form, shared by the
identity detection tests and the two-engine parity test.

Every scenario uses its own users, addresses and day so that scenarios can share one
lake (the parity test loads them all) without one changing another's outcome.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ._okta import (
    CHROME,
    INTERNAL,
    MAC_SAFARI,
    OFFICE,
    T0,
    Net,
    ca_deny,
    fail,
    history,
    hosting,
    lock,
    mfa_challenge,
    staff,
    success,
    unknown,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MIN = timedelta(minutes=1)

# An old Chrome build hard-coded in a spray kit: a browser string, but not one any
# employee's auto-updating browser still sends.
KIT_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/96.0.4664.110 Safari/537.36"
)
OFFICE_B = Net("198.51.100.77", 7018, "at&t services inc.", domain="att.net")


def single_spray(t0: datetime = T0, n_users: int = 30, prefix: str = "ss") -> list[dict]:
    """One VPS address, one attempt per account, nobody recovers."""
    users = staff(n_users, prefix)
    ev = history(users, t0)
    src = hosting(7)
    for i, u in enumerate(users):
        ev += fail(t0 + i * 20 * timedelta(seconds=1), u, src)
    return ev


def nat_rotation(t0: datetime = T0, n_users: int = 40, prefix: str = "nat") -> list[dict]:
    """Benign: the morning after a forced rotation, everyone behind the office NAT
    types the old password once, then the new one."""
    users = staff(n_users, prefix)
    ev = history(users, t0, net=OFFICE_B)
    for i, u in enumerate(users):
        at = t0 + i * 45 * timedelta(seconds=1)
        ev += fail(at, u, OFFICE_B)
        ev += success(at + 2 * MIN, u, OFFICE_B)
    return ev


def distributed_spray(
    t0: datetime = T0 + 2 * DAY,
    n_ips: int = 60,
    users_per_ip: int = 2,
    prefix: str = "ds",
    unknown_every: int = 10,
    hours: int = 36,
) -> list[dict]:
    """Low and slow: each address tries two accounts once, spread over ``hours``."""
    n = n_ips * users_per_ip
    users = staff(n, prefix)
    ev = history(users, t0)
    step = hours * 3600 / n
    k = 0
    for ip in range(n_ips):
        src = hosting(100 + ip, KIT_UA)
        for _ in range(users_per_ip):
            at = t0 + timedelta(seconds=round(k * step))
            if unknown_every and k % unknown_every == unknown_every - 1:
                ev += unknown(at, f"{prefix}.former{k:03d}", src)
            else:
                ev += fail(at, users[k], src)
            k += 1
    return ev


def stale_phones(t0: datetime = T0 + 2 * DAY, n_users: int = 30, prefix: str = "ph") -> list[dict]:
    """Benign: after a rotation, phones keep retrying the old password from changing
    carrier addresses for hours while their owners work normally on laptops."""
    users = staff(n_users, prefix)
    ev = history(users, t0)
    outlook = "Outlook-iOS/2.0"
    for i, u in enumerate(users):
        ev += success(t0 + i * MIN, u, OFFICE)
        for r in range(12):
            carrier = Net(
                f"100.64.{i}.{r + 1}",
                21928,
                "t-mobile usa, inc.",
                domain="t-mobile.com",
                ua=outlook,
            )
            ev += fail(t0 + i * MIN + r * 20 * MIN, u, carrier)
    return ev


def stuffing(
    t0: datetime = T0 + 5 * DAY, n_ips: int = 40, prefix: str = "cs", unknown_share: float = 0.5
) -> list[dict]:
    """A breach list replayed through a proxy pool: half the names never worked here,
    a few real accounts are already locked, every request has a random user agent."""
    rng = random.Random(5)
    real = staff(60, prefix)
    ev = history(real, t0)
    uas = [
        CHROME,
        MAC_SAFARI,
        KIT_UA,
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    ]
    n_pairs = n_ips * 2
    n_unknown = round(n_pairs * unknown_share)
    k = 0
    for ip in range(n_ips):
        for _ in range(2):
            src = hosting(400 + ip, rng.choice(uas), country="Brazil")
            at = t0 + timedelta(seconds=k * 37)
            if k < n_unknown:
                ev += unknown(at, f"{prefix}.breach{k:03d}@gmail.com", src)
            elif k % 7 == 0:
                ev += fail(at, real[k % len(real)], src, "LOCKED_OUT")
            else:
                ev += fail(at, real[k % len(real)], src)
            k += 1
    return ev


def username_typos(
    t0: datetime = T0 + 5 * DAY, n_users: int = 30, prefix: str = "ty"
) -> list[dict]:
    """Benign: people at home mistyping their login name, then getting it right."""
    users = staff(n_users, prefix)
    ev: list[dict] = []
    for i, u in enumerate(users):
        home = Net(f"192.0.2.{i + 1}", 7922, "comcast cable communications llc")
        ev += success(t0 - 2 * DAY + i * MIN, u, home)
        at = t0 + i * 13 * MIN
        ev += unknown(at, u + "x", home)
        ev += success(at + MIN, u, home)
    return ev


def brute_force(
    t0: datetime = T0 + 7 * DAY, attempts: int = 60, user: str = "cfo.kim", land: bool = False
) -> list[dict]:
    """Hydra against one executive from one outside address: a few seconds apart,
    jittered, lockout tripping after 10."""
    rng = random.Random(11)
    src = hosting(900, "Mozilla/5.0 (Hydra)", country="Russia")
    ev = history([user], t0)
    at = t0
    for i in range(attempts):
        at += timedelta(seconds=rng.uniform(1.0, 9.0))
        ev += fail(at, user, src, "LOCKED_OUT" if i >= 10 else "INVALID_CREDENTIALS")
        if i == 9:
            ev += lock(at + timedelta(milliseconds=40), user, src)
    if land:
        ev += success(at + 4 * MIN, user, src)
    return ev


def stale_service_account(
    t0: datetime = T0 + 7 * DAY, attempts: int = 72, user: str = "svc-backup"
) -> list[dict]:
    """Benign: a backup job retrying a rotated password every 5 minutes for 6 hours
    from the one internal host it runs on."""
    ev = history([user], t0, net=INTERNAL)
    for i in range(attempts):
        ev += fail(t0 + i * 5 * MIN + timedelta(milliseconds=(i * 137) % 900), user, INTERNAL)
    return ev


VICTIM_NET = Net(
    "45.86.200.14", 9009, "m247 europe srl", "Romania", None, "Bucharest", KIT_UA, True, None
)


def spray_then_success(t0: datetime = T0 + 9 * DAY, prefix: str = "sv") -> list[dict]:
    """A distributed spray; one account then signs in from an address the spray never
    used (critical), another reaches an MFA challenge from a spray address (high),
    a third is blocked by conditional access (high)."""
    ev = distributed_spray(t0, n_ips=30, users_per_ip=2, prefix=prefix, hours=12)
    # ds users are sv000..sv059; sv003 = 2nd account of ip 1, etc.
    ev += success(t0 + 14 * HOUR, f"{prefix}003", VICTIM_NET)
    ev += mfa_challenge(t0 + 13 * HOUR, f"{prefix}010", hosting(100 + 5, KIT_UA))
    ev += ca_deny(
        t0 + 13 * HOUR + 5 * MIN,
        f"{prefix}020",
        Net("45.86.200.99", 9009, "m247 europe srl", "Romania", ua=KIT_UA),
    )
    return ev


def sprayed_users_sign_in_as_usual(t0: datetime = T0 + 11 * DAY, prefix: str = "su") -> list[dict]:
    """Benign for the after-spray detections: a single-source spray from outside on
    the same morning the office rotated passwords; every sprayed user then signs in
    from the office as always, several of them after a typo there."""
    users = staff(30, prefix)
    ev = history(users, t0, net=OFFICE_B)
    src = hosting(950)
    for i, u in enumerate(users):
        ev += fail(t0 + i * 10 * timedelta(seconds=1), u, src)
    for i, u in enumerate(users):
        at = t0 + 2 * HOUR + i * MIN
        if i % 3 == 0:
            ev += fail(at, u, OFFICE_B)
        ev += success(at + MIN, u, OFFICE_B)
    return ev


NG_NET = Net("91.92.109.50", 394711, "limenet", "Bulgaria", None, "Sofia", CHROME, True, None)


def spray_then_new_country(t0: datetime = T0 + 13 * DAY, prefix: str = "ng") -> list[dict]:
    """Single-source spray; one sprayed account then signs in from Bulgaria through a
    hosting ASN a day later. A traveller (never sprayed) lands in Japan the same day."""
    users = staff(20, prefix)
    ev = history(users, t0, days=10)
    src = hosting(980)
    for i, u in enumerate(users):
        ev += fail(t0 + i * 15 * timedelta(seconds=1), u, src)
    ev += success(t0 + 26 * HOUR, f"{prefix}004", NG_NET)
    return ev


def traveller(t0: datetime = T0 + 13 * DAY, user: str = "traveller.tanaka") -> list[dict]:
    ev = history([user], t0, days=10)
    tokyo = Net(
        "203.141.130.5",
        2516,
        "kddi corporation",
        "Japan",
        "Tokyo",
        "Tokyo",
        MAC_SAFARI,
        domain="kddi.com",
    )
    ev += fail(t0 + 26 * HOUR, user, tokyo)
    ev += success(t0 + 26 * HOUR + MIN, user, tokyo)
    return ev


ATTACKS = {
    "identity.password_spray": single_spray,
    "identity.distributed_spray": distributed_spray,
    "identity.credential_stuffing": stuffing,
    "identity.brute_force": brute_force,
    "identity.success_after_spray": spray_then_success,
    "identity.new_geo_after_spray": spray_then_new_country,
}
BENIGN = (
    nat_rotation,
    stale_phones,
    username_typos,
    stale_service_account,
    sprayed_users_sign_in_as_usual,
    traveller,
)


def all_scenario_events() -> list[dict]:
    """Every attack and benign scenario, for one shared lake."""
    ev: list[dict] = []
    for fn in [*ATTACKS.values(), *BENIGN]:
        ev += fn()
    return ev
