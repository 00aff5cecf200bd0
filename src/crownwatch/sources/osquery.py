"""osquery scheduled-query results: what is installed in and plugged into each device,
and the device itself.

**Layouts.** The results log osqueryd's filesystem logger writes
(``osqueryd.results.log``, one JSON object per line) — the same lines the TLS logger
sends Fleet or Kolide and their result-log plugins write on — in its three formats:

* *differential* (the default, event format): one row per line,
  ``{"name", "hostIdentifier", "calendarTime", "unixTime", "epoch", "counter",
  "numerics", "decorations", "columns": {…}, "action": "added" | "removed"}``
  (``"snapshot"`` too, for snapshot queries with ``logger_snapshot_event_type``);
* *snapshot*: every row of one run in one line, ``{"snapshot": [{…}, …],
  "action": "snapshot", "name", "hostIdentifier", …}``;
* *batch* (``logger_event_type=false``): ``{"diffResults": {"added": […],
  "removed": […]}, "name", "hostIdentifier", …}`` — ``hostname`` in place of
  ``hostIdentifier`` in old osquery versions.

``unixTime`` is an integer, or a string in osquery 2.x. As shipped: Splunk
(``osquery:results``: HEC events, ``_raw`` of search exports); Elastic's osquery
integration and Filebeat ``osquery`` module documents (``osquery.result.{name, action,
host_identifier, unix_time, calendar_time, columns, decorations}``, also as
Elasticsearch hits, or the line itself when ``event.original`` was kept); Logstash
documents (see :mod:`crownwatch.sources.shippers`).

**Which table a row came from** is read from its columns, never from the query's
name (the name is whatever the fleet's author called it):

* ``vendor_id`` and ``model_id`` (and no ``pci_slot`` / ``pci_class``: ``pci_devices``
  has ids too) — ``usb_devices``, or a ``hardware_events`` row of ``type``
  ``usb_device`` and ``action`` ``add`` → ``device_items`` ``usb_device``;
* ``hardware_serial`` or ``uuid``, with ``hostname`` — ``system_info`` (with
  ``os_version``'s ``platform`` and ``version`` when the query joins them) →
  ``devices``;
* ``name`` with ``bundle_identifier`` — ``apps`` (macOS) — or ``name`` and ``version``
  with ``publisher``, ``install_location``, ``identifying_number`` or
  ``uninstall_string`` — ``programs`` (Windows) — ``maintainer`` or ``source`` +
  ``arch`` — ``deb_packages`` — ``release`` — ``rpm_packages`` → ``device_items``
  ``application``.

Rows of every other query (``processes``, ``listening_ports``…) are *skipped*: valid,
not modelled.

**Columns.** ``time`` is ``unixTime`` (UTC); ``device_uid`` the ``hostIdentifier``;
``device_name`` the decorations' ``hostname`` (or ``computer_name``; on a
``system_info`` row its own ``computer_name`` / ``hostname`` after them); ``serial``
the decorations' ``hardware_serial`` (``serial``), on a ``system_info`` row its own
``hardware_serial`` first — upper case, and NULL for the placeholders firmware writes
when it has none (``To Be Filled By O.E.M.``, ``0``…: joined across devices they would
make strangers share a laptop); ``user`` the identity key of the decorations'
``username`` / ``user`` / ``email``. Applications: ``name``; ``version``
(``bundle_short_version`` / ``bundle_version`` for ``apps``); ``publisher``
(``publisher``, the bundle id, the Debian maintainer or the RPM vendor); ``path``
(``install_location``, without the quotes Windows installers often write
around it, or ``path``). USB devices: ``name`` the product string
(``model``), ``publisher`` the vendor string, ``vendor_id`` / ``product_id`` (from
``model_id``) as 4 lower-case hex digits — ``0x1D6B`` and ``1d6b`` are both ``1d6b``.
``devices.os`` comes from ``platform`` (``darwin`` → ``macOS``, ``windows`` →
``Windows``, ``freebsd`` → ``FreeBSD``, any other, a Linux distribution's id, →
``Linux``) and ``os_version`` from ``version`` when the row carries ``os_version``'s
columns; ``last_ip``, ``enrolled_time`` and ``ownership`` are not osquery's to know
(NULL). ``raw_offset`` is the line (1-based) or the record's index in a document;
osquery has no record id (``raw_id`` NULL).

**Counting.** A line is one record. Differential ``removed`` lines are *skipped*: they
say the item left the device, and the detections ask whether it was ever there (its
``added`` line, or an earlier snapshot, says so); the ``removed`` half of a batch line
is ignored the same way. Of a snapshot or batch line with several modelled rows the
first is the record's row and the others are *extra rows* (``Parsed.copies``), so
``read = rows + skipped + quarantined`` holds per line. A line with no modelled row
(another query, an empty snapshot, a batch of removals only, a status-log line that
strayed in) is *skipped*.

**Quarantined:** a line that is not a JSON object; one without ``unixTime`` or with one
that is not a number; one with neither ``columns``, ``snapshot`` nor ``diffResults``;
one with a USB row whose ``vendor_id`` or ``model_id`` is not hex. In that last case
the line's *other* modelled rows are still kept (as extra rows): one unreadable device
in a 40-row snapshot must not hide the 39 others.
"""

