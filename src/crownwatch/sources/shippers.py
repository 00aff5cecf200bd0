"""Shipper and SIEM envelopes: the vendor's record as a SIEM or log shipper delivered it.

Not a source (it is not in ``SOURCE_MODULES``): the CloudTrail, Okta and Entra
sources call it so that one normalising SELECT per source serves every delivery.
It works per record, in SQL, over the record table every source starts from
(``(raw_offset, text)``; see :mod:`crownwatch.sources.reader`), and turns each
record into the vendor's own JSON object, which the source's stage then parses as if
the vendor had written it:

=========================  =========================================================
shape                      the vendor's record is
=========================  =========================================================
Elasticsearch / OpenSearch ``_source`` of a hit (``{"_index", "_id", "_source": {…}}``,
hit                        as JSON lines — elasticdump — or in a ``_search`` response's
                           ``hits.hits``, see :func:`document_key`)
Splunk search export       ``result._raw``, a string holding the event's JSON
(``/search/jobs/export``,  (``{"preview": false, "offset": 0, "result": {"_raw": …,
Splunk Web "Export JSON")  "_time": …, "sourcetype": …}}``); ``preview: true`` rows
                           (partial results the final rows repeat) and the closing
                           ``{"preview": false, "lastrow": true}`` line are *skipped*
Splunk results             ``_raw`` beside ``_time`` / ``sourcetype`` (the results
                           endpoint, the CLI's JSON)
Splunk HTTP Event          ``event`` — an object, or a string holding one — beside
Collector                  HEC's own ``time`` / ``host`` / ``source`` / ``sourcetype`` /
                           ``index``
Elastic Common Schema      ``event.original`` (a string holding the vendor's JSON) of
(Elastic Agent / Filebeat  a document with ``@timestamp``, when the integration kept it
integrations)              (``preserve_original_event``)
Logstash                   the document itself, with Logstash's ``@timestamp`` and
                           ``@version`` beside the vendor's fields. When the vendor's
                           time field is gone — the ``cloudtrail`` codec *moves*
                           ``eventTime`` into ``@timestamp`` — ``@timestamp`` is put
                           back under the vendor's name
source-specific            a :class:`Shape` the source declares: a SIEM table that
                           flattened the record into columns (Sentinel
                           ``AWSCloudTrail``, ``Okta_CL``), or a vendor envelope
                           (EventBridge's ``detail``)
=========================  =========================================================

A record that is none of these is passed on as it is (the vendor's own record, or
junk the stage will quarantine). An envelope whose content is unusable — a
``_source`` that is not an object, a Splunk row without ``_raw`` (a ``| table``
export), a HEC ``event`` that is plain text — is quarantined with a reason naming the
envelope; so is a wrapped record the stage rejects (``Splunk HEC event: missing
eventTime``). The quarantine keeps the record *as delivered*, envelope and all.

**Cost.** A peeled record is parsed once more (one ``json_transform`` into the
envelope keys and the source's shape columns; a Logstash record also gets its time
put back with ``json_merge_patch``), so sources peel only files whose first 4 KiB show
an envelope (:func:`looks_wrapped`) and read the rest as before. When a file read bare
has rejects that hold envelopes after all (a file that changes shape past its head),
the source reads it again peeled (:func:`rejects_look_wrapped`), so no wrapped record
is left quarantined for want of a look. Measured on 60,000 CloudTrail records (the
2-core machine): bare JSON lines 3.9 s, the same as Logstash documents 5.0 s, as
Sentinel ``AWSCloudTrail`` rows (a 50 % larger file) 6.4 s.

**Using it from a source.** Declare a :class:`Vendor` (the vendor's time field, any
source-specific :class:`Shape`), then stage a record table with
:func:`stage_records` / :func:`stage_lines` (or compose :func:`peel` / :func:`bare`
with :func:`stage` when the source classifies records first, as Entra does), and add
the returned ``skipped`` to ``Parsed.records`` and ``Parsed.skipped``. Sniffers see
escaped records through :func:`unescaped`; :func:`document_key` finds an
Elasticsearch response's ``hits.hits``.

**Hostile input.** Everything here is SQL built from the constants below and the
sources' own constants; log values stay data. Envelope detection keys on exact,
case-sensitive key names (``json_transform`` matching), so a vendor record is never
mistaken for an envelope because of a field that differs only in case.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from crownwatch.sources.reader import Reader
from crownwatch.tables.quarantine import RECORD_LIMIT


@dataclass(frozen=True)
class Shape:
    """A source-specific delivery of the vendor's record (a SIEM table's flattened
    row, a vendor's own envelope).

    ``columns`` is the ``json_transform`` structure of the top-level keys it reads
    (merged into the envelope parse, so a record is still parsed once); ``detect``,
    ``build`` and ``why`` are SQL over ``env``, that parse: whether the record is this
    shape, the vendor-shaped JSON text it stands for, and a reason to quarantine it
    (or NULL)."""

    label: str
    columns: dict
    detect: str
    build: str
    why: str = "NULL"


@dataclass(frozen=True)
class Vendor:
    """What the peel needs to know about a source.

    ``time_field`` is the top-level key of the vendor's event time (``eventTime``,
    ``published``): Logstash's ``@timestamp`` fills it when it is missing, None for
    no filling. ``markers`` are extra JSON keys (quoted, as they appear in text) that
    show a file is not the vendor's bare records."""

    time_field: str | None = None
    shapes: tuple[Shape, ...] = ()
    markers: tuple[str, ...] = ()
    _spec: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spec = dict(ENVELOPE)
        if self.time_field:
            spec[self.time_field] = "JSON"
        for shape in self.shapes:
            for k, v in shape.columns.items():
                if spec.get(k, v) != v:
                    raise ValueError(f"shape {shape.label}: {k} typed twice")
                spec[k] = v
        lower = [k.lower() for k in spec]
        if len(set(lower)) != len(lower):  # json_transform refuses such a structure
            raise ValueError("envelope keys must differ in more than case")
        object.__setattr__(self, "_spec", spec)


