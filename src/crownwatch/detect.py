"""Run the detections over a lake and store what they find."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa

from crownwatch.detections import all_detections
from crownwatch.detections.base import Detection, row_to_finding

# The run context lives in the contract module (detections import it from there);
# _RUN, current_engine and shared stay importable from here too.
from crownwatch.detections.contract import _RUN as _RUN
from crownwatch.detections.contract import current_engine as current_engine
from crownwatch.detections.contract import params_for, running
from crownwatch.detections.contract import shared as shared
from crownwatch.engine import Engine

# Families run in this order so a later family can build on an earlier one's
# findings (crown-jewel access by a principal that was sprayed).
FAMILY_ORDER = (
    "identity",
    "persistence",
    "workforce",
    "supply_chain",
    "inference",
    "exfiltration",
    "scan",
)

_FINDING_ENTITY_SCHEMA = pa.schema(
    [
        ("finding_id", pa.string()),
        ("detection", pa.string()),
        ("kind", pa.string()),
        ("value", pa.string()),
        ("first_seen", pa.timestamp("us", tz="UTC")),
        ("last_seen", pa.timestamp("us", tz="UTC")),
    ]
)


class Tables:
    """What a detection's ``query`` receives (the protocol
    :class:`crownwatch.detections.contract.Tables`): the lake's tables on the chosen
    engine, plus the findings raised earlier in this run, one row per (finding, entity).

    Tables with a source address (``authentication``, ``api_activity``,
    ``llm_request``, ``network_activity``) come enriched — ISO countries, ASN and
    country filled from the configured databases, ``src_network`` and the cloud
    service (:mod:`crownwatch.enrichment.view`). Preparing that reads ``[enrichment]``
    and raises :class:`crownwatch.enrichment.EnrichmentError` (a ``ValueError``) for
    a bad setting or database file, before any detection runs."""

    def __init__(self, engine: Engine, config: dict[str, Any] | None = None):
        from crownwatch.enrichment import Enrichment

        self.engine = engine
        self.config = config or {}
        # per-run memo for work several detections share (e.g. inference account
        # features): ``t.cache.setdefault(key, compute())``
        self.cache: dict[str, Any] = {}
        self._findings: list[dict] = []
        self.enrichment = Enrichment.prepare(engine.lake.root, self.config)
        self._views: dict[str, ibis.Table] = {}

    @property
    def engine_name(self) -> str:
        return self.engine.name

    def __getattr__(self, name: str) -> ibis.Table:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.table(name)

    def table(self, name: str) -> ibis.Table:
        from crownwatch.enrichment import ENRICHED_TABLES

        if name not in ENRICHED_TABLES:
            return self.engine.table(name)
        if name not in self._views:
            view = self.enrichment.enrich(self.engine, name)
            # Spark re-plans the view's joins inside every detection that reads the
            # table, several times per query; persisted once, each read is a scan of
            # the cached rows. DuckDB keeps the lazy view: projection and filters reach
            # the Parquet files, and a temp table of every column would cost memory.
            if self.engine.name != "duckdb":
                view = self.engine.materialise(view)
            self._views[name] = view
        return self._views[name]

    def findings(self) -> ibis.Table:
        from datetime import datetime

        rows = []
        for f in self._findings:
            fs = datetime.fromisoformat(f["first_seen"].replace("Z", "+00:00"))
            ls = datetime.fromisoformat(f["last_seen"].replace("Z", "+00:00"))
            for kind, values in f["entities"].items():
                for v in values:
                    rows.append((f["id"], f["detection"], kind, v, fs, ls))
        cols = list(zip(*rows, strict=True)) if rows else [[] for _ in _FINDING_ENTITY_SCHEMA]
        arrays = [
            pa.array(c, type=f.type) for c, f in zip(cols, _FINDING_ENTITY_SCHEMA, strict=True)
        ]
        return ibis.memtable(pa.table(arrays, schema=_FINDING_ENTITY_SCHEMA))


@dataclass
class DetectionError:
    detection: str
    message: str


def _family(det: Detection) -> int:
    fam = det.id.split(".", 1)[0]
    return FAMILY_ORDER.index(fam) if fam in FAMILY_ORDER else len(FAMILY_ORDER)


def selected(config: dict[str, Any], only: list[str] | None = None) -> list[Detection]:
    conf = config.get("detections", {})
    dets = [d for d in all_detections() if conf.get(d.id, {}).get("enabled", True)]
    if only:
        dets = [d for d in dets if any(d.id == o or d.id.startswith(o + ".") for o in only)]
    return sorted(dets, key=lambda d: (_family(d), d.id))


def run_detections(
    engine: Engine,
    config: dict[str, Any] | None = None,
    only: list[str] | None = None,
    on_detection: Callable[[Detection, int], None] | None = None,
    out_errors: list[DetectionError] | None = None,
) -> list[dict]:
    """Every enabled detection over the engine's lake; returns finding dicts.

    A detection that fails is recorded in ``out_errors`` and skipped; the rest run."""
    config = config or {}
    tables = Tables(engine, config)
    try:
        with running(tables):
            return _run(engine, tables, config, only, on_detection, out_errors)
    finally:
        engine.end_run()


def _run(engine, tables, config, only, on_detection, out_errors) -> list[dict]:
    out: list[dict] = []
    errors = out_errors if out_errors is not None else []
    for det in selected(config, only):
        p = params_for(det.meta, config.get("detections", {}).get(det.id))
        if not all(engine.lake.table_files(t) for t in det.meta.tables):
            if on_detection:
                on_detection(det, 0)
            continue
        try:
            rows = engine.execute(det.query(tables, p))
            post = getattr(det.module, "postprocess", None)
            if post is not None:
                rows = post(rows, p)
            found = [row_to_finding(det, r, p) for r in rows]
        except Exception as exc:  # one broken detection must not hide the others' findings
            errors.append(DetectionError(det.id, f"{type(exc).__name__}: {exc}"))
            if on_detection:
                on_detection(det, 0)
            continue
        found.sort(key=lambda f: (f["first_seen"] or "", f["id"]))
        tables._findings.extend(found)
        out.extend(found)
        if on_detection:
            on_detection(det, len(found))
    _keep_derived(engine, tables)
    return out


def _keep_derived(engine: Engine, tables: Tables) -> None:
    """Write what the run derived and a responder may want to see into
    ``<lake>/derived/`` (today: the identity links the chains joined through)."""
    from crownwatch.enrichment.identities import store_links

    for key, table in tables.cache.items():
        if key.startswith("enrichment.identity_links:"):
            store_links(engine, table)
