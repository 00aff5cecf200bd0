"""``generate_org_wide_spray`` — one realistic week at an AI lab: the ordinary week of
:mod:`~crownwatch.simulate.baseline` (with every benign look-alike), the crown jewels
read as every week, and **one** campaign — a MURKY-PANDA-style password spray that
tries *every* account in the directory and gets one of them.

>>> from crownwatch.simulate.org_wide_spray import generate_org_wide_spray
>>> truth = generate_org_wide_spray(Path("ows"), seed=7, users=400)   # doctest: +SKIP

The demo (:func:`~crownwatch.simulate.identity.generate_identity`) plants a dozen
attacks to show each detection at work. This week asks the question a responder
asks on a Monday after a real spray: *of what crownwatch raised, how much is the
attack?* A spray of the whole directory makes every employee "sprayed"; all of them
keep signing in from home, the office and their phones, and the researchers keep
reading the model weights. Only one of them is really compromised.

The campaign (UTC; the week starts on a Monday)
================================================

=====================  =========================================================
``org-spray-okta``     day 1, 01:30 — one hosting address (UCLOUD, Hong Kong)
                       tries one password against every Okta account, 3–9 s
                       apart, plus a few guessed names (``admin``, ``it.support``…)
``org-spray-entra``    day 1 18:00 → day 3 ~12:00 — a second password against
                       every Entra account through hosting addresses in eleven ASNs
                       and several countries (about one address per six accounts,
                       at most two tries per address per hour), one user agent,
                       one legacy app (Azure AD PowerShell, ROPC); a few names
                       that do not exist and the departed employees'. For one
                       account the password is right: Entra answers 50076 (MFA
                       required) instead of 50126.
``org-compromise``     day 3, 13:10–13:30 — from a DigitalOcean address in Frankfurt
                       with a browser the user never used, the attacker signs in
                       to Okta with the guessed password: two push challenges
                       denied, the third accepted (MFA fatigue); opens the AWS IAM
                       Identity Center app and the console (the user's own SSO
                       role, ``AWSReservedSSO_MLEngineer_…``)
``org-theft``          ~20 minutes later, from the same address — lists the
                       weights bucket and copies every shard of the frontier
                       checkpoint (8 × 4.6 GiB) with the AWS CLI: CloudTrail S3
                       data events and S3 server access logs
=====================  =========================================================

The victim is a researcher or ML engineer who reads the weights as part of the job
(so the theft is compared with a real baseline) and has a history of sign-ins
before the spray (so "new for this user" means something).

Crown jewels (``crownwatch.toml`` beside the logs)
==================================================

``frontier-weights`` (``s3://nw-model-weights/frontier/``, model weights, critical)
and ``pretrain-datasets`` (``s3://nw-datasets-prod/``, dataset). Readers, as every
week: the nightly training job reads every shard at 01:00 (CloudTrail and server
access logs, from inside the VPC); the researchers and ML engineers with AWS access
read ``config.json`` and a slice of a shard or two on the days they open the console,
from where they signed in; their dataset reads are the baseline's. The job and the
ML engineers' SSO role are the assets' expected readers.

Outputs
=======

Everything :func:`~crownwatch.simulate.identity.generate_identity` writes (Okta,
Entra, CloudTrail, sshd, Windows) plus ``s3-access/<bucket>/…`` server access logs,
``crownwatch.toml`` (the registry) and ``truth.json``: the identity manifest's shape,
``"scenario": "org_wide_spray"``, the four attack items (each with the detections that
should name it: ``detection`` and, for the compromise and the theft, ``detections``;
``also_detections`` lists those that would describe the theft legitimately if they
fired) and ``exclusive`` — the entities only the attack has, which
:func:`crownwatch.evaluate.attack_precision` needs to say which findings belong to it:

* ``src_ips``: the campaign's addresses no one else used that week;
* ``users``: the compromised user (identity key and login), ``since`` the password was
  first proven right;
* ``principals``: the compromised user's role session ARN(s), same ``since``.

``campaign=False`` writes the same week without the campaign (a control: what the
detections raise on an ordinary week with these crown jewels).

The same seed gives byte-identical files; the benign part of the week (sign-ins,
API calls) is exactly the demo's for the same seed, users and days.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from crownwatch.simulate import baseline
from crownwatch.simulate import truth as truth_mod
from crownwatch.simulate.events import ApiCall, s3_get_object
from crownwatch.simulate.formats._common import iso_s
from crownwatch.simulate.identity import (
    ALL_FORMATS,
    build_world,
    check_formats,
    make_truth,
    write_world,
)
from crownwatch.simulate.population import FIRST, LAST, Net, User
from crownwatch.simulate.storage import (
    SHARD_BYTES,
    SHARDS,
    UA_SDK,
    WEIGHTS_BUCKET,
    access_log_line,
    request_id,
    write_access_logs,
)
from crownwatch.simulate.truth import Item
from crownwatch.simulate.world import World

DATASETS_BUCKET = "nw-datasets-prod"
WEIGHTS_PREFIX = "frontier/"
CONFIG_KEY = "frontier/v3/config.json"
CONFIG_BYTES = 2_345
ML_ROLE = "AWSReservedSSO_MLEngineer_7c1e4b2a9d3f5e60"  # the baseline's SSO role for ML staff
NIGHTLY_ROLE = "nightly-train"
NIGHTLY_IP = "10.20.4.11"

SPRAY_UA_OKTA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
SPRAY_UA_ENTRA = (
    "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.1"
)
SPRAY_APP_ENTRA = "Azure Active Directory PowerShell"
ATTACKER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
ATTACKER_CLI = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe sso"
GUESSED = ("admin", "administrator", "it.support", "helpdesk", "test.user", "devops")
# hosting ASNs and where their addresses geolocate, for the distributed spray
SPRAY_NETS = (
    (14061, "amsterdam"),
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
    (138915, "hongkong"),
    (16276, "amsterdam"),
)

OKTA_SPRAY = "org-spray-okta"
ENTRA_SPRAY = "org-spray-entra"
COMPROMISE = "org-compromise"
THEFT = "org-theft"


@dataclass
class Campaign:
    """What the campaign did, for the truth manifest."""

    victim: User
    attacker: Net
    okta_vps: Net
    entra_nets: list[Net]
    validated_at: datetime  # the spray attempt that found the password
    validated_from: str
    signed_in_at: datetime
    principal: str  # the victim's role session ARN
    theft_calls: list[ApiCall] = field(default_factory=list)


def registry_toml(acct: str, domain: str) -> str:
    """The crown-jewel registry of the simulated lab (``crownwatch.toml``)."""
    return f"""# The crown jewels of the simulated lab (crownwatch.simulate.org_wide_spray).
