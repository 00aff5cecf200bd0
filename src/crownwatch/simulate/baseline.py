"""Ordinary life at the lab, and the benign look-alikes that resemble attacks.

Background: people sign in to Okta (workforce SSO) and Entra (Microsoft 365) when
their local working day starts and again through the day, from the office NAT, from
home or from a phone; engineers SSH to GPU hosts and the bastion and use the AWS
console through IAM Identity Center; Windows domain logons and NTLM validations come
from workstations and service accounts around the clock. Mistakes happen: typos
fixed within a minute, passwords that expire, MFA interrupts, the odd lockout.

Benign look-alikes (each listed in the truth manifest with ``malicious: false``):

* ``benign-office-password-rotation`` — Monday morning after a forced rotation, many
  people behind the San Francisco office NAT fail once or twice, then succeed;
* ``benign-service-stale-password`` — a backup service account retries a stale
  password every few minutes for hours from one internal host;
* ``benign-travel-new-country`` — an employee signs in from Japan while travelling,
  with no failures around it;
* ``benign-departed-employee-device`` — a former employee's phone keeps polling mail
  with a disabled account.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from crownwatch.simulate.events import ApiCall, s3_get_object
from crownwatch.simulate.population import User
from crownwatch.simulate.truth import Item
from crownwatch.simulate.world import FILE_SERVERS, World

OKTA_APPS = (
    "Slack",
    "GitHub Enterprise",
    "Google Workspace",
    "AWS IAM Identity Center",
    "Jira Software",
    "Confluence",
    "Weights & Biases",
    "Zoom",
    "Greenhouse",
    "Workday",
)
ENTRA_APPS = (
    "Office 365 Exchange Online",
    "Microsoft Teams",
    "OfficeHome",
    "Office 365 SharePoint Online",
)
LINUX_HOSTS = tuple(f"gpu-train-{i:02d}" for i in range(1, 17)) + (
    "research-nb-01",
    "research-nb-02",
    "research-nb-03",
    "data-etl-01",
)
BASTION = "bastion-01"
CLI_UAS = (
    "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/s3.ls",
    "aws-cli/2.17.2 Python/3.11.9 Linux/6.5.0-1017-aws exe/x86_64.ubuntu.22 prompt/off command/s3.cp",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
)
CONSOLE_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36"
BUCKETS = ("nw-datasets-prod", "nw-model-checkpoints", "nw-eval-results", "nw-research-scratch")

ROTATION = "benign-office-password-rotation"
STALE_SVC = "benign-service-stale-password"
TRAVEL = "benign-travel-new-country"
DEPARTED = "benign-departed-employee-device"


def plan_benign(w: World) -> dict:
    """Pick the people and days for the look-alikes before the background runs (the
    background must know who is travelling and who rotates)."""
    rng = w.rng
    org = w.org
    sf = [u for u in org.users if u.office.key == "sf"]
    nyc = [u for u in org.users if u.office.key == "nyc"]
    rotation = rng.sample(sf, min(len(sf), max(26, len(sf) // 5)))
    traveler = rng.choice(nyc or org.users)
    travel_days = {w.day(3), w.day(4), w.day(5)}
    for u in rotation:
        w.skip_first.add(("okta", u.login, w.day(0)))
    return {"rotation": rotation, "traveler": traveler, "travel_days": travel_days}


def _net_for(w: World, u: User, day: int, plan: dict, weekend: bool):
    rng = w.rng
    if u is plan["traveler"] and day in plan["travel_days"]:
        return plan["hotel"], False
    if weekend or rng.random() < u.remote_days:
        return u.home, False
    return u.office.nat, True


def background(w: World, plan: dict) -> None:
    rng = w.rng
    org = w.org
    plan["hotel"] = org.book.take("doc1", 4713, "tokyo")
    for day in range(w.days):
        for u in org.users:
            wd = w.local_weekday(day, u.office.tz)
            weekend = wd >= 5
            if rng.random() > (0.08 if weekend else 0.94):
                continue
            net, in_office = _net_for(w, u, day, plan, weekend)
            traveling = u is plan["traveler"] and day in plan["travel_days"]
            tz = "Asia/Tokyo" if traveling else u.office.tz
            start_h = rng.gauss(9.6 if u.role == "research" else 8.9, 0.7)
            if weekend:
                start_h = rng.uniform(10, 20)
            length = rng.uniform(1, 3) if weekend else rng.uniform(7.5, 10)
            t0 = w.at(day, start_h, tz)
            tag = TRAVEL if traveling else ""
            _sso_day(w, u, day, t0, length, net, in_office, tag)
            if traveling or weekend and rng.random() < 0.7:
                continue
            _windows_day(w, u, t0, length, in_office)
            if u.has_linux:
                _linux_day(w, u, t0, length, in_office, net)
            if u.has_aws and rng.random() < 0.55:
                _aws_day(w, u, t0, length, net)
    _service_accounts(w)
    _occasional_trouble(w)


def _sso_day(
    w: World, u: User, day: int, t0: datetime, length: float, net, in_office: bool, tag: str
) -> None:
    rng = w.rng
    extra = {"okta_zone": "Office"} if in_office else {}
    n_okta = 1 + int(rng.expovariate(0.9))
    for i in range(min(n_okta, 5)):
        if i == 0 and ("okta", u.login, day) in w.skip_first:
            continue
        t = t0 + timedelta(
            hours=(0 if i == 0 else rng.uniform(0.3, length)), seconds=rng.uniform(0, 240)
        )
        mobile = i > 0 and rng.random() < 0.12
        n = u.mobile if mobile and not tag else net
        ua = u.ua_mobile if mobile else u.ua_desktop
        session = f"102{rng.getrandbits(64):016x}"[:25]
        if not tag and rng.random() < 0.03:  # typo, fixed right away
            w.sso(
                "okta",
                u,
                t - timedelta(seconds=rng.uniform(8, 45)),
                "bad_password",
                n,
                ua,
                rng.choice(OKTA_APPS),
                tag=tag,
                **extra,
            )
        w.sso(
            "okta",
            u,
            t,
            "success",
            n,
            ua,
            rng.choice(OKTA_APPS),
            tag=tag,
            mfa=(i == 0 or rng.random() < 0.3),
            okta_session=session,
            **extra,
        )
    n_entra = 1 + int(rng.expovariate(1.2))
    for i in range(min(n_entra, 4)):
        t = t0 + timedelta(
            hours=(0.02 if i == 0 else rng.uniform(0.3, length)), seconds=rng.uniform(0, 300)
        )
        app = rng.choice(ENTRA_APPS)
        mobile = i > 0 and rng.random() < 0.2
        n = u.mobile if mobile and not tag else net
        ua = u.ua_mobile if mobile else u.ua_desktop
        ent_extra = {"office": in_office, "device_id": "" if mobile else u.entra_id[::-1]}
        if not tag and rng.random() < 0.025:
            w.sso(
                "entra",
                u,
                t - timedelta(seconds=rng.uniform(8, 40)),
                "bad_password",
                n,
                ua,
                app,
                tag=tag,
                **ent_extra,
            )
        if i == 0 and not tag and rng.random() < 0.15:  # MFA interrupt, satisfied seconds later
            w.sso(
                "entra",
                u,
                t - timedelta(seconds=rng.uniform(10, 30)),
                "mfa_required",
                n,
                ua,
                app,
                tag=tag,
                entra_code=50074,
                **ent_extra,
            )
        w.sso("entra", u, t, "success", n, ua, app, tag=tag, mfa=(i == 0), **ent_extra)


def _windows_day(w: World, u: User, t0: datetime, length: float, in_office: bool) -> None:
    rng = w.rng
    ip = u.ip_internal if in_office else w.vpn_internal()
    dc = w.dc(u)
    fs = w.fqdn(FILE_SERVERS[u.office.key])
    if rng.random() < 0.02:  # fat-fingered the unlock password
        w.win(
            u.sam,
            u.sid,
            t0 - timedelta(seconds=rng.uniform(5, 30)),
            "bad_password",
            ip,
            dc,
            "kerberos",
            src_host=u.workstation,
        )
    for _ in range(rng.randint(1, 3)):
        w.win(
            u.sam,
            u.sid,
            t0 + timedelta(hours=rng.uniform(0, length)),
            "success",
            ip,
            fs,
            "kerberos",
            src_host=u.workstation,
        )
    if rng.random() < 0.5:
        w.win(
            u.sam,
            u.sid,
            t0 + timedelta(hours=rng.uniform(0, length)),
            "success",
            ip,
            dc,
            "ntlm",
            src_host=u.workstation,
        )
    if u.role in ("infra", "security") and rng.random() < 0.3:
        w.win(
            u.sam,
            u.sid,
            t0 + timedelta(hours=rng.uniform(0, length)),
            "success",
            "::1",
            w.fqdn(u.workstation),
            "explicit",
            src_host=u.workstation,
            subject=u.sam,
            target_server=FILE_SERVERS[u.office.key] + "." + w.org.ad_fqdn,
        )


def _linux_day(w: World, u: User, t0: datetime, length: float, in_office: bool, net) -> None:
    rng = w.rng
    user = u.sam
    password_user = zlib.crc32(user.encode()) % 10 == 0
    for _ in range(rng.randint(1, 5)):
        t = t0 + timedelta(hours=rng.uniform(0.1, length))
        if in_office:
            ip, host, n = u.ip_internal, rng.choice(LINUX_HOSTS), None
        else:
            ip, host, n = net.ip, BASTION, net
        proto = "password" if password_user else "publickey"
        conn = f"{user}-{t.timestamp():.0f}"
        if proto == "password" and rng.random() < 0.05:
            w.ssh(
                user,
                t - timedelta(seconds=3),
                "bad_password",
                ip,
                host,
                protocol=proto,
                conn=conn,
                net=n,
            )
        w.ssh(
            user,
            t,
            "success",
            ip,
            host,
            protocol=proto,
            conn=conn,
            net=n,
            duration=rng.randrange(120, 14000),
        )


def _aws_day(w: World, u: User, t0: datetime, length: float, net) -> None:
    rng = w.rng
    t = t0 + timedelta(hours=rng.uniform(0.1, 2))
    role = (
        "AWSReservedSSO_MLEngineer_7c1e4b2a9d3f5e60"
        if u.role != "infra"
        else "AWSReservedSSO_PlatformAdmin_1a2b3c4d5e6f7a8b"
    )
    w.console(u.login, t, "success", net, u.ua_desktop, user_type="federated", role=role)
    session = f"{u.login}@{w.org.domain}"
    for _ in range(rng.randint(3, 25)):
        tc = t + timedelta(hours=rng.uniform(0, length - 1))
        kind = rng.random()
        ua = rng.choice(CLI_UAS)
        if kind < 0.15:
            w.call(
                ApiCall(
                    tc,
                    "s3.amazonaws.com",
                    "ListBuckets",
                    session,
                    "AssumedRole",
                    net.ip,
                    ua,
                    role=role,
                    request={"Host": "s3.us-east-1.amazonaws.com"},
                )
            )
        elif kind < 0.55:
            b = rng.choice(BUCKETS)
            key = f"{rng.choice(('shards', 'evals', 'ckpt', 'tokenized'))}/part-{rng.randrange(0, 4096):05d}.parquet"
            nbytes = rng.randrange(10_000, 400_000_000)
            w.call(s3_get_object(tc, b, key, session, role, w.org.aws_account, net.ip, ua, nbytes))
        elif kind < 0.75:
            b = rng.choice(BUCKETS)
            w.call(
                ApiCall(
                    tc,
                    "s3.amazonaws.com",
                    "ListObjectsV2" if rng.random() < 0.5 else "ListObjects",
                    session,
                    "AssumedRole",
                    net.ip,
                    ua,
                    role=role,
                    request={
                        "bucketName": b,
                        "Host": f"{b}.s3.us-east-1.amazonaws.com",
                        "list-type": "2",
                        "prefix": "shards/",
                    },
                    resources=[
                        {
                            "accountId": w.org.aws_account,
                            "type": "AWS::S3::Bucket",
                            "ARN": f"arn:aws:s3:::{b}",
                        }
                    ],
                    category="Data",
                )
            )
        elif kind < 0.9:
            w.call(
                ApiCall(
                    tc,
                    "ec2.amazonaws.com",
                    "DescribeInstances",
                    session,
                    "AssumedRole",
                    net.ip,
                    ua,
                    role=role,
                    request={"instancesSet": {}, "filterSet": {}},
                )
            )
        else:
            w.call(
                ApiCall(
                    tc,
                    "sts.amazonaws.com",
                    "GetCallerIdentity",
                    session,
                    "AssumedRole",
                    net.ip,
                    ua,
                    role=role,
                )
            )


def _service_accounts(w: World) -> None:
    rng = w.rng
    org = w.org
    hosts = {
        "svc-jenkins": ("NW-CI01", "10.10.8.21"),
        "svc-airflow": ("NW-ETL01", "10.10.8.40"),
        "svc-ldapsync": ("NW-IDM01", "10.30.2.15"),
        "svc-mlflow": ("NW-MLF01", "10.10.8.77"),
        "svc-sql": ("NW-SQL01", "10.30.2.30"),
        "svc-backup": ("NW-BACKUP01", "10.10.5.17"),
    }
    sids = {name: f"{org.domain_sid}-{3100 + i}" for i, name in enumerate(hosts)}
    for name, (src, ip) in hosts.items():
        dc = w.fqdn("NW-DC02" if ip.startswith("10.30") else "NW-DC01")
        t = w.start + timedelta(minutes=rng.uniform(0, 40))
        while t < w.end:
            w.win(name, sids[name], t, "success", ip, dc, "ntlm", src_host=src, user_type="service")
            t += timedelta(minutes=rng.uniform(25, 70))
    # terraform-ci and eval-harness call AWS with access keys from the CI runners
    ci = org.book.take("doc2", 16509, "ashburn")
    t = w.start
    while t < w.end:
        t += timedelta(minutes=rng.uniform(20, 90))
        w.call(
            ApiCall(
                t,
                "sts.amazonaws.com",
                "GetCallerIdentity",
                "terraform-ci",
                "IAMUser",
                ci.ip,
                "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0",
            )
        )
        w.call(
            ApiCall(
                t + timedelta(seconds=4),
                "s3.amazonaws.com",
                "ListBuckets",
                "eval-harness",
                "IAMUser",
                ci.ip,
                CLI_UAS[2],
            )
        )
    w.ci_net = ci
    # a break-glass root check once, from the HQ office, with MFA
    sf = org.office("sf")
    w.console(
        "root",
        w.at(w.day(1), 10.5, sf.tz),
        "success",
        sf.nat,
        CONSOLE_UA,
        user_type="root",
        mfa=True,
    )
    infra = [u for u in org.users if u.role == "infra"] or org.users
    for day in range(w.days):
        u = infra[day % len(infra)]
        if w.local_weekday(day, u.office.tz) < 5:
            w.console(
                "ml-platform-admin",
                w.at(day, 11.2, u.office.tz),
                "success",
                u.office.nat,
                u.ua_desktop,
                mfa=True,
            )


def _occasional_trouble(w: World) -> None:
    """Lockouts, password expiries and a departed employee's phone."""
    rng = w.rng
    org = w.org
    people = rng.sample(org.users, min(len(org.users), 12))
    # lockouts: five quick failures, locked, helpdesk unlock, success
    for i, u in enumerate(people[:3]):
        day = w.day(1 + 2 * i)
        t = w.at(day, rng.uniform(8.5, 11), u.office.tz)
        system = ("okta", "entra", "okta")[i]
        for k in range(5):
            w.sso(
                system,
                u,
                t + timedelta(seconds=20 * k),
                "bad_password",
                u.office.nat,
                u.ua_desktop,
                "Slack" if system == "okta" else "OfficeHome",
                lock_event=(k == 4),
            )
        w.sso(
            system,
            u,
            t + timedelta(seconds=130),
            "locked",
            u.office.nat,
            u.ua_desktop,
            "Slack" if system == "okta" else "OfficeHome",
        )
        w.sso(
            system,
            u,
            t + timedelta(minutes=rng.uniform(25, 70)),
            "success",
            u.office.nat,
            u.ua_desktop,
            "Slack" if system == "okta" else "OfficeHome",
            mfa=True,
        )
    # password expiry: one failure, then success after the change
    for i, u in enumerate(people[3:8]):
        system = "entra" if i % 2 else "okta"
        t = w.at(w.day(i), rng.uniform(8, 10), u.office.tz)
        w.sso(
            system,
            u,
            t,
            "expired",
            u.home,
            u.ua_desktop,
            "OfficeHome" if system == "entra" else "Slack",
        )
        w.sso(
            system,
            u,
            t + timedelta(minutes=rng.uniform(2, 6)),
            "success",
            u.home,
            u.ua_desktop,
            "OfficeHome" if system == "entra" else "Slack",
            mfa=True,
        )
    # UPN typo
    for u in people[8:10]:
        t = w.at(w.day(rng.randrange(w.days)), 9.3, u.office.tz)
        w.sso(
            "entra",
            None,
            t,
            "unknown_user",
            u.home,
            u.ua_desktop,
            "OfficeHome",
            login=u.login.replace(".", "") + "@" + org.domain,
        )
        w.sso(
            "entra",
            u,
            t + timedelta(seconds=25),
            "success",
            u.home,
            u.ua_desktop,
            "OfficeHome",
            mfa=True,
        )


