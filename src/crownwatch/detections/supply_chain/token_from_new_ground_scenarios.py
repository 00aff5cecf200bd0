"""Scenarios of ``supply_chain.token_from_new_ground``.

Engineers of the labs org with ten days of ordinary work from their desks. Attacks: an
account mints a classic personal access token from an address abroad and clones the
frontier repositories with it from there an hour later (created and used from new
ground: high); an account adds an SSH key from its usual desk — a session on the
laptop — and the key clones over SSH from another country that evening (no token id
on the creation: the new key is the SSH credential the account never showed before;
high for the new country). Look-alikes: an engineer makes a token at the desk and
fetches with it from the desk; another adds a key and pushes over SSH from the desk.
"""

from __future__ import annotations

from crownwatch.detections.contract import Scenario
from crownwatch.detections.supply_chain._scenario_kit import config, day, ev, logs
from crownwatch.testing.github import PAT_CLASSIC, SSH_KEY, token_hash


def desk_history(login: str, ip: str, days: int = 10) -> list[dict]:
    out = []
    for d in range(days):
        out.append(ev(day(d, 9), "git.fetch", login, repo="ml-tokenizer", ip=ip))
        out.append(ev(day(d, 11), "pull_request.create", login, repo="ml-tokenizer", ip=ip))
    return out


PAT_IP = "192.0.2.90"


def pat_from_abroad() -> list[dict]:
    token = dict(access_type=PAT_CLASSIC, token_id="58812", hashed_token=token_hash("ghp_jb"))
    out = desk_history("jbarros", "198.51.100.30")
    out.append(
        ev(
            day(10, 3),
            "personal_access_token.create",
            "jbarros",
            ip=PAT_IP,
            country="SG",
            token_id="58812",
        )
    )
    out += [
        ev(day(10, 4 + i / 60), "git.clone", "jbarros", repo=r, ip=PAT_IP, country="SG", **token)
        for i, r in enumerate(("frontier-train", "frontier-evals", "rl-core"))
    ]
    return out


KEY_USE_IP = "192.0.2.140"


def key_used_abroad() -> list[dict]:
    out = desk_history("mwen", "203.0.113.40")
    out.append(ev(day(10, 14), "public_key.create", "mwen", ip="203.0.113.40"))
    out += [
        ev(
            day(10, 20 + i / 60),
            "git.clone",
            "mwen",
            repo=r,
            ip=KEY_USE_IP,
            country="HK",
            access_type=SSH_KEY,
            hashed_token=token_hash("ssh-ed25519 AAAAC3Nza-mwen-new"),
        )
        for i, r in enumerate(("frontier-train", "ml-serving"))
    ]
    return out


def pat_at_desk() -> list[dict]:
    desk = "198.51.100.31"
    out = desk_history("lpark", desk)
    out.append(ev(day(10, 10), "personal_access_token.create", "lpark", ip=desk, token_id="60001"))
    out.append(
        ev(
            day(10, 10.2),
            "git.fetch",
            "lpark",
            repo="ml-tokenizer",
            ip=desk,
            access_type=PAT_CLASSIC,
            token_id="60001",
            hashed_token=token_hash("ghp_lp"),
        )
    )
    return out


def key_at_desk() -> list[dict]:
    desk = "198.51.100.32"
    out = desk_history("okim", desk)
    out.append(ev(day(10, 10), "public_key.create", "okim", ip=desk))
    out.append(
        ev(
            day(10, 10.5),
            "git.push",
            "okim",
            repo="ml-tokenizer",
            ip=desk,
            access_type=SSH_KEY,
            hashed_token=token_hash("ssh-ed25519 okim-new"),
        )
    )
    return out


def _pat(found: list[dict]) -> None:
    [f] = found
    ev_ = f["evidence"]
    assert f["severity"] == "high"
    assert ev_["reasons"] == ["created_from_new_address", "used_from_new_address"]
    assert ev_["credential_kind"] == "personal_access_token" and ev_["token_id"] == "58812"
    assert ev_["new_use_ips"] == [PAT_IP] and ev_["new_use_countries"] == ["SG"]
    assert ev_["known_ips"] == ["198.51.100.30"]
    assert ev_["uses"] == 3 and ev_["hours_to_first_new_use"] == 1.0
    assert ev_["repos"] == [
        f"northwind-labs/{r}" for r in ("frontier-evals", "frontier-train", "rl-core")
    ]
    assert ev_["raw_records_total"] == 4  # the creation and its three uses


def _key(found: list[dict]) -> None:
    [f] = found
    ev_ = f["evidence"]
    assert f["severity"] == "high"  # a country the account was never seen in
    assert ev_["reasons"] == ["used_from_new_address"]
    assert ev_["credential_kind"] == "ssh_key" and ev_["created_from_new_address"] is False
    assert ev_["new_use_countries"] == ["HK"] and ev_["uses_from_new_ground"] == 2


SCENARIOS = [
    Scenario(
        "pat_minted_and_used_from_an_address_abroad",
        "attack",
        logs(pat_from_abroad=pat_from_abroad),
        entities={"user": ("jbarros",), "src_ip": (PAT_IP,)},
        expect=_pat,
        config=config(),
    ),
    Scenario(
        "ssh_key_added_at_the_desk_then_cloning_from_abroad",
        "attack",
        logs(key_used_abroad=key_used_abroad),
        entities={"user": ("mwen",), "src_ip": (KEY_USE_IP,)},
        expect=_key,
        config=config(),
    ),
    Scenario(
        "engineer_makes_a_token_at_the_desk_and_fetches_with_it",
        "benign",
        logs(pat_at_desk=pat_at_desk),
        config=config(),
    ),
    Scenario(
        "engineer_adds_a_key_and_pushes_from_the_desk",
        "benign",
        logs(key_at_desk=key_at_desk),
        config=config(),
    ),
]