[organisation]
name = "Northwind AI"
own_accounts = ["{acct}"]

[[assets]]
name = "frontier-weights"
kind = "model_weights"
locations = ["s3://{WEIGHTS_BUCKET}/{WEIGHTS_PREFIX}"]
owners = ["ml-platform@{domain}"]
expected_readers = ["arn:aws:sts::{acct}:assumed-role/{NIGHTLY_ROLE}/*", "arn:aws:sts::{acct}:assumed-role/{ML_ROLE}/*"]
sensitivity = "critical"

[[assets]]
name = "pretrain-datasets"
kind = "dataset"
locations = ["s3://{DATASETS_BUCKET}/"]
expected_readers = ["arn:aws:sts::{acct}:assumed-role/{ML_ROLE}/*"]
sensitivity = "high"
"""


def _role_arn(acct: str, role: str, session: str) -> str:
    return f"arn:aws:sts::{acct}:assumed-role/{role}/{session}"


class JewelLog:
    """The weights bucket's reads, in CloudTrail (as :class:`ApiCall` in the world) and
    in the bucket's S3 server access logs (collected here, written at the end)."""

    def __init__(self, w: World):
        self.w = w
        self.acct = w.org.aws_account
        self.access: dict[str, list[tuple[datetime, str]]] = {}

    def read(
        self,
        t: datetime,
        bucket: str,
        role: str,
        session: str,
        key: str,
        nbytes: int,
        ip: str,
        ua: str,
        *,
        tag: str = "",
        access_log: bool = True,
    ) -> ApiCall | None:
        if not (self.w.start <= t < self.w.end):
            return None
        arn = _role_arn(self.acct, role, session)
        call = s3_get_object(t, bucket, key, session, role, self.acct, ip, ua, nbytes, tag=tag)
        self.w.call(call)
        if access_log:
            rid = request_id(t, bucket, arn, key, "GetObject")
            line = access_log_line(t, bucket, arn, key, nbytes, ip, rid, ua=ua)
            self.access.setdefault(bucket, []).append((t, line))
        return call


def _weights_reader(u: User) -> bool:
    return u.role in ("research", "engineering") and u.has_aws