def benign(w: World, plan: dict) -> None:
    rng = w.rng
    org = w.org
    sf = org.office("sf")
    # (a) office NAT, Monday after a forced password rotation
    d0 = w.day(0)
    for u in plan["rotation"]:
        t = w.at(d0, rng.uniform(8.3, 10.6), sf.tz)
        fails = 1 if rng.random() < 0.7 else 2
        for k in range(fails):
            w.sso(
                "okta",
                u,
                t + timedelta(seconds=12 * k),
                "bad_password",
                sf.nat,
                u.ua_desktop,
                "Slack",
                tag=ROTATION,
                okta_zone="Office",
            )
        w.sso(
            "okta",
            u,
            t + timedelta(seconds=12 * fails + rng.uniform(10, 40)),
            "success",
            sf.nat,
            u.ua_desktop,
            "Slack",
            tag=ROTATION,
            mfa=True,
            okta_zone="Office",
        )
    w.item(
        Item(
            ROTATION,
            "benign_failures",
            ["T1110.003"],
            "identity.password_spray",
            "Monday after a forced password rotation: many people behind the San Francisco office NAT "
            "type the old password once or twice, then succeed within a minute.",
            malicious=False,
            details={"office": sf.name, "nat_ip": sf.nat.ip},
        )
    )
    # (b) backup service account with a stale password, every ~5 minutes for hours
    d2 = w.day(2)
    t = w.at(d2, 1.0)
    stop = w.at(d2, 7.6)
    svc_sid = f"{org.domain_sid}-3105"
    while t < stop:
        w.win(
            "svc-backup",
            svc_sid,
            t,
            "bad_password",
            "10.10.5.17",
            w.fqdn("NW-DC01"),
            "ntlm",
            src_host="NW-BACKUP01",
            tag=STALE_SVC,
            user_type="service",
        )
        t += timedelta(seconds=rng.uniform(270, 330))
    w.item(
        Item(
            STALE_SVC,
            "benign_failures",
            ["T1110.001"],
            "identity.brute_force",
            "The nightly backup job kept a stale password after a rotation and retried NTLM every five "
            "minutes from NW-BACKUP01 until operations fixed it.",
            malicious=False,
            details={"account": "svc-backup", "host": "NW-BACKUP01"},
        )
    )
    # (c) travel: tagged in the background, described here
    u = plan["traveler"]
    w.item(
        Item(
            TRAVEL,
            "benign_new_country",
            ["T1078"],
            "identity.new_geo_after_spray",
            f"{u.display} (New York) travels to Tokyo and signs in from a hotel network, no failures before.",
            malicious=False,
            details={"user": f"{u.login}@{org.domain}", "home_country": "US", "new_country": "JP"},
        )
    )
    # (d) a departed employee's phone polling Exchange with a disabled account
    gone = "marta.okonkwo"
    phone = org.book.take("bench", 7922, "oakland")
    gone_uid = "5f2c1e9a-0b7d-4c3e-9a61-2d8f4b7e1c05"
    for day in range(w.days):
        for h in sorted(rng.uniform(6, 23) for _ in range(rng.randint(2, 5))):
            w.sso(
                "entra",
                None,
                w.at(day, h, "America/Los_Angeles"),
                "disabled",
                phone,
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
                "Office 365 Exchange Online",
                login=f"{gone}@{org.domain}",
                tag=DEPARTED,
                client_app="Exchange ActiveSync",
                uid=gone_uid,
            )
    w.item(
        Item(
            DEPARTED,
            "benign_failures",
            [],
            "identity.password_spray",
            "A former employee's phone keeps trying to sync mail with the disabled account.",
            malicious=False,
            details={"user": f"{gone}@{org.domain}"},
        )
    )
    w.departed = [gone, "li.fernandes"]
