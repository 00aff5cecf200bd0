"""Running Sigma rules over the lake and turning their hits into findings.

**Where rules run.** On one DuckDB connection with the lake's settings: each lake table
the log sources read is a view over its Parquet files (every column of the table's
schema, NULL where an older lake lacks one), each log source a view over those
(:mod:`crownwatch.sigma.logsources`), each rule a parameterised query over its log
source's view (:mod:`crownwatch.sigma.backend`).

**What becomes a finding.**

* A plain rule: one finding per rule, *who* (the record's user, else principal, else
  source address) and UTC day — a rule matching a thousand sign-ins of one user in a
  day is one finding citing them, not a thousand.
* A correlation (``event_count``, ``value_count``, ``temporal``, ``temporal_ordered``):
  windows of ``timespan`` slide from each matching event (not fixed buckets: a spray
  across the top of the hour is still one window), a window that meets the condition
  fires, overlapping firing windows of one group are one episode, and each episode is
  one finding with the group's values and the records of the episode. Events whose
  group-by field is empty are left out (a spray "from no address" groups nothing).
  ``value_sum``/``avg``/``percentile``/``median``, correlations of correlations and
  extended conditions are reported unsupported.

Findings follow docs/interfaces.md: ``detection`` is ``sigma.<rule id>`` (the slug of
the title for a rule without one), the title is the rule's, severity its ``level``
(``informational`` is ``low``), ``attack`` its ``attack.tNNNN`` tags, and the evidence
names the rule and cites the records (``raw_records``: ``file#line``) with a sample of
the fields the rule matched on. Ids are stable, so running the same rules again
updates the findings and keeps their triage.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
from sigma.correlations import (
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from crownwatch.detections.base import MAX_ENTITIES, MAX_SAMPLES, finding_id, iso
from crownwatch.lake import Lake
from crownwatch.severity import RANK
from crownwatch.sigma import logsources
from crownwatch.sigma.backend import FIELD_NAME, InvalidRule, SqlBackend, Unsupported, ident
from crownwatch.sigma.rules import Loaded

#: how many matching records a finding's evidence shows field by field
SAMPLE_RECORDS = 10

_LEVELS = {
    "informational": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "critical": "critical",
}
_OPS = {
    SigmaCorrelationConditionOperator.LT: "<",
    SigmaCorrelationConditionOperator.LTE: "<=",
    SigmaCorrelationConditionOperator.GT: ">",
    SigmaCorrelationConditionOperator.GTE: ">=",
    SigmaCorrelationConditionOperator.EQ: "=",
    SigmaCorrelationConditionOperator.NEQ: "<>",
}
_TECHNIQUE = re.compile(r"t(\d{4})(?:\.(\d{3}))?")
_ENTITY_ORDER = ("user", "principal", "src_ip", "host")  # who a plain rule's finding is about
_REF = "_cw_raw_source || '#' || coalesce(CAST(_cw_raw_offset AS VARCHAR), _cw_raw_id, '?')"


@dataclass
class RuleResult:
    """What happened to one rule (or one rule file that could not be read)."""

    file: str
    status: str  # ran | skipped | error
    title: str | None = None
    rule_id: str | None = None
    detection: str | None = None
    reason: str | None = None
    findings: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class RunResult:
    findings: list[dict] = field(default_factory=list)
    rules: list[RuleResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """A rule file or rule was bad input (exit 2); skipped rules are not."""
        return any(r.status == "error" for r in self.rules)


def detection_id(rule: SigmaRule | SigmaCorrelationRule) -> str:
    """``sigma.<id>``, or ``sigma.<slug of the title>`` for a rule without an id."""
    if rule.id:
        return f"sigma.{rule.id}"
    slug = re.sub(r"[^a-z0-9]+", "_", (rule.title or "untitled").lower()).strip("_")
    return f"sigma.{slug[:80] or 'untitled'}"


def severity(level) -> str:
    """crownwatch's severity for a Sigma level (an enum or its name); medium without one."""
    if not level:
        return "medium"
    return _LEVELS.get(str(getattr(level, "name", level)).lower(), "medium")