def jewel_reads(w: World, rng: random.Random, log: JewelLog) -> None:
    """The weights bucket on an ordinary week: the nightly job, and the people who
    read the model as part of their work, from where they signed in to AWS that day."""
    sess_of = {}
    for day in range(w.days):
        sess = f"i-0{zlib.crc32(f'{w.seed}:{day}'.encode()):08x}{rng.getrandbits(32):08x}"
        sess_of[day] = sess
        t = w.at(day, 1.0)
        for i, key in enumerate(SHARDS):
            log.read(
                t + timedelta(minutes=3 * i, seconds=rng.randint(0, 59)),
                WEIGHTS_BUCKET,
                NIGHTLY_ROLE,
                sess,
                key,
                SHARD_BYTES,
                NIGHTLY_IP,
                UA_SDK,
            )
    readers = {u.login: u for u in w.org.users if _weights_reader(u)}
    consoles = [
        ev
        for ev in w.signins
        if ev.system == "aws"
        and ev.user_type == "federated"
        and ev.outcome == "success"
        and ev.user in readers
    ]
    for ev in consoles:
        session = f"{ev.user}@{w.org.domain}"
        role = ev.extra.get("role", ML_ROLE)
        t = ev.time + timedelta(minutes=rng.uniform(5, 90))
        log.read(
            t,
            WEIGHTS_BUCKET,
            role,
            session,
            CONFIG_KEY,
            CONFIG_BYTES,
            ev.src_ip,
            rng.choice(baseline.CLI_UAS),
        )
        shards = 2 if rng.random() < 0.15 else 1 if rng.random() < 0.6 else 0
        for _ in range(shards):
            t += timedelta(minutes=rng.uniform(3, 120))
            log.read(
                t,
                WEIGHTS_BUCKET,
                role,
                session,
                rng.choice(SHARDS),
                rng.randint(50, 400) * 1_000_000,
                ev.src_ip,
                rng.choice(baseline.CLI_UAS),
            )


def _take(w: World, asn: int, place: str) -> Net:
    """A fresh address on ``asn`` (the documentation ranges first, then the test range)."""
    for pool in ("doc3", "doc2", "bench"):
        try:
            return w.org.book.take(pool, asn, place)
        except ValueError:
            continue
    raise ValueError("no address left")


def _successes_before(w: World, t: datetime) -> dict[str, int]:
    n: dict[str, int] = {}
    for ev in w.signins:
        if ev.time < t and ev.outcome == "success" and ev.system in ("okta", "entra"):
            n[ev.user] = n.get(ev.user, 0) + 1
    return n


