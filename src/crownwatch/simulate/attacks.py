"""The planted attacks: what a China-nexus intrusion set going after an AI lab's
models and datasets does first — get a working password (CrowdStrike 2026: password
spraying and credential harvesting remain the common ways in).

=============================  ===========  ==========================================
id                             technique    what
=============================  ===========  ==========================================
spray-okta-vps                 T1110.003    one hosting IP, 50+ Okta accounts, 1–2 tries
                                            each in under 30 minutes
spray-okta-office-nat          T1110.003    the same pattern from the SF office NAT —
                                            the IP the rotation look-alike uses
spray-ad-kerberos              T1110.003    an internal London workstation sprays AD
                                            (4771, Kerberos pre-auth failures)
spray-entra-distributed        T1110.003    36 hosting IPs in 10 ASNs / 9 countries,
                                            ≤ 2 tries per IP per hour, two days, one
                                            user agent and one app (the "low and slow")
stuffing-okta                  T1110.004    residential proxies + hosting, breached
                                            e-mail list: many unknown users, mixed errors
bruteforce-ssh-root            T1110.001    hundreds of root passwords against the bastion
bruteforce-aws-iam             T1110.001    console password guessing on one IAM user
bruteforce-windows-rdp         T1110.001    RDP password guessing on Administrator
success-after-spray-okta       T1078        a sprayed account logs in from a new IP after
                                            MFA push fatigue
mfa-after-spray-entra          T1078        sprayed accounts' passwords used elsewhere:
                                            MFA demanded (50076) / CA blocked (53003)
new-country-after-spray        T1078        a sprayed user signs in from a first-seen
                                            country and ASN, no failures before it
=============================  ===========  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crownwatch.simulate.population import FIRST, LAST, Net, User
from crownwatch.simulate.truth import Item
from crownwatch.simulate.world import World

SPRAY_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
GUESSED = (
    "admin",
    "administrator",
    "it.support",
    "test.user",
    "helpdesk",
    "recruiting",
    "security",
    "devops",
)
STUFF_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:122.0) Gecko/20100101 Firefox/122.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Mobile Safari/537.36",
)
# hosting ASNs and where their addresses geolocate, for the distributed spray
SPRAY_NETS = (
    (14061, "amsterdam"),
    (14061, "frankfurt"),
    (20473, "tokyo"),
    (20473, "seoul"),
    (24940, "frankfurt"),
    (16276, "paris"),
    (63949, "mumbai"),
    (9009, "bucharest"),
    (51167, "frankfurt"),
    (36352, "ashburn"),
    (45102, "saopaulo"),
    (132203, "seoul"),
    (63949, "toronto"),
    (16276, "amsterdam"),
)


def _stranger_names(w: World, n: int, taken: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        name = f"{w.rng.choice(FIRST)}.{w.rng.choice(LAST)}".lower()
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


@dataclass(frozen=True)
class Foothold:
    """Where the way in ended: the sprayed account that got in, the network it signed
    in from and when — what the next step of the intrusion (:mod:`.persistence`)
    starts from."""

    user: User
    net: Net
    at: datetime


def plant(w: World) -> Foothold:
    rng = w.rng
    org = w.org
    book = org.book
    users = list(org.users)
    by_login = {u.login for u in users}

    # -- 1a. single-source spray from a hosting provider, against Okta ----------------
    vps = book.take("doc3", 135377, "hongkong")
    targets = rng.sample(users, min(len(users), 46))
    t = w.at(w.day(1), 2.2)
    okta_sprayed = []
    for rnd in range(2):
        pool = targets if rnd == 0 else targets[: len(targets) // 2]
        names = [(u, None) for u in pool] + ([(None, g) for g in GUESSED[:6]] if rnd == 0 else [])
        rng.shuffle(names)
        for u, guess in names:
            t += timedelta(seconds=rng.uniform(6, 14))
            if u is None:
                w.sso(
                    "okta",
                    None,
                    t,
                    "unknown_user",
                    vps,
                    SPRAY_UA,
                    "Okta Dashboard",
                    login=f"{guess}@{org.domain}",
                    tag="spray-okta-vps",
                    threat=rnd == 1,
                )
            else:
                w.sso(
                    "okta",
                    u,
                    t,
                    "bad_password",
                    vps,
                    SPRAY_UA,
                    "Okta Dashboard",
                    tag="spray-okta-vps",
                    threat=rnd == 1,
                )
                okta_sprayed.append(u)
    w.item(
        Item(
            "spray-okta-vps",
            "password_spray",
            ["T1110.003"],
            "identity.password_spray",
            "One hosting-provider IP tries one or two common passwords against 50+ Okta accounts in under "
            "half an hour — few enough per account to stay under the lockout threshold.",
        )
    )

    # -- 1b. the same pattern from the office NAT on another day ------------------
    sf = org.office("sf")
    office_targets = rng.sample(users, min(len(users), 44))
    t = w.at(w.day(3), 14.1, sf.tz)
    ua_b = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36"
    for u in office_targets:
        t += timedelta(seconds=rng.uniform(20, 40))
        w.sso(
            "okta",
            u,
            t,
            "bad_password",
            sf.nat,
            ua_b,
            "Okta Dashboard",
            tag="spray-okta-office-nat",
            okta_zone="Office",
        )
    for g in GUESSED[6:8]:
        t += timedelta(seconds=rng.uniform(20, 40))
        w.sso(
            "okta",
            None,
            t,
            "unknown_user",
            sf.nat,
            ua_b,
            "Okta Dashboard",
            login=f"{g}@{org.domain}",
            tag="spray-okta-office-nat",
            okta_zone="Office",
        )
    w.item(
        Item(
            "spray-okta-office-nat",
            "password_spray",
            ["T1110.003"],
            "identity.password_spray",
            "A compromised machine inside the San Francisco office sprays Okta through the office NAT — the "
            "same address as the Monday password-rotation look-alike, so an office-IP exclusion must not "
            "hide it.",
            related=["benign-office-password-rotation"],
            details={"nat_ip": sf.nat.ip},
        )
    )

    # -- 1c. internal Kerberos spray against AD ------------------------------------
    ldn = org.office("ldn")
    ws_ip = f"{ldn.subnet}.77.{rng.randrange(10, 250)}"
    ws = f"NW-LDN-{rng.randrange(1000, 9999)}"
    t = w.at(w.day(4), 11.3, ldn.tz)
    dc = w.fqdn("NW-DC02")
    for u in rng.sample(users, min(len(users), 48)):
        t += timedelta(seconds=rng.uniform(10, 30))
        w.win(
            u.sam,
            u.sid,
            t,
            "bad_password",
            ws_ip,
            dc,
            "kerberos",
            src_host=ws,
            tag="spray-ad-kerberos",
        )
    for g in ("adm-backup", "sqladmin", "svc-test"):
        t += timedelta(seconds=rng.uniform(10, 30))
        w.win(g, "", t, "unknown_user", ws_ip, dc, "kerberos", src_host=ws, tag="spray-ad-kerberos")
    w.item(
        Item(
            "spray-ad-kerberos",
            "password_spray",
            ["T1110.003"],
            "identity.password_spray",
            "From one London workstation, Kerberos pre-authentication with one password against ~50 domain "
            "accounts (4771 0x18; 0x6 for names that do not exist).",
            details={"workstation": ws},
        )
    )

    # -- 2. distributed low-and-slow spray against Entra ----------------------------
    nets: list[Net] = []
    for i in range(36):
        asn, place = SPRAY_NETS[i % len(SPRAY_NETS)]
        nets.append(book.take("doc2" if i % 2 else "doc3", asn, place))
    start = w.at(w.day(2), 18.0)
    hours = 46
    dtargets = rng.sample(users, min(len(users), 130))
    names: list[tuple] = [(u, None) for u in dtargets] + [
        (None, f"{g}@{org.domain}") for g in _stranger_names(w, 8, set(by_login))
    ]
    names += [(None, f"{g}@{org.domain}") for g in getattr(w, "departed", [])]
    attempts = names + [(u, None) for u in dtargets[: len(dtargets) // 3]]
    rng.shuffle(attempts)
    per_ip_hour: dict[tuple[str, int], int] = {}
    tried: dict[str, int] = {}
    step = hours * 3600 / max(1, len(attempts))
    for k, (u, login) in enumerate(attempts):
        t = start + timedelta(seconds=k * step + rng.uniform(0, step * 0.8))
        hour = int((t - start).total_seconds() // 3600)
        for _ in range(50):
            net = rng.choice(nets)
            if per_ip_hour.get((net.ip, hour), 0) < 2:
                break
        per_ip_hour[(net.ip, hour)] = per_ip_hour.get((net.ip, hour), 0) + 1
        kw = {"client_app": "Mobile Apps and Desktop clients", "tag": "spray-entra-distributed"}
        if u is None:
            outcome = (
                "disabled" if login.split("@")[0] in getattr(w, "departed", []) else "unknown_user"
            )
            w.sso(
                "entra",
                None,
                t,
                outcome,
                net,
                SPRAY_UA,
                "Azure Active Directory PowerShell",
                login=login,
                **kw,
            )
            continue
        tried[u.login] = tried.get(u.login, 0) + 1
        outcome = "locked" if tried[u.login] == 2 and len(tried) % 9 == 0 else "bad_password"
        w.sso("entra", u, t, outcome, net, SPRAY_UA, "Azure Active Directory PowerShell", **kw)
    w.item(
        Item(
            "spray-entra-distributed",
            "password_spray",
            ["T1110.003"],
            "identity.distributed_spray",
            "Low and slow: 36 hosting addresses in ten ASNs and several countries, never more than two tries "
            "per address per hour, across two days — every attempt with the same user agent against the same "
            "app (Azure AD PowerShell, ROPC), failing with 50126.",
            details={
                "user_agent": SPRAY_UA,
                "app": "Azure Active Directory PowerShell",
                "ips": len(nets),
            },
        )
    )

    # -- 3. credential stuffing against Okta ----------------------------------------
    proxies = []
    for i in range(50):
        asn = (7922, 7018, 701, 22773, 20115)[i % 5]
        proxies.append(
            book.take(
                "bench", asn, ("nyc", "sf", "ashburn", "sanjose", "jersey")[i % 5], is_proxy=True
            )
        )
    proxies += [
        book.take(
            "doc3" if i % 2 else "doc2",
            SPRAY_NETS[(i * 5) % len(SPRAY_NETS)][0],
            SPRAY_NETS[(i * 5) % len(SPRAY_NETS)][1],
            is_proxy=i % 3 == 0,
        )
        for i in range(20)
    ]
    real = rng.sample(users, min(len(users), 60))
    combo: list[tuple] = [(u, None) for u in real] + [
        (None, n) for n in _stranger_names(w, 110, set(by_login))
    ]
    combo += [(None, n) for n in getattr(w, "departed", [])]
    rng.shuffle(combo)
    t = w.at(w.day(5), 1.0)
    step = 3.5 * 3600 / max(1, len(combo) * 1.15)
    for i, (u, login) in enumerate(combo):
        for k in range(2 if rng.random() < 0.15 else 1):
            t += timedelta(seconds=rng.uniform(0.3, 1.7) * step)
            net = rng.choice(proxies)
            ua = rng.choice(STUFF_UAS)
            if u is None:
                outcome = "disabled" if login in getattr(w, "departed", []) else "unknown_user"
                w.sso(
                    "okta",
                    None,
                    t,
                    outcome,
                    net,
                    ua,
                    "Okta Dashboard",
                    login=f"{login}@{org.domain}",
                    tag="stuffing-okta",
                    threat=True,
                )
            else:
                outcome = "locked" if i % 23 == 0 else "expired" if i % 31 == 0 else "bad_password"
                w.sso(
                    "okta",
                    u,
                    t,
                    outcome,
                    net,
                    ua,
                    "Okta Dashboard",
                    tag="stuffing-okta",
                    threat=k == 0,
                )
    w.item(
        Item(
            "stuffing-okta",
            "credential_stuffing",
            ["T1110.004"],
            "identity.credential_stuffing",
            "A breached e-mail/password list replayed through residential proxies and hosting: 170+ names, "
            "most of them not accounts here, a few locked, suspended or expired, one or two tries each.",
        )
    )

    # -- 4a. SSH brute force on root ----------------------------------------------
    ssh_net = book.take("doc3", 51167, "frankfurt")
    t = w.at(w.day(2), 13.6)
    for c in range(50):
        port = rng.randrange(33000, 60999)
        conn = f"bf-root-{c}"
        for _ in range(6):
            t += timedelta(seconds=rng.uniform(1.5, 3.5))
            w.ssh(
                "root",
                t,
                "bad_password",
                ssh_net.ip,
                "bastion-01",
                protocol="password",
                conn=conn,
                net=ssh_net,
                port=port,
                tag="bruteforce-ssh-root",
            )
        t += timedelta(seconds=rng.uniform(20, 40))
    w.item(
        Item(
            "bruteforce-ssh-root",
            "brute_force",
            ["T1110.001"],
            "identity.brute_force",
            "300 root passwords against the internet-facing bastion from one hosting address, six per "
            "connection (rsyslog folds them into 'message repeated 5 times').",
            details={"host": "bastion-01"},
        )
    )

    # -- 4b. AWS console brute force on one IAM user --------------------------------
    aws_net = book.take("doc2", 9009, "bucharest")
    t = w.at(w.day(3), 22.1)
    for _ in range(60):
        t += timedelta(seconds=rng.uniform(15, 40))
        w.console(
            "ml-platform-admin", t, "bad_password", aws_net, SPRAY_UA, tag="bruteforce-aws-iam"
        )
    w.item(
        Item(
            "bruteforce-aws-iam",
            "brute_force",
            ["T1110.001"],
            "identity.brute_force",
            "Console password guessing on the ml-platform-admin IAM user from one address.",
        )
    )

    # -- 4c. RDP brute force on Administrator ------------------------------------------
    rdp_net = book.take("doc3", 45102, "singapore")
    t = w.at(w.day(6), 3.0)
    jump = w.fqdn("NW-JUMP02")
    for _ in range(150):
        t += timedelta(seconds=rng.uniform(12, 40))
        w.win(
            "Administrator",
            "",
            t,
            "bad_password",
            rdp_net.ip,
            jump,
            "rdp",
            src_host="-",
            tag="bruteforce-windows-rdp",
        )
    w.item(
        Item(
            "bruteforce-windows-rdp",
            "brute_force",
            ["T1110.001"],
            "identity.brute_force",
            "RDP password guessing (4625, LogonType 10) on the built-in Administrator of an exposed jump host.",
            details={"host": jump, "country": rdp_net.country},
        )
    )

    # -- 5a. a sprayed Okta account logs in elsewhere after MFA fatigue --------------
    victim = okta_sprayed[0] if okta_sprayed else users[0]
    later = book.take("doc2", 9009, "bucharest")
    t = w.at(w.day(1), 8.8)
    for k in range(3):
        w.sso(
            "okta",
            victim,
            t + timedelta(minutes=2.5 * k),
            "mfa_required",
            later,
            SPRAY_UA,
            "Okta Dashboard",
            tag="success-after-spray-okta",
        )
    w.sso(
        "okta",
        victim,
        t + timedelta(minutes=9),
        "success",
        later,
        SPRAY_UA,
        "Okta Dashboard",
        mfa=True,
        tag="success-after-spray-okta",
        okta_session=f"102{rng.getrandbits(64):016x}"[:25],
    )
    w.item(
        Item(
            "success-after-spray-okta",
            "valid_account",
            ["T1078", "T1621"],
            "identity.success_after_spray",
            "Six hours after the VPS spray, one of its targets signs in from a different hosting address: three "
            "rejected pushes, then an accepted one (MFA fatigue).",
            related=["spray-okta-vps"],
        )
    )
    foothold = Foothold(victim, later, t + timedelta(minutes=9))

    # -- 5b. sprayed Entra passwords used elsewhere: MFA wall and CA block -----------
    ent_victims = dtargets[:2] if len(dtargets) >= 2 else users[:2]
    mfa_net = book.take("doc2", 212238, "amsterdam")
    ca_net = book.take("doc3", 138915, "hongkong")
    mac_ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"
    w.sso(
        "entra",
        ent_victims[0],
        w.at(w.day(4), 19.6),
        "mfa_required",
        mfa_net,
        mac_ua,
        "OfficeHome",
        tag="mfa-after-spray-entra",
        entra_code=50076,
    )
    w.sso(
        "entra",
        ent_victims[0],
        w.at(w.day(4), 19.62),
        "mfa_required",
        mfa_net,
        mac_ua,
        "OfficeHome",
        tag="mfa-after-spray-entra",
        entra_code=50076,
    )
    w.sso(
        "entra",
        ent_victims[1],
        w.at(w.day(5), 3.25),
        "ca_blocked",
        ca_net,
        mac_ua,
        "Office 365 Exchange Online",
        tag="mfa-after-spray-entra",
    )
    w.item(
        Item(
            "mfa-after-spray-entra",
            "valid_account",
            ["T1078"],
            "identity.success_after_spray",
            "Two accounts from the distributed spray: the right password arrives from new addresses — one is "
            "stopped by MFA (50076), one by the country Conditional Access policy (53003).",
            related=["spray-entra-distributed"],
        )
    )

    # -- 6. first-seen country and ASN for a sprayed user, no failures around it -------
    nc_victim = dtargets[2] if len(dtargets) > 2 else users[-1]
    nc_net = book.take("doc3", 132203, "hanoi")
    w.sso(
        "entra",
        nc_victim,
        w.at(w.day(5), 2.5),
        "success",
        nc_net,
        mac_ua,
        "Office 365 Exchange Online",
        tag="new-country-after-spray",
    )
    w.sso(
        "entra",
        nc_victim,
        w.at(w.day(5), 2.9),
        "success",
        nc_net,
        mac_ua,
        "Office 365 SharePoint Online",
        tag="new-country-after-spray",
    )
    w.item(
        Item(
            "new-country-after-spray",
            "valid_account",
            ["T1078"],
            "identity.new_geo_after_spray",
            "A user the distributed spray targeted signs in successfully from Vietnam on a hosting ASN never "
            "seen for them, with no failed attempt before it.",
            related=["spray-entra-distributed"],
            details={"country": nc_net.country, "asn": nc_net.asn},
        )
    )
    return foothold