def attack_ids(rules) -> list[str]:
    out = set()
    for rule in rules:
        for tag in rule.tags:
            if tag.namespace == "attack" and (m := _TECHNIQUE.fullmatch(tag.name.lower())):
                out.add("T" + m.group(1) + (f".{m.group(2)}" if m.group(2) else ""))
    return sorted(out)


class Runner:
    """One run of a rule set over one lake."""

    def __init__(self, lake: Lake):
        self.lake = lake
        self.con = duckdb.connect()
        for setting in lake.duckdb_settings():
            self.con.execute(setting)
        self.con.execute("SET enable_progress_bar = false")
        self._tables: set[str] = set()
        self._views: set[str] = set()

    def close(self) -> None:
        self.con.close()

    # -- the views -----------------------------------------------------------------

    def _table(self, table: str) -> str:
        """``_cw_<table>``: the lake table with every column of its schema."""
        name = f"_cw_{table}"
        if table in self._tables:
            return name
        # every schema column by name, typed; NULL where no file has it (an empty
        # table when the lake has none of it yet)
        self.con.sql(f"SELECT * FROM {self.lake.table_sql(table)}").create_view(name, replace=True)
        self._tables.add(table)
        return name

    def view(self, src: logsources.LogSource) -> str:
        """``_cw_src_<key>``: the log source's rows under their vendor field names."""
        name = f"_cw_src_{src.key}"
        if src.key in self._views:
            return name
        selects = []
        for table, where in src.tables.items():
            cols = [f"{exprs.get(table, 'NULL')} AS {ident(f)}" for f, exprs in src.fields.items()]
            cols += [
                f"{m.get(table, 'NULL')} AS {ident('_cw_' + k)}" for k, m in src.entities.items()
            ]
            cols += [
                '"time" AS _cw_time',
                "raw_source AS _cw_raw_source",
                "raw_offset AS _cw_raw_offset",
                "raw_id AS _cw_raw_id",
            ]
            selects.append(f"SELECT {', '.join(cols)} FROM {self._table(table)} WHERE {where}")
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS " + " UNION ALL BY NAME ".join(selects)
        )
        self._views.add(src.key)
        return name

    # -- rules ---------------------------------------------------------------------

    def run(self, loaded: Loaded) -> RunResult:
        result = RunResult()
        result.rules += [
            RuleResult(p.file, "error", p.title, p.rule_id, reason=p.reason)
            for p in loaded.problems
        ]
        for rule in loaded.collection.get_output_rules():
            file = loaded.file_of(rule)
            det = detection_id(rule)
            rr = RuleResult(file, "ran", rule.title, str(rule.id) if rule.id else None, det)
            try:
                if isinstance(rule, SigmaCorrelationRule):
                    found = self._correlation(rule, det)
                else:
                    found = self._plain(rule, det)
            except Unsupported as exc:
                rr.status, rr.reason = "skipped", str(exc)
                found = []
            except InvalidRule as exc:
                rr.status, rr.reason = "error", f"invalid rule: {exc}"
                found = []
            except SigmaError as exc:  # pySigma parses conditions when they are first used
                rr.status, rr.reason = "error", f"invalid rule: {_first_line(exc)}"
                found = []
            except duckdb.Error as exc:  # e.g. a regular expression RE2 cannot compile
                rr.status, rr.reason = "error", f"the rule could not run: {_first_line(exc)}"
                found = []
            except Exception as exc:  # one rule's oddity must not cost the others
                rr.status = "error"
                rr.reason = f"the rule could not run: {type(exc).__name__}: {_first_line(exc)}"
                found = []
            rr.findings = len(found)
            result.findings += found
            result.rules.append(rr)
        return result

    def _source(self, rule: SigmaRule) -> logsources.LogSource:
        ls = rule.logsource
        src = logsources.find(
            {"product": ls.product, "service": ls.service, "category": ls.category}
        )
        if src is None:
            named = "/".join(str(x) for x in (ls.category, ls.product, ls.service) if x)
            raise Unsupported(
                f"log source {named or '(none)'} is not one crownwatch reads "
                f"(it reads {logsources.supported()})"
            )
        return src

    def _plain(self, rule: SigmaRule, det: str) -> list[dict]:
        src = self._source(rule)
        backend = SqlBackend(src)
        where = backend.where(rule)
        view = self.view(src)
        kinds = [k for k in _ENTITY_ORDER if k in src.entities]
        who = "coalesce(" + ", ".join(f"_cw_{k}" for k in kinds) + ", '')"
        # the sample's keys are positions, named in Python: no rule text in the SQL
        labels = ["time", *backend.fields_used]
        sample = (
            "{"
            + ", ".join(
                [
                    "'f0': _cw_time",
                    *(f"'f{i}': {e.text}" for i, e in enumerate(backend.fields_used.values(), 1)),
                ]
            )
            + "}"
        )
        sample_params = [x for e in backend.fields_used.values() for x in e.params]
        lists = ", ".join(
            f"list(DISTINCT _cw_{k}) FILTER (WHERE _cw_{k} IS NOT NULL) AS {ident(k)}"
            for k in kinds
        )
        sql = f"""
            WITH m AS (SELECT * FROM {view} WHERE {where.text})
            SELECT {who} AS who, CAST(_cw_time AS DATE) AS day,
                min(_cw_time) AS first_seen, max(_cw_time) AS last_seen, count(*) AS records,
                {lists},
                list({_REF} ORDER BY _cw_time, _cw_raw_offset)[1:{MAX_SAMPLES}] AS raw_refs,
                list({sample} ORDER BY _cw_time, _cw_raw_offset)[1:{SAMPLE_RECORDS}] AS sample
            FROM m GROUP BY ALL ORDER BY day, who"""
        rows = _rows(self.con.execute(sql, where.params + sample_params))
        out = []
        for r in rows:
            sample = [{labels[int(k[1:])]: v for k, v in rec.items()} for rec in r["sample"]]
            evidence = {
                "sigma_rule": _rule_evidence(rule),
                "logsource": src.logsource,
                "records": r["records"],
                "sample": _plain_values(sample),
                "raw_records": r["raw_refs"],
                "raw_records_total": r["records"],
            }
            out.append(_finding(det, f"{r['who']}@{r['day']}", rule, [rule], r, kinds, evidence))
        return out

    # -- correlations --------------------------------------------------------------

    def _correlation(self, rule: SigmaCorrelationRule, det: str) -> list[dict]:
        kind = rule.type
        supported = (
            SigmaCorrelationType.EVENT_COUNT,
            SigmaCorrelationType.VALUE_COUNT,
            SigmaCorrelationType.TEMPORAL,
            SigmaCorrelationType.TEMPORAL_ORDERED,
        )
        if kind not in supported:
            raise Unsupported(
                f"correlation type {kind} (crownwatch runs event_count, "
                "value_count, temporal and temporal_ordered)"
            )
        cond = rule.condition
        if not hasattr(cond, "op"):
            raise Unsupported("extended correlation conditions")
        refs = [r.rule for r in rule.referenced_rules]
        if any(isinstance(r, SigmaCorrelationRule) for r in refs):
            raise Unsupported("a correlation of correlations")
        span = int(rule.timespan.seconds)
        groups = list(rule.group_by or [])
        value_field = cond.fieldref if kind is SigmaCorrelationType.VALUE_COUNT else None
        if isinstance(value_field, list):
            if len(value_field) != 1:
                raise Unsupported("value_count over several fields")
            value_field = value_field[0]
        if kind is SigmaCorrelationType.VALUE_COUNT and not value_field:
            raise InvalidRule("value_count without condition.field")
        for name in [*groups, *([value_field] if value_field else [])]:
            if not FIELD_NAME.fullmatch(name):
                raise InvalidRule(f"field name {name!r} is not a field name")

        # every referenced rule's matches, with its group values and the counted value
        selects, params, kinds = [], [], set()
        for i, ref in enumerate(refs):
            src = self._source(ref)
            backend = SqlBackend(src)
            where = backend.where(ref)
            gcols = [backend.column(_alias(rule, g, ref)) for g in groups]
            cols = [f"{i} AS _r", "_cw_time AS _t", "epoch(_cw_time) AS _e", f"{_REF} AS _ref"]
            cols += [f"CAST({g.text} AS VARCHAR) AS _g{j}" for j, g in enumerate(gcols)]
            p = [x for g in gcols for x in g.params]
            if value_field:
                v = backend.column(_alias(rule, value_field, ref))
                cols.append(f"CAST({v.text} AS VARCHAR) AS _v")
                p += v.params
            else:
                cols.append("CAST(NULL AS VARCHAR) AS _v")
            cols += [f"_cw_{k}" for k in src.entities]
            kinds |= set(src.entities)
            selects.append(f"SELECT {', '.join(cols)} FROM {self.view(src)} WHERE {where.text}")
            params += p + where.params
        g = [f"_g{j}" for j in range(len(groups))]
        part = f"PARTITION BY {', '.join(g)} " if g else ""
        present = " AND ".join(f"{c} IS NOT NULL" for c in g) or "true"
        ev = f"ev AS (SELECT * FROM ({' UNION ALL BY NAME '.join(selects)}) WHERE {present})"

        if kind is SigmaCorrelationType.TEMPORAL_ORDERED:
            firing, fparams = _ordered(len(refs), g, span, cond)
        else:
            agg = {
                SigmaCorrelationType.EVENT_COUNT: "count(*)",
                SigmaCorrelationType.VALUE_COUNT: "count(DISTINCT _v)",
                SigmaCorrelationType.TEMPORAL: "count(DISTINCT _r)",
            }[kind]
            firing = f"""w AS (SELECT {", ".join([*g, "_e"])},
                    {agg} OVER ({part}ORDER BY _e RANGE BETWEEN CURRENT ROW AND {span} FOLLOWING) AS _n
                    FROM ev),
                f AS (SELECT * FROM w WHERE _n {_OPS[cond.op]} ?)"""
            fparams = [int(cond.count)]
        gsel = ", ".join(g)
        gcomma = gsel + ", " if g else ""
        on = " AND ".join([*(f"b.{c} = ev.{c}" for c in g), "ev._e BETWEEN b._from AND b._to"])
        kinds_sorted = [k for k in _ENTITY_ORDER if k in kinds]
        lists = "".join(
            f", list(DISTINCT ev._cw_{k}) FILTER (WHERE ev._cw_{k} IS NOT NULL) AS {ident(k)}"
            for k in kinds_sorted
        )
        sql = f"""
            WITH {ev}, {firing},
            s AS (SELECT *, CASE WHEN _e - lag(_e) OVER ({part}ORDER BY _e) <= {span}
                                 THEN 0 ELSE 1 END AS _new FROM f),
            ep AS (SELECT *, sum(_new) OVER ({part}ORDER BY _e ROWS UNBOUNDED PRECEDING) AS _ep
                   FROM s),
            b AS (SELECT {gcomma}_ep, min(_e) AS _from, max(_e) + {span} AS _to, max(_n) AS _peak
                  FROM ep GROUP BY ALL)
            SELECT {", ".join(f"b.{c}" for c in g) + ", " if g else ""}b._from, b._peak,
                min(ev._t) AS first_seen, max(ev._t) AS last_seen, count(*) AS records,
                count(DISTINCT ev._v) AS distinct_values,
                list(DISTINCT ev._v) FILTER (WHERE ev._v IS NOT NULL) AS "values",
                list(DISTINCT ev._r) AS rules_matched{lists},
                list(ev._ref ORDER BY ev._t, ev._ref)[1:{MAX_SAMPLES}] AS raw_refs
            FROM b JOIN ev ON {on}
            GROUP BY ALL ORDER BY b._from"""
        rows = _rows(self.con.execute(sql, params + fparams))
        out = []
        for r in rows:
            group = {name: r[f"_g{j}"] for j, name in enumerate(groups)}
            evidence = {
                "sigma_rule": _rule_evidence(rule),
                "correlation": {
                    "type": str(kind),
                    "timespan": rule.timespan.spec,
                    "condition": f"{cond.op.name.lower()} {cond.count}",
                    "group_by": group,
                    **({"field": value_field} if value_field else {}),
                },
                "window_count": r["_peak"],
                "records": r["records"],
                "raw_records": r["raw_refs"],
                "raw_records_total": r["records"],
            }
            if value_field:
                evidence["distinct_values"] = r["distinct_values"]
                evidence["values"] = sorted(r["values"])[:MAX_SAMPLES]
            if kind in (SigmaCorrelationType.TEMPORAL, SigmaCorrelationType.TEMPORAL_ORDERED):
                evidence["rules_matched"] = [refs[i].title for i in sorted(r["rules_matched"])]
            key = "\x1f".join(str(v) for v in group.values()) + f"@{int(r['_from'])}"
            out.append(_finding(det, key, rule, [rule, *refs], r, kinds_sorted, evidence))
        return out