def _pick_victim(w: World, rng: random.Random, spray_start: datetime, theft_day: int) -> User:
    """A researcher or ML engineer who reads the weights, signed in at least five times
    before the spray, read the weights before the theft day, and is not one of the
    baseline's look-alikes (the traveller)."""
    before = _successes_before(w, spray_start)
    read_days: dict[str, set[int]] = {}
    for c in w.calls:
        if c.event_name == "GetObject" and (c.request or {}).get("bucketName") == WEIGHTS_BUCKET:
            day = int((c.time - w.start).total_seconds() // 86400)
            read_days.setdefault(c.principal.split("@")[0], set()).add(day)
    travelling = {ev.user for ev in w.signins if ev.tag == baseline.TRAVEL}
    ranked = []
    for u in w.org.users:
        if not _weights_reader(u) or u.login in travelling:
            continue
        days = {d for d in read_days.get(u.login, ()) if d < theft_day}
        ranked.append((before.get(u.login, 0) >= 5, len(days) >= 1, u.login, u))
    best = [r for r in ranked if r[0] and r[1]] or [r for r in ranked if r[1]] or ranked
    if not best:
        raise ValueError("no weights reader in the organisation to compromise")
    return rng.choice(sorted(best, key=lambda r: r[2]))[3]


def _stranger_names(rng: random.Random, n: int, taken: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        name = f"{rng.choice(FIRST)}.{rng.choice(LAST)}".lower()
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def plant_campaign(w: World, rng: random.Random, log: JewelLog) -> Campaign:
    org = w.org
    users = sorted(org.users, key=lambda u: u.login)
    logins = {u.login for u in users}
    d1, d3 = w.day(1), w.day(3)
    okta_start = w.at(d1, 1.5)
    entra_start = w.at(d1, 18.0)
    victim = _pick_victim(w, rng, okta_start, d3)

    # -- 1. one hosting address, every Okta account, one password ----------------------
    vps = _take(w, 135377, "hongkong")
    names: list[tuple[User | None, str]] = [(u, u.login) for u in users]
    names += [(None, g) for g in GUESSED]
    rng.shuffle(names)
    t = okta_start
    for u, login in names:
        t += timedelta(seconds=rng.uniform(3, 9))
        if u is None:
            w.sso(
                "okta",
                None,
                t,
                "unknown_user",
                vps,
                SPRAY_UA_OKTA,
                "Okta Dashboard",
                login=f"{login}@{org.domain}",
                tag=OKTA_SPRAY,
                threat=True,
            )
        else:
            w.sso(
                "okta",
                u,
                t,
                "bad_password",
                vps,
                SPRAY_UA_OKTA,
                "Okta Dashboard",
                tag=OKTA_SPRAY,
                threat=rng.random() < 0.3,
            )
    w.item(
        Item(
            OKTA_SPRAY,
            "password_spray",
            ["T1110.003"],
            "identity.password_spray",
            "One hosting address tries one password against every Okta account in the directory, "
            "a few seconds apart, with a handful of guessed names — the spray that opens the campaign.",
            details={"accounts": len(users), "password_round": 1},
        )
    )

    # -- 2. a second password against every Entra account, low and slow ---------------
    extra = _stranger_names(rng, max(4, len(users) // 50), set(logins))
    departed = list(getattr(w, "departed", []))
    attempts: list[tuple[User | None, str]] = [(u, u.login) for u in users]
    attempts += [(None, n) for n in extra] + [(None, n) for n in departed]
    rng.shuffle(attempts)
    n_nets = max(48, math.ceil(len(attempts) / 6))
    nets = [_take(w, *SPRAY_NETS[i % len(SPRAY_NETS)]) for i in range(n_nets)]
    hours = 42
    step = hours * 3600 / len(attempts)
    per_ip_hour: dict[tuple[str, int], int] = {}
    per_ip_users: dict[str, int] = {}
    validated_at, validated_from = None, ""
    for k, (u, login) in enumerate(attempts):
        t = entra_start + timedelta(seconds=k * step + rng.uniform(0, step * 0.8))
        hour = int((t - entra_start).total_seconds() // 3600)
        for _ in range(200):
            net = rng.choice(nets)
            if per_ip_hour.get((net.ip, hour), 0) < 2 and per_ip_users.get(net.ip, 0) < 8:
                break
        per_ip_hour[(net.ip, hour)] = per_ip_hour.get((net.ip, hour), 0) + 1
        per_ip_users[net.ip] = per_ip_users.get(net.ip, 0) + 1
        kw = {"client_app": "Mobile Apps and Desktop clients", "tag": ENTRA_SPRAY}
        if u is None:
            outcome = "disabled" if login in departed else "unknown_user"
            w.sso(
                "entra",
                None,
                t,
                outcome,
                net,
                SPRAY_UA_ENTRA,
                SPRAY_APP_ENTRA,
                login=f"{login}@{org.domain}",
                **kw,
            )
        elif u is victim:
            # the right password: Entra wants the second factor (50076), ROPC cannot give it
            w.sso("entra", u, t, "mfa_required", net, SPRAY_UA_ENTRA, SPRAY_APP_ENTRA, **kw)
            validated_at, validated_from = t, net.ip
        else:
            w.sso("entra", u, t, "bad_password", net, SPRAY_UA_ENTRA, SPRAY_APP_ENTRA, **kw)
    w.item(
        Item(
            ENTRA_SPRAY,
            "password_spray",
            ["T1110.003"],
            "identity.distributed_spray",
            "Low and slow: a second password against every Entra account through hosting addresses in "
            "eleven ASNs and several countries, at most two tries per address per hour and a few accounts "
            "per address, over two days; one user agent, one legacy app (Azure AD PowerShell, ROPC). "
            "One account answers 50076: the password was right.",
            details={
                "accounts": len(users),
                "addresses": len(nets),
                "user_agent": SPRAY_UA_ENTRA,
                "app": SPRAY_APP_ENTRA,
                "password_round": 2,
            },
        )
    )
    assert validated_at is not None

    # -- 3. the attacker signs in as the victim: MFA fatigue, then AWS -----------------
    attacker = _take(w, 14061, "frankfurt")
    t0 = w.at(d3, 13.15) + timedelta(minutes=rng.uniform(0, 20))
    for k in range(2):
        w.sso(
            "okta",
            victim,
            t0 + timedelta(minutes=3 * k),
            "mfa_required",
            attacker,
            ATTACKER_UA,
            "Okta Dashboard",
            tag=COMPROMISE,
        )
    signed_in = t0 + timedelta(minutes=7.5)
    session = f"102{rng.getrandbits(64):016x}"[:25]
    w.sso(
        "okta",
        victim,
        signed_in,
        "success",
        attacker,
        ATTACKER_UA,
        "Okta Dashboard",
        mfa=True,
        tag=COMPROMISE,
        okta_session=session,
    )
    w.sso(
        "okta",
        victim,
        signed_in + timedelta(minutes=2),
        "success",
        attacker,
        ATTACKER_UA,
        "AWS IAM Identity Center",
        tag=COMPROMISE,
        okta_session=session,
    )
    w.console(
        victim.login,
        signed_in + timedelta(minutes=3),
        "success",
        attacker,
        ATTACKER_UA,
        user_type="federated",
        role=ML_ROLE,
        tag=COMPROMISE,
    )
    w.item(
        Item(
            COMPROMISE,
            "valid_account",
            ["T1078", "T1621"],
            "identity.success_after_spray",
            "The account whose password the Entra spray found: from a hosting address in Frankfurt with "
            "a browser the user never used, two pushes denied and the third accepted (MFA fatigue), "
            "then the AWS IAM Identity Center app and the console with the user's own SSO role.",
            related=[OKTA_SPRAY, ENTRA_SPRAY],
            details={
                "user": f"{victim.login}@{org.domain}",
                "validated_at": iso_s(validated_at),
                "validated_from": validated_from,
                "attacker_ip": attacker.ip,
                "country": attacker.country,
                "asn": attacker.asn,
            },
        )
    )

    # -- 4. the theft: every shard of the frontier checkpoint ---------------------------
    sess_name = f"{victim.login}@{org.domain}"
    principal = _role_arn(org.aws_account, ML_ROLE, sess_name)
    t = signed_in + timedelta(minutes=rng.uniform(15, 25))
    theft: list[ApiCall] = []
    for name, req in (
        ("ListBuckets", {"Host": "s3.us-east-1.amazonaws.com"}),
        (
            "ListObjectsV2",
            {
                "bucketName": WEIGHTS_BUCKET,
                "Host": f"{WEIGHTS_BUCKET}.s3.us-east-1.amazonaws.com",
                "list-type": "2",
                "prefix": WEIGHTS_PREFIX,
            },
        ),
    ):
        c = ApiCall(
            t,
            "s3.amazonaws.com",
            name,
            sess_name,
            "AssumedRole",
            attacker.ip,
            ATTACKER_CLI,
            role=ML_ROLE,
            request=req,
            category="Data" if name != "ListBuckets" else "Management",
            tag=THEFT,
        )
        w.call(c)
        theft.append(c)
        t += timedelta(seconds=rng.uniform(2, 8))
    for key in [CONFIG_KEY, *SHARDS]:
        c = log.read(
            t,
            WEIGHTS_BUCKET,
            ML_ROLE,
            sess_name,
            key,
            CONFIG_BYTES if key == CONFIG_KEY else SHARD_BYTES,
            attacker.ip,
            ATTACKER_CLI,
            tag=THEFT,
        )
        if c is not None:
            theft.append(c)
        t += timedelta(seconds=rng.uniform(40, 150) if key != CONFIG_KEY else rng.uniform(2, 9))
    w.item(
        Item(
            THEFT,
            "data_theft",
            ["T1078", "T1530", "AML.T0048.004"],
            "exfiltration.jewel_access_after_identity",
            "With the victim's SSO role, from the attacker's address, the AWS CLI lists the weights "
            "bucket and copies every shard of the frontier checkpoint.",
            related=[COMPROMISE],
        )
    )
    return Campaign(
        victim=victim,
        attacker=attacker,
        okta_vps=vps,
        entra_nets=nets,
        validated_at=validated_at,
        validated_from=validated_from,
        signed_in_at=signed_in,
        principal=principal,
        theft_calls=theft,
    )


def build(
    *,
    seed: int = 7,
    users: int = 400,
    days: int = 7,
    start: datetime | None = None,
    campaign: bool = True,
) -> tuple[World, JewelLog, Campaign | None]:
    """The week's neutral events (no files written)."""
    if days < 5 and campaign:
        raise ValueError("days must be at least 5 (spray, compromise on day 3, theft)")
    w = build_world(seed=seed, users=users, days=days, start=start, attacks_on=False)
    log = JewelLog(w)
    jewel_reads(w, random.Random(f"{seed}:jewels"), log)
    w.calls.sort(key=lambda c: c.time)
    camp = plant_campaign(w, random.Random(f"{seed}:campaign"), log) if campaign else None
    w.signins.sort(key=lambda e: e.time)
    w.calls.sort(key=lambda c: c.time)
    return w, log, camp


def generate_org_wide_spray(
    out_dir: Path,
    *,
    seed: int = 7,
    users: int = 400,
    days: int = 7,
    start: datetime | None = None,
    formats: tuple[str, ...] = ALL_FORMATS,
    campaign: bool = True,
) -> dict:
    """Write the week under ``out_dir`` (logs, ``crownwatch.toml``, ``truth.json``) and
    return the truth manifest."""
    check_formats(formats)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    w, log, camp = build(seed=seed, users=users, days=days, start=start, campaign=campaign)
    written, fmt_of = write_world(out_dir, w, seed=seed, formats=formats)
    access = write_access_logs(out_dir / "s3-access", log.access)
    (out_dir / "crownwatch.toml").write_text(registry_toml(w.org.aws_account, w.org.domain))
    truth = make_truth(w, written, fmt_of, seed=seed, users=users, formats=formats)
    truth["generator"] = "crownwatch.simulate.org_wide_spray"
    truth["scenario"] = "org_wide_spray"
    truth["config"] = "crownwatch.toml"
    truth["files"]["s3-access/"] = {
        "format": "s3_access",
        "files": len(access),
        "records": sum(len(v) for v in log.access.values()),
    }
    truth["counts"]["api_calls"] = len(w.calls) if "cloudtrail" in formats else 0
    truth["exclusive"] = _exclusive(w, camp, formats) if camp else {}
    if camp:
        _finish_items(truth, w, camp, out_dir, formats)
    truth_mod.write(out_dir, truth)
    return truth


def _finish_items(truth: dict, w: World, camp: Campaign, out_dir: Path, formats) -> None:
    items = {i["id"]: i for i in truth["attacks"]}
    comp = items[COMPROMISE]
    comp["detections"] = ["identity.success_after_spray", "identity.new_geo_after_spray"]
    theft = items[THEFT]
    calls = [c for c in camp.theft_calls if c.event_name == "GetObject"]
    files = sorted(
        str(p.relative_to(out_dir))
        for p in (out_dir / "s3-access" / WEIGHTS_BUCKET).iterdir()
        if any(c.time.strftime("%Y-%m-%d-%H-00-00") in p.name for c in calls)
    )
    if "cloudtrail" in formats:
        files.append(f"cloudtrail/AWSLogs/{w.org.aws_account}/CloudTrail/us-east-1/")
    theft.update(
        {
            "detections": [
                "exfiltration.jewel_access_after_identity",
                "exfiltration.bulk_read",
            ],
            "also_detections": ["exfiltration.first_access", "exfiltration.transfer_out"],
            "src_ips": [camp.attacker.ip],
            "users": [f"{camp.victim.login}@{w.org.domain}"],
            "principals": [camp.principal],
            "assets": ["frontier-weights"],
            "systems": ["aws"],
            "files": files,
            "first_seen": iso_s(min(c.time for c in camp.theft_calls)),
            "last_seen": iso_s(max(c.time for c in camp.theft_calls)),
            "events": len(camp.theft_calls),
            "details": {
                "bucket": WEIGHTS_BUCKET,
                "objects": len(calls),
                "bytes": sum(c.bytes_out for c in calls),
                "user_agent": ATTACKER_CLI,
            },
        }
    )


def _exclusive(w: World, camp: Campaign, formats) -> dict:
    """The entities only the attack has: its addresses that nothing else used this week,
    and the compromised user and principal from the moment the password was known."""
    ours = {OKTA_SPRAY, ENTRA_SPRAY, COMPROMISE, THEFT}
    campaign_ips = {ev.src_ip for ev in w.signins if ev.tag in ours}
    campaign_ips |= {c.src_ip for c in w.calls if c.tag in ours}
    others = {ev.src_ip for ev in w.signins if ev.tag not in ours}
    others |= {c.src_ip for c in w.calls if c.tag not in ours}
    since = iso_s(camp.validated_at)
    u = camp.victim
    return {
        "src_ips": sorted(campaign_ips - others),
        "users": [{"user": f"{u.login}@{w.org.domain}", "since": since}],
        "principals": [{"principal": camp.principal, "since": since}],
    }


__all__ = ["build", "generate_org_wide_spray", "registry_toml"]
