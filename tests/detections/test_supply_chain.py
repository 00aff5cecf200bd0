"""Edges of the supply-chain family the scenarios do not pin: the ``[supply_chain]``
configuration's validation, repository tagging (exact per repository, globs per org),
who counts as an outsider, the spree threshold and the contract's grace day. Rows are
built as the tables hold them and run on DuckDB directly (no lake)."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import ibis
import pyarrow as pa
import pytest

from crownwatch.assets import load_registry, tag_repos
from crownwatch.detections import get
from crownwatch.detections.contract import params_for
from crownwatch.detections.supply_chain._common import (
    SupplyChainConfigError,
    load_supply_chain,
    outsiders,
)
from crownwatch.tables import authentication, repo_activity, workforce

T0 = datetime(2026, 5, 4, tzinfo=UTC)
CON = ibis.duckdb.connect()


def _table(schema: pa.Schema, rows: list[dict]) -> ibis.Table:
    return ibis.memtable(
        pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)
    )


def _ev(d: float, action: str, actor: str, repo: str | None = None, **kw) -> dict:
    return {
        "time": T0 + timedelta(days=d),
        "source": "github",
        "action": action,
        "actor": actor,
        "repo": f"acme/{repo}" if repo else None,
        "actor_ip": kw.pop("ip", "203.0.113.9"),
        "actor_country": kw.pop("cc", "US"),
        "raw_source": "gh.jsonl",
        "raw_offset": int(d * 1000),
        **kw,
    }


def _tables(events: list[dict], config: dict, roster: list[dict] = (), auth: list[dict] = ()):
    return SimpleNamespace(
        repo_activity=_table(repo_activity.SCHEMA, events),
        workforce=_table(workforce.SCHEMA, list(roster)),
        authentication=_table(authentication.SCHEMA, list(auth)),
        config=config,
    )


def _run(det_id: str, t) -> list[dict]:
    det = get(det_id)
    p = params_for(det.meta, {})
    return det.module.postprocess(CON.to_pyarrow(det.query(t, p)).to_pylist(), p)


ASSETS = [{"name": "code", "kind": "source_code", "locations": ["github://acme/*"]}]


def test_vendor_config_is_validated_with_where_and_why():
    with open(Path(__file__).resolve().parents[2] / "crownwatch.example.toml", "rb") as fh:
        example = load_supply_chain(tomllib.load(fh))
    assert example.vendors[0].firm == "Acme Dev"
    ok = load_supply_chain(
        {
            "supply_chain": {
                "vendors": [
                    {"firm": "A", "github_logins": ["Acme-*"], "contract_end": date(2026, 1, 2)}
                ]
            }
        }
    )
    assert ok.vendors[0].github_logins == ["acme-*"]
    assert ok.vendors[0].contract_end == date(2026, 1, 2)
    with pytest.raises(
        SupplyChainConfigError, match=r"vendors #1 \(B\).*contract_end 2026-01-01 is before"
    ):
        load_supply_chain(
            {
                "supply_chain": {
                    "vendors": [
                        {"firm": "B", "contract_start": "2026-02-01", "contract_end": "2026-01-01"}
                    ]
                }
            }
        )
    with pytest.raises(SupplyChainConfigError, match="not a GitHub login"):
        load_supply_chain(
            {"supply_chain": {"vendors": [{"firm": "C", "github_logins": ["c@corp.example"]}]}}
        )
    with pytest.raises(SupplyChainConfigError, match="vendor"):
        load_supply_chain({"supply_chain": {"vendor": []}})


def test_a_repository_location_names_that_repository_only():
    reg = load_registry(
        {
            "assets": [
                {
                    "name": "train",
                    "kind": "source_code",
                    "locations": ["git@github.com:Acme/Train.git"],
                },
                {
                    "name": "org",
                    "kind": "source_code",
                    "locations": ["github://acme/*"],
                    "sensitivity": "low",
                },
            ]
        }
    )
    repos = ibis.memtable({"repo": ["acme/train", "acme/train-docs", "ACME/Train", "other/train"]})
    rows = CON.to_pyarrow(tag_repos(repos, reg)).to_pylist()
    assert [(r["repo"], r["asset"], r["asset_sensitivity"]) for r in rows] == [
        ("acme/train", "train", "high"),
        ("acme/train-docs", "org", "low"),
        ("ACME/Train", "train", "high"),
        ("other/train", None, None),
    ]


def test_who_is_an_outsider():
    events = [
        _ev(0, "org.add_outside_collaborator", "admin", target_user="oc"),
        _ev(0, "repo.add_member", "admin", "x", target_user="member"),
        _ev(0, "org.add_member", "admin", target_user="member"),
        _ev(0, "repo.add_member", "admin", "x", target_user="staffer"),
        *[
            _ev(1, "git.clone", who, "x")
            for who in ("oc", "member", "staffer", "vend-1", "cw", "admin")
        ],
    ]
    roster = [
        {
            "time": T0,
            "source": "hr_roster",
            "employee_id": "1",
            "user": "staffer",
            "employment_type": "employee",
        },
        {
            "time": T0,
            "source": "hr_roster",
            "employee_id": "2",
            "user": "cw",
            "employment_type": "contractor",
            "firm": "Gig",
            "start_date": date(2026, 1, 1),
        },
        # an older snapshot said contractor; the latest says employee
        {
            "time": T0 - timedelta(days=30),
            "source": "hr_roster",
            "employee_id": "3",
            "user": "admin",
            "employment_type": "contractor",
        },
        {
            "time": T0,
            "source": "hr_roster",
            "employee_id": "3",
            "user": "admin",
            "employment_type": "employee",
        },
    ]
    cfg = {"supply_chain": {"vendors": [{"firm": "Vend", "github_logins": ["vend-*"]}]}}
    rows = CON.to_pyarrow(outsiders(_tables(events, cfg, roster))).to_pylist()
    got = {r["login"]: (r["outsider_kind"], r["firm_key"], r["contract_start"]) for r in rows}
    assert got == {
        "oc": ("outside_collaborator", "login:oc", None),
        "vend-1": ("vendor", "vend", None),
        "cw": ("contractor", "gig", date(2026, 1, 1)),
    }


def test_spree_threshold_is_the_firms_busiest_day_times_the_factor():
    vendors = [{"firm": f, "github_logins": [f"{f}-*"]} for f in ("v", "w", "x")]
    cfg = {"assets": ASSETS, "supply_chain": {"vendors": vendors}}
    repos = [f"r{i}" for i in range(7)]
    events = []
    for firm, n in (("v", 6), ("w", 7), ("x", 2)):
        events += [_ev(d, "git.clone", f"{firm}-ci", r) for d in range(5) for r in repos[:2]]
        events += [_ev(5 + i / 100, "git.clone", f"{firm}-dev", r) for i, r in enumerate(repos[:n])]
    found = {f["login"]: f for f in _run("supply_chain.outsider_repo_pull", _tables(events, cfg))}
    # 6 repositories = 3 x the busiest day (2): new ones, but not more than the threshold
    v = found["v-dev"]
    assert (v["jewel_repos"], v["firm_busiest_day"], v["spree_threshold"]) == (6, 2, 6)
    assert [x for x in v["reasons"] if x] == ["new_repo"] and v["severity"] == "medium"
    w = found["w-dev"]
    assert [x for x in w["reasons"] if x] == ["new_repo", "spree"] and w["severity"] == "high"
    # the firm's own habit from its own address: nothing
    assert sorted(found) == ["v-dev", "w-dev"]


def test_contract_grace_day_and_an_open_end():
    window = {"contract_start": "2026-05-05", "contract_end": "2026-05-06"}
    cfg = {
        "supply_chain": {
            "vendors": [
                {"firm": "V", "github_logins": ["v-*"], **window},
                {"firm": "U", "github_logins": ["u-*"], **window},
                {"firm": "W", "github_logins": ["w-*"], "contract_start": "2026-05-04"},
            ]
        }
    }
    # the 4th is one day before the start and the 7th one day after the end: inside grace
    events = [_ev(d, "git.fetch", "v-dev", "x") for d in (0, 1, 2, 3)]
    events += [_ev(d, "git.fetch", "u-dev", "x") for d in (1, 4)]  # the 8th: two days after
    events += [_ev(d, "git.fetch", "w-dev", "x") for d in range(30)]  # no end: never after
    [r] = _run("supply_chain.vendor_outside_contract", _tables(events, cfg))
    assert r["person"] == "u-dev"
    assert (r["side"], r["days_beyond"], r["events"], r["severity"]) == ("after", 2, 1, "high")


def test_sso_identity_links_a_login_to_the_roster():
    # repo_activity.actor_user: the SAML identity behind a login in an SSO org
    events = [
        {**_ev(1, "git.clone", "octo-77", "x"), "actor_user": "dokafor"},
        _ev(1, "git.clone", "octo-88", "x"),
    ]
    roster = [
        {
            "time": T0,
            "source": "hr_roster",
            "employee_id": "9",
            "user": "dokafor",
            "employment_type": "vendor",
            "firm": "Orbit",
        }
    ]
    [row] = CON.to_pyarrow(outsiders(_tables(events, {}, roster))).to_pylist()
    assert (row["login"], row["person"], row["outsider_kind"]) == ("octo-77", "dokafor", "vendor")


def _desk(login: str, days: int = 10) -> list[dict]:
    return [_ev(d, "git.fetch", login, "x") for d in range(days)]


def test_each_named_token_is_paired_with_its_own_uses_only():
    # fifty tokens minted in a day, each used once from the desk, one from abroad; a use
    # naming its token both by id and by hash is one use
    events = _desk("bot")
    for i in range(50):
        tok = {"token_id": f"t{i}", "hashed_token": f"h{i}"}
        create = _ev(10 + i / 100, "personal_access_token.create", "bot", raw_offset=10**5 + 2 * i)
        events.append({**create, **tok})
        use_at = {"actor_ip": "192.0.2.8", "actor_country": "SG"} if i == 37 else {}
        use = _ev(10 + i / 100 + 0.001, "git.fetch", "bot", "x", raw_offset=10**5 + 2 * i + 1)
        events.append({**use, **tok, **use_at})
    rows = _run("supply_chain.token_from_new_ground", _tables(events, {}))
    assert [(r["token_id"], r["uses"], r["new_use_ips"]) for r in rows] == [
        ("t37", 1, ["192.0.2.8"])
    ]


def test_an_account_creating_more_than_the_cap_is_automation_its_uses_unpaired():
    # the same five tokens, one used from abroad: paired for a person (under the cap),
    # not for automation (over it) — whose creations from the desk are no finding
    def minting(login: str) -> list[dict]:
        events = _desk(login)
        for i in range(5):
            tok = {"token_id": f"{login}-{i}"}
            at = 10**5 * (len(login)) + 2 * i
            events.append(
                {**_ev(10 + i / 10, "personal_access_token.create", login, raw_offset=at), **tok}
            )
            use = _ev(10 + i / 10 + 0.01, "git.fetch", login, "x", raw_offset=at + 1)
            abroad = {"actor_ip": "192.0.2.9", "actor_country": "SG"} if i == 3 else {}
            events.append({**use, **tok, **abroad})
        return events

    det = get("supply_chain.token_from_new_ground")
    t = _tables(minting("ana") + minting("cibot"), {})
    for cap, found in ((5, ["ana", "cibot"]), (4, [])):
        p = params_for(det.meta, {"max_creations_paired": cap})
        rows = det.module.postprocess(CON.to_pyarrow(det.query(t, p)).to_pylist(), p)
        assert sorted(r["login"] for r in rows) == found


def test_a_build_farms_clones_come_back_cut_to_what_the_finding_keeps():
    """A vendor's login cloning 40 repositories 30 times each from new ground: the row
    the engine returns names 25 repositories and 25 records and counts all 1,200."""
    cfg = {"assets": ASSETS, "supply_chain": {"vendors": [{"firm": "v", "github_logins": ["v-*"]}]}}
    events = [_ev(d, "git.clone", "v-ci", "r0") for d in range(5)]
    events += [
        _ev(
            5 + n / 10_000, "git.clone", "v-ci", f"r{k:02d}", ip="198.51.100.9", raw_offset=9000 + n
        )
        for i in range(30)
        for k in range(40)
        for n in [i * 40 + k]
    ]
    (row,) = _run("supply_chain.outsider_repo_pull", _tables(events, cfg))
    assert row["pulls"] == 1200 and row["jewel_repos"] == 40
    assert row["repos"] == sorted(f"acme/r{k:02d}" for k in range(40))[:25]
    assert len(row["raw_refs"]) == 25 and row["raw_refs_total"] == 1200
    assert row["new_ips"] == ["198.51.100.9"] and row["actions"] == ["git.clone"]
