"""Who the trusted outsiders are, on what terms, and what their repositories are worth.

**An outsider** is a GitHub login (``repo_activity.actor``) the organisation does not
employ, known in one of three ways (a login may be known in several; the evidence lists
them as ``basis``):

* ``config`` — a ``[supply_chain] vendors`` entry whose ``github_logins`` globs match
  the login (case-insensitive; the first entry that matches wins)::

      [supply_chain]
      vendors = [
        { firm = "Acme Dev", github_logins = ["acme-*"], contract_start = 2026-01-01,
          contract_end = 2026-06-30 },
      ]

* ``roster`` — the HR roster's latest row for a person whose ``employment_type`` is
  ``contractor`` or ``vendor`` and whose identity key (the work e-mail's local part,
  lower case: ``dokafor@northwind-ai.com`` → ``dokafor``) *equals* the login, or — where
  the audit log carries ``actor_user``, the SAML identity of a single-sign-on org —
  equals that. A GitHub login is not an e-mail: without SSO, a roster person is linked
  only when they chose their company handle as login;
* ``collaborator`` — the audit log names the login as the ``user`` of an
  ``org.add_outside_collaborator`` or ``repo.add_member`` event, and never as an org
  member (``org.add_member``) or a roster employee: a member granted one more
  repository is not an outsider.

**Terms**: the firm (config, else roster; a login with no firm is its own "firm" for
baselines) and the contract window (config dates where given, else the roster's start
and end dates).

**Crown-jewel repositories** are ``[[assets]]`` locations ``github://org/repo`` (one
repository) and ``github://org/*`` (all of an org's), matched in the engine
(:func:`crownwatch.assets.tag_repos`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import ibis
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crownwatch.assets import glob_to_regex, tag_repos
from crownwatch.config import load_config
from crownwatch.detections._roster import latest_rows
from crownwatch.detections.contract import Tables, shared
from crownwatch.detections.identity._common import raw_ref as raw_ref
from crownwatch.tables.repo_activity import READ_ACTIONS

COLLABORATOR_ACTIONS = ("org.add_outside_collaborator", "repo.add_member")
MEMBER_ACTIONS = ("org.add_member",)
OUTSIDER_TYPES = ("contractor", "vendor")
PULL_ACTIONS = READ_ACTIONS

# GitHub logins are letters, digits and single hyphens; a glob adds * ? [ ] !
_LOGIN_GLOB = re.compile(r"^[a-z0-9*?\[\]!-]+$")


class Vendor(BaseModel):
    """One ``[supply_chain] vendors`` entry."""

    model_config = ConfigDict(extra="forbid")

    firm: str = Field(min_length=1, max_length=200)
    github_logins: list[str] = []
    contract_start: date | None = None
    contract_end: date | None = None

    @field_validator("github_logins")
    @classmethod
    def _logins(cls, v: list[str]) -> list[str]:
        out = []
        for g in v:
            g = str(g).strip().lower()
            if not _LOGIN_GLOB.match(g):
                raise ValueError(f"{g!r} is not a GitHub login or a glob over logins")
            out.append(g)
        return out

    @model_validator(mode="after")
    def _window(self) -> Vendor:
        if self.contract_start and self.contract_end and self.contract_end < self.contract_start:
            raise ValueError(
                f"contract_end {self.contract_end} is before contract_start {self.contract_start}"
            )
        return self

    @property
    def regex(self) -> str:
        return "|".join("(" + glob_to_regex(g) + ")" for g in self.github_logins)


class SupplyChain(BaseModel):
    """The ``[supply_chain]`` section of crownwatch.toml."""

    model_config = ConfigDict(extra="forbid")

    vendors: list[Vendor] = []


class SupplyChainConfigError(ValueError):
    """``[supply_chain]`` in crownwatch.toml is invalid; the message says where and why."""


def load_supply_chain(config: dict[str, Any] | None) -> SupplyChain:
    section = (config or {}).get("supply_chain", {})
    try:
        return SupplyChain.model_validate(section)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            loc = list(e["loc"])
            where = "[supply_chain]"
            if loc[:1] == ["vendors"] and len(loc) > 1 and isinstance(loc[1], int):
                i = loc[1]
                vendors = section.get("vendors", []) if isinstance(section, dict) else []
                firm = (
                    vendors[i].get("firm")
                    if i < len(vendors) and isinstance(vendors[i], dict)
                    else None
                )
                where += f" vendors #{i + 1}" + (f" ({firm})" if firm else "")
                loc = loc[2:]
            if loc:
                where += " " + ".".join(str(x) for x in loc)
            lines.append(f"{where}: {e['msg']}")
        raise SupplyChainConfigError("invalid [supply_chain]:\n  " + "\n  ".join(lines)) from exc


def supply_chain_for(t: Any) -> SupplyChain:
    """The run's ``[supply_chain]`` (``t.config``), else crownwatch.toml found the usual
    way — as :func:`crownwatch.assets.registry_for` finds ``[[assets]]``."""
    config = vars(t).get("config") if hasattr(t, "__dict__") else None
    return load_supply_chain(load_config() if config is None else config)


def roster_latest(t: Tables) -> ibis.Table:
    """Each employee's row in the latest roster snapshot that lists them."""
    return latest_rows(t.workforce, "employee_id")


def roster_outsiders(t: Tables) -> ibis.Table:
    """``(person, employee_id, employment_type, firm, start_date, end_date)``: the
    roster's contractors and vendors by identity key."""
    w = roster_latest(t)
    w = w.mutate(kind=w.employment_type.strip().lower())
    w = w.filter(w.kind.isin(list(OUTSIDER_TYPES)) & w.user.notnull())
    return w.group_by(person=w.user).aggregate(
        employee_id=w.employee_id.min(),
        employment_type=w.kind.min(),
        firm=w.firm.min(),
        start_date=w.start_date.min(),
        end_date=w.end_date.max(),
    )