# The keys every envelope is recognised by, parsed in one go with the source's own.
ENVELOPE = {
    "_source": "JSON",  # Elasticsearch hit
    "preview": "JSON",  # Splunk export row
    "result": {"_raw": "VARCHAR"},
    "_raw": "VARCHAR",  # Splunk results
    "_time": "JSON",
    "event": "JSON",  # Splunk HEC; ECS's event object
    "sourcetype": "VARCHAR",
    "source": "JSON",
    "host": "JSON",
    "index": "JSON",
    "time": "JSON",
    "@timestamp": "VARCHAR",  # Logstash / Beats / Elastic Agent
}

# Quoted keys whose presence in a file's head means it may hold envelopes.
MARKERS = (
    '"_source"',
    '"preview"',
    '"_raw"',
    '"sourcetype"',
    '"event"',
    '"@timestamp"',
)

_LABELS = {
    "elastic": "Elasticsearch _source",
    "splunk_export": "Splunk _raw",
    "splunk_raw": "Splunk _raw",
    "splunk_hec": "Splunk HEC event",
}


def looks_wrapped(head: str, vendor: Vendor) -> bool:
    """Whether a file whose text starts with ``head`` needs peeling."""
    return any(m in head for m in MARKERS + vendor.markers)


def unescaped(head: str) -> str:
    """``head`` with one level of JSON string escaping undone, for sniffing records
    that travel as a string inside another (Splunk's ``_raw``, HEC string events,
    lookup-events' ``CloudTrailEvent``): ``\\"eventVersion\\"`` → ``"eventVersion"``."""
    return head.replace('\\"', '"')


# An Elasticsearch search response (``_search``, scroll, point in time): records in hits.hits.
_ES_RESPONSE = re.compile(
    r'\{\s*"(?:took|timed_out|_shards|_scroll_id|pit_id|hits|terminated_early)"\s*:'
)


def document_key(head: str) -> str | None:
    """Where a JSON document that wraps shipped records keeps them (``hits.hits``
    for an Elasticsearch search response), or None."""
    h = head.lstrip()
    if _ES_RESPONSE.match(h) and re.search(r'"hits"\s*:\s*\{', h):
        return "hits.hits"
    return None


def _spec_sql(spec: dict) -> str:
    return json.dumps(spec).replace("'", "''")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def bare(records: str) -> str:
    """``records`` in the peel's output shape, nothing peeled (files with no envelope)."""
    return f"""(SELECT raw_offset, text, NULL::VARCHAR AS original, NULL::VARCHAR AS why,
                false AS skip, NULL::VARCHAR AS label FROM {records})"""