def _ordered(n: int, g: list[str], span: int, cond) -> tuple[str, list]:
    """Firing anchors of a ``temporal_ordered`` correlation: an event of the first rule
    followed, within ``span`` of it and in the rules' order, by one of each next rule.
    Each step keeps the earliest next event, which is enough: if any ordered chain fits
    the window, the earliest-first chain does."""
    if not (cond.op is SigmaCorrelationConditionOperator.GTE and int(cond.count) <= n) and not (
        cond.op is SigmaCorrelationConditionOperator.EQ and int(cond.count) == n
    ):
        raise Unsupported("temporal_ordered with a condition other than all of its rules")
    if n < 2:
        raise Unsupported("temporal_ordered with fewer than two rules")
    gsel = ", ".join(f"a.{c}" for c in g)
    gcomma = gsel + ", " if g else ""
    same = "".join(f" AND ev.{c} = a.{c}" for c in g)
    steps = [f"s0 AS (SELECT {', '.join([*g, '_e AS _a', '_e AS _last'])} FROM ev WHERE _r = 0)"]
    for k in range(1, n):
        steps.append(
            f"""s{k} AS (SELECT {gcomma}a._a, min(ev._e) AS _last FROM s{k - 1} a
                JOIN ev ON ev._r = {k}{same} AND ev._e >= a._last AND ev._e <= a._a + {span}
                GROUP BY ALL)"""
        )
    steps.append(f"f AS (SELECT {', '.join([*g, '_a AS _e'])}, {n} AS _n FROM s{n - 1})")
    return ",\n".join(steps), []