def outsiders(t: Tables) -> ibis.Table:
    """One row per outsider login that acted in ``repo_activity``:

    ``login``, ``person`` (the roster's identity key, else the SSO identity), ``firm``,
    ``firm_key`` (lower-case firm, or ``login:<login>`` with none), ``employee_id``,
    ``outsider_kind`` (``vendor`` from config, the roster's type, else
    ``outside_collaborator``), ``contract_start`` / ``contract_end`` (dates, NULL when
    unknown), ``via_config``, ``via_roster``, ``via_collaborator``.
    Computed once per run."""
    sc = supply_chain_for(t)
    return shared("supply_chain.outsiders:" + sc.model_dump_json(), lambda: _outsiders(t, sc))


def _outsiders(t: Tables, sc: SupplyChain) -> ibis.Table:
    ra = t.repo_activity
    a = ra.filter(ra.actor.notnull())
    sso = a.actor_user.lower() if "actor_user" in a.columns else ibis.null("string")
    a = a.mutate(login=a.actor.lower(), sso=sso)
    acct = a.group_by("login").aggregate(sso=a.sso.max())

    vendors = [(i, v) for i, v in enumerate(sc.vendors) if v.github_logins]
    idx = (
        ibis.cases(
            *[(acct.login.re_search(v.regex), i) for i, v in vendors], else_=ibis.null("int64")
        )
        if vendors
        else ibis.null("int64")
    )
    acct = acct.mutate(v_idx=idx)

    def per_vendor(value, dtype: str) -> ibis.Value:
        if not vendors:
            return ibis.null(dtype)
        return ibis.cases(
            *[
                (
                    acct.v_idx == i,
                    ibis.literal(value(v), dtype) if value(v) is not None else ibis.null(dtype),
                )
                for i, v in vendors
            ],
            else_=ibis.null(dtype),
        )

    acct = acct.mutate(
        cfg_firm=per_vendor(lambda v: v.firm, "string"),
        cfg_start=per_vendor(lambda v: v.contract_start, "date"),
        cfg_end=per_vendor(lambda v: v.contract_end, "date"),
    )

    r = roster_outsiders(t)
    link = acct.join(r, (acct.login == r.person) | (acct.sso == r.person))
    link = link.group_by(l_login=link.login).aggregate(
        r_person=link.person.min(),
        employee_id=link.employee_id.min(),
        r_type=link.employment_type.min(),
        r_firm=link.firm.min(),
        r_start=link.start_date.min(),
        r_end=link.end_date.max(),
    )

    c = ra.filter(ra.action.isin(list(COLLABORATOR_ACTIONS)) & ra.target_user.notnull())
    collab = c.select(c_login=c.target_user.lower()).distinct()
    m = ra.filter(ra.action.isin(list(MEMBER_ACTIONS)) & ra.target_user.notnull())
    members = m.select(m_login=m.target_user.lower())
    staff = roster_latest(t)
    staff = staff.filter(
        ~staff.employment_type.strip().lower().isin(list(OUTSIDER_TYPES)).fill_null(False)
        & staff.user.notnull()
    )
    members = members.union(staff.select(m_login=staff.user)).distinct()
    collab = collab.anti_join(members, collab.c_login == members.m_login)

    o = acct.left_join(link, acct.login == link.l_login).drop("l_login")
    o = o.left_join(collab, o.login == collab.c_login)
    o = o.mutate(
        via_config=o.v_idx.notnull(),
        via_roster=o.r_person.notnull(),
        via_collaborator=o.c_login.notnull(),
    )
    o = o.filter(o.via_config | o.via_roster | o.via_collaborator)
    firm = o.cfg_firm.coalesce(o.r_firm)
    return o.select(
        login=o.login,
        person=o.r_person.coalesce(o.sso),
        firm=firm,
        firm_key=firm.strip().lower().coalesce(ibis.literal("login:").concat(o.login)),
        employee_id=o.employee_id,
        outsider_kind=ibis.cases(
            (o.via_config, "vendor"), (o.via_roster, o.r_type), else_="outside_collaborator"
        ),
        contract_start=o.cfg_start.coalesce(o.r_start),
        contract_end=o.cfg_end.coalesce(o.r_end),
        via_config=o.via_config,
        via_roster=o.via_roster,
        via_collaborator=o.via_collaborator,
    )


def basis(o: ibis.Table) -> ibis.Value:
    """How the login is known to be an outsider, as a list (``config``, ``roster``,
    ``collaborator``)."""
    return ibis.array(
        [
            ibis.ifelse(o.via_config, "config", ibis.null("string")),
            ibis.ifelse(o.via_roster, "roster", ibis.null("string")),
            ibis.ifelse(o.via_collaborator, "collaborator", ibis.null("string")),
        ]
    )


def tagged(t: Tables, ev: ibis.Table, reg) -> ibis.Table:
    """``ev`` (rows with ``repo``) with the repository's ``asset``, ``asset_kind`` and
    ``asset_sensitivity``: the registry's CASE runs once per distinct repository."""
    repos = tag_repos(ev.select(repo=ev.repo).distinct(), reg)
    repos = repos.rename(t_repo="repo")
    out = ev.left_join(repos, ev.repo == repos.t_repo)
    return out.drop("t_repo")


def with_previous_day(t: ibis.Table, keys: list[str]) -> ibis.Table:
    """``t`` (distinct ``keys`` + ``day``) with ``prev_day``: the latest earlier day the
    same keys were seen (NULL for the first)."""
    w = ibis.window(group_by=[t[k] for k in keys], order_by=t.day)
    return t.mutate(prev_day=t.day.lag().over(w))