def peel(records: str, vendor: Vendor) -> str:
    """A FROM-clause source of ``(raw_offset, text, original, why, skip, label)`` over
    a record table: ``text`` the vendor-shaped record (NULL when ``why`` says why
    not), ``original`` the record as delivered when it differs, ``skip`` for rows that
    are no record at all (Splunk preview and control rows), ``label`` the envelope's
    name for reasons. Streams: nothing is materialised."""
    tf = vendor.time_field
    shapes = vendor.shapes
    spec = _spec_sql(vendor._spec)
    meta = {"@timestamp": "VARCHAR", "event": "JSON"}
    if tf:
        meta[tf] = "JSON"
    whens = "\n".join(f"WHEN {s.detect} THEN 'shape{i}'" for i, s in enumerate(shapes))
    inner_shapes = "\n".join(f"WHEN 'shape{i}' THEN {s.build}" for i, s in enumerate(shapes))
    why_shapes = "\n".join(f"WHEN 'shape{i}' THEN {s.why}" for i, s in enumerate(shapes))
    label_shapes = "\n".join(f"WHEN 'shape{i}' THEN '{s.label}'" for i, s in enumerate(shapes))
    label_env = "\n".join(f"WHEN '{k}' THEN '{v}'" for k, v in _LABELS.items())
    tf_self = f"env.{_ident(tf)}" if tf else "NULL"
    tf_elastic = f"m2.{_ident(tf)}" if tf else "NULL"
    # (a CASE per column, never AND/OR over values that may not parse: DuckDB need
    # not evaluate AND's operands in order)
    return f"""(
    WITH s AS (
        SELECT raw_offset, text AS delivered,
            CASE WHEN raw_offset >= 0 AND starts_with(ltrim(text), '{{')
                 THEN try(json_transform(text, '{spec}')) END AS env
        FROM {records}
    ), k AS (
        SELECT raw_offset, delivered, env, CASE
            WHEN env IS NULL THEN 'self'
            WHEN env._source IS NOT NULL THEN 'elastic'
            WHEN env.preview IS NOT NULL THEN 'splunk_export'
            WHEN env._raw IS NOT NULL AND (env._time IS NOT NULL OR env.sourcetype IS NOT NULL)
                THEN 'splunk_raw'
            WHEN env.event IS NOT NULL AND env."@timestamp" IS NULL
                 AND (env.sourcetype IS NOT NULL OR env.time IS NOT NULL OR env.host IS NOT NULL
                      OR env.source IS NOT NULL OR env.index IS NOT NULL) THEN 'splunk_hec'
            {whens}
            ELSE 'self' END AS shape
        FROM s
    ), i AS (
        SELECT raw_offset, delivered, env, shape,
            CASE WHEN shape = 'splunk_export'
                 THEN (CASE WHEN env.result IS NULL THEN true
                            ELSE CAST(env.preview AS VARCHAR) = 'true' END)
                 ELSE false END AS skip,
            CASE shape
                WHEN 'self' THEN delivered
                WHEN 'elastic' THEN (CASE WHEN starts_with(CAST(env._source AS VARCHAR), '{{')
                                          THEN CAST(env._source AS VARCHAR) END)
                WHEN 'splunk_export' THEN env.result._raw
                WHEN 'splunk_raw' THEN env._raw
                WHEN 'splunk_hec' THEN (CASE
                    WHEN starts_with(CAST(env.event AS VARCHAR), '{{') THEN CAST(env.event AS VARCHAR)
                    WHEN starts_with(CAST(env.event AS VARCHAR), '"') THEN env.event ->> '$' END)
                {inner_shapes}
            END AS vendor_text,
            CASE shape
                WHEN 'elastic' THEN (CASE WHEN NOT starts_with(CAST(env._source AS VARCHAR), '{{')
                    THEN 'not a JSON object' END)
                WHEN 'splunk_export' THEN (CASE WHEN env.result._raw IS NULL
                    THEN 'missing (a table export, not events)' END)
                WHEN 'splunk_hec' THEN (CASE WHEN NOT starts_with(CAST(env.event AS VARCHAR), '{{')
                    AND NOT starts_with(CAST(env.event AS VARCHAR), '"')
                    THEN 'not a JSON object' END)
                {why_shapes}
            END AS why
        FROM k
    ), m AS (
        -- Logstash and ECS live in the document itself, or in an Elasticsearch hit's _source
        SELECT *, CASE WHEN shape = 'elastic' AND why IS NULL
                       THEN try(json_transform(vendor_text, '{_spec_sql(meta)}')) END AS m2
        FROM i
    ), t AS (
        SELECT raw_offset, delivered, shape, skip, why, vendor_text,
            CASE shape WHEN 'elastic' THEN m2."@timestamp" WHEN 'self' THEN env."@timestamp" END AS ts,
            CASE shape WHEN 'elastic' THEN m2.event WHEN 'self' THEN env.event END AS ev,
            CASE shape WHEN 'elastic' THEN {tf_elastic} WHEN 'self' THEN {tf_self} END AS tf
        FROM m
    ), e AS (
        SELECT raw_offset, delivered, shape, skip, why, vendor_text, ts, tf,
            CASE WHEN ts IS NOT NULL AND starts_with(CAST(ev AS VARCHAR), '{{')
                 THEN (CASE WHEN json_type(ev, '$.original') = 'VARCHAR'
                            THEN (CASE WHEN starts_with(ltrim(ev ->> '$.original'), '{{')
                                       THEN ev ->> '$.original' END) END) END AS original_event
        FROM t
    )
    SELECT raw_offset,
        CASE WHEN why IS NOT NULL OR skip THEN NULL
             WHEN original_event IS NOT NULL THEN original_event
             {f"WHEN tf IS NULL AND ts IS NOT NULL THEN CAST(json_merge_patch(vendor_text, json_object('{tf}', ts)) AS VARCHAR)" if tf else ""}
             ELSE vendor_text END AS text,
        CASE WHEN shape <> 'self' OR original_event IS NOT NULL
                  {"OR (tf IS NULL AND ts IS NOT NULL)" if tf else ""} THEN delivered END AS original,
        why, skip,
        CASE WHEN original_event IS NOT NULL THEN 'ECS event.original'
             ELSE (CASE shape {label_env} {label_shapes} END) END AS label
    FROM e
)"""


