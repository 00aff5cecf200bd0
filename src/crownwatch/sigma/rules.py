"""Reading a team's Sigma rule files: which arguments are rules, which are logs, and
every rule file parsed on its own so that one broken file costs only itself.

A rule file is untrusted input: it is read only if it is at most :data:`MAX_RULE_BYTES`,
parsed with YAML's safe loader after refusing aliases (a few lines of anchors can
expand into billions of nodes for whatever walks them), and handed to pySigma, whose
errors are reported per file and per rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

RULE_SUFFIXES = (".yml", ".yaml")
# files a rules repository carries beside its rules
_DOC_SUFFIXES = (".md", ".txt", ".rst", ".json")
_DOC_NAMES = ("license", "readme", "notice", "changelog", "authors", "contributing")
MAX_RULE_BYTES = 1 << 20  # SigmaHQ's largest rule is a few KB


class UsageError(Exception):
    """The arguments cannot be told apart or do not exist: exit 2 before any work."""


@dataclass
class Problem:
    """A rule file or rule that could not be used."""

    file: str
    reason: str
    title: str | None = None
    rule_id: str | None = None


@dataclass
class Loaded:
    """The usable rules of every file, one collection (correlations may reference a
    rule in another file), and what could not be used."""

    collection: SigmaCollection
    problems: list[Problem] = field(default_factory=list)
    files: dict[int, str] = field(default_factory=dict)  # id(rule) -> its file

    def file_of(self, rule) -> str:
        return self.files.get(id(rule), "?")


def _is_rule_file(p: Path) -> bool:
    return p.suffix.lower() in RULE_SUFFIXES


def _is_doc(p: Path) -> bool:
    return p.suffix.lower() in _DOC_SUFFIXES or p.stem.lower() in _DOC_NAMES


def split_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(rule paths, log paths): ``.yml``/``.yaml`` files and directories holding them are
    rules; everything else is a log for ingest. A directory with both is refused —
    guessing would ingest a rule or skip a log."""
    from crownwatch.lake import iter_files

    rules: list[Path] = []
    logs: list[Path] = []
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    for p in paths:
        if p.is_dir():
            files = list(iter_files([p]))
            yml = [f for f in files if _is_rule_file(f)]
            other = [f for f in files if not _is_rule_file(f) and not _is_doc(f)]
            if yml and other:
                raise UsageError(
                    f"{p} holds both Sigma rules ({yml[0].name}…) and other files "
                    f"({other[0].name}…): pass the rules and the logs separately"
                )
            (rules if yml else logs).append(p)
        else:
            (rules if _is_rule_file(p) else logs).append(p)
    return rules, logs


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Every ``.yml``/``.yaml`` file under the rule paths, in a stable order."""
    from crownwatch.lake import iter_files

    return [f for f in iter_files(paths) if _is_rule_file(f)]


def _documents(text: str) -> list:
    """The YAML documents of a rule file; refuses aliases (see the module docstring)."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise ValueError("YAML aliases (*name) are not allowed in a rule file")
    return [d for d in yaml.safe_load_all(text) if d is not None]


def load(files: Iterable[Path]) -> Loaded:
    """Parse every rule file; rules with errors, files that are not Sigma, and
    correlations whose rules are missing become :class:`Problem`s, the rest one
    collection with every correlation's references resolved and every Sigma filter
    applied (filters and correlations may name rules of other files)."""
    good: list = []
    filters: list = []
    problems: list[Problem] = []
    where: dict[int, str] = {}
    for path in files:
        name = str(path)
        try:
            if path.stat().st_size > MAX_RULE_BYTES:
                raise ValueError(f"larger than {MAX_RULE_BYTES >> 20} MiB: not a rule file")
            docs = _documents(path.read_text(encoding="utf-8"))
            if not all(isinstance(d, dict) for d in docs):
                raise ValueError("a YAML document that is not a mapping is no Sigma rule")
            coll = SigmaCollection.from_dicts(
                docs, collect_errors=True, collect_filters=True, resolve_references=False
            )
        except (OSError, UnicodeDecodeError, yaml.YAMLError, SigmaError, ValueError) as exc:
            problems.append(Problem(name, f"not a valid Sigma rule file: {_first_line(exc)}"))
            continue
        for rule in coll.rules:
            if rule.errors:
                problems.append(
                    _problem(name, rule, f"invalid rule: {_first_line(rule.errors[0])}")
                )
            elif isinstance(rule, SigmaRule) and not rule.detection.parsed_condition:
                problems.append(_problem(name, rule, "invalid rule: no condition"))
            else:
                where[id(rule)] = name
                good.append(rule)
        bad_filters = [f for f in coll.filters if f.errors]
        problems += [
            _problem(name, f, f"invalid filter: {_first_line(f.errors[0])}") for f in bad_filters
        ]
        filters += [f for f in coll.filters if not f.errors]
        if not coll.rules and not coll.filters:
            problems.append(Problem(name, "not a valid Sigma rule file: no rule in it"))
    try:
        merged = SigmaCollection([*good, *filters], resolve_references=False)
    except SigmaError as exc:  # a filter naming rules that are not there
        problems.append(Problem("(filters)", f"Sigma filters not applied: {_first_line(exc)}"))
        merged = SigmaCollection(good, resolve_references=False)
    kept = []
    for rule in merged.rules:
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(merged)
            except SigmaError as exc:
                problems.append(
                    _problem(where[id(rule)], rule, f"invalid correlation: {_first_line(exc)}")
                )
                continue
        kept.append(rule)
    return Loaded(SigmaCollection(kept, resolve_references=False), problems, where)


def _problem(file: str, rule, reason: str) -> Problem:
    return Problem(file, reason, rule.title, str(rule.id) if rule.id else None)


def _first_line(exc: BaseException | object) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]
