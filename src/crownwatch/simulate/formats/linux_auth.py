"""``/var/log/auth.log`` as rsyslog writes it (traditional RFC 3164 timestamp, UTC, no
year), collected from several hosts into one file.

One sshd connection (one pid, one client port) can carry several password attempts;
rsyslog folds identical consecutive lines into ``message repeated N times: [ … ]``,
so a reader must count the repeats to count attempts. Events that share
``extra["conn"]`` are attempts on the same connection.
"""

from __future__ import annotations

import base64
import random
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from crownwatch.simulate.events import SignIn
from crownwatch.simulate.formats._common import syslog_ts

MAX_AUTH_TRIES = 6


class _Host:
    def __init__(self, name: str, rng: random.Random):
        self.name = name
        self.pid = rng.randrange(2000, 9000)
        self.session = rng.randrange(100, 900)
        self.logind = rng.randrange(600, 900)
        self.uids: dict[str, int] = {}

    def next_pid(self, rng: random.Random) -> int:
        self.pid += rng.randrange(3, 400)
        if self.pid > 4_000_000:
            self.pid = 2000
        return self.pid

    def uid(self, user: str) -> int:
        if user == "root":
            return 0
        return self.uids.setdefault(user, 1001 + len(self.uids))


def _fp(rng: random.Random) -> str:
    return base64.b64encode(rng.getrandbits(256).to_bytes(32, "big")).decode().rstrip("=")


def _connection(attempts: list[SignIn], host: _Host, rng: random.Random) -> list[tuple]:
    """Lines (time, host, program, message) for one sshd connection."""
    first = attempts[0]
    pid = host.next_pid(rng)
    prog = f"sshd[{pid}]"
    ip = first.src_ip
    port = first.extra.get("port") or rng.randrange(32768, 61000)
    user = first.user
    lines: list[tuple] = []

    def add(t, msg, program=prog):
        lines.append((t, host.name, program, msg))

    outcome = first.outcome
    if outcome == "unknown_user":
        for i, ev in enumerate(attempts):
            if i == 0:
                add(
                    ev.time - timedelta(milliseconds=400),
                    f"Invalid user {user} from {ip} port {port}",
                )
            add(ev.time, "pam_unix(sshd:auth): check pass; user unknown")
            add(
                ev.time,
                f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}",
            )
            add(
                ev.time + timedelta(seconds=2),
                f"Failed password for invalid user {user} from {ip} port {port} ssh2",
            )
        end = attempts[-1].time + timedelta(seconds=2, milliseconds=rng.randrange(100, 900))
        if rng.random() < 0.5:
            add(end, f"Connection closed by invalid user {user} {ip} port {port} [preauth]")
        else:
            add(end, f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]")
            add(end, f"Disconnected from invalid user {user} {ip} port {port} [preauth]")
        return lines
    if outcome in ("locked", "disabled"):
        why = "account is locked" if outcome == "locked" else "not listed in AllowUsers"
        if outcome == "locked":
            add(first.time, f"User {user} not allowed because {why}")
        else:
            add(first.time, f"User {user} from {ip} not allowed because {why}")
        add(
            first.time + timedelta(seconds=1),
            f"Connection closed by invalid user {user} {ip} port {port} [preauth]",
        )
        return lines
    if outcome == "expired":
        add(first.time, f"pam_unix(sshd:account): account {user} has expired (account expired)")
        add(
            first.time,
            f"fatal: Access denied for user {user} by PAM account configuration [preauth]",
        )
        return lines

    # bad_password attempts, possibly ending in a success on the same connection
    fails = [ev for ev in attempts if ev.outcome == "bad_password"]
    ok = next((ev for ev in attempts if ev.outcome == "success"), None)
    if fails:
        t0 = fails[0].time
        add(
            t0 - timedelta(seconds=2),
            f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}",
        )
        msg = f"Failed password for {user} from {ip} port {port} ssh2"
        add(t0, msg)
        if len(fails) > 1:
            add(fails[-1].time, f"message repeated {len(fails) - 1} times: [ {msg}]")
        end = fails[-1].time + timedelta(milliseconds=rng.randrange(200, 900))
        if ok is None:
            if len(fails) >= MAX_AUTH_TRIES:
                add(
                    end,
                    f"error: maximum authentication attempts exceeded for {user} from {ip} port {port} ssh2 [preauth]",
                )
                add(
                    end,
                    f"Disconnecting authenticating user {user} {ip} port {port}: Too many authentication failures [preauth]",
                )
            else:
                add(
                    end,
                    f"Connection closed by authenticating user {user} {ip} port {port} [preauth]",
                )
            if len(fails) > 1:
                add(
                    end,
                    f"PAM {len(fails) - 1} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}",
                )
            return lines
    if ok is not None:
        if ok.protocol == "publickey":
            add(
                ok.time,
                f"Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:{_fp(rng)}",
            )
        else:
            add(ok.time, f"Accepted password for {user} from {ip} port {port} ssh2")
        uid = host.uid(user)
        host.session += 1
        sess = host.session
        add(
            ok.time, f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)"
        )
        add(
            ok.time + timedelta(milliseconds=30),
            f"New session {sess} of user {user}.",
            f"systemd-logind[{host.logind}]",
        )
        dur = timedelta(seconds=ok.extra.get("duration", rng.randrange(60, 5400)))
        end = ok.time + dur
        add(end, f"Received disconnect from {ip} port {port}:11: disconnected by user")
        add(end, f"Disconnected from user {user} {ip} port {port}")
        add(end, f"pam_unix(sshd:session): session closed for user {user}")
        add(
            end + timedelta(milliseconds=20),
            f"Session {sess} logged out. Waiting for processes to exit.",
            f"systemd-logind[{host.logind}]",
        )
        add(
            end + timedelta(milliseconds=25),
            f"Removed session {sess}.",
            f"systemd-logind[{host.logind}]",
        )
    return lines


def render(events: list[SignIn], rng: random.Random) -> list[str]:
    hosts: dict[str, _Host] = {}
    conns: dict[str, list[SignIn]] = defaultdict(list)
    order: list[str] = []
    for i, ev in enumerate(events):
        key = ev.extra.get("conn") or f"#{i}"
        if key not in conns:
            order.append(key)
        conns[key].append(ev)
    lines: list[tuple] = []
    for key in order:
        atts = conns[key]
        h = atts[0].host
        if h not in hosts:
            hosts[h] = _Host(h, rng)
        lines.extend(_connection(atts, hosts[h], rng))
    lines.sort(key=lambda x: x[0])
    return [f"{syslog_ts(t)} {h} {prog}: {msg}" for t, h, prog, msg in lines]


def write(
    out_dir: Path, events: list[SignIn], rng: random.Random
) -> dict[str, tuple[list[SignIn], int]]:
    d = out_dir / "linux"
    d.mkdir(parents=True, exist_ok=True)
    lines = render(events, rng)
    (d / "auth.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"linux/auth.log": (list(events), len(lines))}
