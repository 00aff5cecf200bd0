"""The mutable state a scenario is built in: the organisation, the clock, the event
lists and small constructors that turn "this person signed in to that system from
there" into a neutral :class:`~crownwatch.simulate.events.SignIn`."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crownwatch.simulate.events import ApiCall, SignIn
from crownwatch.simulate.population import Net, Org, User, build_org
from crownwatch.simulate.truth import Item

DEFAULT_START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday

DCS = {"sf": "NW-DC01", "nyc": "NW-DC01", "ldn": "NW-DC02", "sg": "NW-DC02"}
FILE_SERVERS = {"sf": "NW-FS01", "nyc": "NW-FS02", "ldn": "NW-FS03", "sg": "NW-FS04"}
JSON_SITE_HOSTS = ("NW-DC02", "NW-FS03", "NW-FS04", "NW-LDN-", "NW-SG-", "NW-JUMP02")


class World:
    def __init__(self, seed: int, users: int, days: int, start: datetime | None):
        self.seed = seed
        self.rng = random.Random(seed)
        self.org: Org = build_org(random.Random(seed * 7919 + 1), users)
        self.start = (start or DEFAULT_START).astimezone(UTC)
        self.days = days
        self.end = self.start + timedelta(days=days)
        self.signins: list[SignIn] = []
        self.calls: list[ApiCall] = []
        self.call_files: dict[int, str] = {}  # id(call) -> the file it was written to
        self.items: dict[str, Item] = {}
        self.skip_first: set[tuple[str, str, int]] = set()  # (system, login, day)
        self._vpn_pool = 0

    # ---- time -------------------------------------------------------------------
    def day(self, k: int) -> int:
        """Clamp a scenario day to the simulated period."""
        return max(0, min(k, self.days - 1))

    def at(self, day: int, hour: float, tz: str = "UTC") -> datetime:
        """UTC instant of ``hour`` (fractional) local time on simulated ``day``."""
        d = (self.start + timedelta(days=day)).date()
        local = datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(tz)) + timedelta(hours=hour)
        return local.astimezone(UTC)

    def local_weekday(self, day: int, tz: str) -> int:
        return self.at(day, 12, tz).astimezone(ZoneInfo(tz)).weekday()

    # ---- identities ------------------------------------------------------------
    def fqdn(self, host: str) -> str:
        return f"{host}.{self.org.ad_fqdn}"

    def dc(self, u: User) -> str:
        return self.fqdn(DCS[u.office.key])

    def vpn_internal(self) -> str:
        self._vpn_pool += 1
        return f"10.250.{(self._vpn_pool >> 8) & 255}.{self._vpn_pool & 255 or 1}"

    def json_site(self, host: str) -> bool:
        return any(h in host for h in JSON_SITE_HOSTS)

    # ---- constructors ----------------------------------------------------------
    def add(self, ev: SignIn) -> SignIn:
        if self.start <= ev.time < self.end:
            self.signins.append(ev)
        return ev

    def sso(
        self,
        system: str,
        u: User | None,
        t: datetime,
        outcome: str,
        net: Net,
        ua: str,
        app: str,
        *,
        login: str | None = None,
        tag: str = "",
        mfa: bool = False,
        **extra,
    ) -> SignIn:
        """A sign-in to Okta or Entra by a member of the org (or by a typed name)."""
        if u is not None:
            uid = u.okta_id if system == "okta" else u.entra_id
            name, display = u.login, u.display
        else:
            uid, name, display = "", login or "unknown", ""
        if u is None and outcome != "unknown_user" and system == "entra":
            uid = extra.pop("uid", "")
        return self.add(
            SignIn(
                time=t,
                system=system,
                user=login or name,
                outcome=outcome,
                src_ip=net.ip,
                domain=self.org.domain,
                display_name=display,
                user_uid=uid,
                asn=net.asn,
                as_org=net.as_org,
                isp_domain=net.isp_domain,
                country=net.country,
                region=net.region,
                city=net.city,
                lat=net.lat,
                lon=net.lon,
                is_proxy=net.is_proxy,
                user_agent=ua,
                app=app,
                tag=tag,
                mfa=mfa,
                extra=extra,
            )
        )

    def win(
        self,
        user: str,
        sid: str,
        t: datetime,
        outcome: str,
        ip: str,
        host: str,
        protocol: str,
        *,
        src_host: str = "",
        tag: str = "",
        user_type: str = "human",
        **extra,
    ) -> SignIn:
        return self.add(
            SignIn(
                time=t,
                system="windows",
                user=user,
                outcome=outcome,
                src_ip=ip,
                domain=self.org.ad_fqdn,
                user_uid=sid,
                country="",
                host=host,
                src_host=src_host,
                protocol=protocol,
                tag=tag,
                user_type=user_type,
                extra=extra,
            )
        )

    def ssh(
        self,
        user: str,
        t: datetime,
        outcome: str,
        ip: str,
        host: str,
        *,
        protocol: str = "publickey",
        conn: str = "",
        net: Net | None = None,
        tag: str = "",
        **extra,
    ) -> SignIn:
        if conn:
            extra["conn"] = conn
        ev = SignIn(
            time=t,
            system="linux",
            user=user,
            outcome=outcome,
            src_ip=ip,
            host=host,
            protocol=protocol,
            tag=tag,
            country="",
            extra=extra,
        )
        if net is not None:
            ev.asn, ev.as_org, ev.country, ev.city = net.asn, net.as_org, net.country, net.city
        return self.add(ev)

    def console(
        self,
        user: str,
        t: datetime,
        outcome: str,
        net: Net,
        ua: str,
        *,
        user_type: str = "iam",
        mfa: bool = False,
        tag: str = "",
        **extra,
    ) -> SignIn:
        return self.add(
            SignIn(
                time=t,
                system="aws",
                user=user,
                outcome=outcome,
                src_ip=net.ip,
                domain=self.org.domain,
                asn=net.asn,
                as_org=net.as_org,
                country=net.country,
                city=net.city,
                region=net.region,
                user_agent=ua,
                app="AWS Console",
                user_type=user_type,
                mfa=mfa,
                tag=tag,
                extra=extra,
            )
        )

    def call(self, c: ApiCall) -> None:
        if self.start <= c.time < self.end:
            self.calls.append(c)

    def item(self, item: Item) -> str:
        self.items[item.id] = item
        return item.id