from __future__ import annotations

from pathlib import Path

from crownwatch.sources import shippers
from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader, head_text
from crownwatch.tables.authentication import identity_key

NAME = "osquery"

# The columns of the tables modelled (all strings: osquery writes every value as one
# unless numerics is on, and then the number's text is as good).
ROW_KEYS = (
    # usb_devices (and what tells PCI devices and other hardware events apart)
    "vendor_id",
    "model_id",
    "vendor",
    "model",
    "pci_slot",
    "pci_class",
    "type",
    "action",
    # programs, apps, deb_packages, rpm_packages
    "name",
    "version",
    "publisher",
    "install_location",
    "identifying_number",
    "uninstall_string",
    "bundle_identifier",
    "bundle_short_version",
    "bundle_version",
    "path",
    "maintainer",
    "release",
    "source",
    "arch",
    # system_info, os_version
    "hostname",
    "computer_name",
    "uuid",
    "hardware_serial",
    "platform",
)
ROW = {k: "VARCHAR" for k in ROW_KEYS}
DECORATIONS = {
    k: "VARCHAR"
    for k in (
        "host_uuid",
        "hostname",
        "computer_name",
        "hardware_serial",
        "serial",
        "username",
        "user",
        "email",
    )
}
DIFF = {"added": [ROW], "removed": [ROW]}

STRUCTURE = {
    "name": "VARCHAR",
    "hostIdentifier": "VARCHAR",
    "hostname": "VARCHAR",  # early batch records name the host so
    "unixTime": "VARCHAR",
    "action": "VARCHAR",
    "decorations": DECORATIONS,
    "columns": ROW,
    "snapshot": [ROW],
    "diffResults": DIFF,
    "severity": "VARCHAR",  # status-log lines: valid osquery output, no result
    "message": "VARCHAR",
    # Elastic's osquery integration / Filebeat module: the line under osquery.result,
    # three keys renamed
    "osquery": {
        "result": {
            "name": "VARCHAR",
            "host_identifier": "VARCHAR",
            "unix_time": "VARCHAR",
            "action": "VARCHAR",
            "decorations": DECORATIONS,
            "columns": ROW,
            "snapshot": [ROW],
            "diffResults": DIFF,
        }
    },
}

# firmware's "no serial" (compared upper-cased and trimmed)
PLACEHOLDER_SERIALS = (
    "0",
    "00000000",
    "0123456789",
    "NONE",
    "N/A",
    "NA",
    "UNKNOWN",
    "DEFAULT STRING",
    "NOT SPECIFIED",
    "NOT APPLICABLE",
    "NOT AVAILABLE",
    "SYSTEM SERIAL NUMBER",
    "CHASSIS SERIAL NUMBER",
    "TO BE FILLED BY O.E.M.",
    "TO BE FILLED BY OEM",
)

_R = "e.osquery.result"
_HOST = f"coalesce(nullif(trim(e.hostIdentifier), ''), nullif(trim({_R}.host_identifier), ''), nullif(trim(e.hostname), ''))"
_UNIX = f"coalesce(e.unixTime, {_R}.unix_time)"
_ACTION = f"coalesce(e.action, {_R}.action)"
_DEC = f"coalesce(e.decorations, {_R}.decorations)"
_COLS = f"coalesce(e.columns, {_R}.columns)"
_SNAP = f"coalesce(e.snapshot, {_R}.snapshot)"
_DIFF = f"coalesce(e.diffResults, {_R}.diffResults)"
# seconds since the epoch, integer or string ("1515423115", "1515423115.0")
_TIME = f"try(to_timestamp(try_cast(trim({_UNIX}) AS DOUBLE)))"

# the rows a line keeps: a snapshot's, a batch's added ones, a differential added row
_ROWS = f"""(CASE
    WHEN {_SNAP} IS NOT NULL THEN {_SNAP}
    WHEN {_DIFF} IS NOT NULL THEN coalesce({_DIFF}.added, [])
    WHEN {_COLS} IS NOT NULL AND coalesce({_ACTION}, 'added') IN ('added', 'snapshot')
        THEN [{_COLS}]
    ELSE [] END)"""

_HEX = "'(0[xX])?0*([0-9a-fA-F]{1,4})'"


def _v(x: str) -> str:
    """A column value: osquery's empty string for "none" is NULL."""
    return f"nullif(trim({x}), '')"