def stage(reader: Reader, peeled: str, structure: dict, reject_sql: str) -> tuple[str, int]:
    """:meth:`Reader.stage_json` over a peel: parse each vendor-shaped record once
    into ``e`` and decide its fate. Returns the stage (same columns as the reader's,
    skipped rows removed) and how many rows were skipped.

    Reasons name the envelope a record came in (``Splunk _raw: malformed JSON``) and
    ``_record`` keeps the record as delivered."""
    name = reader.name("stage")
    spec = _spec_sql(structure)
    reader.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {name} AS
        WITH p AS (
            SELECT raw_offset, text, original, why, skip,
                   coalesce(label || ': ', '') AS prefix,
                   try(json_transform(text, '{spec}')) AS e
            FROM {peeled}
        ), r AS (
            SELECT raw_offset, e, skip, coalesce(original, text) AS delivered,
                CASE WHEN skip THEN NULL
                     WHEN raw_offset < 0 THEN substr(text, 2)
                     WHEN why IS NOT NULL THEN prefix || why
                     WHEN e IS NULL AND NOT json_valid(text) THEN prefix || 'malformed JSON'
                     WHEN e IS NULL OR NOT starts_with(ltrim(text), '{{')
                         THEN prefix || 'JSON record is not an object'
                     ELSE prefix || ({reject_sql}) END AS _reject
            FROM p
        )
        SELECT raw_offset, e, _reject,
               CASE WHEN _reject IS NOT NULL THEN left(delivered, {RECORD_LIMIT}) END AS _record,
               skip AS _skip
        FROM r"""
    )
    ((skipped,),) = reader.con.execute(f"SELECT count(*) FROM {name} WHERE _skip").fetchall()
    if skipped:
        reader.con.execute(f"DELETE FROM {name} WHERE _skip")
    return name, skipped


def rejects_look_wrapped(reader: Reader, stage_name: str, vendor: Vendor) -> bool:
    """Whether any record a bare read rejected holds an envelope marker (the file
    changed shape after its head): the source then reads it again, peeled."""
    markers = MARKERS + vendor.markers
    cond = " OR ".join("contains(_record, ?)" for _ in markers)
    ((n,),) = reader.con.execute(
        f"SELECT count(*) FROM {stage_name} WHERE _reject IS NOT NULL AND ({cond})",
        list(markers),
    ).fetchall()
    return n > 0


def stage_records(
    reader: Reader, records: str, vendor: Vendor, structure: dict, reject_sql: str, *, wrapped: bool
) -> tuple[str, int]:
    """The stage of a record table: peeled when ``wrapped`` (the file's head shows
    envelopes, :func:`looks_wrapped`), else read as it is — and peeled after all
    when that read's rejects hold envelopes. Returns ``(stage, skipped)``."""
    if wrapped:
        return stage(reader, peel(records, vendor), structure, reject_sql)
    name, skipped = stage(reader, bare(records), structure, reject_sql)
    if rejects_look_wrapped(reader, name, vendor):
        reader.con.execute(f"DROP TABLE {name}")
        return stage(reader, peel(records, vendor), structure, reject_sql)
    return name, skipped


