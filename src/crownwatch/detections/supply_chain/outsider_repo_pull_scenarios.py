"""Scenarios of ``supply_chain.outsider_repo_pull``.

Lumen Dev (a development firm under contract, ``lumen-*`` in ``[supply_chain]``) has
two weeks of habit: its CI clones the same three repositories every night from the
firm's build host, and its developer fetches the tokenizer on workdays from the firm's
office. Attacks: on day 14 the developer's account clones ten crown-jewel repositories
and zips another from a VPS abroad (spree, new repositories, new address and country:
critical); an outside collaborator granted the tokenizer downloads the frontier
training code it was never granted (a new repository: medium). Look-alikes: the CI's
nightly clone on day 14; an outside collaborator cloning the repository it was granted
the day before; an org member granted one more repository pulling many (no outsider).
"""

from __future__ import annotations

from crownwatch.detections.contract import Scenario
from crownwatch.detections.supply_chain._scenario_kit import JEWELS, ML, config, day, ev, logs
from crownwatch.testing.github import PAT_FINE_GRAINED, token_hash

LUMEN = {
    "firm": "Lumen Dev",
    "github_logins": ["lumen-*"],
    "contract_start": "2026-01-01",
    "contract_end": "2026-12-31",
}
LUMEN_BUILD = "203.0.113.20"
LUMEN_OFFICE = "203.0.113.21"
VPS = "192.0.2.66"
CI_REPOS = ("frontier-train", "frontier-evals", "ml-tokenizer")


def lumen_habit() -> list[dict]:
    out = []
    for d in range(15):
        for i, repo in enumerate(CI_REPOS):
            out.append(
                ev(
                    day(d, 2 + i / 60),
                    "git.clone",
                    "lumen-ci",
                    repo=repo,
                    ip=LUMEN_BUILD,
                    country="DE",
                    access_type=PAT_FINE_GRAINED,
                    token_id="41001",
                    hashed_token=token_hash("github_pat_lumen_ci"),
                )
            )
        if d % 7 < 5 and d < 14:
            out.append(
                ev(
                    day(d, 9),
                    "git.fetch",
                    "lumen-ana",
                    repo="ml-tokenizer",
                    ip=LUMEN_OFFICE,
                    country="DE",
                )
            )
            out.append(
                ev(
                    day(d, 9.5),
                    "pull_request.create",
                    "lumen-ana",
                    repo="ml-tokenizer",
                    ip=LUMEN_OFFICE,
                    country="DE",
                )
            )
    return out


def clone_spree() -> list[dict]:
    repos = [*JEWELS, *ML[:7]]
    out = [
        ev(day(14, 1 + i / 60), "git.clone", "lumen-ana", repo=r, ip=VPS, country="RO")
        for i, r in enumerate(repos)
    ]
    out.append(
        ev(
            day(14, 1.5),
            "repo.download_zip",
            "lumen-ana",
            repo="ml-eval-harness",
            ip=VPS,
            country="RO",
        )
    )
    return out


def collaborator(login: str, ip: str, granted: str, extra: list[dict]) -> list[dict]:
    out = [
        ev(day(0, 10), "org.add_outside_collaborator", "nw-admin", user=login, ip="198.51.100.5"),
        ev(
            day(0, 10.1), "repo.add_member", "nw-admin", repo=granted, user=login, ip="198.51.100.5"
        ),
    ]
    out += [
        ev(day(d, 15), "git.fetch", login, repo=granted, ip=ip, country="PT") for d in range(1, 14)
    ]
    return out + extra


def collaborator_zip() -> list[dict]:
    zip_ = ev(
        day(14, 16),
        "repo.download_zip",
        "kvela",
        repo="frontier-train",
        ip="203.0.113.77",
        country="PT",
    )
    return collaborator("kvela", "203.0.113.77", "ml-data", [zip_])


def collaborator_new_grant() -> list[dict]:
    extra = [
        ev(
            day(13, 11),
            "repo.add_member",
            "nw-admin",
            repo="ml-serving",
            user="tsato",
            ip="198.51.100.5",
        ),
        ev(day(14, 9), "git.clone", "tsato", repo="ml-serving", ip="203.0.113.78", country="PT"),
    ]
    return collaborator("tsato", "203.0.113.78", "ml-rlhf", extra)


def member_granted_more() -> list[dict]:
    out = [ev(day(0, 9), "org.add_member", "nw-admin", user="rhu", ip="198.51.100.5")]
    out += [
        ev(day(d, 10), "git.fetch", "rhu", repo="ml-kernels", ip="198.51.100.41")
        for d in range(1, 14)
    ]
    out.append(
        ev(
            day(13, 12),
            "repo.add_member",
            "nw-admin",
            repo="rl-core",
            user="rhu",
            ip="198.51.100.5",
        )
    )
    out += [
        ev(day(14, 8 + i / 60), "git.clone", "rhu", repo=r, ip="192.0.2.41", country="CA")
        for i, r in enumerate([*JEWELS, *ML])
    ]
    return out


def _spree(found: list[dict]) -> None:
    [f] = found
    ev_ = f["evidence"]
    assert f["severity"] == "critical"
    assert ev_["reasons"] == ["new_address", "new_country", "new_repo", "spree"]
    assert ev_["firm"] == "Lumen Dev" and ev_["basis"] == ["config"]
    assert ev_["jewel_repos"] == 11 and ev_["firm_busiest_day"] == 3
    assert ev_["spree_threshold"] == 9
    assert "ml-tokenizer" not in " ".join(ev_["new_repos"])  # the firm pulls it every day
    assert len(ev_["new_repos"]) == 8
    assert ev_["new_ips"] == [VPS] and ev_["new_countries"] == ["RO"]
    assert ev_["known_ips"] == [LUMEN_BUILD, LUMEN_OFFICE]
    assert "repo.download_zip" in ev_["actions"]
    assert sorted(f["entities"]["asset"]) == ["labs-frontier-code", "labs-ml-code"]


def _zip(found: list[dict]) -> None:
    [f] = found
    ev_ = f["evidence"]
    assert f["severity"] == "medium"
    assert ev_["reasons"] == ["new_repo"]
    assert ev_["basis"] == ["collaborator"] and ev_["outsider_kind"] == "outside_collaborator"
    assert ev_["new_repos"] == ["northwind-labs/frontier-train"]
    assert f["entities"]["asset"] == ["labs-frontier-code"]


SCENARIOS = [
    Scenario(
        "vendor_developer_clone_spree_from_a_vps_abroad",
        "attack",
        logs(lumen_habit=lumen_habit, lumen_spree=clone_spree),
        entities={"user": ("lumen-ana",), "src_ip": (VPS,), "asset": ("labs-frontier-code",)},
        expect=_spree,
        config=config(LUMEN),
    ),
    Scenario(
        "outside_collaborator_zips_a_repository_never_granted",
        "attack",
        logs(collaborator_zip=collaborator_zip),
        entities={"user": ("kvela",), "asset": ("labs-frontier-code",)},
        expect=_zip,
        config=config(),
    ),
    Scenario(
        "vendor_ci_nightly_clone_of_its_usual_repositories",
        "benign",
        logs(lumen_habit=lumen_habit),
        config=config(LUMEN),
    ),
    Scenario(
        "outside_collaborator_clones_the_repository_granted_yesterday",
        "benign",
        logs(collaborator_new_grant=collaborator_new_grant),
        config=config(),
    ),
    Scenario(
        "org_member_granted_a_repository_is_no_outsider",
        "benign",
        logs(member_granted_more=member_granted_more),
        config=config(),
    ),
]