def _nonhex(x: str) -> str:
    return f"({_v(x)} IS NOT NULL AND NOT regexp_full_match(trim({x}), {_HEX}))"


def _hex4(x: str) -> str:
    return f"lpad(lower(regexp_extract(trim({x}), '^' || {_HEX} || '$', 2)), 4, '0')"


def _is_usb(x: str) -> str:
    return f"""({x}.vendor_id IS NOT NULL AND {x}.model_id IS NOT NULL
        AND {x}.pci_slot IS NULL AND {x}.pci_class IS NULL
        AND coalesce({x}.type, 'usb_device') = 'usb_device'
        AND coalesce({x}.action, 'add') = 'add')"""


def _is_device(x: str) -> str:
    return (
        f"(({x}.hardware_serial IS NOT NULL OR {x}.uuid IS NOT NULL) AND {x}.hostname IS NOT NULL)"
    )


def _is_app(x: str) -> str:
    return f"""({x}.name IS NOT NULL AND ({x}.bundle_identifier IS NOT NULL
        OR ({x}.version IS NOT NULL AND ({x}.publisher IS NOT NULL
            OR {x}.install_location IS NOT NULL OR {x}.identifying_number IS NOT NULL
            OR {x}.uninstall_string IS NOT NULL OR {x}.maintainer IS NOT NULL
            OR {x}.release IS NOT NULL OR ({x}.source IS NOT NULL AND {x}.arch IS NOT NULL)))))"""


def _kind(x: str) -> str:
    return f"""(CASE WHEN {_is_usb(x)} THEN 'usb_device'
        WHEN {_is_device(x)} THEN 'device'
        WHEN {_is_app(x)} THEN 'application' END)"""


def _bad_usb(x: str) -> str:
    return f"({_is_usb(x)} AND ({_nonhex(f'{x}.vendor_id')} OR {_nonhex(f'{x}.model_id')}))"


_FIRST_BAD = f"list_filter({_ROWS}, lambda r: {_bad_usb('r')})[1]"

REJECT = f"""CASE
    WHEN {_UNIX} IS NULL THEN 'missing unixTime'
    WHEN {_TIME} IS NULL THEN 'unixTime is not seconds since the epoch'
    WHEN {_COLS} IS NULL AND {_SNAP} IS NULL AND {_DIFF} IS NULL
         AND (e.severity IS NULL OR e.message IS NULL)
        THEN 'not a query result: no columns, snapshot or diffResults'
    WHEN len(list_filter({_ROWS}, lambda r: {_bad_usb("r")})) > 0 THEN (CASE
        WHEN {_nonhex(f"{_FIRST_BAD}.vendor_id")}
            THEN 'USB vendor_id is not hex: ' || left({_FIRST_BAD}.vendor_id, 40)
        ELSE 'USB model_id is not hex: ' || left({_FIRST_BAD}.model_id, 40) END)
END"""

VENDOR = shippers.Vendor(time_field=None, shapes=(), markers=())


def _serial(x: str) -> str:
    placeholders = ", ".join(f"'{s}'" for s in PLACEHOLDER_SERIALS)
    return f"""(CASE WHEN upper(trim({x})) IN ({placeholders}) THEN NULL
        ELSE upper({_v(x)}) END)"""


_OS = f"""(CASE WHEN {_v("x.platform")} IS NULL THEN NULL
    WHEN lower(trim(x.platform)) = 'darwin' THEN 'macOS'
    WHEN lower(trim(x.platform)) = 'windows' THEN 'Windows'
    WHEN lower(trim(x.platform)) = 'freebsd' THEN 'FreeBSD' ELSE 'Linux' END)"""

_USER = identity_key(f"coalesce({_v('dec.username')}, {_v('dec.user')}, {_v('dec.email')})")

_ITEM_COLUMNS = f"""time, '{NAME}' AS source, device_uid,
    coalesce({_v("dec.hostname")}, {_v("dec.computer_name")}) AS device_name,
    {_serial("coalesce(" + _v("dec.hardware_serial") + ", " + _v("dec.serial") + ")")} AS serial,
    {_USER} AS "user",
    CASE WHEN kind = 'usb_device' THEN 'usb_device' ELSE 'application' END AS item_type,
    CASE WHEN kind = 'usb_device' THEN {_v("x.model")} ELSE {_v("x.name")} END AS name,
    CASE WHEN kind = 'application'
         THEN coalesce({_v("x.version")}, {_v("x.bundle_short_version")}, {_v("x.bundle_version")})
         END AS version,
    CASE WHEN kind = 'usb_device' THEN {_v("x.vendor")}
         ELSE coalesce({_v("x.publisher")}, {_v("x.bundle_identifier")}, {_v("x.maintainer")},
                       {_v("x.vendor")}) END AS publisher,
    CASE WHEN kind = 'usb_device' THEN {_hex4("x.vendor_id")} END AS vendor_id,
    CASE WHEN kind = 'usb_device' THEN {_hex4("x.model_id")} END AS product_id,
    CASE WHEN kind = 'application'
         THEN coalesce(nullif(trim(x.install_location, ' "'), ''), {_v("x.path")}) END AS path,
    NULL::VARCHAR AS raw_id, raw_offset"""