def stage_lines(
    reader: Reader, path: Path, vendor: Vendor, structure: dict, reject_sql: str, *, wrapped: bool
) -> tuple[str, int]:
    """:func:`stage_records` over a JSON-lines file, by DuckDB's line reader or, when
    that refuses the file (truncated gzip, odd bytes), the reader's forgiving one.

    A file whose head shows no envelope is first tried by the reader's typed
    ``read_json`` (``Reader._stage_json_clean``): when every line is a clean
    vendor record — the common case — that one parallel parse is the whole stage
    (measured at 1M CloudTrail events: the per-line ``json_transform`` stage took
    about three times the typed read). Any reject, blank line or envelope sends the
    file down the line-by-line path as before."""
    if not wrapped:
        fast = reader._stage_json_clean(path, structure, reject_sql)
        if fast is not None:
            return fast, 0
    try:
        return stage_records(
            reader, reader.lines(path), vendor, structure, reject_sql, wrapped=wrapped
        )
    except duckdb.Error:
        records = reader.materialise_lines(path)
        return stage_records(reader, records, vendor, structure, reject_sql, wrapped=wrapped)


def stage_json_file(
    reader: Reader, path: Path, head: str, vendor: Vendor, structure: dict, reject_sql: str
) -> tuple[str, int]:
    """The stage of a JSON source's file, whichever way it arrived: one document (an
    array, or records under a key such as ``Records``/``value``/``hits``), JSON lines
    whose head shows a shipper's envelopes, or bare vendor lines — read by the fast
    typed path and read again peeled if its rejects show envelopes after the head.
    Returns ``(stage, skipped)``."""
    from crownwatch.sources.cloudtrail import read_document  # cloudtrail imports this module

    h = head.lstrip()
    wrapped = looks_wrapped(head, vendor)
    key = document_key(h)
    if h.startswith("[") or key:
        records = read_document(reader, path, key)
        return stage_records(reader, records, vendor, structure, reject_sql, wrapped=wrapped)
    if wrapped:
        return stage_lines(reader, path, vendor, structure, reject_sql, wrapped=True)
    stage_name = reader.stage_json_lines(path, structure, reject_sql)
    if rejects_look_wrapped(reader, stage_name, vendor):
        reader.con.execute(f"DROP TABLE {stage_name}")
        return stage_lines(reader, path, vendor, structure, reject_sql, wrapped=True)
    return stage_name, 0


def dynamic(col: str) -> str:
    """SQL for a SIEM ``dynamic`` / JSON-string column as JSON: the object or array
    itself, or the one a string holds; anything else NULL (never an error)."""
    return f"""(CASE WHEN starts_with(CAST({col} AS VARCHAR), '{{')
                     OR starts_with(CAST({col} AS VARCHAR), '[') THEN {col}
                WHEN starts_with(CAST({col} AS VARCHAR), '"')
                THEN (CASE WHEN json_valid({col} ->> '$')
                           THEN (CASE WHEN json_type({col} ->> '$') IN ('OBJECT', 'ARRAY')
                                      THEN CAST({col} ->> '$' AS JSON) END) END) END)"""


def blank_null(col: str) -> str:
    """SQL for a SIEM string column: the empty string SIEMs write for "no value" is NULL."""
    return f"nullif(trim({col}), '')"
