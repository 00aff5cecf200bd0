"""A Sigma rule's detection as a parameterised DuckDB condition over one log source's view.

pySigma parses the rule (YAML, modifiers, the condition and its ``1 of``/``all of``
selectors) into a tree; this backend walks the tree and writes SQL whose *text* comes
only from constants here and from :mod:`crownwatch.sigma.logsources` — every value a
rule holds (strings, patterns, numbers, regular expressions, JSON paths) travels as a
query parameter. A rule file is untrusted input like a log: a field name that is not a
field name is rejected (:class:`InvalidRule`), a field the log source does not have
makes the rule unsupported (:class:`Unsupported`), and neither ever becomes SQL.

Why not pysigma-backend-duckdb (0.1.4): it writes values into the SQL text without
escaping a quote in a regular expression (``x|re: "a'b"`` closes the literal), reads
``_`` and ``%`` in values as LIKE wildcards, compares plain values case-sensitively
(Sigma says case-insensitive) and leaves ``timespan`` out of its correlation queries.
The tests still convert every exported rule with it, as a second, independent reader.

Sigma semantics kept here: plain values compare case-insensitively, ``|cased`` exactly;
``*`` and ``?`` are the only wildcards; ``not`` holds for a record that lacks the field
(SQL's NULL would drop it); CIDR ranges are matched as the address prefixes pySigma
expands them into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.conversion.base import Backend
from sigma.conversion.state import ConversionState
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaFieldReference,
    SigmaNumber,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from crownwatch.sigma.logsources import LogSource

#: what a field name may look like: letters, digits, ``_ - @ $``, dotted. Anything
#: else (a quote, a space, a parenthesis) is no log's field — it is an attack on the
#: query, or a broken rule, and the rule is refused.
FIELD_NAME = re.compile(r"[A-Za-z0-9_@$-]+(?:\.[A-Za-z0-9_@$-]+)*")

_COMPARE = {
    CompareOperators.LT: "<",
    CompareOperators.LTE: "<=",
    CompareOperators.GT: ">",
    CompareOperators.GTE: ">=",
    CompareOperators.NEQ: "<>",
}
_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


class Unsupported(Exception):
    """The rule needs something the lake or this backend does not have (a field the
    tables do not keep, a placeholder, a timestamp part): skipped, with the reason."""


class InvalidRule(Exception):
    """The rule cannot be a rule over any log (a field name with a quote in it)."""


@dataclass
class Sql:
    """A piece of SQL and its parameters, in the order their ``?`` appear."""

    text: str
    params: list[Any] = field(default_factory=list)


def ident(name: str) -> str:
    """A quoted identifier for one of *our* names (a view column from logsources)."""
    return '"' + name.replace('"', '""') + '"'


def like_pattern(s: SigmaString) -> str:
    """A LIKE pattern (escape ``\\``) for a Sigma string: its ``*``/``?`` become ``%``/``_``,
    its own ``%``, ``_`` and ``\\`` stay literal."""
    out = []
    for part in s.s:
        if isinstance(part, str):
            out.append(part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        elif part is SpecialChars.WILDCARD_MULTI:
            out.append("%")
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append("_")
        else:
            _unsupported("placeholders (|expand): crownwatch has no placeholder values")
    return "".join(out)


def _unsupported(why: str) -> NoReturn:
    raise Unsupported(why)


class SqlBackend(Backend):
    """pySigma's dispatch over the condition tree, producing :class:`Sql`."""

    name = "crownwatch DuckDB (parameterised)"

    def __init__(self, source: LogSource):
        super().__init__()
        self.source = source
        # the fields the rule reads, in order, as (the rule's name for it, its SQL)
        self.fields_used: dict[str, Sql] = {}

    # -- the entry point ---------------------------------------------------------------

    def where(self, rule: SigmaRule) -> Sql:
        """The rule's whole condition (a list of conditions is their OR), NULL-safe."""
        parts = [
            self.convert_condition(cond.parsed, ConversionState())
            for cond in rule.detection.parsed_condition
        ]
        return _bool(_join(" OR ", parts))

    # -- fields ------------------------------------------------------------------------

    def column(self, name: str | None) -> Sql:
        """The SQL for a rule's field: a quoted view column, or a JSON member of one."""
        if name is None:  # a keyword (full-text) search
            if self.source.keywords is None:
                _unsupported(f"keyword search: the {self.source.label} records have no message")
            name = self.source.keywords
        if not FIELD_NAME.fullmatch(name):
            raise InvalidRule(f"field name {name!r} is not a field name")
        found = self.source.resolve(name)
        if found is None:
            _unsupported(
                f"field {name!r} is not kept in the lake's {self.source.label} records "
                f"(it has: {', '.join(self.source.fields)})"
            )
        col = ident(found.name)
        if found.json_path is None:
            sql = Sql(col)
        else:
            sql = Sql(
                f"CASE WHEN json_valid({col}) THEN json_extract_string({col}, ?) END",
                [found.json_path],
            )
        self.fields_used.setdefault(name if found.json_path else found.name, sql)
        return sql

    # -- boolean structure -------------------------------------------------------------

    def convert_condition_or(self, cond: ConditionOR, state: ConversionState) -> Sql:
        return _join(" OR ", [self.convert_condition(a, state) for a in cond.args])

    def convert_condition_and(self, cond: ConditionAND, state: ConversionState) -> Sql:
        return _join(" AND ", [self.convert_condition(a, state) for a in cond.args])

    def convert_condition_not(self, cond: ConditionNOT, state: ConversionState) -> Sql:
        inner = self.convert_condition(cond.args[0], state)
        return Sql(f"(NOT {_bool(inner).text})", inner.params)

    def convert_condition_as_in_expression(self, cond, state):  # pragma: no cover
        raise NotImplementedError("in-expressions are off (convert_or_as_in is False)")

    # -- field = value -----------------------------------------------------------------

    def _string(self, col: Sql, s: SigmaString, cased: bool) -> Sql:
        if any(isinstance(p, Placeholder) for p in s.s):
            _unsupported("placeholders (|expand): crownwatch has no placeholder values")
        text = f"CAST({col.text} AS VARCHAR)"
        if not s.contains_special():
            plain = "".join(p for p in s.s if isinstance(p, str))
            if cased:
                return Sql(f"({text} = ?)", [*col.params, plain])
            return Sql(f"(lower({text}) = lower(?))", [*col.params, plain])
        op = "LIKE" if cased else "ILIKE"
        return Sql(f"({text} {op} ? ESCAPE '\\')", [*col.params, like_pattern(s)])

    def convert_condition_field_eq_val_str(self, cond, state) -> Sql:
        return self._string(self.column(cond.field), cond.value, cased=False)

    def convert_condition_field_eq_val_str_case_sensitive(self, cond, state) -> Sql:
        return self._string(self.column(cond.field), cond.value, cased=True)

    def convert_condition_field_eq_val_num(self, cond, state) -> Sql:
        col = self.column(cond.field)
        return Sql(f"(TRY_CAST({col.text} AS DOUBLE) = ?)", [*col.params, float(cond.value.number)])

    def convert_condition_field_eq_val_bool(self, cond, state) -> Sql:
        col = self.column(cond.field)
        value = "true" if cond.value.boolean else "false"
        return Sql(f"(lower(CAST({col.text} AS VARCHAR)) = ?)", [*col.params, value])

    def convert_condition_field_eq_val_re(self, cond, state) -> Sql:
        col = self.column(cond.field)
        flags = "".join(sorted(_RE_FLAGS[f] for f in cond.value.flags))
        pattern = (f"(?{flags})" if flags else "") + cond.value.regexp.to_plain_regex()
        return Sql(f"regexp_matches(CAST({col.text} AS VARCHAR), ?)", [*col.params, pattern])

    def convert_condition_field_eq_val_cidr(self, cond, state) -> Sql:
        col = self.column(cond.field)
        cidr: SigmaCIDRExpression = cond.value
        parts = [self._string(col, SigmaString(prefix), cased=False) for prefix in cidr.expand("*")]
        return _join(" OR ", parts)

    def convert_condition_field_compare_op_val(self, cond, state) -> Sql:
        col = self.column(cond.field)
        cmp: SigmaCompareExpression = cond.value
        return Sql(
            f"(TRY_CAST({col.text} AS DOUBLE) {_COMPARE[cmp.op]} ?)",
            [*col.params, float(cmp.number.number)],
        )

    def convert_condition_field_eq_field(self, cond, state) -> Sql:
        a = self.column(cond.field)
        ref: SigmaFieldReference = cond.value
        b = self.column(ref.field)
        la, lb = f"lower(CAST({a.text} AS VARCHAR))", f"lower(CAST({b.text} AS VARCHAR))"
        if ref.starts_with and ref.ends_with:
            text = f"contains({la}, {lb})"
        elif ref.starts_with:
            text = f"starts_with({la}, {lb})"
        elif ref.ends_with:
            text = f"ends_with({la}, {lb})"
        else:
            text = f"({la} = {lb})"
        return Sql(text, [*a.params, *b.params])

    def convert_condition_field_eq_val_null(self, cond, state) -> Sql:
        col = self.column(cond.field)
        return Sql(f"({col.text} IS NULL)", col.params)

    def convert_condition_field_exists(self, cond, state) -> Sql:
        col = self.column(cond.field)
        return Sql(f"({col.text} IS NOT NULL)", col.params)

    def convert_condition_field_not_exists(self, cond, state) -> Sql:
        col = self.column(cond.field)
        return Sql(f"({col.text} IS NULL)", col.params)

    def convert_condition_field_eq_val_timestamp_part(self, cond, state) -> Sql:
        _unsupported("timestamp part modifiers (|minute, |hour…)")

    def convert_condition_field_eq_query_expr(self, cond, state) -> Sql:
        _unsupported("query expressions (backend-specific placeholders)")

    # -- keywords (no field) -----------------------------------------------------------

    def _keyword(self, value: SigmaString) -> Sql:
        col = self.column(None)
        pattern = "%" + like_pattern(value) + "%"
        return Sql(f"(CAST({col.text} AS VARCHAR) ILIKE ? ESCAPE '\\')", [*col.params, pattern])

    def convert_condition_val_str(self, cond: ConditionValueExpression, state) -> Sql:
        return self._keyword(cond.value)

    def convert_condition_val_num(self, cond: ConditionValueExpression, state) -> Sql:
        number: SigmaNumber = cond.value
        return self._keyword(SigmaString(str(number.number)))

    def convert_condition_val_re(self, cond: ConditionValueExpression, state) -> Sql:
        field_eq = ConditionFieldEqualsValueExpression(self.source.keywords, cond.value)
        if self.source.keywords is None:
            self.column(None)  # raises: no message to search
        return self.convert_condition_field_eq_val_re(field_eq, state)

    def convert_condition_query_expr(self, cond, state) -> Sql:
        _unsupported("query expressions (backend-specific placeholders)")

    # -- correlations are windows over several rules' matches: crownwatch.sigma.run ----

    def _correlations_are_run_elsewhere(self, *args, **kwargs):  # pragma: no cover
        raise NotImplementedError("correlation rules are run by crownwatch.sigma.run")

    convert_correlation_event_count_rule = _correlations_are_run_elsewhere
    convert_correlation_value_count_rule = _correlations_are_run_elsewhere
    convert_correlation_temporal_rule = _correlations_are_run_elsewhere
    convert_correlation_temporal_ordered_rule = _correlations_are_run_elsewhere
    convert_correlation_extended_temporal_rule = _correlations_are_run_elsewhere
    convert_correlation_extended_temporal_ordered_rule = _correlations_are_run_elsewhere
    convert_correlation_value_sum_rule = _correlations_are_run_elsewhere
    convert_correlation_value_avg_rule = _correlations_are_run_elsewhere
    convert_correlation_value_percentile_rule = _correlations_are_run_elsewhere
    convert_correlation_value_median_rule = _correlations_are_run_elsewhere


def _join(op: str, parts: list[Sql]) -> Sql:
    if not parts:
        return Sql("false" if op.strip() == "OR" else "true")
    if len(parts) == 1:
        return parts[0]
    return Sql("(" + op.join(p.text for p in parts) + ")", [x for p in parts for x in p.params])


def _bool(s: Sql) -> Sql:
    """SQL's NULL as Sigma's no-match, so that NOT of it matches."""
    return Sql(f"coalesce({s.text}, false)", s.params)