_DEVICE_COLUMNS = f"""time, '{NAME}' AS source, device_uid,
    coalesce({_v("dec.hostname")}, {_v("dec.computer_name")}, {_v("x.computer_name")},
             {_v("x.hostname")}) AS device_name,
    {_serial("coalesce(" + _v("x.hardware_serial") + ", " + _v("dec.hardware_serial") + ", " + _v("dec.serial") + ")")} AS serial,
    {_USER} AS "user",
    {_OS} AS os,
    CASE WHEN {_v("x.platform")} IS NOT NULL THEN {_v("x.version")} END AS os_version,
    NULL::VARCHAR AS last_ip, NULL::TIMESTAMPTZ AS enrolled_time, NULL::VARCHAR AS ownership,
    NULL::VARCHAR AS raw_id, raw_offset"""


def sniff(head: str) -> bool:
    h = head.lstrip()
    if h[:1] not in "[{":
        return False
    u = shippers.unescaped(h)  # inside Splunk's _raw or a HEC string event
    if '"unixTime"' in u and any(k in u for k in ('"columns"', '"snapshot"', '"diffResults"')):
        return '"hostIdentifier"' in u or '"diffResults"' in u
    # the status log in JSON (severity, filename, line, message): osquery's own, and read
    # here as skipped records rather than left to a syslog reader that would misread it
    if '"unixTime"' in u and '"hostIdentifier"' in u and '"severity"' in u and '"filename"' in u:
        return True
    # Elastic's osquery integration / Filebeat module (ECS documents, hits)
    return '"osquery"' in u and '"host_identifier"' in u and '"unix_time"' in u


def parse(reader: Reader, path: Path) -> Parsed:
    head = head_text(path, 4096)
    stage, shipped_skips = shippers.stage_json_file(reader, path, head, VENDOR, STRUCTURE, REJECT)
    con = reader.con
    # One row per kept row of every line that is good, or rejected only for a bad USB
    # id (its other rows are kept); ``n`` numbers a line's modelled rows.
    rows = reader.name("osquery_rows")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {rows} AS
        WITH l AS (
            SELECT raw_offset, _reject IS NULL AS good, {_TIME} AS time, {_HOST} AS device_uid,
                   {_DEC} AS dec,
                   list_filter({_ROWS}, lambda r: {_kind("r")} IS NOT NULL
                                                  AND NOT {_bad_usb("r")}) AS kept
            FROM {stage}
            WHERE _reject IS NULL
               OR ({_TIME} IS NOT NULL
                   AND len(list_filter({_ROWS}, lambda r: {_bad_usb("r")})) > 0)
        ), u AS (
            SELECT raw_offset, good, time, device_uid, dec,
                   unnest(kept) AS x, generate_subscripts(kept, 1) AS n
            FROM l
        )
        SELECT *, {_kind("x")} AS kind FROM u"""
    )
    ((lines, good_lines),) = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _reject IS NULL) FROM {stage}"
    ).fetchall()
    # (table, routed?) -> rows: only the relations that have rows are handed over,
    # each one a Parquet write less for the many files that hold one kind
    counts = dict.fromkeys([(t, r) for t in ("device_items", "devices") for r in (True, False)], 0)
    for table, first, n in con.execute(
        f"""SELECT CASE WHEN kind = 'device' THEN 'devices' ELSE 'device_items' END,
                   good AND n = 1, count(*)
            FROM {rows} GROUP BY ALL"""
    ).fetchall():
        counts[(table, first)] = n
    select = {
        "device_items": f"SELECT {_ITEM_COLUMNS} FROM {rows} WHERE kind <> 'device'",
        "devices": f"SELECT {_DEVICE_COLUMNS} FROM {rows} WHERE kind = 'device'",
    }
    routed, copies = {}, {}
    for (table, first), n in counts.items():
        if n:
            where = "good AND n = 1" if first else "NOT (good AND n = 1)"
            (routed if first else copies)[table] = con.sql(f"{select[table]} AND {where}")
    # a good line with no modelled row is skipped; each routed row is one good line
    routed_lines = counts[("device_items", True)] + counts[("devices", True)]
    return Parsed(
        records=lines + shipped_skips,
        routed=routed,
        copies=copies,
        quarantine=reader.quarantine(stage, NAME, path),
        skipped=shipped_skips + good_lines - routed_lines,
    )
