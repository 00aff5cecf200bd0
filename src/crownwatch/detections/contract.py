"""The detection contract: what a detection module defines, and what it is given.

A detection imports this module and nothing of the runner (:mod:`crownwatch.detect`).
It is one module that reads top to bottom like a runbook:

1. a docstring — what it looks for, why it matters, how it is tuned against real false
   positives (``crownwatch detections show ID`` prints it);
2. ``META`` — a :class:`Meta` with id, title, severity, ATT&CK/ATLAS ids, the tables
   it reads, references, its default ``params`` (thresholds, overridable in
   ``crownwatch.toml`` under ``[detections."<id>"]``) and the ``runbook``: what a
   responder does when it fires;
3. ``query(t: Tables, p: Params) -> ibis.Table`` — one Ibis expression, so the same
   code runs on DuckDB and Spark, returning **one row per finding** with these columns:

   ``key``            what makes this finding distinct within the detection (the
                      finding id is derived from it, so it must be stable across runs)
   ``first_seen``     timestamp
   ``last_seen``      timestamp
   ``entity_<kind>``  string or array of strings: ``entity_user``, ``entity_src_ip``,
                      ``entity_account``, ``entity_principal``, ``entity_asset``…
   ``raw_refs``       optional array of ``file#offset`` strings citing raw records
   ``severity``       optional per-finding override of ``META.severity``
   ``attack``         optional per-finding list of technique ids overriding
                      ``META.attack`` (a chip-design theft is not an ATLAS model theft)
   anything else      evidence (counts, samples, ratios)

4. optionally ``postprocess(rows: list[dict], p: Params) -> list[dict]`` — Python over
   the rows the engine returned (scoring a small per-account table, dropping rows
   whose test is easier written in Python); it returns rows of the same shape;
5. ``title(row: dict, p: Params) -> str`` — one line a responder reads first (without
   one, ``META.title``).

Arrays are sorted and trimmed in Python after the engine returns, so results are
identical across engines whatever order the engine collected them in
(:func:`crownwatch.detections.base.row_to_finding`).

**The run context.** ``query`` receives :class:`Tables` — the lake's tables on the
engine of this run, already enriched, plus the findings raised earlier in the run and a
per-run cache — and :class:`Params`, ``META.params`` with the overrides of
``crownwatch.toml`` (:func:`params_for`). Work several detections share is computed
once per run with :func:`shared`; an expression that must be spelled differently per
engine asks :func:`current_engine`. Families run in a fixed order (identity before
exfiltration: ``crownwatch.detect.FAMILY_ORDER``), so a later family may read an earlier
one's findings with ``t.findings()``.

**Scenarios: the detection's own tests.** Beside ``foo.py`` lives
``foo_scenarios.py`` (discovery skips modules named ``*_scenarios``, and no detection
run imports them). It defines ``SCENARIOS``: a list of :class:`Scenario` — at least
one ``attack`` the detection must raise a finding on and one ``benign`` look-alike it
must stay quiet on — each with the log files it is made of, built with the record
builders of :mod:`crownwatch.testing` in the vendor's own layout. One generic test
(``tests/test_detection_scenarios.py``) finds every detection's scenarios; adding a
detection is its module and its scenarios module, and no shared file is edited.

The generic test runs each scenario in a lake of its own on DuckDB (attack fires, with
the ``entities`` named and whatever ``expect`` checks; benign is quiet), then every
scenario of every detection together in one lake, on DuckDB and on Spark: the two
engines must raise identical findings, and the shared lake exactly the findings the
scenarios raised alone. So a scenario owns its users, addresses, principals and time,
and declares in ``also`` any other detection its logs rightly set off (the spray a
chain starts from), which then runs beside it. Edge and threshold cases stay ordinary
tests under ``tests/``, built with the same builders.

This module imports nothing heavy at run time (no engine, no Ibis): the CLI lists the
detections' metadata without starting an engine.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from crownwatch.severity import SEVERITIES

if TYPE_CHECKING:
    import ibis

    from crownwatch.engine import Engine
    from crownwatch.enrichment import Enrichment


@dataclass(frozen=True)
class Meta:
    """What a detection is, for the runner, the CLI (``crownwatch detections list``) and
    the people who read its findings.

    ``attack`` holds MITRE ATT&CK (``T…``) and ATLAS (``AML.T…``) ids; ``tables`` the
    lake tables ``query`` needs — the runner skips a detection when any of them is
    empty, so a table it reads only when present (sign-ins beside device check-ins)
    stays off the list and reads as an empty table of the right schema;
    ``params`` the defaults of every threshold, with the types configuration must keep;
    ``runbook`` one to three concrete response steps, in the order a responder takes
    them; ``not_sigma`` why no Sigma rule can honestly stand for the detection
    (``crownwatch sigma export`` prints it) — a detection with neither this nor an
    export in :mod:`crownwatch.sigma.export` is reported as not yet assessed."""

    id: str
    title: str
    severity: str
    attack: tuple[str, ...]
    tables: tuple[str, ...]
    description: str
    false_positives: str = ""
    references: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    runbook: tuple[str, ...] = ()
    not_sigma: str = ""

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} not in {SEVERITIES}")
        if isinstance(self.runbook, str):
            raise TypeError(f"{self.id}: runbook is a tuple of steps, not one string")


SCENARIO_KINDS = ("attack", "benign")
# entity kind -> values; or a callable returning that, for values known only once the
# logs are built (accounts a simulator drew)
Entities: TypeAlias = Mapping[str, Sequence[str]] | Callable[[], Mapping[str, Sequence[str]]]


@dataclass(frozen=True)
class Scenario:
    """One attack or benign look-alike of a detection, as the logs it leaves.

    ``logs`` returns ``{file name: content}`` — the files exactly as the source writes
    them, ingested as they would be from disk (it is called lazily: building is the
    test's cost, not the import's). The same file name in two scenarios must hold the
    same content (a shared background, stored once in the shared lake).

    ``entities``: for an attack, values one of its findings must name, per entity kind
    (``{"user": ("cfo.kim",)}``). ``expect``: a callable given the detection's findings
    in the scenario's own lake, asserting what else matters (evidence, severity,
    title). ``scope``: for a benign scenario whose logs are a population the detection
    does fire on elsewhere, the entities that must appear in none of its findings —
    without it, benign means no finding at all. ``also``: other detections or families
    (``"identity"``) that run with it — a chain's inputs, or another detection the same
    logs rightly set off. ``config``: the ``crownwatch.toml`` sections it needs
    (``organisation``, ``assets``); ``feeds``: provider range files to store in the
    lake (``{"ip-ranges.json": bytes}``). Per-detection parameter overrides do not
    belong here: every scenario runs with the defaults a user gets."""

    name: str
    kind: str
    logs: Callable[[], Mapping[str, str | bytes]]
    entities: Entities = field(default_factory=dict)
    expect: Callable[[list[dict]], object] | None = None
    scope: Entities = field(default_factory=dict)
    also: tuple[str, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    feeds: Mapping[str, bytes] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in SCENARIO_KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} not in {SCENARIO_KINDS}")
        if self.kind == "attack" and (callable(self.scope) or self.scope):
            raise ValueError(f"{self.name}: scope narrows a benign scenario, not an attack")
        if "detections" in self.config:
            raise ValueError(f"{self.name}: scenarios run with the detections' defaults")


# ``p`` in ``query(t, p)``: one attribute per key of ``META.params`` (``p.min_users``),
# the default unless crownwatch.toml overrides it. Built by :func:`params_for`.
Params: TypeAlias = SimpleNamespace


def params_for(meta: Meta, overrides: Mapping[str, Any] | None) -> Params:
    """Defaults from ``META.params`` with overrides from configuration, type-checked
    against the defaults so a typo in crownwatch.toml fails loudly, not silently."""
    values = dict(meta.params)
    for k, v in (overrides or {}).items():
        if k == "enabled":
            continue
        if k not in values:
            raise ValueError(f"{meta.id}: unknown parameter {k!r} (known: {', '.join(values)})")
        if not _same_kind(values[k], v):
            raise ValueError(f"{meta.id}: parameter {k!r} must be {type(values[k]).__name__}")
        values[k] = v
    return SimpleNamespace(**values)


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


class Tables(Protocol):
    """``t`` in ``query(t, p)``: the lake's tables on this run's engine.

    ``t.authentication``, ``t.api_activity``, ``t.network_activity``,
    ``t.llm_request`` (any lake table by attribute, or ``t.table(name)``) are Ibis
    tables — empty, with the right schema, when the lake has none. The tables with a
    source address come enriched (ISO countries, ASN and country from the configured
    databases, ``src_network``, the cloud service: :mod:`crownwatch.enrichment.view`).

    The runner's implementation is :class:`crownwatch.detect.Tables`; a test may pass
    any object with these members."""

    authentication: ibis.Table
    api_activity: ibis.Table
    network_activity: ibis.Table
    llm_request: ibis.Table

    #: the engine of this run (``engine.name`` is ``"duckdb"`` or ``"spark"``)
    engine: Engine
    #: the whole crownwatch.toml as a dict (``[organisation]``, ``[[assets]]``…)
    config: dict[str, Any]
    #: per-run memo for work several detections share — use :func:`shared`, which
    #: keeps the result in the engine, rather than writing here directly
    cache: dict[str, Any]
    #: the range tables and the view behind the enriched tables
    enrichment: Enrichment

    @property
    def engine_name(self) -> str:
        """``"duckdb"`` or ``"spark"``."""
        ...

    def table(self, name: str) -> ibis.Table:
        """The lake table ``name`` (enriched where it has a source address)."""
        ...

    def findings(self) -> ibis.Table:
        """The findings raised earlier in this run, one row per (finding, entity):
        ``finding_id``, ``detection``, ``kind`` (``user``, ``src_ip``…), ``value``,
        ``first_seen``, ``last_seen``."""
        ...


_RUN: contextvars.ContextVar[Tables | None] = contextvars.ContextVar("crownwatch_run", default=None)


@contextmanager
def running(tables: Tables) -> Iterator[None]:
    """Make ``tables`` the run :func:`shared` and :func:`current_engine` see (the runner
    wraps its detections in this)."""
    token = _RUN.set(tables)
    try:
        yield
    finally:
        _RUN.reset(token)


def shared(key: str, build: Callable[[], ibis.Table], on_disk: bool = False) -> ibis.Table:
    """An intermediate several detections of this run need (credential failures with
    their recovery flags, spray exposures…), computed once and kept in the engine —
    with ``on_disk``, as Parquet in the lake's scratch folder: for one as long as the
    logs themselves (see :meth:`crownwatch.engine.Engine.materialise`).

    Outside a detection run (a unit test calling ``query`` directly) it is just
    ``build()``. ``key`` must name everything the result depends on (parameters)."""
    run = _RUN.get()
    if run is None:
        return build()
    if key not in run.cache:
        run.cache[key] = run.engine.materialise(build(), on_disk=on_disk)
    return run.cache[key]


def current_engine() -> str | None:
    """The engine name of the detection run in progress (None outside a run): for the
    rare expression that must be spelled differently per engine to be fast."""
    run = _RUN.get()
    return run.engine.name if run is not None else None