def _alias(rule: SigmaCorrelationRule, name: str, ref) -> str:
    """A group-by name as the referenced rule's field: through ``aliases`` if defined."""
    for alias in rule.aliases:
        if alias.alias == name:
            for r, fieldname in alias.mapping.items():
                # pySigma leaves alias references unresolved: match the name or id
                if r.reference in (ref.name, str(ref.id) if ref.id else None):
                    return fieldname
    return name


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _rows(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _plain_values(value):
    if isinstance(value, list):
        return [_plain_values(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_values(v) for k, v in value.items() if v is not None}
    if hasattr(value, "isoformat"):
        return iso(value)
    return value


def _rule_evidence(rule) -> dict:
    out = {"title": rule.title}
    if rule.id:
        out["id"] = str(rule.id)
    if rule.level:
        out["level"] = str(getattr(rule.level, "name", rule.level)).lower()
    return out


def _finding(det: str, key: str, rule, rules: list, row: dict, kinds: list[str], evidence) -> dict:
    entities = {}
    for k in kinds:
        vals = sorted({str(v) for v in (row.get(k) or []) if v is not None})[:MAX_ENTITIES]
        if vals:
            entities[k] = vals
    level = rule.level or max(
        (r.level for r in rules if r.level), key=lambda lv: RANK[severity(lv)], default=None
    )
    return {
        "id": finding_id(det, key),
        "detection": det,
        "title": rule.title,
        "severity": severity(level),
        "first_seen": iso(row["first_seen"]),
        "last_seen": iso(row["last_seen"]),
        "entities": entities,
        "attack": attack_ids(rules),
        "evidence": evidence,
        "status": "new",
    }
